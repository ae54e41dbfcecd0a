"""Cluster, nodes, node classes, NSDs, pools, disks and file systems on the demo cluster."""

from __future__ import annotations

import os
from datetime import datetime

import pytest

from arcapix.fs.gpfs import Cluster, Filesystem, GPFSExecuteException
from arcapix.fs.gpfs.disk import Disk
from arcapix.fs.gpfs.filesystem import getTempFilePath, setTempFilePath
from arcapix.fs.gpfs.node import Node
from arcapix.fs.gpfs.nodeclass import Nodeclass
from arcapix.fs.gpfs.nsd import Nsd
from arcapix.fs.gpfs.pool import Pool
from gpfskit.commands import yformat


def _states(mm) -> dict[str, str]:
    return {r["nodeName"]: r["state"]
            for r in yformat.parse_table(mm("mmgetstate", "-a", "-Y").stdout)}


def test_cluster_properties(emulator_root):
    cluster = Cluster()
    assert cluster.name == "democluster" and cluster.UIDdomain == "democluster"
    assert cluster.id == cluster.clusterId and cluster.clusterId.isdigit()
    assert cluster.RemoteShellCmd == "/usr/bin/ssh"
    assert cluster.RemoteFileCopyCmd == "/usr/bin/scp"
    assert cluster.RepositoryType == "CCR" and cluster.PrimaryConfigServer == "node1"
    assert cluster.SecondaryConfigServer in (None, "node1", "node2")
    assert str(cluster.nodes) == "node1,node2,node3"
    assert str(cluster.nsds).startswith("mmfs1_system_nsd1,")


def test_nodes(emulator_root, mm):
    nodes = Cluster().nodes
    node1 = nodes["node1"]
    assert node1.number == 1 == node1.id and node1.ipAddress == "192.0.2.1"
    assert node1.adminNodeName == "node1" and node1.designation == "quorumManager"
    assert node1.quorum and node1.manager and node1.state == "active"
    assert not nodes["node3"].manager
    nodes["node3"].shutdown()
    assert _states(mm)["node3"] == "down" and Node("node3").state == "down"
    Node("node3").startup()
    assert _states(mm)["node3"] == "active"
    Node("node3").change(designation="quorumManager")
    assert Node("node3").manager and Node("node3").quorum
    with pytest.raises(ValueError):
        Node("node3").change(designation="boss")
    with pytest.raises(ValueError, match="nothing to change"):
        Node("node3").change()
    with pytest.raises(ValueError):
        Node("node1; reboot")
    with pytest.raises(LookupError, match="does not belong"):
        Node("node9").startup()


def test_cluster_shutdown_and_startup(emulator_root, mm):
    cluster = Cluster()
    cluster.shutdown()
    assert set(_states(mm).values()) == {"down"}
    assert {n.state for n in cluster.nodes.values()} == {"down"}
    cluster.startup()
    assert set(_states(mm).values()) == {"active"}


def test_nodeclasses(emulator_root):
    cluster = Cluster()
    assert len(cluster.nodeclasses) == 0
    made = cluster.nodeclasses.new("backup", ["node1", Node("node2")])
    assert made.memberNodes == ["node1", "node2"] and made.exists()
    made.add("node3")
    made.remove(["node1"])
    assert Cluster().nodeclasses["backup"].memberNodes == ["node2", "node3"]
    assert [n.name for n in made.nodes] == ["node2", "node3"]
    with pytest.raises(ValueError, match="not in node class"):
        made.remove("node1")
    with pytest.raises(GPFSExecuteException):
        made.add("node2")                       # already a member: the cluster refuses
    cluster.nodeclasses.destroy("backup")
    assert "backup" not in Cluster().nodeclasses
    pending = Nodeclass("later")
    pending.add("node1")
    assert pending.memberNodes == ["node1"] and not pending.exists()
    pending.create()
    assert Cluster().nodeclasses["later"].memberNodes == ["node1"]
    with pytest.raises(ValueError):
        Nodeclass("all")
    with pytest.raises(ValueError):
        Nodeclass("empty").create()


def test_pools_disks_nsds(emulator_root, mm):
    fs = Filesystem("mmfs1")
    assert list(fs.pools) == ["system", "sas1", "sata1"]
    system = fs.pools["system"]
    assert system.id == 0 and system.metadata and system.blockSize == 4 * 1024 * 1024
    assert fs.pools["sas1"].id == 65537 and not fs.pools["sas1"].metadata
    assert Pool("sata1", "mmfs1").data and Pool("sata1", "mmfs1").totalDataKB > 0
    assert list(system.disks) == ["mmfs1_system_nsd1", "mmfs1_system_nsd2"]
    disk = fs.disks["mmfs1_sas1_nsd1"]
    assert disk.storagepoolName == "sas1" and disk.status == "ready"
    assert disk.availability == "up" and disk.data and not disk.metadata
    assert isinstance(disk.id, int) and isinstance(disk.failureGroup, int)
    assert disk.nsd == Nsd("mmfs1_sas1_nsd1")
    disk.suspend()
    out = mm("mmlsdisk", "mmfs1", "-Y").stdout
    assert {r["nsdName"]: r["status"] for r in yformat.parse_table(out)}[
        "mmfs1_sas1_nsd1"] == "suspended"
    assert Disk("mmfs1_sas1_nsd1").status == "suspended"   # file system found via mmlsnsd
    Disk("mmfs1_sas1_nsd1", "mmfs1").resume()
    assert Disk("mmfs1_sas1_nsd1", "mmfs1").status == "ready"
    nsd = Nsd("mmfs2_system_nsd1")
    assert nsd.filesystemName == "mmfs2" and nsd.volumeId
    assert [n.name for n in nsd.servers] == ["node1", "node2"]
    with pytest.raises(LookupError):
        Pool("nosuch", "mmfs1").id  # noqa: B018
    with pytest.raises(KeyError):
        fs.pools["nosuch"]


def test_filesystem_properties_and_changes(emulator_root, mm):
    fs = Cluster().filesystems["mmfs1"]
    assert fs.name == fs.deviceName == "mmfs1" and fs.blockSize == 4 * 1024 * 1024
    assert fs.snapDir == ".snapshots" and os.path.isdir(fs.mountPoint)
    assert isinstance(fs.createTime, datetime) and fs.id
    assert fs.defaultDataReplicas == 1 and fs.maxDataReplicas == 2
    assert fs.maintenanceMode == "no" and fs.writeCacheThreshold == 0
    assert fs.attributes["storagePools"] == "system;sas1;sata1"
    assert fs.mountedNodes == ["node1", "node2", "node3"]
    with pytest.raises(AttributeError):
        fs.noSuchAttribute  # noqa: B018
    fs.change(defaultDataReplicas=2, automaticMountOption="no", filesetdfEnabled=True)
    rows = {r["fieldName"]: r["data"]
            for r in yformat.parse_table(mm("mmlsfs", "mmfs1", "-Y").stdout)}
    assert rows["defaultDataReplicas"] == "2" and rows["automaticMountOption"] == "no"
    assert rows["filesetdfEnabled"].lower() == "yes"
    assert fs.defaultDataReplicas == 2
    fs.unmount(nodes=["node2"])
    assert fs.mountedNodes == ["node1", "node3"]
    fs.mount(nodes="node2")
    assert fs.mountedNodes == ["node1", "node2", "node3"]
    fs.unmount(nodes="node2,node3")  # several names in one string
    assert fs.mountedNodes == ["node1"]


def test_filesystem_bad_input(emulator_root, commands):
    fs = Filesystem("mmfs1")
    for kwargs in [dict(mountPoint="relative"), dict(defaultDataReplicas=0),
                   dict(automaticMountOption="sometimes"), dict(suppressAtime=3)]:
        with pytest.raises(ValueError):
            fs.change(**kwargs)
    with pytest.raises(TypeError):
        fs.change(colour="red")
    with pytest.raises(ValueError):
        fs.change()
    with pytest.raises(ValueError):
        fs.mount(nodes=["node1", "bad node"])
    with pytest.raises(ValueError):
        fs.mount(nodes="node1,;reboot")
    assert commands.names() == []
    with pytest.raises(ValueError):
        Filesystem("mm fs")
    with pytest.raises(GPFSExecuteException, match="not known to the GPFS cluster"):
        Filesystem("nosuch").mountPoint  # noqa: B018


def test_temp_file_path(emulator_root):
    fs = Filesystem("mmfs1")
    assert getTempFilePath(fs) == os.path.join(fs.mountPoint, ".policytmp")
    setTempFilePath("/var/tmp/policy")
    try:
        assert getTempFilePath(fs) == "/var/tmp/policy" == getTempFilePath()
        with pytest.raises(ValueError):
            setTempFilePath("relative")
    finally:
        setTempFilePath(None)
