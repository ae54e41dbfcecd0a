"""sort, projection, max_results and page, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from query_models import Snapshot, Space
from sqlalchemy import select
from sqlalchemy.orm import Session

from gpfskit.mgmt.query import parse_collection_query


def names(session: Session, model: type, **params) -> list[str]:
    query = parse_collection_query(model, **params)
    return [item.name for item in session.scalars(query.apply(select(model)))]


def test_sort_ascending_and_descending(session: Session) -> None:
    by_name = names(session, Space, sort="name")
    assert by_name == sorted(by_name)  # code point order on both databases
    assert by_name[0] == "Sleepy-Sloth" and by_name[-1] == "épée"
    assert names(session, Space, sort="-name") == by_name[::-1]
    assert names(session, Space, sort="+name") == by_name


def test_sort_several_keys_and_nulls(session: Session) -> None:
    # nulls first going up, last going down, on every database
    assert names(session, Space, sort="size,name", max_results=4) == [
        "lazy-lion", "odd-otter", "épée", "quick-quail"]
    assert names(session, Space, sort="-size,name")[-1] == "lazy-lion"
    # within ACTIVE, newest first and the null date last
    assert names(session, Space, sort="status,-created", max_results=5) == [
        "épée", "Sleepy-Sloth", "busy-bee", "sleepy-snake", "odd-otter"]
    assert names(session, Space, sort="created", max_results=1) == ["odd-otter"]


def test_sort_eve_form(session: Session) -> None:
    assert names(session, Space, sort='[("size", -1), ("name", 1)]', max_results=2) == [
        "sleepy-snake", "Sleepy-Sloth"]
    assert names(session, Space, sort='[["name", 1]]') == names(session, Space, sort="name")


def test_sort_by_a_to_one_path_keeps_items_without_it(session: Session) -> None:
    ordered = names(session, Snapshot, sort="space.name,-created")
    assert ordered == ["global-2", "global-1",  # no space: a null name, first
                       "daily-1", "adhoc", "weekly-1", "daily-2", "daily-1", "monthly"]
    query = parse_collection_query(Snapshot, sort="space.name,space.size")
    assert str(query.apply(select(Snapshot))).count("LEFT OUTER JOIN") == 1


def test_paging(session: Session) -> None:
    every = names(session, Space, sort="name", max_results=100)
    pages = [names(session, Space, sort="name", max_results="3", page=str(n)) for n in (1, 2, 3)]
    assert [len(page) for page in pages] == [3, 3, 2]
    assert [name for page in pages for name in page] == every
    assert names(session, Space, sort="name", max_results=3, page=4) == []


def test_pages_never_overlap_without_a_sort(session: Session) -> None:
    """The primary key ends every ordering."""
    pages = [names(session, Space, max_results=2, page=n) for n in (1, 2, 3, 4)]
    assert sorted([name for page in pages for name in page]) == sorted(names(session, Space))
    query = parse_collection_query(Space)
    assert "ORDER BY spaces.id" in str(query.apply(select(Space)))


def test_paging_defaults_and_cap() -> None:
    query = parse_collection_query(Space)
    assert (query.page, query.max_results) == (1, 25)
    query = parse_collection_query(Space, max_results="5000", page="3", max_page_size=1000)
    assert (query.page, query.max_results, query.offset) == (3, 1000, 2000)
    query = parse_collection_query(Space, max_results=" 7 ", page="", default_page_size=10)
    assert (query.page, query.max_results) == (1, 7)
    with pytest.raises(ValueError):
        parse_collection_query(Space, default_page_size=50, max_page_size=10)


def test_count_ignores_paging(session: Session) -> None:
    query = parse_collection_query(Space, where='{"status": "ACTIVE"}', max_results=2, page=2)
    assert session.scalar(query.count(select(Space))) == 5
    assert len(session.scalars(query.apply(select(Space))).all()) == 2


ALL = ["id", "name", "status", "size", "comment", "exposers"]


@pytest.mark.parametrize(("projection", "fields"), [
    (None, ALL),
    ("", ALL),
    ("{}", ALL),
    ('{"status": 1}', ["id", "status"]),
    ('{"status": true, "id": 0}', ["status"]),
    ('{"exposers": 1, "name": 1}', ["id", "name", "exposers"]),
    ('{"comment": 0, "exposers": false}', ["id", "name", "status", "size"]),
    ('{"id": 0}', ["name", "status", "size", "comment", "exposers"]),
])
def test_projection(projection: str | None, fields: list[str]) -> None:
    assert parse_collection_query(Space, projection=projection).fields(ALL) == fields


def test_projection_of_a_field_not_rendered() -> None:
    assert parse_collection_query(Space, projection='{"usage": 1}').fields(ALL) == ["id"]
