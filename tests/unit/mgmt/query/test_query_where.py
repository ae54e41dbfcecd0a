"""``where`` selects the same items on SQLite and PostgreSQL, in both syntaxes."""

from __future__ import annotations

import pytest
from query_models import Snapshot, Space
from sqlalchemy import select
from sqlalchemy.orm import Session

from gpfskit.mgmt.query import parse_collection_query

ALL_SPACES = {"sleepy-snake", "busy-bee", "lazy-lion", "quick-quail", "Sleepy-Sloth",
              "odd-otter", "zany-zebra", "épée"}


def selected(session: Session, model: type, where: str) -> set[str]:
    query = parse_collection_query(model, where=where, max_results=1000)
    names = [item.name for item in session.scalars(query.apply(select(model)))]
    assert session.scalar(query.count(select(model))) == len(names)
    return set(names)


# (Mongo JSON, the same as a Python-style expression or None, expected space names)
SPACE_CASES = [
    ('{"name": "busy-bee"}', 'name == "busy-bee"', {"busy-bee"}),
    ('{"name": {"$eq": "busy-bee"}}', '"busy-bee" == name', {"busy-bee"}),
    ('{"status": "NEW", "size": 10}', 'status == "NEW" and size == 10',
     {"quick-quail", "zany-zebra"}),
    ('{"size": {"$gte": 1073741824}}', "size >= 1073741824",
     {"sleepy-snake", "busy-bee", "Sleepy-Sloth"}),
    ('{"size": {"$gt": 0, "$lt": 11}}', "0 < size < 11", {"quick-quail", "zany-zebra", "épée"}),
    ('{"size": {"$lte": "10"}}', 'size <= "10"',  # text coerced to the column's integer
     {"quick-quail", "zany-zebra", "épée", "odd-otter"}),
    ('{"usage": {"$lt": 0.3}}', "usage < 0.3", {"sleepy-snake", "odd-otter", "zany-zebra"}),
    ('{"usage": 1}', "usage == 1", {"quick-quail"}),
    ('{"active": true}', "active == True",
     {"sleepy-snake", "busy-bee", "Sleepy-Sloth", "zany-zebra"}),
    ('{"active": "false"}', "active == False", {"lazy-lion", "quick-quail", "épée"}),
    ('{"active": null}', "active is None", {"odd-otter"}),
    ('{"comment": {"$ne": "first"}}', 'comment != "first"',
     ALL_SPACES - {"sleepy-snake", "Sleepy-Sloth"}),  # a null comment is not "first"
    ('{"comment": {"$ne": null}}', "comment is not None",
     ALL_SPACES - {"busy-bee", "zany-zebra"}),
    ('{"comment": {"$exists": false}}', "comment == None", {"busy-bee", "zany-zebra"}),
    ('{"comment": {"$exists": true}}', "not comment is None",
     ALL_SPACES - {"busy-bee", "zany-zebra"}),
    ('{"comment": ""}', 'comment == ""', {"quick-quail"}),
    ('{"status": {"$in": ["NEW", "ERRORED"]}}', 'status in ("NEW", "ERRORED")',
     {"lazy-lion", "quick-quail", "zany-zebra"}),
    ('{"status": {"$nin": ["ACTIVE"]}}', 'status not in ["ACTIVE"]',
     {"lazy-lion", "quick-quail", "zany-zebra"}),
    ('{"size": {"$in": [10, null]}}', "size in (10, None)",
     {"quick-quail", "zany-zebra", "lazy-lion"}),
    ('{"size": {"$nin": [10, null]}}', "size not in (10, None)",
     ALL_SPACES - {"quick-quail", "zany-zebra", "lazy-lion"}),
    ('{"size": {"$nin": [10]}}', "size not in [10]", ALL_SPACES - {"quick-quail", "zany-zebra"}),
    ('{"size": {"$in": []}}', "size in ()", set()),
    ('{"size": {"$nin": []}}', "size not in []", ALL_SPACES),
    ('{"created": {"$gte": "2026-03-01T00:00:00Z", "$lt": "2026-04-01"}}',
     '"2026-03-01T00:00:00+00:00" <= created < "2026-04-01"', {"Sleepy-Sloth", "zany-zebra"}),
    ('{"created": {"$gt": "2026-03-20T23:00:00-01:00"}}',  # 2026-03-21 00:00 UTC
     'created > "2026-03-20T23:00:00-01:00"', {"épée"}),
    ('{"$or": [{"name": "busy-bee"}, {"size": 0}]}', 'name == "busy-bee" or size == 0',
     {"busy-bee", "odd-otter"}),
    ('{"$and": [{"status": "ACTIVE"}, {"$or": [{"size": {"$lt": 10}}, {"comment": "first"}]}]}',
     'status == "ACTIVE" and (size < 10 or comment == "first")',
     {"sleepy-snake", "Sleepy-Sloth", "odd-otter", "épée"}),
    ('{"$nor": [{"active": true}]}', "not active == True",
     {"lazy-lion", "quick-quail", "odd-otter", "épée"}),  # a null flag is not true
    ('{"size": {"$not": {"$gt": 10}}}', "not size > 10",
     {"quick-quail", "odd-otter", "zany-zebra", "épée", "lazy-lion"}),
    ('{"$nor": [{"comment": "first"}, {"size": 10}]}', 'not (comment == "first" or size == 10)',
     {"busy-bee", "lazy-lion", "odd-otter", "épée"}),
    ('{"name": {"$regex": "^sleepy"}}', None, {"sleepy-snake"}),
    ('{"name": {"$regex": "^sleepy", "$options": "i"}}', None, {"sleepy-snake", "Sleepy-Sloth"}),
    ('{"name": {"$regex": "[aeiou]{2}"}}', None,
     {"sleepy-snake", "busy-bee", "lazy-lion", "quick-quail", "Sleepy-Sloth"}),
    ('{"name": {"$not": {"$regex": "-"}}}', None, {"épée"}),
    ('{"comment": {"$regex": "ï"}}', None, {"épée"}),
    ('{"name": "épée"}', 'name == "épée"', {"épée"}),
    ("{}", None, ALL_SPACES),
    ('{"$and": [{}]}', None, ALL_SPACES),
    # through the to-many relationship: some exposer matches; negations: none does
    ('{"exposers.filesystem": "mmfs2"}', 'exposers.filesystem == "mmfs2"',
     {"lazy-lion", "odd-otter", "zany-zebra"}),
    ('{"exposers.type": {"$ne": "nfs"}}', 'exposers.type != "nfs"',
     ALL_SPACES - {"sleepy-snake", "Sleepy-Sloth", "épée"}),
    ('{"exposers.type": "nfs", "exposers.filesystem": null}',
     'exposers.type == "nfs" and exposers.filesystem == None', {"Sleepy-Sloth", "épée"}),
    # null: some exposer has no mount point, or the space has no exposer at all
    ('{"exposers.mountpoint": null}', "exposers.mountpoint is None",
     {"sleepy-snake", "lazy-lion", "quick-quail", "Sleepy-Sloth", "zany-zebra", "épée"}),
    ('{"exposers.mountpoint": {"$exists": false}}', None,
     {"quick-quail", "Sleepy-Sloth", "épée"}),  # no exposer has one
    ('{"exposers.mountpoint": {"$in": ["/gpfs/mmfs2", null]}}',
     'exposers.mountpoint in ("/gpfs/mmfs2", None)',
     {"sleepy-snake", "lazy-lion", "quick-quail", "Sleepy-Sloth", "odd-otter", "zany-zebra",
      "épée"}),
    ('{"exposers.name": {"$nin": ["mmfs1", "mmfs2"]}}', 'exposers.name not in ("mmfs1", "mmfs2")',
     {"quick-quail", "Sleepy-Sloth", "épée"}),
    ('{"snapshots.name": "daily-1"}', 'snapshots.name == "daily-1"',
     {"sleepy-snake", "Sleepy-Sloth"}),
    ('{"snapshots.created": {"$gte": "2026-04-01"}}', 'snapshots.created >= "2026-04-01"',
     {"zany-zebra", "busy-bee"}),
    ('{"exposers.spaces.name": "busy-bee"}', 'exposers.spaces.name == "busy-bee"',
     {"sleepy-snake", "busy-bee", "zany-zebra"}),  # spaces sharing an exposer with busy-bee
]

SNAPSHOT_CASES = [
    ('{"space.name": "sleepy-snake"}', 'space.name == "sleepy-snake"', {"daily-1", "daily-2"}),
    ('{"space.name": {"$ne": "sleepy-snake"}}', 'space.name != "sleepy-snake"',
     {"weekly-1", "global-1", "daily-1", "monthly", "global-2", "adhoc"}),
    ('{"space.size": {"$gt": 100}}', "space.size > 100", {"daily-1", "daily-2", "adhoc"}),
    ('{"space.id": {"$exists": false}}', "space.id is None", {"global-1", "global-2"}),
    ('{"space_id": null}', "space_id == None", {"global-1", "global-2"}),
    ('{"space.exposers.type": "smb"}', 'space.exposers.type == "smb"', {"weekly-1", "monthly"}),
    ('{"space.exposers.filesystem": {"$in": ["mmfs1"]}, "name": {"$regex": "^daily"}}',
     'space.exposers.filesystem in ["mmfs1"] and "daily" <= name < "dailz"',
     {"daily-1", "daily-2"}),
    ('{"space.comment": null}', "space.comment == None",  # no comment, or no space
     {"global-1", "global-2", "adhoc", "monthly"}),
]


@pytest.mark.parametrize(("mongo", "python", "expected"), SPACE_CASES)
def test_spaces(session: Session, mongo: str, python: str | None, expected: set[str]) -> None:
    assert selected(session, Space, mongo) == expected
    if python is not None:
        assert selected(session, Space, python) == expected


@pytest.mark.parametrize(("mongo", "python", "expected"), SNAPSHOT_CASES)
def test_snapshots(session: Session, mongo: str, python: str | None,
                   expected: set[str]) -> None:
    assert selected(session, Snapshot, mongo) == expected
    if python is not None:
        assert selected(session, Snapshot, python) == expected


def test_walkthrough_queries(session: Session) -> None:
    """The seed's queries, as a client writes them."""
    snake = session.scalars(select(Space).where(Space.name == "sleepy-snake")).one()
    assert selected(session, Space, f'id=="{snake.id}"') == {"sleepy-snake"}
    assert selected(session, Space, f'id == "{snake.id}" or id == "nope"') == {"sleepy-snake"}
    assert selected(session, Space, ' {"name": "sleepy-snake"} ') == {"sleepy-snake"}


def test_multiline_python_expression(session: Session) -> None:
    assert selected(session, Space, '\n  (status == "NEW"\n   and size == 10)\n') == {
        "quick-quail", "zany-zebra"}


SAME_SHAPE = [
    ('{"name": "busy-bee"}', '{"name": "lazy-lion"}'),
    ('{"size": {"$gt": 0, "$lt": 11}}', '{"size": {"$gt": 5, "$lt": 2000000000}}'),
    ('{"name": {"$in": ["busy-bee", "épée"]}}', '{"name": {"$in": ["odd-otter", "lazy-lion"]}}'),
    ('{"comment": {"$ne": "first"}}', '{"comment": {"$ne": "second"}}'),
    ('{"name": {"$regex": "^s"}}', '{"name": {"$regex": "e$"}}'),
    ('name == "busy-bee" or size > 10', 'name == "odd-otter" or size > 0'),
]


@pytest.mark.parametrize(("first", "second"), SAME_SHAPE)
def test_a_statement_built_for_one_query_runs_another_of_its_shape(
        session: Session, first: str, second: str) -> None:
    """The service keeps statements by query shape: the values alone must make the result."""
    one, other = (parse_collection_query(Space, where=w, sort="-name", max_results=3, page=p)
                  for w, p in ((first, 1), (second, 2)))
    assert one.shape == other.shape and one.values != other.values
    built, counted = one.apply(select(Space)), one.count(select(Space))
    expected = [s.name for s in session.scalars(other.apply(select(Space)))]
    assert [s.name for s in session.scalars(built, other.values)] == expected
    assert session.scalar(counted, other.values) == session.scalar(other.count(select(Space)))


def test_nulls_and_list_lengths_are_part_of_the_shape() -> None:
    shapes = {parse_collection_query(Space, where=w).shape for w in (
        '{"active": null}', '{"active": true}', '{"name": {"$in": ["a"]}}',
        '{"name": {"$in": ["a", "b"]}}', '{"name": {"$in": ["a", null]}}')}
    assert len(shapes) == 5
