"""mmlspool, mmdf, mmlsdisk, mmchdisk, mmlsnsd: capacity measured from the real files."""

from __future__ import annotations

import os
import re
import sqlite3
from pathlib import Path

import pytest

from gpfskit.commands import yformat
from gpfskit.emulator import fileattrs, layout
from helpers import assert_refused, ok

GIB = 1024 * 1024  # KiB


def _write(path: Path, nbytes: int) -> int:
    """A file of ``nbytes`` real bytes; returns the KiB it allocates."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(os.urandom(nbytes))
    return -(-path.stat().st_blocks * 512 // 1024)


def _pools(mm, fs: str = "mmfs1") -> dict[str, dict]:
    rows = yformat.parse(mm("mmdf", fs, "-Y").stdout)[("mmdf", "poolTotal")]
    return {r["poolName"]: r for r in rows}


def _pool_free(mm, pool: str) -> int:
    row = _pools(mm)[pool]
    return int(row["freeBlocks"]) + int(row["freeFragments"])


# mmlspool --------------------------------------------------------------------------------

def test_mmlspool_layout(mm, mp):
    out = mm("mmlspool", "mmfs1").stdout.splitlines()
    assert out[0] == f"Storage pools in file system at '{mp}':"
    assert out[1] == ("Name                    Id   BlkSize Data Meta Total Data in (KB)   "
                      "Free Data in (KB)   Total Meta in (KB)    Free Meta in (KB)")
    assert out[3] == ("sas1                 65537      4 MB  yes   no     2147483648     "
                      "2147483648 (100%)              0              0 (  0%)")
    assert re.fullmatch(r"system {19}0 {6}4 MB  yes  yes {6}209715200 +\d+ \(100%\) {6}"
                        r"209715200 +\d+ \(100%\)", out[2])
    assert [line.split()[0] for line in out[2:]] == ["system", "sas1", "sata1"]
    for line in out[2:]:   # columns end where the real ones do
        assert len(line) == 120


def test_mmlspool_used_space_follows_files_and_pools(mm, mp):
    before = {p: _pool_free(mm, p) for p in ("sas1", "sata1")}
    kb = _write(mp / "data" / "big", 3 * 1024 * 1024)
    after = {p: _pool_free(mm, p) for p in ("sas1", "sata1")}
    assert before["sata1"] - after["sata1"] == kb       # placement: SET POOL 'sata1'
    assert after["sas1"] == before["sas1"]
    assert mm("mmchattr", "-P", "sas1", str(mp / "data" / "big")).returncode == 0
    moved = {p: _pool_free(mm, p) for p in ("sas1", "sata1")}
    assert moved["sata1"] == before["sata1"]
    assert before["sas1"] - moved["sas1"] == kb
    text = mm("mmlspool", "mmfs1", "sas1").stdout
    assert f"{2 * 1024 * GIB - kb:>15} (100%)" in text
    assert "sata1" not in text


def test_snapshots_and_unlinked_filesets(mm, mp, emulator_root):
    base = _pool_free(mm, "sata1")
    _write(mp / layout.SNAPDIR / "snap1" / "copy", 1024 * 1024)
    assert _pool_free(mm, "sata1") == base
    parked = layout.parked_fileset(emulator_root, "mmfs1", 7)
    kb = _write(parked / "inside", 512 * 1024)
    assert base - _pool_free(mm, "sata1") == kb


def test_mmlspool_long_and_errors(mm, emulator_root):
    out = mm("mmlspool", "mmfs1", "all", "-L").stdout
    assert "  name                   = system" in out
    assert "  usage                  = dataAndMetadata" in out
    assert "  usage                  = dataOnly" in out
    assert_refused(mm, emulator_root, ["mmlspool", "mmfs1", "nosuch"], 2, "does not exist")
    assert_refused(mm, emulator_root, ["mmlspool", "nosuch"], 2, "is not known")


# mmdf ------------------------------------------------------------------------------------

def test_mmdf_y_sections(mm, mp):
    kb = _write(mp / "f", 2 * 1024 * 1024)
    tables = yformat.parse(mm("mmdf", "mmfs1", "-Y").stdout)
    assert set(tables) == {("mmdf", s) for s in ("nsd", "poolTotal", "data", "metadata",
                                                 "fsTotal", "inode")}
    nsds = tables[("mmdf", "nsd")]
    assert len(nsds) == 6
    sata = [r for r in nsds if r["storagePool"] == "sata1"]
    assert sum(4096 * GIB - int(r["freeBlocks"]) - int(r["freeFragments"]) for r in sata) == kb
    assert nsds[0]["metadata"] == "Yes" and nsds[2]["metadata"] == "No"
    data = tables[("mmdf", "data")][0]
    assert int(data["totalData"]) == (200 + 2048 + 8192) * GIB
    meta = tables[("mmdf", "metadata")][0]
    assert int(meta["totalMetadata"]) == 200 * GIB
    inode = tables[("mmdf", "inode")][0]
    assert int(inode["usedInodes"]) == 2          # the root directory and f
    assert int(inode["maxInodes"]) == 1_000_000
    assert int(inode["usedInodes"]) + int(inode["freeInodes"]) == int(inode["allocatedInodes"])


def test_mmdf_headers_come_first(mm):
    lines = mm("mmdf", "mmfs1", "-Y").stdout.splitlines()
    kinds = [":HEADER:" in line for line in lines]
    assert kinds == sorted(kinds, reverse=True)


def test_mmdf_inode_counts_real_files(mm, mp):
    for i in range(5):
        (mp / f"d{i}").mkdir()
        (mp / f"d{i}" / "f").write_text("x")
    inode = yformat.parse_table(mm("mmdf", "mmfs1", "-Y", "-F").stdout, "inode")[0]
    assert int(inode["usedInodes"]) == 11


def test_mmdf_options(mm):
    only_pool = yformat.parse(mm("mmdf", "mmfs1", "-P", "sas1", "-Y").stdout)
    assert set(only_pool) == {("mmdf", "nsd"), ("mmdf", "poolTotal")}
    assert [r["poolName"] for r in only_pool[("mmdf", "poolTotal")]] == ["sas1"]
    meta = yformat.parse(mm("mmdf", "mmfs1", "-m", "-Y").stdout)
    assert {r["nsdName"] for r in meta[("mmdf", "nsd")]} == {"mmfs1_system_nsd1",
                                                             "mmfs1_system_nsd2"}
    assert ("mmdf", "data") not in meta
    gib = yformat.parse(mm("mmdf", "mmfs1", "--block-size", "1G", "-Y").stdout)
    assert gib[("mmdf", "nsd")][2]["diskSize"] == "1024"
    assert set(yformat.parse(mm("mmdf", "mmfs1", "-F", "-Y").stdout)) == {("mmdf", "inode")}


def test_mmdf_human(mm):
    out = mm("mmdf", "mmfs1").stdout
    lines = out.splitlines()
    assert lines[0].split() == ["disk", "disk", "size", "failure", "holds", "holds", "free",
                                "KB", "free", "KB"]
    assert lines[2] == ("--------------- ------------- -------- -------- ----- "
                        "-------------------- -------------------")
    assert lines[3].startswith("Disks in storage pool: system (Maximum disk size allowed is")
    assert re.match(r"mmfs1_sas1_nsd1 +1073741824 +1 No +Yes +1073741824 \(100%\) +0 \( 0%\)",
                    out.split("Disks in storage pool: sas1")[1].splitlines()[1])
    assert "(pool total)" in out and "(data)" in out and "(metadata)" in out
    assert "(total)" in out
    assert "Inode Information\n-----------------\nNumber of used inodes:" in out
    tb = mm("mmdf", "mmfs1", "--block-size", "1T").stdout
    assert "free TB" in tb and "in TB" in tb


def test_mmdf_refusals(mm, emulator_root):
    assert_refused(mm, emulator_root, ["mmdf", "nosuch"], 2, "is not known")
    assert_refused(mm, emulator_root, ["mmdf", "mmfs1", "-P", "nosuch"], 2, "does not exist")
    assert_refused(mm, emulator_root, ["mmdf", "mmfs1", "--block-size", "huge"], 22,
                   "Incorrect block size")
    assert mm("mmdf", "mmfs1", "-d", "-m").returncode == 1


def test_mmdf_while_unmounted_measures_offline_tree(mm, mp):
    kb = _write(mp / "f", 1024 * 1024)
    free = _pool_free(mm, "sata1")
    assert mm("mmumount", "mmfs1", "-a").returncode == 0
    assert _pool_free(mm, "sata1") == free
    assert free == 8192 * GIB - kb


# mmlsdisk / mmchdisk -----------------------------------------------------------------------

def _disks(mm, *argv: str) -> dict[str, dict]:
    result = mm("mmlsdisk", "mmfs1", *argv, "-Y")
    assert result.returncode == 0, result.stderr
    return {r["nsdName"]: r for r in yformat.parse_table(result.stdout)}


def test_mmlsdisk_y(mm):
    out = mm("mmlsdisk", "mmfs1", "-Y").stdout
    assert out.splitlines()[0].endswith(":diskSizeKB:diskUID:thinDiskType:replicaType:")
    disks = _disks(mm)
    assert list(disks) == ["mmfs1_system_nsd1", "mmfs1_system_nsd2", "mmfs1_sas1_nsd1",
                           "mmfs1_sas1_nsd2", "mmfs1_sata1_nsd1", "mmfs1_sata1_nsd2"]
    first = disks["mmfs1_system_nsd1"]
    assert (first["driverType"], first["status"], first["availability"], first["storagePool"],
            first["metadata"], first["data"], first["diskSizeKB"]) == (
        "nsd", "ready", "up", "system", "Yes", "Yes", str(100 * GIB))
    assert sum(1 for d in disks.values() if d["remarks"] == "desc") == 3
    assert set(_disks(mm, "-d", "mmfs1_sas1_nsd2;mmfs1_system_nsd1")) == {
        "mmfs1_sas1_nsd2", "mmfs1_system_nsd1"}


def test_mmchdisk_suspend_resume_stop_start(mm):
    assert mm("mmchdisk", "mmfs1", "suspend", "-d", "mmfs1_sata1_nsd1;mmfs1_sas1_nsd1"
              ).returncode == 0
    disks = _disks(mm)
    assert disks["mmfs1_sata1_nsd1"]["status"] == "suspended"
    assert disks["mmfs1_sas1_nsd1"]["status"] == "suspended"
    assert disks["mmfs1_sata1_nsd2"]["status"] == "ready"
    assert mm("mmchdisk", "mmfs1", "stop", "-d", "mmfs1_sata1_nsd2").returncode == 0
    assert _disks(mm)["mmfs1_sata1_nsd2"]["availability"] == "down"
    assert set(_disks(mm, "-e")) == {"mmfs1_sata1_nsd1", "mmfs1_sas1_nsd1", "mmfs1_sata1_nsd2"}
    human = mm("mmlsdisk", "mmfs1").stdout
    assert re.search(r"mmfs1_sata1_nsd1 +nsd +512 +1 No +Yes +suspended +up +sata1", human)
    assert mm("mmchdisk", "mmfs1", "resume", "-d", "mmfs1_sata1_nsd1;mmfs1_sas1_nsd1"
              ).returncode == 0
    assert mm("mmchdisk", "mmfs1", "start", "-a").returncode == 0
    assert mm("mmlsdisk", "mmfs1", "-e").stdout == "All disks up and ready\n"


def test_mmlsdisk_human_long(mm):
    out = mm("mmlsdisk", "mmfs1", "-L").stdout
    lines = out.splitlines()
    assert lines[0].startswith("disk ") and "storage" in lines[0]
    assert "availability disk id pool" in lines[1]
    assert "Number of quorum disks: 3" in out
    assert "Read quorum value:      2" in out


@pytest.mark.parametrize("argv, rc, text", [
    (["mmchdisk", "mmfs1", "suspend", "-d", "nosuch"], 2, "does not belong"),
    (["mmchdisk", "mmfs1", "suspend", "-d", "mmfs2_system_nsd1"], 2, "does not belong"),
    (["mmchdisk", "mmfs1", "suspend", "-d", "mmfs1_sas1_nsd1;x;$(id)"], 2, "does not belong"),
    (["mmchdisk", "mmfs1", "stop", "-d", "mmfs1_system_nsd1;mmfs1_system_nsd2"], 22,
     "no metadata disk"),
    (["mmchdisk", "nosuch", "stop", "-d", "x"], 2, "is not known"),
    (["mmlsdisk", "mmfs1", "-d", "nosuch"], 2, "does not belong"),
])
def test_disk_refusals(mm, emulator_root, argv, rc, text):
    assert_refused(mm, emulator_root, argv, rc, text)


def test_mmchdisk_usage(mm):
    assert mm("mmchdisk", "mmfs1", "explode", "-d", "mmfs1_sas1_nsd1").returncode == 1
    assert mm("mmchdisk", "mmfs1", "suspend").returncode == 1
    assert mm("mmchdisk", "mmfs1", "stop", "-a").returncode == 1


# mmlsnsd ---------------------------------------------------------------------------------

def test_mmlsnsd_variants(mm, emulator_root):
    out = mm("mmlsnsd", "-Y").stdout
    assert out.splitlines()[0] == ("mmlsnsd:nsd:HEADER:version:reserved:reserved:fileSystem:"
                                   "diskName:volumeId:serverList:thinDisk:")
    rows = yformat.parse_table(out, "nsd")
    assert len(rows) == 8 and rows[0]["serverList"] == "node1,node2"
    xout = mm("mmlsnsd", "-X", "-Y").stdout
    assert xout.splitlines()[0] == ("mmlsnsd:nsd:HEADER:version:reserved:reserved:fileSystem:"
                                    "diskName:volumeId:serverList:deviceType:localDiskName:"
                                    "remarks:")
    only = yformat.parse_table(mm("mmlsnsd", "-f", "mmfs2", "-Y").stdout, "nsd")
    assert {r["diskName"] for r in only} == {"mmfs2_system_nsd1", "mmfs2_system_nsd2"}
    db = sqlite3.connect(emulator_root / "state.db")
    with db:
        db.execute("INSERT INTO nsds (name, fs, pool, size_kb, metadata, data, disk_id, "
                   "volume_id) VALUES ('spare', NULL, NULL, 1024, 0, 1, 99, 'C0A80001FFFF')")
    free = yformat.parse_table(mm("mmlsnsd", "-F", "-Y").stdout, "nsd")
    assert [(r["fileSystem"], r["diskName"]) for r in free] == [("(free disk)", "spare")]
    human = mm("mmlsnsd").stdout
    assert " File system   Disk name" in human
    assert re.search(r" \(free disk\) +spare +\(directly attached\)", human)
    assert "NSD volume ID" in mm("mmlsnsd", "-L").stdout
    assert "server node" in mm("mmlsnsd", "-X").stdout


def test_mmlsnsd_refusals(mm, emulator_root):
    assert_refused(mm, emulator_root, ["mmlsnsd", "-d", "nosuch"], 2, "not a known NSD")
    assert_refused(mm, emulator_root, ["mmlsnsd", "-f", "nosuch"], 2, "is not known")
    assert mm("mmlsnsd", "-F", "-f", "mmfs1").returncode == 1


def test_recorded_pool_of_missing_pool_is_ignored(mm, mp):
    path = mp / "odd"
    _write(path, 8192)
    fileattrs.set_pool(path, "gone")
    assert mm("mmdf", "mmfs1", "-Y").returncode == 0


def test_mmchpool_changes_write_affinity_settings(mm, emulator_root):
    ok(mm("mmchpool", "mmfs1", "sas1", "--block-group-factor", "128",
          "--write-affinity-depth", "1"))
    text = mm("mmlspool", "mmfs1", "sas1", "-L").stdout
    assert "blockGroupFactor       = 128" in text
    assert "writeAffinityDepth     = 1" in text
    assert "blockGroupFactor       = 1\n" in mm("mmlspool", "mmfs1", "sata1", "-L").stdout
    assert_refused(mm, emulator_root, ["mmchpool", "mmfs1", "sas1", "--write-affinity-depth",
                                       "7"], 22, "expected a whole number from 0 to 2")
    assert_refused(mm, emulator_root, ["mmchpool", "mmfs1", "nopool", "--block-group-factor",
                                       "2"], 2, "Storage pool nopool does not exist")
    assert mm("mmchpool", "mmfs1", "sas1").returncode == 1  # nothing to change: usage


def test_pool_change_through_the_api(mm, emulator_root):
    from gpfskit.api import Filesystem

    Filesystem("mmfs1").pools["sas1"].change(blockGroupFactor=64)
    assert "blockGroupFactor       = 64" in mm("mmlspool", "mmfs1", "sas1", "-L").stdout


def test_clusters_made_with_schema_1_are_upgraded(mm, emulator_root):
    from gpfskit.emulator import state

    state.forget_connections()
    db = sqlite3.connect(emulator_root / state.DB_NAME)
    db.executescript("""
        CREATE TABLE pools_old AS SELECT fs, name, id, block_size FROM pools;
        DROP TABLE pools;
        ALTER TABLE pools_old RENAME TO pools;
        DROP TABLE intents;
        UPDATE meta SET value = '1' WHERE key = 'schema_version';
    """)
    db.close()
    assert "blockGroupFactor       = 1" in mm("mmlspool", "mmfs1", "-L").stdout
    version = state.connection(emulator_root).execute(
        "SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0]
    assert version == str(state.SCHEMA_VERSION)
