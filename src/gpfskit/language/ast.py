"""Syntax tree of the ILM policy language.

Every node is a frozen dataclass, so trees are immutable, hashable and compare by value.  That
lets callers cache compiled forms keyed by the tree itself and lets tests check that printing
and re-parsing gives back an equal tree.

Canonical forms are enforced at construction time so that two spellings of the same thing give
equal trees: attribute and function names are upper-cased, ``!=`` becomes ``<>``, interval
units are plural (``DAY`` -> ``DAYS``) and operator keywords are upper-case.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass, field

__all__ = [
    "ARITHMETIC_OPS",
    "BOOLEAN_OPS",
    "COMPARISON_OPS",
    "INTERVAL_UNITS",
    "Attribute",
    "Between",
    "Binary",
    "Case",
    "CurrentDate",
    "CurrentTime",
    "CurrentTimestamp",
    "Expr",
    "Function",
    "In",
    "Interval",
    "IsNull",
    "Like",
    "Literal",
    "Policy",
    "Rule",
    "RuleKind",
    "Unary",
    "iter_subexpressions",
]

COMPARISON_OPS = frozenset({"=", "<>", "<", ">", "<=", ">="})
BOOLEAN_OPS = frozenset({"AND", "OR"})
ARITHMETIC_OPS = frozenset({"+", "-", "*", "/", "||"})

#: Seconds per interval unit (canonical plural spelling).
INTERVAL_UNITS = {"DAYS": 86400, "HOURS": 3600, "MINUTES": 60, "SECONDS": 1}
_UNIT_ALIASES = {
    "DAY": "DAYS",
    "HOUR": "HOURS",
    "MINUTE": "MINUTES",
    "SECOND": "SECONDS",
}

LiteralValue = str | int | float | bool | None


class Expr:
    """Base class of expression nodes (used for isinstance checks and typing only)."""

    __slots__ = ()


@dataclass(frozen=True, eq=False)
class Literal(Expr):
    """A constant: string, integer, float, boolean or NULL (``None``).

    Equality is type-sensitive (``Literal(1) != Literal(True) != Literal(1.0)``) because the
    three print differently and behave differently in SQL.
    """

    value: LiteralValue

    def __post_init__(self) -> None:
        if not isinstance(self.value, (str, int, float, bool, type(None))):
            raise TypeError(f"unsupported literal type {type(self.value).__name__}")
        if isinstance(self.value, float) and not math.isfinite(self.value):
            raise ValueError("literal floats must be finite")

    def _key(self) -> tuple:
        return (type(self.value), self.value)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Literal):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(("Literal", *self._key()))


@dataclass(frozen=True)
class Attribute(Expr):
    """A file attribute such as ``FILE_SIZE``; the name is stored upper-case."""

    name: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", self.name.upper())


@dataclass(frozen=True)
class Function(Expr):
    """A function call; the name is stored upper-case, arguments as a tuple."""

    name: str
    args: tuple[Expr, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", self.name.upper())
        object.__setattr__(self, "args", tuple(self.args))


@dataclass(frozen=True)
class Unary(Expr):
    """``NOT x`` or ``-x``."""

    op: str
    operand: Expr

    def __post_init__(self) -> None:
        op = self.op.upper()
        if op not in ("NOT", "-"):
            raise ValueError(f"unknown unary operator {self.op!r}")
        object.__setattr__(self, "op", op)


@dataclass(frozen=True)
class Binary(Expr):
    """Boolean (AND, OR), comparison (= <> < > <= >=) or arithmetic (+ - * / ||) operation."""

    op: str
    left: Expr
    right: Expr

    def __post_init__(self) -> None:
        op = self.op.upper()
        if op == "!=":
            op = "<>"
        if op not in COMPARISON_OPS | BOOLEAN_OPS | ARITHMETIC_OPS:
            raise ValueError(f"unknown binary operator {self.op!r}")
        object.__setattr__(self, "op", op)


@dataclass(frozen=True)
class Like(Expr):
    """``operand [NOT] LIKE pattern [ESCAPE escape]``."""

    operand: Expr
    pattern: Expr
    escape: Expr | None = None
    negated: bool = False


@dataclass(frozen=True)
class In(Expr):
    """``operand [NOT] IN (items...)``."""

    operand: Expr
    items: tuple[Expr, ...]
    negated: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "items", tuple(self.items))
        if not self.items:
            raise ValueError("IN needs at least one item")


@dataclass(frozen=True)
class Between(Expr):
    """``operand [NOT] BETWEEN low AND high``."""

    operand: Expr
    low: Expr
    high: Expr
    negated: bool = False


@dataclass(frozen=True)
class IsNull(Expr):
    """``operand IS [NOT] NULL``."""

    operand: Expr
    negated: bool = False


@dataclass(frozen=True)
class Case(Expr):
    """``CASE [operand] WHEN cond THEN result ... [ELSE default] END``.

    With an ``operand`` (simple CASE) each ``when`` is compared to it with ``=``; without one
    (searched CASE) each ``when`` is a boolean condition.
    """

    whens: tuple[tuple[Expr, Expr], ...]
    else_: Expr | None = None
    operand: Expr | None = None

    def __post_init__(self) -> None:
        whens = tuple((w, t) for w, t in self.whens)
        if not whens:
            raise ValueError("CASE needs at least one WHEN")
        object.__setattr__(self, "whens", whens)


@dataclass(frozen=True)
class Interval(Expr):
    """``INTERVAL value unit``; ``value`` is usually a string literal such as ``'30'``."""

    value: Expr
    unit: str

    def __post_init__(self) -> None:
        unit = self.unit.upper()
        unit = _UNIT_ALIASES.get(unit, unit)
        if unit not in INTERVAL_UNITS:
            raise ValueError(f"unknown interval unit {self.unit!r}")
        object.__setattr__(self, "unit", unit)


@dataclass(frozen=True)
class CurrentTimestamp(Expr):
    """``CURRENT_TIMESTAMP``: fixed once per evaluation context (job start)."""


@dataclass(frozen=True)
class CurrentDate(Expr):
    """``CURRENT_DATE``: local midnight of the context's current timestamp."""


@dataclass(frozen=True)
class CurrentTime(Expr):
    """``CURRENT_TIME``: evaluates to the context's current timestamp (time parts usable)."""


def iter_subexpressions(expr: Expr):
    """Yield ``expr`` and every expression nested in it (pre-order)."""
    stack = [expr]
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, Function):
            stack.extend(reversed(node.args))
        elif isinstance(node, Unary):
            stack.append(node.operand)
        elif isinstance(node, Binary):
            stack.extend((node.right, node.left))
        elif isinstance(node, Like):
            if node.escape is not None:
                stack.append(node.escape)
            stack.extend((node.pattern, node.operand))
        elif isinstance(node, In):
            stack.extend(reversed(node.items))
            stack.append(node.operand)
        elif isinstance(node, Between):
            stack.extend((node.high, node.low, node.operand))
        elif isinstance(node, IsNull):
            stack.append(node.operand)
        elif isinstance(node, Case):
            if node.else_ is not None:
                stack.append(node.else_)
            for cond, result in reversed(node.whens):
                stack.extend((result, cond))
            if node.operand is not None:
                stack.append(node.operand)
        elif isinstance(node, Interval):
            stack.append(node.value)


class RuleKind(enum.Enum):
    """The verb of a rule."""

    SET_POOL = "SET POOL"
    SET_SNAP_POOL = "SET SNAP_POOL"
    MIGRATE = "MIGRATE"
    DELETE = "DELETE"
    LIST = "LIST"
    EXCLUDE = "EXCLUDE"
    EXTERNAL_LIST = "EXTERNAL LIST"
    EXTERNAL_POOL = "EXTERNAL POOL"
    GROUP_POOL = "GROUP POOL"
    RESTORE = "RESTORE"
    ENCRYPTION = "ENCRYPTION"
    SET_ENCRYPTION = "SET ENCRYPTION"

    @property
    def is_placement(self) -> bool:
        """True for rules installed with ``mmchpolicy`` and evaluated at file creation."""
        return self in _PLACEMENT_KINDS

    @property
    def selects_files(self) -> bool:
        """True for the management rules that ``mmapplypolicy`` evaluates per file."""
        return self in _SELECTING_KINDS


_PLACEMENT_KINDS = frozenset(
    {
        RuleKind.SET_POOL,
        RuleKind.SET_SNAP_POOL,
        RuleKind.RESTORE,
        RuleKind.ENCRYPTION,
        RuleKind.SET_ENCRYPTION,
    }
)
_SELECTING_KINDS = frozenset({RuleKind.MIGRATE, RuleKind.DELETE, RuleKind.LIST, RuleKind.EXCLUDE})

Number = int | float


@dataclass(frozen=True)
class Rule:
    """One policy rule.  Fields not used by a rule's kind stay at their defaults.

    Where each target name lives:

    * ``pool``: SET POOL / SET SNAP_POOL target, GROUP POOL name, EXTERNAL POOL name.
    * ``to_pool``: MIGRATE ... TO POOL and RESTORE TO POOL target.
    * ``list_name``: LIST and EXTERNAL LIST name.
    * ``encryption_specs``: the names after SET ENCRYPTION, or the single name an ENCRYPTION
      rule defines (with ``encryption_algo`` and ``encryption_keys``).

    ``threshold`` is a tuple of one to three numbers, except on EXTERNAL LIST where it is the
    resource class string (``'FILESET_QUOTA_SOFT'`` ...).  ``size`` is an expression: the
    ``SIZE(expr)`` of MIGRATE/LIST/DELETE or the ``SIZE n`` cap of EXTERNAL rules.
    ``show`` holds the SHOW items, which the product concatenates.
    """

    kind: RuleKind
    name: str | None = None
    when: Expr | None = None
    from_pool: str | None = None
    threshold: tuple[Number, ...] | str | None = None
    weight: Expr | None = None
    to_pool: str | None = None
    limit: Number | None = None
    replicate: Number | None = None
    for_fileset: tuple[str, ...] | None = None
    show: tuple[Expr, ...] | None = None
    size: Expr | None = None
    action: Expr | None = None
    where: Expr | None = None
    list_name: str | None = None
    exclude: bool = False
    directories_plus: bool = False
    compress: str | None = None
    exec_: str | None = None
    opts: str | None = None
    escape: str | None = None
    group_members: tuple[tuple[str, Number | None], ...] = ()
    pool: str | None = None
    encryption_specs: tuple[str, ...] = ()
    encryption_algo: str | None = None
    encryption_keys: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if isinstance(self.threshold, list):
            object.__setattr__(self, "threshold", tuple(self.threshold))
        if isinstance(self.threshold, tuple) and not 1 <= len(self.threshold) <= 3:
            raise ValueError("THRESHOLD takes one to three numbers")
        if self.for_fileset is not None:
            object.__setattr__(self, "for_fileset", tuple(self.for_fileset))
        if self.show is not None:
            object.__setattr__(self, "show", tuple(self.show))
        object.__setattr__(self, "group_members", tuple((p, lim) for p, lim in self.group_members))
        object.__setattr__(self, "encryption_specs", tuple(self.encryption_specs))
        object.__setattr__(self, "encryption_keys", tuple(self.encryption_keys))

    def expressions(self) -> tuple[Expr, ...]:
        """All expressions of the rule (WHEN, WEIGHT, SHOW items, SIZE, ACTION, WHERE)."""
        exprs = [self.when, self.weight, *(self.show or ()), self.size, self.action, self.where]
        return tuple(e for e in exprs if e is not None)


@dataclass(frozen=True)
class Policy:
    """A parsed policy: the rules in file order (``define`` macros are already expanded)."""

    rules: tuple[Rule, ...] = field(default=())

    def __post_init__(self) -> None:
        object.__setattr__(self, "rules", tuple(self.rules))

    def __iter__(self):
        return iter(self.rules)

    def __len__(self) -> int:
        return len(self.rules)

    def __getitem__(self, index):
        return self.rules[index]

    def group_pools(self) -> dict[str, tuple[str, ...]]:
        """Group pool name -> member pool names, from the GROUP POOL rules (for FROM POOL)."""
        return {
            rule.pool: tuple(pool for pool, _ in rule.group_members)
            for rule in self.rules
            if rule.kind is RuleKind.GROUP_POOL and rule.pool is not None
        }
