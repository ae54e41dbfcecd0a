"""Snapshot commands: real point-in-time copies under .snapshots directories."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from gpfskit.commands import yformat
from gpfskit.emulator import snapcopy
from helpers import assert_refused_unchanged, fileset_and_snapshot_state, needs_root, ok

Y_HEADER = ("mmlssnapshot::HEADER:version:reserved:reserved:filesystemName:directory:snapID:"
            "status:created:quotas:data:metadata:fileset:snapType:")


def snapshots(mm, *extra) -> list[dict]:
    return yformat.parse_table(ok(mm("mmlssnapshot", "mmfs1", "-Y", *extra)).stdout)


def refused(mm, root: Path, argv, message: str, rc: int):
    assert_refused_unchanged(mm, argv, rc, message, lambda: fileset_and_snapshot_state(mm, root))


def fileset(mm, mp: Path, name: str, *options: str, at: Path | None = None) -> Path:
    junction = at or mp / name
    ok(mm("mmcrfileset", "mmfs1", name, *options, "-J", str(junction)))
    return junction


def test_no_snapshots(mm):
    for extra in ((), ("-Y",)):
        result = ok(mm("mmlssnapshot", "mmfs1", *extra))
        assert result.stdout == "No snapshots in file system mmfs1\n"


def test_global_snapshot_is_a_point_in_time_copy(mm, mp):
    (mp / "dir").mkdir()
    (mp / "dir" / "file").write_text("version 1")
    (mp / "gone-later").write_text("x")
    result = ok(mm("mmcrsnapshot", "mmfs1", "snap1"))
    assert result.stdout.splitlines() == ["Flushing dirty data for snapshot snap1...",
                                          "Quiescing all file system operations.",
                                          "Snapshot snap1 created with id 1."]
    copy = mp / ".snapshots" / "snap1"
    (mp / "dir" / "file").write_text("version 2, longer")
    (mp / "gone-later").unlink()
    (mp / "new-file").write_text("new")
    assert (copy / "dir" / "file").read_text() == "version 1"
    assert (copy / "gone-later").exists() and not (copy / "new-file").exists()
    assert not (copy / ".snapshots").exists()                 # no snapshots of snapshots
    ok(mm("mmcrsnapshot", "mmfs1", "snap2"))
    assert not (mp / ".snapshots" / "snap2" / ".snapshots").exists()
    assert (mp / ".snapshots" / "snap2" / "dir" / "file").read_text() == "version 2, longer"
    assert stat.S_IMODE((mp / ".snapshots").stat().st_mode) == 0o555


def test_listing_y_and_human(mm, mp):
    ok(mm("mmcrsnapshot", "mmfs1", "g1"))
    fileset(mm, mp, "ind", "--inode-space", "new")
    ok(mm("mmcrsnapshot", "mmfs1", "ind:f1"))
    out = ok(mm("mmlssnapshot", "mmfs1", "-Y")).stdout
    assert out.splitlines()[0] == Y_HEADER
    assert ":0:1:::mmfs1:g1:1:Valid:" in out and "%3A" in out    # encoded time
    rows = yformat.parse_table(out)
    assert [(r["directory"], r["snapID"], r["fileset"], r["data"]) for r in rows] == [
        ("g1", "1", "", "0"), ("f1", "2", "ind", "0")]
    assert out.splitlines()[1].endswith(":0:0:::")
    human = ok(mm("mmlssnapshot", "mmfs1")).stdout.splitlines()
    assert human[0] == "Snapshots in file system mmfs1:"
    assert human[1] == ("Directory                SnapId    Status  Created"
                        "                   Fileset")
    assert human[2].startswith("g1                       1         Valid   ")
    assert human[3].startswith("f1                       2         Valid   ")
    assert human[3][69:] == "ind"


def test_data_sizes(mm, mp):
    (mp / "big").write_bytes(b"z" * 100_000)
    ok(mm("mmcrsnapshot", "mmfs1", "s"))
    copy = mp / ".snapshots" / "s"
    kb = (os.lstat(copy).st_blocks + os.lstat(copy / "big").st_blocks) // 2
    row = snapshots(mm, "-d")[0]
    assert row["data"] == str(kb) and row["metadata"] == "8"       # 2 inodes of 4 KiB
    human = ok(mm("mmlssnapshot", "mmfs1", "-d")).stdout.splitlines()
    assert human[0] == "Snapshots in file system mmfs1: [data and metadata]"
    assert human[1].endswith("Fileset           Data  Metadata")
    assert human[2].split()[-2:] == [str(kb), "8"]
    auto = ok(mm("mmlssnapshot", "mmfs1", "-d", "--block-size", "auto")).stdout
    assert "K" in auto.splitlines()[2] or "M" in auto.splitlines()[2]


def test_fileset_snapshot_forms_and_scope(mm, mp):
    ind = fileset(mm, mp, "ind", "--inode-space", "new")
    dep = fileset(mm, mp, "dep", "--inode-space", "ind", at=ind / "dep")
    nested = fileset(mm, mp, "nested", "--inode-space", "new", at=ind / "nested")
    other = fileset(mm, mp, "other", "--inode-space", "new")
    (ind / "a").write_text("a")
    (dep / "b").write_text("b")
    (nested / "c").write_text("c")
    ok(mm("mmcrsnapshot", "mmfs1", "nested:early"))
    ok(mm("mmcrsnapshot", "mmfs1", "ind:s1"))
    ok(mm("mmcrsnapshot", "mmfs1", "s2", "-j", "ind,other"))
    ok(mm("mmcrsnapshot", "mmfs1", "g,other:s3"))
    copy = ind / ".snapshots" / "s1"
    assert (copy / "a").read_text() == "a"
    assert (copy / "dep" / "b").read_text() == "b"                 # dependent: included
    assert (copy / "nested").is_dir() and list((copy / "nested").iterdir()) == []
    assert not (copy / ".snapshots").exists()
    assert (other / ".snapshots" / "s2").is_dir() and (ind / ".snapshots" / "s2").is_dir()
    assert (other / ".snapshots" / "s3").is_dir() and (mp / ".snapshots" / "g").is_dir()
    glob = mp / ".snapshots" / "g"
    assert (glob / "ind" / "nested" / "c").read_text() == "c"
    assert not (glob / "ind" / ".snapshots").exists()
    assert not (glob / "ind" / "nested" / ".snapshots").exists()
    listed = [(r["fileset"], r["directory"], int(r["snapID"])) for r in snapshots(mm)]
    assert listed == [("nested", "early", 1), ("ind", "s1", 2), ("ind", "s2", 3),
                      ("other", "s2", 4), ("", "g", 5), ("other", "s3", 6)]
    assert [r["directory"] for r in snapshots(mm, "-j", "other")] == ["s2", "s3"]
    assert [r["directory"] for r in snapshots(mm, "-s", "global")] == ["g"]
    assert [r["snapID"] for r in snapshots(mm, "-s", "ind:s2,g")] == ["3", "5"]


def test_fileset_inside_an_unlinked_fileset(mm, mp, emulator_root):
    outer = fileset(mm, mp, "outer", "--inode-space", "new")
    fileset(mm, mp, "inner", "--inode-space", "new", at=outer / "inner")
    ok(mm("mmunlinkfileset", "mmfs1", "outer"))
    refused(mm, emulator_root, ["mmcrsnapshot", "mmfs1", "inner:s"],
            "Fileset inner is linked inside an unlinked fileset", 1)
    ok(mm("mmcrsnapshot", "mmfs1", "g"))
    assert not (mp / ".snapshots" / "g" / "outer").exists()      # unlinked: not in it


def test_global_and_fileset_names_are_separate(mm, mp):
    fileset(mm, mp, "ind", "--inode-space", "new")
    ok(mm("mmcrsnapshot", "mmfs1", "same"))
    ok(mm("mmcrsnapshot", "mmfs1", "ind:same"))
    assert len(snapshots(mm)) == 2


@needs_root
def test_copy_preserves_metadata(mm, mp):
    src = mp / "meta"
    src.mkdir()
    f = src / "file"
    f.write_text("content")
    os.chmod(f, 0o640)
    os.chown(f, 4321, 5432)
    os.utime(f, (1_000_000_000, 1_100_000_000))
    os.setxattr(f, "user.tag", b"blue")
    os.link(f, src / "hard")
    os.symlink("file", src / "sym")
    os.symlink("/nonexistent/target", src / "dangling")
    os.mkfifo(src / "fifo")
    os.chmod(src, 0o751)
    os.utime(src, (1_200_000_000, 1_200_000_000))
    ok(mm("mmcrsnapshot", "mmfs1", "m"))
    copy = mp / ".snapshots" / "m" / "meta"
    st = os.lstat(copy / "file")
    assert (stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid) == (0o640, 4321, 5432)
    assert st.st_mtime == 1_100_000_000
    assert os.getxattr(copy / "file", "user.tag") == b"blue"
    assert os.lstat(copy / "hard").st_ino == st.st_ino          # hard link kept inside
    assert st.st_ino != os.lstat(f).st_ino                       # but not shared with live
    assert os.readlink(copy / "sym") == "file"
    assert os.readlink(copy / "dangling") == "/nonexistent/target"
    assert stat.S_ISFIFO(os.lstat(copy / "fifo").st_mode)
    assert stat.S_IMODE(os.lstat(copy).st_mode) == 0o751
    assert os.lstat(copy).st_mtime == 1_200_000_000
    f.write_text("changed through the hard link")
    assert (copy / "hard").read_text() == "content"


def test_create_refusals(mm, mp, emulator_root):
    fileset(mm, mp, "ind", "--inode-space", "new")
    fileset(mm, mp, "dep")
    ok(mm("mmcrfileset", "mmfs1", "loose", "--inode-space", "new"))
    ok(mm("mmcrsnapshot", "mmfs1", "taken,ind:taken"))
    cases = [
        (["dep:s"], "Fileset dep is a dependent fileset; snapshots can be created only for "
                    "independent filesets.", 1),
        (["s", "-j", "dep"], "dependent fileset", 1),
        (["loose:s"], "Fileset loose is not linked; a snapshot of an unlinked fileset cannot "
                      "be created.", 1),
        (["nosuch:s"], "Fileset named nosuch does not exist.", 2),
        (["root:taken"], "already exists.", 17),      # beside the global ones
        (["same,root:same"], "already exists.", 17),
        (["taken"], "Snapshot taken already exists.", 17),
        (["ind:taken"], "Snapshot ind:taken already exists.", 17),
        (["new1,new1"], "Snapshot new1 already exists.", 17),
        (["fine,dep:bad"], "dependent fileset", 1),                # nothing created at all
        (["with space"], "Incorrect snapshot name", 22),
        (["a/b"], "Incorrect snapshot name", 22),
        (["semi;colon"], "Incorrect snapshot name", 22),
        (["$(reboot)"], "Incorrect snapshot name", 22),
        (["quo'te"], "Incorrect snapshot name", 22),
        (["x" * 300], "Incorrect snapshot name", 22),
        ([".."], "Incorrect snapshot name", 22),
        (["s", "--expiration-time", "tomorrow"], "Incorrect expiration time", 22),
    ]
    for extra, message, rc in cases:
        refused(mm, emulator_root, ["mmcrsnapshot", "mmfs1", *extra], message, rc)
    refused(mm, emulator_root, ["mmcrsnapshot", "nofs", "s"], "is not known", 2)


def test_root_fileset_snapshots_live_beside_the_global_ones(mm, mp):
    fileset(mm, mp, "ind", "--inode-space", "new")
    fileset(mm, mp, "dep")
    (mp / "top.txt").write_text("top")
    (mp / "ind" / "inner.txt").write_text("inner")
    ok(mm("mmcrsnapshot", "mmfs1", "g"))
    ok(mm("mmcrsnapshot", "mmfs1", "r", "-j", "root"))
    rows = {(r["fileset"], r["directory"]) for r in
            yformat.parse_table(mm("mmlssnapshot", "mmfs1", "-Y").stdout)}
    assert rows == {("", "g"), ("root", "r")}
    snap = mp / ".snapshots" / "r"
    assert (snap / "top.txt").read_text() == "top" and (snap / "dep").is_dir()
    assert (snap / "ind").is_dir() and not list((snap / "ind").iterdir())
    assert (mp / ".snapshots" / "g" / "ind" / "inner.txt").read_text() == "inner"
    ok(mm("mmdelsnapshot", "mmfs1", "r", "-j", "root"))
    assert not snap.exists() and (mp / ".snapshots" / "g").is_dir()


def test_delete_removes_the_copy(mm, mp):
    ind = fileset(mm, mp, "ind", "--inode-space", "new")
    ok(mm("mmcrsnapshot", "mmfs1", "g1,g2,ind:f1"))
    result = ok(mm("mmdelsnapshot", "mmfs1", "g1"))
    assert result.stdout.splitlines() == ["Invalidating snapshot files in g1...",
                                          "Deleting files in snapshot g1...",
                                          "Delete snapshot g1 successful."]
    assert not (mp / ".snapshots" / "g1").exists()
    assert sorted(p.name for p in (mp / ".snapshots").iterdir()) == ["g2"]
    ok(mm("mmdelsnapshot", "mmfs1", "f1", "-j", "ind"))
    assert not (ind / ".snapshots").exists()                     # empty .snapshots goes
    ok(mm("mmdelsnapshot", "mmfs1", "g2"))
    assert not (mp / ".snapshots").exists()
    ok(mm("mmcrsnapshot", "mmfs1", "next"))
    assert snapshots(mm)[0]["snapID"] == "4"                       # ids are never reused
    fs_attrs = yformat.parse_table(ok(mm("mmlsfs", "mmfs1", "-Y")).stdout)
    assert {r["fieldName"]: r["data"] for r in fs_attrs}["maxSnapshotId"] == "4"


def test_delete_snapshot_of_an_unlinked_fileset(mm, mp, emulator_root):
    fileset(mm, mp, "ind", "--inode-space", "new")
    ok(mm("mmcrsnapshot", "mmfs1", "ind:s"))
    ok(mm("mmunlinkfileset", "mmfs1", "ind"))
    parked = emulator_root / "filesystems" / "mmfs1" / "filesets" / "1"
    assert (parked / ".snapshots" / "s").is_dir()
    ok(mm("mmdelsnapshot", "mmfs1", "ind:s"))
    assert not (parked / ".snapshots").exists()
    ok(mm("mmdelfileset", "mmfs1", "ind"))


def test_delete_refusals(mm, mp, emulator_root):
    ok(mm("mmcrsnapshot", "mmfs1", "keep"))
    refused(mm, emulator_root, ["mmdelsnapshot", "mmfs1", "nosuch"],
            "Snapshot nosuch does not exist in file system mmfs1.", 2)
    refused(mm, emulator_root, ["mmdelsnapshot", "mmfs1", "keep,nosuch"],
            "Snapshot nosuch does not exist", 2)
    refused(mm, emulator_root, ["mmdelsnapshot", "mmfs1", "nofset:keep"],
            "Fileset named nofset does not exist.", 2)
    refused(mm, emulator_root, ["mmlssnapshot", "mmfs1", "-s", "nosuch"],
            "Snapshot nosuch does not exist", 2)


def test_expiration_time(mm):
    ok(mm("mmcrsnapshot", "mmfs1", "plain"))
    ok(mm("mmcrsnapshot", "mmfs1", "kept", "--expiration-time", "2031-01-02-03:04"))
    human = ok(mm("mmlssnapshot", "mmfs1")).stdout.splitlines()
    assert "ExpirationTime" in human[1]
    assert "Thu Jan  2 03:04:00 2031" in human[3]
    assert human[2][43:67] == human[2][69:93]                    # unset: shows creation


def test_snapcopy_without_reflinks(tmp_path):
    src = tmp_path / "src"
    (src / "d").mkdir(parents=True)
    (src / "d" / "f").write_bytes(os.urandom(300_000))
    stats = snapcopy.copy_tree(src, tmp_path / "plain", reflink=False)
    assert (stats.copied, stats.cloned, stats.directories) == (1, 0, 2)
    assert (tmp_path / "plain" / "d" / "f").read_bytes() == (src / "d" / "f").read_bytes()
    stats = snapcopy.copy_tree(src, tmp_path / "auto")           # clones where supported
    assert stats.copied + stats.cloned == 1
    assert (tmp_path / "auto" / "d" / "f").read_bytes() == (src / "d" / "f").read_bytes()
    with pytest.raises(FileExistsError):
        snapcopy.copy_tree(src, tmp_path / "auto")
    skipped = snapcopy.copy_tree(src, tmp_path / "skip", skip={str(src / "d")})
    assert skipped.directories == 1 and not (tmp_path / "skip" / "d").exists()
