"""The API reads output captured from real clusters (storage-scale.md) correctly."""

from __future__ import annotations

from datetime import datetime

from api_fakes import FILESET_HEADER, FILESET_ROWS, QUOTA_HEADER, SNAPSHOT_HEADER

from arcapix.fs.gpfs import Cluster, Disk, Filesystem, Nsd, Pool, Snapshot
from gpfskit.api import DependentFileset, IndependentFileset


def test_real_mmlsfileset_rows(fake):
    fake.outputs[("mmlsfileset", "project", "-Y")] = FILESET_HEADER + "".join(FILESET_ROWS)
    filesets = Filesystem("project").filesets
    assert list(filesets) == ["root", "ibtest", "PAS1136"]
    root, ibtest, pas = filesets.values()
    assert isinstance(root, IndependentFileset) and root.comment == "root fileset"
    assert root.parentId is None and root.id == 0 and root.rootInode == 3
    assert ibtest.path == "/fs/project/ibtest" and ibtest.status == "Linked"
    assert ibtest.created == datetime(2016, 6, 28, 7, 8, 46)
    assert ibtest.maxInodes == 1000000 and ibtest.allocInodes == 556032
    assert ibtest.freeInodes == 544397 and ibtest.inodeSpace == 1
    assert ibtest.permChangeFlag == "chmodAndSetacl"  # any column, by its own name
    assert pas.status == "Unlinked" and pas.path is None and pas.inodeSpace == 164


def test_dependent_fileset_row_and_encoded_comment(fake):
    row = ("mmlsfileset::0:1:::gpfs1:data_db_foo:84:13422254080:Linked:%2Fgpfs1%2Fdata%2Fdb%2F"
           "foo:49:Mon Mar 18 13%3A41%3A34 2024:-:-:end of project%3A 2030-12:off:-:-:-:-:-:-:"
           "-:-:-:-:-:-:25:0:0:0:66846720:-:-:-:-:-:-:-:-:0:-:-:-:chmodAndSetacl:-:0:-:-:\n")
    fake.outputs[("mmlsfileset", "gpfs1", "-Y")] = FILESET_HEADER + row
    fileset = Filesystem("gpfs1").filesets["data_db_foo"]
    assert isinstance(fileset, DependentFileset)
    assert fileset.comment == "end of project: 2030-12"
    assert fileset.path == "/gpfs1/data/db/foo" and fileset.parentId == 49
    assert fileset.maxInodes == 0 and fileset.inodeSpace == 25


def test_real_mmlssnapshot_rows(fake):
    fake.outputs[("mmlssnapshot", "ess", "-Y")] = SNAPSHOT_HEADER + (
        "mmlssnapshot::0:1:::ess:20201115_PAS1736:16337:Valid:Sun Nov 15 02%3A47%3A48 2020::0:"
        "205184:PAS1736::\n"
        "mmlssnapshot::0:1:::ess:20210120:27107:Valid:Wed Jan 20 00%3A30%3A02 2021::"
        "823587352320:529437984:::\n")
    fs = Filesystem("ess")
    assert list(fs.snapshots) == ["20210120"]
    glob = fs.snapshots["20210120"]
    assert glob.id == 27107 and glob.filesetName is None and glob.status == "Valid"
    assert glob.dataInKB == 823587352320 and glob.metadataInKB == 529437984
    assert glob.created == datetime(2021, 1, 20, 0, 30, 2)
    snap = Snapshot("ess", "20201115_PAS1736", "PAS1736")
    assert snap.id == 16337 and snap.metadataInKB == 205184


def test_no_snapshots_message_means_empty(fake):
    fake.failures[("mmlssnapshot", "fs0", "-Y")] = (1, "No snapshots in file system fs0\n")
    assert len(Filesystem("fs0").snapshots) == 0
    fake.outputs[("mmlssnapshot", "fs1", "-Y")] = "No snapshots in file system fs1\n"
    assert len(Filesystem("fs1").snapshots) == 0


def test_real_mmrepquota_rows_of_several_filesystems(fake):
    report = ("*** Report for USR GRP FILESET quotas on project\n" + QUOTA_HEADER +
              "mmrepquota::0:1:::project:FILESET:0:root:337419744:0:0:163840:none:1395:0:0:400:"
              "none:i:on:off:::\n"
              "mmrepquota::0:1:::project:FILESET:408:PZS1003:341467872:2147483648:2147483648:0:"
              "none:6286:2000000:2000000:0:none:e:on:off:::\n"
              "*** Report for USR GRP FILESET quotas on gpfs1\n" + QUOTA_HEADER +
              "mmrepquota::0:1:::gpfs1:USR:62347:62347:455894288:0:0:0:none:25738:0:0:0:none:i:"
              "on:off:117:fileset1:\n")
    fake.outputs[("mmrepquota", "project", "-Y")] = report
    fake.outputs[("mmrepquota", "gpfs1", "-Y")] = report
    quotas = Filesystem("project").quotas
    assert list(quotas) == ["fileset:root", "fileset:PZS1003"]
    quota = quotas["fileset:PZS1003"]
    assert (quota.quotaType, quota.id, quota.name) == ("FILESET", 408, "PZS1003")
    assert quota.blockUsage == 341467872 and quota.blockSoftLimit == 2147483648
    assert quota.blockHardLimit == 2147483648 and quota.filesLimit == 2000000
    assert quota.remarks == "e" and quota.blockGrace == "none"
    assert quotas["fileset:root"].blockInDoubt == 163840
    # A per-fileset user quota belongs to its fileset's collection.
    gpfs1 = Filesystem("gpfs1")
    assert len(gpfs1.quotas) == 0
    fake.outputs[("mmlsfileset", "gpfs1", "-Y")] = FILESET_HEADER + FILESET_ROWS[1].replace(
        "project:ibtest", "gpfs1:fileset1")
    user = gpfs1.filesets["fileset1"].quotas.user["62347"]
    assert user.filesUsage == 25738 and user.filesetName == "fileset1"


def test_real_mmlscluster_and_mmgetstate(fake):
    fake.outputs[("mmlscluster", "-Y")] = (
        "mmlscluster:clusterSummary:HEADER:version:reserved:reserved:clusterName:clusterId:"
        "uidDomain:rshPath:rshSudoWrapper:rcpPath:rcpSudoWrapper:repositoryType:primaryServer:"
        "secondaryServer:\n"
        "mmlscluster:clusterNode:HEADER:version:reserved:reserved:nodeNumber:daemonNodeName:"
        "ipAddress:adminNodeName:designation:otherNodeRoles:adminLoginName:"
        "otherNodeRolesAlias:\n"
        "mmlscluster:clusterSummary:0:1:::cluster.domain.com:2936932203756487754:"
        "cluster.domain.com:/usr/bin/ssh:no:/usr/bin/scp:no:CCR:server-1.domain.com::\n"
        "mmlscluster:clusterNode:0:1:::1:server-1.domain.com:10.0.0.1:server-1.domain.com:"
        "quorum:Z::perfmon:\n"
        "mmlscluster:clusterNode:0:1:::2:server-3.domain.com:10.0.0.4:server-3.domain.com:"
        "quorumManager:Z::perfmon:\n"
        "mmlscluster:clusterNode:0:1:::4:server-2.domain.com:10.0.0.2:server-2.domain.com::"
        "Z,X::perfmon,ces:\n")
    fake.outputs[("mmgetstate", "-a", "-Y")] = (
        "mmgetstate::HEADER:version:reserved:reserved:nodeName:nodeNumber:state:quorum:nodesUp:"
        "totalNodes:remarks:cnfsState:daemonShortName:\n"
        "mmgetstate::0:1:::server-1.domain.com:1:active:1*:2:3:quorum node:(undefined):"
        "server-1:\n"
        "mmgetstate::0:1:::server-3.domain.com:2:arbitrating:1*:2:3:quorum node:(undefined):"
        "server-3:\n")
    cluster = Cluster()
    assert cluster.name == "cluster.domain.com" and cluster.id == "2936932203756487754"
    assert cluster.RepositoryType == "CCR" and cluster.SecondaryConfigServer is None
    assert cluster.PrimaryConfigServer == "server-1.domain.com"
    assert cluster.RemoteShellCmd == "/usr/bin/ssh" and cluster.UIDdomain == "cluster.domain.com"
    nodes = cluster.nodes
    assert list(nodes) == ["server-1.domain.com", "server-3.domain.com", "server-2.domain.com"]
    one, three, two = nodes.values()
    assert one.quorum and not one.manager and three.manager and not two.quorum
    assert two.roles == ["perfmon", "ces"] and two.number == 4
    assert one.state == "active" and three.state == "arbitrating" and two.state == "unknown"
    assert nodes["server-1"] == one and "10.0.0.2" in nodes  # other names find a node too


def test_real_mmlsdisk_mmlspool_mmlsnsd(fake):
    fake.outputs[("mmlsdisk", "gpfs1", "-Y")] = (
        "mmlsdisk::HEADER:version:reserved:reserved:nsdName:driverType:sectorSize:failureGroup:"
        "metadata:data:status:availability:diskID:storagePool:remarks:numQuorumDisks:"
        "readQuorumValue:writeQuorumValue:diskSizeKB:diskUID:thinDiskType:replicaType:\n"
        "mmlsdisk::0:1:::disk1:nsd:512:1:Yes:No:ready:up:42:system::3:2:2:1869606912:"
        "0A0A141A5AFAE37E:::\n"
        "mmlsdisk::0:1:::RG001VS003:nsd:512:1:yes:yes:ready:up:1:system:desc:3:2:2:"
        "130518089728:C0A82D155E83D23B::\n")
    fake.outputs[("mmlspool", "gpfs1")] = (
        "Storage pools in file system at '/gpfs1':\n"
        "Name                    Id   BlkSize Data Meta Total Data in (KB)   Free Data in (KB)"
        "   Total Meta in (KB)    Free Meta in (KB)\n"
        "system                   0      8 MB   no  yes              0              0 (  0%)"
        "    25004867584     9798959104 ( 39%)\n"
        "nvme                 65537      8 MB  yes   no   162531639296   114505474048 ( 70%)"
        "              0              0 (  0%)\n")
    fake.outputs[("mmlsnsd", "-Y")] = (
        "mmlsnsd:nsd:HEADER:version:reserved:reserved:fileSystem:diskName:volumeId:serverList:"
        "thinDisk:\n"
        "mmlsnsd:nsd:0:1:::gpfs1:disk1:0A0A141A5AFAE37E:nsd01%2Cnsd02:no:\n"
        "mmlsnsd:nsd:0:1:::%28free disk%29:spare1:0A0A141A5AFAE380:nsd01:no:\n")
    fs = Filesystem("gpfs1")
    disk = fs.disks["disk1"]
    assert disk.metadata is True and disk.data is False and disk.id == 42
    assert disk.availability == "up" and disk.sizeKB == 1869606912
    assert fs.disks["RG001VS003"].remarks == "desc"
    pools = fs.pools
    assert list(pools) == ["system", "nvme"]
    nvme = pools["nvme"]
    assert nvme.id == 65537 and nvme.blockSize == 8 * 1024 * 1024 and nvme.data
    assert not nvme.metadata and nvme.totalDataKB == 162531639296 and nvme.freeDataPercent == 70
    assert Pool("system", "gpfs1").freeMetaKB == 9798959104
    assert list(pools["system"].disks) == ["disk1", "RG001VS003"]
    assert [n.name for n in Disk("disk1").nsd.servers] == ["nsd01", "nsd02"]
    assert Nsd("spare1").filesystemName is None and Nsd("spare1").disk is None
    assert Nsd("disk1").disk.filesystemName == "gpfs1"


def test_mmlsfs_fields(fake):
    fake.outputs[("mmlsfs", "FS1", "-Y")] = (
        "mmlsfs::HEADER:version:reserved:reserved:deviceName:fieldName:data:remarks:\n"
        "mmlsfs::0:1:::FS1:minFragmentSize:8192::\n"
        "mmlsfs::0:1:::FS1:blockSize:4194304::\n"
        "mmlsfs::0:1:::FS1:quotasEnforced:user;group;fileset::\n"
        "mmlsfs::0:1:::FS1:create-time:Fri Feb 21 01%3A36%3A21 2020::\n"
        "mmlsfs::0:1:::FS1:disks:nsd1;nsd2::\n"
        "mmlsfs::0:1:::FS1:defaultMountPoint:%2Fibm%2FFS1::\n")
    fs = Filesystem("/dev/FS1")
    assert fs.name == "FS1" and fs.mountPoint == "/ibm/FS1" and fs.blockSize == 4194304
    assert fs.createTime == datetime(2020, 2, 21, 1, 36, 21)
    assert fs.minFragmentSize == 8192 and fs.attributes["disks"] == "nsd1;nsd2"
    assert fs.quotasEnforced == "user;group;fileset" and fs.snapDir == ".snapshots"
