"""``sort``: ``name,-created`` (or Eve's ``[("name", 1), ("created", -1)]``) to ORDER BY.

A sort key is a field of the model or a to-one path (``space.name``, joined with a LEFT OUTER
JOIN so that items without the related one stay); a to-many path has no single value to sort
by and is refused. Nulls sort first going up and last going down, on every database. The
primary key ends every ordering, so that pages never overlap or skip an item.
"""

from __future__ import annotations

import ast
import functools
from dataclasses import dataclass
from typing import Any

from sqlalchemy import inspect
from sqlalchemy.orm import aliased
from sqlalchemy.sql import Select

from gpfskit.mgmt.query.errors import QueryError
from gpfskit.mgmt.query.fields import FieldPath, resolve

MAX_SORT_KEYS = 16


@dataclass(frozen=True)
class SortKey:
    field: FieldPath
    descending: bool


def _fail(reason: str) -> QueryError:
    return QueryError("sort: " + reason)


def _eve_form(text: str) -> list[tuple[Any, Any]]:
    """The (name, direction) pairs of ``[("name", -1), ...]``, checked for shape."""
    try:
        value = ast.literal_eval(text)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        raise _fail('expected a list such as [("name", 1), ("created", -1)]') from None
    if not isinstance(value, list | tuple) or not value:
        raise _fail('expected a non-empty list such as [("name", 1), ("created", -1)]')
    pairs = []
    for index, item in enumerate(value):
        if not isinstance(item, list | tuple) or len(item) != 2:
            raise _fail(f'item {index + 1} is not a ("field", 1 or -1) pair')
        name, direction = item
        if isinstance(direction, bool) or direction not in (1, -1):
            raise _fail(f"the direction of {name!r} is 1 (ascending) or -1 (descending), "
                        f"not {direction!r}")
        pairs.append((name, direction))
    return pairs


def _comma_form(text: str) -> list[tuple[str, int]]:
    pairs = []
    for index, item in enumerate(text.split(",")):
        name = item.strip()
        direction = -1 if name.startswith("-") else 1
        name = name[1:].strip() if name[:1] in "+-" and name else name
        if not name:
            raise _fail(f"key {index + 1} is empty; write names separated by commas, "
                        "with '-' in front for descending: name,-created")
        pairs.append((name, direction))
    return pairs


def parse_sort(model: type, text: str) -> tuple[SortKey, ...]:
    """The sort keys of ``text`` over ``model``."""
    stripped = text.strip()
    pairs = _eve_form(stripped) if stripped.startswith(("[", "(")) else _comma_form(stripped)
    if len(pairs) > MAX_SORT_KEYS:
        raise _fail(f"at most {MAX_SORT_KEYS} keys")
    keys: list[SortKey] = []
    for name, direction in pairs:
        try:
            field = resolve(model, name)
        except QueryError as error:
            raise _fail(str(error)) from None
        if field.to_many:
            raise _fail(f"cannot sort by {name!r}: it goes through a to-many relationship, "
                        "so an item has several values")
        if any(key.field.name == field.name for key in keys):
            raise _fail(f"{name!r} is named twice")
        keys.append(SortKey(field, direction == -1))
    return tuple(keys)


def order(stmt: Select, model: type, keys: tuple[SortKey, ...]) -> Select:
    """``stmt`` ordered by ``keys`` then the primary key, joining what to-one keys need."""
    joined: dict[tuple[str, ...], Any] = {}
    clauses = []
    for key in keys:
        entity: Any = model
        for depth, step in enumerate(key.field.steps):
            route = tuple(s.key for s in key.field.steps[:depth + 1])
            if route not in joined:
                target = aliased(step.target)
                stmt = stmt.outerjoin(getattr(entity, step.key).of_type(target))
                joined[route] = target
            entity = joined[route]
        column = getattr(entity, key.field.key) if key.field.steps else key.field.sql
        clause = column.desc() if key.descending else column.asc()
        if key.field.nullable:
            clause = clause.nulls_last() if key.descending else clause.nulls_first()
        clauses.append(clause)
    sorted_by = {key.field.key for key in keys if not key.field.steps}
    clauses += [column.asc() for attribute, column in _primary_key(model)
                if attribute not in sorted_by]
    return stmt.order_by(*clauses)


@functools.cache
def _primary_key(model: type) -> tuple[tuple[str, Any], ...]:
    """The primary key's (attribute name, table column) pairs, the final sort of every
    query (so that pages never overlap)."""
    mapper = inspect(model)
    return tuple((mapper.get_property_by_column(column).key, column)
                 for column in mapper.primary_key)
