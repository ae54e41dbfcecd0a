"""``gpfskit emulator fsck``: check the cluster's database against its directory tree.

Run under the command lock, so it sees a cluster no command is changing. It reports:

* intents left by interrupted commands (repair: roll them back or forward, as the next
  command would);
* filesets whose root directory is missing (repair: an empty root directory, parked, and the
  fileset recorded unlinked: its files are lost, the fileset can be linked or deleted again);
* directories in the parking area that no unlinked fileset owns (repair: removed when empty
  or a leftover ``.deleting-*``; one holding files is left for an administrator);
* snapshots whose copy is missing (repair: the record is removed), and in ``.snapshots``
  directories copies no snapshot owns, leftover ``.creating-*`` / ``.deleting-*`` copies
  and ``.snapshots`` directories left empty (repair: removed);
* file systems whose tree is missing (not repairable).

Exit codes follow fsck(8): 0 nothing wrong, 1 problems found and all repaired, 4 problems
left (found without ``--repair``, or not repairable), 8 fsck itself could not run.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from gpfskit.emulator import journal, layout, lockfile, snapcopy, state, usage
from gpfskit.emulator.steps import CREATING, DELETING, drop_if_empty

CLEAN, REPAIRED, LEFT, FAILED = 0, 1, 4, 8
TEMPORARY = (CREATING, DELETING)


@dataclass
class Finding:
    problem: str
    repair: Callable[[], str] | None    # does the repair, returns what it did; None: cannot
    advice: str = ""                    # what an administrator can do, when fsck cannot
    outcome: str | None = None          # set once repaired


@dataclass
class Report:
    findings: list[Finding]
    repaired: bool

    @property
    def exit_code(self) -> int:
        if not self.findings:
            return CLEAN
        if all(f.outcome is not None for f in self.findings):
            return REPAIRED
        return LEFT

    def lines(self) -> list[str]:
        shown = []
        for finding in self.findings:
            shown.append(finding.problem)
            if finding.outcome is not None:
                shown.append(f"  repaired: {finding.outcome}")
            elif finding.repair is None:
                shown.append(f"  cannot repair: {finding.advice}")
            else:
                shown.append("  repairable (run with --repair)")
        left = sum(1 for f in self.findings if f.outcome is None)
        shown.append(f"{len(self.findings)} problem(s) found, "
                     f"{len(self.findings) - left} repaired, {left} left."
                     if self.findings else "The database and the tree agree.")
        return shown


def check(root: str | os.PathLike[str], *, repair: bool = False) -> Report:
    """Check (and with ``repair`` fix) the cluster under ``root``."""
    root = Path(root)
    db = state.connection(root)
    with lockfile.CommandLock(root), state.transaction(db, write=True):
        findings = _leftovers(db, root)
        if repair:
            _repair(findings)
        if repair or not findings:   # the tree is compared once interrupted commands are settled
            for fs_row in db.execute("SELECT * FROM filesystems ORDER BY name").fetchall():
                found = _filesystem(root, db, fs_row)
                if repair:
                    _repair(found)
                findings += found
    return Report(findings, repair)


def _repair(findings: list[Finding]) -> None:
    for finding in findings:
        if finding.repair is None:
            continue
        try:
            finding.outcome = finding.repair()
        except (OSError, journal.Unsettled) as exc:
            finding.repair, finding.advice = None, f"the repair failed: {exc}"


def _leftovers(db: sqlite3.Connection, root: Path) -> list[Finding]:
    return [Finding(f"Interrupted command '{left.label}' (pid {left.pid}) left its intent "
                    f"({left.phase}).",
                    lambda left=left: journal.settle_one(db, root, left))
            for left in journal.leftovers(db, root)]


def _filesystem(root: Path, db: sqlite3.Connection, fs_row: sqlite3.Row) -> list[Finding]:
    fs = fs_row["name"]
    tree = layout.tree(root, fs_row)
    if not tree.is_dir():
        return [Finding(f"File system {fs}: its tree {tree} is missing.", None,
                        "restore the directory from a backup")]
    rows = db.execute("SELECT * FROM filesets WHERE fs = ? ORDER BY id", (fs,)).fetchall()
    places = usage.fileset_places(root, fs_row, rows)
    findings = _filesets(root, db, fs_row, rows, places)
    findings += _parking(root, fs_row, rows)
    findings += _snapshots(root, db, fs_row, rows, places)
    return findings


def _filesets(root: Path, db: sqlite3.Connection, fs_row: sqlite3.Row,
              rows: list[sqlite3.Row], places: dict[int, usage.Place]) -> list[Finding]:
    fs = fs_row["name"]
    findings = []
    for row in rows:
        place = places.get(row["id"])
        if place is None or row["id"] == 0 or place.path.is_dir():
            continue
        parked = layout.parked_fileset(root, fs, row["id"])

        def park(row: sqlite3.Row = row, parked: Path = parked) -> str:
            parked.parent.mkdir(parents=True, exist_ok=True)
            os.mkdir(parked, 0o700)
            db.execute("UPDATE filesets SET status = 'Unlinked', junction = NULL, "
                       "parent_id = NULL WHERE fs = ? AND id = ?", (fs, row["id"]))
            return (f"fileset {row['name']} is unlinked with an empty root directory "
                    "(its files were lost)")

        findings.append(Finding(f"File system {fs}: fileset {row['name']} is {row['status']} "
                                f"but its root directory {place.dir} is missing.",
                                park if not parked.exists() else None,
                                f"{parked} is in the way; move it aside"))
    return findings


def _parking(root: Path, fs_row: sqlite3.Row, rows: list[sqlite3.Row]) -> list[Finding]:
    home = layout.fs_home(root, fs_row["name"]) / "filesets"
    if not home.is_dir():
        return []
    owned = {str(r["id"]) for r in rows if r["status"] == "Unlinked"}
    findings = []
    for entry in sorted(os.listdir(home)):
        if entry in owned:
            continue
        path = home / entry
        if entry.startswith(TEMPORARY):
            findings.append(Finding(f"File system {fs_row['name']}: leftover {path} of an "
                                    "interrupted fileset deletion.", _remover(path)))
        elif path.is_dir() and not any(path.iterdir()):
            findings.append(Finding(f"File system {fs_row['name']}: empty directory {path} "
                                    "belongs to no fileset.", _remover(path)))
        else:
            findings.append(Finding(f"File system {fs_row['name']}: {path} belongs to no "
                                    "unlinked fileset but holds files.", None,
                                    "move its files to where they belong, then remove it"))
    return findings


def _remover(path: Path) -> Callable[[], str]:
    def remove() -> str:
        from gpfskit.emulator import fileattrs

        fileattrs.clear_flags(path)
        with snapcopy.writable(path.parent):
            snapcopy.remove_tree(path)
        if path.parent.name == layout.SNAPDIR:
            drop_if_empty(path.parent)
        return f"removed {path}"
    return remove


def _snapshots(root: Path, db: sqlite3.Connection, fs_row: sqlite3.Row,
               rows: list[sqlite3.Row], places: dict[int, usage.Place]) -> list[Finding]:
    fs = fs_row["name"]
    bases = {None: layout.tree(root, fs_row)}
    for row in rows:
        if row["is_inode_space_owner"] and row["id"] != 0 and row["id"] in places:
            bases[row["name"]] = places[row["id"]].path
    findings = []
    wanted: dict[Path, set[str]] = {base / layout.SNAPDIR: set() for base in bases.values()}
    for snap in db.execute("SELECT * FROM snapshots WHERE fs = ? ORDER BY snap_id", (fs,)):
        base = bases.get(snap["fileset"])
        label = f"{snap['fileset']}:{snap['name']}" if snap["fileset"] else snap["name"]
        if base is None:
            continue
        snapdir = base / layout.SNAPDIR
        wanted[snapdir].add(snap["name"])
        if not (snapdir / snap["name"]).is_dir():
            def forget(snap_id: int = snap["snap_id"], label: str = label) -> str:
                db.execute("DELETE FROM snapshots WHERE fs = ? AND snap_id = ?", (fs, snap_id))
                return f"snapshot {label} removed from the records"

            findings.append(Finding(f"File system {fs}: snapshot {label} is recorded but its "
                                    f"copy {snapdir / snap['name']} is missing.", forget))
    for snapdir, names in wanted.items():
        if not snapdir.is_dir():
            continue
        entries = sorted(os.listdir(snapdir))
        for entry in entries:
            if entry in names:
                continue
            why = ("a leftover of an interrupted snapshot command" if entry.startswith(TEMPORARY)
                   else "no snapshot owns it")
            findings.append(Finding(f"File system {fs}: {snapdir / entry}: {why}.",
                                    _remover(snapdir / entry)))
        if not entries:
            def drop(snapdir: Path = snapdir) -> str:
                drop_if_empty(snapdir)
                return f"removed {snapdir}"

            findings.append(Finding(f"File system {fs}: {snapdir} is empty.", drop))
    return findings
