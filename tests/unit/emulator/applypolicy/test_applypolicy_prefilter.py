"""The scan prefilter mmapplypolicy builds from its rules, and that it changes no result."""

from __future__ import annotations

import datetime
import re
import time
from pathlib import Path

import pytest
from applypolicy_helpers import make_files

from gpfskit.emulator.applypolicy import prefilter
from gpfskit.emulator.applypolicy.job import SELECTING
from gpfskit.language import EvalContext, matches, parse_policy

NOW = time.mktime((2025, 1, 1, 0, 0, 0, 0, 0, -1))
CTX = EvalContext(current_timestamp=NOW)


def build(text: str, level: int = 1):
    """The prefilter of a policy's rules that take part in a scan (as mmapplypolicy's)."""
    rules = [r for r in parse_policy(text).rules if r.kind in SELECTING]
    return prefilter.build(rules, CTX, level=level)


def test_top_level_and_terms_become_one_conjunction_per_rule():
    got = build("""
        RULE 'a' LIST 'x' WHERE USER_ID = 1001 AND FILE_SIZE > 65536
                           AND MODIFICATION_TIME < CURRENT_TIMESTAMP - INTERVAL '180' DAYS
        RULE 'b' DELETE WHERE 100 <= KB_ALLOCATED AND NAME LIKE '%.tmp'
        RULE 'c' LIST 'y' WHERE NLINK BETWEEN 2 AND 1 + 3
    """)
    assert got == [
        [("USER_ID", "=", 1001), ("FILE_SIZE", ">", 65536),
         ("MODIFICATION_TIME", "<", NOW - 180 * 86400)],
        [("KB_ALLOCATED", ">=", 100)],              # flipped; the LIKE term is left out
        [("NLINK", ">=", 2), ("NLINK", "<=", 4)],
    ]


def test_exclude_rules_take_part_so_their_counts_stay_exact():
    got = build("""
        RULE 'x' EXCLUDE WHERE FILE_SIZE = 0
        RULE 'd' DELETE WHERE ACCESS_TIME < TIMESTAMP('2020-01-01')
    """)
    assert got == [[("FILE_SIZE", "=", 0)],
                   [("ACCESS_TIME", "<", time.mktime((2020, 1, 1, 0, 0, 0, 0, 0, -1)))]]


@pytest.mark.parametrize("text", [
    "RULE 'a' LIST 'x'",                                              # no WHERE
    "RULE 'a' LIST 'x' WHERE NAME LIKE '%.mov'",                      # nothing to push
    "RULE 'a' LIST 'x' WHERE FILE_SIZE > 10 OR USER_ID = 0",          # OR: not a conjunction
    "RULE 'a' LIST 'x' WHERE NOT FILE_SIZE > 10",
    "RULE 'a' LIST 'x' WHERE FILE_SIZE NOT BETWEEN 1 AND 10",
    "RULE 'a' LIST 'x' WHERE FILE_SIZE > KB_ALLOCATED * 1024",        # not a constant
    "RULE 'a' LIST 'x' WHERE FILE_SIZE > '10'",                       # text, converted per row
    "RULE 'a' LIST 'x' WHERE USER_ID = NULL",
    "RULE 'a' LIST 'x' WHERE MODIFICATION_TIME < 1700000000",         # a number, not a time
    "RULE 'a' LIST 'x' WHERE FILE_SIZE > (CURRENT_TIMESTAMP - INTERVAL '1' DAYS)",
    "RULE 'a' LIST 'x' WHERE FILE_SIZE > 9007199254740992.0",      # 2**53: evaluators round
    "RULE 'a' LIST 'x' WHERE FILE_SIZE < 1" + "0" * 400 + " * 1.0",  # overflows: no term
    "RULE 'a' LIST 'x' WHERE FILE_SIZE = 1\nRULE 'b' LIST 'y'",       # one rule admits all
])
def test_no_prefilter_when_a_rule_could_select_anything(text):
    assert build(text) is None


def test_integers_of_any_size_are_pushed_as_they_are():
    huge = 10**30
    assert build(f"RULE 'a' LIST 'x' WHERE FILE_SIZE < {huge} AND INODE > -{huge}") == [
        [("FILE_SIZE", "<", huge), ("INODE", ">", -huge)]]


def test_no_prefilter_at_level_6_which_reports_every_file():
    assert build("RULE 'a' LIST 'x' WHERE FILE_SIZE > 10", level=6) is None
    assert build("RULE 'a' LIST 'x' WHERE FILE_SIZE > 10", level=5) is not None


def test_no_active_rule_means_no_rows():
    assert prefilter.build([], CTX, level=1) == []


def test_too_many_terms_means_no_prefilter():
    text = "".join(f"RULE 'r{k}' LIST 'x' WHERE FILE_SIZE > {k} AND USER_ID <> {k}\n"
                   for k in range(40))
    assert build(text) is None


# The same run with and without the prefilter ----------------------------------------------

POLICY = """
RULE EXTERNAL LIST 'small' EXEC ''
RULE EXTERNAL LIST 'mid' EXEC ''
RULE 'keep' EXCLUDE WHERE FILE_SIZE BETWEEN 3000 AND 3999
RULE 'gone' DELETE WHERE FILE_SIZE >= 9000 AND NAME LIKE '%.tmp'
RULE 'mig' MIGRATE FROM POOL 'system' TO POOL 'sata1' WEIGHT(FILE_SIZE)
     WHERE FILE_SIZE > 5000
RULE 'no0' LIST 'small' EXCLUDE WHERE FILE_SIZE = 0
RULE 'sm' LIST 'small' SHOW(VARCHAR(FILE_SIZE)) WHERE FILE_SIZE < 2500
RULE 'md' LIST 'mid' WHERE FILE_SIZE BETWEEN 2000 AND 7000 AND USER_ID = 0
"""


def _run(apply, policy_file, prefix):
    """stdout lines and list files, sorted: the scan's order varies from run to run."""
    result = apply("mmfs1", "-P", policy_file, "-I", "defer", "-L", "3", "-f", prefix,
                   "-D", "2025-01-01@00:00:00")
    assert result.returncode == 0, result.stderr
    # the work directory and timings differ between runs; everything else must not
    stdout = re.sub(r"\d+\.\d+ seconds|/\S*/work\S*|\d{4}-\d\d-\d\d@[\d:.]+", "X",
                    result.stdout)
    lists = {name: sorted(Path(f"{prefix}.list.{name}").read_bytes().splitlines())
             for name in ("small", "mid")}
    return sorted(stdout.splitlines()), lists


def test_a_run_is_the_same_with_and_without_the_prefilter(apply, mp, policy, tmp_path,
                                                          monkeypatch):
    sizes = {f"d{k % 7}/f{k}.{'tmp' if k % 3 else 'dat'}": (k * 379) % 11000
             for k in range(300)}
    make_files(mp, sizes)
    assert build(POLICY) is not None    # so the first run really does use it
    policy_file, prefix = policy(POLICY), str(tmp_path / "out")
    with_prefilter = _run(apply, policy_file, prefix)
    monkeypatch.setattr(prefilter, "build", lambda *args, **kwargs: None)
    without = _run(apply, policy_file, prefix)
    assert with_prefilter == without
    assert "[I] Directories scan: 300 files, 8 directories, 0 other objects, " \
        "0 'skipped' files and/or errors." in with_prefilter[0]
    assert all(with_prefilter[1].values())


# DAYS() comparisons ----------------------------------------------------------------------

def _midnight(days_before: int) -> float:
    day = datetime.date.fromtimestamp(NOW) - datetime.timedelta(days=days_before)
    return time.mktime(day.timetuple())


def test_days_differences_become_the_instant_the_day_begins():
    assert build("RULE 'a' LIST 'x' WHERE USER_ID = 0 AND "
                 "(DAYS(CURRENT_TIMESTAMP) - DAYS(MODIFICATION_TIME)) > 180") == [
        [("USER_ID", "=", 0), ("MODIFICATION_TIME", "<", _midnight(180))]]
    assert build("RULE 'a' LIST 'x' WHERE DAYS(ACCESS_TIME) >= DAYS(CURRENT_TIMESTAMP) - 7"
                 ) == [[("ACCESS_TIME", ">=", _midnight(7))]]
    assert build("RULE 'a' LIST 'x' WHERE DAYS(CHANGE_TIME) + 1 = DAYS(CURRENT_TIMESTAMP)"
                 ) == [[("CHANGE_TIME", ">=", _midnight(1)), ("CHANGE_TIME", "<", _midnight(0))]]


@pytest.mark.parametrize("zone", ["UTC", "Europe/Berlin", "America/New_York",
                                  "America/Sao_Paulo", "Asia/Kolkata", "Australia/Lord_Howe"])
@pytest.mark.parametrize("where", [
    "(DAYS(CURRENT_TIMESTAMP) - DAYS(MODIFICATION_TIME)) > 180",
    "DAYS(MODIFICATION_TIME) <= DAYS(CURRENT_TIMESTAMP) - 3.5",
    "10 < DAYS(CURRENT_TIMESTAMP) - DAYS(MODIFICATION_TIME)",
    "DAYS(MODIFICATION_TIME) = DAYS(CURRENT_TIMESTAMP) - 200",
])
def test_days_terms_agree_with_the_evaluator_around_every_boundary(zone, where, monkeypatch):
    """Around local midnights (DST changes included) the lister's comparisons select what
    the evaluator selects, to the microsecond."""
    monkeypatch.setenv("TZ", zone)
    time.tzset()
    try:
        ctx = EvalContext(current_timestamp=NOW)
        rule = parse_policy(f"RULE 'a' LIST 'x' WHERE {where}").rules[0]
        if not prefilter.settles(rule.where, ctx):
            pytest.skip(f"{zone}: local days step back somewhere, DAYS() is not pushed")
        (terms,) = prefilter.build([rule], ctx, level=1)
        compare = {"<": float.__lt__, ">=": float.__ge__}
        for day in range(0, 400, 1):
            midnight = _midnight(day)
            for delta in (-3600.0, -1.0, -1e-6, 0.0, 1e-6, 1.0, 3600.0):
                t = midnight + delta
                lister = all(compare[op](t, value) for _, op, value in terms)
                assert lister == matches(rule.where, {"MODIFICATION_TIME": t}, ctx), (t, terms)
    finally:
        monkeypatch.undo()
        time.tzset()


def test_days_are_not_pushed_where_local_days_step_back(monkeypatch):
    # summer time ends at 00:30, which becomes 23:30 of the day before
    monkeypatch.setenv("TZ", "EST5EDT,M3.2.0/0:30,M11.1.0/0:30")
    time.tzset()
    try:
        rule = parse_policy("RULE 'a' LIST 'x' WHERE "
                            "DAYS(MODIFICATION_TIME) < DAYS(CURRENT_TIMESTAMP)").rules[0]
        assert not prefilter.settles(rule.where, EvalContext(current_timestamp=NOW))
    finally:
        monkeypatch.undo()
        time.tzset()
