"""``where`` as a Python-style expression, parsed with :mod:`ast` and a whitelist, never run.

``id == "..."``, ``size >= 10 and status in ("NEW", "ACTIVE")``, ``not (comment is None)``,
``1 < size < 10``, ``space.name == "x"``. Names are field names (dotted through relationships),
the other side of each comparison is a literal: a string, a number, True, False or None, or for
``in`` a list or tuple of them. Everything else (calls, attributes of literals, subscripts,
arithmetic, lambdas, comprehensions, f-strings, ...) is refused with its position.
"""

from __future__ import annotations

import ast
import math
from typing import Any

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
from gpfskit.mgmt.query.values import coerce

_COMPARISONS: dict[type, tuple[str, bool]] = {
    # ast operator -> (positive operation, negated)
    ast.Eq: ("eq", False), ast.NotEq: ("eq", True),
    ast.Lt: ("lt", False), ast.LtE: ("lte", False),
    ast.Gt: ("gt", False), ast.GtE: ("gte", False),
    ast.In: ("in", False), ast.NotIn: ("in", True),
    ast.Is: ("eq", False), ast.IsNot: ("eq", True),
}
# the operation seen from the other side: 5 < size is size > 5
_MIRRORED = {"lt": "gt", "lte": "gte", "gt": "lt", "gte": "lte", "eq": "eq"}

_REFUSED = {
    ast.Call: "function calls", ast.Attribute: "attributes (other than dotted field names)",
    ast.Subscript: "subscripts", ast.Lambda: "lambdas", ast.ListComp: "comprehensions",
    ast.SetComp: "comprehensions", ast.DictComp: "comprehensions",
    ast.GeneratorExp: "comprehensions", ast.JoinedStr: "f-strings",
    ast.FormattedValue: "f-strings", ast.BinOp: "arithmetic operators", ast.IfExp: "if-expressions",
    ast.NamedExpr: "assignments", ast.Dict: "dictionaries", ast.Starred: "starred values",
    ast.UnaryOp: "operators other than not and a sign before a number",
    ast.Await: "await", ast.Yield: "yield", ast.YieldFrom: "yield", ast.Slice: "slices",
}


class _Expression:
    """One expression being translated; turns node offsets into positions in the user's text."""

    def __init__(self, model: type, text: str) -> None:
        self.model = model
        self.source = text.lstrip()
        skipped = text[:len(text) - len(self.source)]
        self.skipped_lines = skipped.count("\n")
        self.skipped_columns = len(skipped) - (skipped.rfind("\n") + 1)
        self.several_lines = "\n" in text.strip()

    def position(self, lineno: int, column: int) -> str:
        """``line L, column C`` (1-based) in the user's text of a 1-based spot in the source."""
        if lineno == 1:
            column += self.skipped_columns
        if self.several_lines:
            return f"line {lineno + self.skipped_lines}, column {column}"
        return f"column {column}"

    def fail(self, reason: str, node: ast.AST) -> QueryError:
        lineno = getattr(node, "lineno", 1)
        lines = self.source.split("\n")
        line = lines[lineno - 1] if 0 < lineno <= len(lines) else ""
        # ast offsets count UTF-8 bytes; people count characters
        column = len(line.encode("utf-8")[:getattr(node, "col_offset", 0)]
                     .decode("utf-8", "ignore")) + 1
        return QueryError(f"where: {reason} (at {self.position(lineno, column)})")

    def parse(self) -> Condition:
        if "\x00" in self.source:
            raise QueryError("where: the expression holds a NUL character")
        try:
            # (warnings.catch_warnings is not used: it is not thread-safe, and the only
            # warning parsing can give, an invalid escape, is harmless)
            tree = ast.parse(self.source, mode="eval")
        except SyntaxError as error:
            spot = (f" at {self.position(error.lineno or 1, error.offset)}" if error.offset
                    else " at the end")
            raise QueryError(f"where: not a valid expression: {error.msg}{spot}") from None
        except (RecursionError, MemoryError, ValueError):
            raise QueryError("where: the expression nests too deeply or is too long") from None
        return self.condition(tree.body, 0)

    def condition(self, node: ast.AST, depth: int) -> Condition:
        if depth > MAX_DEPTH:
            raise self.fail(f"conditions nest more than {MAX_DEPTH} levels deep", node)
        if isinstance(node, ast.BoolOp):
            parts = tuple(self.condition(value, depth + 1) for value in node.values)
            return AllOf(parts) if isinstance(node.op, ast.And) else AnyOf(parts)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            return Not(self.condition(node.operand, depth + 1))
        if isinstance(node, ast.Compare):
            return self.comparison(node)
        if isinstance(node, ast.Name | ast.Attribute) and self.dotted(node):
            raise self.fail(f"{self.dotted(node)!r} alone is not a condition; compare it, "
                            f"e.g. {self.dotted(node)} == True", node)
        if isinstance(node, ast.Constant | ast.List | ast.Tuple | ast.Set):
            raise self.fail("a literal alone is not a condition; compare a field with it", node)
        raise self.refused(node)

    def refused(self, node: ast.AST) -> QueryError:
        what = _REFUSED.get(type(node))
        if what is None:
            return self.fail(f"{type(node).__name__} is not allowed in a query", node)
        return self.fail(f"{what} are not allowed in a query", node)

    def dotted(self, node: ast.AST) -> str | None:
        """``a.b.c`` for a chain of names, else None."""
        if isinstance(node, ast.Name):
            return node.id
        if isinstance(node, ast.Attribute):
            base = self.dotted(node.value)
            return f"{base}.{node.attr}" if base else None
        return None

    def field(self, node: ast.AST) -> FieldPath:
        name = self.dotted(node)
        try:
            return resolve(self.model, name)
        except QueryError as error:
            raise self.fail(str(error), node) from None

    def literal(self, node: ast.AST) -> Any:
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
            value = node.operand.value if isinstance(node.operand, ast.Constant) else None
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise self.fail("a sign goes only before a number", node)
            value = self.literal(node.operand)
            return -value if isinstance(node.op, ast.USub) else value
        if not isinstance(node, ast.Constant):
            if isinstance(node, ast.List | ast.Tuple | ast.Set):
                raise self.fail("a list goes only on the right of 'in' / 'not in'", node)
            name = self.dotted(node)
            if name and name.lower() in ("true", "false", "null", "none"):
                raise self.fail(f"unknown field {name!r}; the literals are True, False and None",
                                node)
            if name:
                raise self.fail("comparing two fields is not supported; compare a field "
                                "with a literal", node)
            raise self.refused(node)
        value = node.value
        if value is None or isinstance(value, bool | int | str):
            return value
        if isinstance(value, float):
            if not math.isfinite(value):
                raise self.fail("a number too large to store", node)
            return value
        raise self.fail(f"{type(value).__name__} literals are not allowed in a query", node)

    def coerced(self, field: FieldPath, value: Any, node: ast.AST) -> Any:
        try:
            return coerce(field, value)
        except QueryError as error:
            raise self.fail(str(error), node) from None

    def comparison(self, node: ast.Compare) -> Condition:
        parts: list[Condition] = []
        left = node.left
        for op, right in zip(node.ops, node.comparators):
            parts.append(self.pair(left, op, right))
            left = right
        return all_of(parts)

    def pair(self, left: ast.AST, op: ast.cmpop, right: ast.AST) -> Condition:
        operation, negated = _COMPARISONS[type(op)]
        if self.dotted(left) is None and self.dotted(right) is not None:
            if operation == "in":
                raise self.fail("'in' takes the field on its left: field in (...)", left)
            left, right, operation = right, left, _MIRRORED[operation]
        if self.dotted(left) is None:
            for side in (left, right):
                if not isinstance(side, ast.Constant | ast.UnaryOp | ast.List | ast.Tuple
                                  | ast.Set):
                    raise self.refused(side)
            raise self.fail("a comparison needs a field on one side", left)
        field = self.field(left)
        if operation == "in":
            condition = Compare(field, "in", self.members(field, right))
        else:
            value = self.coerced(field, self.literal(right), right)
            if isinstance(op, ast.Is | ast.IsNot) and value is not None:
                raise self.fail("'is' and 'is not' compare only with None", right)
            if value is None and operation != "eq":
                raise self.fail("an ordering comparison needs a value, not None", right)
            condition = Compare(field, operation, value)
        return Not(condition) if negated else condition

    def members(self, field: FieldPath, node: ast.AST) -> tuple[Any, ...]:
        if not isinstance(node, ast.List | ast.Tuple | ast.Set):
            raise self.fail("'in' takes a list or tuple of values, e.g. "
                            "status in ('NEW', 'ACTIVE')", node)
        if len(node.elts) > MAX_IN_VALUES:
            raise self.fail(f"'in' takes at most {MAX_IN_VALUES} values", node)
        return tuple(self.coerced(field, self.literal(item), item) for item in node.elts)


def parse_expression(model: type, text: str) -> Condition:
    """The condition tree of the Python-style expression ``text`` over ``model``."""
    return _Expression(model, text).parse()
