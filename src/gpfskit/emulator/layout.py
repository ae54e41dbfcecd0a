"""Where the emulated file systems' bytes live on disk.

A file system's tree is a real directory. While the file system is mounted on the node this
process acts as, the tree *is* the mount point directory (``filesystems.mounted_at``); while it
is not, the tree is parked under ``<root>/filesystems/<fs>/offline`` and the mount point is an
empty directory, exactly what an unmounted mount point looks like. Moving between the two is a
rename, so it is instant and keeps inode numbers.

Filesets work the same way one level down: a linked fileset's root is the directory at its
junction (recorded relative to the file system root, so it survives a mount point change); an
unlinked fileset's root is parked under ``<root>/filesystems/<fs>/filesets/<id>`` with all its
data, and linking renames it back into the tree.

``<root>/filesystems/<fs>/scan-memo`` keeps what scans learnt of the extended attributes, to
read them again only where they may have changed (``scan.memo``; safe to delete).

``.snapshots`` directories hold the snapshot copies: global ones at the file system root,
fileset ones at an independent fileset's junction. Scans and usage counts skip them, as the
real file system hides them.
"""

from __future__ import annotations

import errno
import os
import sqlite3
from pathlib import Path

SNAPDIR = ".snapshots"


def fs_home(root: Path, fs: str) -> Path:
    return Path(root) / "filesystems" / fs


def scan_memo(root: Path, fs: str, name: str) -> Path:
    """Where a kind of scan of the file system keeps its ``scan.memo`` file: a cache of
    extended attributes, which may be deleted at any time."""
    return fs_home(root, fs) / "scan-memo" / name


def offline_tree(root: Path, fs: str) -> Path:
    return fs_home(root, fs) / "offline"


def parked_fileset(root: Path, fs: str, fileset_id: int) -> Path:
    return fs_home(root, fs) / "filesets" / str(fileset_id)


def tree(root: Path, fs_row: sqlite3.Row) -> Path:
    """The directory holding the file system's root fileset right now."""
    if fs_row["mounted_at"]:
        return Path(fs_row["mounted_at"])
    return offline_tree(root, fs_row["name"])


def visible_root(fs_row: sqlite3.Row) -> Path:
    """The path users see for the file system root (its mount point, mounted or not)."""
    return Path(fs_row["mounted_at"] or fs_row["mountpoint"])


def fileset_dir(root: Path, fs_row: sqlite3.Row, fileset: sqlite3.Row) -> Path:
    """Where a fileset's root directory is now (in the tree when linked, else parked)."""
    if fileset["junction"] is None:
        return parked_fileset(root, fs_row["name"], fileset["id"])
    return tree(root, fs_row) / fileset["junction"] if fileset["junction"] else tree(root, fs_row)


def junction_path(fs_row: sqlite3.Row, junction: str | None) -> str | None:
    """The absolute path users see for a junction recorded relative to the fs root."""
    if junction is None:
        return None
    base = visible_root(fs_row)
    return str(base / junction) if junction else str(base)


def relative_to_fs(fs_row: sqlite3.Row, path: str) -> str | None:
    """``path`` relative to the file system root, or None when it lies outside it.

    ``..`` components are resolved lexically first, so ``/gpfs/fs1/a/../../etc`` is outside.
    """
    normal = os.path.normpath(path)
    for base in {str(visible_root(fs_row)), fs_row["mountpoint"]}:
        base = os.path.normpath(base)
        if normal == base:
            return ""
        if normal.startswith(base + os.sep):
            return normal[len(base) + 1:]
    return None


def move_tree(source: Path, target: Path) -> None:
    """Move a directory tree: a rename on one device; to another device, a copy renamed into
    place before the source goes (:mod:`gpfskit.emulator.crossmove`)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.rename(source, target)
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise
        from gpfskit.emulator import crossmove  # the rare case: imported only then

        crossmove.move(source, target)
