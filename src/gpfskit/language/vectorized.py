"""Column-at-a-time evaluation over Arrow record batches.

Results agree with the reference evaluator in :mod:`.evaluate` (the differential tests check
this).  Each expression node is computed with NumPy / Arrow kernels when its inputs allow it;
when they do not (an unusual type mix, a function without a kernel such as XATTR, a binary
column holding invalid UTF-8, or a type error that the reference might or might not hit
depending on the data) that node alone is computed row by row with the reference evaluator and
the result is turned back into a column.  Expressions with side effects (SETXATTR...) are
always evaluated row by row, once per row.

Batches use the record data model with upper-case column names: timestamps as float64 seconds
(Arrow timestamp columns are accepted too), integers, strings as ``string``/``large_string``;
``binary`` columns (paths with arbitrary bytes) are treated as UTF-8 with surrogateescape, like
the reference does with ``bytes`` values.

Known limits of the fast path (outside them results may differ from the reference): integer
arithmetic wraps at 64 bits, and integers beyond 2**53 compared with floats are rounded.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .ast import (
    COMPARISON_OPS,
    INTERVAL_UNITS,
    Attribute,
    Between,
    Binary,
    Case,
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
from .catalog import SIDE_EFFECT_FUNCTIONS, TIMESTAMP_ATTRIBUTES, XATTRS_KEY
from .errors import PolicyEvalError
from .evaluate import (
    EvalContext,
    compile_expression,
    matches,
    referenced_attributes,
    show_expression,
)
from .timeutil import EPOCH_ORDINAL, OffsetTable, civil_parts, offset_table
from .values import (
    SqlInterval,
    SqlTimestamp,
    like_to_arrow,
    parse_number,
    posix_regex_re2,
    to_text,
    to_timestamp_seconds,
)

__all__ = ["batch_to_records", "evaluate_column", "evaluate_mask", "rule_mask", "show_column"]

Batch = pa.RecordBatch | pa.Table


class _Fallback(Exception):
    """The vectorised path cannot compute this node; use the reference row by row."""


class _Vec:
    """A column value.

    ``kind`` is one of ``bool``, ``int``, ``float``, ``ts`` (epoch seconds), ``ivl``
    (seconds), ``str`` or ``null``.  For ``str`` ``data`` is an Arrow array carrying its own
    nulls; otherwise ``data`` is a NumPy array and ``valid`` a boolean mask (None = no NULLs).
    """

    __slots__ = ("data", "kind", "valid")

    def __init__(self, kind: str, data: Any, valid: np.ndarray | None = None) -> None:
        self.kind = kind
        self.data = data
        self.valid = valid


class _Const:
    """A value that is the same for every row (a reference-evaluator value)."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


Value = _Vec | _Const

_NUMERIC = ("int", "float", "bool")


# -- public API -------------------------------------------------------------------------------


def evaluate_mask(expr: Expr | None, batch: Batch, ctx: EvalContext) -> np.ndarray:
    """Boolean NumPy array: True where ``expr`` is TRUE (NULL counts as false)."""
    if isinstance(batch, pa.Table):
        parts = [evaluate_mask(expr, b, ctx) for b in batch.to_batches()]
        return np.concatenate(parts) if parts else np.zeros(0, dtype=bool)
    n = batch.num_rows
    if expr is None:
        return np.ones(n, dtype=bool)
    if n == 0:
        return np.zeros(0, dtype=bool)
    env = _Env(batch, ctx)
    if not _has_side_effects(expr):
        try:
            return _to_mask(_eval(expr, env), n)
        except (_Fallback, PolicyEvalError):
            pass
    records = env.records(referenced_attributes(expr))
    return np.fromiter((matches(expr, r, ctx) for r in records), dtype=bool, count=n)


def evaluate_column(expr: Expr, batch: Batch, ctx: EvalContext) -> pa.Array:
    """Arrow array with the value of ``expr`` per row (for WEIGHT, SHOW, SIZE...).

    Types: integers -> int64, floats -> float64, timestamps and intervals -> float64 seconds,
    strings -> string/large_string, booleans -> bool; results mixing types become strings.
    Text that came from non-UTF-8 bytes (surrogateescape) is returned as ``large_binary``.
    """
    if isinstance(batch, pa.Table):
        chunks = [evaluate_column(expr, b, ctx) for b in batch.to_batches()]
        if not chunks:
            return pa.array([], pa.null())
        types = {c.type for c in chunks if c.type != pa.null()}
        if len(types) > 1:
            chunks = [c.cast(pa.large_string()) for c in chunks]
        elif types:
            (common,) = types
            chunks = [c.cast(common) for c in chunks]
        return pa.concat_arrays(chunks)
    n = batch.num_rows
    env = _Env(batch, ctx)
    if n and not _has_side_effects(expr):
        try:
            return _to_arrow(_eval(expr, env), n)
        except (_Fallback, PolicyEvalError):
            pass
    fn = compile_expression(expr)
    values = [fn(r, ctx) for r in env.records(referenced_attributes(expr))]
    try:
        return _to_arrow(_from_python(values), n)
    except _Fallback:
        pass
    texts = [to_text(v) for v in values]
    try:
        return pa.array(texts, pa.large_string())
    except (UnicodeEncodeError, pa.ArrowException):
        # Text decoded from non-UTF-8 bytes: hand the original bytes back.
        raw = [None if t is None else t.encode("utf-8", "surrogateescape") for t in texts]
        return pa.array(raw, pa.large_binary())


def rule_mask(
    rule: Rule,
    batch: Batch,
    ctx: EvalContext,
    *,
    threshold_ok: bool = True,
    group_pools: Mapping[str, tuple[str, ...] | list[str]] | None = None,
) -> np.ndarray:
    """Vectorised :func:`.evaluate.rule_matches` over a batch."""
    n = batch.num_rows
    kind = rule.kind
    if not (kind.selects_files or kind.is_placement) or kind is RuleKind.ENCRYPTION:
        return np.zeros(n, dtype=bool)
    if rule.threshold is not None and not threshold_ok:
        return np.zeros(n, dtype=bool)
    mask = np.ones(n, dtype=bool)
    if rule.when is not None:
        mask &= evaluate_mask(rule.when, batch, ctx)
    if rule.from_pool is not None:
        members = (group_pools or {}).get(rule.from_pool) or (rule.from_pool,)
        pools = In(Attribute("POOL_NAME"), tuple(Literal(p) for p in members))
        mask &= evaluate_mask(pools, batch, ctx)
    if rule.for_fileset is not None:
        filesets = In(Attribute("FILESET_NAME"), tuple(Literal(f) for f in rule.for_fileset))
        mask &= evaluate_mask(filesets, batch, ctx)
    if kind.selects_files and not rule.directories_plus and "MODE" in batch.schema.names:
        mode = Attribute("MODE")
        special = Binary(
            "AND",
            Binary("<>", mode, Literal("")),
            Like(mode, Literal("-%"), negated=True),
        )
        mask &= ~evaluate_mask(special, batch, ctx)
    if rule.where is not None:
        mask &= evaluate_mask(rule.where, batch, ctx)
    return mask


def show_column(rule: Rule, batch: Batch, ctx: EvalContext) -> pa.Array:
    """Vectorised :func:`.evaluate.show_text`: the SHOW text per row (null where NULL)."""
    expr = show_expression(rule)
    if expr is None:
        return pa.nulls(batch.num_rows, pa.large_string())
    return evaluate_column(expr, batch, ctx)


def batch_to_records(batch: Batch, names: Any = None) -> list[dict[str, Any]]:
    """Rows of a batch as reference-evaluator records (the conversion both evaluators share).

    Timestamp-typed columns become float seconds; ``XATTRS`` map columns become dicts; binary
    values stay bytes (the reference decodes them).
    """
    if isinstance(batch, pa.Table):
        return [r for b in batch.to_batches() for r in batch_to_records(b, names)]
    env = _Env(batch, EvalContext(0.0))
    return env.records(batch.schema.names if names is None else names)


# -- environment ------------------------------------------------------------------------------


class _Env:
    def __init__(self, batch: pa.RecordBatch, ctx: EvalContext) -> None:
        self.batch = batch
        self.ctx = ctx
        self.n = batch.num_rows
        self.names = set(batch.schema.names)
        self._columns: dict[str, _Vec | None] = {}
        self._pylists: dict[str, list] = {}
        self._constants: dict[Expr, _Const] = {}

    def constant(self, node: Expr) -> _Const:
        const = self._constants.get(node)
        if const is None:
            const = self._constants[node] = _Const(compile_expression(node)({}, self.ctx))
        return const

    def column(self, name: str) -> _Vec:
        if name not in self._columns:
            self._columns[name] = (
                _convert_column(name, self.batch.column(name)) if name in self.names else None
            )
        vec = self._columns[name]
        if vec is None:
            raise _Fallback
        return vec

    def pylist(self, name: str) -> list:
        values = self._pylists.get(name)
        if values is None:
            array = self.batch.column(name)
            if pa.types.is_dictionary(array.type):
                array = array.dictionary_decode()
            if pa.types.is_timestamp(array.type):
                values = _timestamp_seconds(array).tolist()
                values = [None if v is None or math.isnan(v) else v for v in values]
            else:
                values = array.to_pylist()
            if name == XATTRS_KEY and pa.types.is_map(array.type):
                values = [None if v is None else dict(v) for v in values]
            self._pylists[name] = values
        return values

    def records(self, names) -> list[dict[str, Any]]:
        names = set(names)
        wanted = [name for name in names if name in self.names]
        if XATTRS_KEY in names:
            # Without an XATTRS column, EvalContext.xattr reads the attributes by path.
            wanted += [k for k in ("INODE", "PATH_NAME") if k in self.names and k not in wanted]
        columns = [self.pylist(name) for name in wanted]
        if not columns:
            return [{} for _ in range(self.n)]
        return [dict(zip(wanted, row)) for row in zip(*columns)]


def _timestamp_seconds(array: pa.Array) -> np.ndarray:
    unit = array.type.unit
    scale = {"s": 1, "ms": 1e3, "us": 1e6, "ns": 1e9}[unit]
    ints = array.cast(pa.int64())
    values = pc.fill_null(ints, 0).to_numpy().astype(np.float64) / scale
    if ints.null_count:
        values[~ints.is_valid().to_numpy(zero_copy_only=False)] = np.nan
    return values


def _validity(array: pa.Array) -> np.ndarray | None:
    if array.null_count == 0:
        return None
    return array.is_valid().to_numpy(zero_copy_only=False)


def _numpy(array: pa.Array, dtype) -> np.ndarray:
    if array.null_count:
        array = pc.fill_null(array, pa.scalar(0, array.type) if dtype != np.bool_ else False)
    return array.to_numpy(zero_copy_only=False).astype(dtype, copy=False)


def _convert_column(name: str, array: pa.Array) -> _Vec | None:
    """Column -> _Vec, or None when only the row-wise path can read it."""
    t = array.type
    if pa.types.is_dictionary(t):
        return _convert_column(name, array.dictionary_decode())
    if name in TIMESTAMP_ATTRIBUTES:
        if pa.types.is_timestamp(t):
            data = _timestamp_seconds(array)
        elif pa.types.is_integer(t) or pa.types.is_floating(t):
            data = _numpy(array, np.float64)
            valid = _validity(array)
            if valid is not None:
                data = data.copy()
                data[~valid] = np.nan
        elif pa.types.is_null(t):
            return _Vec("null", None)
        else:
            return None
        nan = np.isnan(data)
        return _Vec("ts", data, ~nan if nan.any() else None)
    if pa.types.is_integer(t):
        too_big = (
            pa.types.is_uint64(t)
            and array.null_count < len(array)
            and pc.max(array).as_py() > np.iinfo(np.int64).max
        )
        if too_big:
            return None
        return _Vec("int", _numpy(array, np.int64), _validity(array))
    if pa.types.is_floating(t):
        return _Vec("float", _numpy(array, np.float64), _validity(array))
    if pa.types.is_boolean(t):
        return _Vec("bool", _numpy(array, np.bool_), _validity(array))
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return _Vec("str", array)
    if pa.types.is_binary(t) or pa.types.is_large_binary(t):
        target = pa.large_string() if pa.types.is_large_binary(t) else pa.string()
        try:
            return _Vec("str", array.cast(target))
        except pa.ArrowInvalid:
            return None
    if pa.types.is_null(t):
        return _Vec("null", None)
    return None


# -- evaluation core --------------------------------------------------------------------------


@functools.lru_cache(maxsize=4096)
def _is_constant(node: Expr) -> bool:
    return not referenced_attributes(node)


@functools.lru_cache(maxsize=4096)
def _has_side_effects(expr: Expr) -> bool:
    return any(
        isinstance(node, Function) and node.name in SIDE_EFFECT_FUNCTIONS
        for node in iter_subexpressions(expr)
    )


def _eval(node: Expr, env: _Env) -> Value:
    if _is_constant(node):
        return env.constant(node)
    try:
        return _VECTOR[type(node)](node, env)
    except (_Fallback, PolicyEvalError, OverflowError, pa.ArrowException):
        return _rowwise(node, env)


def _rowwise(node: Expr, env: _Env) -> Value:
    fn = compile_expression(node)
    ctx = env.ctx
    values = [fn(r, ctx) for r in env.records(referenced_attributes(node))]
    return _from_python(values)


def _classify(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "str"
    if isinstance(value, SqlTimestamp):
        return "ts"
    if isinstance(value, SqlInterval):
        return "ivl"
    raise _Fallback


def _from_python(values: list) -> _Vec:
    kinds = {_classify(v) for v in values if v is not None}
    if not kinds:
        return _Vec("null", None)
    if len(kinds) > 1:
        raise _Fallback
    (kind,) = kinds
    valid = np.fromiter((v is not None for v in values), dtype=bool, count=len(values))
    all_valid = bool(valid.all())
    if kind == "str":
        try:
            return _Vec("str", pa.array(values, pa.large_string()))
        except (pa.ArrowException, UnicodeEncodeError):
            raise _Fallback from None
    if kind in ("ts", "ivl"):
        data = np.array([0.0 if v is None else v.seconds for v in values], dtype=np.float64)
    elif kind == "int":
        try:
            data = np.array([0 if v is None else v for v in values], dtype=np.int64)
        except OverflowError:
            raise _Fallback from None
    elif kind == "float":
        data = np.array([0.0 if v is None else v for v in values], dtype=np.float64)
    else:
        data = np.array([v is True for v in values], dtype=bool)
    return _Vec(kind, data, None if all_valid else valid)


def _to_mask(value: Value, n: int) -> np.ndarray:
    if isinstance(value, _Const):
        v = value.value
        if v is None or isinstance(v, bool):
            return np.full(n, v is True)
        raise _Fallback
    if value.kind == "null":
        return np.zeros(n, dtype=bool)
    if value.kind != "bool":
        raise _Fallback
    return value.data if value.valid is None else value.data & value.valid


def _to_arrow(value: Value, n: int) -> pa.Array:
    if isinstance(value, _Const):
        v = value.value
        if isinstance(v, (SqlTimestamp, SqlInterval)):
            v = v.seconds
        if v is None:
            return pa.nulls(n)
        return pa.array([v] * n)
    if value.kind == "null":
        return pa.nulls(n)
    if value.kind == "str":
        return value.data
    mask = None if value.valid is None else ~value.valid
    return pa.array(value.data, mask=mask)


# -- helpers for booleans and numbers ---------------------------------------------------------


def _bool_parts(value: Value, n: int) -> tuple[np.ndarray, np.ndarray]:
    """(definitely TRUE, definitely FALSE) masks of a boolean value."""
    if isinstance(value, _Const):
        v = value.value
        if v is None:
            return np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
        if isinstance(v, bool):
            return np.full(n, v), np.full(n, not v)
        raise _Fallback
    if value.kind == "null":
        return np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
    if value.kind != "bool":
        raise _Fallback
    if value.valid is None:
        return value.data, ~value.data
    return value.data & value.valid, ~value.data & value.valid


def _from_parts(true: np.ndarray, false: np.ndarray) -> _Vec:
    known = true | false
    return _Vec("bool", true, None if known.all() else known)


def _both_valid(a: np.ndarray | None, b: np.ndarray | None) -> np.ndarray | None:
    if a is None:
        return b
    if b is None:
        return a
    return a & b


def _null_bool(n: int) -> _Vec:
    return _Vec("bool", np.zeros(n, dtype=bool), np.zeros(n, dtype=bool))


def _arrow_bool(array: pa.Array) -> _Vec:
    return _Vec("bool", _numpy(array, np.bool_), _validity(array))


def _text_arrow(value: Value, n: int) -> pa.Array | pa.Scalar | None:
    """Text form for ``||``/LIKE: an Arrow string array or scalar; None for a NULL constant."""
    if isinstance(value, _Const):
        text = to_text(value.value)
        return None if text is None else pa.scalar(text, pa.large_string())
    if value.kind == "str":
        return value.data
    if value.kind == "int":
        return pa.array(value.data, mask=None if value.valid is None else ~value.valid).cast(
            pa.large_string()
        )
    raise _Fallback


def _common_string(*arrays):
    large = any(
        pa.types.is_large_string(a.type) for a in arrays if isinstance(a, (pa.Array, pa.Scalar))
    )
    target = pa.large_string() if large else pa.string()
    return [a.cast(target) if a.type != target else a for a in arrays]


_NP_COMPARE: dict[str, Callable[[Any, Any], Any]] = {
    "=": np.equal,
    "<>": np.not_equal,
    "<": np.less,
    ">": np.greater,
    "<=": np.less_equal,
    ">=": np.greater_equal,
}
_PC_COMPARE = {
    "=": pc.equal,
    "<>": pc.not_equal,
    "<": pc.less,
    ">": pc.greater,
    "<=": pc.less_equal,
    ">=": pc.greater_equal,
}


def _numeric_operand(value: Value, time_kind: str | None) -> tuple[Any, np.ndarray | None]:
    """(data, valid) of a value used as a number (``time_kind`` = 'ts'/'ivl' context).

    Raises _Fallback for combinations the reference treats specially; returns (None, None)
    for a NULL constant.
    """
    if isinstance(value, _Const):
        v = value.value
        if v is None:
            return None, None
        if time_kind == "ts":
            if isinstance(v, SqlInterval):
                raise _Fallback
            seconds = to_timestamp_seconds(v)
            return seconds, None
        if isinstance(v, (SqlTimestamp, SqlInterval)):
            if time_kind == "ivl" and isinstance(v, SqlInterval):
                return v.seconds, None
            raise _Fallback
        if isinstance(v, str):
            return parse_number(v), None
        return v, None
    kind = value.kind
    if kind == time_kind:
        return value.data, value.valid
    if time_kind == "ts":
        # Numbers used as timestamps: booleans are rejected and non-finite values are NULL.
        if kind == "int":
            return value.data, value.valid
        if kind == "float":
            finite = np.isfinite(value.data)
            return value.data, value.valid if finite.all() else _both_valid(value.valid, finite)
        raise _Fallback
    if kind in _NUMERIC:
        return value.data, value.valid
    raise _Fallback


def _compare(op: str, a: Value, b: Value, n: int) -> Value:
    if isinstance(a, _Const) and isinstance(b, _Const):
        from .evaluate import compare

        return _Const(compare(op, a.value, b.value))
    for side in (a, b):
        if isinstance(side, _Const) and side.value is None:
            return _null_bool(n)
        if isinstance(side, _Vec) and side.kind == "null":
            return _null_bool(n)
    kinds = {x.kind if isinstance(x, _Vec) else _classify(x.value) for x in (a, b)}
    if "str" in kinds and kinds <= {"str"}:
        x = a.data if isinstance(a, _Vec) else pa.scalar(a.value, pa.large_string())
        y = b.data if isinstance(b, _Vec) else pa.scalar(b.value, pa.large_string())
        x, y = _common_string(x, y)
        return _arrow_bool(_PC_COMPARE[op](x, y))
    if "str" in kinds and any(isinstance(x, _Vec) and x.kind == "str" for x in (a, b)):
        raise _Fallback  # string column against a non-string: per-row conversion
    time_kind = "ts" if "ts" in kinds else ("ivl" if "ivl" in kinds else None)
    if time_kind == "ts" and "ivl" in kinds:
        raise _Fallback
    x, vx = _numeric_operand(a, time_kind)
    y, vy = _numeric_operand(b, time_kind)
    if x is None or y is None:
        return _null_bool(n)
    with np.errstate(invalid="ignore"):
        result = _NP_COMPARE[op](x, y)
    if np.ndim(result) == 0:
        result = np.full(n, bool(result))
    return _Vec("bool", result, _both_valid(vx, vy))


# -- node handlers ----------------------------------------------------------------------------


def _attribute(node: Attribute, env: _Env) -> Value:
    return env.column(node.name)


def _unary(node: Unary, env: _Env) -> Value:
    value = _eval(node.operand, env)
    if node.op == "NOT":
        true, false = _bool_parts(value, env.n)
        if isinstance(value, _Vec) and value.kind == "bool" and value.valid is None:
            return _Vec("bool", ~value.data, None)
        return _from_parts(false, true)
    if isinstance(value, _Const):
        raise _Fallback
    if value.kind in ("int", "float", "ivl"):
        return _Vec(value.kind, -value.data, value.valid)
    if value.kind == "bool":
        return _Vec("int", -value.data.astype(np.int64), value.valid)
    if value.kind == "null":
        return value
    raise _Fallback


def _binary(node: Binary, env: _Env) -> Value:
    op, n = node.op, env.n
    left = _eval(node.left, env)
    right = _eval(node.right, env)
    if op in ("AND", "OR"):
        if (
            isinstance(left, _Vec)
            and isinstance(right, _Vec)
            and left.kind == right.kind == "bool"
            and left.valid is None
            and right.valid is None
        ):
            data = left.data & right.data if op == "AND" else left.data | right.data
            return _Vec("bool", data, None)
        lt, lf = _bool_parts(left, n)
        rt, rf = _bool_parts(right, n)
        if op == "AND":
            return _from_parts(lt & rt, lf | rf)
        return _from_parts(lt | rt, lf & rf)
    if op in COMPARISON_OPS:
        return _compare(op, left, right, n)
    if op == "||":
        return _concat([left, right], n)
    return _arithmetic(op, left, right, n)


def _concat(values: list[Value], n: int) -> Value:
    texts = [_text_arrow(v, n) for v in values]
    if any(t is None for t in texts):
        return _Vec("str", pa.nulls(n, pa.large_string()))
    texts = _common_string(*texts)
    result = pc.binary_join_element_wise(*texts, pa.scalar("", texts[0].type))
    if isinstance(result, pa.Scalar):
        raise _Fallback  # pragma: no cover - all constants are folded earlier
    return _Vec("str", result)


def _kind_of(value: Value) -> str:
    if isinstance(value, _Const):
        return "null" if value.value is None else _classify(value.value)
    return value.kind


def _arithmetic(op: str, a: Value, b: Value, n: int) -> Value:
    ka, kb = _kind_of(a), _kind_of(b)
    if "null" in (ka, kb):
        raise _Fallback  # result type depends on the operand; rare
    if any(isinstance(v, _Vec) and v.kind == "str" for v in (a, b)):
        raise _Fallback  # per-row text to number conversion
    if {ka, kb} & {"ts", "ivl"}:
        return _time_arithmetic(op, a, b, ka, kb, n)
    if "str" in (ka, kb):
        const = a if isinstance(a, _Const) else b
        number = parse_number(const.value)
        if number is None:
            raise _Fallback
        const = _Const(number)
        a, b = (const, b) if isinstance(a, _Const) else (a, const)
        ka, kb = _kind_of(a), _kind_of(b)
    x, vx = _numeric_operand(a, None)
    y, vy = _numeric_operand(b, None)
    valid = _both_valid(vx, vy)
    is_int = ka in ("int", "bool") and kb in ("int", "bool")
    if is_int:
        x = np.asarray(x, dtype=np.int64) if not isinstance(x, int) else x
        y = np.asarray(y, dtype=np.int64) if not isinstance(y, int) else y
    if op == "+":
        data = np.add(x, y)
    elif op == "-":
        data = np.subtract(x, y)
    elif op == "*":
        data = np.multiply(x, y)
    else:
        zero = np.equal(y, 0)
        if np.ndim(zero) == 0:
            if zero:
                return _Vec("int" if is_int else "float", np.zeros(n), np.zeros(n, dtype=bool))
            divisor = y
        else:
            divisor = np.where(zero, 1, y)
            valid = _both_valid(valid, ~zero)
        if is_int:
            quotient = np.abs(x) // np.abs(divisor)
            negative = np.not_equal(np.less(x, 0), np.less(divisor, 0))
            data = np.where(negative, -quotient, quotient)
        else:
            with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                data = np.true_divide(x, divisor)
    data = np.asarray(data)
    if data.ndim == 0:
        data = np.full(n, data)
    if is_int:
        return _Vec("int", data.astype(np.int64, copy=False), valid)
    return _Vec("float", data.astype(np.float64, copy=False), valid)


def _time_arithmetic(op: str, a: Value, b: Value, ka: str, kb: str, n: int) -> Value:
    ta, tb = ka == "ts", kb == "ts"
    ia, ib = ka == "ivl", kb == "ivl"
    if "str" in (ka, kb) or "bool" in (ka, kb):
        raise _Fallback
    x, vx = _numeric_operand(a, ka if ka in ("ts", "ivl") else None)
    y, vy = _numeric_operand(b, kb if kb in ("ts", "ivl") else None)
    valid = _both_valid(vx, vy)
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        if op == "+":
            if ta and tb:
                raise _Fallback
            kind = "ts" if (ta or tb) else "ivl"
            data = np.add(x, y, dtype=np.float64)
        elif op == "-":
            if tb and not ta:
                raise _Fallback
            kind = "ivl" if (ta and tb) else ("ts" if ta else "ivl")
            data = np.subtract(x, y, dtype=np.float64)
        elif op == "*":
            if ta or tb or (ia and ib):
                raise _Fallback
            kind = "ivl"
            data = np.multiply(x, y, dtype=np.float64)
        else:
            if ta or tb or (ib and not ia):
                raise _Fallback
            kind = "float" if (ia and ib) else "ivl"
            zero = np.equal(y, 0)
            divisor = np.where(zero, 1, y)
            if np.ndim(zero):
                valid = _both_valid(valid, ~zero)
            elif zero:
                valid = np.zeros(n, dtype=bool)
            data = np.true_divide(x, divisor, dtype=np.float64)
    data = np.asarray(data, dtype=np.float64)
    if data.ndim == 0:
        data = np.full(n, float(data))
    return _Vec(kind, data, valid)


def _like(node: Like, env: _Env) -> Value:
    if not (_is_constant(node.pattern) and (node.escape is None or _is_constant(node.escape))):
        raise _Fallback
    n = env.n
    pattern = env.constant(node.pattern).value
    escape = env.constant(node.escape).value if node.escape is not None else None
    if node.escape is not None and escape is None:
        return _null_bool(n)
    # The operand is evaluated even when the pattern is NULL, as the reference does (it may
    # raise an error there).
    operand = _text_arrow(_eval(node.operand, env), n)
    if operand is None or pattern is None:
        return _null_bool(n)
    arrow_pattern = like_to_arrow(to_text(pattern), None if escape is None else to_text(escape))
    result = _arrow_bool(pc.match_like(operand, arrow_pattern))
    if node.negated:
        true, false = _bool_parts(result, n)
        return _from_parts(false, true)
    return result


def _in(node: In, env: _Env) -> Value:
    n = env.n
    operand = _eval(node.operand, env)
    items = [_eval(item, env) for item in node.items]
    result: Value | None = None
    if isinstance(operand, _Vec) and all(isinstance(i, _Const) for i in items):
        result = _in_fast(operand, [i.value for i in items], n)
    if result is None:
        true = np.zeros(n, dtype=bool)
        false = np.ones(n, dtype=bool)
        for item in items:
            t, f = _bool_parts(_compare("=", operand, item, n), n)
            true |= t
            false &= f
        result = _from_parts(true, false)
    if node.negated:
        true, false = _bool_parts(result, n)
        return _from_parts(false, true)
    return result


def _in_fast(operand: _Vec, values: list, n: int) -> _Vec | None:
    """``IN`` of a column against constants via a hash lookup, when types line up exactly."""
    has_null = any(v is None for v in values)
    values = [v for v in values if v is not None]
    if not values:
        return None
    if operand.kind == "str" and all(isinstance(v, str) for v in values):
        found = pc.is_in(operand.data, value_set=pa.array(values, operand.data.type))
        matched = _numpy(found, np.bool_)
        valid = _validity(operand.data)
    elif operand.kind == "int" and all(type(v) is int for v in values):
        if any(not -(2**63) <= v < 2**63 for v in values):
            return None
        matched = np.isin(operand.data, np.array(values, dtype=np.int64))
        valid = operand.valid
    else:
        return None
    true = matched if valid is None else matched & valid
    false = np.zeros(n, dtype=bool) if has_null else ~matched
    if valid is not None:
        false &= valid
    return _from_parts(true, false)


def _between(node: Between, env: _Env) -> Value:
    n = env.n
    operand = _eval(node.operand, env)
    low = _compare(">=", operand, _eval(node.low, env), n)
    high = _compare("<=", operand, _eval(node.high, env), n)
    lt, lf = _bool_parts(low, n)
    ht, hf = _bool_parts(high, n)
    if node.negated:
        return _from_parts(lf | hf, lt & ht)
    return _from_parts(lt & ht, lf | hf)


def _is_null(node: IsNull, env: _Env) -> Value:
    value = _eval(node.operand, env)
    n = env.n
    if isinstance(value, _Const):
        return _Const((value.value is None) != node.negated)
    if value.kind == "null":
        return _Vec("bool", np.full(n, not node.negated), None)
    if value.kind == "str":
        nulls = _numpy(value.data.is_null(), np.bool_)
    else:
        nulls = np.zeros(n, dtype=bool) if value.valid is None else ~value.valid
    return _Vec("bool", ~nulls if node.negated else nulls, None)


def _case(node: Case, env: _Env) -> Value:
    n = env.n
    operand = _eval(node.operand, env) if node.operand is not None else None
    branches = []
    for when, then in node.whens:
        cond = _eval(when, env)
        if operand is not None:
            cond = _compare("=", operand, cond, n)
        branches.append((_bool_parts(cond, n)[0], _eval(then, env)))
    default = _eval(node.else_, env) if node.else_ is not None else _Const(None)
    results = [r for _, r in branches] + [default]
    kinds = {_kind_of(r) for r in results} - {"null"}
    if len(kinds) > 1:
        raise _Fallback
    if not kinds:
        return _Vec("null", None)
    (kind,) = kinds
    if kind == "str":
        out = _as_string_array(default, n)
        for taken, then in reversed(branches):
            value = _as_string_array(then, n)
            value, out = _common_string(value, out)
            out = pc.if_else(pa.array(taken), value, out)
        return _Vec("str", out)
    data, valid = _as_numpy(default, kind, n)
    for taken, then in reversed(branches):
        tdata, tvalid = _as_numpy(then, kind, n)
        data = np.where(taken, tdata, data)
        valid = np.where(taken, tvalid, valid)
    return _Vec(kind, data, None if valid.all() else valid)


def _as_string_array(value: Value, n: int) -> pa.Array:
    if isinstance(value, _Const):
        return pa.array([value.value] * n, pa.large_string())
    if value.kind == "null":
        return pa.nulls(n, pa.large_string())
    return value.data


_DTYPES = {"bool": np.bool_, "int": np.int64, "float": np.float64, "ts": np.float64}
_DTYPES["ivl"] = np.float64


def _as_numpy(value: Value, kind: str, n: int) -> tuple[np.ndarray, np.ndarray]:
    dtype = _DTYPES[kind]
    if isinstance(value, _Const):
        v = value.value
        if v is None:
            return np.zeros(n, dtype=dtype), np.zeros(n, dtype=bool)
        if isinstance(v, (SqlTimestamp, SqlInterval)):
            v = v.seconds
        return np.full(n, v, dtype=dtype), np.ones(n, dtype=bool)
    if value.kind == "null":
        return np.zeros(n, dtype=dtype), np.zeros(n, dtype=bool)
    valid = np.ones(n, dtype=bool) if value.valid is None else value.valid
    return value.data, valid


def _interval(node: Interval, env: _Env) -> Value:
    value = _eval(node.value, env)
    if isinstance(value, _Const) or value.kind not in ("int", "float"):
        raise _Fallback
    unit = INTERVAL_UNITS[node.unit]
    return _Vec("ivl", value.data.astype(np.float64) * unit, value.valid)


# -- functions --------------------------------------------------------------------------------


def _time_seconds(value: Value) -> tuple[np.ndarray, np.ndarray | None]:
    """Epoch seconds of a timestamp-like column (timestamps or numbers of seconds)."""
    if isinstance(value, _Const) or value.kind not in ("ts", "int", "float"):
        raise _Fallback
    data = value.data.astype(np.float64, copy=False)
    valid = value.valid
    finite = np.isfinite(data)
    if not finite.all():
        valid = _both_valid(valid, finite)
        data = np.where(finite, data, 0.0)
    if np.abs(data).max(initial=0.0) > 1e15:
        raise _Fallback
    return data, valid


@functools.cache
def _offset_arrays(table: OffsetTable) -> tuple[np.ndarray, np.ndarray]:
    return np.asarray(table.times, dtype=np.float64), np.asarray(table.offsets, dtype=np.int64)


def local_offsets(seconds: np.ndarray) -> np.ndarray | int:
    """Vectorised :func:`.timeutil.local_offset`; a scalar when the zone has a fixed offset."""
    table = offset_table()
    if not table.times:
        return table.offsets[0]
    times, offsets = _offset_arrays(table)
    return offsets[np.searchsorted(times, seconds, side="right")]


def civil_from_days_np(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Vectorised :func:`.timeutil.civil_from_days` on an int64 array."""
    era, yoe, mp, day = civil_parts(days)
    month = np.where(mp < 10, mp + 3, mp - 9)
    year = yoe + era * 400 + (month <= 2)
    return year, month, day


def days_from_civil_np(year: np.ndarray, month: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Vectorised :func:`.timeutil.days_from_civil`."""
    year = year - (month <= 2)
    era = year // 400
    yoe = year - era * 400
    doy = (153 * (month + np.where(month > 2, -3, 9)) + 2) // 5 + day - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def _local_days(value: Value) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    seconds, valid = _time_seconds(value)
    whole = np.floor(seconds + local_offsets(seconds)).astype(np.int64)
    days = whole // 86400
    return days, whole - days * 86400, valid


def _day_of_week(days: np.ndarray) -> np.ndarray:
    return (days + EPOCH_ORDINAL) % 7 + 1


def _is_leap(year: np.ndarray) -> np.ndarray:
    return (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))


def _date_part(name: str, days: np.ndarray, sod: np.ndarray) -> np.ndarray:
    if name == "DAYS":
        return days + EPOCH_ORDINAL
    if name == "HOUR":
        return sod // 3600
    if name == "MINUTE":
        return sod % 3600 // 60
    if name == "SECOND":
        return sod % 60
    if name == "DAYOFWEEK":
        return _day_of_week(days)
    year, month, day = civil_from_days_np(days)
    if name == "YEAR":
        return year
    if name == "MONTH":
        return month
    if name == "DAY":
        return day
    if name == "QUARTER":
        return (month - 1) // 3 + 1
    if name == "DAYSINYEAR":
        return np.where(_is_leap(year), 366, 365)
    if name == "DAYSINMONTH":
        lengths = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int64)
        return lengths[month - 1] + ((month == 2) & _is_leap(year))
    jan1 = days_from_civil_np(year, np.ones_like(month), np.ones_like(day))
    if name == "DAYOFYEAR":
        return days - jan1 + 1
    if name == "WEEK":
        return (days - jan1 + _day_of_week(jan1) - 1) // 7 + 1
    raise _Fallback  # pragma: no cover


_DATE_PARTS = frozenset(
    {
        "DAYS",
        "YEAR",
        "MONTH",
        "DAY",
        "HOUR",
        "MINUTE",
        "SECOND",
        "DAYOFWEEK",
        "DAYOFYEAR",
        "QUARTER",
        "WEEK",
        "DAYSINYEAR",
        "DAYSINMONTH",
    }
)


def _const_int(node: Expr, env: _Env) -> int:
    if not _is_constant(node):
        raise _Fallback
    value = env.constant(node).value
    if type(value) is not int:
        raise _Fallback
    return value


def _function(node: Function, env: _Env) -> Value:
    name, n = node.name, env.n
    if not node.args:
        raise _Fallback
    if name in _DATE_PARTS:
        days, sod, valid = _local_days(_eval(node.args[0], env))
        return _Vec("int", _date_part(name, days, sod).astype(np.int64), valid)
    if name == "TIMESTAMP":
        seconds, valid = _time_seconds(_eval(node.args[0], env))
        return _Vec("ts", seconds, valid)
    if name == "DATE":
        seconds, valid = _time_seconds(_eval(node.args[0], env))
        local = np.floor((seconds + local_offsets(seconds)) / 86400) * 86400
        guess = local - local_offsets(local)
        return _Vec("ts", local - local_offsets(guess), valid)
    if name in ("VARCHAR", "CONCAT"):
        values = [_eval(a, env) for a in node.args]
        if name == "VARCHAR" and isinstance(values[0], _Vec) and values[0].kind == "str":
            return values[0]
        return _concat(values, n)
    if name in ("INT", "INTEGER", "FLOOR", "CEIL", "CEILING", "ABS", "ROUND", "MOD"):
        return _numeric_function(node, env)
    value = _eval(node.args[0], env)
    if isinstance(value, _Const) or value.kind != "str":
        raise _Fallback
    array = value.data
    if name == "REGEX":
        if not _is_constant(node.args[1]):
            raise _Fallback
        pattern = env.constant(node.args[1]).value
        if pattern is None:
            return _null_bool(n)
        re2 = posix_regex_re2(to_text(pattern))
        if re2 is None:
            raise _Fallback
        return _arrow_bool(pc.match_substring_regex(array, re2))
    if name == "LENGTH":
        return _arrow_bool_free_int(pc.utf8_length(array))
    if name in ("LOWER", "UPPER"):
        if pc.all(pc.string_is_ascii(array)).as_py() not in (True, None):
            raise _Fallback  # Python and Arrow differ on some non-ASCII case mappings
        return _Vec("str", pc.ascii_lower(array) if name == "LOWER" else pc.ascii_upper(array))
    if name in ("SUBSTR", "SUBSTRING"):
        start = _const_int(node.args[1], env)
        first = max(start, 1) - 1
        if len(node.args) == 2:
            return _Vec("str", pc.utf8_slice_codeunits(array, start=first))
        length = _const_int(node.args[2], env)
        if length < 0:
            raise _Fallback
        stop = max(start - 1 + length, first)
        return _Vec("str", pc.utf8_slice_codeunits(array, start=first, stop=stop))
    raise _Fallback


def _arrow_bool_free_int(array: pa.Array) -> _Vec:
    return _Vec("int", _numpy(array, np.int64), _validity(array))


def _numeric_function(node: Function, env: _Env) -> Value:
    name = node.name
    value = _eval(node.args[0], env)
    if isinstance(value, _Const) or value.kind not in _NUMERIC:
        raise _Fallback
    data, valid, kind = value.data, value.valid, value.kind
    if kind == "bool":
        data, kind = data.astype(np.int64), "int"
    if name == "MOD":
        divisor = _eval(node.args[1], env)
        if isinstance(divisor, _Const) or divisor.kind not in ("int", "float"):
            raise _Fallback
        y = divisor.data
        valid = _both_valid(valid, divisor.valid)
        zero = y == 0
        valid = _both_valid(valid, ~zero) if zero.any() else valid
        y = np.where(zero, 1, y)
        if kind == "int" and divisor.kind == "int":
            r = np.abs(data) % np.abs(y)
            return _Vec("int", np.where(data < 0, -r, r), valid)
        with np.errstate(invalid="ignore"):
            return _Vec("float", np.fmod(data.astype(np.float64), y), valid)
    if name in ("INT", "INTEGER"):
        if kind == "int":
            return _Vec("int", data, valid)
        finite = np.isfinite(data)
        if np.abs(np.where(finite, data, 0.0)).max(initial=0.0) >= 2.0**63:
            raise _Fallback
        if not finite.all():
            valid = _both_valid(valid, finite)
        return _Vec("int", np.trunc(np.where(finite, data, 0.0)).astype(np.int64), valid)
    if name == "ABS":
        return _Vec(kind, np.abs(data), valid)
    if kind == "int":
        if name == "ROUND" and len(node.args) > 1 and _const_int(node.args[1], env) < 0:
            raise _Fallback
        return _Vec("int", data, valid)
    if name == "FLOOR":
        return _Vec("float", np.floor(data), valid)
    if name in ("CEIL", "CEILING"):
        return _Vec("float", np.ceil(data), valid)
    digits = _const_int(node.args[1], env) if len(node.args) > 1 else 0
    scale = 10.0**digits
    with np.errstate(invalid="ignore", over="ignore"):
        rounded = np.copysign(np.floor(np.abs(data) * scale + 0.5) / scale, data)
    finite = np.isfinite(data)
    return _Vec("float", np.where(finite, rounded, data), valid)


_VECTOR: dict[type, Callable[[Any, _Env], Value]] = {
    Attribute: _attribute,
    Unary: _unary,
    Binary: _binary,
    Like: _like,
    In: _in,
    Between: _between,
    IsNull: _is_null,
    Case: _case,
    Interval: _interval,
    Function: _function,
}
