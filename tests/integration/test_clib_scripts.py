"""The C library API from a script author's side, on the demo cluster.

One demo cluster per module is made with the CLI (``gpfskit emulator init --demo``) in a
private config directory, given an independent fileset ``proj`` and a snapshot ``s1`` taken
before some changes; every scenario then runs as a fresh Python process, like a script, and
writes what it found to a file that the test checks against the files on disk.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent


def _run(env: dict[str, str], *argv: str) -> str:
    done = subprocess.run(list(argv), env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> dict:
    base = tmp_path_factory.mktemp("clib")
    env = dict(os.environ, GPFSKIT_CONFIG=str(base / "config"))
    root = base / "cluster"
    _run(env, str(BIN / "gpfskit"), "emulator", "init", "--demo", "--root", str(root))
    mp = root / "gpfs" / "mmfs1"
    mm = [str(BIN / "gpfskit"), "mm"]
    _run(env, *mm, "mmcrfileset", "mmfs1", "proj", "--inode-space", "new")
    _run(env, *mm, "mmlinkfileset", "mmfs1", "proj", "-J", str(mp / "proj"))
    (mp / "proj" / "data").mkdir()
    (mp / "proj" / "data" / "results.csv").write_text("a,b\n1,2\n")
    (mp / "proj" / "notes.txt").write_text("hello\n")
    (mp / "home" / "link-to-proj").symlink_to(mp / "proj")
    _run(env, *mm, "mmcrsnapshot", "mmfs1", "s1")
    with open(mp / "proj" / "notes.txt", "a") as f:
        f.write("written after s1\n")
    (mp / "proj" / "late.txt").write_text("new\n")
    return {"env": env, "root": root, "mp": mp, "base": base}


def script(cluster: dict, body: str) -> object:
    """Run ``body`` as a fresh Python process; it writes JSON to the file named OUT."""
    out = cluster["base"] / f"out-{os.urandom(4).hex()}.json"
    code = f"MP = {str(cluster['mp'])!r}\nOUT = {str(out)!r}\n" + textwrap.dedent(body)
    _run(cluster["env"], sys.executable, "-c", code)
    return json.loads(out.read_text())


def truth(mp: Path, kinds: str = "dirs+files") -> dict[str, os.stat_result]:
    """Every path below ``mp`` as the file system shows it (no .snapshots where hidden),
    or only what ``os.walk`` lists as files."""
    found = {}
    for root, dirs, files in os.walk(mp):
        if root in (str(mp), str(mp / "proj")):
            dirs[:] = [d for d in dirs if d != ".snapshots"]
        for name in (files if kinds == "files" else dirs + files):
            path = os.path.join(root, name)
            found[path] = os.lstat(path)
    return found


def test_a_tree_walk_writes_path_and_size_to_a_file(cluster):
    listing = cluster["base"] / "sizes.txt"
    script(cluster, f"""
        import json, os
        from arcapix.fs.gpfs.clib.utils import walk
        from arcapix.fs.gpfs.clib.stat import lstatlite
        with open({str(listing)!r}, "w") as out:
            for root, dirs, files in walk(MP):
                for name in files:
                    path = os.path.join(root, name)
                    out.write(f"{{path}}\\t{{lstatlite(path).st_size}}\\n")
        json.dump(None, open(OUT, "w"))
    """)
    written = dict(line.split("\t") for line in listing.read_text().splitlines())
    expected = {p: st.st_size for p, st in truth(cluster["mp"], "files").items()}
    assert {p: int(s) for p, s in written.items()} == expected
    assert str(cluster["mp"] / "proj" / "late.txt") in written
    assert not any("/.snapshots/" in p for p in written)


def test_an_inode_scan_joined_to_a_walk_by_inode_number(cluster):
    found = script(cluster, """
        import json, os
        from arcapix.fs.gpfs.clib import fssnap, inode, utils, stat
        paths = {}
        for root, dirs, files in utils.walk(MP):
            for name in dirs + files:
                path = os.path.join(root, name)
                paths[stat.lstatlite(path).st_ino] = path
        handle = fssnap.get_fssnaphandle_by_name(utils.get_fsname_by_path(MP))
        scan = inode.open_inodescan(handle)
        rows = []
        for ia in iter(lambda: inode.next_inode(scan), None):
            rows.append({"path": paths.get(ia.ia_inode), "ino": ia.ia_inode,
                         "size": ia.ia_size, "mode": ia.ia_mode, "mtime": ia.ia_mtime,
                         "fileset": inode.igetfilesetname(ia.ia_filesetid, scan),
                         "pool": inode.igetstoragepool(ia.ia_datapoolid, scan),
                         "fields": len(ia._fields)})
        inode.close_inodescan(scan)
        fssnap.free_fssnaphandle(handle)
        json.dump(rows, open(OUT, "w"))
    """)
    mp = cluster["mp"]
    on_disk = truth(mp)
    inos = [r["ino"] for r in found]
    assert inos == sorted(inos) and len(set(inos)) == len(inos)
    by_path = {r["path"]: r for r in found if r["path"]}
    unnamed = [r for r in found if r["path"] is None]
    assert [r["ino"] for r in unnamed] == [os.lstat(mp).st_ino]   # only the root has no name
    assert set(by_path) == set(on_disk)
    for path, st in on_disk.items():
        row = by_path[path]
        assert (row["size"], row["mode"]) == (st.st_size, st.st_mode), path
        assert row["mtime"] == pytest.approx(st.st_mtime, abs=1e-6)
        assert row["fields"] == 27
        in_proj = path.startswith(str(mp / "proj"))
        assert row["fileset"] == ("proj" if in_proj else "root"), path
        if os.path.isdir(path) and not os.path.islink(path):
            assert row["pool"] == "system"
    assert by_path[str(mp / "proj" / "notes.txt")]["pool"] == "sata1"


def test_file_calls_answer_from_the_emulator(cluster):
    found = script(cluster, """
        import json, os
        from arcapix.fs.gpfs import clib
        from arcapix.fs.gpfs.clib import file
        out = {}
        for rel in ("proj/notes.txt", "home", ".snapshots/s1/proj/notes.txt"):
            fd = os.open(os.path.join(MP, rel), os.O_RDONLY)
            out[rel] = [clib.get_fileset_name(fd), clib.get_storage_pool(fd),
                        file.get_snapshot_name(fd), file.get_replication(fd)["dataReplicas"]]
            os.close(fd)
        json.dump(out, open(OUT, "w"))
    """)
    assert found == {"proj/notes.txt": ["proj", "sata1", "", 1],
                     "home": ["root", "system", "", 1],
                     ".snapshots/s1/proj/notes.txt": ["proj", "sata1", "s1", 1]}
    shown = subprocess.run([str(BIN / "gpfskit"), "mm", "mmlsattr", "-L",
                            str(cluster["mp"] / "proj" / "notes.txt")], env=cluster["env"],
                           capture_output=True, text=True).stdout
    assert "sata1" in shown and "proj" in shown


def test_a_clone_script_falls_back_to_a_copy_where_clones_are_not_emulated(cluster):
    proj = cluster["mp"] / "proj"
    try:
        found = script(cluster, """
            import errno, json, os, shutil
            from arcapix.fs.gpfs.clib import clone
            src = os.path.join(MP, "proj", "data", "results.csv")
            parent, dst = src + ".parent", os.path.join(MP, "proj", "results-copy.csv")
            try:
                clone.clone_snap(src, parent)
                clone.clone_copy(parent, dst)
                how = "clone"
            except OSError as e:
                if e.errno != errno.ENOSYS:
                    raise
                shutil.copy2(src, dst)
                how = "copy"
            json.dump({"how": how, "parent": os.path.exists(parent)}, open(OUT, "w"))
        """)
        assert found == {"how": "copy", "parent": False}
        assert (proj / "results-copy.csv").read_text() == (
            proj / "data" / "results.csv").read_text()
    finally:
        (proj / "results-copy.csv").unlink(missing_ok=True)


def test_a_snapshot_handle_scans_the_snapshot_copy(cluster):
    found = script(cluster, """
        import json, os
        from arcapix.fs.gpfs.clib import fssnap, inode, utils, ifile
        out = {}
        live = fssnap.get_fssnaphandle_by_name("mmfs1")
        snap = fssnap.get_fssnaphandle_by_name("mmfs1", "s1")
        out["names"] = [fssnap.get_snapname_from_fssnaphandle(h) for h in (live, snap)]
        out["path"] = fssnap.get_pathname_from_fssnaphandle(snap)
        sid = fssnap.get_fssnapid_from_fssnaphandle(snap)
        lid = fssnap.get_fssnapid_from_fssnaphandle(live)
        out["cmp"] = [fssnap.cmp_fssnapid(sid, lid), fssnap.cmp_fssnapid(lid, sid),
                      fssnap.cmp_fssnapid(sid, sid)]
        again = fssnap.get_fssnaphandle_by_fssnapid(sid)
        out["again"] = fssnap.get_pathname_from_fssnaphandle(again)
        in_snap = utils.get_path_in_snapshot(os.path.join(MP, "proj/notes.txt"), "s1")
        out["in_snap"] = in_snap
        out["snapname_by_path"] = utils.get_snapname_by_path(in_snap)
        ino = os.lstat(in_snap).st_ino
        scan = inode.open_inodescan(snap)
        out["size_in_snap"] = inode.stat_inode(scan, ino).ia_size
        out["snap_inodes"] = sum(1 for _ in iter(lambda: inode.next_inode(scan), None))
        f = ifile.iopen(snap, ino)
        out["bytes"] = ifile.iread(f, 100).decode()
        ifile.iclose(f)
        out["scandir"] = sorted(e.name for e in utils.scandir(os.path.join(MP, "proj"), "s1"))
        changed = inode.open_inodescan(live, sid)
        out["changed"] = sorted(ia.ia_inode for ia in iter(lambda: inode.next_inode(changed),
                                                          None))
        json.dump(out, open(OUT, "w"))
    """)
    mp = cluster["mp"]
    copy = mp / ".snapshots" / "s1"
    assert found["names"] == ["", "s1"]
    assert found["path"] == found["again"] == str(copy)
    assert found["cmp"] == [-1, 1, 0]  # a snapshot is older than the live file system
    assert found["in_snap"] == str(copy / "proj" / "notes.txt")
    assert found["snapname_by_path"] == "s1"
    assert found["bytes"] == "hello\n" and found["size_in_snap"] == 6
    assert found["scandir"] == ["data", "notes.txt"]
    snap_paths = [p for p in truth(copy)]
    assert found["snap_inodes"] == len(snap_paths) + 1
    # an incremental scan since s1: what changed after it (the notes, the new file, proj)
    changed = {os.lstat(mp / "proj" / n).st_ino for n in ("notes.txt", "late.txt")}
    assert changed <= set(found["changed"])
    assert os.lstat(mp / "home").st_ino not in found["changed"]


def test_fileset_scoping(cluster):
    found = script(cluster, """
        import json, os
        from arcapix.fs.gpfs.clib import fssnap, inode, utils
        h = fssnap.get_fssnaphandle_by_name("mmfs1", fsetName="proj")
        scan = inode.open_inodescan(h)
        rows = [(ia.ia_inode, inode.igetfilesetname(ia.ia_filesetid, scan))
                for ia in utils.inode_iterator(MP, fsetName="proj")]
        json.dump({"rows": rows, "id": utils.getfilesetid(MP, "proj"),
                   "root_id": utils.getfilesetid(MP, "root")}, open(OUT, "w"))
    """)
    mp = cluster["mp"]
    expected = {st.st_ino for p, st in truth(mp / "proj").items()} | {os.lstat(mp / "proj").st_ino}
    assert {ino for ino, _ in found["rows"]} == expected
    assert {name for _, name in found["rows"]} == {"proj"}
    assert found["root_id"] == 0 and found["id"] > 0


def test_bad_handles_and_closed_scans_are_clear_errors(cluster):
    found = script(cluster, """
        import errno, json, os
        from arcapix.fs.gpfs.clib import fssnap, inode, ifile, stat, utils, quota
        out = {}
        def attempt(name, fn, *args):
            try:
                fn(*args)
                out[name] = "no error"
            except OSError as exc:
                out[name] = [errno.errorcode[exc.errno], str(exc)]
            except TypeError as exc:
                out[name] = ["TypeError", str(exc)]
        h = fssnap.get_fssnaphandle_by_name("mmfs1")
        scan = inode.open_inodescan(h)
        inode.close_inodescan(scan)
        attempt("next_after_close", inode.next_inode, scan)
        attempt("close_twice", inode.close_inodescan, scan)
        attempt("not_a_scan", inode.next_inode, "scan")
        attempt("not_a_handle", inode.open_inodescan, 42)
        fssnap.free_fssnaphandle(h)
        attempt("freed_handle", inode.open_inodescan, h)
        attempt("free_twice", fssnap.free_fssnaphandle, h)
        attempt("unknown_fs", fssnap.get_fssnaphandle_by_name, "nofs")
        attempt("unknown_snap", fssnap.get_fssnaphandle_by_name, "mmfs1", "nosnap")
        attempt("unknown_fileset", fssnap.get_fssnaphandle_by_name, "mmfs1", None, "nofset")
        attempt("outside_gpfs", stat.stat, "/etc/passwd")
        attempt("outside_walk", lambda: list(utils.walk("/etc")))
        attempt("dotdot_escape", stat.lstatlite, MP + "/../../../etc")
        attempt("missing", stat.stat, MP + "/no/such/file")
        attempt("bad_mask", stat.statlite, MP, 1 << 12)
        attempt("bad_quota_type", quota.get_quota, MP, 7, 0)
        live = fssnap.get_fssnaphandle_by_name("mmfs1")
        scan = inode.open_inodescan(live)
        out["stat_missing_inode"] = inode.stat_inode(scan, 1)
        attempt("negative_inode", inode.stat_inode, scan, -5)
        attempt("bad_fileset_id", inode.igetfilesetname, 999, scan)
        d = ifile.iopen(live, os.lstat(MP).st_ino)
        attempt("iread_dir", ifile.iread, d, 10)
        ifile.iclose(d)
        attempt("readdir_closed", ifile.ireaddir, d)
        attempt("iopen_missing", ifile.iopen, live, 1)
        json.dump(out, open(OUT, "w"))
    """)
    assert found["next_after_close"][0] == "EBADF" and "closed" in found["next_after_close"][1]
    assert found["close_twice"][0] == "EBADF"
    assert found["not_a_scan"][0] == found["not_a_handle"][0] == "EINVAL"
    assert found["freed_handle"][0] == found["free_twice"][0] == "EBADF"
    assert found["unknown_fs"][0] == found["unknown_snap"][0] == "ENOENT"
    assert found["unknown_fileset"][0] == "ENOENT"
    assert found["outside_gpfs"][0] == found["outside_walk"][0] == "EINVAL"
    assert found["dotdot_escape"][0] == "EINVAL"
    assert found["missing"][0] == "ENOENT"
    assert found["bad_mask"][0] == found["bad_quota_type"][0] == "EINVAL"
    assert found["stat_missing_inode"] is None
    assert found["negative_inode"][0] == "EINVAL"
    assert found["bad_fileset_id"][0] == "ENOENT"
    assert found["iread_dir"][0] == "EISDIR"
    assert found["readdir_closed"][0] == "EBADF"
    assert found["iopen_missing"][0] == "ENOENT"


def test_ireaddir_marks_junctions_and_hides_snapshots(cluster):
    found = script(cluster, """
        import json, os
        from arcapix.fs.gpfs.clib import fssnap, ifile
        h = fssnap.get_fssnaphandle_by_path(MP)
        d = ifile.iopen(h, os.lstat(MP).st_ino)
        out = [[e.d_name, ifile.get_type_string(e.d_type), ifile.get_flags_strings(e.d_flags)]
               for e in iter(lambda: ifile.ireaddir(d), None)]
        json.dump(out, open(OUT, "w"))
    """)
    entries = {name: (kind, fl) for name, kind, fl in found}
    assert entries["proj"] == ("DIR", ["IJUNCTION"])
    assert entries["home"] == ("DIR", ["NONE"])
    assert entries["."][0] == entries[".."][0] == "DIR"
    assert ".snapshots" not in entries
    assert set(entries) - {".", ".."} == set(os.listdir(cluster["mp"])) - {".snapshots"}


def test_a_pool_change_between_two_scans_shows_in_the_second(cluster):
    """The second scan takes the pools of unchanged files from what the first one read
    (its memo, under the cluster root); a file moved to another pool in between, and a
    file made in between, show as they are now."""
    mp = cluster["mp"]
    moving = mp / "home" / "moving.dat"
    moving.write_bytes(b"data")
    time.sleep(1.2)            # older than the memo's slack: the second scan may trust it
    body = """
        import json, os
        from arcapix.fs.gpfs.clib import fssnap, inode
        handle = fssnap.get_fssnaphandle_by_name("mmfs1")
        scan = inode.open_inodescan(handle)
        pools = {ia.ia_inode: inode.igetstoragepool(ia.ia_datapoolid, scan)
                 for ia in iter(lambda: inode.next_inode(scan), None)}
        json.dump(pools, open(OUT, "w"))
    """
    before = script(cluster, body)
    assert (cluster["root"] / "filesystems" / "mmfs1" / "scan-memo" / "inode-scan").is_file()
    _run(cluster["env"], str(BIN / "gpfskit"), "mm", "mmchattr", "-P", "sas1", str(moving))
    made = mp / "home" / "made-between.dat"
    made.write_bytes(b"new")
    after = script(cluster, body)
    ino = str(os.lstat(moving).st_ino)
    assert (before[ino], after[ino]) == ("sata1", "sas1")
    assert after == {**before, ino: "sas1", str(os.lstat(made).st_ino): "sata1"}
