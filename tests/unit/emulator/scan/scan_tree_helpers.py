"""An awkward file system tree and an independent os.walk + os.lstat oracle for the scan."""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

import pytest

from gpfskit.emulator.scan import HAVE_C_EXTENSION

IMPLEMENTATIONS = [
    pytest.param("c", marks=pytest.mark.skipif(not HAVE_C_EXTENSION, reason="C lister not built")),
    "python",
]

VISIBLE = "/gpfs/fs1"

# junction (relative to the fs root) -> fileset; 'proj' and 'home/alice' are independent
JUNCTIONS = {"": "root", "proj": "proj", "proj/sub": "projsub", "home/alice": "alice"}
INDEPENDENT = {"proj", "home/alice"}

AWKWARD_NAMES = [
    b"plain.txt",
    b"with space",
    b"new\nline",
    b"\xff\xfe not utf-8",
    b"100% sure",
    b"a -- b",
    b"-- leading",
    b"back\\slash",
    "caf\u00e9".encode(),
    b"x" * 255,
    b"tab\there",
]


@dataclass
class Tree:
    root: Path
    many: int  # files in the 'many' directory


def _write(path: bytes, data: bytes = b"") -> None:
    with open(path, "wb") as f:
        f.write(data)


def build_tree(root: Path) -> Tree:
    r = os.fsencode(root)
    j = lambda *parts: os.path.join(r, *parts)  # noqa: E731
    os.makedirs(j(b"home", b"alice", b"docs"))
    os.makedirs(j(b"home", b"bob"))
    os.makedirs(j(b"proj", b"sub", b"deep", b"deeper"))
    os.makedirs(j(b"empty"))
    os.makedirs(j(b"many"))
    for k, name in enumerate(AWKWARD_NAMES):
        _write(j(name), b"x" * (k * 1000))
        _write(j(b"home", b"bob", name), b"y" * k)
    os.mkdir(j(b"dir with\nnewline"))
    _write(j(b"dir with\nnewline", b"inner"), b"z")
    _write(j(b"home", b"alice", b"docs", b"report.pdf"), b"r" * 5000)
    _write(j(b"proj", b"README"), b"readme")
    _write(j(b"proj", b"sub", b"deep", b"deeper", b"leaf"), b"leaf")
    _write(j(b"proj", b"sub", b"code.py"), b"print(1)\n")
    # snapshot directories: hidden at the root and at independent junctions only
    for base in (b"", b"proj", b"home/alice"):
        os.makedirs(j(base, b".snapshots", b"snap1"))
        _write(j(base, b".snapshots", b"snap1", b"copy"), b"c")
    os.makedirs(j(b"home", b".snapshots"))  # not a junction: an ordinary directory
    _write(j(b"home", b".snapshots", b"visible"), b"v")
    # links, hard links, special files
    os.symlink(b"proj", j(b"link-to-dir"))
    os.symlink(b"/nonexistent/target", j(b"dangling"))
    os.link(j(b"plain.txt"), j(b"home", b"hardlink"))
    os.link(j(b"plain.txt"), j(b"proj", b"sub", b"hardlink2"))
    os.mkfifo(j(b"fifo"))
    os.chmod(j(b"plain.txt"), 0o4755)
    os.chmod(j(b"home", b"bob"), 0o3775)
    many = 300
    for k in range(many):
        os.mknod(j(b"many", b"f%04d" % k))
    os.utime(j(b"with space"), ns=(1_600_000_000_123_456_789, 1_500_000_000_987_654_321))
    for link in (b"link-to-dir", b"dangling"):   # the first read of a link sets its atime
        os.readlink(j(link))                       # (relatime): done here, before any scan
    return Tree(root, many)


def _fileset_of(rel_dir: str, junctions: dict[str, str]) -> str | None:
    best, name = -1, None
    for junction, fileset in junctions.items():
        above = junction == "" or rel_dir == junction or rel_dir.startswith(junction + "/")
        if above and len(junction) > best:
            best, name = len(junction), fileset
    return name


def oracle(tree: Path, *, visible: str = VISIBLE, junctions: dict[str, str] | None = None,
           independent: set[str] | frozenset[str] = frozenset(),
           directories_plus: bool = False, include_root: bool = True) -> dict[bytes, dict]:
    """PATH_NAME -> expected attributes, from os.walk + os.lstat (no shared code)."""
    junctions = {"": "root"} if junctions is None else junctions
    root = os.fsencode(tree)
    vis = os.fsencode(visible).rstrip(b"/")
    hidden_at = {b""} | {os.fsencode(i) for i in independent}
    out: dict[bytes, dict] = {}

    def add(rel: bytes, name: bytes, st: os.stat_result, rel_dir: bytes) -> None:
        mode = st.st_mode
        if stat.S_ISREG(mode):
            letter = "F"
        elif stat.S_ISDIR(mode):
            letter = "D"
        elif stat.S_ISLNK(mode):
            letter = "L"
        else:
            letter = "O"
        if letter != "F" and not directories_plus:
            return
        owner_dir = rel if letter == "D" else rel_dir  # a junction belongs to its fileset
        path = vis + b"/" + rel if rel else (vis or b"/")
        out[path] = {
            "PATH_NAME": path,
            "NAME": name,
            "INODE": st.st_ino,
            "FILE_SIZE": st.st_size,
            "KB_ALLOCATED": (st.st_blocks + 1) // 2,
            "USER_ID": st.st_uid,
            "GROUP_ID": st.st_gid,
            "NLINK": st.st_nlink,
            "MODE": stat.filemode(mode),
            "MISC_ATTRIBUTES": letter,
            "FILESET_NAME": _fileset_of(os.fsdecode(owner_dir), junctions),
            "ACCESS_TIME": st.st_atime_ns / 1e9,
            "MODIFICATION_TIME": st.st_mtime_ns / 1e9,
            "CHANGE_TIME": st.st_ctime_ns / 1e9,
            "DEVICE_ID": st.st_dev,
            "RDEVICE_ID": st.st_rdev,
            "BLOCKSIZE": st.st_blksize,
            "MODIFICATION_SNAPID": 0,
        }

    if include_root and directories_plus:
        add(b"", os.path.basename(vis) or b"/", os.lstat(root), b"")
    for top, dirs, files in os.walk(root, followlinks=False):
        rel_dir = os.path.relpath(top, root)
        rel_dir = b"" if rel_dir == b"." else rel_dir
        if rel_dir in hidden_at and b".snapshots" in dirs:
            dirs.remove(b".snapshots")
        for name in dirs + files:
            rel = os.path.join(rel_dir, name) if rel_dir else name
            add(rel, name, os.lstat(os.path.join(top, name)), rel_dir)
    return out


def rows_by_path(batches) -> dict[bytes, dict]:
    rows: dict[bytes, dict] = {}
    for batch in batches:
        for row in batch.to_pylist():
            assert row["PATH_NAME"] not in rows, row["PATH_NAME"]
            rows[row["PATH_NAME"]] = row
    return rows
