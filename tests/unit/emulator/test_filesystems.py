"""mmlsfs, mmchfs, mmmount, mmumount / mmunmount, mmlsmount on the demo cluster."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from gpfskit.commands import yformat
from gpfskit.emulator import layout
from helpers import assert_refused_unchanged, cluster_files, table_rows


def _db(root: Path) -> sqlite3.Connection:
    db = sqlite3.connect(root / "state.db")
    db.row_factory = sqlite3.Row
    return db


def _fields(mm, *argv: str) -> dict[tuple[str, str], str | None]:
    result = mm("mmlsfs", *argv, "-Y")
    assert result.returncode == 0, result.stderr
    return {(r["deviceName"], r["fieldName"]): r["data"]
            for r in yformat.parse_table(result.stdout)}


def _refused(mm, root: Path, argv: list[str], rc: int, text: str) -> None:
    """Refused, and neither the database nor any file changed."""
    result = assert_refused_unchanged(mm, argv, rc, text,
                                      lambda: (table_rows(root), cluster_files(root)))
    assert "Command failed" in result.stderr


# mmlsfs ------------------------------------------------------------------------------------

def test_mmlsfs_y_all_fields(mm, mp):
    fields = _fields(mm, "mmfs1")
    assert fields[("mmfs1", "defaultMountPoint")] == str(mp)
    assert fields[("mmfs1", "blockSize")] == "4194304"
    assert fields[("mmfs1", "storagePools")] == "system;sas1;sata1"
    assert fields[("mmfs1", "quotasEnforced")] == "user;group;fileset"
    assert fields[("mmfs1", "perfilesetQuotas")] == "No"
    assert fields[("mmfs1", "maxNumberOfInodes")] == "1000000"
    assert fields[("mmfs1", "automaticMountOption")] == "yes"
    assert fields[("mmfs1", "filesystemVersion")] == "35.00 (5.2.3.0)"
    for name in ("create-time", "inodeSize", "filesetdfEnabled", "disks", "UID",
                 "minFragmentSize", "maintenance-mode"):
        assert ("mmfs1", name) in fields


def test_mmlsfs_y_disks_not_encoded_but_paths_are(mm):
    out = mm("mmlsfs", "mmfs1", "-Y", "-d", "-T").stdout
    assert ":disks:mmfs1_system_nsd1;mmfs1_system_nsd2;" in out
    assert ":defaultMountPoint:%2F" in out
    assert "create-time" not in out


def test_mmlsfs_selection_and_all(mm):
    fields = _fields(mm, "all", "-T", "-B")
    assert {name for _, name in fields} == {"defaultMountPoint", "blockSize"}
    assert {fs for fs, _ in fields} == {"mmfs1", "mmfs2"}
    assert {n for _, n in _fields(mm, "mmfs1", "-Q")} == {
        "quotasAccountingEnabled", "quotasEnforced", "defaultQuotasEnabled"}


def test_mmlsfs_human(mm, mp):
    out = mm("mmlsfs", "mmfs1").stdout
    assert out.startswith("File system attributes for /dev/mmfs1:\n=====")
    assert "flag                value                    description" in out
    assert " -B                 4194304                  Block size" in out
    assert f" -T                 {mp}" in out
    assert "                    user;group;fileset       Quotas enforced" in out
    assert " --perfileset-quota No                       Per-fileset quota enforcement" in out


def test_mmlsfs_unknown(mm):
    result = mm("mmlsfs", "nosuch")
    assert result.returncode == 2
    assert "mmlsfs: File system nosuch is not known to the GPFS cluster." in result.stderr
    assert mm("mmlsfs", "/dev/mmfs1", "-T").returncode == 0


# mmchfs ------------------------------------------------------------------------------------

def test_mmchfs_attributes(mm, emulator_root):
    assert mm("mmchfs", "mmfs1", "-Q", "no").returncode == 0
    assert mm("mmchfs", "mmfs1", "--perfileset-quota", "--filesetdf", "-o", "nodev,ro",
              "-r", "2", "-m", "2", "-S", "yes", "--inode-limit", "2M:600000").returncode == 0
    fields = _fields(mm, "mmfs1")
    assert fields[("mmfs1", "quotasEnforced")] == "none"
    assert fields[("mmfs1", "perfilesetQuotas")] == "Yes"
    assert fields[("mmfs1", "filesetdfEnabled")] == "Yes"
    assert fields[("mmfs1", "additionalMountOptions")] == "nodev,ro"
    assert fields[("mmfs1", "defaultDataReplicas")] == "2"
    assert fields[("mmfs1", "defaultMetadataReplicas")] == "2"
    assert fields[("mmfs1", "suppressAtime")] == "yes"
    assert fields[("mmfs1", "maxNumberOfInodes")] == str(2 * 1024 * 1024)
    root_fileset = _db(emulator_root).execute(
        "SELECT max_inodes, alloc_inodes FROM filesets WHERE fs='mmfs1' AND id=0").fetchone()
    assert tuple(root_fileset) == (2 * 1024 * 1024, 600000)
    assert mm("mmchfs", "mmfs1", "-Q", "yes", "--noperfileset-quota").returncode == 0
    fields = _fields(mm, "mmfs1", "-Q", "--perfileset-quota")
    assert fields[("mmfs1", "quotasEnforced")] == "user;group;fileset"
    assert fields[("mmfs1", "perfilesetQuotas")] == "No"


@pytest.mark.parametrize("argv, rc, text", [
    (["-Q", "maybe"], 22, "Incorrect value for the -Q option"),
    (["-A", "sometimes"], 22, "Incorrect value for the -A option"),
    (["-A", "automount"], 16, "must be unmounted"),
    (["-r", "3"], 22, "between 1 and the maximum"),
    (["-m", "0"], 22, "between 1 and the maximum"),
    (["-r", "x"], 22, "between 1 and the maximum"),
    (["--inode-limit", "1000"], 22, "less than the number of allocated inodes"),
    (["--inode-limit", "lots"], 22, "Incorrect --inode-limit value"),
    (["--inode-limit", "2000000:100"], 22, "cannot be decreased"),
    (["--filesetdf", "--nofilesetdf"], 22, "cannot be used together"),
    (["-o", "a b"], 22, "Incorrect mount options"),
    (["-o", "$(reboot)"], 22, "Incorrect mount options"),
    (["-T", "relative/path"], 22, "Incorrect mount point"),
    (["-T", "/gpfs/with space"], 22, "Incorrect mount point"),
    (["-T", "/gpfs/a;b"], 22, "Incorrect mount point"),
    (["-T", '/gpfs/"q"'], 22, "Incorrect mount point"),
    (["-T", "/gpfs/$(id)"], 22, "Incorrect mount point"),
    (["-T", "/gpfs/x/../y"], 22, "Incorrect mount point"),
    (["-T", "/"], 22, "Incorrect mount point"),
    (["-T", "/" + "a" * 300], 22, "Incorrect mount point"),
    (["-W", "mmfs2"], 17, "already exists"),
    (["-W", "all"], 22, "Incorrect file system name"),
    (["-W", "a/b"], 22, "Incorrect file system name"),
    (["-W", "a b"], 22, "Incorrect file system name"),
    (["-W", "x" * 100], 22, "Incorrect file system name"),
    (["-W", "newname"], 16, "must be unmounted on all nodes"),
    (["--write-cache-threshold", "100K"], 22, "multiple of 4K"),
])
def test_mmchfs_refusals(mm, emulator_root, argv, rc, text):
    _refused(mm, emulator_root, ["mmchfs", "mmfs1", *argv], rc, text)


def test_mmchfs_mount_point_in_use(mm, emulator_root):
    other = str(emulator_root / "gpfs" / "mmfs2")
    _refused(mm, emulator_root, ["mmchfs", "mmfs1", "-T", other], 22,
             "already in use by file system mmfs2")
    _refused(mm, emulator_root, ["mmchfs", "mmfs1", "-T", other + "/inner"], 22,
             "already in use by file system mmfs2")


def test_mmchfs_unknown_and_usage(mm):
    assert mm("mmchfs", "nosuch", "-Q", "yes").returncode == 2
    result = mm("mmchfs", "mmfs1")
    assert result.returncode == 1 and "Usage:" in result.stderr


def test_mmchfs_mount_point_takes_effect_at_next_mount(mm, emulator_root, mp):
    (mp / "somefile").write_text("data")
    new = emulator_root / "gpfs" / "moved"
    assert mm("mmchfs", "mmfs1", "-T", str(new)).returncode == 0
    assert _fields(mm, "mmfs1", "-T")[("mmfs1", "defaultMountPoint")] == str(new)
    # Still mounted at the old place until the next mount.
    assert (mp / "somefile").read_text() == "data"
    assert not new.exists()
    assert mm("mmumount", "mmfs1").returncode == 0
    assert not (mp / "somefile").exists() and mp.is_dir()
    assert mm("mmmount", "mmfs1").returncode == 0
    assert (new / "somefile").read_text() == "data"
    assert not (mp / "somefile").exists()
    db = _db(emulator_root)
    assert db.execute("SELECT mounted_at FROM filesystems WHERE name='mmfs1'").fetchone()[0] \
        == str(new)


def test_mmchfs_rename(mm, emulator_root):
    mp2 = emulator_root / "gpfs" / "mmfs2"
    (mp2 / "keep").write_text("x")
    assert mm("mmumount", "mmfs2", "-a").returncode == 0
    assert mm("mmchfs", "mmfs2", "-W", "scratch").returncode == 0
    assert mm("mmlsfs", "mmfs2").returncode == 2
    fields = _fields(mm, "scratch", "-T", "-P", "-d")
    assert fields[("scratch", "storagePools")] == "system"
    assert fields[("scratch", "disks")] == "mmfs2_system_nsd1;mmfs2_system_nsd2"
    db = _db(emulator_root)
    assert db.execute("SELECT count(*) FROM filesets WHERE fs='scratch'").fetchone()[0] == 1
    assert db.execute("SELECT count(*) FROM policies WHERE fs='scratch'").fetchone()[0] == 1
    assert not layout.fs_home(emulator_root, "mmfs2").exists()
    assert mm("mmmount", "scratch", "-a").returncode == 0
    assert (mp2 / "keep").read_text() == "x"


def test_mmchfs_automount_when_unmounted(mm):
    assert mm("mmumount", "mmfs2", "-a").returncode == 0
    assert mm("mmchfs", "mmfs2", "-A", "automount").returncode == 0
    assert _fields(mm, "mmfs2", "-A")[("mmfs2", "automaticMountOption")] == "automount"


# Mounting ---------------------------------------------------------------------------------

def test_unmount_and_mount_move_the_tree(mm, emulator_root, mp):
    (mp / "somefile").write_text("hello")
    (mp / "sub").mkdir()
    inode = (mp / "somefile").stat().st_ino
    result = mm("mmumount", "mmfs1")
    assert result.returncode == 0
    assert "mmumount: Unmounting file systems ..." in result.stdout
    assert mp.is_dir() and not any(mp.iterdir())
    offline = layout.offline_tree(emulator_root, "mmfs1")
    assert (offline / "somefile").read_text() == "hello"
    db = _db(emulator_root)
    assert db.execute("SELECT mounted_at FROM filesystems WHERE name='mmfs1'").fetchone()[0] \
        is None
    rows = yformat.parse_table(mm("mmlsmount", "mmfs1", "-L", "-Y").stdout)
    assert [r["nodeName"] for r in rows] == ["node2", "node3"]
    result = mm("mmmount", "mmfs1")
    assert result.returncode == 0
    assert "mmmount: Mounting file systems ..." in result.stdout
    assert (mp / "somefile").read_text() == "hello"
    assert (mp / "somefile").stat().st_ino == inode
    assert not offline.exists()
    rows = yformat.parse_table(mm("mmlsmount", "mmfs1", "-Y").stdout)
    assert [r["nodeName"] for r in rows] == ["node1", "node2", "node3"]
    assert rows[0]["totalNodes"] == "3" and rows[0]["mountMode"] == "RW"


def test_mount_is_idempotent_and_unmount_alias(mm, mp):
    (mp / "f").write_text("1")
    assert mm("mmmount", "mmfs1").returncode == 0
    assert (mp / "f").exists()
    assert mm("mmunmount", "mmfs1").returncode == 0
    assert mm("mmunmount", "mmfs1").returncode == 0
    assert not (mp / "f").exists()
    assert mm("mmmount", str(mp)).returncode == 0   # by default mount point
    assert (mp / "f").exists()


def test_remote_node_mounts_only_change_the_table(mm, mp):
    (mp / "f").write_text("1")
    assert mm("mmumount", "mmfs1", "-N", "node2,node3").returncode == 0
    assert (mp / "f").exists()
    assert mm("mmlsmount", "mmfs1").stdout == "File system mmfs1 is mounted on 1 nodes.\n"
    assert mm("mmumount", "all", "-a").returncode == 0
    assert not (mp / "f").exists()
    assert mm("mmlsmount", "all").stdout == ("File system mmfs1 is not mounted.\n"
                                             "File system mmfs2 is not mounted.\n")
    assert yformat.parse_table(mm("mmlsmount", "all", "-Y").stdout) == []
    assert mm("mmmount", "mmfs1", "-N", "node3", "-o", "ro").returncode == 0
    assert not (mp / "f").exists()
    rows = yformat.parse_table(mm("mmlsmount", "mmfs1", "-Y").stdout)
    assert [(r["nodeName"], r["mountMode"]) for r in rows] == [("node3", "RO")]
    assert mm("mmmount", "all", "-a").returncode == 0
    assert (mp / "f").exists()
    out = mm("mmlsmount", "mmfs1", "-L").stdout
    assert out.splitlines()[0] == "File system mmfs1 is mounted on 3 nodes:"
    assert "192.0.2.2" in out and "node2" in out


def test_mount_at_alternate_mount_point(mm, emulator_root, mp):
    (mp / "f").write_text("1")
    alt = emulator_root / "gpfs" / "alt"
    assert mm("mmumount", "mmfs1").returncode == 0
    assert mm("mmmount", "mmfs1", str(alt)).returncode == 0
    assert (alt / "f").exists()
    assert mm("mmumount", "mmfs1").returncode == 0
    assert alt.is_dir() and not any(alt.iterdir())
    assert mm("mmmount", "mmfs1").returncode == 0
    assert (mp / "f").exists()


def test_mount_refusals(mm, emulator_root, mp):
    (mp / "f").write_text("1")
    assert mm("mmumount", "mmfs1").returncode == 0
    (mp / "squatter").write_text("in the way")
    _refused(mm, emulator_root, ["mmmount", "mmfs1"], 16, "is not an empty directory")
    (mp / "squatter").unlink()
    _refused(mm, emulator_root, ["mmmount", "nosuch"], 2, "is not known to the GPFS cluster")
    _refused(mm, emulator_root, ["mmmount", "mmfs1", "-N", "nosuch"], 22, "Incorrect node")
    _refused(mm, emulator_root, ["mmmount", "mmfs1", "-o", "ro;reboot"], 22,
             "Incorrect mount options")
    _refused(mm, emulator_root, ["mmmount", "mmfs1", "/gpfs/a b"], 22, "Incorrect mount point")
    _refused(mm, emulator_root, ["mmmount", "mmfs1", str(emulator_root / "gpfs" / "mmfs2")],
             16, "overlaps")
    _refused(mm, emulator_root, ["mmmount", "mmfs1", str(emulator_root / "filesystems")], 16,
             "overlaps the emulator")
    assert mm("mmchfs", "mmfs1", "--maintenance-mode", "yes").returncode == 0
    _refused(mm, emulator_root, ["mmmount", "mmfs1"], 16, "maintenance mode")
    assert mm("mmchfs", "mmfs1", "--maintenance-mode", "no").returncode == 0
    assert mm("mmmount", "mmfs1").returncode == 0
    assert (mp / "f").exists()


def test_mount_on_down_node_refused(mm, emulator_root, mp):
    assert mm("mmshutdown", "-N", "node3").returncode == 0
    assert mm("mmumount", "mmfs1", "-a").returncode == 0
    _refused(mm, emulator_root, ["mmmount", "mmfs1", "-N", "node3"], 19,
             "GPFS is down on node node3")
    # -a mounts where GPFS runs.
    assert mm("mmmount", "mmfs1", "-a").returncode == 0
    rows = yformat.parse_table(mm("mmlsmount", "mmfs1", "-Y").stdout)
    assert [r["nodeName"] for r in rows] == ["node1", "node2"]


def test_mount_usage_errors(mm):
    assert mm("mmmount").returncode == 1
    result = mm("mmmount", "all", "/gpfs/x")
    assert result.returncode == 1 and "Usage:" in result.stderr
    assert mm("mmumount", "mmfs1", "-a", "-N", "node1").returncode == 1


def test_shared_cwd_inside_tree_survives_unmount(mm, mp):
    (mp / "d").mkdir()
    cwd = os.getcwd()
    os.chdir(mp / "d")
    try:
        assert mm("mmumount", "mmfs1", "-f").returncode == 0
        assert mm("mmmount", "mmfs1").returncode == 0
    finally:
        os.chdir(cwd)
    assert (mp / "d").is_dir()
