"""Vectorised evaluator: differential tests against the reference evaluator."""

from __future__ import annotations

import functools
import math
import time
from datetime import datetime

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from policy_language_strategies import extend_expressions

from gpfskit.language import (
    Attribute,
    Between,
    Binary,
    Case,
    CurrentTimestamp,
    EvalContext,
    Function,
    In,
    Interval,
    IsNull,
    Like,
    Literal,
    PolicyEvalError,
    SqlInterval,
    SqlTimestamp,
    Unary,
    evaluate,
    matches,
    parse_expression,
    parse_policy,
    rule_matches,
    show_text,
)
from gpfskit.language.ast import iter_subexpressions
from gpfskit.language.timeutil import parse_timestamp
from gpfskit.language.vectorized import (
    batch_to_records,
    evaluate_column,
    evaluate_mask,
    rule_mask,
    show_column,
)

NOW = parse_timestamp("2024-03-10 12:00:00")
CTX = EvalContext(NOW)

# -- batches --------------------------------------------------------------------------------

_CHARS = st.one_of(st.sampled_from("%_ 'x\\!.\n/aAé中"), st.characters(codec="utf-8"))
_names = st.text(alphabet=_CHARS, max_size=8)


def _nullable(strategy):
    return st.one_of(st.none(), strategy, strategy, strategy)


@st.composite
def batches(draw):
    n = draw(st.integers(min_value=1, max_value=12))

    def column(strategy):
        return draw(st.lists(_nullable(strategy), min_size=n, max_size=n))

    paths = column(
        st.one_of(
            _names.map(lambda s: s.encode("utf-8")),
            st.binary(max_size=6),
        )
    )
    access = column(st.integers(min_value=-(10**15), max_value=4 * 10**15))
    return pa.record_batch(
        {
            "USER_ID": pa.array(column(st.integers(-5, 1005)), pa.int64()),
            "FILE_SIZE": pa.array(column(st.integers(0, 10**6)), pa.int64()),
            "FILE_HEAT": pa.array(column(st.floats(-1e6, 1e6, allow_nan=False)), pa.float64()),
            "NAME": pa.array(column(_names), pa.string()),
            "PATH_NAME": pa.array(paths, pa.binary()),
            "FILESET_NAME": pa.array(column(_names), pa.large_string()),
            "MISC_ATTRIBUTES": pa.array(
                column(st.sampled_from(["F", "FM", "FMV", "D", ""])), pa.string()
            ).dictionary_encode(),
            "MODIFICATION_TIME": pa.array(
                column(st.floats(-1e10, 4e9, allow_nan=False)), pa.float64()
            ),
            "ACCESS_TIME": pa.array(access, pa.timestamp("us")),
        }
    )


# -- typed expressions ----------------------------------------------------------------------

_INT_ATTRS = [Attribute("USER_ID"), Attribute("FILE_SIZE")]
_STR_ATTRS = [Attribute(n) for n in ("NAME", "PATH_NAME", "FILESET_NAME", "MISC_ATTRIBUTES")]
_TS_ATTRS = [Attribute("MODIFICATION_TIME"), Attribute("ACCESS_TIME"), CurrentTimestamp()]
_DATE_PARTS = [
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
    "DAYSINMONTH",
    "DAYSINYEAR",
]
_null = st.just(Literal(None))


def _fn(name):
    return lambda *args: Function(name, args)


def _case(cond, a, b):
    return Case(((cond, a),), b)


@functools.cache
def ints(d):
    base = st.one_of(st.sampled_from(_INT_ATTRS), st.integers(-1000, 1000).map(Literal), _null)
    if d == 0:
        return base
    sub = ints(d - 1)
    return st.one_of(
        base,
        st.builds(Binary, st.sampled_from(["+", "-", "*", "/"]), sub, sub),
        st.builds(Unary, st.just("-"), sub),
        st.builds(_fn("MOD"), sub, sub),
        st.builds(_fn("ABS"), sub),
        st.builds(_fn("LENGTH"), strs(d - 1)),
        st.builds(lambda f, t: Function(f, (t,)), st.sampled_from(_DATE_PARTS), tss(d - 1)),
        st.builds(_case, bools(d - 1), sub, sub),
        st.builds(_fn("INT"), floats(d - 1)),
        st.builds(_fn("ROUND"), sub, st.integers(-2, 2).map(Literal)),
    )


@functools.cache
def floats(d):
    base = st.one_of(
        st.just(Attribute("FILE_HEAT")),
        st.floats(-1e6, 1e6, allow_nan=False).map(Literal),
        _null,
    )
    if d == 0:
        return base
    sub = floats(d - 1)
    return st.one_of(
        base,
        st.builds(Binary, st.sampled_from(["+", "-", "*", "/"]), sub, st.one_of(sub, ints(d - 1))),
        st.builds(_fn("FLOOR"), sub),
        st.builds(_fn("CEIL"), sub),
        st.builds(_fn("ROUND"), sub, st.integers(-1, 3).map(Literal)),
        st.builds(_fn("MOD"), sub, sub),
        st.builds(_case, bools(d - 1), sub, sub),
    )


@functools.cache
def strs(d):
    base = st.one_of(st.sampled_from(_STR_ATTRS), _names.map(Literal), _null)
    if d == 0:
        return base
    sub = strs(d - 1)
    return st.one_of(
        base,
        st.builds(Binary, st.just("||"), sub, st.one_of(sub, ints(d - 1))),
        st.builds(_fn("VARCHAR"), st.one_of(ints(d - 1), sub, tss(d - 1))),
        st.builds(_fn("SUBSTR"), sub, st.integers(-1, 4).map(Literal)),
        st.builds(
            _fn("SUBSTR"), sub, st.integers(-1, 4).map(Literal), st.integers(0, 4).map(Literal)
        ),
        st.builds(_fn("LOWER"), sub),
        st.builds(_fn("UPPER"), sub),
        st.builds(_fn("CONCAT"), sub, sub),
        st.builds(_case, bools(d - 1), sub, sub),
    )


_date_strings = st.sampled_from(
    ["2024-01-01", "1970-01-01 00:00:01", "2023-06-30@12:00:00", "1650-02-03", "bad"]
)


@functools.cache
def tss(d):
    base = st.sampled_from(_TS_ATTRS)
    if d == 0:
        return base
    sub = tss(d - 1)
    return st.one_of(
        base,
        st.builds(Binary, st.sampled_from(["+", "-"]), sub, ivls(d - 1)),
        st.builds(Binary, st.just("+"), sub, ints(d - 1)),
        st.builds(_fn("TIMESTAMP"), ints(d - 1)),
        st.builds(_fn("DATE"), sub),
    )


@functools.cache
def ivls(d):
    lit = st.builds(
        Interval,
        st.integers(-400, 400).map(lambda v: Literal(str(v))),
        st.sampled_from(["DAYS", "HOURS", "MINUTES", "SECONDS"]),
    )
    if d == 0:
        return lit
    return st.one_of(
        lit,
        st.builds(Binary, st.just("-"), tss(d - 1), tss(d - 1)),
        st.builds(Binary, st.just("*"), ivls(d - 1), ints(d - 1)),
    )


_REGEXES = ["^a", "x$", "[[:alpha:]]", "^.$", "a|%", "[^a]x", "(x_)+", ".", "\\.", "\\w"]
_COMPARE = st.sampled_from(["=", "<>", "<", ">", "<=", ">="])
_patterns = st.text(alphabet=st.sampled_from("%_ax'\\!é.\n"), max_size=5).map(Literal)


@functools.cache
def bools(d):
    base = st.sampled_from([Literal(True), Literal(False), Literal(None)])
    if d == 0:
        return st.one_of(
            base,
            st.builds(Binary, _COMPARE, ints(0), ints(0)),
            st.builds(Like, strs(0), _patterns),
        )
    sub = bools(d - 1)
    return st.one_of(
        base,
        st.builds(Binary, _COMPARE, ints(d - 1), st.one_of(ints(d - 1), floats(d - 1))),
        st.builds(Binary, _COMPARE, floats(d - 1), floats(d - 1)),
        st.builds(Binary, _COMPARE, strs(d - 1), strs(d - 1)),
        st.builds(Binary, _COMPARE, tss(d - 1), st.one_of(tss(d - 1), _date_strings.map(Literal))),
        st.builds(Binary, _COMPARE, ivls(d - 1), st.one_of(ivls(d - 1), ints(d - 1))),
        st.builds(
            Like,
            strs(d - 1),
            _patterns,
            st.one_of(st.none(), st.sampled_from("x!\\%").map(Literal)),
            st.booleans(),
        ),
        st.builds(
            In,
            ints(d - 1),
            st.lists(
                st.one_of(st.integers(-5, 1005).map(Literal), _null), min_size=1, max_size=4
            ).map(tuple),
            st.booleans(),
        ),
        st.builds(In, strs(d - 1), st.lists(strs(0), min_size=1, max_size=3).map(tuple)),
        st.builds(Between, ints(d - 1), ints(d - 1), ints(d - 1), st.booleans()),
        st.builds(
            IsNull,
            st.one_of(ints(d - 1), strs(d - 1), tss(d - 1), floats(d - 1)),
            st.booleans(),
        ),
        st.builds(Unary, st.just("NOT"), sub),
        st.builds(Binary, st.sampled_from(["AND", "OR"]), sub, sub),
        st.builds(_fn("REGEX"), strs(d - 1), st.sampled_from(_REGEXES).map(Literal)),
        st.builds(_case, sub, sub, sub),
    )


def _huge_ints(expr, rows):
    """True if any integer sub-result leaves the range where int64/float64 agree with Python."""
    for node in iter_subexpressions(expr):
        for row in rows:
            try:
                value = evaluate(node, row, CTX)
            except (PolicyEvalError, OverflowError):
                continue
            if isinstance(value, int) and abs(value) > 2**53:
                return True
            if isinstance(value, (SqlTimestamp, SqlInterval)) and abs(value.seconds) > 1e14:
                return True
    return False


def _reference_mask(expr, rows):
    try:
        return [matches(expr, row, CTX) for row in rows]
    except PolicyEvalError:
        return None


_SETTINGS = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@_SETTINGS
@given(batches(), bools(3))
def test_mask_matches_reference(batch, expr):
    rows = batch_to_records(batch)
    assume(not _huge_ints(expr, rows))
    expected = _reference_mask(expr, rows)
    if expected is None:
        with pytest.raises(PolicyEvalError):
            evaluate_mask(expr, batch, CTX)
    else:
        assert evaluate_mask(expr, batch, CTX).tolist() == expected


# Any mix of types, including ones the vectorised path must hand back to the reference (and
# type errors, which both must raise).
_any_literals = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-1000, 1000),
    st.floats(-1e6, 1e6, allow_nan=False),
    _names,
    st.sampled_from(["2024-01-01", "12", "1.5"]),
).map(Literal)
_any_leaves = st.one_of(
    _any_literals,
    st.sampled_from([*_INT_ATTRS, *_STR_ATTRS, *_TS_ATTRS, Attribute("FILE_HEAT")]),
)
untyped_expressions = st.recursive(_any_leaves, extend_expressions, max_leaves=8)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(batches(), untyped_expressions)
def test_untyped_mask_matches_reference(batch, expr):
    test_mask_matches_reference.hypothesis.inner_test(batch, expr)


def _plain(value):
    if isinstance(value, (SqlTimestamp, SqlInterval)):
        return value.seconds
    return value


def _same(a, b):
    if isinstance(a, bytes):
        a = a.decode("utf-8", "surrogateescape")
    if a is None or b is None:
        return a is b
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return type(a) is type(b) and a == b


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(batches(), st.one_of(ints(3), strs(3), floats(2), tss(2), ivls(2)))
def test_column_matches_reference(batch, expr):
    rows = batch_to_records(batch)
    assume(not _huge_ints(expr, rows))
    try:
        expected = [_plain(evaluate(expr, row, CTX)) for row in rows]
    except PolicyEvalError:
        with pytest.raises(PolicyEvalError):
            evaluate_column(expr, batch, CTX)
        return
    got = evaluate_column(expr, batch, CTX).to_pylist()
    assert all(_same(g, e) for g, e in zip(got, expected, strict=True)), (got, expected)


# -- targeted cases -------------------------------------------------------------------------


def _batch(n=1000):
    rng = np.random.default_rng(1)
    names = [f"file_{i}%{'x' if i % 3 else '_'}.txt" for i in range(n)]
    return pa.record_batch(
        {
            "USER_ID": pa.array(rng.integers(995, 1005, n)),
            "FILE_SIZE": pa.array(rng.integers(0, 10000, n)),
            "KB_ALLOCATED": pa.array(rng.integers(0, 10, n)),
            "MODIFICATION_TIME": pa.array(rng.uniform(1.6e9, 1.72e9, n)),
            "ACCESS_TIME": pa.array(
                [None if i % 7 == 0 else 1.65e9 + i * 3600.0 for i in range(n)]
            ),
            "NAME": pa.array(names),
            "PATH_NAME": pa.array(
                [f"/fs/{'.snapshots/' if i % 5 == 0 else ''}{s}" for i, s in enumerate(names)]
            ),
            "POOL_NAME": pa.array(["system" if i % 2 else "data" for i in range(n)]),
            "FILESET_NAME": pa.array(["a", "b", "c", None][i % 4] for i in range(n)),
            "MODE": pa.array(
                ["-rw-r--r--", "drwxr-xr-x", "lrwxrwxrwx", "-rwx------"][i % 4] for i in range(n)
            ),
            "MISC_ATTRIBUTES": pa.array(["F", "FMV", "D"][i % 3] for i in range(n)),
            "XATTRS": pa.array(
                [[("user.p", b"x")] if i % 2 else [] for i in range(n)],
                pa.map_(pa.string(), pa.binary()),
            ),
        }
    )


@pytest.mark.parametrize(
    "text",
    [
        "USER_ID = 1000 AND FILE_SIZE > 4096 AND MODIFICATION_TIME < 1.7e9",
        "MODIFICATION_TIME < '2023-11-01' OR ACCESS_TIME IS NULL",
        "DAYS(CURRENT_TIMESTAMP) - DAYS(ACCESS_TIME) > 30",
        "(CURRENT_TIMESTAMP - ACCESS_TIME) < INTERVAL '300' DAYS",
        "NAME LIKE 'file\\_1%' ESCAPE '\\'",
        "PATH_NAME LIKE '%/.snapshots/%' OR NAME LIKE '%x.txt'",
        "FILESET_NAME IN ('a', 'c') AND NOT USER_ID IN (1000, 1001)",
        "FILESET_NAME NOT IN ('a', NULL)",
        "XATTR('user.p') IS NOT NULL AND FILE_SIZE BETWEEN 10 AND 5000",
        "CASE WHEN FILE_SIZE > 5000 THEN 'big' ELSE NAME END LIKE 'big%'",
        "HOUR(ACCESS_TIME) BETWEEN 9 AND 17 AND DAYOFWEEK(ACCESS_TIME) = 2",
        "REGEX(NAME, '_[0-9]{2}%')",
        "LENGTH(VARCHAR(USER_ID) || ':' || NAME) > 16",
    ],
)
def test_targeted_expressions(text):
    batch = _batch()
    expr = parse_expression(text)
    rows = batch_to_records(batch)
    expected = [matches(expr, row, CTX) for row in rows]
    assert evaluate_mask(expr, batch, CTX).tolist() == expected
    table = pa.Table.from_batches([batch.slice(0, 300), batch.slice(300)])
    assert evaluate_mask(expr, table, CTX).tolist() == expected


def test_rule_mask_and_show_column():
    batch = _batch(200)
    rows = batch_to_records(batch)
    policy = parse_policy(
        "RULE 'm' MIGRATE FROM POOL 'g' THRESHOLD(90,70) TO POOL 'x' FOR FILESET('a','b')"
        " SHOW('-s' FILE_SIZE ':' XATTR('user.p')) WHERE FILE_SIZE > 100\n"
        "RULE 'l' LIST 'l' DIRECTORIES_PLUS WHERE NAME LIKE '%1%'\n"
        "RULE 'e' EXTERNAL LIST 'l' EXEC ''\n"
        "RULE 'p' SET POOL 'system' WHERE USER_ID = 1000"
    )
    groups = {"g": ["system"]}
    for rule in policy:
        for ok in (True, False):
            expected = [
                rule_matches(rule, r, CTX, threshold_ok=ok, group_pools=groups) for r in rows
            ]
            got = rule_mask(rule, batch, CTX, threshold_ok=ok, group_pools=groups)
            assert got.tolist() == expected
    shows = show_column(policy[0], batch, CTX).to_pylist()
    assert shows == [show_text(policy[0], r, CTX) for r in rows]
    assert shows[1] == "-s" + str(rows[1]["FILE_SIZE"]) + ":x" and shows[0] is None


def test_side_effects_run_once_per_row():
    batch = _batch(50)
    calls = []
    ctx = EvalContext(NOW, setxattr=lambda rec, name, value: calls.append(rec["NAME"]))
    expr = parse_expression("SETXATTR('user.a', NAME) AND FILE_SIZE > 0")
    evaluate_mask(expr, batch, ctx)
    assert calls == batch.column("NAME").to_pylist()


def test_evaluate_column_types():
    batch = _batch(20)
    assert evaluate_column(parse_expression("FILE_SIZE * 2"), batch, CTX).type == pa.int64()
    ts = evaluate_column(parse_expression("ACCESS_TIME + INTERVAL '1' DAYS"), batch, CTX)
    assert ts.type == pa.float64() and ts[1].as_py() == 1.65e9 + 3600 + 86400
    const = evaluate_column(parse_expression("DAYS(CURRENT_TIMESTAMP)"), batch, CTX)
    assert len(const) == 20 and const[0].as_py() == datetime(2024, 3, 10).toordinal()


def test_missing_column_is_an_error():
    batch = pa.record_batch({"NAME": pa.array(["a"])})
    with pytest.raises(PolicyEvalError, match="no attribute FILE_SIZE"):
        evaluate_mask(parse_expression("FILE_SIZE > 1"), batch, CTX)


def test_empty_batch():
    batch = _batch(0)
    assert evaluate_mask(parse_expression("FILE_SIZE > 1"), batch, CTX).shape == (0,)


@pytest.mark.parametrize("zone", ["America/New_York", "Australia/Lord_Howe", "Asia/Kolkata"])
def test_local_time_agrees_across_dst(monkeypatch, zone):
    monkeypatch.setenv("TZ", zone)
    time.tzset()
    try:
        start = parse_timestamp("2024-03-09 00:00:00")
        times = [start + k * 1799.5 for k in range(200)]
        times += [parse_timestamp("2023-11-05 01:30:00") + k for k in range(-2, 3)]
        batch = pa.record_batch({"ACCESS_TIME": pa.array(times)})
        rows = batch_to_records(batch)
        for name in [*_DATE_PARTS, "DATE"]:
            expr = Function(name, (Attribute("ACCESS_TIME"),))
            got = evaluate_column(expr, batch, CTX).to_pylist()
            expected = [_plain(evaluate(expr, row, CTX)) for row in rows]
            assert got == expected, name
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()
