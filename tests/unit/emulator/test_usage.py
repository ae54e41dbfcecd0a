"""Usage measured from the real files: attribution to filesets, owners, exclusions, speed."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from gpfskit.commands import yformat
from gpfskit.emulator import state, usage
from helpers import needs_root, ok


def fs_row(root: Path, name: str = "mmfs1"):
    db = state.connection(root)
    return db, db.execute("SELECT * FROM filesystems WHERE name = ?", (name,)).fetchone()


def blocks(*paths: Path) -> int:
    return sum(os.lstat(p).st_blocks for p in paths)


@needs_root
def test_files_belong_to_the_deepest_junction(mm, mp, emulator_root):
    ok(mm("mmcrfileset", "mmfs1", "outer", "--inode-space", "new", "-J", str(mp / "outer")))
    ok(mm("mmcrfileset", "mmfs1", "inner", "--inode-space", "outer",
          "-J", str(mp / "outer" / "inner")))
    ok(mm("mmcrfileset", "mmfs1", "parked"))
    parked = emulator_root / "filesystems" / "mmfs1" / "filesets" / "3"
    (mp / "top").write_bytes(b"t" * 5000)
    (mp / "outer" / "o").write_bytes(b"o" * 9000)
    (mp / "outer" / "inner" / "deep").mkdir()
    (mp / "outer" / "inner" / "deep" / "i").write_bytes(b"i" * 20000)
    (parked / "p").write_bytes(b"p" * 3000)
    os.chown(mp / "outer" / "inner" / "deep" / "i", 1111, 2222)
    os.chown(parked / "p", 1111, 3333)
    ok(mm("mmcrsnapshot", "mmfs1", "g,outer:s"))                  # copies are not charged
    (mp / "outer" / "inner" / ".snapshots").mkdir()             # a plain directory here
    db, row = fs_row(emulator_root)
    found = usage.measure(emulator_root, db, row)
    assert found.filesets[0] == usage.Counts((blocks(mp, mp / "top") + 1) // 2, 2)
    assert found.filesets[1].inodes == 2                           # outer dir + o
    inner = mp / "outer" / "inner"
    assert found.filesets[2] == usage.Counts(
        (blocks(inner, inner / "deep", inner / "deep" / "i", inner / ".snapshots") + 1) // 2, 4)
    assert found.filesets[3] == usage.Counts((blocks(parked, parked / "p") + 1) // 2, 2)
    assert found.users[1111] == usage.Counts(
        (blocks(inner / "deep" / "i", parked / "p") + 1) // 2, 2)
    assert found.groups[2222].inodes == 1 and found.groups[3333].inodes == 1
    assert found.fileset_users[(2, 1111)].inodes == 1
    assert found.fileset_groups[(3, 3333)].inodes == 1
    inodes = usage.count_inodes(emulator_root, db, row)
    assert inodes == {fid: counts.inodes for fid, counts in found.filesets.items()}


def test_hard_links_once_and_symlinks_not_followed(mm, mp, emulator_root):
    (mp / "f").write_bytes(b"x" * 50_000)
    os.link(mp / "f", mp / "g")
    os.symlink("/", mp / "to-root")                               # never followed
    os.symlink(str(mp / "f"), mp / "to-f")
    db, row = fs_row(emulator_root)
    found = usage.measure(emulator_root, db, row)
    assert found.filesets[0].inodes == 4                           # root dir, f, 2 links
    assert found.filesets[0].kb == (blocks(mp, mp / "f", mp / "to-root", mp / "to-f")
                                    + 1) // 2
    assert usage.count_inodes(emulator_root, db, row)[0] == 4


def test_places_follow_unlinked_parents(mm, mp, emulator_root):
    ok(mm("mmcrfileset", "mmfs1", "a", "--inode-space", "new", "-J", str(mp / "a")))
    ok(mm("mmcrfileset", "mmfs1", "b", "--inode-space", "a", "-J", str(mp / "a" / "b")))
    ok(mm("mmcrfileset", "mmfs1", "c", "--inode-space", "a", "-J", str(mp / "a" / "b" / "c")))
    ok(mm("mmunlinkfileset", "mmfs1", "a"))
    db, row = fs_row(emulator_root)
    places = usage.fileset_places(emulator_root, row,
                                  db.execute("SELECT * FROM filesets WHERE fs = 'mmfs1'"))
    parked = emulator_root / "filesystems" / "mmfs1" / "filesets" / "1"
    assert places[1].path == parked and places[1].visible is None
    assert places[2].path == parked / "b" and places[3].path == parked / "b" / "c"
    assert places[3].path.is_dir() and not places[3].linked_in_tree
    assert places[0].visible == str(mp)


def test_tree_usage_and_formatting(tmp_path):
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "f").write_bytes(b"1" * 70_000)
    counts = usage.tree_usage(tmp_path)
    assert counts.inodes == 3
    assert counts.kb == (blocks(tmp_path, tmp_path / "d", tmp_path / "d" / "f") + 1) // 2
    assert usage.format_kb(1536) == "1536"
    assert usage.format_kb(1536, None) == "1.5M"
    assert usage.format_kb(48_695_000_000, None) == "45.35T"
    assert usage.format_kb(1536, usage.parse_block_size("1M")) == "2"
    with pytest.raises(ValueError):
        usage.parse_block_size("big")


def test_thousand_filesets_report(mm, mp, emulator_root):
    db, _ = fs_row(emulator_root)
    now = time.time()
    with state.transaction(db, write=True):                        # set-up only: 1000 rows
        for fid in range(1, 1001):
            db.execute("INSERT INTO filesets (fs, id, name, root_inode, status, junction, "
                       "parent_id, created, inode_space, is_inode_space_owner) "
                       "VALUES ('mmfs1', ?, ?, ?, 'Linked', ?, 0, ?, 0, 0)",
                       (fid, f"f{fid}", 4099 + 4096 * fid, f"f{fid}", now))
            (mp / f"f{fid}").mkdir(mode=0o700)
            (mp / f"f{fid}" / "data").write_bytes(b"d" * 100)
    rows = yformat.parse_table(ok(mm("mmrepquota", "-j", "-Y", "mmfs1")).stdout)
    assert len(rows) == 1001
    assert all(r["filesUsage"] == "2" for r in rows if r["name"] != "root")
    listed = yformat.parse_table(ok(mm("mmlsfileset", "mmfs1", "-Y", "-i")).stdout)
    assert len(listed) == 1001
    assert all(r["inodes"] == "2" for r in listed if r["filesetName"] != "root")
