"""mmaddcallback / mmdelcallback / mmlscallback and the events the emulated commands raise.

Callbacks here are small shell scripts that append their node and arguments to a file, so
every test sees exactly which callback ran, where, and with which substituted parameters.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from gpfskit.commands import yformat
from gpfskit.emulator import events, state
from helpers import wait_for

pytestmark = pytest.mark.usefixtures("emulator_root")


@pytest.fixture
def script(tmp_path: Path):
    """``script('name', exit=0, sleep=0)`` -> (path, output file) of a recording callback."""

    def make(name: str = "record", *, exit: int = 0, sleep: float = 0) -> tuple[Path, Path]:
        out = tmp_path / f"{name}.out"
        path = tmp_path / f"{name}.sh"
        path.write_text("#!/bin/sh\n"
                        + (f"sleep {sleep}\n" if sleep else "")
                        + f'echo "$GPFSKIT_NODE $*" >> {out}\n'
                        f"exit {exit}\n")
        path.chmod(0o755)
        return path, out

    return make


def lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def add(mm, ident: str, command: Path, event: str, *extra: str):
    result = mm("mmaddcallback", ident, "--command", str(command), "--event", event, *extra)
    assert result.returncode == 0, result.stderr
    return result


# -- the commands ------------------------------------------------------------------------

def test_add_list_delete(mm, script):
    path, _ = script()
    result = add(mm, "test1", path, "startup")
    assert "Propagating the cluster configuration data" in result.stderr
    add(mm, "test2", path, "shutdown,nodeLeave", "--parms", "%upNodes", "--priority", "2",
        "--sync", "--timeout", "30", "--onerror", "continue", "-N", "node1,node2")

    listing = mm("mmlscallback")
    assert listing.returncode == 0
    assert listing.stdout == (
        f"test1\n        command       = {path}\n        event         = startup\n"
        f"test2\n        command       = {path}\n        priority      = 2\n"
        "        sync          = yes\n        timeout       = 30\n"
        "        onError       = continue\n        event         = shutdown,nodeLeave\n"
        "        node          = node1,node2\n        parms         = %upNodes\n")

    rows = yformat.parse_table(mm("mmlscallback", "-Y").stdout)
    assert [r["identifier"] for r in rows] == ["test1", "test2"]
    assert rows[1] == {"identifier": "test2", "command": str(path), "priority": "2",
                       "sync": "yes", "timeout": "30", "onError": "continue",
                       "event": "shutdown,nodeLeave", "node": "node1,node2",
                       "parms": "%upNodes"}
    assert mm("mmlscallback", "-Y").stdout.splitlines()[0] == (
        "mmlscallback::HEADER:version:reserved:reserved:identifier:command:priority:sync:"
        "timeout:onError:event:node:parms:")
    assert [r["identifier"] for r in yformat.parse_table(
        mm("mmlscallback", "test2", "-Y").stdout)] == ["test2"]
    assert mm("mmlscallback", "all").stdout == listing.stdout
    assert mm("mmlscallback", "system").stdout == ""

    result = mm("mmdelcallback", "test1,test2")
    assert result.returncode == 0
    assert "Propagating" in result.stderr
    assert mm("mmlscallback").stdout == ""


def test_several_parms_are_joined_and_split(mm, script):
    path, out = script()
    add(mm, "p", path, "snapshotCreated", "--parms", "%eventName %fsName",
        "--parms", "-s %snapshotName", "--sync")
    assert mm("mmlscallback", "p").stdout.endswith(
        "parms         = %eventName %fsName -s %snapshotName\n")
    assert mm("mmcrsnapshot", "mmfs1", "snap1").returncode == 0
    assert lines(out) == ["node1 snapshotCreated mmfs1 -s snap1"]


@pytest.mark.parametrize(("argv", "rc", "message"), [
    (["bad:name"], 22, "may not contain a colon"),
    (["two words"], 22, "may not contain a colon"),
    (["a,b"], 22, "may not contain"),
    (["mmfoo"], 22, "reserved for system callbacks"),
    (["gpfsfoo"], 22, "reserved for system callbacks"),
    (["x" * 256], 22, "longer than 255"),
])
def test_identifier_rules(mm, script, argv, rc, message):
    path, _ = script()
    result = mm("mmaddcallback", *argv, "--command", str(path), "--event", "startup")
    assert result.returncode == rc
    assert message in result.stderr
    assert "mmaddcallback: Command failed." in result.stderr
    assert mm("mmlscallback").stdout == ""


def test_refusals(mm, script, tmp_path):
    path, _ = script()
    add(mm, "one", path, "mount")
    cases = [
        (["one", "--command", str(path), "--event", "mount"], 17, "already exists"),
        (["two", "--command", "relative.sh", "--event", "mount"], 22, "full path"),
        (["two", "--command", str(tmp_path / "missing"), "--event", "mount"], 2,
         "does not exist"),
        (["two", "--command", str(tmp_path), "--event", "mount"], 22, "not an executable"),
        (["two", "--command", str(path), "--event", "mounted"], 22, "Incorrect event name"),
        (["two", "--command", str(path), "--event", "mount", "--timeout", "5"], 22,
         "valid only with --sync"),
        (["two", "--command", str(path), "--event", "mount", "--sync", "--onerror", "panic"],
         22, "--onerror"),
        (["two", "--command", str(path), "--event", "mount", "--sync", "--timeout", "-1"], 22,
         "--timeout"),
        (["two", "--command", str(path), "--event", "mount", "--priority", "high"], 22,
         "--priority"),
        (["two", "--command", str(path), "--event", "mount", "-N", "node9"], 22,
         "Incorrect node node9"),
        (["two", "--command", str(path), "--event", "tiebreakerCheck"], 1, "must be down"),
    ]
    for argv, rc, message in cases:
        result = mm("mmaddcallback", *argv)
        assert (result.returncode, message in result.stderr) == (rc, True), (argv, result)
    result = mm("mmaddcallback", "two", "--command", str(path))
    assert result.returncode == 1 and "Usage:" in result.stderr
    assert [r["identifier"] for r in yformat.parse_table(mm("mmlscallback", "-Y").stdout)] \
        == ["one"]
    result = mm("mmdelcallback", "one,nosuch")
    assert result.returncode == 2 and "Callback nosuch does not exist" in result.stderr
    assert mm("mmlscallback", "one").returncode == 0
    assert mm("mmlscallback", "nosuch").returncode == 2


def test_alias_spelling_and_spec_file(mm, script, tmp_path):
    path, out = script()
    spec = tmp_path / "callbacks.spec"
    spec.write_text(f"# two callbacks\ncbA --command {path} --event clusterManagerTakeover\n"
                    f"cbB --command {path} --event mount --parms '%fsName %eventNode' --sync\n")
    result = mm("mmaddcallback", "-S", str(spec))
    assert result.returncode == 0, result.stderr
    assert mm("mmlscallback", "cbA,cbB").stdout.count("command") == 2
    assert mm("mmumount", "mmfs2").returncode == 0
    assert mm("mmmount", "mmfs2").returncode == 0
    assert lines(out) == ["node1 mmfs2 node1"]
    spec.write_text(f"cbC --command {path} --event mount\ncbA --command {path} --event x\n")
    assert mm("mmaddcallback", "-S", str(spec)).returncode == 17
    assert "cbC" not in mm("mmlscallback").stdout


# -- firing ------------------------------------------------------------------------------

def test_mount_runs_on_the_node_where_it_happens(mm, script, emulator_root):
    path, out = script()
    add(mm, "m", path, "mount,unmount", "--parms", "%eventName %fsName %eventNode %myNode",
        "--sync")
    assert mm("mmumount", "mmfs1", "-N", "node2").returncode == 0
    assert mm("mmmount", "mmfs1", "-N", "node2").returncode == 0
    assert lines(out) == ["node2 unmount mmfs1 node2 node2", "node2 mount mmfs1 node2 node2"]
    log = events.daemon_log(emulator_root, "node2").read_text()
    assert "[I] Calling user exit script m: event unmount, Sync command " + str(path) in log
    assert not events.daemon_log(emulator_root, "node1").exists()


def test_node_scope_limits_local_events(mm, script):
    path, out = script()
    add(mm, "n3", path, "mount", "-N", "node3", "--sync", "--parms", "%eventNode")
    assert mm("mmumount", "mmfs1", "-a").returncode == 0
    assert mm("mmmount", "mmfs1", "-a").returncode == 0
    assert lines(out) == ["node3 node3"]


def test_async_callbacks_do_not_block_or_fail(mm, script):
    path, out = script("slow", exit=3, sleep=2)
    add(mm, "slow", path, "snapshotCreated", "--parms", "%snapshotName")
    result = mm("mmcrsnapshot", "mmfs1", "s1")
    assert result.returncode == 0
    assert lines(out) == []  # the command returned while the callback was still sleeping
    assert wait_for(lambda: lines(out)) == ["node1 s1"]


def test_sync_callback_runs_before_the_command_returns(mm, script):
    path, out = script("sync", sleep=0.3)
    add(mm, "s", path, "snapshotCreated", "--sync", "--parms", "%snapshotName %snapshotID "
        "%filesetName")
    assert mm("mmcrsnapshot", "mmfs1", "s1").returncode == 0
    assert lines(out) == ["node1 s1 1 UNDEFINED"]


def test_failing_pre_callback_with_onerror_vetoes(mm, script, emulator_root):
    path, out = script("veto", exit=1)
    add(mm, "veto", path, "preUnmount", "--sync", "--onerror", "shutdown", "--parms",
        "%fsName")
    mountpoint = emulator_root / "gpfs" / "mmfs1"
    (mountpoint / "data").write_text("x")
    result = mm("mmumount", "mmfs1")
    assert result.returncode == 16
    assert ("mmumount: Cannot unmount file system mmfs1: The preUnmount callback veto failed "
            "on node node1 (exit code 1).") in result.stderr
    assert lines(out) == ["node1 mmfs1"]
    assert (mountpoint / "data").exists()
    rows = yformat.parse_table(mm("mmlsmount", "mmfs1", "-Y").stdout)
    assert len(rows) == 3
    # A forced unmount is not stopped.
    assert mm("mmumount", "mmfs1", "-f").returncode == 0
    assert not (mountpoint / "data").exists()
    log = events.daemon_log(emulator_root, "node1").read_text()
    assert "[E] User exit script veto for event preUnmount returned 1" in log


def test_failing_pre_callback_with_continue_does_not_veto(mm, script):
    path, out = script("cont", exit=1)
    add(mm, "c", path, "preMount", "--sync", "--onerror", "continue")
    add(mm, "d", path, "preMount", "--sync")
    assert mm("mmumount", "mmfs1").returncode == 0
    assert mm("mmmount", "mmfs1").returncode == 0
    assert len(lines(out)) == 2


def test_sync_timeout_kills_and_vetoes(mm, script):
    path, out = script("hang", sleep=5)
    add(mm, "hang", path, "preShutdown", "--sync", "--timeout", "0.3", "--onerror", "shutdown")
    start = time.monotonic()
    result = mm("mmshutdown", "-N", "node3")
    assert time.monotonic() - start < 3
    assert result.returncode == 1
    assert "The preShutdown callback hang failed on node node3 (did not finish within 0.3 " \
           "seconds). GPFS was not shut down." in result.stderr
    states = yformat.parse_table(mm("mmgetstate", "-a", "-Y").stdout)
    assert {r["nodeName"]: r["state"] for r in states}["node3"] == "active"
    assert lines(out) == []


def test_pre_startup_veto(mm, script):
    path, _ = script("nostart", exit=2)
    assert mm("mmshutdown", "-N", "node3").returncode == 0
    add(mm, "nostart", path, "preStartup", "--sync", "--onerror", "quorumLoss")
    result = mm("mmstartup", "-N", "node3")
    assert result.returncode == 1
    assert "GPFS was not started." in result.stderr
    states = yformat.parse_table(mm("mmgetstate", "-a", "-Y").stdout)
    assert {r["nodeName"]: r["state"] for r in states}["node3"] == "down"


def test_daemon_events_in_order(mm, script):
    path, out = script()
    add(mm, "d", path, "preShutdown,shutdown,preStartup,startup,unmount,mount,nodeLeave,"
        "nodeJoin", "--sync", "--parms", "%eventName %eventNode %fsName")
    assert mm("mmshutdown", "-N", "node3").returncode == 0
    assert lines(out) == [
        "node3 preShutdown node3 UNDEFINED",
        "node3 unmount node3 mmfs1", "node3 unmount node3 mmfs2",
        "node3 shutdown node3 UNDEFINED",
        "node1 nodeLeave node3 UNDEFINED", "node2 nodeLeave node3 UNDEFINED",
    ]
    Path(out).unlink()
    assert mm("mmstartup", "-N", "node3").returncode == 0
    assert lines(out) == [
        "node3 preStartup node3 UNDEFINED",
        "node3 startup node3 UNDEFINED",
        "node1 nodeJoin node3 UNDEFINED", "node2 nodeJoin node3 UNDEFINED",
        "node3 nodeJoin node3 UNDEFINED",
        "node3 mount node3 mmfs1", "node3 mount node3 mmfs2",
    ]


def test_global_events_ignore_node_scope_and_list_variables(mm, script):
    path, out = script()
    add(mm, "q", path, "quorumLoss,nodeLeave", "-N", "node3", "--sync",
        "--parms", "%eventName %eventNode %upNodes %downNodes %quorumNodes %clusterName")
    assert mm("mmshutdown", "-N", "node2,node3", "--accept").returncode == 0
    # node1 lost quorum too (arbitrating): every node left; only node1's daemon runs.
    assert lines(out) == [
        "node1 nodeLeave node1 UNDEFINED node2,node3 node1 democluster",
        "node1 nodeLeave node2 UNDEFINED node2,node3 node1 democluster",
        "node1 nodeLeave node3 UNDEFINED node2,node3 node1 democluster",
        "node1 quorumLoss node1 UNDEFINED node2,node3 node1 democluster",
    ]


def test_priority_orders_callbacks(mm, script):
    path, out = script()
    add(mm, "late", path, "snapshotCreated", "--sync", "--parms", "late")
    add(mm, "first", path, "snapshotCreated", "--sync", "--parms", "first", "--priority", "1")
    add(mm, "second", path, "snapshotCreated", "--sync", "--parms", "second",
        "--priority", "2.5")
    assert mm("mmcrsnapshot", "mmfs1", "s").returncode == 0
    assert lines(out) == ["node1 first", "node1 second", "node1 late"]


def test_a_failed_command_runs_no_post_event(mm, script):
    path, out = script()
    add(mm, "s", path, "snapshotCreated", "--sync")
    assert mm("mmcrsnapshot", "mmfs1", "s").returncode == 0
    assert mm("mmcrsnapshot", "mmfs1", "s").returncode == 17
    assert len(lines(out)) == 1


def test_deleted_callback_no_longer_runs(mm, script):
    path, out = script()
    add(mm, "s", path, "snapshotCreated", "--sync")
    assert mm("mmdelcallback", "s").returncode == 0
    assert mm("mmcrsnapshot", "mmfs1", "s").returncode == 0
    assert lines(out) == []


def test_fileset_snapshot_variables(mm, script, emulator_root):
    path, out = script()
    _fileset(mm, emulator_root)
    add(mm, "fs", path, "snapshotCreated", "--sync", "--parms",
        "%fsName %filesetName %snapshotName %snapshotID")
    assert mm("mmcrsnapshot", "mmfs1", "proj:daily").returncode == 0
    assert lines(out) == ["node1 mmfs1 proj daily 1"]


# -- conditions found by measuring -------------------------------------------------------

def _set_quota_row(emulator_root: Path, fileset_id: int, files_soft: int) -> None:
    db = state.connection(emulator_root)
    db.execute("INSERT INTO quotas (fs, type, id, fileset, files_soft) VALUES "
               "('mmfs1', 'FILESET', ?, '', ?)", (fileset_id, files_soft))


def _fileset(mm, emulator_root: Path, name: str = "proj", max_inodes: str = "1024"):
    assert mm("mmcrfileset", "mmfs1", name, "--inode-space", "new", "--inode-limit",
              max_inodes).returncode == 0
    junction = emulator_root / "gpfs" / "mmfs1" / name
    assert mm("mmlinkfileset", "mmfs1", name, "-J", str(junction)).returncode == 0
    rows = yformat.parse_table(mm("mmlsfileset", "mmfs1", name, "-Y").stdout)
    return junction, int(rows[0]["id"])


def test_soft_quota_crossings_fire_once(mm, script, emulator_root):
    path, out = script()
    junction, fid = _fileset(mm, emulator_root)
    assert mm("mmsetquota", "mmfs1:proj", "--files", "5:100").returncode == 0
    add(mm, "q", path, "softQuotaExceeded,usageUnderSoftQuota", "--sync", "--parms",
        "%eventName %fsName %filesetName %quotaType %quotaID %filesUsage %filesQuota "
        "%filesLimit %quotaEventType")
    for i in range(6):
        (junction / f"f{i}").write_text("x")
    assert mm("mmrepquota", "-j", "mmfs1").returncode == 0
    assert lines(out) == [
        f"node1 softQuotaExceeded mmfs1 proj FILESET {fid} 7 5 100 files"]
    assert mm("mmrepquota", "-j", "mmfs1").returncode == 0
    assert mm("mmlsquota", "-j", "proj", "mmfs1").returncode == 0
    assert len(lines(out)) == 1
    for i in range(6):
        (junction / f"f{i}").unlink()
    assert mm("mmlsquota", "-j", "proj", "mmfs1").returncode == 0
    assert lines(out)[1] == f"node1 usageUnderSoftQuota mmfs1 proj FILESET {fid} 1 5 100 files"


def test_setting_a_limit_below_usage_fires(mm, script, emulator_root):
    path, out = script()
    junction, _ = _fileset(mm, emulator_root)
    for i in range(3):
        (junction / f"f{i}").write_text("x")
    add(mm, "q", path, "softQuotaExceeded", "--sync", "--parms", "%filesetName %filesUsage")
    assert mm("mmsetquota", "mmfs1:proj", "--files", "2:100").returncode == 0
    assert lines(out) == ["node1 proj 4"]


def test_periodic_check_entry(mm, script, emulator_root):
    path, out = script()
    junction, _ = _fileset(mm, emulator_root)
    assert mm("mmsetquota", "mmfs1:proj", "--files", "1:100").returncode == 0
    add(mm, "q", path, "softQuotaExceeded", "--sync", "--parms", "%filesetName")
    (junction / "a").write_text("x")
    assert events.main(["check", "--root", str(emulator_root)]) == 0
    assert lines(out) == ["node1 proj"]
    assert events.check(emulator_root) == 2
    assert lines(out) == ["node1 proj"]


def test_fileset_limit_exceeded(mm, script, emulator_root):
    path, out = script()
    junction, _ = _fileset(mm, emulator_root, max_inodes="4")
    add(mm, "lim", path, "filesetLimitExceeded", "--sync",
        "--parms", "%fsName %filesetName %filesUsage %filesLimit")
    for i in range(3):
        (junction / f"f{i}").write_text("x")
    assert mm("mmlsfileset", "mmfs1", "-i").returncode == 0
    assert lines(out) == ["node1 mmfs1 proj 4 4"]
    assert mm("mmlsfileset", "mmfs1", "-i").returncode == 0
    assert len(lines(out)) == 1          # not again until REFIRE_SECONDS passed


def _shrink_pool(emulator_root: Path, pool: str, kb: int) -> None:
    db = state.connection(emulator_root)
    db.execute("UPDATE nsds SET size_kb = ? WHERE fs = 'mmfs1' AND pool = ?", (kb, pool))


def test_low_and_no_disk_space(mm, script, emulator_root):
    path, out = script()
    _shrink_pool(emulator_root, "sata1", 1024)   # two disks: 2 MiB
    db = state.connection(emulator_root)
    db.execute("UPDATE policies SET text = ? WHERE fs = 'mmfs1'",
               ("RULE 'mig' MIGRATE FROM POOL 'sata1' THRESHOLD(50,20) TO POOL 'sas1'\n"
                "RULE 'default' SET POOL 'sata1'\n",))
    add(mm, "space", path, "lowDiskSpace,noDiskSpace", "--sync",
        "--parms", "%eventName %fsName %storagePool")
    big = emulator_root / "gpfs" / "mmfs1" / "big"
    big.write_bytes(os.urandom(1200 * 1024))
    assert mm("mmdf", "mmfs1").returncode == 0
    assert lines(out) == ["node1 lowDiskSpace mmfs1 sata1"]
    assert mm("mmlspool", "mmfs1").returncode == 0
    assert len(lines(out)) == 1
    big.write_bytes(os.urandom(2100 * 1024))
    assert mm("mmdf", "mmfs1", "-P", "sata1").returncode == 0
    assert lines(out)[1:] == ["node1 noDiskSpace mmfs1 sata1"]
    # The conditions re-fire once REFIRE_SECONDS passed.
    conditions = emulator_root / "events" / "conditions.json"
    data = json.loads(conditions.read_text())
    conditions.write_text(json.dumps({k: v - events.REFIRE_SECONDS for k, v in data.items()}))
    assert events.check(emulator_root) == 2
    assert sorted(lines(out)[2:]) == ["node1 lowDiskSpace mmfs1 sata1",
                                      "node1 noDiskSpace mmfs1 sata1"]


def test_disk_failure_on_stop(mm, script):
    path, out = script()
    add(mm, "df", path, "diskFailure", "--sync", "--parms", "%fsName %diskName %storagePool")
    assert mm("mmchdisk", "mmfs1", "stop", "-d", "mmfs1_sata1_nsd1").returncode == 0
    assert lines(out) == ["node1 mmfs1 mmfs1_sata1_nsd1 sata1"]


def test_substitution_rules():
    assert events.substitute(["%fsName", "x%eventNode.y", "%nothing", "50%", "%blockUsage"],
                             {"fsName": "fs1", "eventNode": "n1", "blockUsage": 0}) == [
        "fs1", "xn1.y", "UNDEFINED", "50%", "0"]
