"""Property: a compiled query selects exactly what a plain-Python reading of the same rows
selects, on SQLite and PostgreSQL, in the Mongo syntax and (where it can say it) in Python's."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from query_models import EXPOSERS, SNAPSHOTS, SPACES, Snapshot, Space, item_id
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from gpfskit.mgmt.query import parse_collection_query

# -- the rows, as plain Python -------------------------------------------------------------------

EXPOSER_ROWS = [dict(zip(("name", "type", "filesystem", "mountpoint"), row)) for row in EXPOSERS]
SPACE_ROWS = [
    {"id": item_id("a", i), "name": n, "status": st_, "size": sz, "usage": u, "active": a,
     "created": c, "comment": cm, "exposers": [EXPOSER_ROWS[k - 1] for k in ex], "snapshots": []}
    for i, (n, st_, sz, u, a, c, cm, ex) in enumerate(SPACES, 1)]
SNAPSHOT_ROWS = [{"id": item_id("b", i), "name": n, "type": t, "created": c,
                  "space": [SPACE_ROWS[s - 1]] if s else []}
                 for i, (n, t, c, s) in enumerate(SNAPSHOTS, 1)]
for snapshot in SNAPSHOT_ROWS:
    for space in snapshot["space"]:
        space["snapshots"].append(snapshot)


def values(row: dict, path: list[str]) -> list[Any]:
    """The values a dotted path reaches; null where a relationship has no item."""
    value = row[path[0]]
    if len(path) == 1:
        return [value]
    related = value if isinstance(value, list) else [value]
    if not related:
        return [None]
    return [v for item in related for v in values(item, path[1:])]


def _positive(op: str, operand: Any, value: Any) -> bool:
    if op == "$eq":
        return value is None if operand is None else value is not None and value == operand
    if op == "$in":
        return any(_positive("$eq", item, value) for item in operand)
    if op == "$exists":
        return value is not None
    if op == "$regex":
        pattern, options = operand
        return value is not None and re.search(("(?i)" if options else "") + pattern, value)
    if value is None:
        return False
    return {"$gt": value > operand, "$gte": value >= operand,
            "$lt": value < operand, "$lte": value <= operand}[op]


NEGATIONS = {"$ne": "$eq", "$nin": "$in"}


def oracle(row: dict, node: tuple) -> bool:
    kind = node[0]
    if kind in ("$and", "$or", "$nor"):
        results = [oracle(row, child) for child in node[1]]
        return all(results) if kind == "$and" else (any(results) if kind == "$or"
                                                   else not any(results))
    _, field, op, operand = node
    if op == "$not":
        return not oracle(row, ("leaf", field, *operand))
    if op == "$exists" and operand is False:
        return not oracle(row, ("leaf", field, "$exists", True))
    if op in NEGATIONS:
        return not oracle(row, ("leaf", field, NEGATIONS[op], operand))
    return any(_positive(op, operand, value) for value in values(row, field.split(".")))


# -- the same condition as query text --------------------------------------------------------

def _json_value(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [_json_value(item) for item in value]
    return value


def to_mongo(node: tuple) -> dict:
    if node[0] in ("$and", "$or", "$nor"):
        return {node[0]: [to_mongo(child) for child in node[1]]}
    _, field, op, operand = node
    if op == "$regex":
        pattern, options = operand
        return {field: {"$regex": pattern, **({"$options": "i"} if options else {})}}
    if op == "$not":
        return {field: {"$not": to_mongo(("leaf", field, *operand))[field]}}
    return {field: {op: _json_value(operand)}}


PYTHON_OPS = {"$eq": "==", "$ne": "!=", "$gt": ">", "$gte": ">=", "$lt": "<", "$lte": "<=",
              "$in": "in", "$nin": "not in"}


def to_python(node: tuple) -> str | None:
    """The Python-style text of ``node``, or None where that syntax cannot say it."""
    if node[0] in ("$and", "$or", "$nor"):
        parts = [to_python(child) for child in node[1]]
        if None in parts:
            return None
        joined = f" {'and' if node[0] == '$and' else 'or'} ".join(f"({p})" for p in parts)
        return f"not ({joined})" if node[0] == "$nor" else joined
    _, field, op, operand = node
    if op == "$not":
        inner = to_python(("leaf", field, *operand))
        return None if inner is None else f"not ({inner})"
    if op not in PYTHON_OPS:
        return None
    value = _json_value(operand)
    literal = repr(tuple(value)) if isinstance(value, list) else repr(value)
    return f"{field} {PYTHON_OPS[op]} {literal}"


# -- strategies --------------------------------------------------------------------------------

def _pool(rows: list[dict], key: str, extra: list[Any]) -> list[Any]:
    found = {v for row in rows for v in values(row, key.split(".")) if v is not None}
    return sorted(found | set(extra), key=repr)


TEXT_EXTRA = ["a", "m", "sleepy", "zz", "", "mmfs"]
FIELDS = {
    Space: {
        "name": _pool(SPACE_ROWS, "name", TEXT_EXTRA),
        "status": ["NEW", "ACTIVE", "ERRORED"],
        "size": _pool(SPACE_ROWS, "size", [-1, 9, 11, 2**40]),
        "usage": _pool(SPACE_ROWS, "usage", [0.3, 3.0]),
        "active": [True, False],
        "created": _pool(SPACE_ROWS, "created", [dt.datetime(2026, 2, 10)]),
        "comment": _pool(SPACE_ROWS, "comment", TEXT_EXTRA),
        "exposers.type": ["gpfsnative", "nfs", "smb", "cifs"],
        "exposers.filesystem": ["mmfs1", "mmfs2", "mmfs3"],
        "exposers.mountpoint": ["/gpfs/mmfs1", "/gpfs/mmfs2", "/gpfs"],
        "snapshots.name": _pool(SNAPSHOT_ROWS, "name", TEXT_EXTRA),
        "snapshots.created": _pool(SNAPSHOT_ROWS, "created", []),
    },
    Snapshot: {
        "name": _pool(SNAPSHOT_ROWS, "name", TEXT_EXTRA),
        "type": ["gpfssnapshot", "gpfsspacesnapshot"],
        "created": _pool(SNAPSHOT_ROWS, "created", []),
        "space.name": _pool(SPACE_ROWS, "name", TEXT_EXTRA),
        "space.size": _pool(SPACE_ROWS, "size", [7]),
        "space.active": [True, False],
        "space.comment": _pool(SPACE_ROWS, "comment", TEXT_EXTRA),
        "space.exposers.filesystem": ["mmfs1", "mmfs2"],
        "space.exposers.type": ["gpfsnative", "nfs", "smb"],
    },
}
TEXT_FIELDS = {"name", "status", "comment", "exposers.type", "exposers.filesystem",
               "exposers.mountpoint", "snapshots.name", "type", "space.name", "space.comment",
               "space.exposers.filesystem", "space.exposers.type"} - {"status"}
PATTERNS = ["^s", "e$", "a.e", "[xz]", "^[a-z]+-[a-z]+$", "é", "L", "mmfs[12]", "-[0-9]",
            r"\d", r"^\w+-\w+$", r"\s", "(ee|ui)", "(?:al)+", "e{2,}", "^[^a-z]", "y(?=-s)",
            "(?<=-)[sz]", r"(.)\1", r"\.", "[]a]", "[^]a-z-]", r"^\S*$", "i{1,2}l"]


@st.composite
def comparison(draw, model: type, field: str, allow_not: bool = True) -> tuple:
    pool = FIELDS[model][field]
    ops = ["$eq", "$ne", "$gt", "$gte", "$lt", "$lte", "$in", "$nin", "$exists"]
    if field in TEXT_FIELDS:
        ops.append("$regex")
    if allow_not:
        ops.append("$not")
    op = draw(st.sampled_from(ops))
    if op == "$not":
        inner = draw(comparison(model, field, allow_not=False))
        return ("leaf", field, "$not", inner[2:])
    if op in ("$eq", "$ne"):
        operand = draw(st.none() | st.sampled_from(pool))
    elif op in ("$in", "$nin"):
        operand = draw(st.lists(st.none() | st.sampled_from(pool), max_size=3))
    elif op == "$exists":
        operand = draw(st.booleans())
    elif op == "$regex":
        operand = (draw(st.sampled_from(PATTERNS)), draw(st.booleans()))
    else:
        operand = draw(st.sampled_from(pool))
    return ("leaf", field, op, operand)


def conditions(model: type) -> st.SearchStrategy[tuple]:
    leaf = st.sampled_from(sorted(FIELDS[model])).flatmap(lambda f: comparison(model, f))
    return st.recursive(leaf, lambda children: st.tuples(
        st.sampled_from(["$and", "$or", "$nor"]), st.lists(children, min_size=1, max_size=3)),
        max_leaves=6)


def selected(engine: Engine, model: type, where: str) -> list[str]:
    query = parse_collection_query(model, where=where, sort="name", max_results=1000)
    with Session(engine) as session:
        return [item.name for item in session.scalars(query.apply(select(model)))]


ROWS = {Space: SPACE_ROWS, Snapshot: SNAPSHOT_ROWS}


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_queries_select_what_the_oracle_selects(engine: Engine, data: st.DataObject) -> None:
    model = data.draw(st.sampled_from([Space, Snapshot]))
    node = data.draw(conditions(model))
    expected = sorted(row["name"] for row in ROWS[model] if oracle(row, node))
    assert selected(engine, model, json.dumps(to_mongo(node))) == expected
    python = to_python(node)
    if python is not None:
        assert selected(engine, model, python) == expected


SORTABLE = {Space: ["name", "status", "size", "usage", "active", "created", "comment"],
            Snapshot: ["name", "type", "created", "space.name", "space.size", "space.active"]}


def _sort_key(row: dict, keys: list[tuple[str, bool]]) -> tuple:
    """Nulls first going up and last going down; the id breaks ties."""
    parts = []
    for field, descending in keys:
        value = values(row, field.split("."))[0]
        missing = value is None
        parts.append(_Reversed((not missing, value)) if descending else (not missing, value))
    return (*parts, row["id"])


class _Reversed:
    def __init__(self, key: tuple) -> None:
        self.key = key

    def __lt__(self, other: _Reversed) -> bool:
        return other.key < self.key if self.key[0] and other.key[0] else (
            self.key[0] > other.key[0])

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Reversed) and self.key == other.key


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_pages_are_the_oracle_order_sliced(engine: Engine, data: st.DataObject) -> None:
    model = data.draw(st.sampled_from([Space, Snapshot]))
    fields = data.draw(st.lists(st.sampled_from(SORTABLE[model]), min_size=1, max_size=3,
                                unique=True))
    keys = [(field, data.draw(st.booleans())) for field in fields]
    size, page = data.draw(st.integers(1, 5)), data.draw(st.integers(1, 4))
    node = data.draw(st.none() | conditions(model))
    rows = [row for row in ROWS[model] if node is None or oracle(row, node)]
    ordered = sorted(rows, key=lambda row: _sort_key(row, keys))
    expected = [row["id"] for row in ordered][(page - 1) * size:page * size]
    query = parse_collection_query(
        model, where=None if node is None else json.dumps(to_mongo(node)),
        sort=",".join(("-" if descending else "") + field for field, descending in keys),
        max_results=size, page=page)
    with Session(engine) as session:
        assert [item.id for item in session.scalars(query.apply(select(model)))] == expected
        assert session.scalar(query.count(select(model))) == len(rows)
