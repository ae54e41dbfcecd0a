"""Fuzzing: whatever the text, parsing raises nothing but QueryError, and what parses runs."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from query_models import Snapshot, Space
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from gpfskit.mgmt.query import QueryError, parse_collection_query

FIELDS = ["name", "size", "usage", "active", "created", "comment", "status", "secret",
          "exposers", "exposers.type", "exposers.spaces.size", "snapshots.created",
          "space.name", "space", "nope", "name.x", ""]
OPERATORS = ["$eq", "$ne", "$gt", "$gte", "$lt", "$lte", "$in", "$nin", "$regex", "$options",
             "$not", "$exists", "$and", "$or", "$nor", "$where", "$elemMatch"]

json_scalars = (st.none() | st.booleans() | st.integers(-(2**70), 2**70)
                | st.floats(allow_nan=False, allow_infinity=False)
                | st.text(max_size=8) | st.sampled_from(["2026-03-01", "10", "true", "a.*", "("]))
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=3)
    | st.dictionaries(st.sampled_from(FIELDS + OPERATORS), children, max_size=3),
    max_leaves=12)
documents = st.dictionaries(st.sampled_from(FIELDS + OPERATORS), json_values, max_size=3)

TOKENS = ["name", "size", "created", "exposers.type", "space.name", "secret", "==", "!=", "<",
          ">=", "in", "not", "is", "None", "True", "and", "or", "(", ")", "[", "]", ",", "'x'",
          '"2026-01-01"', "1", "-", "2.5", "lambda", ":", ".", "__class__", "f'{x}'", "x()",
          "**", "if", "else", "{", "}", "\\", "#"]
expressions = st.lists(st.sampled_from(TOKENS), max_size=12).map(" ".join)


def check(engine: Engine | None, model: type, **params) -> None:
    """Parsing gives a query or a QueryError; a query runs without a database error."""
    try:
        query = parse_collection_query(model, **params)
    except QueryError as error:
        assert str(error)
        return
    if engine is not None:
        with Session(engine) as session:
            session.scalars(query.apply(select(model))).all()
            session.scalar(query.count(select(model)))


@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=60), model=st.sampled_from([Space, Snapshot]))
def test_any_text_in_any_parameter(text: str, model: type) -> None:
    for name in ("where", "sort", "projection", "max_results", "page"):
        check(None, model, **{name: text})
    check(None, model, where="{" + text)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(document=documents, model=st.sampled_from([Space, Snapshot]))
def test_json_documents_parse_or_fail_cleanly_and_run(engine: Engine, document: dict,
                                                      model: type) -> None:
    check(engine, model, where=json.dumps(document))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(expression=expressions, sort=st.lists(st.sampled_from(
    ["name", "-size", "space.name", "-space.size", "created", "+usage"]), max_size=3))
def test_python_expressions_parse_or_fail_cleanly_and_run(engine: Engine, expression: str,
                                                          sort: list[str]) -> None:
    for model in (Space, Snapshot):
        check(engine, model, where=expression, sort=",".join(sort))
