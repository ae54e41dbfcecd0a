"""mmchpolicy, mmlspolicy and file placement by the installed rules."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from gpfskit.emulator import fileattrs, placement, state
from gpfskit.emulator.placement_vectorized import pool_column
from gpfskit.language import EvalContext


@pytest.fixture
def write(tmp_path: Path):
    def make(text: str, name: str = "placement.pol") -> str:
        path = tmp_path / name
        path.write_text(text)
        return str(path)
    return make


def _policies(root: Path) -> list[tuple]:
    db = sqlite3.connect(root / "state.db")
    try:
        return sorted(map(tuple, db.execute("SELECT * FROM policies")))
    finally:
        db.close()


def _pool(mm, path: Path) -> str:
    out = mm("mmlsattr", "-L", str(path)).stdout
    return next(line.split(":", 1)[1].strip() for line in out.splitlines()
                if line.startswith("storage pool name:"))


POLICY = """/* tiering */
RULE 'logs' SET POOL 'sas1' WHERE NAME LIKE '%.log'
RULE 'list' LIST 'big' WHERE FILE_SIZE > 1000
RULE 'default' SET POOL 'sata1'
"""


def test_install_and_show(mm, emulator_root, write):
    result = mm("mmchpolicy", "mmfs1", write(POLICY))
    assert result.returncode == 0, result.stderr
    assert "2 placement rules, 1 management rule" in result.stdout
    shown = mm("mmlspolicy", "mmfs1")
    lines = shown.stdout.splitlines()
    assert lines[0] == "Policy for file system '/dev/mmfs1':"
    assert lines[1].startswith("   Installed by root@node1 on ") and lines[1].endswith(".")
    assert lines[2] == f"   First line of policy '{write(POLICY)}' is:"
    assert lines[3] == "/* tiering */"
    assert mm("mmlspolicy", "mmfs1", "-L").stdout == POLICY
    row = _policies(emulator_root)[0]
    assert row[1] == POLICY and row[3] == "root" and row[4] == "node1"


def test_descriptive_name_and_y(mm, write):
    assert mm("mmchpolicy", "mmfs1", write(POLICY), "-t", "tiers: v2").returncode == 0
    out = mm("mmlspolicy", "mmfs1", "-Y", "-L").stdout.splitlines()
    assert out[0] == ("mmlspolicy::HEADER:version:reserved:reserved:deviceName:policyName:"
                      "installedBy:installedNode:installTime:installTimeEpoch:firstLine:")
    fields = out[1].split(":")
    assert fields[:8] == ["mmlspolicy", "", "0", "1", "", "", "mmfs1", "tiers%3A v2"]
    assert fields[12] == "%2F%2A tiering %2A%2F"
    assert out[2] == ("mmlspolicy:policyLine:HEADER:version:reserved:reserved:deviceName:"
                      "lineNumber:text:")
    assert len(out) == 3 + len(POLICY.splitlines())
    assert out[4].split(":")[6:9] == ["mmfs1", "2", "RULE %27logs%27 SET POOL %27sas1%27 WHERE "
                                      "NAME LIKE %27%25.log%27"]


def test_test_mode_validates_only(mm, emulator_root, write):
    before = _policies(emulator_root)
    result = mm("mmchpolicy", "mmfs1", write(POLICY), "-I", "test")
    assert result.returncode == 0 and "Validated policy" in result.stdout
    assert _policies(emulator_root) == before


@pytest.mark.parametrize("text, rc, message", [
    ("RULE 'a' SET POOL 'sas1'\nRULE 'b' SET POOL WHERE\n", 22, "line 2, column 19"),
    ("RULE 'a' SET POOL 'nopool'\n", 22, "'nopool' is not a storage pool"),
    ("RULE 'a' LIST 'x' WHERE BOGUS(1) = 1\n", 22, "line 1, column"),
    ("RULE EXTERNAL LIST 'x' EXEC '' ESCAPE 'abc'\n", 22, "ESCAPE must start with '%'"),
])
def test_bad_policy_is_refused_and_nothing_changes(mm, emulator_root, write, text, rc,
                                                   message):
    before = _policies(emulator_root)
    result = mm("mmchpolicy", "mmfs1", write(text))
    assert result.returncode == rc, result.stderr
    assert message in result.stderr
    assert "mmchpolicy: Command failed." in result.stderr
    assert _policies(emulator_root) == before


def test_syntax_error_points_at_the_column(mm, write):
    result = mm("mmchpolicy", "mmfs1", write("RULE 'b' SET POOL 'sas1' WHERE NAME LIKE = 1\n"))
    lines = result.stderr.splitlines()
    assert "line 1, column 42" in lines[0]
    assert lines[1] == "  RULE 'b' SET POOL 'sas1' WHERE NAME LIKE = 1"
    assert lines[2] == "  " + " " * 41 + "^"


@pytest.mark.parametrize("argv, rc, message", [
    (["nofs", "{pol}"], 2, "File system nofs is not known"),
    (["mmfs1", "/nonexistent"], 2, "Cannot open policy file /nonexistent"),
    (["mmfs1", "{pol}", "-I", "defer"], 22, "Incorrect value for the -I option"),
    (["mmfs1"], 1, "Usage:"),
])
def test_usage_errors(mm, emulator_root, write, argv, rc, message):
    before = _policies(emulator_root)
    result = mm("mmchpolicy", *[a.format(pol=write(POLICY)) for a in argv])
    assert result.returncode == rc and message in result.stderr
    assert _policies(emulator_root) == before


def test_default_restores_default_placement(mm, mp, write):
    assert mm("mmchpolicy", "mmfs1", write("RULE 'all' SET POOL 'sas1'\n")).returncode == 0
    f = mp / "a.dat"
    f.write_bytes(b"x")
    assert _pool(mm, f) == "sas1"
    result = mm("mmchpolicy", "mmfs1", "DEFAULT")
    assert result.returncode == 0, result.stderr
    assert mm("mmlspolicy", "mmfs1").stdout == \
        "No policy file was installed for file system 'mmfs1'.\n"
    assert _pool(mm, f) == "sas1"     # first non-system data pool
    y = mm("mmlspolicy", "mmfs1", "-Y").stdout.splitlines()
    assert len(y) == 1 and y[0].startswith("mmlspolicy::HEADER")


def test_placement_rules_choose_pools_and_mmdf_follows(mm, mp, write):
    policy = ("RULE 'logs' SET POOL 'sas1' WHERE NAME LIKE '%.log'\n"
              "RULE 'proj' SET POOL 'system' FOR FILESET('proj')\n"
              "RULE 'big' SET POOL 'system' WHERE FILE_SIZE > 0\n"
              "RULE 'default' SET POOL 'sata1'\n")
    assert mm("mmchpolicy", "mmfs1", write(policy)).returncode == 0
    assert mm("mmcrfileset", "mmfs1", "proj").returncode == 0
    assert mm("mmlinkfileset", "mmfs1", "proj", "-J", str(mp / "proj")).returncode == 0
    files = {"app.log": mp / "app.log", "data.bin": mp / "data.bin",
             "p.bin": mp / "proj" / "p.bin"}
    for path in files.values():
        path.write_bytes(b"y" * 3 * 1024 * 1024)
    assert _pool(mm, files["app.log"]) == "sas1"
    assert _pool(mm, files["data.bin"]) == "sata1"    # FILE_SIZE is 0 at creation
    assert _pool(mm, files["p.bin"]) == "system"
    assert _pool(mm, mp / "proj") == "system"          # directories are metadata
    fileattrs.set_pool(files["app.log"], "sata1")      # a recorded pool wins
    assert _pool(mm, files["app.log"]) == "sata1"
    df = mm("mmdf", "mmfs1", "-Y").stdout
    used = {}
    for line in df.splitlines():
        f = line.split(":")
        if f[1] == "poolTotal" and f[2] == "0":
            used[f[6]] = int(f[7]) - int(f[8]) - int(f[10])
    assert used["sas1"] == 0
    assert used["sata1"] >= 6 * 1024


def test_placement_vectorised_agrees_with_per_record(emulator_root, mm, write):
    policy = ("RULE 'a' SET POOL 'sas1' WHERE NAME LIKE 'a%' AND USER_ID = 0\n"
              "RULE 'full' SET POOL 'system' LIMIT(50) WHERE NAME LIKE 'b%'\n"
              "RULE 'f' SET POOL 'system' FOR FILESET('x')\n"
              "RULE 'rest' SET POOL 'sata1'\n")
    assert mm("mmchpolicy", "mmfs1", write(policy)).returncode == 0
    db = state.connection(emulator_root)
    rules = placement.load(db, "mmfs1")
    names = ["a1", "b1", "c1", "a2"]
    filesets = ["root", "root", "x", "x"]
    batch = pa.RecordBatch.from_pydict({
        "NAME": pa.array([n.encode() for n in names], pa.binary()),
        "USER_ID": pa.array([0, 0, 0, 5], pa.int64()),
        "FILESET_NAME": pa.array(filesets, pa.string()),
        "FILE_SIZE": pa.array([10, 10, 10, 10], pa.int64()),
    })
    ctx = EvalContext()
    for occupancy in (None, {"system": 70.0}):
        column = pool_column(rules, batch, ctx, occupancy=occupancy).to_pylist()
        single = [rules.pool_for({"NAME": n, "USER_ID": u, "FILESET_NAME": f,
                                  "FILE_SIZE": 10}, ctx, occupancy=occupancy)
                  for n, u, f in zip(names, [0, 0, 0, 5], filesets)]
        assert column == single
    assert single == ["sas1", "sata1", "system", "system"]
    recorded = pa.array([None, "sas1", None, ""], pa.binary())
    directories = np.array([False, False, True, False])
    assert pool_column(rules, batch, ctx, recorded=recorded, directories=directories
                       ).to_pylist() == ["sas1", "sas1", "system", "system"]


def test_no_rules_means_first_data_pool(emulator_root):
    db = state.connection(emulator_root)
    with state.transaction(db, write=True):
        db.execute("DELETE FROM policies")
    assert placement.placement_pool(db, "mmfs1", "/x") == "sas1"
    assert placement.placement_pool(db, "mmfs2", "/x") == "system"
    assert placement.placement_pool(db, "mmfs1", None) == "sas1"
