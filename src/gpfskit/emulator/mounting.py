"""Mounting and unmounting: moving a file system's tree between its mount point and its
offline place, and keeping the ``mounts`` table and ``filesystems.mounted_at`` in step.

The tree is reachable at the mount point iff the file system is mounted on the node this
process acts as (``Invocation.node``). Mounting there renames the offline tree
(``layout.offline_tree``) onto the empty mount point directory; unmounting renames it back and
leaves an empty mount point directory behind. Mounting or unmounting on any other node only
changes the ``mounts`` table.

Commands use a ``Mounter``: ``mount``/``unmount`` check everything and change the database,
recording the tree moves; ``apply`` hands the moves to the command's journal, which does them
right after the commit and, should the command be killed first, has the next command
complete them (journal.py: the moves are recorded in the same transaction as the state).

The Mounter raises the callback events (``events``): preMount/preUnmount on the nodes
concerned, after the checks and before any change (a vetoing synchronous callback is a
``MountProblem``; a forced unmount runs them without a veto), and mount/unmount once the
command has committed.
"""

from __future__ import annotations

import json
import os
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from gpfskit.emulator import events, layout
from gpfskit.emulator.dispatch import Invocation
from gpfskit.emulator.steps import MakeDir, Rename, Step, empty_dir


@dataclass(frozen=True)
class Move:
    fs: str
    source: Path
    target: Path
    mounting: bool  # True: offline -> mount point; False: mount point -> offline


class MountProblem(Exception):
    """A mount or unmount that cannot be done; the message is for the user."""


def _inside(path: Path, base: Path) -> bool:
    path, base = Path(os.path.normpath(path)), Path(os.path.normpath(base))
    return path == base or base in path.parents


def check_mount_point(root: Path, db: sqlite3.Connection, fs_row: sqlite3.Row,
                      mountpoint: str) -> Path:
    """The mount point as a Path, or ``MountProblem`` saying why the tree cannot go there."""
    if not mountpoint.startswith("/"):
        raise MountProblem(f"Mount point {mountpoint} is not an absolute path name.")
    target = Path(os.path.normpath(mountpoint))
    if target == Path("/"):
        raise MountProblem("The root directory cannot be a mount point.")
    root = Path(root).absolute()
    if (_inside(target, root) and not _inside(target, root / "gpfs")) or _inside(root, target):
        raise MountProblem(f"Mount point {target} overlaps the emulator's own files.")
    for other in db.execute("SELECT name, mounted_at FROM filesystems WHERE name != ? "
                            "AND mounted_at IS NOT NULL", (fs_row["name"],)):
        where = Path(other["mounted_at"])
        if _inside(target, where) or _inside(where, target):
            raise MountProblem(f"Mount point {target} overlaps the mount point {where} of "
                               f"file system {other['name']}.")
    if os.path.islink(target):
        raise MountProblem(f"Mount point {target} is a symbolic link.")
    if target.exists():
        if not target.is_dir():
            raise MountProblem(f"Mount point {target} is not a directory.")
        if not empty_dir(target):
            raise MountProblem(f"Mount point {target} is not an empty directory.")
    return target


def _steps(move: Move) -> list[Step]:
    """The journal steps of a tree move (each redone from what is on disk if interrupted)."""
    if move.mounting:
        return [Rename(str(move.source), str(move.target), create=True)]
    return [Rename(str(move.source), str(move.target)), MakeDir(str(move.source), 0o755)]


@dataclass
class Mounter:
    """Mounts and unmounts for one command; ``apply()`` does the disk work at the end."""

    inv: Invocation
    moves: list[Move] = field(default_factory=list)

    def _fs(self, name: str) -> sqlite3.Row:
        return self.inv.db.execute("SELECT * FROM filesystems WHERE name = ?",
                                   (name,)).fetchone()

    def mounted_nodes(self, fs: str) -> list[str]:
        return [r["node"] for r in self.inv.db.execute(
            "SELECT m.node FROM mounts m LEFT JOIN nodes n ON n.name = m.node WHERE m.fs = ? "
            "ORDER BY n.number, m.node", (fs,))]

    def mount(self, fs: str, nodes: list[str], *, mountpoint: str | None = None,
              mode: str = "RW") -> list[str]:
        """Mount ``fs`` on ``nodes`` (already mounted ones are left alone).

        Raises MountProblem before changing anything when it cannot be done. Returns the
        nodes on which the file system was newly mounted.
        """
        row = self._fs(fs)
        attrs = _attrs(row)
        if str(attrs.get("maintenance-mode", "no")).lower() == "yes":
            raise MountProblem(f"File system {fs} is in maintenance mode.")
        already = set(self.mounted_nodes(fs))
        new = [n for n in nodes if n not in already]
        move = None
        if self.inv.node in new and not row["mounted_at"]:
            target = check_mount_point(self.inv.root, self.inv.db, row,
                                       mountpoint or row["mountpoint"])
            source = layout.offline_tree(self.inv.root, fs)
            if _inside(target, source) or _inside(target, layout.fs_home(self.inv.root, fs)):
                raise MountProblem(f"Mount point {target} lies inside the file system itself.")
            move = Move(fs, source, target, True)
        _pre_event(self.inv, "preMount", new, fs)
        if move is not None:
            self.moves.append(move)
            self.inv.db.execute("UPDATE filesystems SET mounted_at = ? WHERE name = ?",
                                (str(move.target), fs))
        for node in new:
            self.inv.db.execute("INSERT INTO mounts (fs, node, mode) VALUES (?, ?, ?)",
                                (fs, node, mode))
        events.after(self.inv, "mount", new, {"fsName": fs})
        return new

    def unmount(self, fs: str, nodes: list[str], *, force: bool = False) -> list[str]:
        """Unmount ``fs`` from ``nodes`` (not mounted ones are left alone); ``force``: a
        failing preUnmount callback cannot stop it."""
        row = self._fs(fs)
        mounted = self.mounted_nodes(fs)
        gone = [n for n in nodes if n in mounted]
        move = None
        if self.inv.node in nodes and row["mounted_at"]:
            source = Path(row["mounted_at"])
            offline = layout.offline_tree(self.inv.root, fs)
            if not source.is_dir() or source.is_symlink():
                raise MountProblem(f"The tree of file system {fs} is missing at {source}.")
            if offline.exists() and not empty_dir(offline):
                raise MountProblem(f"The offline place {offline} of file system {fs} is "
                                       "not empty.")
            move = Move(fs, source, offline, False)
        _pre_event(self.inv, "preUnmount", gone, fs, veto=not force)
        for node in gone:
            self.inv.db.execute("DELETE FROM mounts WHERE fs = ? AND node = ?", (fs, node))
        if move is not None:
            self.moves.append(move)
            self.inv.db.execute("UPDATE filesystems SET mounted_at = NULL WHERE name = ?",
                                (fs,))
        events.after(self.inv, "unmount", gone, {"fsName": fs})
        return gone

    def apply(self) -> None:
        """Hand the recorded tree moves to the journal, which does them once the mount state
        is committed (and completes them after a kill)."""
        moves, self.moves = self.moves, []
        for move in moves:
            self.inv.journal.then(*_steps(move))


def _pre_event(inv: Invocation, event: str, nodes: list[str], fs: str, *,
               veto: bool = True) -> None:
    """Run a preMount/preUnmount's callbacks; a veto is a MountProblem."""
    try:
        events.before(inv, event, nodes, {"fsName": fs}, veto=veto)
    except events.Veto as exc:
        raise MountProblem(str(exc)) from exc


def _attrs(row: sqlite3.Row) -> dict[str, object]:
    try:
        value = json.loads(row["attrs"] or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
