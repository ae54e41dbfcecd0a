"""Fileset commands over real directories: create, link, unlink, change, delete, list."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from gpfskit.commands import yformat
from helpers import MMLSFILESET_HEADER, assert_refused_unchanged, fileset_and_snapshot_state, ok


def filesets(mm, *extra) -> dict[str, dict]:
    rows = yformat.parse_table(ok(mm("mmlsfileset", "mmfs1", "-Y", *extra)).stdout)
    return {r["filesetName"]: r for r in rows}


def raw_row(mm, name: str) -> list[str]:
    for line in ok(mm("mmlsfileset", "mmfs1", "-Y")).stdout.splitlines():
        fields = line.split(":")
        if fields[2] == "0" and fields[7] == name:
            return fields
    raise AssertionError(name)


def refused(mm, root: Path, argv, message: str, rc: int):
    result = assert_refused_unchanged(mm, argv, rc, message,
                                      lambda: fileset_and_snapshot_state(mm, root))
    assert "Command failed" in result.stderr
    return result


def make(mm, mp: Path, name: str, *options: str, link: str | None = None) -> Path:
    ok(mm("mmcrfileset", "mmfs1", name, *options))
    junction = mp / (link or name)
    ok(mm("mmlinkfileset", "mmfs1", name, "-J", str(junction)))
    return junction


# Listing -------------------------------------------------------------------------------

def test_header_is_the_full_5_1_header(mm):
    out = ok(mm("mmlsfileset", "mmfs1", "-Y")).stdout
    assert out.splitlines()[0] == MMLSFILESET_HEADER
    row = yformat.parse_table(out)[0]
    assert "reserved" in row                    # named like the fixed 'reserved' fields
    assert row["afmNumReadThreads"] is None and row["afmReadBufferSize"] is None
    assert len(out.splitlines()[1].split(":")) == len(MMLSFILESET_HEADER.split(":"))


def test_root_fileset_row(mm, mp):
    root = filesets(mm)["root"]
    assert (root["id"], root["rootInode"], root["status"]) == ("0", "3", "Linked")
    assert root["path"] == str(mp)
    assert root["parentId"] is None and raw_row(mm, "root")[12] == "--"
    assert root["comment"] == "root fileset"
    assert root["isInodeSpaceOwner"] == "1" and root["inodeSpace"] == "0"
    assert root["inodes"] is None and root["dataInKB"] is None     # '-' without -i/-d
    assert root["permChangeFlag"] == "chmodAndSetacl"
    assert root["permInheritFlag"] == "inheritAclOnly" and root["falStatus"] == "default"
    assert ":0:1:::mmfs1:root:0:3:Linked:" in ok(mm("mmlsfileset", "mmfs1", "-Y")).stdout


def test_human_listing(mm, mp):
    make(mm, mp, "fset1")
    ok(mm("mmcrfileset", "mmfs1", "parked"))
    out = ok(mm("mmlsfileset", "mmfs1")).stdout.splitlines()
    assert out[0] == "Filesets in file system 'mmfs1':"
    assert out[1] == "Name                     Status    Path"
    assert out[2] == f"root                     Linked    {mp}"
    assert out[3] == f"fset1                    Linked    {mp}/fset1"
    assert out[4] == "parked                   Unlinked  --"


def test_human_long_listing_layout(mm, mp):
    ok(mm("mmcrfileset", "mmfs1", "dir1", "--inode-space", "new", "--inode-limit", "200000"))
    out = ok(mm("mmlsfileset", "mmfs1", "-L")).stdout.splitlines()
    assert out[1] == ("Name                            Id      RootInode  ParentId Created"
                      "                      InodeSpace      MaxInodes    AllocInodes Comment")
    root, dir1 = out[2], out[3]
    # Right edges line up with the reference transcript's columns.
    assert root[:4] == "root" and root[33] == "0" and root[48] == "3" and root[57:59] == "--"
    assert root[130:] == "root fileset"
    assert dir1.split()[:3] == ["dir1", "1", "1048579"]
    assert dir1[114 - len("200000"):114] == "200000"
    assert dir1.endswith("65920")


def test_names_and_junction_selection(mm, mp):
    make(mm, mp, "a")
    make(mm, mp, "b")
    assert list(filesets(mm, "a,b")) == ["a", "b"]
    rows = yformat.parse_table(ok(mm("mmlsfileset", "mmfs1", "-J", str(mp / "b"), "-Y")).stdout)
    assert [r["filesetName"] for r in rows] == ["b"]


def test_unknown_fileset_is_rc_22_for_mmlsfileset(mm):
    result = mm("mmlsfileset", "mmfs1", "nosuch")
    assert result.returncode == 22
    assert "Fileset named nosuch does not exist." in result.stderr
    mixed = mm("mmlsfileset", "mmfs1", "root,nosuch", "-Y")
    assert mixed.returncode == 22
    assert [r["filesetName"] for r in yformat.parse_table(mixed.stdout)] == ["root"]


def test_unknown_filesystem(mm):
    result = mm("mmlsfileset", "nofs")
    assert result.returncode == 2
    assert "File system nofs is not known to the GPFS cluster." in result.stderr


def test_inode_and_data_counts_come_from_files(mm, mp):
    junction = make(mm, mp, "data")
    (junction / "sub").mkdir()
    (junction / "sub" / "f1").write_bytes(b"x" * 10000)
    (junction / "f2").write_bytes(b"y" * 5000)
    os.link(junction / "f2", junction / "f2-again")          # one inode, counted once
    os.symlink("f2", junction / "link")
    kb = sum(os.lstat(p).st_blocks for p in
             [junction, junction / "sub", junction / "sub" / "f1", junction / "f2",
              junction / "link"]) // 2
    row = filesets(mm, "-i", "-d")["data"]
    assert row["inodes"] == "5"
    assert row["dataInKB"] == str(kb)
    assert filesets(mm, "-i")["data"]["dataInKB"] is None
    human = ok(mm("mmlsfileset", "mmfs1", "data", "-i", "-d", "-L")).stdout
    assert "UsedInodes" in human and "Data (in KB)" in human


def test_comment_is_encoded(mm):
    ok(mm("mmcrfileset", "mmfs1", "c1", "-t", "end of project: 2030-12"))
    assert ":end of project%3A 2030-12:" in ok(mm("mmlsfileset", "mmfs1", "-Y")).stdout
    assert filesets(mm)["c1"]["comment"] == "end of project: 2030-12"


# Creating ------------------------------------------------------------------------------

def test_create_makes_an_unlinked_parked_directory(mm, emulator_root):
    result = ok(mm("mmcrfileset", "mmfs1", "dir1"))
    assert result.stdout == "Fileset dir1 created with id 1 root inode 4099.\n"
    parked = emulator_root / "filesystems" / "mmfs1" / "filesets" / "1"
    assert parked.is_dir() and stat.S_IMODE(parked.stat().st_mode) == 0o700
    assert parked.stat().st_uid == os.geteuid()
    row = filesets(mm)["dir1"]
    assert row["status"] == "Unlinked" and row["path"] is None
    fields = raw_row(mm, "dir1")
    assert fields[11] == "%2D%2D" and fields[12] == "--"       # path and parentId
    assert (row["inodeSpace"], row["isInodeSpaceOwner"]) == ("0", "0")
    assert (row["maxInodes"], row["allocInodes"], row["freeInodes"]) == ("0", "0", "0")


def test_independent_filesets_get_inode_spaces(mm):
    out = ok(mm("mmcrfileset", "mmfs1", "ind1", "--inode-space", "new")).stdout
    assert out == "Fileset ind1 created with id 1 root inode 1048579.\n"
    ok(mm("mmcrfileset", "mmfs1", "ind2", "--inode-space", "new",
          "--inode-limit", "2000000:1000000"))
    ok(mm("mmcrfileset", "mmfs1", "dep", "--inode-space", "ind2"))
    rows = filesets(mm)
    assert (rows["ind1"]["inodeSpace"], rows["ind1"]["rootInode"]) == ("1", "1048579")
    assert (rows["ind1"]["maxInodes"], rows["ind1"]["allocInodes"]) == ("100352", "65920")
    assert (rows["ind2"]["inodeSpace"], rows["ind2"]["rootInode"]) == ("2", str(2 * 2**20 + 3))
    assert (rows["ind2"]["maxInodes"], rows["ind2"]["allocInodes"]) == ("2000000", "1000000")
    assert rows["ind2"]["isInodeSpaceOwner"] == "1"
    assert (rows["dep"]["inodeSpace"], rows["dep"]["isInodeSpaceOwner"]) == ("2", "0")
    assert rows["dep"]["maxInodes"] == "0"
    assert int(rows["dep"]["rootInode"]) >> 20 == 2


def test_create_with_junction(mm, mp):
    out = ok(mm("mmcrfileset", "mmfs1", "j1", "-J", str(mp / "j1"))).stdout
    assert out.splitlines() == ["Fileset j1 created with id 1 root inode 4099.",
                                f"Fileset j1 linked at {mp / 'j1'}"]
    assert (mp / "j1").is_dir()
    assert filesets(mm)["j1"]["status"] == "Linked"


BAD_NAMES = ["with space", "a/b", "quo'te", 'dq"uote', "semi;colon", "$(rm -rf /)", "`id`",
             "x" * 300, "root", "new", "a:b", "a,b", "tab\there", "new\nline", "a|b", "a&b",
             "a*b", "a?b", "a#b", "a[1]", "back\\slash", "(paren)"]


@pytest.mark.parametrize("name", BAD_NAMES)
def test_bad_names_refused(mm, emulator_root, name):
    refused(mm, emulator_root, ["mmcrfileset", "mmfs1", name], "Incorrect fileset name", 22)


def test_dash_and_empty_names_refused(mm, emulator_root):
    refused(mm, emulator_root, ["mmcrfileset", "mmfs1", "--", "-x"],
            "must not begin with -", 22)
    refused(mm, emulator_root, ["mmcrfileset", "mmfs1", ""], "must not be empty", 22)


def test_255_characters_is_fine(mm):
    name = "n" * 255
    ok(mm("mmcrfileset", "mmfs1", name))
    assert name in filesets(mm)


def test_duplicate_refused(mm, emulator_root):
    ok(mm("mmcrfileset", "mmfs1", "dup"))
    refused(mm, emulator_root, ["mmcrfileset", "mmfs1", "dup"], "Fileset dup already exists.",
            17)


def test_create_refusals(mm, emulator_root):
    ok(mm("mmcrfileset", "mmfs1", "dep"))
    refused(mm, emulator_root, ["mmcrfileset", "mmfs1", "x", "--inode-space", "dep"],
            "Fileset dep is not an independent fileset", 1)
    refused(mm, emulator_root, ["mmcrfileset", "mmfs1", "x", "--inode-space", "nosuch"],
            "Fileset named nosuch does not exist.", 2)
    refused(mm, emulator_root, ["mmcrfileset", "mmfs1", "x", "--inode-limit", "1000"],
            "--inode-limit option can be used only with --inode-space new", 1)
    refused(mm, emulator_root, ["mmcrfileset", "mmfs1", "x", "--inode-space", "new",
                                "--inode-limit", "1000:2000"], "exceeds the inode limit", 22)
    refused(mm, emulator_root, ["mmcrfileset", "mmfs1", "x", "--inode-space", "new",
                                "--inode-limit", "lots"], "Incorrect inode limit", 22)
    refused(mm, emulator_root, ["mmcrfileset", "nofs", "x"], "is not known", 2)
    refused(mm, emulator_root, ["mmcrfileset", "mmfs1", "x", "-J", "/elsewhere/x"],
            "is not in file system mmfs1", 22)


# Linking -------------------------------------------------------------------------------

def test_link_unlink_relink_keeps_data(mm, mp, emulator_root):
    ok(mm("mmcrfileset", "mmfs1", "proj"))
    out = ok(mm("mmlinkfileset", "mmfs1", "proj", "-J", str(mp / "proj"))).stdout
    assert out == f"Fileset proj linked at {mp / 'proj'}\n"
    (mp / "proj" / "d").mkdir()
    (mp / "proj" / "d" / "file").write_text("payload")
    row = filesets(mm)["proj"]
    assert row["status"] == "Linked" and row["path"] == str(mp / "proj")
    assert row["parentId"] == "0"
    assert ok(mm("mmunlinkfileset", "mmfs1", "proj")).stdout == "Fileset proj unlinked.\n"
    assert not (mp / "proj").exists()
    parked = emulator_root / "filesystems" / "mmfs1" / "filesets" / "1"
    assert (parked / "d" / "file").read_text() == "payload"
    assert filesets(mm)["proj"]["status"] == "Unlinked"
    (mp / "elsewhere").mkdir()
    ok(mm("mmlinkfileset", "mmfs1", "proj", "-J", str(mp / "elsewhere" / "p2")))
    assert (mp / "elsewhere" / "p2" / "d" / "file").read_text() == "payload"
    assert filesets(mm)["proj"]["path"] == str(mp / "elsewhere" / "p2")


def test_link_without_junction_uses_current_directory(mm, mp, monkeypatch):
    ok(mm("mmcrfileset", "mmfs1", "here"))
    (mp / "sub").mkdir()
    monkeypatch.chdir(mp / "sub")
    out = ok(mm("mmlinkfileset", "mmfs1", "here")).stdout
    assert out == f"Fileset here linked at {mp / 'sub' / 'here'}\n"
    assert (mp / "sub" / "here").is_dir()
    ok(mm("mmcrfileset", "mmfs1", "rel"))
    ok(mm("mmlinkfileset", "mmfs1", "rel", "-J", "relative"))
    assert filesets(mm)["rel"]["path"] == str(mp / "sub" / "relative")


def test_unlink_by_junction(mm, mp):
    make(mm, mp, "byj")
    assert ok(mm("mmunlinkfileset", "mmfs1", "-J", str(mp / "byj"))).stdout == \
        "Fileset byj unlinked.\n"


def test_nested_filesets_move_with_their_parent(mm, mp):
    outer = make(mm, mp, "outer", "--inode-space", "new")
    ok(mm("mmcrfileset", "mmfs1", "inner", "--inode-space", "outer"))
    ok(mm("mmlinkfileset", "mmfs1", "inner", "-J", str(outer / "inner")))
    (outer / "inner" / "keep").write_text("nested")
    assert filesets(mm)["inner"]["parentId"] == filesets(mm)["outer"]["id"]
    ok(mm("mmunlinkfileset", "mmfs1", "outer"))
    inner = filesets(mm)["inner"]
    assert inner["status"] == "Linked" and inner["path"] is None
    (mp / "moved").mkdir()
    ok(mm("mmlinkfileset", "mmfs1", "outer", "-J", str(mp / "moved" / "o")))
    assert filesets(mm)["inner"]["path"] == str(mp / "moved" / "o" / "inner")
    assert (mp / "moved" / "o" / "inner" / "keep").read_text() == "nested"
    ok(mm("mmunlinkfileset", "mmfs1", "inner"))
    assert not (mp / "moved" / "o" / "inner").exists()


def test_link_refusals(mm, mp, emulator_root):
    ok(mm("mmcrfileset", "mmfs1", "f"))
    make(mm, mp, "linked")
    (mp / "exists").mkdir()
    outside = emulator_root / "outside"
    outside.mkdir()
    (mp / "escape").symlink_to(outside)
    make(mm, mp, "ind", "--inode-space", "new")
    ok(mm("mmcrsnapshot", "mmfs1", "s1"))
    cases = [
        (["-J", "/tmp/not-gpfs/f"], "is not in file system mmfs1", 22),
        (["-J", f"{mp}/../../../etc/f"], "is not in file system mmfs1", 22),
        (["-J", f"{mp}/escape/f"], "is not in file system mmfs1", 22),
        (["-J", f"{mp}/missing/f"], f"Directory {mp}/missing does not exist.", 2),
        (["-J", f"{mp}/exists"], f"Junction path {mp}/exists already exists.", 17),
        (["-J", str(mp)], "already exists", 17),
        (["-J", f"{mp}/.snapshots/s1/f"], "is in a snapshot directory", 22),
        (["-J", f"{mp}/ind/f"], "can only be linked within its own inode space", 1),
    ]
    for extra, message, rc in cases:
        refused(mm, emulator_root, ["mmlinkfileset", "mmfs1", "f", *extra], message, rc)
    refused(mm, emulator_root, ["mmlinkfileset", "mmfs1", "linked", "-J", f"{mp}/again"],
            "Fileset linked is already linked", 1)
    refused(mm, emulator_root, ["mmlinkfileset", "mmfs1", "nosuch", "-J", f"{mp}/x"],
            "Fileset named nosuch does not exist.", 2)


def test_unlink_refusals(mm, mp, emulator_root):
    ok(mm("mmcrfileset", "mmfs1", "idle"))
    refused(mm, emulator_root, ["mmunlinkfileset", "mmfs1", "root"],
            "The root fileset cannot be unlinked.", 1)
    refused(mm, emulator_root, ["mmunlinkfileset", "mmfs1", "nosuch"],
            "Fileset named nosuch does not exist.", 2)
    refused(mm, emulator_root, ["mmunlinkfileset", "mmfs1", "idle"],
            "Fileset idle is already unlinked.", 1)
    refused(mm, emulator_root, ["mmunlinkfileset", "mmfs1", "-J", f"{mp}/nowhere"],
            "is not a fileset junction", 2)


# Deleting ------------------------------------------------------------------------------

def test_delete(mm, emulator_root):
    ok(mm("mmcrfileset", "mmfs1", "gone"))
    result = ok(mm("mmdelfileset", "mmfs1", "gone"))
    assert result.stdout.splitlines() == ["Checking fileset ...", "Checking fileset complete.",
                                          "Deleting fileset ...", "Fileset gone deleted."]
    assert "gone" not in filesets(mm)
    assert not (emulator_root / "filesystems" / "mmfs1" / "filesets" / "1").exists()


def test_delete_non_empty_needs_force(mm, mp, emulator_root):
    junction = make(mm, mp, "full")
    (junction / "data").write_text("x")
    ok(mm("mmunlinkfileset", "mmfs1", "full"))
    refused(mm, emulator_root, ["mmdelfileset", "mmfs1", "full"],
            "Fileset full contains user files, but -f was not specified.", 1)
    ok(mm("mmdelfileset", "mmfs1", "full", "-f"))
    assert "full" not in filesets(mm)
    parked_home = emulator_root / "filesystems" / "mmfs1" / "filesets"
    assert list(parked_home.iterdir()) == []


def test_delete_refusals(mm, mp, emulator_root):
    make(mm, mp, "linked")
    ok(mm("mmcrfileset", "mmfs1", "ind", "--inode-space", "new"))
    ok(mm("mmcrfileset", "mmfs1", "dep", "--inode-space", "ind"))
    make(mm, mp, "snapped", "--inode-space", "new")
    ok(mm("mmcrsnapshot", "mmfs1", "snapped:s1"))
    ok(mm("mmunlinkfileset", "mmfs1", "snapped"))
    holder = make(mm, mp, "holder", "--inode-space", "new")
    ok(mm("mmcrfileset", "mmfs1", "held", "--inode-space", "holder", "-J", str(holder / "h")))
    ok(mm("mmunlinkfileset", "mmfs1", "holder"))
    box = make(mm, mp, "box")
    ok(mm("mmcrfileset", "mmfs1", "boxed", "--inode-space", "new", "-J", str(box / "b")))
    ok(mm("mmunlinkfileset", "mmfs1", "box"))
    refused(mm, emulator_root, ["mmdelfileset", "mmfs1", "box", "-f"],
            "Fileset box contains linked filesets (boxed); unlink them first.", 1)
    refused(mm, emulator_root, ["mmdelfileset", "mmfs1", "root"],
            "The root fileset cannot be deleted.", 1)
    refused(mm, emulator_root, ["mmdelfileset", "mmfs1", "nosuch"],
            "Fileset named nosuch does not exist.", 2)
    refused(mm, emulator_root, ["mmdelfileset", "mmfs1", "linked"],
            "Fileset linked is linked; unlink it before deleting it.", 1)
    refused(mm, emulator_root, ["mmdelfileset", "mmfs1", "ind", "-f"],
            "Fileset ind has dependent filesets (dep)", 1)
    refused(mm, emulator_root, ["mmdelfileset", "mmfs1", "snapped", "-f"],
            "Fileset snapped has fileset snapshots (s1)", 1)
    refused(mm, emulator_root, ["mmdelfileset", "mmfs1", "holder", "-f"],
            "has dependent filesets (held)", 1)


def test_fileset_in_a_global_snapshot_stays_deleted_until_the_snapshot_goes(mm, mp):
    junction = make(mm, mp, "old")
    (junction / "f").write_text("kept in the snapshot")
    ok(mm("mmcrsnapshot", "mmfs1", "before"))
    ok(mm("mmunlinkfileset", "mmfs1", "old"))
    ok(mm("mmdelfileset", "mmfs1", "old", "-f"))
    rows = filesets(mm)
    assert "old" not in rows and rows["(old)"]["status"] == "Deleted"
    assert rows["(old)"]["snapId"] == "1"
    assert list(filesets(mm, "--deleted")) == ["(old)"]
    human = ok(mm("mmlsfileset", "mmfs1", "-L")).stdout
    assert "(old)" in human and "before" in human
    assert (mp / ".snapshots" / "before" / "old" / "f").read_text() == "kept in the snapshot"
    ok(mm("mmcrfileset", "mmfs1", "old"))                     # the name is free again
    ok(mm("mmdelsnapshot", "mmfs1", "before"))
    rows = filesets(mm)
    assert "(old)" not in rows and rows["old"]["status"] == "Unlinked"
    # The new fileset is held by a snapshot taken after it was created.
    ok(mm("mmcrsnapshot", "mmfs1", "later"))
    ok(mm("mmdelfileset", "mmfs1", "old"))
    assert "old" not in filesets(mm) and "(old)" in filesets(mm)


def test_snapshots_after_the_delete_do_not_hold_a_deleted_fileset(mm, mp):
    ok(mm("mmcrfileset", "mmfs1", "x"))
    ok(mm("mmcrsnapshot", "mmfs1", "s1,s2"))
    ok(mm("mmdelfileset", "mmfs1", "x"))
    ok(mm("mmcrsnapshot", "mmfs1", "s3"))
    row = filesets(mm)["(x)"]
    assert (row["status"], row["snapId"], row["parentId"]) == ("Deleted", "2", None)
    ok(mm("mmdelsnapshot", "mmfs1", "s2"))
    assert filesets(mm)["(x)"]["snapId"] == "1"
    ok(mm("mmdelsnapshot", "mmfs1", "s1"))
    assert "(x)" not in filesets(mm)


# Changing ------------------------------------------------------------------------------

def test_rename_and_comment(mm, mp):
    make(mm, mp, "before", "--inode-space", "new")
    ok(mm("mmcrsnapshot", "mmfs1", "before:s1"))
    ok(mm("mmsetquota", "mmfs1:before", "--block", "1G"))
    assert ok(mm("mmchfileset", "mmfs1", "before", "-j", "after", "-t", "new: comment")
              ).stdout == "Fileset before changed.\n"
    row = filesets(mm)["after"]
    assert row["comment"] == "new: comment" and "before" not in filesets(mm)
    snaps = yformat.parse_table(ok(mm("mmlssnapshot", "mmfs1", "-Y")).stdout)
    assert [(s["directory"], s["fileset"]) for s in snaps] == [("s1", "after")]
    quota = yformat.parse_table(ok(mm("mmlsquota", "-j", "after", "-Y", "mmfs1")).stdout)[0]
    assert quota["blockQuota"] == str(1024 * 1024)


def test_change_refusals(mm, mp, emulator_root):
    ok(mm("mmcrfileset", "mmfs1", "ind", "--inode-space", "new", "--inode-limit", "200000:70000"))
    ok(mm("mmcrfileset", "mmfs1", "dep"))
    ok(mm("mmcrfileset", "mmfs1", "other"))
    refused(mm, emulator_root, ["mmchfileset", "mmfs1", "root", "-j", "x"],
            "The root fileset cannot be renamed.", 1)
    refused(mm, emulator_root, ["mmchfileset", "mmfs1", "root", "-t", "x"],
            "The comment of the root fileset cannot be changed.", 1)
    refused(mm, emulator_root, ["mmchfileset", "mmfs1", "dep", "-j", "other"],
            "Fileset other already exists.", 17)
    refused(mm, emulator_root, ["mmchfileset", "mmfs1", "dep", "-j", "bad name"],
            "Incorrect fileset name", 22)
    refused(mm, emulator_root, ["mmchfileset", "mmfs1", "dep", "-t", "x" * 256],
            "longer than 255", 22)
    refused(mm, emulator_root, ["mmchfileset", "mmfs1", "ind", "--inode-limit", "60000"],
            "less than the number of allocated inodes", 1)
    refused(mm, emulator_root, ["mmchfileset", "mmfs1", "ind", "--inode-limit", "300000:1000"],
            "preallocated inodes cannot be decreased", 1)
    refused(mm, emulator_root, ["mmchfileset", "mmfs1", "dep", "--inode-limit", "300000"],
            "dependent fileset", 1)
    refused(mm, emulator_root, ["mmchfileset", "mmfs1", "nosuch", "-t", "x"],
            "Fileset named nosuch does not exist.", 2)


def test_inode_limit_increase(mm):
    ok(mm("mmcrfileset", "mmfs1", "ind", "--inode-space", "new", "--inode-limit", "200000"))
    ok(mm("mmchfileset", "mmfs1", "ind", "--inode-limit", "400000:100000"))
    row = filesets(mm)["ind"]
    assert (row["maxInodes"], row["allocInodes"]) == ("400000", "100000")


def test_afm_attributes(mm, emulator_root):
    ok(mm("mmcrfileset", "mmfs1", "cache", "--inode-space", "new",
          "-p", "afmTarget=nfs://home/export", "-p", "afmMode=ro"))
    row = filesets(mm)["cache"]
    assert (row["afmTarget"], row["afmMode"], row["isInodeSpaceOwner"]) == (
        "nfs://home/export", "ro", "1")
    ok(mm("mmchfileset", "mmfs1", "cache", "-p", "afmNumReadThreads=8"))
    assert filesets(mm)["cache"]["afmNumReadThreads"] == "8"
    assert list(filesets(mm, "--afm")) == ["cache"]
    refused(mm, emulator_root, ["mmcrfileset", "mmfs1", "x", "-p", "color=blue"],
            "Incorrect AFM attribute: color=blue", 22)
    refused(mm, emulator_root, ["mmchfileset", "mmfs1", "root", "-p", "afmMode=rw"],
            "Fileset root is not an AFM fileset.", 1)
