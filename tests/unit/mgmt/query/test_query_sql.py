"""Queries run in the database: one statement per page, only the page's rows fetched."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from query_models import Space
from sqlalchemy import Engine, event, insert, select
from sqlalchemy.orm import Session

from gpfskit.mgmt.query import install_sqlite_regexp, parse_collection_query

ROWS = 3000


@pytest.fixture
def big_session(engine: Engine) -> Iterator[tuple[Session, list[str]]]:
    """A session that sees ROWS more spaces (rolled back after) and records each statement."""
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany) -> None:
        statements.append(statement)

    with engine.connect() as connection:
        transaction = connection.begin()
        connection.execute(insert(Space), [
            {"id": f"c{n:07d}-0000-4000-8000-000000000000", "name": f"bulk-{n:05d}",
             "status": "NEW" if n % 3 else "ACTIVE", "size": n, "secret": "x"}
            for n in range(ROWS)])
        event.listen(connection, "before_cursor_execute", record)
        try:
            yield Session(bind=connection), statements
        finally:
            event.remove(connection, "before_cursor_execute", record)
            transaction.rollback()


@pytest.mark.parametrize("where", [
    '{"size": {"$gte": 1000}, "status": "ACTIVE"}',
    'size >= 1000 and status == "ACTIVE"',
    '{"name": {"$regex": "^bulk-0[0-9]*5$"}, "exposers.type": {"$ne": "nfs"}}',
])
def test_a_page_is_one_statement_fetching_only_its_rows(big_session, where: str) -> None:
    session, statements = big_session
    query = parse_collection_query(Space, where=where, sort="-size", max_results=10, page=2)
    result = session.execute(query.apply(select(Space)))
    rows = result.fetchall()
    assert len(rows) == 10
    assert len(statements) == 1
    sql = statements[0]
    assert "WHERE" in sql and "ORDER BY" in sql and "LIMIT" in sql and "OFFSET" in sql
    total = session.scalar(query.count(select(Space)))
    assert len(statements) == 2 and "count(*)" in statements[1]
    assert 10 < total < ROWS


def test_compiled_sql_holds_the_whole_query() -> None:
    query = parse_collection_query(
        Space, where='{"exposers.filesystem": "mmfs1", "comment": {"$ne": "x"}}',
        sort="name", max_results=5)
    sql = str(query.apply(select(Space)))
    assert "EXISTS (SELECT 1" in sql
    assert "spaces.comment IS NULL OR spaces.comment != " in sql
    assert "LIMIT" in sql


def test_regexp_is_installed_once_and_only_on_sqlite(engine: Engine) -> None:
    install_sqlite_regexp(engine)  # a second call changes nothing
    with Session(engine) as session:
        query = parse_collection_query(Space, where='{"name": {"$regex": "^bus"}}')
        assert [s.name for s in session.scalars(query.apply(select(Space)))] == ["busy-bee"]
