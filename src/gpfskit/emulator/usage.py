"""Where each fileset's files are, and how much they hold, measured from the real files.

Locations. A fileset's root directory is at its junction while it is linked and parked under
``layout.parked_fileset`` while it is unlinked (see layout.py). Filesets nest: ``parent_id``
names the fileset whose tree holds the junction, and nested filesets move with their parent
when it is unlinked. A linked fileset's ``junction`` is recorded relative to the file system
root while every fileset above it is linked; while one of them (the nearest, P) is unlinked it
is recorded relative to P's root directory instead, and it has no path users can see.
``mmunlinkfileset``/``mmlinkfileset`` rewrite the junctions below the fileset they move.

Usage. One walk of a file system (``measure``) yields the blocks (KiB, from ``st_blocks``)
and inodes (files, directories, symlinks...) per fileset, per uid, per gid and per
(fileset, uid) / (fileset, gid). Each file belongs to the deepest fileset whose junction is
above it; unlinked filesets are walked in their parked place. ``.snapshots`` directories at
the file system root and at independent filesets' roots are skipped (snapshot copies are not
charged), hard links are counted once (by ``(st_dev, st_ino)``) and symlinks are not
followed. ``count_inodes`` counts inodes per fileset without a ``stat`` per file (for
``mmlsfileset -i``).
"""

from __future__ import annotations

import os
import re
import sqlite3
import stat as statmod
from collections.abc import Iterable, Iterator
from pathlib import Path

from gpfskit.emulator import layout

SNAPDIR = layout.SNAPDIR

# The classes here are plain ones (no dataclass, no typing.NamedTuple): every listing of
# filesets, from a shell too, loads this module, and neither ``dataclasses`` nor ``typing``
# need be loaded for it.


class Place:
    """Where a fileset's root directory is now."""

    __slots__ = ("dir", "linked_in_tree", "visible")

    def __init__(self, dir: str, visible: str | None, linked_in_tree: bool) -> None:
        self.dir = dir                        # the directory on disk
        self.visible = visible                # the path users see; None when unlinked or
        #                                       under an unlinked one
        self.linked_in_tree = linked_in_tree  # True when reachable from the file system root

    @property
    def path(self) -> Path:
        return Path(self.dir)


def fileset_places(root: Path, fs_row: sqlite3.Row, rows: Iterable[sqlite3.Row]
                   ) -> dict[int, Place]:
    """The place of every fileset in ``rows`` that still has a directory (not ``Deleted``)."""
    by_id = {r["id"]: r for r in rows if r["status"] != "Deleted"}
    tree = str(layout.tree(root, fs_row))
    seen_root = str(layout.visible_root(fs_row))
    tree_prefix, seen_prefix = tree.rstrip("/"), seen_root.rstrip("/")
    parked_home = str(layout.parked_fileset(root, fs_row["name"], 0).parent)
    places: dict[int, Place] = {}
    for fid, row in by_id.items():
        junction = row["junction"]
        if fid == 0 or junction == "":
            places[fid] = Place(tree, seen_root, True)
        elif junction is None:
            places[fid] = Place(f"{parked_home}/{fid}", None, False)
        else:
            parked_above = _nearest_unlinked_ancestor(by_id, row)
            if parked_above is None:
                places[fid] = Place(f"{tree_prefix}/{junction}", f"{seen_prefix}/{junction}",
                                    True)
            else:
                places[fid] = Place(f"{parked_home}/{parked_above}/{junction}", None,
                                    False)
    return places


def _nearest_unlinked_ancestor(by_id: dict[int, sqlite3.Row], row: sqlite3.Row) -> int | None:
    seen = {row["id"]}
    parent = row["parent_id"]
    while parent is not None and parent != 0 and parent not in seen:
        seen.add(parent)
        above = by_id.get(parent)
        if above is None:
            return None
        if above["junction"] is None:
            return parent
        parent = above["parent_id"]
    return None


def descendants(rows: Iterable[sqlite3.Row], fileset_id: int) -> list[sqlite3.Row]:
    """The linked filesets whose junctions lie (directly or not) inside ``fileset_id``."""
    children: dict[int, list[sqlite3.Row]] = {}
    for r in rows:
        if r["status"] == "Linked" and r["parent_id"] is not None and r["id"] != 0:
            children.setdefault(r["parent_id"], []).append(r)
    found: list[sqlite3.Row] = []
    todo = [fileset_id]
    seen = {fileset_id}
    while todo:
        for child in children.get(todo.pop(), []):
            if child["id"] not in seen:
                seen.add(child["id"])
                found.append(child)
                todo.append(child["id"])
    return found


def live_filesets(db: sqlite3.Connection, fs: str) -> list[sqlite3.Row]:
    return db.execute("SELECT * FROM filesets WHERE fs = ? AND status != 'Deleted' ORDER BY id",
                      (fs,)).fetchall()


class Counts(tuple[int, int]):
    """KiB and inodes: a pair, which compares and unpacks as one."""

    __slots__ = ()

    def __new__(cls, kb: int, inodes: int) -> Counts:
        return super().__new__(cls, (kb, inodes))

    @property
    def kb(self) -> int:
        return self[0]

    @property
    def inodes(self) -> int:
        return self[1]

    def __repr__(self) -> str:
        return f"Counts(kb={self[0]}, inodes={self[1]})"


class Usage:
    """What one walk of a file system found; missing keys mean zero."""

    __slots__ = ("fileset_groups", "fileset_users", "filesets", "groups", "users")

    def __init__(self, filesets: dict[int, Counts] | None = None,
                 users: dict[int, Counts] | None = None,
                 groups: dict[int, Counts] | None = None,
                 fileset_users: dict[tuple[int, int], Counts] | None = None,
                 fileset_groups: dict[tuple[int, int], Counts] | None = None) -> None:
        self.filesets = filesets or {}
        self.users = users or {}
        self.groups = groups or {}
        self.fileset_users = fileset_users or {}
        self.fileset_groups = fileset_groups or {}


def _tops(root: Path, fs_row: sqlite3.Row, rows: list[sqlite3.Row]
          ) -> tuple[dict[str, int], set[str]]:
    places = fileset_places(root, fs_row, rows)
    tops = {p.dir: fid for fid, p in places.items()}
    owners = {r["id"] for r in rows if r["is_inode_space_owner"]}
    snaproots = {p.dir for fid, p in places.items() if fid in owners or fid == 0}
    return tops, snaproots


def measure(root: Path, db: sqlite3.Connection, fs_row: sqlite3.Row) -> Usage:
    """Walk the file system once and total blocks and inodes by fileset, user and group."""
    rows = live_filesets(db, fs_row["name"])
    tops, snaproots = _tops(root, fs_row, rows)
    acc: dict[tuple[int, int, int], list[int]] = {}
    seen: set[tuple[int, int]] = set()
    for top, fid in tops.items():
        _walk(top, fid, tops, snaproots, acc, seen)
    return _totals(acc)


def _entries(top: str, tops: dict[str, int], snaproots: set[str]) -> Iterator[os.DirEntry]:
    """Every entry below the junction ``top`` that belongs to its fileset: the junctions of
    other filesets and the ``.snapshots`` of an inode space's root are left out. A directory
    is yielded, then walked."""
    stack = [top]
    while stack:
        directory = stack.pop()
        try:
            it = os.scandir(directory)
        except OSError:
            continue
        at_snaproot = directory in snaproots
        with it:
            for e in it:
                try:
                    is_dir = e.is_dir(follow_symlinks=False)
                except OSError:
                    continue
                if is_dir:
                    if e.path in tops or (at_snaproot and e.name == SNAPDIR):
                        continue
                    stack.append(e.path)
                yield e


def _walk(top: str, fid: int, tops: dict[str, int], snaproots: set[str],
          acc: dict[tuple[int, int, int], list[int]], seen: set[tuple[int, int]]) -> None:
    try:
        st = os.lstat(top)
    except OSError:
        return
    if not statmod.S_ISDIR(st.st_mode):
        return
    acc.setdefault((fid, st.st_uid, st.st_gid), [0, 0])
    entry = acc[(fid, st.st_uid, st.st_gid)]
    entry[0] += st.st_blocks
    entry[1] += 1
    get = acc.get
    for e in _entries(top, tops, snaproots):
        try:
            st = e.stat(follow_symlinks=False)
        except OSError:
            continue
        if st.st_nlink > 1 and not statmod.S_ISDIR(st.st_mode):
            ident = (st.st_dev, st.st_ino)
            if ident in seen:
                continue
            seen.add(ident)
        key = (fid, st.st_uid, st.st_gid)
        counts = get(key)
        if counts is None:
            acc[key] = [st.st_blocks, 1]
        else:
            counts[0] += st.st_blocks
            counts[1] += 1


def _totals(acc: dict[tuple[int, int, int], list[int]]) -> Usage:
    blocks: dict[str, dict] = {name: {} for name in
                               ("filesets", "users", "groups", "fileset_users", "fileset_groups")}
    for (fid, uid, gid), (nblocks, inodes) in acc.items():
        for name, key in (("filesets", fid), ("users", uid), ("groups", gid),
                          ("fileset_users", (fid, uid)), ("fileset_groups", (fid, gid))):
            total = blocks[name].get(key)
            if total is None:
                blocks[name][key] = [nblocks, inodes]
            else:
                total[0] += nblocks
                total[1] += inodes
    return Usage(**{name: {key: Counts((b + 1) // 2, n) for key, (b, n) in table.items()}
                    for name, table in blocks.items()})


def count_inodes(root: Path, db: sqlite3.Connection, fs_row: sqlite3.Row) -> dict[int, int]:
    """Inodes in use per fileset (every fileset present, zero when its directory is gone)."""
    rows = live_filesets(db, fs_row["name"])
    tops, snaproots = _tops(root, fs_row, rows)
    counts = {r["id"]: 0 for r in rows}
    seen: set[tuple[int, int]] = set()
    for top, fid in tops.items():
        try:
            device = os.lstat(top).st_dev
        except OSError:
            continue
        total = 1
        for e in _entries(top, tops, snaproots):
            if not e.is_dir(follow_symlinks=False):
                ident = (device, e.inode())
                if ident in seen:
                    continue
                seen.add(ident)
            total += 1
        counts[fid] = counts.get(fid, 0) + total
    return counts


def tree_usage(path: Path) -> Counts:
    """KiB and inodes of everything under ``path`` (a snapshot copy, say); no exclusions."""
    nblocks = inodes = 0
    seen: set[tuple[int, int]] = set()
    try:
        st = os.lstat(path)
    except OSError:
        return Counts(0, 0)
    nblocks, inodes = st.st_blocks, 1
    stack = [str(path)] if statmod.S_ISDIR(st.st_mode) else []
    while stack:
        try:
            it = os.scandir(stack.pop())
        except OSError:
            continue
        with it:
            for e in it:
                try:
                    st = e.stat(follow_symlinks=False)
                except OSError:
                    continue
                if statmod.S_ISDIR(st.st_mode):
                    stack.append(e.path)
                elif st.st_nlink > 1:
                    ident = (st.st_dev, st.st_ino)
                    if ident in seen:
                        continue
                    seen.add(ident)
                nblocks += st.st_blocks
                inodes += 1
    return Counts((nblocks + 1) // 2, inodes)


_UNITS = "KMGTPE"


def parse_block_size(text: str) -> int | None:
    """``--block-size``: a size in bytes (``4M``, ``1G``, ``512K``), or None for ``auto``."""
    if text.lower() == "auto":
        return None
    match = re.fullmatch(r"(\d+)([KkMmGgTtPp]?)", text.strip())
    if not match or int(match.group(1)) == 0:
        raise ValueError(text)
    power = " KMGTP".index(match.group(2).upper() or " ")
    return int(match.group(1)) * 1024 ** power


def format_kb(kb: int, block_size: int | str | None = "K") -> str:
    """A KiB figure as a human table shows it: plain KiB (the default), in units of
    ``block_size`` bytes (rounded up), or scaled with a unit letter (``None``: auto)."""
    if block_size == "K":
        return str(kb)
    if block_size is None:
        value = float(kb)
        unit = 0
        while value >= 1024 and unit < len(_UNITS) - 1:
            value /= 1024
            unit += 1
        if unit == 0:
            return f"{kb}K" if kb else "0"
        return f"{value:.4g}{_UNITS[unit]}"
    return str(-(-kb * 1024 // int(block_size)))
