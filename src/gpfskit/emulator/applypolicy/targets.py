"""What mmapplypolicy scans: a file system, a directory in one, or a snapshot of either.

``resolve`` turns the operand (and ``-S``, ``--scope``) into a ``Target``: the directory on
disk to walk, the path users see for it, the snapshot id written in file-list records, and
the fileset junctions the scanner attributes files with. Paths are resolved lexically first
(``..`` cannot climb out of a file system), then symbolic links must stay inside it.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass, field

from gpfskit.emulator import layout, placement, usage
from gpfskit.emulator.dispatch import Invocation
from gpfskit.emulator.scan import subtree_junctions

SNAPDIR = layout.SNAPDIR


@dataclass
class Target:
    fs: sqlite3.Row
    tree: str                    # the directory walked
    visible: str                 # the path users see for it (PATH_NAME prefix)
    live_rel: str                # what it corresponds to in the live tree, rel. to the fs root
    snapshot: str | None = None  # snapshot name when scanning one
    snap_id: int = 0
    junctions: dict[str, str] = field(default_factory=dict)     # relative to ``tree``
    independent: set[str] = field(default_factory=set)          # relative to ``tree``
    exclude: set[str] = field(default_factory=set)              # relative to ``tree``
    all_junctions: dict[str, str] = field(default_factory=dict)  # relative to the fs root

    @property
    def fs_name(self) -> str:
        return self.fs["name"]

    def fileset_of(self, rel_to_tree: str) -> str:
        return placement.fileset_at(self.junctions, rel_to_tree)


def _inside(path: str, base: str) -> bool:
    base = base.rstrip("/") or "/"
    return path == base or path.startswith(base.rstrip("/") + "/")


def _find_fs_for_path(inv: Invocation, absolute: str) -> sqlite3.Row:
    rows = inv.db.execute("SELECT * FROM filesystems ORDER BY name").fetchall()
    best = None
    for row in rows:
        for base in (row["mounted_at"], row["mountpoint"]):
            if base and _inside(absolute, os.path.normpath(base)) and (
                    best is None or len(base) > len(best[1])):
                best = (row, base)
    if best is None:
        raise inv.fail(f"Directory {absolute} is not in a GPFS file system.", 22)
    row = best[0]
    if not row["mounted_at"] or not _inside(absolute, os.path.normpath(row["mounted_at"])):
        raise inv.fail(f"File system {row['name']} is not mounted.", 19)
    return row


def resolve(inv: Invocation, operand: str, snapshot: str | None, scope: str) -> Target:
    """The scan target named by ``operand`` (a device or a directory)."""
    name = operand.removeprefix("/dev/")
    by_name = None
    if "/" not in name or operand.startswith("/dev/"):
        by_name = inv.db.execute("SELECT * FROM filesystems WHERE name = ?",
                                 (name,)).fetchone()
        if by_name is None and not os.path.exists(operand):
            raise inv.fail(f"File system {name} is not known to the GPFS cluster.", 2)
    if by_name is not None:
        fs = by_name
        if not fs["mounted_at"]:
            raise inv.fail(f"File system {fs['name']} is not mounted.", 19)
        rel = ""
        real = os.path.realpath(fs["mounted_at"])
    else:
        if "\0" in operand or not operand:
            raise inv.fail(f"Incorrect path name {operand!r}.", 22)
        absolute = os.path.normpath(os.path.join(os.getcwd(), operand))
        fs = _find_fs_for_path(inv, absolute)
        base = os.path.normpath(fs["mounted_at"])
        if not os.path.lexists(absolute):
            raise inv.fail(f"{operand}: No such file or directory", 2)
        real, real_base = os.path.realpath(absolute), os.path.realpath(base)
        if not _inside(real, real_base):
            raise inv.fail(f"Directory {operand} is not in a GPFS file system.", 22)
        if not os.path.isdir(real):
            raise inv.fail(f"{operand} is not a directory.", 20)
        rel = "" if real == real_base else os.path.relpath(real, real_base)
    return _target(inv, fs, rel, snapshot, scope)


def _snapshot_row(inv: Invocation, fs: str, spec: str) -> sqlite3.Row:
    fileset, colon, snap = spec.partition(":")
    if not colon:
        fileset, snap = "", spec
    rows = inv.db.execute("SELECT * FROM snapshots WHERE fs = ? AND name = ?",
                          (fs, snap)).fetchall()
    if colon:
        rows = [r for r in rows if (r["fileset"] or "") == fileset]
    else:
        globals_ = [r for r in rows if r["fileset"] is None]
        rows = globals_ or rows
    if not rows:
        raise inv.fail(f"Snapshot {spec} does not exist in file system {fs}.", 2)
    if len(rows) > 1:
        raise inv.fail(f"Snapshot name {spec} is ambiguous in file system {fs}; give it as "
                       "Fileset:Snapshot.", 22)
    return rows[0]


def _target(inv: Invocation, fs: sqlite3.Row, rel: str, snapshot: str | None,
            scope: str) -> Target:
    root = inv.root
    tree = str(layout.tree(root, fs))
    visible_root = os.path.normpath(fs["mounted_at"])
    rows = usage.live_filesets(inv.db, fs["name"])
    junctions = placement.fileset_junctions(root, inv.db, fs)
    by_name = {r["name"]: r for r in rows}
    parts = rel.split("/") if rel else []
    snap_row = None
    live_rel = rel
    scan_rel = rel  # relative to the fs root on disk
    if SNAPDIR in parts:
        index = parts.index(SNAPDIR)
        base_rel = "/".join(parts[:index])
        owner = junctions.get(base_rel) if base_rel else junctions.get("", "root")
        owner_row = by_name.get(owner) if owner else None
        at_snaproot = base_rel == "" or (owner_row is not None and base_rel in junctions
                                         and owner_row["is_inode_space_owner"])
        if at_snaproot and index + 1 < len(parts):
            if snapshot is not None:
                raise inv.fail("A snapshot directory cannot be combined with -S.", 22)
            snap_name = parts[index + 1]
            spec = snap_name if base_rel == "" else f"{owner}:{snap_name}"
            snap_row = _snapshot_row(inv, fs["name"], spec)
            below = "/".join(parts[index + 2:])
            live_rel = "/".join(p for p in (base_rel, below) if p)
        elif at_snaproot:
            raise inv.fail(f"{visible_root}/{rel} is the snapshot directory itself; name a "
                           "snapshot in it or use -S.", 22)
    elif snapshot is not None:
        snap_row = _snapshot_row(inv, fs["name"], snapshot)
        if snap_row["fileset"] is None:
            scan_rel = "/".join(p for p in (SNAPDIR, snap_row["name"], rel) if p)
        else:
            fileset = by_name.get(snap_row["fileset"])
            junction = next((j for j, n in junctions.items() if n == snap_row["fileset"]),
                            None)
            if fileset is None or junction is None:
                raise inv.fail(f"Fileset {snap_row['fileset']} of snapshot {snapshot} is not "
                               "linked.", 2)
            if rel == "":
                rel = live_rel = junction   # the file system: the whole fileset snapshot
            if not (junction == "" or rel == junction or rel.startswith(junction + "/")):
                raise inv.fail(f"Directory {visible_root}/{rel} is not in fileset "
                               f"{snap_row['fileset']} of snapshot {snapshot}.", 22)
            below = rel[len(junction):].lstrip("/")
            scan_rel = "/".join(p for p in (junction, SNAPDIR, snap_row["name"], below) if p)
    if snap_row is not None and snap_row["status"] not in ("Valid", None):
        raise inv.fail(f"Snapshot {snap_row['name']} is not valid ({snap_row['status']}).", 22)
    scan_dir = os.path.join(tree, scan_rel) if scan_rel else tree
    if not os.path.isdir(scan_dir):
        raise inv.fail(f"{visible_root}/{scan_rel}: No such file or directory", 2)
    target = Target(fs=fs, tree=scan_dir,
                    visible=os.path.join(visible_root, scan_rel) if scan_rel else visible_root,
                    live_rel=live_rel,
                    snapshot=snap_row["name"] if snap_row is not None else None,
                    snap_id=snap_row["snap_id"] if snap_row is not None else 0,
                    all_junctions=junctions)
    target.junctions = subtree_junctions(junctions, live_rel)
    independent = {j for j, n in junctions.items()
                   if j and by_name.get(n) is not None and by_name[n]["is_inode_space_owner"]}
    if snap_row is None:
        target.independent = {_below(j, live_rel) for j in independent
                              if _below(j, live_rel) is not None}
    here = target.junctions.get("", "root")
    here_row = by_name.get(here)
    if scope != "filesystem":
        for junction, fileset in target.junctions.items():
            if not junction:
                continue
            row = by_name.get(fileset)
            if scope == "fileset" or (row is not None and here_row is not None
                                      and row["inode_space"] != here_row["inode_space"]):
                target.exclude.add(junction)
    return target


def _below(junction: str, base: str) -> str | None:
    if base == "":
        return junction
    if junction.startswith(base + "/"):
        return junction[len(base) + 1:]
    return None


def relative(path: str, base: str) -> str | None:
    """``path`` relative to ``base`` when inside it ('' = itself), else None."""
    path, base = os.path.normpath(path), os.path.normpath(base)
    if path == base:
        return ""
    if path.startswith(base.rstrip("/") + "/"):
        return path[len(base.rstrip("/")) + 1:]
    return None


def test_argument(target: Target) -> str:
    """The second argument of an interface script's TEST call."""
    return target.visible
