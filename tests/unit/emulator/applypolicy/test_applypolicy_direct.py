"""The direct list writer: policies the lister settles run without Arrow, with the same
results as the Arrow path."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from applypolicy_helpers import make_files

from gpfskit.emulator.applypolicy import direct, prefilter
from gpfskit.language import EvalContext, parse_policy

NOW = time.mktime((2025, 1, 1, 0, 0, 0, 0, 0, -1))
STAMP = "2025-01-01@00:00:00"

SETTLED = {
    "one rule": "RULE 'big' LIST 'big' WHERE FILE_SIZE > 2000 AND USER_ID = 0",
    "the benchmark's rule": (
        "RULE EXTERNAL LIST 'big' EXEC ''\n"
        "RULE 'big' LIST 'big' WHERE USER_ID = 0 AND FILE_SIZE > 1000 AND "
        "MODIFICATION_TIME < CURRENT_TIMESTAMP - INTERVAL '30' DAYS"),
    "rules sharing a list, first match wins": (
        "RULE 'a' LIST 'big' WHERE FILE_SIZE BETWEEN 1000 AND 3000\n"
        "RULE 'b' LIST 'big' WHERE FILE_SIZE >= 2500 AND MODIFICATION_TIME > "
        "CURRENT_TIMESTAMP - INTERVAL '30' DAYS\n"
        "RULE 'c' LIST 'small' WHERE FILE_SIZE < 1500"),
    "an excluding list rule first": (
        "RULE 'x' LIST 'big' EXCLUDE WHERE FILE_SIZE = 4000\n"
        "RULE 'y' LIST 'big' WHERE 3000 < FILE_SIZE\n"
        "RULE 'z' LIST 'small' WHERE KB_ALLOCATED <= 2 AND NLINK = 1"),
    "DAYS(CURRENT_TIMESTAMP) - DAYS(...) > N": (
        "RULE 'a' LIST 'big' WHERE USER_ID = 0 AND FILE_SIZE > 1000 AND "
        "(DAYS(CURRENT_TIMESTAMP) - DAYS(MODIFICATION_TIME)) > 20"),
    "DAYS(...) compared both ways": (
        "RULE 'a' LIST 'big' WHERE DAYS(MODIFICATION_TIME) <= DAYS(CURRENT_TIMESTAMP) - 40\n"
        "RULE 'b' LIST 'small' WHERE DAYS(MODIFICATION_TIME) + 3 = DAYS(CURRENT_TIMESTAMP)"),
    "an escaped list": (
        "RULE EXTERNAL LIST 'big' EXEC '' ESCAPE '%'\n"
        "RULE 'big' LIST 'big' WHERE FILE_SIZE > 100"),
}


def _tree(mp: Path) -> None:
    sizes = {f"d{k % 5}/f {k}.dat" if k % 4 else f"d{k % 5}/f{k}\n%.dat": (k * 97) % 5000
             for k in range(200)}
    made = make_files(mp, sizes)
    for k, path in enumerate(made.values()):
        age = (k * 13 % 90) * 86400
        os.utime(path, (NOW - age, NOW - age))


def _run(apply, policy_file: str, prefix: str) -> tuple[list[str], dict[str, list[bytes]]]:
    result = apply("mmfs1", "-P", policy_file, "-I", "defer", "-f", prefix, "-D", STAMP)
    assert result.returncode == 0, result.stderr
    stdout = re.sub(r"/\S*/work\S*|\d{4}-\d\d-\d\d@[\d:.]+", "X", result.stdout)
    lists = {}
    for name in ("big", "small"):
        path = Path(f"{prefix}.list.{name}")
        if path.exists():
            lists[name] = sorted(path.read_bytes().splitlines())
    return stdout.splitlines(), lists


@pytest.mark.parametrize("text", SETTLED.values(), ids=SETTLED.keys())
def test_the_direct_path_gives_what_the_arrow_path_gives(text, apply, mp, policy, tmp_path,
                                                           monkeypatch):
    _tree(mp)
    policy_file = policy(text)
    taken = []
    real = direct.applies
    monkeypatch.setattr(direct, "applies", lambda *a, **k: taken.append(real(*a, **k))
                        or taken[-1])
    lean = _run(apply, policy_file, str(tmp_path / "lean"))
    assert taken == [True]
    monkeypatch.setattr(direct, "applies", lambda *a, **k: False)
    full = _run(apply, policy_file, str(tmp_path / "full"))
    assert [line.replace("/lean.", "/full.") for line in lean[0]] == full[0]
    assert lean[1] == full[1]
    assert any(lean[1].values())


@pytest.mark.parametrize("text, why", [
    ("RULE 'a' LIST 'big' WHERE FILE_SIZE > 10 AND NAME LIKE '%.dat'", "a LIKE"),
    ("RULE 'a' LIST 'big' WHERE DAYS(MODIFICATION_TIME) * 2 > 3", "DAYS times a number"),
    ("RULE 'a' LIST 'big' WHERE DAYS(MODIFICATION_TIME) <> 3", "<> is no conjunction"),
    ("RULE 'a' LIST 'big' SHOW(VARCHAR(FILE_SIZE)) WHERE FILE_SIZE > 10", "SHOW"),
    ("RULE 'a' LIST 'big' WEIGHT(FILE_SIZE) WHERE FILE_SIZE > 10", "WEIGHT: chosen"),
    ("RULE 'a' LIST 'big' FOR FILESET('root') WHERE FILE_SIZE > 10", "FOR FILESET"),
    ("RULE 'a' DELETE WHERE FILE_SIZE > 10", "not a LIST"),
    ("RULE 'a' LIST 'big'", "no WHERE"),
])
def test_what_the_lister_cannot_settle_takes_the_arrow_path(text, why, apply, mp, policy,
                                                             tmp_path, monkeypatch):
    _tree(mp)
    taken = []
    real = direct.applies
    monkeypatch.setattr(direct, "applies", lambda *a, **k: taken.append(real(*a, **k))
                        or taken[-1])
    result = apply("mmfs1", "-P", policy(text), "-I", "test", "-D", STAMP)
    assert result.returncode == 0, result.stderr
    assert taken == [False], why


def test_settles_only_ands_of_lister_comparisons():
    ctx = EvalContext(current_timestamp=NOW)

    def where(text):
        return parse_policy(f"RULE 'a' LIST 'x' WHERE {text}").rules[0].where

    assert prefilter.settles(where("FILE_SIZE > 1 AND (USER_ID = 0 AND NLINK < 3)"), ctx)
    assert prefilter.settles(where("1000 <= FILE_SIZE AND INODE BETWEEN 1 AND 9"), ctx)
    for text in ("FILE_SIZE > 1 OR USER_ID = 0", "FILE_SIZE > 1 AND NAME = 'a'",
                 "NOT FILE_SIZE > 1", "FILE_SIZE NOT BETWEEN 1 AND 2", "FILE_SIZE > '1'"):
        assert not prefilter.settles(where(text), ctx), text
    assert not prefilter.settles(None, ctx)


_PROBE = """
import json, sys
from gpfskit.emulator.dispatch import run_command
result = run_command(sys.argv[2:], root=sys.argv[1])
print(json.dumps({"rc": result.returncode, "err": result.stderr,
                  "heavy": sorted(m for m in ("numpy", "pyarrow") if m in sys.modules)}))
"""


def test_a_settled_policy_runs_without_numpy_or_pyarrow(emulator_root, mp, policy, tmp_path):
    _tree(mp)
    argv = ["mmapplypolicy", "mmfs1", "-P", policy(SETTLED["the benchmark's rule"]), "-I",
            "defer", "-f", str(tmp_path / "out"), "-s", str(tmp_path), "-D", STAMP]
    done = subprocess.run([sys.executable, "-c", _PROBE, str(emulator_root), *argv],
                          capture_output=True, text=True, check=True)
    report = json.loads(done.stdout)
    assert report["rc"] == 0, report["err"]
    assert report["heavy"] == []
    assert Path(tmp_path / "out.list.big").read_bytes().count(b"\n") > 0
