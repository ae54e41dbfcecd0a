"""The -Y parser on real captured output quoted in storage-scale.md."""

from gpfskit.commands import yformat

MMLSFILESET = """\
mmlsfileset::HEADER:version:reserved:reserved:filesystemName:filesetName:id:rootInode:status:path:parentId:created:inodes:dataInKB:comment:filesetMode:afmTarget:afmState:afmMode:afmFileLookupRefreshInterval:afmFileOpenRefreshInterval:afmDirLookupRefreshInterval:afmDirOpenRefreshInterval:afmAsyncDelay:afmNeedsRecovery:afmExpirationTimeout:afmRPO:afmLastPSnapId:inodeSpace:isInodeSpaceOwner:maxInodes:allocInodes:inodeSpaceMask:afmShowHomeSnapshots:afmNumReadThreads:reserved:afmReadBufferSize:afmWriteBufferSize:afmReadSparseThreshold:afmParallelReadChunkSize:afmParallelReadThreshold:snapId:afmNumFlushThreads:afmPrefetchThreshold:afmEnableAutoEviction:permChangeFlag:afmParallelWriteThreshold:freeInodes:afmNeedsResync:afmParallelWriteChunkSize:afmNumWriteThreads:afmPrimaryID:afmDRState:afmAssociatedPrimaryId:afmDIO:afmGatewayNode:afmIOFlags:
mmlsfileset::0:1:::project:root:0:3:Linked:%2Ffs%2Fproject:--:Wed May 18 10%3A41%3A35 2016:-:-:root fileset:off:-:-:-:-:-:-:-:-:-:-:-:-:0:1:300000000:102052224:2692530176:-:-:-:-:-:-:-:-:0:-:-:-:chmodAndSetacl:-:102045986:-:-:-:-:-:-:-:-:-:
mmlsfileset::0:1:::project:PAS1136:2:17255366659:Unlinked:%2D%2D:--:Wed Nov 22 14%3A29%3A26 2017:-:-::off:-:-:-:-:-:-:-:-:-:-:-:-:164:1:1100000:1000000:2692530176:-:-:-:-:-:-:-:-:0:-:-:-:chmodAndSetacl:-:989069:-:-:-:-:-:-:-:-:-:
mmlsfileset::0:1:::gpfs1:data_db_foo:84:13422254080:Linked:%2Fgpfs1%2Fdata%2Fdb%2Ffoo:49:Mon Mar 18 13%3A41%3A34 2024:-:-:end of project%3A 2030-12:off:-:-:-:-:-:-:-:-:-:-:-:-:25:0:0:0:66846720:-:-:-:-:-:-:-:-:0:-:-:-:chmodAndSetacl:-:0:
"""

MMREPQUOTA = """\
*** Report for USR GRP FILESET quotas on gpfs1
mmrepquota::HEADER:version:reserved:reserved:filesystemName:quotaType:id:name:blockUsage:blockQuota:blockLimit:blockInDoubt:blockGrace:filesUsage:filesQuota:filesLimit:filesInDoubt:filesGrace:remarks:quota:defQuota:fid:filesetname:
mmrepquota::0:1:::gpfs1:USR:62347:62347:455894288:0:0:0:none:25738:0:0:0:none:i:on:off:117:fileset1:
*** Report for USR GRP FILESET quotas on project
mmrepquota::HEADER:version:reserved:reserved:filesystemName:quotaType:id:name:blockUsage:blockQuota:blockLimit:blockInDoubt:blockGrace:filesUsage:filesQuota:filesLimit:filesInDoubt:filesGrace:remarks:quota:defQuota:fid:filesetname:
mmrepquota::0:1:::project:FILESET:0:root:337419744:0:0:163840:none:1395:0:0:400:none:i:on:off:::
mmrepquota::0:1:::project:FILESET:408:PZS1003:341467872:2147483648:2147483648:0:none:6286:2000000:2000000:0:none:e:on:off:::
"""

MMDF = """\
mmdf:nsd:HEADER:version:reserved:reserved:nsdName:storagePool:diskSize:failureGroup:metadata:data:freeBlocks:freeBlocksPct:freeFragments:freeFragmentsPct:diskAvailableForAlloc:
mmdf:poolTotal:HEADER:version:reserved:reserved:poolName:poolSize:freeBlocks:freeBlocksPct:freeFragments:freeFragmentsPct:maxDiskSize:
mmdf:fsTotal:HEADER:version:reserved:reserved:fsSize:freeBlocks:freeBlocksPct:freeFragments:freeFragmentsPct:
mmdf:nsd:0:1:::P_META_VD102:system:771751936:300:Yes:No:320274944:41:5005384:1::
mmdf:poolTotal:0:1:::system:783308292096:380564840448:49:10024464464:1:1153081262080:
mmdf:fsTotal:0:1:::3661677723648:481202021888:14:12117655064:0:
"""


def test_fileset_rows_decoded_with_nulls():
    rows = yformat.parse_table(MMLSFILESET)
    assert [r["filesetName"] for r in rows] == ["root", "PAS1136", "data_db_foo"]
    root, unlinked, linked = rows
    assert root["path"] == "/fs/project"
    assert root["parentId"] is None
    assert root["created"] == "Wed May 18 10:41:35 2016"
    assert root["comment"] == "root fileset"
    assert unlinked["path"] is None  # %2D%2D decodes to '--'
    assert linked["comment"] == "end of project: 2030-12"
    assert linked["isInodeSpaceOwner"] == "0"


def test_duplicate_column_names_kept_apart():
    row = yformat.parse_table(MMLSFILESET)[0]
    assert "reserved" in row and "reserved_2" not in row  # the fixed fields are not columns
    header = MMLSFILESET.splitlines()[0].split(":")[6:-1]
    assert header.count("reserved") == 1
    rows = yformat.parse_table(
        "x::HEADER:version:reserved:reserved:a:reserved:b:reserved:\nx::0:1:::1:2:3:4:\n")
    assert rows == [{"a": "1", "reserved": "2", "b": "3", "reserved_2": "4"}]


def test_short_and_long_rows_zip_to_shorter():
    # The third fileset row above stops early; the first ones are longer than the header.
    rows = yformat.parse_table(MMLSFILESET)
    assert rows[2]["freeInodes"] == "0"
    assert "afmIOFlags" not in rows[2]
    assert rows[0]["afmIOFlags"] is None


def test_report_lines_and_repeated_headers():
    rows = yformat.parse_table(MMREPQUOTA)
    assert [(r["filesystemName"], r["name"]) for r in rows] == [
        ("gpfs1", "62347"), ("project", "root"), ("project", "PZS1003")]
    assert rows[0]["filesetname"] == "fileset1"
    assert rows[1]["fid"] == ""  # empty stays empty: only '-', '--' and '(undefined)' are null


def test_multi_section_output():
    tables = yformat.parse(MMDF)
    assert tables[("mmdf", "nsd")][0]["nsdName"] == "P_META_VD102"
    assert tables[("mmdf", "poolTotal")][0]["poolSize"] == "783308292096"
    assert tables[("mmdf", "fsTotal")][0]["freeBlocksPct"] == "14"
    assert yformat.parse_table(MMDF, "poolTotal")[0]["poolName"] == "system"


def test_undefined_and_nulls_optional():
    line = ("mmgetstate::HEADER:version:reserved:reserved:nodeName:nodeNumber:state:quorum:"
            "nodesUp:totalNodes:remarks:cnfsState:daemonShortName:\n"
            "mmgetstate::0:1:::filer1:1:active:2:3:88:quorum node:(undefined):filer1:\n")
    row = yformat.parse_table(line)[0]
    assert row["cnfsState"] is None and row["remarks"] == "quorum node"
    assert yformat.parse_table(line, nulls=False)[0]["cnfsState"] == "(undefined)"


def test_non_y_lines_ignored():
    assert yformat.parse("No snapshots in file system fs1\n") == {}
