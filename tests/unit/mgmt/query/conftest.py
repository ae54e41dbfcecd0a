"""The query tests' databases: SQLite always, PostgreSQL when a server answers (a database of
its own per test session, dropped after). Both hold the fixed data set of query_models."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from query_models import Base, dataset
from sqlalchemy import Engine, create_engine
from sqlalchemy.orm import Session

from gpfskit.mgmt.query import install_sqlite_regexp

POSTGRES = "host=127.0.0.1 port=5432 user=postgres dbname=postgres connect_timeout=3"


def _postgres_admin():
    import psycopg

    return psycopg.connect(POSTGRES, autocommit=True)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A new empty PostgreSQL database, dropped at the end of the session."""
    try:
        admin = _postgres_admin()
    except Exception as error:  # any failure to reach the server means: skip
        pytest.skip(f"no PostgreSQL server answers at 127.0.0.1:5432 ({error})")
    name = f"gpfskit_query_{uuid.uuid4().hex[:12]}"
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        with _postgres_admin() as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _loaded(engine: Engine) -> Engine:
    """``engine`` with fresh tables holding the data set (pytest may set a parametrized
    session fixture up again on the same database when it switches parameters)."""
    install_sqlite_regexp(engine)
    Base.metadata.drop_all(engine)
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        session.add_all(dataset())
        session.commit()
    return engine


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
           ) -> Iterator[Engine]:
    """An engine on each database kind, holding the fixed data set (tests only read it)."""
    if request.param == "sqlite":
        path = Path(tmp_path_factory.mktemp("query")) / "query.db"
        url = f"sqlite:///{path}"
    else:
        url = request.getfixturevalue("postgres_url")
    engine = _loaded(create_engine(url))
    yield engine
    engine.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with Session(engine) as session:
        yield session
