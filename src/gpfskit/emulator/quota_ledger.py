"""The quota ledger of one file system: limits, defaults, grace clocks and measured usage.

Limits live in the ``quotas`` table, keyed by :class:`QuotaKey` (type ``USR``/``GRP``/
``FILESET``, owner id, and the fileset name of a per-fileset user/group entry or ``''``);
a key with id :data:`DEFAULT_ID` holds default limits. Usage is never stored: the ledger
measures the real files once (``usage.measure``) and answers every entry from that walk.

A soft limit's grace clock starts when usage is first seen above it
(``block_over_since``/``files_over_since``) and stops when usage drops back. Building
entries notes the clocks that moved (``updates``); ``save_grace_clocks`` writes them, and
``events.save_quota_clocks`` fires the crossings. The quota commands (``commands/quotas``)
and the periodic check (``events``) both read quotas through here.
"""

from __future__ import annotations

import grp
import math
import pwd
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from gpfskit.emulator import usage

TYPES = ("USR", "GRP", "FILESET")
DEFAULT_GRACE = 7 * 24 * 3600
DEFAULT_ID = -1
_ENFORCED = {"USR": "user", "GRP": "group", "FILESET": "fileset"}

#: (block soft, block hard, files soft, files hard): KiB and inodes, 0 for no limit.
Limits = tuple[int, int, int, int]


class QuotaKey(NamedTuple):
    """What a row of the ``quotas`` table is about."""

    type: str        # USR, GRP or FILESET
    id: int          # uid, gid or fileset id (DEFAULT_ID: the default limits)
    fileset: str     # the fileset of a per-fileset USR/GRP entry, else ''


class ClockUpdate(NamedTuple):
    """A grace clock that moved while entries were built: when usage went over (None:
    not over) the block and the files soft limits."""

    key: QuotaKey
    block_since: float | None
    files_since: float | None


def owner_name(kind: str, ident: int, numeric: bool = False) -> str:
    """The user (``USR``) or group (``GRP``) name of an id; the id itself when unknown."""
    if numeric:
        return str(ident)
    try:
        return pwd.getpwuid(ident).pw_name if kind == "USR" else grp.getgrgid(ident).gr_name
    except (KeyError, OverflowError):
        return str(ident)


def format_period(seconds: float) -> str:
    """``7 days``, ``5 hours``, ``12 minutes``: the largest unit that fits, rounded up
    (a clock within a minute of a whole day or hour counts as that day or hour)."""
    for unit, size, slack in (("day", 86400, 60), ("hour", 3600, 60), ("minute", 60, 0)):
        if seconds >= size - slack:
            count = max(1, math.ceil((seconds - slack) / size))
            return f"{count} {unit}{'s' if count != 1 else ''}"
    count = max(math.ceil(seconds), 1)
    return f"{count} second{'s' if count != 1 else ''}"


def limits_of(row: sqlite3.Row | None) -> Limits:
    """The limits a ``quotas`` row holds (all 0 without a row)."""
    if row is None:
        return (0, 0, 0, 0)
    return (row["block_soft"], row["block_hard"], row["files_soft"], row["files_hard"])


def over_since(used: int, soft: int, before: float | None) -> float | None:
    """A grace clock after usage was measured: None under the soft limit, else when usage
    went over (``before`` if it was over already, else now)."""
    if not soft or used <= soft:
        return None
    return before if before is not None else time.time()


@dataclass
class QuotaEntry:
    """One line of a quota report."""

    type: str
    id: int
    name: str
    scope: str                  # the fileset name of a per-fileset USR/GRP entry, else ''
    fid: int | None             # its fileset id
    kb: int
    files: int
    block_soft: int
    block_hard: int
    files_soft: int
    files_hard: int
    remarks: str
    block_grace: str
    files_grace: str
    quota: str
    def_quota: str

    def over(self) -> bool:
        return bool((self.block_soft and self.kb > self.block_soft)
                    or (self.block_hard and self.kb > self.block_hard)
                    or (self.files_soft and self.files > self.files_soft)
                    or (self.files_hard and self.files > self.files_hard))

    def y_row(self, fs: str) -> list[object]:
        return [fs, self.type, self.id, self.name, self.kb, self.block_soft, self.block_hard, 0,
                self.block_grace, self.files, self.files_soft, self.files_hard, 0,
                self.files_grace, self.remarks, self.quota, self.def_quota,
                "" if self.fid is None else self.fid, self.scope]


class QuotaLedger:
    """The quota state of one file system (see the module docstring)."""

    def __init__(self, root: Path, db: sqlite3.Connection, fs_row: sqlite3.Row,
                 measured: usage.Usage | None = None) -> None:
        self.db = db
        self.fs_row = fs_row
        self.fs: str = fs_row["name"]
        self.perfileset = bool(fs_row["perfileset_quota"])
        self.filesets = usage.live_filesets(db, self.fs)
        self.by_name = {r["name"]: r for r in self.filesets}
        self.by_id = {r["id"]: r for r in self.filesets}
        self.rows = {QuotaKey(r["type"], r["id"], r["fileset"]): r for r in db.execute(
            "SELECT * FROM quotas WHERE fs = ?", (self.fs,))}
        self.grace = {t: (DEFAULT_GRACE, DEFAULT_GRACE) for t in TYPES}
        for r in db.execute("SELECT * FROM grace_periods WHERE fs = ?", (self.fs,)):
            self.grace[r["type"]] = (r["block_seconds"], r["files_seconds"])
        enforced = (fs_row["quotas_enforced"] or "").split(";")
        self.enforced = {t: _ENFORCED[t] in enforced for t in TYPES}
        self.usage = measured if measured is not None else usage.measure(root, db, fs_row)
        self.now = time.time()
        self.updates: list[ClockUpdate] = []

    # Which entries exist ---------------------------------------------------------------
    def owner_keys(self, kind: str, scope_fid: int | None) -> list[tuple[int, int | None]]:
        """(owner id, fileset id or None) of every USR/GRP entry with usage or limits."""
        keys: set[tuple[int, int | None]] = set()
        if scope_fid is not None or self.perfileset:
            table = self.usage.fileset_users if kind == "USR" else self.usage.fileset_groups
            keys |= {(owner, fid) for fid, owner in table
                     if scope_fid is None or fid == scope_fid}
            for (t, ident, scope) in self.rows:
                fileset = self.by_name.get(scope or "root")
                if t == kind and ident != DEFAULT_ID and fileset is not None and (
                        scope_fid is None or fileset["id"] == scope_fid) and (
                        scope or self.perfileset):
                    keys.add((ident, fileset["id"]))
        else:
            owners = self.usage.users if kind == "USR" else self.usage.groups
            keys |= {(owner, None) for owner in owners}
            keys |= {(ident, None) for (t, ident, scope) in self.rows
                     if t == kind and ident != DEFAULT_ID and scope == ""}
        return sorted(keys, key=lambda k: (k[0], -1 if k[1] is None else k[1]))

    def scope_of(self, fid: int | None) -> str:
        if fid is None:
            return ""
        return self.by_id[fid]["name"]

    def usage_of(self, key: QuotaKey) -> usage.Counts:
        """What the owner of ``key`` uses (0 for a fileset that is gone)."""
        if key.type == "FILESET" or not key.fileset:
            return self._counts(key.type, key.id, None)
        fileset = self.by_name.get(key.fileset)
        if fileset is None:
            return usage.Counts(0, 0)
        return self._counts(key.type, key.id, fileset["id"])

    def entry(self, kind: str, ident: int, fid: int | None = None, *, numeric: bool = False
              ) -> QuotaEntry:
        """One USR/GRP (``fid``: per fileset) or FILESET (``ident`` = fileset id) entry."""
        if kind == "FILESET":
            key = QuotaKey("FILESET", ident, "")
            name = self.by_id[ident]["name"]
            default_keys = [(QuotaKey("FILESET", DEFAULT_ID, ""), "d_fsys")]
            fid = None
        else:
            name = owner_name(kind, ident, numeric)
            scope = self.scope_of(fid)
            key = QuotaKey(kind, ident, scope)
            if fid == 0 and key not in self.rows and (kind, ident, "") in self.rows \
                    and self.perfileset:
                key = QuotaKey(kind, ident, "")
            default_keys = [(QuotaKey(kind, DEFAULT_ID, scope), "d_fset" if scope else "d_fsys")]
            if scope:
                default_keys.append((QuotaKey(kind, DEFAULT_ID, ""), "d_fsys"))
        counts = self._counts(kind, ident, fid)
        row = self.rows.get(key)
        limits = limits_of(row)
        remarks = "e" if any(limits) else "i"
        def_quota = "off"
        for default_key, label in default_keys:
            default_row = self.rows.get(default_key)
            if default_row is not None and any(limits_of(default_row)):
                def_quota = "on"
                if remarks == "i":
                    limits, remarks = limits_of(default_row), label
                break
        block_grace, block_since = self._grace(kind, 0, counts.kb, limits[0], limits[1],
                                               row["block_over_since"] if row else None)
        files_grace, files_since = self._grace(kind, 1, counts.inodes, limits[2], limits[3],
                                               row["files_over_since"] if row else None)
        if (block_since, files_since) != ((row["block_over_since"], row["files_over_since"])
                                          if row else (None, None)):
            self.updates.append(ClockUpdate(key, block_since, files_since))
        return QuotaEntry(kind, ident, name, "" if kind == "FILESET" else self.scope_of(fid),
                          fid, counts.kb, counts.inodes, *limits, remarks, block_grace,
                          files_grace, "on" if self.enforced[kind] else "off", def_quota)

    def _counts(self, kind: str, ident: int, fid: int | None) -> usage.Counts:
        """Usage of an entry: a fileset, an owner in the whole file system or in fileset
        ``fid``."""
        zero = usage.Counts(0, 0)
        if kind == "FILESET":
            return self.usage.filesets.get(ident, zero)
        if fid is None:
            owners = self.usage.users if kind == "USR" else self.usage.groups
            return owners.get(ident, zero)
        table = self.usage.fileset_users if kind == "USR" else self.usage.fileset_groups
        return table.get((fid, ident), zero)

    def _grace(self, kind: str, which: int, used: int, soft: int, hard: int,
               since: float | None) -> tuple[str, float | None]:
        if not soft or used <= soft:
            return "none", None
        since = since if since is not None else self.now
        left = since + self.grace[kind][which] - self.now
        if left <= 0 or (hard and used > hard):
            return "expired", since
        return format_period(left), since

    def fileset_entries(self, only: int | None = None) -> list[QuotaEntry]:
        return [self.entry("FILESET", r["id"]) for r in self.filesets
                if only is None or r["id"] == only]

    def owner_entries(self, kind: str, scope_fid: int | None, numeric: bool
                      ) -> list[QuotaEntry]:
        return [self.entry(kind, ident, fid, numeric=numeric)
                for ident, fid in self.owner_keys(kind, scope_fid)]

    def entry_for(self, key: QuotaKey) -> QuotaEntry | None:
        """The entry of a key (None when its fileset is gone)."""
        if key.type == "FILESET":
            return self.entry("FILESET", key.id) if key.id in self.by_id else None
        fid = None
        if key.fileset:
            fileset = self.by_name.get(key.fileset)
            if fileset is None:
                return None
            fid = fileset["id"]
        return self.entry(key.type, key.id, fid)

    def save_grace_clocks(self) -> None:
        """Record when usage went over (or back under) a soft limit; best effort when the
        command only reads (another writer may hold the database)."""
        if not self.updates:
            return
        try:
            for key, block_since, files_since in self.updates:
                row = self.rows.get(key)
                if (row is None or not any(limits_of(row))) and (
                        block_since is None and files_since is None):
                    self.db.execute(
                        "DELETE FROM quotas WHERE fs = ? AND type = ? AND id = ? "
                        "AND fileset = ?", (self.fs, *key))
                    continue
                self.db.execute(
                    "INSERT INTO quotas (fs, type, id, fileset, block_over_since, "
                    "files_over_since) VALUES (?, ?, ?, ?, ?, ?) "
                    "ON CONFLICT (fs, type, id, fileset) DO UPDATE SET "
                    "block_over_since = excluded.block_over_since, "
                    "files_over_since = excluded.files_over_since",
                    (self.fs, *key, block_since, files_since))
        except sqlite3.OperationalError:
            pass
        self.updates = []

    def default_state(self, kind: str) -> str:
        on = any(t == kind and ident == DEFAULT_ID and any(limits_of(r))
                 for (t, ident, _), r in self.rows.items())
        return "on" if on else "off"
