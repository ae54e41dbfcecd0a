"""Field paths: the names a query may use, resolved against a SQLAlchemy model.

A field is a mapped column attribute of the model (``name``), or a dotted path that walks
relationships to a column of a related model: ``exposers.filesystem`` (to-many, compiled to
``Space.exposers.any(...)``), ``space.name`` (to-one, ``Snapshot.space.has(...)``), several
levels deep. Attributes a model lists in ``__query_hidden__`` do not exist for queries: naming
one is the same error as naming a field that does not exist, so a query cannot probe them.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from sqlalchemy import inspect, or_
from sqlalchemy.orm import Mapper
from sqlalchemy.sql.elements import ColumnElement

from gpfskit.mgmt.query.errors import QueryError


@dataclass(frozen=True)
class Step:
    """One relationship on the way to a field: ``key`` on ``source``, leading to ``target``."""

    source: type
    key: str
    target: type
    to_many: bool


@dataclass(frozen=True)
class FieldPath:
    """A resolved field: the relationships walked, then a column attribute of the last model."""

    name: str
    steps: tuple[Step, ...]
    key: str
    column: Any  # the class-bound column attribute (InstrumentedAttribute)
    sql: Any     # its table column: comparisons and sorting built on it skip the ORM layer

    @property
    def to_many(self) -> bool:
        """True when the path crosses a to-many relationship (so it can sort nothing)."""
        return any(step.to_many for step in self.steps)

    @property
    def column_type(self) -> Any:
        return self.sql.type

    @property
    def nullable(self) -> bool:
        """Whether the column may hold NULL (always true across relationships)."""
        if self.steps:
            return True
        return bool(getattr(self.sql, "nullable", True))

    def wrap(self, predicate: ColumnElement[bool], or_missing: bool = False
             ) -> ColumnElement[bool]:
        """``predicate`` on the column, put under the path's relationships (EXISTS subqueries).

        With ``or_missing``, an item with no related item at some step satisfies it too: a
        missing related item has a null value (what ``== null`` needs).
        """
        for step in reversed(self.steps):
            relationship = getattr(step.source, step.key)
            exists = relationship.any if step.to_many else relationship.has
            predicate = or_(~exists(), exists(predicate)) if or_missing else exists(predicate)
        return predicate


def _hidden(model: type) -> frozenset[str]:
    return frozenset(getattr(model, "__query_hidden__", ()))


def column_names(model: type) -> list[str]:
    """The queryable column attribute names of ``model``, sorted."""
    hidden = _hidden(model)
    return sorted(prop.key for prop in inspect(model).column_attrs if prop.key not in hidden)


def relationship_names(model: type) -> list[str]:
    """The relationships of ``model`` that queries may walk, sorted."""
    hidden = _hidden(model)
    return sorted(prop.key for prop in inspect(model).relationships if prop.key not in hidden)


def _known(model: type, prefix: str) -> str:
    names = [prefix + name for name in column_names(model)]
    relationships = [prefix + name for name in relationship_names(model)]
    text = "fields: " + ", ".join(names)
    if relationships:
        text += "; relationships: " + ", ".join(relationships)
    return text


def resolve(model: type, name: Any) -> FieldPath:
    """The field ``name`` (dotted through relationships) of ``model``, or a QueryError."""
    if not isinstance(name, str) or not name:
        raise QueryError(f"{name!r} is not a field name")
    return _resolve(model, name)


@functools.lru_cache(maxsize=1024)
def _resolve(model: type, name: str) -> FieldPath:
    """:func:`resolve`, remembered: the models do not change while the service runs (a
    QueryError is not remembered)."""
    parts = name.split(".")
    if any(not part for part in parts):
        raise QueryError(f"{name!r} is not a field name (empty part between dots)")
    steps: list[Step] = []
    current = model
    for index, part in enumerate(parts):
        prefix = ".".join(parts[:index]) + "." if index else ""
        mapper: Mapper = inspect(current)
        visible = part not in _hidden(current)
        if visible and part in mapper.relationships and index < len(parts) - 1:
            prop = mapper.relationships[part]
            steps.append(Step(current, part, prop.mapper.class_, bool(prop.uselist)))
            current = prop.mapper.class_
        elif visible and part in mapper.relationships:
            example = next(iter(column_names(mapper.relationships[part].mapper.class_)), "id")
            raise QueryError(f"{name!r} is a relationship; name one of its fields, "
                             f"e.g. '{name}.{example}'")
        elif visible and part in mapper.column_attrs and index < len(parts) - 1:
            raise QueryError(f"{prefix + part!r} is a field, not a relationship, in {name!r}")
        elif not (visible and part in mapper.column_attrs):
            where = f" in {name!r}" if index else ""
            raise QueryError(f"unknown field {prefix + part!r}{where}; {_known(current, prefix)}")
    attribute = getattr(current, parts[-1])
    return FieldPath(name, tuple(steps), parts[-1], attribute, attribute.property.columns[0])
