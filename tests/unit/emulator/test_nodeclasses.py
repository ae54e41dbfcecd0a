"""mmcrnodeclass, mmchnodeclass, mmdelnodeclass, mmlsnodeclass."""

from __future__ import annotations

import pytest

from gpfskit.commands import yformat
from helpers import assert_refused, table_rows


def _classes(mm, *argv: str) -> dict[str, tuple[str, str]]:
    result = mm("mmlsnodeclass", *argv, "-Y")
    assert result.returncode == 0, result.stderr
    return {r["nodeclass"]: (r["type"], r["members"] or "")
            for r in yformat.parse_table(result.stdout)}


def test_lifecycle(mm):
    assert _classes(mm) == {}
    result = mm("mmcrnodeclass", "storage", "-N", "node1,node2")
    assert result.returncode == 0
    assert "mmcrnodeclass: Propagating the cluster configuration data" in result.stderr
    assert _classes(mm) == {"storage": ("user", "node1,node2")}
    assert mm("mmchnodeclass", "storage", "add", "-N", "node3").returncode == 0
    assert _classes(mm)["storage"] == ("user", "node1,node2,node3")
    assert mm("mmchnodeclass", "storage", "delete", "-N", "node1").returncode == 0
    assert _classes(mm)["storage"] == ("user", "node2,node3")
    assert mm("mmchnodeclass", "storage", "replace", "-N", "node1").returncode == 0
    assert _classes(mm)["storage"] == ("user", "node1")
    assert mm("mmdelnodeclass", "storage").returncode == 0
    assert _classes(mm) == {}


def test_y_header_and_encoding(mm):
    assert mm("mmcrnodeclass", "pair", "-N", "node2,node3").returncode == 0
    out = mm("mmlsnodeclass", "-Y").stdout
    assert out.splitlines() == [
        "mmlsnodeclass::HEADER:version:reserved:reserved:nodeclass:type:members:",
        "mmlsnodeclass::0:1:::pair:user:node2%2Cnode3:"]


def test_classes_expand_in_node_specs(mm):
    assert mm("mmcrnodeclass", "inner", "-N", "node2").returncode == 0
    assert mm("mmcrnodeclass", "outer", "-N", "inner,node3").returncode == 0
    assert _classes(mm)["outer"] == ("user", "node2,node3")
    assert mm("mmcrnodeclass", "quorum_all", "-N", "quorumnodes").returncode == 0
    assert _classes(mm)["quorum_all"][1] == "node1,node2,node3"
    rows = yformat.parse_table(mm("mmgetstate", "-N", "outer", "-Y").stdout)
    assert [r["nodeName"] for r in rows] == ["node2", "node3"]


def test_system_and_all_listing(mm):
    assert mm("mmcrnodeclass", "mine", "-N", "node1").returncode == 0
    system = _classes(mm, "--system")
    assert "mine" not in system
    assert system["quorumNodes"] == ("system", "node1,node2,node3")
    assert system["managerNodes"] == ("system", "node1,node2")
    assert system["clientNodes"] == ("system", "node3")
    assert system["nsdNodes"] == ("system", "node1,node2")
    every = _classes(mm, "--all")
    assert every["mine"][0] == "user" and "quorumNodes" in every
    assert set(_classes(mm, "mine,managerNodes")) == {"mine", "managerNodes"}


def test_human_listing(mm):
    assert mm("mmcrnodeclass", "mine", "-N", "node1,node3").returncode == 0
    lines = mm("mmlsnodeclass").stdout.splitlines()
    assert lines[0].startswith("Node Class Name       Members")
    assert lines[1].startswith("--------------------- ----")
    assert lines[2] == "mine                  node1,node3"


@pytest.mark.parametrize("name", [
    "all", "ALL", "quorumnodes", "QuorumNodes", "managerNodes", "mount", "clientnodes",
    "node1", "has space", "semi;colon", "$(reboot)", "with/slash", "'quoted'", "9starts",
    "x" * 65, "", "-dash"])
def test_bad_class_names(mm, emulator_root, name):
    before = table_rows(emulator_root)
    result = mm("mmcrnodeclass", name, "-N", "node1")
    assert result.returncode in (1, 22), result.stderr
    assert table_rows(emulator_root) == before


def test_refusals(mm, emulator_root):
    assert mm("mmcrnodeclass", "grp", "-N", "node1").returncode == 0
    assert_refused(mm, emulator_root, ["mmcrnodeclass", "grp", "-N", "node2"], 17, "already exists")
    assert_refused(mm, emulator_root, ["mmcrnodeclass", "other", "-N", "nosuch"], 22,
                   "Incorrect node nosuch")
    assert_refused(mm, emulator_root, ["mmchnodeclass", "grp", "add", "-N", "node1"], 17,
                   "already a member")
    assert_refused(mm, emulator_root, ["mmchnodeclass", "grp", "delete", "-N", "node2"], 2,
                   "not a member")
    assert_refused(mm, emulator_root, ["mmchnodeclass", "grp", "delete", "-N", "node1"], 22,
                   "empty")
    assert_refused(mm, emulator_root, ["mmchnodeclass", "grp", "add", "-N", "nosuch"], 22,
                   "Incorrect node")
    assert_refused(mm, emulator_root, ["mmchnodeclass", "nosuch", "add", "-N", "node1"], 2,
                   "does not exist")
    assert_refused(mm, emulator_root, ["mmchnodeclass", "quorumNodes", "add", "-N", "node1"], 22,
                   "system node class")
    assert_refused(mm, emulator_root, ["mmdelnodeclass", "nosuch"], 2, "does not exist")
    assert_refused(mm, emulator_root, ["mmdelnodeclass", "grp,nosuch"], 2, "does not exist")
    assert_refused(mm, emulator_root, ["mmdelnodeclass", "all"], 22, "system node class")
    assert_refused(mm, emulator_root, ["mmlsnodeclass", "nosuch"], 2, "does not exist")
    assert mm("mmchnodeclass", "grp", "rename", "-N", "node1").returncode == 1
    assert mm("mmcrnodeclass", "x").returncode == 1
    assert mm("mmlsnodeclass", "grp", "--all").returncode == 1


def test_delete_several(mm):
    for name in ("a1", "a2", "a3"):
        assert mm("mmcrnodeclass", name, "-N", "node1").returncode == 0
    assert mm("mmdelnodeclass", "a1,a3").returncode == 0
    assert set(_classes(mm)) == {"a2"}
