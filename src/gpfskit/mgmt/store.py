"""The store: one SQLAlchemy engine per database URL, sessions, migrations applied on start.

SQLite (the embedded default) runs in WAL mode with a busy timeout, so that the server, its
worker threads and ``adminctl`` can use one file at once; PostgreSQL is selected with the
directive ``arcapix.management.database.url``. The same code serves both.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, event, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from gpfskit.mgmt import models
from gpfskit.mgmt.settings import database_url

SQLITE_BUSY_TIMEOUT_MS = 30_000
MIGRATIONS = Path(__file__).with_name("migrations")

_lock = threading.Lock()
_engines: dict[str, Engine] = {}
_makers: dict[str, sessionmaker[Session]] = {}


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _create(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[1] if "///" in url else ""
        if path and path != ":memory:":
            os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False,
                                                  "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
                               pool_size=20, max_overflow=20)
        event.listen(engine, "connect", _sqlite_pragmas)
        from gpfskit.mgmt.query import install_sqlite_regexp

        install_sqlite_regexp(engine)
    else:
        engine = create_engine(url, pool_size=20, max_overflow=20, pool_pre_ping=True)
    return engine


def engine(url: str | None = None) -> Engine:
    """The engine of ``url`` (default: the configured store), created once per process."""
    url = url or database_url()
    with _lock:
        if url not in _engines:
            _engines[url] = _create(url)
            _makers[url] = sessionmaker(_engines[url], expire_on_commit=False)
        return _engines[url]


@contextmanager
def session(url: str | None = None) -> Iterator[Session]:
    """A session committed at the end of the block (rolled back if it raises)."""
    url = url or database_url()
    engine(url)
    with _makers[url]() as s:
        try:
            yield s
            s.commit()
        except BaseException:
            s.rollback()
            raise


@contextmanager
def reading(url: str | None = None) -> Iterator[Connection]:
    """A connection for SQL reads (Core statements, no ORM objects): no session to set up
    and nothing to commit (its transaction ends when it goes back to the pool), which makes
    a collection read an eighth cheaper than through a session."""
    with engine(url or database_url()).connect() as connection:
        yield connection


def newest_revision() -> str:
    """The newest migration's id. Each migration file is named after its id, four digits
    (``0003_...py``), and revises the one before, so the largest prefix is the head."""
    return max(p.name[:4] for p in (MIGRATIONS / "versions").glob("[0-9][0-9][0-9][0-9]_*.py"))


def _stored_revision(eng: Engine) -> str | None:
    try:
        with eng.connect() as connection:
            return connection.exec_driver_sql("SELECT version_num FROM alembic_version"
                                              ).scalar()
    except DBAPIError:  # a new store: no version table yet
        return None


def migrate(url: str | None = None, revision: str = "head") -> None:
    """Bring the schema to the newest migration (what every start does), or to
    ``revision``. A store already at the newest one is left alone without loading Alembic
    (which would cost an ``adminctl`` command most of its start-up)."""
    eng = engine(url)
    if revision == "head" and _stored_revision(eng) == newest_revision():
        return
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    sqlite = eng.dialect.name == "sqlite"
    with eng.connect() as connection:
        # SQLite alters a table by copying it and dropping the old one; with foreign keys on,
        # the drop would cascade into the rows that refer to it (a space's exposers, say).
        # The pragma only takes effect outside a transaction.
        if sqlite:
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()
        try:
            with connection.begin():
                cfg.attributes["connection"] = connection
                command.upgrade(cfg, revision)
                if sqlite:
                    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
                    if broken:
                        raise RuntimeError(f"the migration left dangling references: {broken}")
        finally:
            if sqlite:
                connection.rollback()
                connection.exec_driver_sql("PRAGMA foreign_keys=ON")
                connection.commit()


def dispose() -> None:
    """Close every engine (tests and forked processes)."""
    with _lock:
        for eng in _engines.values():
            eng.dispose()
        _engines.clear()
        _makers.clear()


def meta_get(s: Session, key: str) -> str | None:
    row = s.get(models.Meta, key)
    return row.value if row else None


def meta_set(s: Session, key: str, value: str) -> None:
    row = s.get(models.Meta, key)
    if row is None:
        s.add(models.Meta(key=key, value=value))
    else:
        row.value = value


def first(s: Session, model, **where):
    """The first row of ``model`` matching the column values ``where`` (or None)."""
    stmt = select(model).filter_by(**where).limit(1)
    return s.scalars(stmt).first()
