"""``projection``: which data fields an answer carries (``{"status": 1}`` or ``{"x": 0}``).

One kind per projection: names with 1 (only these, plus ``id``) or names with 0 (all but
these). ``id`` may be excluded in either kind. Names are the model's columns and relationships
(a related collection is rendered as a field too), never dotted paths.
"""

from __future__ import annotations

from dataclasses import dataclass

from gpfskit.mgmt.query.errors import QueryError
from gpfskit.mgmt.query.fields import column_names, relationship_names
from gpfskit.mgmt.query.mongo import parse_json

ALWAYS = "id"


@dataclass(frozen=True)
class Projection:
    """``include`` (None: every field) and ``exclude`` name sets."""

    include: frozenset[str] | None = None
    exclude: frozenset[str] = frozenset()

    def fields(self, all_field_names: list[str]) -> list[str]:
        """The names of ``all_field_names`` to render, in their order."""
        if self.include is None:
            return [name for name in all_field_names if name not in self.exclude]
        return [name for name in all_field_names
                if (name in self.include or name == ALWAYS) and name not in self.exclude]


def _fail(reason: str) -> QueryError:
    return QueryError("projection: " + reason)


def parse_projection(model: type, text: str) -> Projection:
    """The projection of the JSON object ``text`` over ``model``."""
    document = parse_json(text, "projection")
    if not isinstance(document, dict):
        raise _fail('expected an object such as {"status": 1} or {"comment": 0}')
    known = set(column_names(model)) | set(relationship_names(model))
    include, exclude = set(), set()
    for name, flag in document.items():
        if name not in known:
            raise _fail(f"unknown field {name!r}; fields: {', '.join(sorted(known))}")
        if flag not in (0, 1) or (not isinstance(flag, bool | int)):
            raise _fail(f"the value of {name!r} is 1 (include) or 0 (exclude), not {flag!r}")
        (include if flag else exclude).add(name)
    if include and exclude - {ALWAYS}:
        raise _fail(f"{sorted(include)[0]!r} is included and {sorted(exclude - {ALWAYS})[0]!r} "
                    "excluded; use one kind (only id may be excluded from an inclusion)")
    return Projection(frozenset(include) if include else None, frozenset(exclude))
