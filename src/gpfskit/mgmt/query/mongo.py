"""``where`` as a Mongo-style JSON document, parsed into a condition tree.

``{"name": "x", "size": {"$gte": 10}}`` (several keys: all must hold), ``{"$or": [...]}``,
dotted paths through relationships (``{"space.name": "x"}``). Errors name the offending key by
its path in the document, e.g. ``at $or[1].size.$gte``.
"""

from __future__ import annotations

import json
from typing import Any

from gpfskit.mgmt.query import regex
from gpfskit.mgmt.query.conditions import (
    MAX_DEPTH,
    MAX_IN_VALUES,
    AllOf,
    AnyOf,
    Compare,
    Condition,
    Not,
    all_of,
)
from gpfskit.mgmt.query.errors import QueryError
from gpfskit.mgmt.query.fields import FieldPath, resolve
from gpfskit.mgmt.query.values import coerce, kind, text

_ORDERINGS = {"$gt": "gt", "$gte": "gte", "$lt": "lt", "$lte": "lte"}
FIELD_OPERATORS = ("$eq", "$ne", "$gt", "$gte", "$lt", "$lte", "$in", "$nin", "$regex",
                   "$options", "$not", "$exists")
LOGICAL_OPERATORS = ("$and", "$or", "$nor")


def _at(location: str) -> str:
    return f" (at {location})" if location else ""


def _fail(reason: str, location: str) -> QueryError:
    return QueryError("where: " + reason + _at(location))


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise QueryError(f"the key {key!r} appears twice in one object")
        result[key] = value
    return result


def _no_constant(name: str) -> Any:
    raise QueryError(f"{name} is not a JSON value")


def _json_type(value: Any) -> str:
    names = {dict: "an object", list: "an array", str: "a string", bool: "a boolean",
             type(None): "null"}
    return names.get(type(value), "a number")


def parse_json(text: str, parameter: str = "where") -> Any:
    """The JSON value of ``text``, or a QueryError with the position of the mistake."""
    try:
        return json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constant)
    except json.JSONDecodeError as error:
        raise QueryError(f"{parameter}: not valid JSON: {error.msg} at line {error.lineno} "
                         f"column {error.colno}") from None
    except ValueError as error:  # e.g. an integer of more than 4300 digits
        raise QueryError(f"{parameter}: not valid JSON: {error}") from None
    except RecursionError:
        raise QueryError(f"{parameter}: the JSON nests too deeply") from None
    except QueryError as error:
        raise QueryError(f"{parameter}: {error}") from None


def parse_mongo(model: type, text: str) -> Condition:
    """The condition tree of the JSON document ``text`` over ``model``."""
    document = parse_json(text)
    if not isinstance(document, dict):
        raise QueryError(f"where: a JSON query is an object, not {_json_type(document)}")
    return _document(model, document, "", 0)


def _document(model: type, document: dict[str, Any], location: str, depth: int) -> Condition:
    if depth > MAX_DEPTH:
        raise _fail(f"conditions nest more than {MAX_DEPTH} levels deep", location)
    parts: list[Condition] = []
    for key, value in document.items():
        here = f"{location}.{key}" if location else key
        if key.startswith("$"):
            parts.append(_logical(model, key, value, here, depth))
            continue
        try:
            field = resolve(model, key)
        except QueryError as error:
            raise _fail(str(error), location) from None
        parts.extend(_field_conditions(field, value, here, depth))
    return all_of(parts) if parts else AllOf(())


def _logical(model: type, key: str, value: Any, here: str, depth: int) -> Condition:
    if key not in LOGICAL_OPERATORS:
        known = ", ".join(LOGICAL_OPERATORS)
        hint = " (it applies to a field: {\"field\": {\"" + key + "\": ...}})" \
            if key in FIELD_OPERATORS else ""
        raise _fail(f"unknown operator {key!r} here; outside a field only {known}{hint}", here)
    if not isinstance(value, list) or not value:
        raise _fail(f"{key} takes a non-empty array of conditions, not {_json_type(value)}"
                    if not isinstance(value, list) else f"{key} takes a non-empty array", here)
    children = []
    for index, item in enumerate(value):
        if not isinstance(item, dict):
            raise _fail(f"each condition of {key} is an object, not {_json_type(item)}",
                        f"{here}[{index}]")
        children.append(_document(model, item, f"{here}[{index}]", depth + 1))
    if key == "$and":
        return AllOf(tuple(children))
    if key == "$or":
        return AnyOf(tuple(children))
    return Not(AnyOf(tuple(children)))


def _value(field: FieldPath, value: Any, here: str) -> Any:
    if isinstance(value, dict | list):
        raise _fail(f"{_json_type(value)} is not a value of field {field.name!r}", here)
    try:
        return coerce(field, value)
    except QueryError as error:
        raise _fail(str(error), here) from None


def _field_conditions(field: FieldPath, value: Any, here: str, depth: int) -> list[Condition]:
    if isinstance(value, list):
        raise _fail(f"an array is not a value of field {field.name!r}; "
                    "to match any of several values use {\"$in\": [...]}", here)
    if not isinstance(value, dict):
        return [Compare(field, "eq", _value(field, value, here))]
    if not value:
        raise _fail(f"an empty object is not a condition on {field.name!r}; "
                    "give an operator such as {\"$eq\": ...}", here)
    return _operators(field, value, here, depth)


def _operators(field: FieldPath, operators: dict[str, Any], here: str,
               depth: int) -> list[Condition]:
    if depth > MAX_DEPTH:
        raise _fail(f"conditions nest more than {MAX_DEPTH} levels deep", here)
    parts: list[Condition] = []
    for op, operand in operators.items():
        at = f"{here}.{op}"
        if op not in FIELD_OPERATORS:
            if not op.startswith("$"):
                raise _fail(f"{op!r} is not an operator; a condition on {field.name!r} is "
                            "a value or an object of operators (to reach a related field, "
                            f"write a dotted path such as '{field.name}.{op}')", here)
            raise _fail(f"unknown operator {op!r}; known: {', '.join(FIELD_OPERATORS)}", at)
        if op == "$eq":
            parts.append(Compare(field, "eq", _value(field, operand, at)))
        elif op == "$ne":
            parts.append(Not(Compare(field, "eq", _value(field, operand, at))))
        elif op in _ORDERINGS:
            bound = _value(field, operand, at)
            if bound is None:
                raise _fail(f"{op} needs a value, not null", at)
            parts.append(Compare(field, _ORDERINGS[op], bound))
        elif op in ("$in", "$nin"):
            if not isinstance(operand, list):
                raise _fail(f"{op} takes an array of values, not {_json_type(operand)}", at)
            if len(operand) > MAX_IN_VALUES:
                raise _fail(f"{op} takes at most {MAX_IN_VALUES} values", at)
            values = tuple(_value(field, item, f"{at}[{i}]") for i, item in enumerate(operand))
            member = Compare(field, "in", values)
            parts.append(member if op == "$in" else Not(member))
        elif op == "$regex":
            parts.append(_regex(field, operand, operators.get("$options", ""), at))
        elif op == "$options":
            if "$regex" not in operators:
                raise _fail("$options goes with $regex", at)
        elif op == "$not":
            if not isinstance(operand, dict) or not operand:
                raise _fail("$not takes a non-empty object of operators, "
                            "e.g. {\"$not\": {\"$gt\": 5}}", at)
            parts.append(Not(all_of(_operators(field, operand, at, depth + 1))))
        else:  # $exists
            if not isinstance(operand, bool):
                raise _fail(f"$exists takes true or false, not {_json_type(operand)}", at)
            present = Compare(field, "exists")
            parts.append(present if operand else Not(present))
    return parts


def _regex(field: FieldPath, pattern: Any, options: Any, at: str) -> Compare:
    if kind(field.column_type) != "text":
        raise _fail(f"$regex needs a text field; {field.name!r} is not text", at)
    if not isinstance(pattern, str):
        raise _fail(f"$regex takes a string, not {_json_type(pattern)}", at)
    if text(pattern) is None:
        raise _fail("the pattern holds a character no database stores (NUL or a lone surrogate)",
                    at)
    if not isinstance(options, str) or set(options) - {"i"}:
        raise _fail("$options supports only 'i' (ignore case)", at.rsplit(".", 1)[0] + ".$options")
    try:
        return Compare(field, "regex", regex.check_pattern(pattern, "i" in options))
    except QueryError as error:
        raise _fail(str(error), at) from None
