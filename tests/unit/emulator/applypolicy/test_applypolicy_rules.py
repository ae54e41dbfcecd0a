"""mmapplypolicy: what each rule kind does to the real files."""

from __future__ import annotations

import os
import re
import sqlite3
from pathlib import Path

from applypolicy_helpers import make_files

from gpfskit.emulator.scan import parse_records


def _pool(mm, path: Path) -> str:
    result = mm("mmlsattr", "-L", str(path))
    assert result.returncode == 0, result.stderr
    for line in result.stdout.splitlines():
        if line.startswith("storage pool name:"):
            return line.split(":", 1)[1].strip()
    raise AssertionError(result.stdout)


def _pool_free(mm, pool: str) -> int:
    result = mm("mmdf", "mmfs1", "-Y")
    assert result.returncode == 0, result.stderr
    for line in result.stdout.splitlines():
        fields = line.split(":")
        if fields[1] == "poolTotal" and fields[2] == "0" and fields[6] == pool:
            return int(fields[8]) + int(fields[10])
    raise AssertionError(result.stdout)


def _records(path: str | Path, escape: str | None = None):
    with open(path, "rb") as f:
        return list(parse_records(f, escape=escape))


def _summary(stdout: str) -> dict[int, list[int]]:
    rows = {}
    lines = stdout.splitlines()
    start = lines.index("[I] Summary of Rule Applicability and File Choices:")
    for line in lines[start + 2:]:
        parts = line.split()
        if not parts or not parts[0].isdigit():
            break
        rows[int(parts[0])] = [int(x) for x in parts[1:6]]
    return rows


def test_list_defer_writes_records_with_show(apply, mp, policy, tmp_path):
    files = make_files(mp, {"a/big.dat": 50_000, "a/small.dat": 10, "b/big2.dat": 60_000})
    pol = policy("RULE EXTERNAL LIST 'big' EXEC ''\n"
                 "RULE 'l' LIST 'big' SHOW(VARCHAR(FILE_SIZE) || ':' || VARCHAR(USER_ID)) "
                 "WHERE FILE_SIZE > 1000\n")
    prefix = tmp_path / "out"
    result = apply("mmfs1", "-P", pol, "-I", "defer", "-f", str(prefix))
    assert result.returncode == 0, result.stderr
    assert "[I] Directories scan: 3 files, 3 directories, 0 other objects, 0 'skipped' files " \
           "and/or errors." in result.stdout
    stamp = r"\[I\] \d{4}-\d\d-\d\d@\d\d:\d\d:\d\d\.\d{3} "
    for line in ("Parallel-piped sort and policy evaluation. 3 files scanned.",
                 "Piped sorting and candidate file choosing. 2 records scanned.",
                 "Policy execution. 0 files dispatched."):
        assert re.search("^" + stamp + re.escape(line) + "$", result.stdout, re.M), line
    records = _records(f"{prefix}.list.big")
    got = {r.path: (r.inode, r.snapid, r.show) for r in records}
    for name in ("a/big.dat", "b/big2.dat"):
        st = os.stat(files[name])
        assert got[str(files[name]).encode()] == (st.st_ino, 0, f"{st.st_size}:0".encode())
    assert len(records) == 2
    raw = Path(f"{prefix}.list.big").read_bytes().splitlines()[0]
    assert b" 0  " in raw and b" -- /" in raw
    hits, kb_hit, chosen, kb_chosen, _ = _summary(result.stdout)[1]
    assert (hits, chosen) == (2, 2) and kb_hit == kb_chosen >= 108


def test_delete_really_deletes_and_exclude_protects(apply, mp, policy):
    files = make_files(mp, {"tmp/a.tmp": 10, "tmp/keep.tmp": 10, "tmp/b.dat": 10})
    pol = policy("RULE 'keep' EXCLUDE WHERE NAME = 'keep.tmp'\n"
                 "RULE 'del' DELETE WHERE NAME LIKE '%.tmp'\n"
                 "RULE EXTERNAL LIST 'tmps' EXEC ''\n"
                 "RULE 'seen' LIST 'tmps' WHERE NAME LIKE '%.tmp'\n")
    result = apply("mmfs1", "-P", pol, "-f", str(mp.parent / "lists"))
    assert result.returncode == 0, result.stderr
    assert not files["tmp/a.tmp"].exists()
    assert files["tmp/keep.tmp"].exists() and files["tmp/b.dat"].exists()
    listed = {r.path for r in _records(mp.parent / "lists.list.tmps")}
    assert listed == {str(files["tmp/a.tmp"]).encode(), str(files["tmp/keep.tmp"]).encode()}
    summary = _summary(result.stdout)
    assert summary[0][0] == 1 and summary[1][2] == 1   # EXCLUDE hit, DELETE chosen
    assert "1 deleted" in result.stdout


def test_test_mode_changes_nothing(apply, mp, policy, tmp_path):
    files = make_files(mp, {"x.tmp": 10})
    pol = policy("RULE 'd' DELETE WHERE NAME LIKE '%.tmp'\n"
                 "RULE 'l' LIST 'x' ACTION(SetXattr('user.tag', 'seen'))\n")
    result = apply("mmfs1", "-P", pol, "-I", "test", "-f", str(tmp_path / "pre"))
    assert result.returncode == 0, result.stderr
    assert files["x.tmp"].exists()
    assert "user.tag" not in os.listxattr(files["x.tmp"])
    assert not list(tmp_path.glob("pre*"))
    assert _summary(result.stdout)[0][2] == 1


def test_migrate_changes_pool_and_mmdf(apply, mm, mp, policy):
    files = make_files(mp, {"proj/a.dat": 2 * 1024 * 1024, "proj/b.dat": 1024 * 1024,
                            "proj/c.txt": 4096})
    assert _pool(mm, files["proj/a.dat"]) == "sata1"
    sas_before, sata_before = _pool_free(mm, "sas1"), _pool_free(mm, "sata1")
    pol = policy("RULE 'm' MIGRATE FROM POOL 'sata1' TO POOL 'sas1' WHERE NAME LIKE '%.dat'\n")
    result = apply("mmfs1", "-P", pol)
    assert result.returncode == 0, result.stderr
    assert _pool(mm, files["proj/a.dat"]) == "sas1"
    assert _pool(mm, files["proj/b.dat"]) == "sas1"
    assert _pool(mm, files["proj/c.txt"]) == "sata1"
    moved = sas_before - _pool_free(mm, "sas1")
    assert 3 * 1024 - 64 <= moved <= 3 * 1024 + 64
    assert _pool_free(mm, "sata1") - sata_before == moved
    assert "2 files migrated" in result.stdout
    # A second run finds nothing left in sata1 to move.
    again = apply("mmfs1", "-P", pol)
    assert _summary(again.stdout)[0][0] == 0


def test_migrate_replicate_and_group_pool(apply, mm, mp, policy):
    files = make_files(mp, {"g/a.dat": 8192})
    pol = policy("RULE 'gp' GROUP POOL 'tiers' IS 'sas1' LIMIT(0) THEN 'system'\n"
                 "RULE 'm' MIGRATE TO POOL 'tiers' REPLICATE(2)\n")
    result = apply("mmfs1", "-P", pol)
    assert result.returncode == 0, result.stderr
    assert _pool(mm, files["g/a.dat"]) == "system"   # sas1 is 'full' at LIMIT(0)
    out = mm("mmlsattr", str(files["g/a.dat"])).stdout
    assert "      1 (  2)   2 (  2)" in out


def test_action_setxattr_sets_real_xattr(apply, mp, policy):
    files = make_files(mp, {"t/a.dat": 100, "t/b.log": 100})
    pol = policy("RULE 'tag' LIST 'tagged' ACTION(SetXattr('user.class', 'data')) "
                 "WHERE NAME LIKE '%.dat'\n")
    result = apply("mmfs1", "-P", pol)
    assert result.returncode == 0, result.stderr
    assert os.getxattr(files["t/a.dat"], "user.class") == b"data"
    assert "user.class" not in os.listxattr(files["t/b.log"])


def _script(tmp_path: Path, rc_test: int = 0, rc_list: int = 0) -> tuple[Path, Path]:
    log = tmp_path / "calls"
    log.mkdir()
    script = tmp_path / "iface.sh"
    script.write_text(f"""#!/bin/sh
n=$(ls {log} | grep -c '^call')
printf '%s\\n' "$@" > {log}/call.$n
if [ "$1" = TEST ]; then exit {rc_test}; fi
cp "$2" {log}/list.$n
echo "stderr from script" >&2
exit {rc_list}
""")
    script.chmod(0o755)
    return script, log


def _calls(log: Path) -> list[tuple[list[str], bytes | None]]:
    calls = []
    for k in range(len(list(log.glob("call.*")))):
        argv = (log / f"call.{k}").read_text().splitlines()
        listing = log / f"list.{k}"
        calls.append((argv, listing.read_bytes() if listing.exists() else None))
    return calls


def test_external_list_script_test_then_list_buckets(apply, mp, policy, tmp_path, work):
    files = make_files(mp, {f"s/f{k:02d}.dat": 10 + k for k in range(7)})
    script, log = _script(tmp_path)
    pol = policy(f"RULE EXTERNAL LIST 'ext' EXEC '{script}' OPTS '-x y' ESCAPE '%'\n"
                 "RULE 'e' LIST 'ext' WHERE NAME LIKE 'f%'\n")
    result = apply("mmfs1", "-P", pol, "-B", "3", "-m", "1")
    assert result.returncode == 0, result.stderr
    calls = _calls(log)
    assert calls[0][0] == ["TEST", str(mp), "-x y"]
    lists = calls[1:]
    assert [len(c[1].splitlines()) for c in lists] == [3, 3, 1]
    for argv, _ in lists:
        assert argv[0] == "LIST" and argv[2] == "-x y"
        assert argv[1].startswith(str(work))
        assert not os.path.exists(argv[1])          # removed afterwards
    listed = {r.path for _, data in lists for r in parse_records(data.splitlines(),
                                                                escape="%")}
    assert listed == {str(p).encode() for p in files.values()}
    assert b"%2F" in lists[0][1]                     # ESCAPE '%' encodes '/'
    assert list(work.iterdir()) == []
    assert " Policy execution. 7 files dispatched." in result.stdout


def test_external_script_failure_is_reported(apply, mp, policy, tmp_path, work):
    make_files(mp, {"s/a.dat": 10})
    script, _log = _script(tmp_path, rc_list=3)
    pol = policy(f"RULE EXTERNAL LIST 'ext' EXEC '{script}'\nRULE 'e' LIST 'ext'\n")
    result = apply("mmfs1", "-P", pol)
    assert result.returncode == 1
    assert "exited with code 3" in result.stderr
    assert "stderr from script" in result.stderr
    assert list(work.iterdir()) == []


def test_external_script_test_failure_skips_lists(apply, mp, policy, tmp_path):
    make_files(mp, {"s/a.dat": 10})
    script, log = _script(tmp_path, rc_test=1)
    pol = policy(f"RULE EXTERNAL LIST 'ext' EXEC '{script}'\nRULE 'e' LIST 'ext'\n")
    result = apply("mmfs1", "-P", pol)
    assert result.returncode == 1
    assert "TEST call with exit code 1" in result.stderr
    assert [c[0][0] for c in _calls(log)] == ["TEST"]


def test_external_pool_migrate_calls_script(apply, mm, mp, policy, tmp_path):
    files = make_files(mp, {"h/a.dat": 5000, "h/b.dat": 6000})
    script, log = _script(tmp_path)
    pol = policy(f"RULE EXTERNAL POOL 'hsm' EXEC '{script}' OPTS 'srv'\n"
                 "RULE 'm' MIGRATE FROM POOL 'sata1' TO POOL 'hsm' WHERE NAME LIKE '%.dat'\n")
    result = apply("mmfs1", "-P", pol)
    assert result.returncode == 0, result.stderr
    calls = _calls(log)
    assert calls[0][0] == ["TEST", str(mp), "srv"]
    assert calls[1][0][0] == "MIGRATE"
    assert {r.path for r in parse_records(calls[1][1].splitlines())} == \
        {str(p).encode() for p in files.values()}
    assert _pool(mm, files["h/a.dat"]) == "sata1"


def test_weight_orders_the_list(apply, mp, policy, tmp_path):
    make_files(mp, {"w/s.dat": 100, "w/l.dat": 30_000, "w/m.dat": 5000})
    pol = policy("RULE 'w' LIST 'bysize' WEIGHT(FILE_SIZE) WHERE NAME LIKE '%.dat'\n")
    result = apply("mmfs1", "-P", pol, "-I", "defer", "-f", str(tmp_path / "o"), "-L", "3")
    assert result.returncode == 0, result.stderr
    names = [os.path.basename(r.path) for r in _records(tmp_path / "o.list.bysize")]
    assert names == [b"l.dat", b"m.dat", b"s.dat"]
    assert "WEIGHT(30000.000000)" in result.stdout


def test_weight_inf_without_weight_at_level_3(apply, mp, policy):
    make_files(mp, {"w/s.dat": 100})
    pol = policy("RULE 'w' LIST 'x'\n")
    result = apply("mmfs1", "-P", pol, "-I", "test", "-L", "3")
    assert f"{mp}/w/s.dat RULE 'w' LIST 'x' WEIGHT(INF)" in result.stdout


def test_level_5_prints_attributes(apply, mp, policy):
    make_files(mp, {"w/s.dat": 100})
    os.utime(mp / "w" / "s.dat", (1646342397, 1646342397))
    pol = policy("RULE 'w' LIST 'x'\n")
    result = apply("mmfs1", "-P", pol, "-I", "test", "-L", "5")
    assert "[MODIFICATION_TIME USER_ID GROUP_ID FILE_SIZE POOL_NAME ACCESS_TIME KB_ALLOCATED " \
           "FILESET_NAME]" in result.stdout
    import time
    stamp = time.strftime("%Y-%m-%d@%H:%M:%S", time.localtime(1646342397))
    line = next(x for x in result.stdout.splitlines() if x.startswith(f"{mp}/w/s.dat ["))
    assert f"[{stamp} 0 0 100 sata1 {stamp} " in line and " root] RULE 'w'" in line


def test_macros_and_date(apply, mp, policy, tmp_path):
    make_files(mp, {"m/old.dat": 10, "m/new.dat": 10})
    os.utime(mp / "m" / "old.dat", (1_000_000_000, 1_000_000_000))  # 2001
    os.utime(mp / "m" / "new.dat", (1_600_000_000, 1_600_000_000))  # 2020
    pol = policy("RULE 'age' LIST 'LISTNAME' WHERE MODIFICATION_TIME < "
                 "CURRENT_TIMESTAMP - INTERVAL 'AGE' DAYS\n")
    result = apply("mmfs1", "-P", pol, "-M", "LISTNAME=old", "-M", "AGE=365", "-D",
                   "2010-01-01@12:00", "-I", "defer", "-f", str(tmp_path / "o"))
    assert result.returncode == 0, result.stderr
    assert [os.path.basename(r.path) for r in _records(tmp_path / "o.list.old")] == [b"old.dat"]
    result = apply("mmfs1", "-P", pol, "-M", "LISTNAME=old", "-M", "AGE=365", "-D",
                   "2030-01-01", "-I", "defer", "-f", str(tmp_path / "p"))
    assert len(_records(tmp_path / "p.list.old")) == 2
    assert "CURRENT_TIMESTAMP = 2030-01-01@00:00:00" in result.stdout


def _shrink(root: Path, pool: str, kb: int) -> None:
    db = sqlite3.connect(root / "state.db")
    with db:
        db.execute("UPDATE nsds SET size_kb = ? WHERE fs = 'mmfs1' AND pool = ?", (kb, pool))
    db.close()


def test_threshold_migrates_down_to_low_mark(apply, mm, mp, policy, emulator_root):
    _shrink(emulator_root, "sata1", 5 * 1024)            # two disks: 10 MiB of data space
    sizes = {f"t/f{k}.dat": (k + 1) * 256 * 1024 for k in range(6)}   # 5.25 MiB: ~52%
    files = make_files(mp, sizes)
    pol = policy("RULE 'm' MIGRATE FROM POOL 'sata1' THRESHOLD(50,30) WEIGHT(FILE_SIZE) "
                 "TO POOL 'sas1'\n")
    result = apply("mmfs1", "-P", pol)
    assert result.returncode == 0, result.stderr
    assert "[I] GPFS Current Data Pool Utilization in KB and %" in result.stdout
    moved = [n for n, p in files.items() if _pool(mm, p) == "sas1"]
    # biggest first: 1.5 MiB + 1.25 MiB bring 5.25 MiB down to 2.5 MiB (25% <= 30%)
    assert sorted(moved) == ["t/f4.dat", "t/f5.dat"]
    # Below the high mark now: the rule no longer applies.
    again = apply("mmfs1", "-P", pol)
    assert _summary(again.stdout)[0][0] == 0


def test_threshold_not_reached_does_nothing(apply, mm, mp, policy):
    files = make_files(mp, {"t/a.dat": 1000})
    pol = policy("RULE 'm' MIGRATE FROM POOL 'sata1' THRESHOLD(90,50) TO POOL 'sas1'\n")
    result = apply("mmfs1", "-P", pol)
    assert result.returncode == 0, result.stderr
    assert _pool(mm, files["t/a.dat"]) == "sata1"


def test_limit_stops_filling_the_target(apply, mm, mp, policy, emulator_root):
    _shrink(emulator_root, "sas1", 2 * 1024)              # 4 MiB of data space
    files = make_files(mp, {f"l/f{k}.dat": 1024 * 1024 for k in range(4)})
    pol = policy("RULE 'm' MIGRATE TO POOL 'sas1' LIMIT(60) WHERE NAME LIKE '%.dat'\n")
    result = apply("mmfs1", "-P", pol)
    assert result.returncode == 0, result.stderr
    moved = [p for p in files.values() if _pool(mm, p) == "sas1"]
    assert len(moved) == 2                                # 2 MiB = 50%; a third would be 75%
    assert _summary(result.stdout)[0][:3] == [4, 4096, 2]


def test_list_exclude_and_every_list_rule(apply, mp, policy, tmp_path):
    make_files(mp, {"e/a.dat": 10, "e/b.log": 10, "e/c.tmp": 10})
    pol = policy("RULE 'x1' LIST 'l' EXCLUDE WHERE NAME LIKE '%.tmp'\n"
                 "RULE 'a' LIST 'l' WHERE NAME LIKE '%.dat'\n"
                 "RULE 'b' LIST 'l' WHERE NAME LIKE '%.log' OR NAME LIKE '%.tmp'\n"
                 "RULE 'other' LIST 'm' WHERE NAME LIKE '%.tmp'\n")
    result = apply("mmfs1", "-P", pol, "-I", "defer", "-f", str(tmp_path / "o"))
    assert result.returncode == 0, result.stderr
    names = sorted(os.path.basename(r.path) for r in _records(tmp_path / "o.list.l"))
    assert names == [b"a.dat", b"b.log"]
    assert [os.path.basename(r.path) for r in _records(tmp_path / "o.list.m")] == [b"c.tmp"]


def test_first_matching_migrate_or_delete_wins(apply, mm, mp, policy):
    files = make_files(mp, {"f/a.dat": 10, "f/b.dat": 10})
    pol = policy("RULE 'm' MIGRATE TO POOL 'sas1' WHERE NAME = 'a.dat'\n"
                 "RULE 'd' DELETE WHERE NAME LIKE '%.dat'\n")
    result = apply("mmfs1", "-P", pol)
    assert result.returncode == 0, result.stderr
    assert files["f/a.dat"].exists() and _pool(mm, files["f/a.dat"]) == "sas1"
    assert not files["f/b.dat"].exists()


def test_directories_plus_deletes_empty_directories(apply, mp, policy):
    (mp / "old" / "deep" / "er").mkdir(parents=True)
    (mp / "keep").mkdir()
    (mp / "keep" / "file").write_text("x")
    pol = policy("RULE 'd' DELETE DIRECTORIES_PLUS WHERE PATH_NAME LIKE '%/old%'\n"
                 "RULE 'k' LIST 'k' DIRECTORIES_PLUS WHERE NAME = 'keep'\n")
    result = apply("mmfs1", "-P", pol)
    assert result.returncode == 0, result.stderr
    assert not (mp / "old").exists()
    assert (mp / "keep" / "file").exists()


def test_for_fileset_and_scope(apply, mm, mp, policy, tmp_path):
    assert mm("mmcrfileset", "mmfs1", "fs1", "--inode-space", "new").returncode == 0
    assert mm("mmlinkfileset", "mmfs1", "fs1", "-J", str(mp / "fs1")).returncode == 0
    make_files(mp, {"fs1/in.dat": 10, "out.dat": 10})
    pol = policy("RULE 'f' LIST 'f' FOR FILESET('fs1')\nRULE 'all' LIST 'all'\n")
    result = apply("mmfs1", "-P", pol, "-I", "defer", "-f", str(tmp_path / "o"))
    assert result.returncode == 0, result.stderr
    assert [os.path.basename(r.path) for r in _records(tmp_path / "o.list.f")] == [b"in.dat"]
    assert len(_records(tmp_path / "o.list.all")) == 2
    scoped = apply(str(mp), "-P", pol, "-I", "defer", "-f", str(tmp_path / "s"),
                   "--scope", "fileset")
    assert scoped.returncode == 0, scoped.stderr
    assert [os.path.basename(r.path) for r in _records(tmp_path / "s.list.all")] == \
        [b"out.dat"]


def test_installed_policy_used_without_p(apply, mm, mp, policy, tmp_path):
    make_files(mp, {"i/a.tmp": 10})
    pol = policy("RULE 'default' SET POOL 'sata1'\nRULE 'd' DELETE WHERE NAME LIKE '%.tmp'\n")
    assert mm("mmchpolicy", "mmfs1", pol).returncode == 0
    result = apply("mmfs1")
    assert result.returncode == 0, result.stderr
    assert not (mp / "i" / "a.tmp").exists()


def test_no_selecting_rules_is_nothing_to_do(apply, mp):
    result = apply("mmfs1")
    assert result.returncode == 0, result.stderr
    assert "nothing to do" in result.stdout


def test_choice_fast_keeps_scan_order_and_reevaluate(apply, mp, policy, tmp_path):
    make_files(mp, {"c/a.dat": 10})
    pol = policy("RULE 'd' DELETE WEIGHT(FILE_SIZE) WHERE NAME LIKE '%.dat'\n")
    result = apply("mmfs1", "-P", pol, "--choice-algorithm", "fast", "-e")
    assert result.returncode == 0, result.stderr
    assert not (mp / "c" / "a.dat").exists()


def test_when_uses_current_timestamp(apply, mp, policy, tmp_path):
    make_files(mp, {"w/a.dat": 10})
    pol = policy("RULE 'sun' WHEN DAYOFWEEK(CURRENT_DATE) = 1 LIST 'sun'\n"
                 "RULE 'mon' WHEN DAYOFWEEK(CURRENT_DATE) = 2 LIST 'mon'\n")
    result = apply("mmfs1", "-P", pol, "-I", "defer", "-f", str(tmp_path / "o"),
                   "-D", "2024-06-02")                     # a Sunday
    assert result.returncode == 0, result.stderr
    assert len(_records(tmp_path / "o.list.sun")) == 1
    assert len(_records(tmp_path / "o.list.mon")) == 0


def test_from_group_pool_and_size_clause(apply, mm, mp, policy, tmp_path):
    files = make_files(mp, {"g/a.dat": 100, "g/b.dat": 100})
    mm("mmchattr", "-P", "sas1", str(files["g/a.dat"]))
    pol = policy("RULE 'gp' GROUP POOL 'fast' IS 'system' THEN 'sas1'\n"
                 "RULE 'l' LIST 'fast' FROM POOL 'fast' SIZE(1000)\n")
    result = apply("mmfs1", "-P", pol, "-I", "defer", "-f", str(tmp_path / "o"))
    assert result.returncode == 0, result.stderr
    assert [r.path for r in _records(tmp_path / "o.list.fast")] == \
        [str(files["g/a.dat"]).encode()]
    assert _summary(result.stdout)[1][:4] == [1, 1000, 1, 1000]


def test_external_size_caps_each_bucket(apply, mp, policy, tmp_path):
    make_files(mp, {f"z/f{k}.dat": 6000 for k in range(4)})
    script, log = _script(tmp_path)
    pol = policy(f"RULE EXTERNAL LIST 'ext' EXEC '{script}' SIZE 10\n"
                 "RULE 'e' LIST 'ext' WHERE NAME LIKE 'f%'\n")
    result = apply("mmfs1", "-P", pol, "-m", "1")
    assert result.returncode == 0, result.stderr
    lists = [data for argv, data in _calls(log) if argv[0] == "LIST"]
    assert [len(d.splitlines()) for d in lists] == [1, 1, 1, 1]   # 8 KB each, 10 KB cap
