"""Reference evaluator: SQL semantics, functions, rule matching and SHOW text."""

from __future__ import annotations

import dataclasses
import time
from datetime import datetime

import pytest

from gpfskit.language import (
    Attribute,
    EvalContext,
    Function,
    Literal,
    PolicyEvalError,
    Rule,
    RuleKind,
    SqlInterval,
    SqlTimestamp,
    evaluate,
    matches,
    parse_expression,
    parse_policy,
    parse_rule,
    referenced_attributes,
    rule_matches,
    show_text,
)
from gpfskit.language.timeutil import parse_timestamp

NOW = parse_timestamp("2024-03-10 12:00:00")  # a Sunday


@pytest.fixture
def ctx():
    return EvalContext(NOW)


@pytest.fixture
def record():
    return {
        "PATH_NAME": "/gpfs/fs1/proj/x_data/report.txt",
        "NAME": "report.txt",
        "FILE_SIZE": 5000,
        "KB_ALLOCATED": 8,
        "USER_ID": 1000,
        "GROUP_ID": 100,
        "ACCESS_TIME": parse_timestamp("2024-01-01 08:30:15"),
        "MODIFICATION_TIME": NOW - 100,
        "CHANGE_TIME": None,
        "CREATION_TIME": parse_timestamp("2020-02-29"),
        "MODE": "-rw-r--r--",
        "FILESET_NAME": "proj",
        "POOL_NAME": "system",
        "MISC_ATTRIBUTES": "FAu",
        "CLONE_PARENT_INODE": None,
        "XATTRS": {"user.project": b"apollo", "user.n": b"42", "user.bin": b"\x00\x00\x01\x00"},
    }


def ev(text, record, ctx):
    return evaluate(parse_expression(text), record, ctx)


# -- three-valued logic ---------------------------------------------------------------------

_TRUTH = {"TRUE": True, "FALSE": False, "NULL": None}


@pytest.mark.parametrize("a", list(_TRUTH))
@pytest.mark.parametrize("b", list(_TRUTH))
def test_three_valued_and_or(a, b, ctx):
    x, y = _TRUTH[a], _TRUTH[b]
    expected_and = False if False in (x, y) else (None if None in (x, y) else True)
    expected_or = True if True in (x, y) else (None if None in (x, y) else False)
    assert ev(f"{a} AND {b}", {}, ctx) is expected_and
    assert ev(f"{a} OR {b}", {}, ctx) is expected_or


def test_null_propagation_and_where_semantics(record, ctx):
    assert ev("NOT NULL", {}, ctx) is None
    assert ev("CHANGE_TIME > '2020-01-01'", record, ctx) is None
    assert ev("CLONE_PARENT_INODE = NULL", record, ctx) is None
    assert ev("CLONE_PARENT_INODE IS NULL", record, ctx) is True
    assert ev("FILE_SIZE + NULL", record, ctx) is None
    assert ev("NAME || NULL", record, ctx) is None
    assert not matches(parse_expression("CLONE_PARENT_INODE = 1"), record, ctx)
    assert not matches(parse_expression("NOT (CLONE_PARENT_INODE = 1)"), record, ctx)
    assert matches(parse_expression("CLONE_PARENT_INODE = 1 OR TRUE"), record, ctx)
    assert matches(None, record, ctx)


def test_in_and_between(record, ctx):
    assert ev("USER_ID IN (1, 1000)", record, ctx) is True
    assert ev("USER_ID IN (1, 2)", record, ctx) is False
    assert ev("USER_ID IN (1, NULL)", record, ctx) is None
    assert ev("USER_ID IN (1000, NULL)", record, ctx) is True
    assert ev("USER_ID NOT IN (1, NULL)", record, ctx) is None
    assert ev("FILE_SIZE BETWEEN 1000 AND 5000", record, ctx) is True
    assert ev("FILE_SIZE NOT BETWEEN 1000 AND 5000", record, ctx) is False
    assert ev("FILE_SIZE BETWEEN 6000 AND NULL", record, ctx) is False
    assert ev("FILE_SIZE BETWEEN NULL AND 6000", record, ctx) is None


# -- LIKE -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "pattern", "escape", "expected"),
    [
        ("report.txt", "%.txt", None, True),
        ("report.txt", "r_port%", None, True),
        ("report.txt", "R%", None, False),
        ("a\nb", "a_b", None, True),
        ("50%", "50\\%", None, False),
        ("50\\%", "50\\%", None, True),
        ("50%", "50!%", "!", True),
        ("50x", "50!%", "!", False),
        ("/a/x_b", "%/x_%", "x", False),  # x_ means a literal underscore
        ("/a/xyb", "%/xx_%", "x", True),
        ("/a/_b", "%/x_%", "x", True),
        ("/a/yb", "%/x_%", "x", False),
        ("a.b", "a.b", None, True),
        ("axb", "a.b", None, False),
        ("(x)", "(x)", None, True),
        ("日本語", "日_語", None, True),
    ],
)
def test_like(value, pattern, escape, expected, ctx):
    esc = f" ESCAPE '{escape}'" if escape else ""
    text = f"NAME LIKE '{pattern}'{esc}"
    assert ev(text, {"NAME": value}, ctx) is expected
    assert ev(text.replace("LIKE", "NOT LIKE"), {"NAME": value}, ctx) is (not expected)


def test_like_escape_must_be_one_character(ctx):
    with pytest.raises(PolicyEvalError):
        ev("NAME LIKE 'a' ESCAPE 'xy'", {"NAME": "a"}, ctx)


# -- CASE, arithmetic, strings --------------------------------------------------------------


def test_case(record, ctx):
    assert ev("CASE WHEN FILE_SIZE > 10 THEN 'big' ELSE 'small' END", record, ctx) == "big"
    assert ev("CASE WHEN NULL THEN 1 WHEN FALSE THEN 2 END", record, ctx) is None
    assert ev("CASE USER_ID WHEN 0 THEN 'root' WHEN 1000 THEN 'me' END", record, ctx) == "me"
    assert ev("CASE CHANGE_TIME WHEN NULL THEN 1 ELSE 2 END", record, ctx) == 2
    policy = parse_policy(
        "define(DISPLAY_NULL, [CASE WHEN ($1) IS NULL THEN '_NULL_' ELSE varchar($1) END])"
        "RULE 'l' LIST 'l' SHOW(DISPLAY_NULL(XATTR('user.project')) ':'"
        " DISPLAY_NULL(XATTR('user.none')))"
    )
    assert show_text(policy[0], record, ctx) == "apollo:_NULL_"


def test_arithmetic(record, ctx):
    assert ev("7 / 2", {}, ctx) == 3
    assert ev("-7 / 2", {}, ctx) == -3
    assert ev("7.0 / 2", {}, ctx) == 3.5
    assert ev("FILE_SIZE / 0", record, ctx) is None
    assert ev("MOD(-7, 2)", {}, ctx) == -1
    assert ev("MOD(7, 0)", {}, ctx) is None
    assert ev("KB_ALLOCATED * 1024 - FILE_SIZE", record, ctx) == 3192
    assert ev("-FILE_SIZE", record, ctx) == -5000
    assert ev("FILE_SIZE = '5000'", record, ctx) is True
    assert ev("FILE_SIZE = 'abc'", record, ctx) is None
    assert ev("'10' + 5", {}, ctx) == 15
    assert ev("USER_ID || ':' || FILE_SIZE", record, ctx) == "1000:5000"


def test_numeric_functions(ctx):
    assert ev("INT(3.9)", {}, ctx) == 3 and ev("INTEGER(-3.9)", {}, ctx) == -3
    assert ev("INT('42')", {}, ctx) == 42
    assert ev("FLOOR(-1.5)", {}, ctx) == -2.0 and ev("CEIL(1.2)", {}, ctx) == 2.0
    assert ev("CEILING(4)", {}, ctx) == 4 and ev("ABS(-3)", {}, ctx) == 3
    assert ev("ROUND(2.5)", {}, ctx) == 3.0 and ev("ROUND(-2.5)", {}, ctx) == -3.0
    assert ev("ROUND(1.2345, 2)", {}, ctx) == 1.23
    assert ev("ROUND(1250, -2)", {}, ctx) == 1300


def test_string_functions(record, ctx):
    assert ev("LENGTH(NAME)", record, ctx) == 10
    assert ev("UPPER(NAME)", record, ctx) == "REPORT.TXT"
    assert ev("LOWER('AbC')", {}, ctx) == "abc"
    assert ev("SUBSTR(NAME, 1, 6)", record, ctx) == "report"
    assert ev("SUBSTRING(NAME, 8)", record, ctx) == "txt"
    assert ev("SUBSTR('abc', 0, 2)", {}, ctx) == "a"
    assert ev("SUBSTR('abc', 5)", {}, ctx) == ""
    assert ev("CHAR(NAME, 12) || '|'", record, ctx) == "report.txt  |"
    assert ev("CHAR(NAME, 3)", record, ctx) == "rep"
    assert ev("CONCAT(NAME, '!')", record, ctx) == "report.txt!"
    assert ev("HEX('AB')", {}, ctx) == "4142"
    assert ev("HEX(255)", {}, ctx) == "FF"
    assert ev("VARCHAR(FILE_SIZE)", record, ctx) == "5000"
    assert ev("VARCHAR(1.5)", {}, ctx) == "1.5"
    assert ev("REGEX(NAME, '^[a-z]+[.]txt$')", record, ctx) is True
    assert ev("REGEX(NAME, '^[[:digit:]]')", record, ctx) is False
    assert ev("REGEX(NAME, 'port')", record, ctx) is True
    assert ev("REGEXREPLACE(NAME, '[.]txt$', '.bak')", record, ctx) == "report.bak"


# -- time -----------------------------------------------------------------------------------


def test_timestamps_and_intervals(record, ctx):
    assert ev("DAYS(CURRENT_TIMESTAMP) - DAYS(ACCESS_TIME)", record, ctx) == 69
    assert ev("CURRENT_TIMESTAMP - MODIFICATION_TIME", record, ctx) == SqlInterval(100)
    assert ev("(CURRENT_TIMESTAMP - MODIFICATION_TIME) < INTERVAL '121' SECONDS", record, ctx)
    assert not ev("(CURRENT_TIMESTAMP - MODIFICATION_TIME) < INTERVAL '1' MINUTE", record, ctx)
    assert ev("CURRENT_TIMESTAMP - ACCESS_TIME > INTERVAL '60' DAYS", record, ctx)
    assert ev("ACCESS_TIME + INTERVAL '1' HOURS", record, ctx) == SqlTimestamp(
        parse_timestamp("2024-01-01 09:30:15")
    )
    assert ev("ACCESS_TIME > '2023-12-31'", record, ctx) is True
    assert ev("ACCESS_TIME < '2024-01-01 08:30:16'", record, ctx) is True
    assert ev("ACCESS_TIME = '2024-01-01@08:30:15'", record, ctx) is True
    assert ev("ACCESS_TIME = 'not a date'", record, ctx) is None
    assert ev("TIMESTAMP('2024-01-01') < ACCESS_TIME", record, ctx) is True
    assert ev("TIMESTAMP(0)", {}, ctx) == SqlTimestamp(0.0)
    assert ev("VARCHAR(ACCESS_TIME)", record, ctx) == "2024-01-01 08:30:15"
    assert ev("CURRENT_DATE", {}, ctx) == SqlTimestamp(parse_timestamp("2024-03-10"))
    assert ev("DATE(ACCESS_TIME)", record, ctx) == SqlTimestamp(parse_timestamp("2024-01-01"))


@pytest.mark.parametrize(
    ("function", "expected"),
    [
        ("YEAR", 2024),
        ("MONTH", 1),
        ("DAY", 1),
        ("HOUR", 8),
        ("MINUTE", 30),
        ("SECOND", 15),
        ("DAYOFWEEK", 2),  # Monday
        ("DAYOFYEAR", 1),
        ("QUARTER", 1),
        ("WEEK", 1),
        ("DAYSINMONTH", 31),
        ("DAYSINYEAR", 366),
        ("DAYS", datetime(2024, 1, 1).toordinal()),
    ],
)
def test_date_functions(function, expected, record, ctx):
    assert ev(f"{function}(ACCESS_TIME)", record, ctx) == expected


def test_more_calendar_facts(record, ctx):
    assert ev("DAYOFWEEK(CURRENT_TIMESTAMP)", {}, ctx) == 1  # Sunday
    assert ev("WEEK(CURRENT_TIMESTAMP)", {}, ctx) == 11
    assert ev("DAYSINMONTH(CREATION_TIME)", record, ctx) == 29
    assert ev("DAYOFYEAR('2023-12-31')", {}, ctx) == 365
    assert ev("QUARTER('2023-12-31')", {}, ctx) == 4
    assert ev("DAYS('0001-01-01')", {}, ctx) == 1


def test_local_time_is_used(monkeypatch):
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    try:
        ctx = EvalContext(0.0)
        rec = {"ACCESS_TIME": 0.0}
        assert ev("HOUR(ACCESS_TIME)", rec, ctx) == 19
        assert ev("DAY(ACCESS_TIME)", rec, ctx) == 31
        assert ev("VARCHAR(ACCESS_TIME)", rec, ctx) == "1969-12-31 19:00:00"
        # Across the spring-forward change, wall-clock hours skip 2am.
        summer = parse_timestamp("2024-03-10 03:30:00")
        assert summer - parse_timestamp("2024-03-10 01:30:00") == 3600
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()


def test_context_accepts_dates():
    assert EvalContext("2024-03-10@12:00:00").current_timestamp == NOW
    assert EvalContext(datetime.fromtimestamp(NOW)).current_timestamp == NOW


# -- xattrs and context callbacks -----------------------------------------------------------


def test_xattr_functions(record, ctx):
    assert ev("XATTR('user.project')", record, ctx) == "apollo"
    assert ev("XATTR('user.project', 2, 3)", record, ctx) == "pol"
    assert ev("XATTR('user.missing')", record, ctx) is None
    assert ev("XATTR_INTEGER('user.n')", record, ctx) == 42
    assert ev("XATTR_FLOAT('user.n')", record, ctx) == 42.0
    assert ev("XATTR_INTEGER('user.bin', 1, 4, 'BIG_ENDIAN')", record, ctx) == 256
    assert ev("XATTR_INTEGER('user.project')", record, ctx) is None
    assert ev("GETXATTRS('user.n', 'key=value')", record, ctx) == "user.n=42"
    assert ev("GETXATTRS('user.n')", record, ctx) == "user.n=3432"
    assert ev("GETXATTRS('user.p*', 'key')", record, ctx) == "user.project"
    assert ev("GETXATTRS('', 'key,')", record, ctx) == "user.bin,user.n,user.project"
    assert ev("GETXATTRS('nothing.*')", record, ctx) == ""
    by_callback = EvalContext(NOW, xattr=lambda rec, name: b"cb" if name == "a" else None)
    assert ev("XATTR('a')", {}, by_callback) == "cb"
    assert ev("XATTR('a')", {"XATTRS": lambda name: "fn"}, ctx) == "fn"


def test_setxattr_goes_through_the_callback(record):
    calls = []
    ctx = EvalContext(NOW, setxattr=lambda rec, name, value: calls.append((name, value)))
    policy = parse_policy(
        "RULE 's6' SET POOL 'system' ACTION(setxattr('user.action','set pool s6'))"
        " WHERE name LIKE 'rep%'"
    )
    rule = policy[0]
    assert rule_matches(rule, record, ctx)
    assert evaluate(rule.action, record, ctx) is True
    assert calls == [("user.action", "set pool s6")]
    plain = EvalContext(NOW)
    evaluate(rule.action, record, plain)
    assert plain.actions[0][0] == "SETXATTR" and plain.actions[0][2:] == (
        "user.action",
        "set pool s6",
    )


def test_environment_and_config(ctx):
    env_ctx = EvalContext(NOW, getenv={"X": "1"}.get, mmconfig={"pagepool": "4G"})
    assert ev("GETENV('X')", {}, env_ctx) == "1"
    assert ev("GETENV('Y')", {}, env_ctx) is None
    assert ev("GETMMCONFIG('pagepool')", {}, env_ctx) == "4G"
    assert ev("GETMMCONFIG('nope')", {}, env_ctx) is None
    assert ev("SNAP_ID('s1')", {}, EvalContext(NOW, snap_id={"s1": 7})) == 7
    assert ev("SNAP_ID('s1')", {}, ctx) is None


# -- errors ---------------------------------------------------------------------------------


def test_unknown_names_fail_before_any_record(ctx):
    with pytest.raises(PolicyEvalError, match="unknown attribute"):
        evaluate(Attribute("NOPE"), {}, ctx)
    with pytest.raises(PolicyEvalError, match="unknown function"):
        evaluate(Function("NOPE", (Literal(1),)), {}, ctx)
    with pytest.raises(PolicyEvalError, match="record has no attribute"):
        evaluate(Attribute("FILE_SIZE"), {}, ctx)
    with pytest.raises(PolicyEvalError, match="not boolean"):
        matches(parse_expression("FILE_SIZE"), {"FILE_SIZE": 1}, ctx)
    with pytest.raises(PolicyEvalError):
        ev("ACCESS_TIME + ACCESS_TIME", {"ACCESS_TIME": 1.0}, ctx)


# -- rules ----------------------------------------------------------------------------------


def test_rule_matches_checks_in_order(record, ctx):
    rule = parse_rule(
        "RULE 'm' MIGRATE FROM POOL 'gold' THRESHOLD(90, 70) TO POOL 'b'"
        " FOR FILESET('proj', 'other') WHERE FILE_SIZE > 100"
    )
    groups = {"gold": ("system", "fast")}
    assert not rule_matches(rule, record, ctx)  # POOL_NAME is not 'gold'
    assert rule_matches(rule, record, ctx, group_pools=groups)
    assert not rule_matches(rule, record, ctx, group_pools=groups, threshold_ok=False)
    assert not rule_matches(rule, {**record, "FILESET_NAME": "x"}, ctx, group_pools=groups)
    assert not rule_matches(rule, {**record, "FILE_SIZE": 1}, ctx, group_pools=groups)
    directory = {**record, "MODE": "drwxr-xr-x"}
    assert not rule_matches(rule, directory, ctx, group_pools=groups)
    with_dirs = dataclasses.replace(rule, directories_plus=True)
    assert rule_matches(with_dirs, directory, ctx, group_pools=groups)


def test_rule_matches_when_and_directories_plus(record, ctx):
    sunday_only = parse_rule("RULE 'w' WHEN DAYOFWEEK(CURRENT_DATE) = 1 DELETE WHERE TRUE")
    assert rule_matches(sunday_only, record, ctx)
    monday = EvalContext(NOW + 86400)
    assert not rule_matches(sunday_only, record, monday)
    dirs = parse_rule("RULE 'e' EXCLUDE DIRECTORIES_PLUS WHERE TRUE")
    assert rule_matches(dirs, {**record, "MODE": "drwx------"}, ctx)
    external = Rule(RuleKind.EXTERNAL_LIST, list_name="x", exec_="")
    assert not rule_matches(external, record, ctx)


def test_show_text(record, ctx):
    rule = parse_rule(
        "RULE 'l' LIST 'big' SHOW(VARCHAR(USER_ID)||':'||VARCHAR(FILE_SIZE)||':'"
        "||VARCHAR(KB_ALLOCATED))"
    )
    assert show_text(rule, record, ctx) == "1000:5000:8"
    assert show_text(parse_rule("RULE 'l' LIST 'x' SHOW('-s' FILE_SIZE)"), record, ctx) == "-s5000"
    assert show_text(parse_rule("RULE 'l' LIST 'x' SHOW('a' CHANGE_TIME)"), record, ctx) is None
    assert show_text(parse_rule("RULE 'l' LIST 'x'"), record, ctx) is None


def test_referenced_attributes():
    rule = parse_rule(
        "RULE 'm' MIGRATE FROM POOL 'a' WEIGHT(KB_ALLOCATED) TO POOL 'b' FOR FILESET('x')"
        " SHOW(XATTR('u')) WHERE NAME LIKE 'a%' AND ACCESS_TIME < CURRENT_TIMESTAMP"
    )
    assert referenced_attributes(rule) == {
        "KB_ALLOCATED",
        "XATTRS",
        "NAME",
        "ACCESS_TIME",
        "POOL_NAME",
        "FILESET_NAME",
        "MODE",
    }
    assert referenced_attributes(parse_expression("DAYS(CURRENT_TIMESTAMP)")) == frozenset()
