"""Criteria: the WHERE conditions of rules, built from Python values instead of SQL text.

    Criteria.like('name', '*.ptc')                 NAME LIKE '%.ptc'
    Criteria.gt('size', '10M')                     FILE_SIZE > 10485760
    Criteria.gt('access', 30)                      DAYS(CURRENT_TIMESTAMP) - DAYS(ACCESS_TIME) > 30
    Criteria.eq('user', 'alice')                   USER_ID = 1001   (name looked up locally)
    Criteria.Or(Criteria.eq('pool', 'sas1'), "MISC_ATTRIBUTES LIKE '%X%'")

Field names: the friendly names ``name``, ``path``, ``size``, ``user``, ``group``,
``access``, ``modification``, ``creation``, ``change`` (the last four compare the file's age
in days, or its time when given a ``datetime``), ``pool``, ``fileset``; or any policy
attribute name in any case (``MISC_ATTRIBUTES``, ``kb_allocated``). Values are turned into
SQL literals by the policy printer, so quotes in names cannot change the statement. In
``like`` patterns ``*`` is the wildcard; ``%`` and ``_`` match themselves.

A Criteria wraps an expression of the policy language's syntax tree; ``str()`` gives its
canonical text. Raw SQL strings are accepted wherever a Criteria is (they are parsed, so a
syntax error is reported when the criterion is built). ``&``, ``|`` and ``~`` combine them.
"""

from __future__ import annotations

import datetime as _dt
import grp
import pwd
import re
from typing import Any

from gpfskit.language import (
    ATTRIBUTES,
    Attribute,
    Binary,
    CurrentTimestamp,
    Expr,
    Function,
    IsNull,
    Like,
    Literal,
    PolicySyntaxError,
    Unary,
    format_expression,
    parse_expression,
)
from gpfskit.policy import attributes

#: Friendly names whose comparisons are in days of age.
AGE_FIELDS = {
    "access": "ACCESS_TIME",
    "modification": "MODIFICATION_TIME",
    "creation": "CREATION_TIME",
    "change": "CHANGE_TIME",
}
_SIZE_RE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([KMGTP]?)(?:I?B)?\s*", re.I)
_SIZE_UNITS = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40, "P": 1 << 50}
_COMPARISONS = {"eq": "=", "ne": "<>", "gt": ">", "lt": "<", "ge": ">=", "le": "<="}


def _attribute(field: str) -> str:
    if not isinstance(field, str):
        raise TypeError(f"a criteria field is a name, not {field!r}")
    name = attributes.canonical(field)
    if name is None or name not in ATTRIBUTES:
        raise ValueError(f"unknown file attribute {field!r}")
    return name


def expression(value: Any, what: str = "condition") -> Expr:
    """A syntax-tree expression from a Criteria, SQL text or a syntax-tree node (SQL text
    is parsed here, so a syntax error is a ValueError naming ``what`` it was meant as)."""
    if isinstance(value, Criteria):
        return value.expr
    if isinstance(value, Expr):
        return value
    if isinstance(value, str):
        try:
            return parse_expression(value)
        except PolicySyntaxError as exc:
            raise ValueError(f"invalid SQL {what} {value!r}: {exc}") from None
    raise TypeError(f"expected a Criteria or SQL text, got {type(value).__name__}")


def _literal(value: Any) -> Expr:
    if isinstance(value, (_dt.datetime, _dt.date)):
        text = value.strftime("%Y-%m-%d %H:%M:%S") if isinstance(value, _dt.datetime) \
            else value.strftime("%Y-%m-%d 00:00:00")
        return Function("TIMESTAMP", (Literal(text),))
    if isinstance(value, (str, int, float, bool)) or value is None:
        return Literal(value)
    raise TypeError(f"cannot compare with a value of type {type(value).__name__}")


def _size(value: Any) -> Any:
    if isinstance(value, str):
        m = _SIZE_RE.fullmatch(value)
        if m is None:
            raise ValueError(f"not a size: {value!r} (use bytes or e.g. '10M', '2G')")
        number = float(m.group(1)) * _SIZE_UNITS[m.group(2).upper()]
        return int(number)
    return value


def _owner(value: Any, kind: str) -> Any:
    if isinstance(value, str) and not value.isdigit():
        try:
            if kind == "USER_ID":
                return pwd.getpwnam(value).pw_uid
            return grp.getgrnam(value).gr_gid
        except KeyError:
            what = "user" if kind == "USER_ID" else "group"
            raise ValueError(f"unknown {what} {value!r}") from None
    if isinstance(value, str):
        return int(value)
    return value


def _operand(field: str, value: Any, convert: bool = True) -> tuple[Expr, Any]:
    """(left-hand expression, converted value) for comparing ``field`` with ``value``."""
    key = attributes.normalise(field) if isinstance(field, str) else field
    if key in AGE_FIELDS:
        name = AGE_FIELDS[key]
        if isinstance(value, (_dt.datetime, _dt.date)):
            return Attribute(name), value
        days = Binary("-", Function("DAYS", (CurrentTimestamp(),)),
                      Function("DAYS", (Attribute(name),)))
        return days, value
    name = _attribute(field)
    if not convert:
        return Attribute(name), value
    if name == "FILE_SIZE":
        value = _size(value)
    elif name in ("USER_ID", "GROUP_ID"):
        value = _owner(value, name)
    return Attribute(name), value


def _glob_to_like(pattern: str) -> tuple[str, str | None]:
    """A LIKE pattern (and ESCAPE character, if one is needed) for a ``*`` glob."""
    if not isinstance(pattern, str):
        raise TypeError("a like pattern is a string")
    needs_escape = any(c in pattern for c in "%_\\")
    out = []
    for char in pattern:
        if char == "*":
            out.append("%")
        elif needs_escape and char in "%_\\":
            out.append("\\" + char)
        else:
            out.append(char)
    return "".join(out), ("\\" if needs_escape else None)


class Criteria:
    """One condition (see the module docstring)."""

    __slots__ = ("expr",)

    def __init__(self, condition: Criteria | Expr | str) -> None:
        self.expr = expression(condition)

    # -- builders ---------------------------------------------------------------------------
    @classmethod
    def raw(cls, sql: str) -> Criteria:
        """A condition written in the policy language's SQL."""
        if not isinstance(sql, str):
            raise TypeError(f"Criteria.raw takes SQL text, not {type(sql).__name__}")
        return cls(expression(sql))

    @classmethod
    def like(cls, field: str, pattern: str) -> Criteria:
        """``field LIKE pattern`` with ``*`` as the wildcard."""
        like, escape = _glob_to_like(pattern)
        left, _ = _operand(field, pattern, convert=False)
        return cls(Like(left, Literal(like), Literal(escape) if escape else None))

    @classmethod
    def unlike(cls, field: str, pattern: str) -> Criteria:
        """``field NOT LIKE pattern`` with ``*`` as the wildcard."""
        like, escape = _glob_to_like(pattern)
        left, _ = _operand(field, pattern, convert=False)
        return cls(Like(left, Literal(like), Literal(escape) if escape else None, negated=True))

    @classmethod
    def _compare(cls, op: str, field: str, value: Any) -> Criteria:
        left, value = _operand(field, value)
        if value is None:
            if op not in ("=", "<>"):
                raise ValueError("only eq and ne can compare with None (IS [NOT] NULL)")
            return cls(IsNull(left, negated=op == "<>"))
        return cls(Binary(op, left, _literal(value)))

    @classmethod
    def eq(cls, field: str, value: Any) -> Criteria:
        return cls._compare("=", field, value)

    @classmethod
    def ne(cls, field: str, value: Any) -> Criteria:
        return cls._compare("<>", field, value)

    @classmethod
    def gt(cls, field: str, value: Any) -> Criteria:
        return cls._compare(">", field, value)

    @classmethod
    def lt(cls, field: str, value: Any) -> Criteria:
        return cls._compare("<", field, value)

    @classmethod
    def ge(cls, field: str, value: Any) -> Criteria:
        return cls._compare(">=", field, value)

    @classmethod
    def le(cls, field: str, value: Any) -> Criteria:
        return cls._compare("<=", field, value)

    @classmethod
    def And(cls, *conditions: Criteria | str) -> Criteria:
        return cls(_join("AND", conditions))

    @classmethod
    def Or(cls, *conditions: Criteria | str) -> Criteria:
        return cls(_join("OR", conditions))

    @classmethod
    def Not(cls, condition: Criteria | str) -> Criteria:
        return cls(Unary("NOT", expression(condition)))

    # -- operators and text -----------------------------------------------------------------
    def __and__(self, other: Criteria | str) -> Criteria:
        return Criteria.And(self, other)

    def __rand__(self, other: Criteria | str) -> Criteria:
        return Criteria.And(other, self)

    def __or__(self, other: Criteria | str) -> Criteria:
        return Criteria.Or(self, other)

    def __ror__(self, other: Criteria | str) -> Criteria:
        return Criteria.Or(other, self)

    def __invert__(self) -> Criteria:
        return Criteria.Not(self)

    def __str__(self) -> str:
        return format_expression(self.expr)

    def __repr__(self) -> str:
        return f"Criteria({str(self)!r})"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Criteria):
            return self.expr == other.expr
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.expr)


def _join(op: str, conditions: tuple[Any, ...]) -> Expr:
    if not conditions:
        raise ValueError(f"{op} needs at least one condition")
    exprs = [expression(c) for c in conditions]
    result = exprs[0]
    for expr in exprs[1:]:
        result = Binary(op, result, expr)
    return result


class CriteriaList:
    """A rule's conditions (``rule.criteria``); all must hold (they are ANDed).

    It offers the Criteria builders too, as scripts use them:
    ``r.criteria.new(r.criteria.like('path', '/mmfs1/somedir/*'))``.
    """

    BUILDERS = frozenset({"raw", "like", "unlike", "eq", "ne", "gt", "lt", "ge", "le", "And",
                          "Or", "Not"})

    def __getattr__(self, name: str) -> Any:
        if name in CriteriaList.BUILDERS:
            return getattr(Criteria, name)
        raise AttributeError(f"'CriteriaList' object has no attribute {name!r}")

    def __init__(self, conditions: Any = None) -> None:
        self._items: list[Criteria] = []
        if conditions is None:
            return
        if isinstance(conditions, (str, Criteria, Expr)):
            conditions = [conditions]
        for condition in conditions:
            self.new(condition)

    def new(self, condition: Criteria | str) -> Criteria:
        """Add a condition (a Criteria or raw SQL text) and return it."""
        criteria = condition if isinstance(condition, Criteria) else Criteria(condition)
        self._items.append(criteria)
        return criteria

    def destroy(self, condition: Criteria | int) -> None:
        """Remove a condition (the object, or its position)."""
        if isinstance(condition, int):
            del self._items[condition]
            return
        for index, item in enumerate(self._items):
            if item is condition:
                del self._items[index]
                return
        self._items.remove(condition)

    def clear(self) -> None:
        self._items.clear()

    def expression(self) -> Expr | None:
        """The WHERE expression (None when there are no conditions)."""
        if not self._items:
            return None
        return _join("AND", tuple(self._items))

    def __iter__(self):
        return iter(list(self._items))

    def __len__(self) -> int:
        return len(self._items)

    def __getitem__(self, index: int) -> Criteria:
        return self._items[index]

    def __bool__(self) -> bool:
        return bool(self._items)

    def __str__(self) -> str:
        expr = self.expression()
        return "" if expr is None else format_expression(expr)

    def __repr__(self) -> str:
        return f"<CriteriaList {str(self)!r}>"
