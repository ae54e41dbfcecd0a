"""Where a path lies in the emulated cluster: file system, snapshot, fileset, tree on disk."""

from __future__ import annotations

import errno
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from gpfskit.clib.types import os_error
from gpfskit.emulator import layout, placement, state, usage

SNAPDIR = layout.SNAPDIR


@dataclass(frozen=True)
class Place:
    """A path inside an emulated file system, as libgpfs resolves it."""

    fs: sqlite3.Row
    rel: str                     # relative to the file system root ('' = the root)
    snapshot: sqlite3.Row | None  # the snapshot the path is in, if any
    snap_root: str               # the directory holding that snapshot's copy ('' = live)

    @property
    def path(self) -> str:
        """The path (the tree is the mount point while mounted, so this is on disk too)."""
        base = self.fs["mounted_at"]
        return os.path.join(base, self.rel) if self.rel else base

    @property
    def live_rel(self) -> str:
        """What the path corresponds to in the live tree (snapshot parts removed)."""
        parts = self.rel.split("/") if self.rel else []
        if self.snapshot is None or SNAPDIR not in parts:
            return self.rel
        i = parts.index(SNAPDIR)
        return "/".join(parts[:i] + parts[i + 2:])


@dataclass(frozen=True)
class Target:
    """What a handle names: a file system, a snapshot of it, maybe one fileset."""

    fs: sqlite3.Row
    snapshot: sqlite3.Row | None
    fileset: str | None
    path: str        # the directory scanned (mount point, snapshot copy or junction)
    live_rel: str    # what ``path`` is in the live tree, relative to the fs root


class Model:
    """Read access to one emulated cluster's state (one SQLite connection per thread)."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        if not (self.root / state.DB_NAME).exists():
            raise os_error(errno.ENOSYS, f"no emulated cluster under {self.root}")

    @property
    def db(self) -> sqlite3.Connection:
        return state.connection(self.root)

    # File systems and filesets -----------------------------------------------------------
    def filesystem(self, name: str, call: str) -> sqlite3.Row:
        """A mounted file system by name: ENOENT when unknown, ENOSYS when not mounted."""
        if not isinstance(name, str):
            raise TypeError(f"{call}: file system name must be a str, not {type(name).__name__}")
        row = self.db.execute("SELECT * FROM filesystems WHERE name = ?",
                              (name.removeprefix("/dev/"),)).fetchone()
        if row is None:
            raise os_error(errno.ENOENT, f"{call}: no file system {name!r}")
        if not row["mounted_at"]:
            raise os_error(errno.ENOSYS, f"{call}: file system {row['name']} is not mounted")
        return row

    def filesets(self, fs: str) -> list[sqlite3.Row]:
        return usage.live_filesets(self.db, fs)

    def junctions(self, fs_row: sqlite3.Row) -> dict[str, str]:
        """Junction (relative to the fs root) -> fileset name, for linked filesets."""
        return placement.fileset_junctions(self.root, self.db, fs_row)

    def fileset_ids(self, fs: str) -> dict[str, int]:
        return {r["name"]: r["id"] for r in self.filesets(fs)}

    def pool_ids(self, fs: str) -> dict[str, int]:
        return {r["name"]: r["id"] for r in self.db.execute(
            "SELECT name, id FROM pools WHERE fs = ?", (fs,))}

    def snapshots(self, fs: str) -> list[sqlite3.Row]:
        return self.db.execute("SELECT * FROM snapshots WHERE fs = ? ORDER BY snap_id",
                               (fs,)).fetchall()

    def snapshot_root(self, fs_row: sqlite3.Row, snap: sqlite3.Row) -> str:
        """The directory holding a snapshot's copy (the path users see)."""
        base = fs_row["mounted_at"]
        if snap["fileset"] is None:
            return os.path.join(base, SNAPDIR, snap["name"])
        junction = next((j for j, n in self.junctions(fs_row).items() if n == snap["fileset"]),
                        None)
        if junction is None:
            raise os_error(errno.ENOENT, f"fileset {snap['fileset']} is not linked")
        return os.path.join(base, junction, SNAPDIR, snap["name"]) if junction \
            else os.path.join(base, SNAPDIR, snap["name"])

    # Paths ---------------------------------------------------------------------------------
    def locate(self, path: str | os.PathLike[str], call: str) -> Place:
        """Resolve a path lexically (``..`` cannot climb out); EINVAL outside GPFS, as
        gpfs_stat answers for a path in another file system."""
        if isinstance(path, bytes):
            path = os.fsdecode(path)
        if not isinstance(path, (str, os.PathLike)):
            raise TypeError(f"{call}: path must be a str, not {type(path).__name__}")
        text = os.fspath(path)
        if not text or "\0" in text:
            raise os_error(errno.EINVAL, f"{call}: invalid path {text!r}", text)
        absolute = os.path.normpath(os.path.join(os.getcwd(), text))
        best: tuple[sqlite3.Row, str] | None = None
        for row in self.db.execute("SELECT * FROM filesystems WHERE mounted_at IS NOT NULL"):
            rel = layout.relative_to_fs(row, absolute)
            if rel is not None and (best is None or len(row["mounted_at"]) > len(
                    best[0]["mounted_at"])):
                best = (row, rel)
        if best is None:
            raise os_error(errno.EINVAL, f"{call}: not in a GPFS file system", text)
        fs_row, rel = best
        return self._place(fs_row, rel)

    def _place(self, fs_row: sqlite3.Row, rel: str) -> Place:
        parts = rel.split("/") if rel else []
        if SNAPDIR not in parts:
            return Place(fs_row, rel, None, "")
        i = parts.index(SNAPDIR)
        base = "/".join(parts[:i])
        owner = self.junctions(fs_row).get(base) if base else None
        if i + 1 >= len(parts):
            return Place(fs_row, rel, None, "")
        snaps = [s for s in self.snapshots(fs_row["name"]) if s["name"] == parts[i + 1]
                 and (s["fileset"] == owner if base else s["fileset"] is None)]
        if not snaps:
            return Place(fs_row, rel, None, "")
        root = os.path.join(fs_row["mounted_at"], *parts[:i + 2])
        return Place(fs_row, rel, snaps[0], root)

    def fileset_of(self, place: Place) -> str:
        return placement.fileset_at(self.junctions(place.fs), place.live_rel)
