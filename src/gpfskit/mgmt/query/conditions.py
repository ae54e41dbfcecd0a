"""The condition tree both query syntaxes parse into, and its compilation to one SQL WHERE.

Semantics (the same on SQLite and PostgreSQL, and the same as a document store's):

- a positive comparison (``$eq $gt $gte $lt $lte $in $regex $exists``) on a path through
  relationships holds when at least one related item satisfies it; where there is no related
  item the value is null (missing), which only ``== null`` (``$eq: null``, ``$in`` with null)
  matches;
- a negation (``$ne $nin $not $nor``, Python ``!=``, ``not in``, ``not``) holds exactly when the
  positive condition does not, so ``{"comment": {"$ne": "x"}}`` also selects the items whose
  comment is null, and ``{"exposers.type": {"$ne": "nfs"}}`` the spaces with no NFS exposer.

SQL's three-valued logic would make ``NOT (comment = 'x')`` false for a null comment. So the
compiler pushes negations down to the comparisons (De Morgan) and gives each negated
comparison on a nullable column an explicit ``IS NULL OR ...``; positive comparisons stay plain
(and indexable), and a NULL under AND/OR without negation behaves as false, which is right.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import String, and_, bindparam, false, not_, or_, true
from sqlalchemy.sql.elements import ColumnElement

from gpfskit.mgmt.query.fields import FieldPath

MAX_DEPTH = 16
"""How deeply $and/$or/$nor/$not (or and/or/not) may nest."""

MAX_COMPARISONS = 256
"""How many comparisons one query may hold."""

MAX_IN_VALUES = 1000
"""How many values one $in / $nin / ``in`` list may hold."""

OPERATIONS = ("eq", "gt", "gte", "lt", "lte", "in", "regex", "exists")


@dataclass(frozen=True)
class Compare:
    """``field <op> value`` with a positive operation; ``value`` already has the column's type.

    ``eq`` with None is "is null"; ``in`` takes a tuple (which may contain None); ``regex`` a
    pattern; ``exists`` ignores ``value`` (it means "is not null").
    """

    field: FieldPath
    op: str
    value: Any = None


@dataclass(frozen=True)
class AllOf:
    parts: tuple[Condition, ...]


@dataclass(frozen=True)
class AnyOf:
    parts: tuple[Condition, ...]


@dataclass(frozen=True)
class Not:
    part: Condition


Condition = Compare | AllOf | AnyOf | Not


def all_of(parts: list[Condition]) -> Condition:
    """The conjunction of ``parts`` (a single part stands alone)."""
    return parts[0] if len(parts) == 1 else AllOf(tuple(parts))


class Parameters:
    """The values of one WHERE clause as bind parameters named ``w0``, ``w1``... in the order
    the compiler meets them, so that two conditions of one :func:`shape` make the same SQL
    and a statement built for one serves the other with the other's ``values``."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}

    def bind(self, value: Any, type_: Any) -> Any:
        name = f"w{len(self.values)}"
        self.values[name] = value
        return bindparam(name, value, type_=type_)


def _predicate(column: Any, op: str, value: Any, params: Parameters
               ) -> tuple[ColumnElement[bool], bool]:
    """The SQL for a positive comparison, and whether it is never NULL (null-safe)."""
    if op == "eq":
        if value is None:
            return column.is_(None), True
        return column == params.bind(value, column.type), False
    if op == "in":
        known = [params.bind(item, column.type) for item in value if item is not None]
        parts = [column.in_(known)] if known else []
        if None in value:
            parts.append(column.is_(None))
        if not parts:
            return false(), True
        return or_(*parts), None in value
    if op == "regex":
        return column.regexp_match(params.bind(value, String())), False
    if op == "exists":
        return column.is_not(None), True
    comparisons = {"gt": column.__gt__, "gte": column.__ge__,
                   "lt": column.__lt__, "lte": column.__le__}
    # a typed bind parameter, because SQLAlchemy refuses ``column > True`` written directly
    return comparisons[op](params.bind(value, column.type)), False


def _through(node: Compare, params: Parameters) -> ColumnElement[bool]:
    """A positive comparison on a path through relationships: some related value satisfies it.

    Where there is no related item the value is null, so ``eq None`` (and ``in`` with None)
    also hold for an item without related items.
    """
    field, column = node.field, node.field.sql
    if node.op == "eq" and node.value is None:
        return field.wrap(column.is_(None), or_missing=True)
    if node.op == "in" and None in node.value:
        known = [params.bind(value, column.type) for value in node.value if value is not None]
        missing = field.wrap(column.is_(None), or_missing=True)
        return or_(field.wrap(column.in_(known)), missing) if known else missing
    return field.wrap(_predicate(column, node.op, node.value, params)[0])


def _compare(node: Compare, negate: bool, params: Parameters) -> ColumnElement[bool]:
    if node.field.steps:
        # EXISTS is never NULL, so negating it needs no guard.
        positive = _through(node, params)
        return not_(positive) if negate else positive
    predicate, null_safe = _predicate(node.field.sql, node.op, node.value, params)
    if not negate:
        return predicate
    if null_safe or not node.field.nullable:
        return not_(predicate)
    return or_(node.field.sql.is_(None), not_(predicate))


def to_sql(node: Condition, negate: bool = False, params: Parameters | None = None
           ) -> ColumnElement[bool]:
    """The WHERE clause for ``node`` (or for its negation), negations pushed down; its
    values become bind parameters of ``params``."""
    params = Parameters() if params is None else params
    if isinstance(node, Compare):
        return _compare(node, negate, params)
    if isinstance(node, Not):
        return to_sql(node.part, not negate, params)
    conjunction = isinstance(node, AllOf) != negate
    if not node.parts:
        return true() if conjunction else false()
    parts = [to_sql(part, negate, params) for part in node.parts]
    return and_(*parts) if conjunction else or_(*parts)


def shape(node: Condition) -> tuple:
    """What ``node``'s SQL depends on besides its values: the fields, operations and the
    nulls and list lengths among the values (hashable, for caching statements)."""
    if isinstance(node, Compare):
        value = node.value
        if node.op == "in":
            value = tuple(item is None for item in value)
        elif node.op != "exists":
            value = value is None
        return ("compare", node.field.name, node.op, value)
    if isinstance(node, Not):
        return ("not", shape(node.part))
    return (type(node).__name__, tuple(shape(part) for part in node.parts))


def comparisons(node: Condition) -> int:
    """How many comparisons ``node`` holds."""
    if isinstance(node, Compare):
        return 1
    if isinstance(node, Not):
        return comparisons(node.part)
    return sum(comparisons(part) for part in node.parts)
