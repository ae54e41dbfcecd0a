"""mmapplypolicy targets (file system, directory, snapshot), refusals and options."""

from __future__ import annotations

import fcntl
import io
import os
import sys
from pathlib import Path

import pytest
from applypolicy_helpers import make_files, snapshot_state

from gpfskit.emulator.scan import parse_records


def _paths(path: Path) -> list[bytes]:
    with open(path, "rb") as f:
        return sorted(r.path for r in parse_records(f))


def _snapids(path: Path) -> set[int]:
    with open(path, "rb") as f:
        return {r.snapid for r in parse_records(f)}


LIST_ALL = "RULE 'all' LIST 'all'\n"


def test_directory_target_scans_only_the_subtree(apply, mp, policy, tmp_path):
    make_files(mp, {"a/x.dat": 1, "a/sub/y.dat": 1, "b/z.dat": 1})
    result = apply(str(mp / "a"), "-P", policy(LIST_ALL), "-I", "defer", "-f",
                   str(tmp_path / "o"))
    assert result.returncode == 0, result.stderr
    assert _paths(tmp_path / "o.list.all") == [f"{mp}/a/sub/y.dat".encode(),
                                               f"{mp}/a/x.dat".encode()]


def test_directory_with_dotdot_is_resolved_lexically(apply, mp, policy, tmp_path):
    make_files(mp, {"a/x.dat": 1, "b/z.dat": 1})
    result = apply(f"{mp}/a/../b", "-P", policy(LIST_ALL), "-I", "defer", "-f",
                   str(tmp_path / "o"))
    assert result.returncode == 0, result.stderr
    assert _paths(tmp_path / "o.list.all") == [f"{mp}/b/z.dat".encode()]


def test_snapshot_targets(apply, mm, mp, policy, tmp_path):
    make_files(mp, {"s/old.dat": 1})
    assert mm("mmcrsnapshot", "mmfs1", "snap1").returncode == 0
    make_files(mp, {"s/new.dat": 1})
    pol = policy(LIST_ALL)
    by_path = apply(f"{mp}/.snapshots/snap1", "-P", pol, "-I", "defer", "-f",
                    str(tmp_path / "a"))
    assert by_path.returncode == 0, by_path.stderr
    assert _paths(tmp_path / "a.list.all") == [f"{mp}/.snapshots/snap1/s/old.dat".encode()]
    assert _snapids(tmp_path / "a.list.all") == {1}
    by_option = apply("mmfs1", "-S", "snap1", "-P", pol, "-I", "defer", "-f",
                      str(tmp_path / "b"))
    assert by_option.returncode == 0, by_option.stderr
    assert _paths(tmp_path / "b.list.all") == _paths(tmp_path / "a.list.all")
    live = apply("mmfs1", "-P", pol, "-I", "defer", "-f", str(tmp_path / "c"))
    assert live.returncode == 0
    assert _paths(tmp_path / "c.list.all") == [f"{mp}/s/new.dat".encode(),
                                               f"{mp}/s/old.dat".encode()]
    apply(str(mp / "s"), "-S", "snap1", "-P", pol, "-I", "defer", "-f",
                str(tmp_path / "d"))
    assert _paths(tmp_path / "d.list.all") == _paths(tmp_path / "a.list.all")
    refused = apply("mmfs1", "-S", "snap1", "-P", policy("RULE 'd' DELETE\n"))
    assert refused.returncode == 30 and "read-only" in refused.stderr
    assert (mp / ".snapshots" / "snap1" / "s" / "old.dat").exists()


@pytest.mark.parametrize("argv, rc, text", [
    (["nofs", "-P", "{pol}"], 2, "File system nofs is not known to the GPFS cluster."),
    (["/etc", "-P", "{pol}"], 22, "is not in a GPFS file system"),
    (["{mp}/../../../../etc", "-P", "{pol}"], 22, "is not in a GPFS file system"),
    (["{mp}/missing", "-P", "{pol}"], 2, "No such file or directory"),
    (["mmfs1", "-P", "{pol}", "-I", "later"], 22, "Incorrect value for the -I option"),
    (["mmfs1", "-P", "{pol}", "-L", "9"], 22, "Incorrect value for the -L option"),
    (["mmfs1", "-P", "{pol}", "-B", "0"], 22, "Incorrect value for the -B option"),
    (["mmfs1", "-P", "{pol}", "-m", "x"], 22, "Incorrect value for the -m option"),
    (["mmfs1", "-P", "{pol}", "-D", "2024-13-01"], 22, "Incorrect value for the -D option"),
    (["mmfs1", "-P", "{pol}", "-D", "yesterday"], 22, "Incorrect value for the -D option"),
    (["mmfs1", "-P", "{pol}", "-M", "no-equals"], 22, "Incorrect value for the -M option"),
    (["mmfs1", "-P", "{pol}", "--scope", "node"], 22, "--scope"),
    (["mmfs1", "-P", "{pol}", "--choice-algorithm", "slow"], 22, "--choice-algorithm"),
    (["mmfs1", "-P", "{pol}", "-N", "nonode"], 22, "Incorrect node nonode"),
    (["mmfs1", "-P", "{pol}", "-g", "/nonexistent"], 2, "-g work directory"),
    (["mmfs1", "-P", "{pol}", "-S", "nosnap"], 2, "Snapshot nosnap does not exist"),
    (["mmfs1", "-P", "/nonexistent/policy"], 2, "Cannot open policy file"),
    (["mmfs1", "-P", "{pol}", "--bogus"], 1, "Incorrect option: --bogus"),
    (["mmfs1", "-P", "{pol}", "-i", "{pol}"], 22, "not supported"),
])
def test_refusals_change_nothing(apply, emulator_root, mp, policy, argv, rc, text):
    make_files(mp, {"r/a.tmp": 10})
    pol = policy("RULE 'd' DELETE\n")
    before = snapshot_state(emulator_root, mp)
    argv = [a.format(pol=pol, mp=mp) for a in argv]
    result = apply(*argv)
    assert result.returncode == rc, (result.returncode, result.stderr)
    assert text in result.stderr, result.stderr
    assert snapshot_state(emulator_root, mp) == before


@pytest.mark.parametrize("text, where, message", [
    ("RULE 'd' DELETE\nRULE 'x' LIST 'l' WHERE FILE_SIZE >> 3\n", (2, 30), ""),
    ("RULE 'd' DELETE WHERE NO_SUCH_ATTR = 1\n", (1, 23), "NO_SUCH_ATTR"),
    ("RULE 'd' MIGRATE TO POOL 'nopool'\n", None, "'nopool' is not a storage pool"),
    ("RULE EXTERNAL POOL 'a' EXEC '/bin/true'\nRULE EXTERNAL POOL 'b' EXEC '/bin/true'\n"
     "RULE 'm' MIGRATE FROM POOL 'a' TO POOL 'b'\n", None, "6027-929"),
    ("RULE EXTERNAL LIST 'l' EXEC '/nonexistent/script'\nRULE 'x' LIST 'l'\n", None,
     "does not exist or is not executable"),
])
def test_bad_policies_change_nothing(apply, emulator_root, mp, policy, text, where, message):
    make_files(mp, {"r/a.tmp": 10})
    before = snapshot_state(emulator_root, mp)
    result = apply("mmfs1", "-P", policy(text))
    assert result.returncode in (2, 22), result.stderr
    if where is not None:
        assert f"line {where[0]}, column " in result.stderr, result.stderr
    assert message in result.stderr
    assert snapshot_state(emulator_root, mp) == before


def test_unmounted_file_system_is_refused(apply, mm, policy):
    assert mm("mmumount", "mmfs1").returncode == 0
    result = apply("mmfs1", "-P", policy(LIST_ALL))
    assert result.returncode == 19 and "is not mounted" in result.stderr


def test_single_instance_refuses_a_second_run(apply, emulator_root, mp, policy):
    make_files(mp, {"a.dat": 1})
    (emulator_root / "locks").mkdir(exist_ok=True)
    with open(emulator_root / "locks" / "mmapplypolicy.mmfs1.lock", "a+") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        refused = apply("mmfs1", "-P", policy(LIST_ALL), "--single-instance", "-I", "test")
        assert refused.returncode == 16
        assert "Another mmapplypolicy --single-instance job" in refused.stderr
        without = apply("mmfs1", "-P", policy(LIST_ALL), "-I", "test")
        assert without.returncode == 0
    ok = apply("mmfs1", "-P", policy(LIST_ALL), "--single-instance", "-I", "test")
    assert ok.returncode == 0, ok.stderr


def test_accepted_options(apply, mp, policy, work, tmp_path):
    make_files(mp, {"a.dat": 1})
    result = apply("mmfs1", "-P", policy(LIST_ALL), "-I", "prepare", "-f", str(tmp_path / "o"),
                   "-N", "node1,node2", "-g", str(work), "-n", "4", "-a", "2", "-A", "8",
                   "-q", "--qos", "maintenance", "--maxdepth", "3", "--split-margin", "0.2",
                   "--sort-buffer-size", "1M", "--allow-scan-on-remote", "-L", "0")
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert len(_paths(tmp_path / "o.list.all")) == 1


def test_maxdepth_limits_the_scan(apply, mp, policy, tmp_path):
    make_files(mp, {"top.dat": 1, "a/one.dat": 1, "a/b/two.dat": 1})
    result = apply("mmfs1", "-P", policy(LIST_ALL), "-I", "defer", "-f", str(tmp_path / "o"),
                   "--maxdepth", "1")
    assert result.returncode == 0, result.stderr
    assert _paths(tmp_path / "o.list.all") == [f"{mp}/a/one.dat".encode(),
                                               f"{mp}/top.dat".encode()]


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_only_on_a_terminal(apply, mp, policy, monkeypatch):
    make_files(mp, {"a.dat": 1})
    quiet = io.StringIO()
    monkeypatch.setattr(sys, "stderr", quiet)
    assert apply("mmfs1", "-P", policy(LIST_ALL), "-I", "test").returncode == 0
    assert quiet.getvalue() == ""
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    assert apply("mmfs1", "-P", policy(LIST_ALL), "-I", "test").returncode == 0
    assert "files/s" in terminal.getvalue()


def test_level_0_prints_only_problems(apply, mp, policy):
    make_files(mp, {"a.dat": 1})
    result = apply("mmfs1", "-P", policy(LIST_ALL), "-I", "test", "-L", "0")
    assert result.returncode == 0 and result.stdout == ""


def test_level_4_and_6_show_excluded_and_unmatched(apply, mp, policy):
    make_files(mp, {"a.dat": 1, "b.tmp": 1, "c.log": 1})
    pol = policy("RULE 'x' EXCLUDE WHERE NAME = 'b.tmp'\nRULE 'd' DELETE WHERE NAME LIKE 'b%'\n"
                 "RULE 'l' LIST 'l' WHERE NAME = 'a.dat'\n")
    result = apply("mmfs1", "-P", pol, "-I", "test", "-L", "6")
    assert f"{mp}/b.tmp" in result.stdout and "RULE 'x' EXCLUDE" in result.stdout
    assert any(line.startswith(f"{mp}/c.log") and line.endswith("NO RULE APPLIES")
               for line in result.stdout.splitlines())
    assert "[I] Files with no applicable rule: 1." in result.stdout


def test_relative_directory_target(apply, mp, policy, tmp_path, monkeypatch):
    make_files(mp, {"rel/x.dat": 1})
    monkeypatch.chdir(mp)
    result = apply("rel", "-P", policy(LIST_ALL), "-I", "defer", "-f", str(tmp_path / "o"))
    assert result.returncode == 0, result.stderr
    assert _paths(tmp_path / "o.list.all") == [f"{mp}/rel/x.dat".encode()]


def test_workdir_inside_the_tree_is_not_scanned(mm, mp, policy, tmp_path):
    make_files(mp, {"a.dat": 1})
    inside = mp / "work"
    inside.mkdir()
    result = mm("mmapplypolicy", "mmfs1", "-P", policy(LIST_ALL), "-s", str(inside), "-I",
                "defer", "-f", str(tmp_path / "o"))
    assert result.returncode == 0, result.stderr
    assert _paths(tmp_path / "o.list.all") == [f"{mp}/a.dat".encode()]
    assert os.listdir(inside) == []
