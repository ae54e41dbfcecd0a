"""Reference evaluator: one record at a time, with SQL semantics.

Data model
----------
A record is a mapping from upper-case attribute names to values:

* timestamps (``ACCESS_TIME``, ``MODIFICATION_TIME``, ``CHANGE_TIME``, ``CREATION_TIME``,
  ``EXPIRATION_TIME``) are floats, seconds since the Unix epoch (``None``/NaN = NULL); they
  behave as SQL timestamps interpreted in local time;
* ``PATH_NAME``, ``NAME``, ``MODE``, ``FILESET_NAME``, ``POOL_NAME``, ``MISC_ATTRIBUTES``,
  ``USER_NAME``, ``GROUP_NAME`` are strings (bytes are decoded as UTF-8 with surrogateescape);
* the other attributes are integers or ``None``;
* optional key ``XATTRS``: mapping ``name -> bytes | str`` or callable ``name -> bytes | None``
  giving the file's extended attributes (otherwise ``EvalContext.xattr(record, name)``).

A record lacking an attribute the expression uses is an error (not NULL): the scanner is expected
to provide every column :func:`referenced_attributes` reports.

Semantics: three-valued logic (NULL = unknown; ``NULL AND FALSE`` is FALSE, ``NULL OR TRUE`` is
TRUE); comparisons and arithmetic with NULL give NULL; WHERE/WHEN treat NULL as false.
Integer division truncates toward zero; division or MOD by zero gives NULL.  ``ts - ts`` is an
interval in seconds, ``ts +/- interval`` a timestamp, and numbers mixed with timestamps or
intervals count as seconds.  A timestamp compared with a string parses the string as a local
date/time.  A number compared with (or added to) a string converts the string to a number; if it
is not a number the result is NULL.
"""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .ast import (
    COMPARISON_OPS,
    INTERVAL_UNITS,
    Attribute,
    Between,
    Binary,
    Case,
    CurrentDate,
    CurrentTime,
    CurrentTimestamp,
    Expr,
    Function,
    In,
    Interval,
    IsNull,
    Like,
    Literal,
    Rule,
    RuleKind,
    Unary,
    iter_subexpressions,
)
from .catalog import (
    ATTRIBUTES,
    FUNCTIONS,
    RECORD_FUNCTIONS,
    STRING_ATTRIBUTES,
    TIMESTAMP_ATTRIBUTES,
    XATTRS_KEY,
    arity_ok,
)
from .errors import PolicyEvalError
from .functions import CONTEXT_FUNCTIONS, STRICT_FUNCTIONS, context_function, record_function
from .timeutil import local_midnight, parse_timestamp
from .values import (
    SqlInterval,
    SqlTimestamp,
    as_number,
    like_regex,
    to_number,
    to_text,
    to_timestamp_seconds,
)

__all__ = [
    "EvalContext",
    "compile_expression",
    "evaluate",
    "matches",
    "referenced_attributes",
    "rule_matches",
    "show_expression",
    "show_text",
]

Record = Mapping[str, Any]
Compiled = Callable[[Record, "EvalContext"], Any]


@dataclass
class EvalContext:
    """Per-job evaluation settings and callbacks.

    ``current_timestamp`` is fixed for the whole job (epoch seconds; a ``datetime`` or a
    ``YYYY-MM-DD[@hh:mm[:ss]]`` string is converted).  Callbacks:

    * ``getenv(name) -> str | None`` for GETENV (default: the process environment);
    * ``mmconfig``: callable or mapping for GETMMCONFIG (unknown names give NULL);
    * ``setxattr(record, name, value)`` performs SETXATTR; without it the call is appended to
      ``actions`` as ``("SETXATTR", record, name, value)``;
    * ``xattr(record, name) -> bytes | str | None`` for XATTR* when the record has no
      ``XATTRS`` entry, and ``xattrs(record) -> {name: bytes}`` (all of them) for GETXATTRS;
    * ``snap_id``: callable or mapping, snapshot name -> id, for SNAP_ID.

    Other side-effect functions (SETBGF, SETWAD, SETWADFG) are appended to ``actions``.
    """

    current_timestamp: float = field(default_factory=time.time)
    getenv: Callable[[str], str | None] | None = None
    mmconfig: Callable[[str], Any] | Mapping[str, Any] | None = None
    setxattr: Callable[[Record, str, str], Any] | None = None
    xattr: Callable[[Record, str], bytes | str | None] | None = None
    xattrs: Callable[[Record], Mapping[str, bytes]] | None = None
    snap_id: Callable[[str], int | None] | Mapping[str, int] | None = None
    actions: list[tuple] = field(default_factory=list)

    def __post_init__(self) -> None:
        ts = self.current_timestamp
        if isinstance(ts, datetime):
            self.current_timestamp = ts.timestamp()
        elif isinstance(ts, str):
            parsed = parse_timestamp(ts)
            if parsed is None:
                raise ValueError(f"not a date/time: {ts!r}")
            self.current_timestamp = parsed
        else:
            self.current_timestamp = float(ts)


# -- public API -------------------------------------------------------------------------------


def evaluate(expr: Expr, record: Record, ctx: EvalContext) -> Any:
    """Value of ``expr`` for one record (None for NULL).

    For many records, call :func:`compile_expression` once and reuse the function: this
    wrapper looks the compiled form up by hashing the whole tree on every call.
    """
    return compile_expression(expr)(record, ctx)


def matches(expr: Expr | None, record: Record, ctx: EvalContext) -> bool:
    """True when ``expr`` is TRUE for the record (NULL counts as false; None expr matches)."""
    if expr is None:
        return True
    return _truth(compile_expression(expr)(record, ctx))


def _truth(value: Any) -> bool:
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    raise PolicyEvalError(f"condition is not boolean: {to_text(value)!r}")


@functools.lru_cache(maxsize=4096)
def compile_expression(expr: Expr) -> Compiled:
    """Compile ``expr`` to a function ``(record, ctx) -> value``.

    Unknown attributes or functions and wrong argument counts raise
    :class:`PolicyEvalError` here, before any record is seen.
    """
    return _compile(expr)


def referenced_attributes(obj: Expr | Rule | None) -> frozenset[str]:
    """Attribute names a record must carry to evaluate ``obj`` (an expression or a rule).

    ``XATTRS`` is included when extended-attribute functions are used.  For a rule this also
    covers the implicit checks of :func:`rule_matches`: ``POOL_NAME`` for FROM POOL,
    ``FILESET_NAME`` for FOR FILESET and ``MODE`` for the regular-file check of management
    rules without DIRECTORIES_PLUS.
    """
    if obj is None:
        return frozenset()
    if isinstance(obj, Rule):
        names: set[str] = set()
        for expr in obj.expressions():
            names |= referenced_attributes(expr)
        if obj.from_pool is not None:
            names.add("POOL_NAME")
        if obj.for_fileset is not None:
            names.add("FILESET_NAME")
        if obj.kind.selects_files and not obj.directories_plus:
            names.add("MODE")
        return frozenset(names)
    return _expr_attributes(obj)


@functools.lru_cache(maxsize=4096)
def _expr_attributes(expr: Expr) -> frozenset[str]:
    names = set()
    for node in iter_subexpressions(expr):
        if isinstance(node, Attribute):
            names.add(node.name)
        elif isinstance(node, Function) and node.name in RECORD_FUNCTIONS:
            names.add(XATTRS_KEY)
    return frozenset(names)


def rule_matches(
    rule: Rule,
    record: Record,
    ctx: EvalContext,
    *,
    threshold_ok: bool = True,
    group_pools: Mapping[str, tuple[str, ...] | list[str]] | None = None,
) -> bool:
    """Whether ``rule`` selects the file ``record``, checking in the product's order.

    WHEN, FROM POOL (a group pool name matches any of its member pools, given by
    ``group_pools``), THRESHOLD (the caller says whether the pool is above the high mark via
    ``threshold_ok``), FOR FILESET, then WHERE.  Management rules without DIRECTORIES_PLUS
    only select regular files (``MODE`` starting with ``-``; records without MODE count as
    regular files).  Rules that do not select files (EXTERNAL, GROUP POOL, ENCRYPTION) never
    match.
    """
    kind = rule.kind
    if kind in (
        RuleKind.EXTERNAL_LIST,
        RuleKind.EXTERNAL_POOL,
        RuleKind.GROUP_POOL,
        RuleKind.ENCRYPTION,
    ):
        return False
    if rule.when is not None and not matches(rule.when, record, ctx):
        return False
    if rule.from_pool is not None:
        members = (group_pools or {}).get(rule.from_pool) or (rule.from_pool,)
        if record.get("POOL_NAME") not in members:
            return False
    if rule.threshold is not None and not threshold_ok:
        return False
    if rule.for_fileset is not None and record.get("FILESET_NAME") not in rule.for_fileset:
        return False
    if kind.selects_files and not rule.directories_plus:
        mode = record.get("MODE")
        if mode and not str(mode).startswith("-"):
            return False
    return matches(rule.where, record, ctx)


def show_expression(rule: Rule) -> Expr | None:
    """The single expression whose VARCHAR value is the rule's SHOW text (None if no SHOW)."""
    if not rule.show:
        return None
    items = [Function("VARCHAR", (item,)) for item in rule.show]
    expr: Expr = items[0]
    for item in items[1:]:
        expr = Binary("||", expr, item)
    return expr


def show_text(rule: Rule, record: Record, ctx: EvalContext) -> str | None:
    """The SHOW items rendered as text and concatenated; NULL anywhere gives None."""
    expr = show_expression(rule)
    if expr is None:
        return None
    return evaluate(expr, record, ctx)


# -- three-valued logic and operators ---------------------------------------------------------


def _bool_operand(value: Any) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    raise PolicyEvalError(f"expected a boolean, got {to_text(value)!r}")


def _comparable(a: Any, b: Any) -> tuple[Any, Any] | None:
    """Bring two non-NULL values to a common comparable form; None means NULL."""
    ta, tb = isinstance(a, SqlTimestamp), isinstance(b, SqlTimestamp)
    if ta or tb:
        other = b if ta else a
        if isinstance(other, SqlInterval):
            raise PolicyEvalError("cannot compare a timestamp with an interval")
        seconds = to_timestamp_seconds(other)
        if seconds is None:
            return None
        mine = a.seconds if ta else b.seconds
        return (mine, seconds) if ta else (seconds, mine)
    ia, ib = isinstance(a, SqlInterval), isinstance(b, SqlInterval)
    if ia or ib:
        x, y = to_number(a), to_number(b)
        if x is None or y is None:
            return None
        return x, y
    sa, sb = isinstance(a, str), isinstance(b, str)
    if sa and sb:
        return a, b
    if sa or sb:
        x, y = to_number(a), to_number(b)
        if x is None or y is None:
            return None
        return x, y
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a, b
    raise PolicyEvalError(f"cannot compare {type(a).__name__} with {type(b).__name__}")


def compare(op: str, a: Any, b: Any) -> bool | None:
    if a is None or b is None:
        return None
    pair = _comparable(a, b)
    if pair is None:
        return None
    x, y = pair
    if op == "=":
        return x == y
    if op == "<>":
        return x != y
    if op == "<":
        return x < y
    if op == ">":
        return x > y
    if op == "<=":
        return x <= y
    return x >= y


def _and3(a: bool | None, b: bool | None) -> bool | None:
    if a is False or b is False:
        return False
    if a is None or b is None:
        return None
    return True


def _or3(a: bool | None, b: bool | None) -> bool | None:
    if a is True or b is True:
        return True
    if a is None or b is None:
        return None
    return False


def _not3(a: bool | None) -> bool | None:
    return None if a is None else not a


def _int_div(a: int, b: int) -> int:
    q = abs(a) // abs(b)
    return q if (a < 0) == (b < 0) else -q


def arithmetic(op: str, a: Any, b: Any) -> Any:
    if a is None or b is None:
        return None
    if op == "||":
        return to_text(a) + to_text(b)
    ta, tb = isinstance(a, SqlTimestamp), isinstance(b, SqlTimestamp)
    ia, ib = isinstance(a, SqlInterval), isinstance(b, SqlInterval)
    if ta or tb or ia or ib:
        return _time_arithmetic(op, a, b, ta, tb, ia, ib)
    x, y = as_number(a), as_number(b)
    if x is None or y is None:
        return None
    if op == "+":
        return x + y
    if op == "-":
        return x - y
    if op == "*":
        return x * y
    if y == 0:
        return None
    if isinstance(x, int) and isinstance(y, int):
        return _int_div(x, y)
    return x / y


def _seconds(value: Any) -> float | None:
    if isinstance(value, (SqlTimestamp, SqlInterval)):
        return value.seconds
    number = to_number(value)
    return None if number is None else number


def _time_arithmetic(op, a, b, ta, tb, ia, ib) -> Any:
    x, y = _seconds(a), _seconds(b)
    if x is None or y is None:
        return None
    if op == "+":
        if ta and tb:
            raise PolicyEvalError("cannot add two timestamps")
        return SqlTimestamp(x + y) if (ta or tb) else SqlInterval(x + y)
    if op == "-":
        if ta and tb:
            return SqlInterval(x - y)
        if tb:
            raise PolicyEvalError("cannot subtract a timestamp from a non-timestamp")
        return SqlTimestamp(x - y) if ta else SqlInterval(x - y)
    if ta or tb:
        raise PolicyEvalError(f"operator {op} does not apply to timestamps")
    if op == "*":
        if ia and ib:
            raise PolicyEvalError("cannot multiply two intervals")
        return SqlInterval(x * y)
    # division
    if ib and not ia:
        raise PolicyEvalError("cannot divide by an interval")
    if y == 0:
        return None
    return x / y if (ia and ib) else SqlInterval(x / y)


# -- compilation ------------------------------------------------------------------------------


def _attribute_reader(name: str) -> Compiled:
    if name not in ATTRIBUTES:
        raise PolicyEvalError(f"unknown attribute {name}")

    def missing() -> PolicyEvalError:
        return PolicyEvalError(f"record has no attribute {name}")

    if name in TIMESTAMP_ATTRIBUTES:

        def read_ts(record: Record, ctx: EvalContext) -> Any:
            try:
                value = record[name]
            except KeyError:
                raise missing() from None
            if value is None:
                return None
            if isinstance(value, datetime):
                return SqlTimestamp(value.timestamp())
            if isinstance(value, SqlTimestamp):
                return value
            value = float(value)
            return None if math.isnan(value) else SqlTimestamp(value)

        return read_ts
    if name in STRING_ATTRIBUTES:

        def read_str(record: Record, ctx: EvalContext) -> Any:
            try:
                value = record[name]
            except KeyError:
                raise missing() from None
            if isinstance(value, bytes):
                return value.decode("utf-8", "surrogateescape")
            return value

        return read_str

    def read(record: Record, ctx: EvalContext) -> Any:
        try:
            return record[name]
        except KeyError:
            raise missing() from None

    return read


def _compile(expr: Expr) -> Compiled:
    if isinstance(expr, Literal):
        value = expr.value
        return lambda r, c: value
    if isinstance(expr, Attribute):
        return _attribute_reader(expr.name)
    if isinstance(expr, (CurrentTimestamp, CurrentTime)):
        return lambda r, c: SqlTimestamp(c.current_timestamp)
    if isinstance(expr, CurrentDate):
        return lambda r, c: SqlTimestamp(local_midnight(c.current_timestamp))
    if isinstance(expr, Unary):
        operand = _compile(expr.operand)
        if expr.op == "NOT":
            return lambda r, c: _not3(_bool_operand(operand(r, c)))
        return lambda r, c: _negate(operand(r, c))
    if isinstance(expr, Binary):
        return _compile_binary(expr)
    if isinstance(expr, Like):
        return _compile_like(expr)
    if isinstance(expr, In):
        operand = _compile(expr.operand)
        items = [_compile(i) for i in expr.items]
        negated = expr.negated

        def in_(r: Record, c: EvalContext) -> bool | None:
            x = operand(r, c)
            result: bool | None = False
            for item in items:
                result = _or3(result, compare("=", x, item(r, c)))
                if result is True:
                    break
            return _not3(result) if negated else result

        return in_
    if isinstance(expr, Between):
        operand = _compile(expr.operand)
        low, high = _compile(expr.low), _compile(expr.high)
        negated = expr.negated

        def between(r: Record, c: EvalContext) -> bool | None:
            x = operand(r, c)
            result = _and3(compare(">=", x, low(r, c)), compare("<=", x, high(r, c)))
            return _not3(result) if negated else result

        return between
    if isinstance(expr, IsNull):
        operand = _compile(expr.operand)
        if expr.negated:
            return lambda r, c: operand(r, c) is not None
        return lambda r, c: operand(r, c) is None
    if isinstance(expr, Case):
        return _compile_case(expr)
    if isinstance(expr, Interval):
        value_fn = _compile(expr.value)
        unit = INTERVAL_UNITS[expr.unit]

        def interval(r: Record, c: EvalContext) -> SqlInterval | None:
            number = as_number(value_fn(r, c))
            return None if number is None else SqlInterval(number * unit)

        return interval
    if isinstance(expr, Function):
        return _compile_function(expr)
    raise PolicyEvalError(f"not an expression: {expr!r}")


def _negate(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, SqlInterval):
        return SqlInterval(-value.seconds)
    number = as_number(value)
    return None if number is None else -number


def _compile_binary(expr: Binary) -> Compiled:
    left, right, op = _compile(expr.left), _compile(expr.right), expr.op
    if op == "AND":

        def and_(r: Record, c: EvalContext) -> bool | None:
            a = _bool_operand(left(r, c))
            if a is False:
                return False
            return _and3(a, _bool_operand(right(r, c)))

        return and_
    if op == "OR":

        def or_(r: Record, c: EvalContext) -> bool | None:
            a = _bool_operand(left(r, c))
            if a is True:
                return True
            return _or3(a, _bool_operand(right(r, c)))

        return or_
    if op in COMPARISON_OPS:
        return lambda r, c: compare(op, left(r, c), right(r, c))
    return lambda r, c: arithmetic(op, left(r, c), right(r, c))


def like(value: Any, pattern: Any, escape: Any) -> bool | None:
    if value is None or pattern is None:
        return None
    if escape is not None:
        escape = to_text(escape)
    return like_regex(to_text(pattern), escape).fullmatch(to_text(value)) is not None


def _compile_like(expr: Like) -> Compiled:
    operand, pattern = _compile(expr.operand), _compile(expr.pattern)
    escape = _compile(expr.escape) if expr.escape is not None else None
    negated = expr.negated

    def like_(r: Record, c: EvalContext) -> bool | None:
        esc = None
        if escape is not None:
            esc = escape(r, c)
            if esc is None:
                return None
        result = like(operand(r, c), pattern(r, c), esc)
        return _not3(result) if negated else result

    return like_


def _compile_case(expr: Case) -> Compiled:
    whens = [(_compile(w), _compile(t)) for w, t in expr.whens]
    else_ = _compile(expr.else_) if expr.else_ is not None else None
    if expr.operand is not None:
        operand = _compile(expr.operand)

        def simple_case(r: Record, c: EvalContext) -> Any:
            x = operand(r, c)
            for when, then in whens:
                if compare("=", x, when(r, c)) is True:
                    return then(r, c)
            return else_(r, c) if else_ is not None else None

        return simple_case

    def searched_case(r: Record, c: EvalContext) -> Any:
        for when, then in whens:
            if _bool_operand(when(r, c)) is True:
                return then(r, c)
        return else_(r, c) if else_ is not None else None

    return searched_case


def _compile_function(expr: Function) -> Compiled:
    name = expr.name
    if name not in FUNCTIONS:
        raise PolicyEvalError(f"unknown function {name}")
    if not arity_ok(name, len(expr.args)):
        raise PolicyEvalError(f"wrong number of arguments for {name}: {len(expr.args)}")
    args = [_compile(a) for a in expr.args]
    if name in RECORD_FUNCTIONS:
        return lambda r, c: record_function(name, [a(r, c) for a in args], r, c)
    if name in CONTEXT_FUNCTIONS:

        def context_fn(r: Record, c: EvalContext) -> Any:
            values = [a(r, c) for a in args]
            return None if values[0] is None else context_function(name, values, c)

        return context_fn
    impl = STRICT_FUNCTIONS[name]
    if len(args) == 1:
        (arg,) = args

        def call1(r: Record, c: EvalContext) -> Any:
            value = arg(r, c)
            return None if value is None else impl(value)

        return call1

    def call(r: Record, c: EvalContext) -> Any:
        values = [a(r, c) for a in args]
        if any(v is None for v in values):
            return None
        return impl(*values)

    return call
