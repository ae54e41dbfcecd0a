"""mmstartup, mmshutdown and mmchnode on the demo cluster (node1 is the local node)."""

from __future__ import annotations

import re
import sqlite3

import pytest

from gpfskit.commands import yformat
from helpers import assert_refused, table_rows


def _states(mm) -> dict[str, str]:
    rows = yformat.parse_table(mm("mmgetstate", "-a", "-Y").stdout)
    return {r["nodeName"]: r["state"] for r in rows}


def _mounted(mm, fs: str = "mmfs1") -> list[str]:
    return [r["nodeName"] for r in yformat.parse_table(mm("mmlsmount", fs, "-Y").stdout)]


def _nodes(mm) -> dict[str, dict]:
    rows = yformat.parse(mm("mmlscluster", "-Y").stdout)[("mmlscluster", "clusterNode")]
    return {r["daemonNodeName"]: r for r in rows}


def test_shutdown_local_node_unmounts_and_startup_remounts(mm, mp):
    (mp / "somefile").write_text("x")
    result = mm("mmshutdown")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert re.search(r": mmshutdown: Starting force unmount of GPFS file systems$", lines[0])
    assert re.search(r": mmshutdown: Shutting down GPFS daemons$", lines[1])
    assert lines[2] == "node1:  Shutting down!"
    assert re.search(r": mmshutdown: Finished$", lines[3])
    assert not (mp / "somefile").exists() and mp.is_dir()
    assert _states(mm) == {"node1": "down", "node2": "active", "node3": "active"}
    assert _mounted(mm) == ["node2", "node3"]
    result = mm("mmstartup")
    assert result.returncode == 0
    assert re.fullmatch(r"\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \S+ \d{4}: mmstartup: Starting "
                        r"GPFS \.\.\.\n", result.stdout)
    assert (mp / "somefile").read_text() == "x"
    assert _states(mm)["node1"] == "active"
    assert _mounted(mm) == ["node1", "node2", "node3"]
    assert _mounted(mm, "mmfs2") == ["node1", "node2", "node3"]


def test_startup_mounts_only_automount_yes(mm, mp):
    assert mm("mmshutdown").returncode == 0
    assert mm("mmchfs", "mmfs2", "-A", "no").returncode == 0
    assert mm("mmstartup").returncode == 0
    assert _mounted(mm) == ["node1", "node2", "node3"]
    assert _mounted(mm, "mmfs2") == ["node2", "node3"]


def test_shutdown_remote_node_keeps_local_tree(mm, mp):
    (mp / "f").write_text("x")
    assert mm("mmshutdown", "-N", "node2").returncode == 0
    assert (mp / "f").exists()
    assert _states(mm)["node2"] == "down"
    assert _mounted(mm) == ["node1", "node3"]
    assert mm("mmstartup", "-N", "node2").returncode == 0
    assert _mounted(mm) == ["node1", "node2", "node3"]


def test_shutdown_all_and_startup_all(mm, mp, emulator_root):
    (mp / "f").write_text("x")
    assert mm("mmshutdown", "-a").returncode == 0
    assert set(_states(mm).values()) == {"down"}
    assert _mounted(mm) == [] and _mounted(mm, "mmfs2") == []
    assert not (mp / "f").exists()
    assert mm("mmstartup", "-a").returncode == 0
    assert set(_states(mm).values()) == {"active"}
    assert (mp / "f").exists()
    assert _mounted(mm) == ["node1", "node2", "node3"]


def test_quorum_loss_refused_without_accept(mm, emulator_root, mp):
    (mp / "f").write_text("x")
    assert_refused(mm, emulator_root, ["mmshutdown", "-N", "node2,node3"], 1, "lose quorum")
    assert mm("mmshutdown", "-N", "node2,node3", "--accept").returncode == 0
    # node1 lost quorum: it waits for it and has nothing mounted.
    assert _states(mm) == {"node1": "arbitrating", "node2": "down", "node3": "down"}
    assert _mounted(mm) == [] and not (mp / "f").exists()
    assert mm("mmmount", "mmfs1").returncode == 19
    assert mm("mmstartup", "-N", "node2").returncode == 0
    assert _states(mm) == {"node1": "active", "node2": "active", "node3": "down"}
    assert _mounted(mm) == ["node1", "node2"]
    assert (mp / "f").exists()


def test_shutdown_moves_managers(mm, emulator_root):
    assert mm("mmshutdown", "-N", "node1").returncode == 0
    db = sqlite3.connect(emulator_root / "state.db")
    assert db.execute("SELECT manager_node FROM cluster").fetchone()[0] == "node2"
    assert {r[0] for r in db.execute("SELECT manager_node FROM filesystems")} == {"node2"}


def test_daemon_refusals(mm, emulator_root):
    assert_refused(mm, emulator_root, ["mmshutdown", "-N", "nosuch"], 22, "Incorrect node")
    assert_refused(mm, emulator_root, ["mmstartup", "-N", "mount"], 22, "not valid")
    assert_refused(mm, emulator_root, ["mmshutdown", "-t", "soon"], 22, "Incorrect unmount timeout")
    assert_refused(mm, emulator_root, ["mmstartup", "-E", "X=1;$(id)\n"], 22,
                   "Incorrect environment")
    assert mm("mmstartup", "-a", "-N", "node1").returncode == 1
    assert mm("mmstartup", "extra").returncode == 1


def test_startup_of_active_node_changes_nothing(mm, emulator_root):
    before = table_rows(emulator_root)
    assert mm("mmstartup", "-a").returncode == 0
    assert table_rows(emulator_root) == before


# mmchnode --------------------------------------------------------------------------------

def test_mmchnode_designations(mm):
    assert mm("mmchnode", "--nonquorum", "--client", "-N", "node3").returncode == 0
    assert _nodes(mm)["node3"]["designation"] is None or \
        _nodes(mm)["node3"]["designation"] == ""
    assert mm("mmchnode", "--manager", "-N", "node3").returncode == 0
    assert _nodes(mm)["node3"]["designation"] == "manager"
    assert mm("mmchnode", "--quorum", "-N", "node3").returncode == 0
    assert _nodes(mm)["node3"]["designation"] == "quorumManager"
    result = mm("mmchnode", "--client", "-N", "node2,node3")
    assert result.returncode == 0
    assert "mmchnode: Processing node node2" in result.stdout
    assert "Propagating the cluster configuration data" in result.stderr
    assert {n: r["designation"] for n, r in _nodes(mm).items()} == {
        "node1": "quorumManager", "node2": "quorum", "node3": "quorum"}


def test_mmchnode_interfaces(mm, emulator_root):
    assert mm("mmchnode", "--admin-interface=node3-admin.example.com", "-N",
              "node3").returncode == 0
    assert _nodes(mm)["node3"]["adminNodeName"] == "node3-admin.example.com"
    assert mm("mmchnode", "--daemon-interface", "10.0.0.3", "-N", "node3").returncode == 16
    assert mm("mmshutdown", "-N", "node3").returncode == 0
    assert mm("mmcrnodeclass", "grp", "-N", "node3").returncode == 0
    assert mm("mmchnode", "--daemon-interface", "10.0.0.3", "-N", "node3").returncode == 0
    assert _nodes(mm)["node3"]["ipAddress"] == "10.0.0.3"
    assert mm("mmchnode", "--daemon-interface", "node3b", "-N", "node3").returncode == 0
    assert "node3b" in _nodes(mm)
    members = yformat.parse_table(mm("mmlsnodeclass", "grp", "-Y").stdout)[0]["members"]
    assert members == "node3b"


@pytest.mark.parametrize("argv, rc, text", [
    (["--quorum", "--nonquorum", "-N", "node3"], 22, "cannot be used together"),
    (["--manager", "--client", "-N", "node3"], 22, "cannot be used together"),
    (["--nonquorum", "-N", "all"], 22, "at least one quorum node"),
    (["--admin-interface", "a b", "-N", "node3"], 22, "Incorrect host name"),
    (["--admin-interface", "$(reboot)", "-N", "node3"], 22, "Incorrect host name"),
    (["--admin-interface", "x;y", "-N", "node3"], 22, "Incorrect host name"),
    (["--admin-interface", "h", "-N", "node2,node3"], 22, "single node"),
    (["--daemon-interface", "node2", "-N", "node3"], 17, "already defined"),
    (["--quorum", "-N", "nosuch"], 22, "Incorrect node"),
])
def test_mmchnode_refusals(mm, emulator_root, argv, rc, text):
    assert_refused(mm, emulator_root, ["mmchnode", *argv], rc, text)


def test_mmchnode_quorum_loss_refused(mm, emulator_root):
    assert mm("mmshutdown", "-N", "node3").returncode == 0
    # 2 of 3 quorum nodes up; making node1 nonquorum leaves 1 of 2 up: no majority.
    assert_refused(mm, emulator_root, ["mmchnode", "--nonquorum", "-N", "node1"], 22, "lose quorum")


def test_mmchnode_usage(mm):
    assert mm("mmchnode", "--quorum").returncode == 1
    assert "Usage:" in mm("mmchnode", "-N", "node1").stderr
