"""Snapshots: mmlssnapshot, mmcrsnapshot, mmdelsnapshot (storage-scale.md §2.9).

A snapshot is a read-only point-in-time copy of files (snapcopy.py: cloned where the host
shares extents, copied otherwise). A global snapshot copies the whole tree of the file system,
without ``.snapshots`` directories, to ``<fs root>/.snapshots/<name>``; a fileset snapshot
copies an independent fileset's inode space (its tree with the dependent filesets linked in
it; nested independent filesets appear as empty directories) to
``<junction>/.snapshots/<name>``. Unlinked filesets are not part of a global snapshot's copy.
The ``.snapshots`` directories are mode 0555 and disappear when their last snapshot goes.
Snapshot ids increase per file system and are never reused (the file system's
``maxSnapshotId`` attribute keeps the highest id handed out).

Where the reference is silent:

* Refusals: an unknown snapshot or fileset exits 2, a snapshot name in use 17, an incorrect
  name or time 22, other refusals (dependent, unlinked or root fileset) 1. Every name in a
  list is checked before anything is created or deleted.
* Global and fileset snapshot names are separate namespaces, except that the root fileset's
  own snapshots (``-j root``: the root fileset is independent) live in the file system
  root's ``.snapshots`` beside the global ones, so a name there is refused (17) when either
  kind holds it. A root fileset snapshot copies the root inode space: the tree with its
  dependent filesets, independent filesets' junctions as empty directories.
* ``--expiration-time yyyy-mm-dd-hh:mm[:ss]`` (local time) is stored and shown in the human
  table (``ExpirationTime`` appears once some listed snapshot has one; snapshots without one
  show their creation time there); it does not block deletion.
* ``-d`` measures the copy: ``data`` is the KiB its files occupy, ``metadata`` one inode
  (the file system's inode size) per file; without ``-d`` both are 0 in ``-Y``. Human sizes
  are KiB unless ``--block-size`` says otherwise. ``--fast``, ``--qos``, ``-N`` and
  ``--pit-continues-on-error`` (of mmlssnapshot/mmdelsnapshot) are accepted and change
  nothing.
* With no (matching) snapshots the command prints ``No snapshots in file system <fs>``, in
  ``-Y`` mode too, and exits 0.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from gpfskit.emulator import events, layout, names, usage
from gpfskit.emulator.args import Parsed, UsageError
from gpfskit.emulator.commands.filesets import (
    all_filesets,
    capturing_snapshots,
    find_fileset,
)
from gpfskit.emulator.dispatch import CommandError, Invocation, command
from gpfskit.emulator.output import ctime, ytable
from gpfskit.emulator.steps import Copy, Discard, MakeDir, Step, creating_in, deleting

SNAPDIR = layout.SNAPDIR
Y_COLUMNS = ["filesystemName", "directory", "snapID", "status", "created", "quotas", "data",
             "metadata", "fileset", "snapType"]


@dataclass
class Target:
    fileset: str | None      # None: a global snapshot
    name: str

    @property
    def label(self) -> str:
        return f"{self.fileset}:{self.name}" if self.fileset else self.name


def parse_targets(spec: str, filesets: str | None) -> list[Target]:
    """``a,fset:b`` plus ``-j f1,f2`` (fanning out the names without a fileset)."""
    fanout = [f for f in (filesets or "").split(",") if f]
    targets: list[Target] = []
    for item in spec.split(","):
        if not item:
            continue
        if ":" in item:
            fileset, _, name = item.partition(":")
            targets.append(Target(fileset or None, name))
        elif fanout:
            targets.extend(Target(f, item) for f in fanout)
        else:
            targets.append(Target(None, item))
    if not targets:
        raise UsageError("Missing snapshot name.")
    return targets


def snapshot_base(inv: Invocation, fs_row: sqlite3.Row, rows: list[sqlite3.Row],
                  fileset: str | None) -> Path | None:
    """The directory holding the ``.snapshots`` directory of a global or fileset snapshot."""
    if fileset is None:
        return layout.tree(inv.root, fs_row)
    places = usage.fileset_places(inv.root, fs_row, rows)
    row = next((r for r in rows if r["name"] == fileset and r["status"] != "Deleted"), None)
    return places[row["id"]].path if row is not None else None


def _parse_expiration(inv: Invocation, text: str | None) -> float | None:
    if text is None:
        return None
    for pattern in ("%Y-%m-%d-%H:%M:%S", "%Y-%m-%d-%H:%M"):
        try:
            return time.mktime(time.strptime(text, pattern))
        except ValueError:
            continue
    raise inv.fail(f"Incorrect expiration time {text}; the format is yyyy-mm-dd-hh:mm[:ss].", 22)


# mmcrsnapshot --------------------------------------------------------------------------

@command("mmcrsnapshot",
         "mmcrsnapshot Device [[Fileset]:]Snapshot[,[[Fileset]:]Snapshot...] "
         "[-j FilesetName[,FilesetName...]]\n"
         "             [--expiration-time yyyy-mm-dd-hh:mm[:ss]]",
         valued=("-j", "--expiration-time"), min_operands=2, max_operands=2, changing=True)
def mmcrsnapshot(inv: Invocation, args: Parsed) -> None:
    fs_row = inv.filesystem(args.operands[0])
    fs = fs_row["name"]
    targets = parse_targets(args.operands[1], args.get("-j"))
    expiration = _parse_expiration(inv, args.get("--expiration-time"))
    rows = all_filesets(inv.db, fs)
    places = usage.fileset_places(inv.root, fs_row, rows)
    existing = {(r["fileset"], r["name"]) for r in inv.db.execute(
        "SELECT fileset, name FROM snapshots WHERE fs = ?", (fs,))}
    plans: list[tuple[Target, Path, Path, set[str], set[str]]] = []
    for target in targets:
        problem = names.snapshot_name_problem(target.name)
        if problem:
            raise inv.fail(names.snapshot_message(target.name, problem), 22)
        if (target.fileset, target.name) in existing:
            raise inv.fail(f"Snapshot {target.label} already exists.", 17)
        existing.add((target.fileset, target.name))
        if target.fileset is None:
            source = layout.tree(inv.root, fs_row)
            skip = {str(source / SNAPDIR)} | {
                str(places[r["id"]].path / SNAPDIR) for r in rows
                if r["is_inode_space_owner"] and r["id"] in places
                and places[r["id"]].linked_in_tree}
            empty: set[str] = set()
        else:
            fileset = find_fileset(inv, fs, target.fileset)
            if not fileset["is_inode_space_owner"]:
                raise inv.fail(f"Fileset {fileset['name']} is a dependent fileset; snapshots "
                               "can be created only for independent filesets.", 1)
            place = places[fileset["id"]]
            if fileset["status"] != "Linked":
                raise inv.fail(f"Fileset {fileset['name']} is not linked; a snapshot of an "
                               "unlinked fileset cannot be created.", 1)
            if not place.linked_in_tree:
                raise inv.fail(f"Fileset {fileset['name']} is linked inside an unlinked "
                               "fileset; a snapshot of it cannot be created until that "
                               "fileset is linked again.", 1)
            source = place.path
            skip = {str(source / SNAPDIR)}
            inside = str(source) + os.sep
            empty = {p.dir for fid, p in places.items()
                     if p.dir.startswith(inside)
                     and next(r for r in rows if r["id"] == fid)["inode_space"]
                     != fileset["inode_space"]}
        destination = source / SNAPDIR / target.name
        problem = names.path_problem(str(destination))
        if problem:
            raise inv.fail(f"Snapshot {target.label} cannot be created at {destination}: "
                           f"{problem}.", 22)
        if os.path.lexists(destination) or any(plan[2] == destination for plan in plans):
            raise inv.fail(f"Snapshot directory {destination} already exists.", 17)
        plans.append((target, source, destination, skip, empty))
    # Disk: every copy (the journal undoes them all if one fails), then the database.
    attrs = json.loads(fs_row["attrs"] or "{}")
    top = inv.db.execute("SELECT max(snap_id) FROM snapshots WHERE fs = ?", (fs,)).fetchone()[0]
    next_id = max(int(attrs.get("maxSnapshotId", 0) or 0), top or 0) + 1
    steps: list[Step] = []
    for _target, source, destination, skip, empty in plans:
        snapdir = destination.parent
        if not snapdir.exists() and not any(getattr(s, "path", None) == str(snapdir)
                                             for s in steps):
            steps.append(MakeDir(str(snapdir), 0o555))
        steps.append(Copy(str(source), str(creating_in(snapdir)), str(destination),
                          sorted(skip), sorted(empty)))
    try:
        inv.journal.act(*steps)
    except OSError as exc:
        raise CommandError(f"{inv.name}: Cannot create snapshot: {exc}", 1) from None
    now = time.time()
    for offset, (target, *_rest) in enumerate(plans):
        snap_id = next_id + offset
        inv.say(f"Flushing dirty data for snapshot {target.label}...")
        inv.say("Quiescing all file system operations.")
        inv.say(f"Snapshot {target.label} created with id {snap_id}.")
        inv.db.execute("INSERT INTO snapshots (fs, snap_id, name, fileset, status, created, "
                       "expiration) VALUES (?, ?, ?, ?, 'Valid', ?, ?)",
                       (fs, snap_id, target.name, target.fileset, now, expiration))
    attrs["maxSnapshotId"] = next_id + len(plans) - 1
    inv.db.execute("UPDATE filesystems SET attrs = ? WHERE name = ?", (json.dumps(attrs), fs))
    for offset, (target, *_rest) in enumerate(plans):
        events.snapshot_created(inv, fs, target.name, next_id + offset, target.fileset)


# mmdelsnapshot -------------------------------------------------------------------------

@command("mmdelsnapshot",
         "mmdelsnapshot Device [[Fileset]:]Snapshot[,[[Fileset]:]Snapshot...] "
         "[-j FilesetName[,FilesetName...]]\n"
         "              [-N {all | mount | Node[,Node...] | NodeFile | NodeClass}] "
         "[--pit-continues-on-error] [--qos QosClass]",
         flags=("--pit-continues-on-error",), valued=("-j", "-N", "--qos"), min_operands=2,
         max_operands=2, changing=True)
def mmdelsnapshot(inv: Invocation, args: Parsed) -> None:
    fs_row = inv.filesystem(args.operands[0])
    fs = fs_row["name"]
    targets = parse_targets(args.operands[1], args.get("-j"))
    rows = all_filesets(inv.db, fs)
    chosen: list[tuple[Target, sqlite3.Row]] = []
    for target in targets:
        if target.fileset is not None:
            find_fileset(inv, fs, target.fileset)
        snap = inv.db.execute(
            "SELECT * FROM snapshots WHERE fs = ? AND name = ? AND fileset IS ?",
            (fs, target.name, target.fileset)).fetchone()
        if snap is None:
            raise inv.fail(f"Snapshot {target.label} does not exist in file system {fs}.", 2)
        if all(snap["snap_id"] != s["snap_id"] for _, s in chosen):
            chosen.append((target, snap))
    # Disk: move every copy aside (deleted for good after the commit), then the database.
    steps = []
    for target, _snap in chosen:
        base = snapshot_base(inv, fs_row, rows, target.fileset)
        path = base / SNAPDIR / target.name if base is not None else None
        if path is not None and os.path.lexists(path):
            steps.append(Discard(str(path), str(deleting(path)), drop_parent=True))
    try:
        inv.journal.act(*steps)
    except OSError as exc:
        raise CommandError(f"{inv.name}: Cannot delete snapshot: {exc}", 1) from None
    gone = {snap["snap_id"] for _, snap in chosen}
    for target, snap in chosen:
        inv.say(f"Invalidating snapshot files in {target.label}...")
        inv.say(f"Deleting files in snapshot {target.label}...")
        inv.db.execute("DELETE FROM snapshots WHERE fs = ? AND snap_id = ?",
                       (fs, snap["snap_id"]))
        inv.say(f"Delete snapshot {target.label} successful.")
    for row in rows:
        if row["status"] == "Deleted" and not capturing_snapshots(inv.db, fs, row, rows, gone):
            inv.db.execute("DELETE FROM filesets WHERE fs = ? AND id = ?", (fs, row["id"]))


# mmlssnapshot --------------------------------------------------------------------------

@command("mmlssnapshot",
         "mmlssnapshot Device [-d [--fast] [--block-size {BlockSize | auto}]]\n"
         "             [-s {all | global | [[Fileset]:]Snapshot[,[[Fileset]:]Snapshot...]} | "
         "-j Fileset[,Fileset...]]\n"
         "             [--qos QOSClass] [-Y]",
         flags=("-d", "--fast", "-Y"), valued=("-s", "-j", "--block-size", "--qos"),
         min_operands=1, max_operands=1)
def mmlssnapshot(inv: Invocation, args: Parsed) -> None:
    fs_row = inv.filesystem(args.operands[0])
    fs = fs_row["name"]
    if args.get("-s") is not None and args.get("-j") is not None:
        raise UsageError("Options -s and -j are mutually exclusive.")
    block_size: int | str | None = "K"
    if args.get("--block-size") is not None:
        try:
            block_size = usage.parse_block_size(args.get("--block-size"))
        except ValueError:
            raise inv.fail(f"Incorrect block size: {args.get('--block-size')}", 22) from None
    snaps = inv.db.execute("SELECT * FROM snapshots WHERE fs = ? ORDER BY snap_id",
                           (fs,)).fetchall()
    rows = all_filesets(inv.db, fs)
    selector = args.get("-s")
    if args.get("-j") is not None:
        wanted = [f for f in args.get("-j").split(",") if f]
        for name in wanted:
            find_fileset(inv, fs, name)
        snaps = [s for s in snaps if s["fileset"] in wanted]
    elif selector == "global":
        snaps = [s for s in snaps if s["fileset"] is None]
    elif selector not in (None, "all"):
        picked = []
        for target in parse_targets(selector, None):
            match = [s for s in snaps
                     if s["name"] == target.name and s["fileset"] == target.fileset]
            if not match:
                raise inv.fail(f"Snapshot {target.label} does not exist in file system {fs}.",
                               2)
            picked.extend(m for m in match if m not in picked)
        snaps = sorted(picked, key=lambda s: s["snap_id"])
    if not snaps:
        inv.say(f"No snapshots in file system {fs}")
        return
    sizes: dict[int, tuple[int, int]] = {}
    if args.has("-d"):
        inode_kb = max(int(fs_row["inode_size"]) // 1024, 1)
        for snap in snaps:
            base = snapshot_base(inv, fs_row, rows, snap["fileset"])
            counts = (usage.tree_usage(base / SNAPDIR / snap["name"]) if base is not None
                      else usage.Counts(0, 0))
            sizes[snap["snap_id"]] = (counts.kb, counts.inodes * inode_kb)
    if args.has("-Y"):
        inv.out.write(ytable("mmlssnapshot", "", Y_COLUMNS, [
            [fs, s["name"], s["snap_id"], s["status"], ctime(s["created"]), "",
             sizes.get(s["snap_id"], (0, 0))[0], sizes.get(s["snap_id"], (0, 0))[1],
             s["fileset"] or "", ""] for s in snaps]))
        return
    with_expiration = any(s["expiration"] is not None for s in snaps)
    inv.say(f"Snapshots in file system {fs}:" + (" [data and metadata]" if sizes else ""))
    header = f"{'Directory':<24} {'SnapId':<9} {'Status':<7} {'Created':<24}  "
    if with_expiration:
        header += f"{'ExpirationTime':<24}  "
    header += f"{'Fileset':<16}"
    if sizes:
        header += f"{'Data':>6}{'Metadata':>10}"
    inv.say(header.rstrip())
    for s in snaps:
        line = f"{s['name']:<24} {s['snap_id']!s:<9} {s['status']:<7} {ctime(s['created']):<24}  "
        if with_expiration:
            line += f"{ctime(s['expiration'] or s['created']):<24}  "
        line += f"{s['fileset'] or '':<16}"
        if sizes:
            data, meta = sizes[s["snap_id"]]
            line += (f"{usage.format_kb(data, block_size):>6}"
                     f"{usage.format_kb(meta, block_size):>10}")
        inv.say(line.rstrip())
