"""mmlsattr and mmchattr: GPFS attributes kept as extended attributes on the real files."""

from __future__ import annotations

import os
import re
import sqlite3
from pathlib import Path

import pytest

from gpfskit.emulator import fileattrs, layout
from helpers import assert_refused_unchanged, ok, table_rows


def _xattrs(path: Path) -> dict[str, bytes]:
    return {n: os.getxattr(path, n) for n in os.listxattr(path)}


@pytest.fixture
def f(mp: Path) -> Path:
    path = mp / "dir" / "file.dat"
    path.parent.mkdir()
    path.write_bytes(b"x" * 5000)
    return path


def _long(mm, path: Path | str) -> dict[str, str]:
    result = mm("mmlsattr", "-L", str(path))
    assert result.returncode == 0, result.stderr
    values = {}
    for line in result.stdout.splitlines():
        label, _, value = line.partition(":")
        values[label] = value.strip()
    return values


def _refused(mm, root: Path, files: list[Path], argv: list[str], rc: int, text: str) -> None:
    """Refused, leaving the database and the attributes and flags of ``files`` as they were."""
    assert_refused_unchanged(mm, argv, rc, text, lambda: (
        table_rows(root),
        {p: _xattrs(p) for p in files},
        {p: fileattrs.linux_flags(p) for p in files},
    ))


def test_mmlsattr_long_defaults(mm, f):
    values = _long(mm, f)
    assert values["file name"] == str(f)
    assert values["metadata replication"] == "1 max 2"
    assert values["data replication"] == "1 max 2"
    assert values["immutable"] == "no" and values["appendOnly"] == "no"
    assert values["storage pool name"] == "sata1"          # placement default
    assert values["fileset name"] == "root"
    assert values["snapshot name"] == ""
    assert values["Misc attributes"] == "ARCHIVE"
    assert values["creation time"]
    out = mm("mmlsattr", "-L", str(f)).stdout
    assert out.splitlines()[0] == f"file name:            {f}"
    assert "storage pool name:    sata1" in out


def test_mmlsattr_table(mm, f, mp):
    out = mm("mmlsattr", str(f), str(mp / "dir")).stdout.splitlines()
    assert out[:3] == ["  replication factors", "metadata(max) data(max) file    [flags]",
                       "------------- --------- ---------------"]
    assert out[3] == f"      1 (  2)   1 (  2) {f}"
    assert out[4] == f"      1 (  2)   1 (  2) {mp / 'dir'}"


def test_mmchattr_pool_and_replicas(mm, f, mp):
    assert mm("mmchattr", "-P", "sas1", "-r", "2", "-m", "2", str(f)).returncode == 0
    assert os.getxattr(f, "user.gpfskit.pool") == b"sas1"
    values = _long(mm, f)
    assert values["storage pool name"] == "sas1"
    assert values["data replication"] == "2 max 2"
    assert values["metadata replication"] == "2 max 2"
    assert mm("mmchattr", "-P", "system", "-I", "defer", str(f)).returncode == 0
    assert _long(mm, f)["storage pool name"] == "system"
    # The recorded pool travels with the file through a rename and an unmount/mount.
    os.rename(f, mp / "renamed")
    assert mm("mmumount", "mmfs1").returncode == 0
    assert mm("mmmount", "mmfs1").returncode == 0
    assert _long(mm, mp / "renamed")["storage pool name"] == "system"


def test_directory_is_system_pool(mm, mp, f):
    values = _long(mm, mp / "dir")
    assert values["storage pool name"] == "system"
    assert values["Misc attributes"] == "DIRECTORY"


def test_placement_follows_installed_policy(mm, f, emulator_root):
    db = sqlite3.connect(emulator_root / "state.db")
    with db:
        db.execute("UPDATE policies SET text = ? WHERE fs = 'mmfs1'",
                   ("RULE 'a' SET POOL 'system' WHERE NAME LIKE '%.tmp'\n"
                    "RULE 'default' SET POOL 'sas1'\n",))
    assert _long(mm, f)["storage pool name"] == "sas1"
    with db:
        db.execute("DELETE FROM policies WHERE fs = 'mmfs1'")
    # No SET POOL rule: the first non-system data pool.
    assert _long(mm, f)["storage pool name"] == "sas1"


def test_immutable_and_append_only(mm, f):
    assert mm("mmchattr", "-i", "yes", str(f)).returncode == 0
    values = _long(mm, f)
    assert values["immutable"] == "yes"
    assert "[immutable]" in mm("mmlsattr", str(f)).stdout
    if os.geteuid() == 0 and fileattrs.linux_flags(f) & fileattrs.FS_IMMUTABLE_FL:
        with pytest.raises(PermissionError):
            f.write_bytes(b"changed")
    # Pool changes are still possible on an immutable file.
    assert mm("mmchattr", "-P", "sas1", str(f)).returncode == 0
    assert _long(mm, f)["storage pool name"] == "sas1"
    assert mm("mmchattr", "-i", "no", "-a", "yes", str(f)).returncode == 0
    values = _long(mm, f)
    assert values["immutable"] == "no" and values["appendOnly"] == "yes"
    if os.geteuid() == 0 and fileattrs.linux_flags(f) & fileattrs.FS_APPEND_FL:
        with open(f, "ab") as handle:
            handle.write(b"more")
        with pytest.raises(PermissionError):
            f.write_bytes(b"truncated")
    assert mm("mmchattr", "-a", "no", str(f)).returncode == 0
    assert _long(mm, f)["appendOnly"] == "no"
    assert fileattrs.linux_flags(f) & (fileattrs.FS_APPEND_FL | fileattrs.FS_IMMUTABLE_FL) == 0
    f.write_bytes(b"free again")


def test_user_extended_attributes(mm, f):
    assert mm("mmchattr", "--set-attr", "user.color=dark red", "--set-attr",
              "user.empty=", "--set-attr", "user.eq=a=b", str(f)).returncode == 0
    assert os.getxattr(f, "user.color") == b"dark red"
    out = mm("mmlsattr", "--get-attr", "user.color", str(f)).stdout
    assert out == f'file name:            {f}\nuser.color:           "dark red"\n'
    dump = mm("mmlsattr", "-d", str(f)).stdout
    assert 'user.eq:              "a=b"' in dump
    assert "gpfskit" not in dump
    long_dump = mm("mmlsattr", "-L", "--dump-attr", str(f)).stdout
    assert "storage pool name:" in long_dump and "user.color:" in long_dump
    assert mm("mmchattr", "--delete-attr", "user.color", str(f)).returncode == 0
    assert "user.color" not in os.listxattr(f)


def test_fileset_and_snapshot_names(mm, mp, emulator_root):
    (mp / "proj" / "deep").mkdir(parents=True)
    (mp / "proj" / "deep" / "x").write_text("1")
    (mp / layout.SNAPDIR / "s1").mkdir(parents=True)
    (mp / layout.SNAPDIR / "s1" / "y").write_text("1")
    db = sqlite3.connect(emulator_root / "state.db")
    with db:
        for fid, name, junction, status in ((1, "proj", "proj", "Linked"),
                                            (2, "parked", None, "Unlinked")):
            db.execute("INSERT INTO filesets (fs, id, name, root_inode, status, junction, "
                       "parent_id, created, inode_space, is_inode_space_owner) "
                       "VALUES ('mmfs1', ?, ?, 1000, ?, ?, 0, 0, 0, 0)",
                       (fid, name, status, junction))
    assert _long(mm, mp / "proj" / "deep" / "x")["fileset name"] == "proj"
    assert _long(mm, mp / "proj")["fileset name"] == "proj"
    snap = _long(mm, mp / layout.SNAPDIR / "s1" / "y")
    assert snap["snapshot name"] == "s1" and snap["fileset name"] == "root"
    result = mm("mmchattr", "-P", "sas1", str(mp / layout.SNAPDIR / "s1" / "y"))
    assert result.returncode == 30 and "read-only" in result.stderr
    result = mm("mmchattr", "-i", "yes", str(mp / "proj"))
    assert result.returncode == 1 and "root directory" in result.stderr


def test_relative_paths_and_dotdot(mm, f, mp):
    cwd = os.getcwd()
    os.chdir(mp / "dir")
    try:
        assert _long(mm, "file.dat")["file name"] == "file.dat"
        assert mm("mmchattr", "-P", "sas1", "../dir/./file.dat").returncode == 0
    finally:
        os.chdir(cwd)
    assert _long(mm, f)["storage pool name"] == "sas1"


def test_refusals(mm, emulator_root, mp, f, tmp_path):
    outside = tmp_path / "outside.txt"
    outside.write_text("not gpfs")
    (mp / "escape").symlink_to(outside)
    files = [f, outside]
    cases = [
        (["mmchattr", "-P", "nosuch", str(f)], 2, "Storage pool nosuch does not exist"),
        (["mmchattr", "-P", "sas1", str(f), str(mp / "missing")], 2, "No such file"),
        (["mmchattr", "-P", "sas1", str(outside)], 22, "not in a GPFS file system"),
        (["mmchattr", "-P", "sas1", str(mp / "escape")], 22, "not in a GPFS file system"),
        (["mmchattr", "-P", "sas1", str(mp / ".." / ".." / "state.db")], 22,
         "not in a GPFS file system"),
        (["mmchattr", "-P", "sas1", f"{mp}/dir/../../mmfs1/../../x"], 22,
         "not in a GPFS file system"),
        (["mmchattr", "-P", "sas1", str(mp / "dir")], 21, "is a directory"),
        (["mmchattr", "-r", "3", str(f)], 22, "between 1 and the maximum"),
        (["mmchattr", "-m", "0", str(f)], 22, "between 1 and the maximum"),
        (["mmchattr", "-r", "two", str(f)], 22, "between 1 and the maximum"),
        (["mmchattr", "-i", "maybe", str(f)], 22, "Valid values are: yes, no"),
        (["mmchattr", "-a", "YES", str(f)], 22, "Valid values are: yes, no"),
        (["mmchattr", "-I", "later", str(f)], 22, "Valid values are: yes, defer"),
        (["mmchattr", "-i", "yes", str(mp)], 1, "root directory"),
        (["mmchattr", "--set-attr", "color=red", str(f)], 22, "names start with 'user.'"),
        (["mmchattr", "--set-attr", "user.gpfskit.pool=sas1", str(f)], 22, "reserved"),
        (["mmchattr", "--set-attr", "user.x", str(f)], 22, "expected Name=Value"),
        (["mmchattr", "--set-attr", "user." + "n" * 300 + "=1", str(f)], 22,
         "Incorrect extended attribute name"),
        (["mmchattr", "--set-attr", "user.big=" + "v" * 70000, str(f)], 22, "too long"),
        (["mmchattr", "--delete-attr", "user.absent", str(f)], 61, "is not set"),
        (["mmchattr", "--set-attr", "user.a=1", "--delete-attr", "user.a", str(f)], 22,
         "both set and deleted"),
        (["mmchattr", "-P", "sas1", str(f), "/etc/passwd"], 22, "not in a GPFS file system"),
        (["mmchattr", "-P", "sas1;rm", str(f)], 2, "does not exist"),
        (["mmchattr", "-P", "$(id)", str(f)], 2, "does not exist"),
        (["mmlsattr", "--get-attr", "user.absent", str(f)], 61, "is not set"),
        (["mmlsattr", "-L", str(mp / "missing file")], 2, "No such file"),
    ]
    for argv, rc, text in cases:
        _refused(mm, emulator_root, files, argv, rc, text)


def test_metadata_only_pool_refused(mm, emulator_root, f):
    db = sqlite3.connect(emulator_root / "state.db")
    with db:
        db.execute("INSERT INTO pools (fs, name, id, block_size) "
                   "VALUES ('mmfs1', 'metaonly', 65540, 4194304)")
        db.execute("INSERT INTO nsds (name, fs, pool, size_kb, metadata, data, disk_id, "
                   "volume_id) VALUES ('m1', 'mmfs1', 'metaonly', 1024, 1, 0, 50, 'AA')")
    _refused(mm, emulator_root, [f], ["mmchattr", "-P", "metaonly", str(f)], 22,
             "holds no data disks")


def test_immutable_blocks_xattr_changes(mm, emulator_root, f):
    assert mm("mmchattr", "-i", "yes", str(f)).returncode == 0
    _refused(mm, emulator_root, [f], ["mmchattr", "--set-attr", "user.a=1", str(f)], 1,
             "immutable or append-only")
    # Lifting immutability in the same command allows it.
    assert mm("mmchattr", "-i", "no", "--set-attr", "user.a=1", str(f)).returncode == 0
    assert os.getxattr(f, "user.a") == b"1"


def test_unmounted_file_system_refused(mm, emulator_root, f):
    assert mm("mmumount", "mmfs1").returncode == 0
    result = mm("mmlsattr", "-L", str(f))
    assert result.returncode == 22 and "not in a GPFS file system" in result.stderr


def test_several_files_all_or_nothing(mm, emulator_root, mp, f):
    other = mp / "other"
    other.write_text("1")
    _refused(mm, emulator_root, [f, other],
             ["mmchattr", "-P", "sas1", str(f), str(other), str(mp / "nope")], 2,
             "No such file")
    assert mm("mmchattr", "-P", "sas1", str(f), str(other)).returncode == 0
    assert fileattrs.recorded_pool(other) == "sas1" and fileattrs.recorded_pool(f) == "sas1"


def test_fileattrs_save_restore(f):
    saved = fileattrs.save(f)
    fileattrs.set_pool(f, "sas1")
    fileattrs.set_immutable(f, True)
    fileattrs.restore(f, saved)
    assert fileattrs.recorded_pool(f) is None
    assert not fileattrs.immutable(f)
    assert fileattrs.linux_flags(f) & fileattrs.FS_IMMUTABLE_FL == 0


def test_per_file_maximum_replicas(mm, mp):
    path = mp / "replicated"
    path.write_bytes(b"x")
    ok(mm("mmchattr", "-M", "3", "-R", "3", "-m", "3", "-r", "3", str(path)))
    text = mm("mmlsattr", "-L", str(path)).stdout
    assert re.search(r"metadata replication:\s+3 max 3", text)
    assert re.search(r"data replication:\s+3 max 3", text)
    refused = mm("mmchattr", "-R", "2", str(path))  # below the file's current 3 replicas
    assert refused.returncode == 22 and "current replicas (3)" in refused.stderr
    other = mp / "plain"
    other.write_bytes(b"y")
    assert mm("mmchattr", "-r", "3", str(other)).returncode == 22  # fs maximum is 2


def test_max_replicas_through_the_api(emulator_root, mp):
    from gpfskit.api import File

    path = mp / "api-file"
    path.write_bytes(b"z")
    File(str(path)).change(maxDataReplication=3, dataReplication=3)
    fresh = File(str(path))
    assert (fresh.dataReplication, fresh.maxDataReplication) == (3, 3)
