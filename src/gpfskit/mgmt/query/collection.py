"""A collection request's query parameters, parsed once and applied to SQLAlchemy statements."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.sql import Select
from sqlalchemy.sql.elements import ColumnElement

from gpfskit.mgmt.query.conditions import (
    MAX_COMPARISONS,
    Condition,
    Parameters,
    comparisons,
    shape,
    to_sql,
)
from gpfskit.mgmt.query.errors import QueryError
from gpfskit.mgmt.query.expression import parse_expression
from gpfskit.mgmt.query.mongo import parse_mongo
from gpfskit.mgmt.query.paging import parse_paging
from gpfskit.mgmt.query.projection import Projection, parse_projection
from gpfskit.mgmt.query.sorting import SortKey, order, parse_sort

MAX_WHERE = 20_000
"""The longest ``where`` text accepted, in characters."""


@dataclass(frozen=True)
class CollectionQuery:
    """What ``where``, ``sort``, ``projection``, ``max_results`` and ``page`` asked for.

    ``criterion`` is the compiled WHERE clause (None: everything), its values bind
    parameters; ``page`` and ``max_results`` are the effective paging, after defaults and the
    cap. Two queries of one ``shape`` make the same SQL: a statement built for one (with
    :meth:`apply` or :meth:`count`) runs the other when given the other's ``values``.
    """

    model: type
    criterion: ColumnElement[bool] | None
    sort: tuple[SortKey, ...]
    projection: Projection
    page: int
    max_results: int
    where_shape: tuple = ()
    where_values: dict[str, Any] = field(default_factory=dict)

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.max_results

    @property
    def shape(self) -> tuple:
        """What the SQL of :meth:`apply` depends on besides :attr:`values`."""
        return (self.where_shape, tuple((k.field.name, k.descending) for k in self.sort))

    @property
    def values(self) -> dict[str, Any]:
        """The bind parameters of :meth:`apply` (and of :meth:`count`, which needs fewer)."""
        return {**self.where_values, "max_results": self.max_results, "offset": self.offset}

    def filter(self, stmt: Select) -> Select:
        """``stmt`` with the WHERE clause only."""
        return stmt if self.criterion is None else stmt.where(self.criterion)

    def apply(self, stmt: Select) -> Select:
        """``stmt`` (a ``select(model)``) with WHERE, ORDER BY, LIMIT and OFFSET."""
        ordered = order(self.filter(stmt), self.model, self.sort)
        return ordered.limit(bindparam("max_results", self.max_results)) \
            .offset(bindparam("offset", self.offset))

    def count(self, stmt: Select) -> Select:
        """``SELECT count(*)`` of what ``stmt`` selects under the same WHERE, without paging."""
        return select(func.count()).select_from(self.filter(stmt).subquery())

    def fields(self, all_field_names: list[str]) -> list[str]:
        """The item data fields to render after the projection, in ``all_field_names`` order."""
        return self.projection.fields(list(all_field_names))


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _text(name: str, value: Any) -> str:
    if not isinstance(value, str):
        raise QueryError(f"{name}: expected text, got {type(value).__name__}")
    return value


def parse_where(model: type, where: str) -> Condition:
    """The condition of ``where``: JSON when it starts with ``{`` or ``[``, else Python-style."""
    if len(where) > MAX_WHERE:
        raise QueryError(f"where: longer than {MAX_WHERE} characters")
    stripped = where.strip()
    is_json = stripped.startswith(("{", "["))
    condition = parse_mongo(model, stripped) if is_json else parse_expression(model, where)
    if comparisons(condition) > MAX_COMPARISONS:
        raise QueryError(f"where: more than {MAX_COMPARISONS} comparisons")
    return condition


def parse_collection_query(
    model: type,
    where: str | None = None,
    sort: str | None = None,
    projection: str | None = None,
    max_results: int | str | None = None,
    page: int | str | None = None,
    default_page_size: int = 25,
    max_page_size: int = 1000,
) -> CollectionQuery:
    """Parse a collection request's query parameters for ``model``, or raise QueryError.

    Nothing runs here: the result only builds SQL (see :meth:`CollectionQuery.apply` and
    :meth:`CollectionQuery.count`).
    """
    condition = None if _blank(where) else parse_where(model, _text("where", where))
    keys = () if _blank(sort) else parse_sort(model, _text("sort", sort))
    shown = (Projection() if _blank(projection)
             else parse_projection(model, _text("projection", projection)))
    page_number, size = parse_paging(max_results, page, default_page_size, max_page_size)
    if condition is None:
        return CollectionQuery(model, None, keys, shown, page_number, size)
    params = Parameters()
    criterion = to_sql(condition, params=params)
    return CollectionQuery(model, criterion, keys, shown, page_number, size, shape(condition),
                           params.values)
