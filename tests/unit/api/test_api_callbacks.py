"""The callbacks API: Cluster().callbacks, Callback, the on<Event> members, handler storage
and the callback driver, against the demo emulated cluster."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from gpfskit.callbacks import driver, store
from gpfskit.commands import GPFSExecuteException, getCmdCache, setDryRun, yformat
from helpers import wait_for

pytestmark = pytest.mark.usefixtures("emulator_root")


def lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def log_text(emulator_root: Path) -> str:
    path = emulator_root / "callbacks" / "callbacks.log"
    return path.read_text() if path.exists() else ""


def snapshot(mm, name: str, fs: str = "mmfs1") -> None:
    assert mm("mmcrsnapshot", fs, name).returncode == 0


# -- handlers and parameters -------------------------------------------------------------

def test_handler_arguments_are_matched_to_event_variables(mm, tmp_path, emulator_root):
    from arcapix.fs.gpfs import Cluster

    out = tmp_path / "out"

    def handler(fsName, snapshot_name, eventNode, extra="x"):
        with open(out, "a") as f:
            f.write(f"{fsName} {snapshot_name} {eventNode} {extra}\n")

    cb = Cluster().callbacks.new(handler, "snapshotCreated", sync=True)
    assert cb.parm == ["%fsName", "%snapshotName", "%eventNode"]
    assert cb.events == ["snapshotCreated"] and cb.sync is True
    assert cb.command is not None and cb.handler.__name__ == "handler"
    assert cb.handlerFile == emulator_root / "callbacks" / f"{cb.id}.handler"
    snapshot(mm, "s1")
    assert lines(out) == ["mmfs1 s1 node1 x"]
    assert f"callback {cb.id} event snapshotCreated on node node1: calling " in log_text(
        emulator_root)


def test_parm_keyword_and_the_callback_definition_form(mm, tmp_path):
    from arcapix.fs.gpfs import Cluster
    from gpfskit.api.callbacks import Callback

    out = tmp_path / "out"
    seen = []

    def record(*args):
        seen.append(args)  # the list lives in the driver process: write a file instead
        with open(out, "a") as f:
            f.write(" ".join("None" if a is None else a for a in args) + "\n")

    cluster = Cluster()
    cluster.callbacks.new(Callback(command=record, parm=["%eventNode", "%filesetName", "lit"]),
                          "snapshotCreated", sync=True)
    cluster.callbacks.new(callbackId="named", command=record, event="snapshotCreated",
                          parm="%snapshotName", sync=True, priority=5)
    assert "named" in Cluster().callbacks
    snapshot(mm, "s1")
    assert lines(out) == ["s1", "node1 None lit"]   # prioritised ones first
    assert seen == []


def test_lambdas_closures_bound_methods_and_callable_objects(mm, tmp_path):
    from arcapix.fs.gpfs import Cluster

    out = tmp_path / "out"

    def writer(prefix):
        def write(snapshotName):
            with open(out, "a") as f:
                f.write(f"{prefix}:{snapshotName}\n")
        return write

    class Recorder:
        def __init__(self, tag):
            self.tag = tag

        def on_snapshot(self, snapshotName):
            with open(out, "a") as f:
                f.write(f"{self.tag}:{snapshotName}\n")

        def __call__(self, fs_name):
            with open(out, "a") as f:
                f.write(f"call:{fs_name}\n")

    callbacks = Cluster().callbacks
    callbacks.new(lambda: out.write_text("lambda\n"), "snapshotCreated", sync=True,
                  priority=1)
    callbacks.new(writer("closure"), "snapshotCreated", sync=True, priority=2)
    callbacks.new(Recorder("method").on_snapshot, "snapshotCreated", sync=True, priority=3)
    callbacks.new(Recorder("obj"), "snapshotCreated", sync=True, priority=4)
    snapshot(mm, "s1")
    assert lines(out) == ["lambda", "closure:s1", "method:s1", "call:mmfs1"]


def test_a_handler_argument_that_is_no_variable_is_refused():
    from arcapix.fs.gpfs import Cluster

    def handler(fsName, colour):
        pass

    with pytest.raises(ValueError, match="'colour' is not an event variable"):
        Cluster().callbacks.new(handler, "mount")
    with pytest.raises(ValueError, match="unknown callback event"):
        Cluster().callbacks.new(print, "mounted")
    with pytest.raises(ValueError, match="synchronous"):
        Cluster().callbacks.new(print, "mount", timeout=5)
    with pytest.raises(ValueError, match="reserved"):
        Cluster().callbacks.new(print, "mount", callbackId="mmMine")
    with pytest.raises(ValueError, match="may not contain"):
        Cluster().callbacks.new(print, "mount", callbackId="a b")
    assert len(Cluster().callbacks) == 0


def test_generated_identifiers_follow_the_rules():
    from gpfskit.api.callbacks import check_identifier, new_identifier

    for handler in (print, lambda: None, "/usr/local/bin/my script.sh", object()):
        ident = new_identifier(handler)
        assert check_identifier(ident) == ident
        assert ident.startswith("cb_")


# -- several events, removal, listing ----------------------------------------------------

def test_one_handler_several_events_then_destroy(mm, tmp_path, emulator_root):
    from arcapix.fs.gpfs import Cluster

    out = tmp_path / "out"

    def handler(eventName, fsName):
        with open(out, "a") as f:
            f.write(f"{eventName} {fsName}\n")

    cb = Cluster().callbacks.new(handler, ["unmount", "mount"], sync=True)
    assert cb.event == "unmount,mount"
    assert mm("mmumount", "mmfs2").returncode == 0
    assert mm("mmmount", "mmfs2").returncode == 0
    assert lines(out) == ["unmount mmfs2", "mount mmfs2"]
    path = cb.handlerFile
    assert path.exists()
    Cluster().callbacks.destroy(cb.id)
    assert not path.exists()
    assert cb.id not in Cluster().callbacks
    assert mm("mmumount", "mmfs2").returncode == 0
    assert len(lines(out)) == 2
    with pytest.raises(KeyError):
        Cluster().callbacks.destroy(cb.id)


def test_callbacks_added_with_mmaddcallback_are_listed(mm, tmp_path, commands):
    from arcapix.fs.gpfs import Cluster

    script = tmp_path / "notify.sh"
    script.write_text("#!/bin/sh\n")
    script.chmod(0o755)
    assert mm("mmaddcallback", "MIGRATION", "--command", str(script), "--event",
              "lowDiskSpace,noDiskSpace", "--parms", "%eventName %fsName --single-instance",
              "--sync", "--timeout", "20", "--onerror", "continue", "-N", "node1",
              "--priority", "1.5").returncode == 0
    commands.clear()
    cluster = Cluster()
    cb = cluster.callbacks["MIGRATION"]
    assert (cb.id, cb.command, cb.commandPath, cb.events, cb.parm, cb.sync, cb.timeout,
            cb.onerror, cb.nodes, cb.priority, cb.handlerFile, cb.handler, cb.system) == (
        "MIGRATION", str(script), str(script), ["lowDiskSpace", "noDiskSpace"],
        ["%eventName", "%fsName", "--single-instance"], True, 20, "continue", ["node1"], 1.5,
        None, None, False)
    assert str(cluster.callbacks) == "MIGRATION"
    assert list(cluster.onLowDiskSpace) == ["MIGRATION"]
    assert list(cluster.filesystems["mmfs1"].onLowDiskSpace) == []   # not scoped to mmfs1
    assert commands.names().count("mmlscallback all -Y") == 1
    cb.delete()
    assert yformat.parse_table(mm("mmlscallback", "-Y").stdout) == []


def test_script_handler_registered_directly(mm, tmp_path):
    from arcapix.fs.gpfs import Cluster

    out = tmp_path / "out"
    script = tmp_path / "s.sh"
    script.write_text(f'#!/bin/sh\necho "$*" >> {out}\n')
    script.chmod(0o755)
    cb = Cluster().callbacks.new(str(script), "snapshotCreated", parm="%snapshotName",
                                 sync=True)
    row = yformat.parse_table(mm("mmlscallback", cb.id, "-Y").stdout)[0]
    assert (row["command"], row["parms"]) == (str(script), "%snapshotName")
    # Scoped to a file system, the driver runs it when the filter matches.
    Cluster().filesystems["mmfs2"].onSnapshotCreated.new(str(script), parm=["fs2"],
                                                         sync=True)
    snapshot(mm, "a", "mmfs1")
    snapshot(mm, "b", "mmfs2")
    assert lines(out) == ["a", "b", "fs2"]


# -- object members ----------------------------------------------------------------------

def test_on_members_scope_to_their_object(mm, tmp_path, emulator_root):
    from arcapix.fs.gpfs import Cluster

    out = tmp_path / "out"

    def note(eventName, fsName, eventNode):
        with open(out, "a") as f:
            f.write(f"{eventName} {fsName} {eventNode}\n")

    cluster = Cluster()
    fs1 = cluster.filesystems["mmfs1"]
    fs1.onMount.new(note, sync=True)
    cluster.nodes["node2"].onUnmount.new(note, sync=True)
    for member in ("onMount", "onUnmount", "onPreMount", "onPreUnmount", "onSnapshotCreated",
                   "onSoftQuotaExceeded", "onUsageUnderSoftQuota", "onLowDiskSpace",
                   "onNoDiskSpace", "onFilesetLimitExceeded"):
        assert hasattr(fs1, member), member
    node = cluster.nodes["node1"]
    for member in ("onStartup", "onShutdown", "onPreStartup", "onPreShutdown", "onNodeJoin",
                   "onNodeLeave", "onMount"):
        assert hasattr(node, member), member
    assert hasattr(fs1.pools["sata1"], "onLowDiskSpace")
    assert hasattr(fs1.disks["mmfs1_sata1_nsd1"], "onDiskFailure")
    assert hasattr(cluster, "onQuorumLoss") and hasattr(cluster, "onSnapshotCreated")

    assert mm("mmumount", "all", "-a").returncode == 0
    assert mm("mmmount", "all", "-a").returncode == 0
    assert lines(out) == ["unmount mmfs1 node2", "unmount mmfs2 node2",
                          "mount mmfs1 node1", "mount mmfs1 node2", "mount mmfs1 node3"]
    assert len(Cluster().filesystems["mmfs1"].onMount) == 1
    assert len(Cluster().filesystems["mmfs2"].onMount) == 0
    assert len(Cluster().nodes["node2"].onUnmount) == 1
    assert len(Cluster().nodes["node1"].onUnmount) == 0
    assert len(Cluster().onMount) == 1
    for ident in list(Cluster().filesystems["mmfs1"].onMount):
        Cluster().filesystems["mmfs1"].onMount.destroy(ident)
    assert len(Cluster().callbacks) == 1


def test_node_join_scoped_by_event_node(mm, tmp_path):
    from arcapix.fs.gpfs import Cluster, Node

    out = tmp_path / "out"

    def joined(myNode):
        with open(out, "a") as f:
            f.write(f"{myNode}\n")

    Node("node3").onNodeJoin.new(joined, sync=True)
    assert mm("mmshutdown", "-N", "node2,node3", "--accept").returncode == 0
    assert mm("mmstartup", "-N", "node2").returncode == 0   # node1, node2 join: no call
    assert lines(out) == []
    assert mm("mmstartup", "-N", "node3").returncode == 0
    assert lines(out) == ["node1", "node2", "node3"]      # global: runs on every node
    assert len(Cluster().nodes["node3"].onNodeJoin) == 1


def test_fileset_and_pool_members(mm, tmp_path, emulator_root):
    from arcapix.fs.gpfs import Cluster

    out = tmp_path / "out"
    fs = Cluster().filesystems["mmfs1"]
    fs.filesets.new("a", maxInodes=1000).link(f"{fs.mountPoint}/a")
    fs.filesets.new("b", maxInodes=1000).link(f"{fs.mountPoint}/b")

    def snap(filesetName, snapshotName):
        with open(out, "a") as f:
            f.write(f"{filesetName} {snapshotName}\n")

    Cluster().filesystems["mmfs1"].filesets["b"].onSnapshotCreated.new(snap, sync=True)
    assert mm("mmcrsnapshot", "mmfs1", "a:s1").returncode == 0
    assert mm("mmcrsnapshot", "mmfs1", "b:s2").returncode == 0
    assert mm("mmcrsnapshot", "mmfs1", "g").returncode == 0
    assert lines(out) == ["b s2"]
    cb = Cluster().filesystems["mmfs1"].filesets["b"].onSnapshotCreated.values()[0]
    assert cb.filters == [("fsName", "mmfs1"), ("filesetName", "b")]


# -- behaviour of handlers ---------------------------------------------------------------

def test_a_raising_handler_is_logged_and_the_command_succeeds(mm, emulator_root):
    from arcapix.fs.gpfs import Cluster

    def broken(snapshotName):
        print("about to fail")
        raise RuntimeError(f"cannot handle {snapshotName}")

    Cluster().callbacks.new(broken, "snapshotCreated", sync=True)
    Cluster().callbacks.new(broken, "snapshotCreated")
    result = mm("mmcrsnapshot", "mmfs1", "s1")
    assert result.returncode == 0
    assert wait_for(lambda: log_text(emulator_root).count("RuntimeError: cannot handle s1")
                    == 2)
    text = log_text(emulator_root)
    assert "about to fail" in text and "Traceback" in text


def test_a_raising_sync_pre_handler_with_onerror_vetoes(mm, emulator_root):
    from arcapix.fs.gpfs import Cluster, GPFSExecuteException

    def refuse(fsName):
        raise SystemExit(f"{fsName} must stay mounted")

    Cluster().filesystems["mmfs1"].onPreUnmount.new(refuse, sync=True, onerror="shutdown",
                                                   timeout=30)
    with pytest.raises(GPFSExecuteException) as error:
        Cluster().filesystems["mmfs1"].unmount()
    assert "The preUnmount callback" in error.value.stderr
    assert Cluster().filesystems["mmfs2"].unmount() is not None   # filtered: no veto
    assert "mmfs1 must stay mounted" in log_text(emulator_root)
    rows = yformat.parse_table(mm("mmlsmount", "mmfs1", "-Y").stdout)
    assert len(rows) == 3


def test_handler_file_writable_by_others_is_refused(mm, tmp_path, emulator_root):
    from arcapix.fs.gpfs import Cluster

    out = tmp_path / "out"

    def handler():
        out.write_text("ran")

    cb = Cluster().callbacks.new(handler, "snapshotCreated", sync=True, onerror="continue")
    os.chmod(cb.handlerFile, 0o666)
    assert mm("mmcrsnapshot", "mmfs1", "s1").returncode == 0
    assert not out.exists()
    assert "refusing to load handler" in log_text(emulator_root)
    assert "writable by group or others" in log_text(emulator_root)
    assert "[E] User exit script" in (emulator_root / "var/adm/ras/node1/mmfs.log.latest"
                                      ).read_text()
    with pytest.raises(store.UnsafeHandler):
        _ = cb.handler


def test_driver_refuses_files_of_other_users_and_unsafe_directories(tmp_path):
    directory = store.prepare_dir(tmp_path / "cbs")
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    record = store.HandlerRecord("x", handler=print)
    path = store.save(directory, record)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    store.check(path)
    os.chown(path, 12345, -1)
    assert driver.run([str(path)]) == 2
    assert "owned by uid 12345" in (directory / "callbacks.log").read_text()
    os.chown(path, os.geteuid(), -1)
    os.chmod(directory, 0o777)
    with pytest.raises(store.UnsafeHandler, match="directory"):
        store.check(path)
    with pytest.raises(store.UnsafeHandler):
        store.prepare_dir(directory)
    assert driver.run([str(path)]) == 2


# -- dry run -----------------------------------------------------------------------------

def test_dry_run_records_and_writes_nothing(emulator_root):
    from arcapix.fs.gpfs import Cluster

    def handler(fsName):
        pass

    setDryRun(True)
    try:
        cluster = Cluster()
        cb = cluster.filesystems["mmfs1"].onMount.new(handler, callbackId="dry")
        assert "dry" in cluster.callbacks
        recorded = getCmdCache()
        assert len(recorded) == 1
        assert recorded[0].startswith("mmaddcallback dry --command ")
        assert "--event mount" in recorded[0]
        assert "%fsName=mmfs1 %fsName" in recorded[0]
        assert not (emulator_root / "callbacks" / "dry.handler").exists()
        cb.delete()
        assert getCmdCache()[-1] == "mmdelcallback dry"
    finally:
        setDryRun(False)
    assert "dry" not in Cluster().callbacks


def test_failed_registration_leaves_no_handler_file(mm, emulator_root):
    from arcapix.fs.gpfs import Cluster

    assert mm("mmaddcallback", "taken", "--command", "/bin/true", "--event",
              "mount").returncode == 0
    with pytest.raises(GPFSExecuteException):
        Cluster().callbacks.new(print, "mount", callbackId="taken")
    assert not (emulator_root / "callbacks" / "taken.handler").exists()
