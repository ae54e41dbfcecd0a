"""Quotas: mmsetquota, mmlsquota, mmrepquota (storage-scale.md §2.10).

Limits are stored in the ``quotas`` table in KiB (blocks) and inodes (files); usage is never
stored: every report walks the real files (usage.py). A fileset's usage is its own tree, a
user's or group's usage is every file of the file system they own (linked and unlinked
filesets). Grace periods start when a report or ``mmsetquota`` first sees usage above the soft
limit (``block_over_since``/``files_over_since``) and end when usage drops back. Those
crossings raise the callback events softQuotaExceeded and usageUnderSoftQuota (``events``).

Where the reference is silent:

* ``--block``: a number with a suffix K, M, G, T or P (case-insensitive, powers of 1024, a
  decimal fraction allowed) is that many KiB, MiB...; a bare number is bytes, rounded up to
  KiB. ``--files``: a count, optionally with K, M or G (powers of 1024). An omitted hard limit
  means none (0). Limits above 999999999999999 KiB and a soft limit above a non-zero hard
  limit are refused (exit 22). Options left out keep their current values.
* ``--grace`` periods are ``N`` followed by ``days``, ``hours``, ``minutes`` or ``seconds``
  (singular, plural or the first letter); a bare number is seconds. The default is 7 days.
* ``--default user|group|fileset`` stores default limits (a row with id -1 in ``quotas``):
  entries without limits of their own then take them, with entry type ``d_fsys`` (``d_fset``
  for per-fileset defaults) and ``defQuota`` ``on``. All-zero limits remove an entry.
* ``Device:Fileset`` with ``--user``/``--group`` (and with ``--default user|group``) needs
  per-fileset quotas on the file system (``mmchfs --perfileset-quota``); with them on, user and
  group quotas are kept per fileset, ``Device`` alone meaning the root fileset, and reports
  show one USR/GRP row per (fileset, owner) with ``fid``/``filesetname`` filled.
* ``mmrepquota Device:Fileset`` reports the fileset's FILESET row and the usage of each user
  and group inside that fileset. Rows come in the order USR, GRP, FILESET, each by id.
  ``-t`` adds a line with the grace periods and ``-q`` one with the default-quota state per
  type; ``-v`` and ``-e`` (usage is always current) change nothing. ``--block-size`` scales
  the human KB column (``auto``: with a unit letter).
* ``mmlsquota`` without ``-u``/``-g``/``-j`` shows the invoking user's USR quota; the human
  table is preceded by ``Disk quotas for user NAME (uid N):`` (``group``/``gid``) for user and
  group queries; ``-q`` keeps only entries over a limit; without a Device it covers every file
  system. An entry without any limit reads ``no limits`` in the human table (as the real
  command prints it; ``mmrepquota`` prints its zeros, as the captures show). The title line
  ``Block Limits ... | File Limits`` is flush-left in ``mmlsquota`` and indented in
  ``mmrepquota``, as in the captures of the reference. ``-d`` (default quotas) and
  ``mmsetquota -F`` are not emulated.
* Exit codes: unknown user or group 22, unknown fileset 2, per-fileset quotas off 1.
"""

from __future__ import annotations

import grp
import math
import os
import pwd
import re
import sqlite3
import time
from dataclasses import dataclass

from gpfskit.emulator import events, usage
from gpfskit.emulator.args import Parsed, UsageError
from gpfskit.emulator.commands.filesets import find_fileset, parse_count
from gpfskit.emulator.dispatch import Invocation, command
from gpfskit.emulator.output import ytable

Y_COLUMNS = ["filesystemName", "quotaType", "id", "name", "blockUsage", "blockQuota",
             "blockLimit", "blockInDoubt", "blockGrace", "filesUsage", "filesQuota",
             "filesLimit", "filesInDoubt", "filesGrace", "remarks", "quota", "defQuota", "fid",
             "filesetname"]
TYPES = ("USR", "GRP", "FILESET")
MAX_BLOCK_KB = 999_999_999_999_999
DEFAULT_GRACE = 7 * 24 * 3600
DEFAULT_ID = -1
_ENFORCED = {"USR": "user", "GRP": "group", "FILESET": "fileset"}
_TYPE_OF = {"user": "USR", "group": "GRP", "fileset": "FILESET"}

_REP_TITLE = ("        Block Limits                                    |"
              "                     File Limits")
_LS_TITLE = "Block Limits                                    |     File Limits"


# Parsing -------------------------------------------------------------------------------

def parse_block(text: str) -> int:
    """A block limit in KiB (see the module docstring)."""
    match = re.fullmatch(r"(\d+(?:\.\d+)?)([KkMmGgTtPp]?)", text.strip())
    if not match:
        raise ValueError(text)
    number = float(match.group(1)) if "." in match.group(1) else int(match.group(1))
    if not match.group(2):
        return math.ceil(number / 1024)
    return math.ceil(number * 1024 ** "KMGTP".index(match.group(2).upper()))


def parse_grace(text: str) -> int:
    """A grace period in seconds."""
    match = re.fullmatch(r"(\d+)\s*([A-Za-z]*)", text.strip())
    if not match:
        raise ValueError(text)
    unit = match.group(2).lower()
    for names_, seconds in ((("", "s", "sec", "secs", "second", "seconds"), 1),
                            (("m", "min", "mins", "minute", "minutes"), 60),
                            (("h", "hour", "hours"), 3600),
                            (("d", "day", "days"), 86400)):
        if unit in names_:
            return int(match.group(1)) * seconds
    raise ValueError(text)


def format_period(seconds: float) -> str:
    """``7 days``, ``5 hours``, ``12 minutes``: the largest unit that fits, rounded up
    (a clock within a minute of a whole day or hour counts as that day or hour)."""
    for unit, size, slack in (("day", 86400, 60), ("hour", 3600, 60), ("minute", 60, 0)):
        if seconds >= size - slack:
            count = max(1, math.ceil((seconds - slack) / size))
            return f"{count} {unit}{'s' if count != 1 else ''}"
    count = max(math.ceil(seconds), 1)
    return f"{count} second{'s' if count != 1 else ''}"


def _limit_pair(inv: Invocation, option: str, text: str) -> tuple[int, int]:
    soft_text, _, hard_text = text.partition(":")
    parse = parse_block if option == "--block" else parse_count
    try:
        soft = parse(soft_text)
        hard = parse(hard_text) if hard_text else 0
    except ValueError:
        raise inv.fail(f"Incorrect value for {option}: {text}", 22) from None
    if option == "--block" and max(soft, hard) > MAX_BLOCK_KB:
        raise inv.fail(f"The {option} limit {text} exceeds the maximum of {MAX_BLOCK_KB}K.", 22)
    if hard and soft > hard:
        raise inv.fail(f"The soft limit ({soft_text}) is greater than the hard limit "
                       f"({hard_text}) for {option}.", 22)
    return soft, hard


def resolve_owner(inv: Invocation, kind: str, text: str) -> int:
    """A user (``USR``) or group (``GRP``) name or numeric id -> its id."""
    if re.fullmatch(r"\d+", text):
        return int(text)
    try:
        return pwd.getpwnam(text).pw_uid if kind == "USR" else grp.getgrnam(text).gr_gid
    except KeyError:
        word = "user" if kind == "USR" else "group"
        raise inv.fail(f"Incorrect {word} name or ID: {text}", 22) from None


def owner_name(kind: str, ident: int, numeric: bool = False) -> str:
    if numeric:
        return str(ident)
    try:
        return pwd.getpwuid(ident).pw_name if kind == "USR" else grp.getgrgid(ident).gr_name
    except (KeyError, OverflowError):
        return str(ident)


# Building entries ----------------------------------------------------------------------

@dataclass
class Entry:
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
        return ((self.block_soft and self.kb > self.block_soft)
                or (self.block_hard and self.kb > self.block_hard)
                or (self.files_soft and self.files > self.files_soft)
                or (self.files_hard and self.files > self.files_hard))

    def y_row(self, fs: str) -> list[object]:
        return [fs, self.type, self.id, self.name, self.kb, self.block_soft, self.block_hard, 0,
                self.block_grace, self.files, self.files_soft, self.files_hard, 0,
                self.files_grace, self.remarks, self.quota, self.def_quota,
                "" if self.fid is None else self.fid, self.scope]


class Book:
    """The quota state of one file system: limits, defaults, grace periods and usage."""

    def __init__(self, inv: Invocation, fs_row: sqlite3.Row, measured: usage.Usage | None = None):
        self.inv = inv
        self.fs_row = fs_row
        self.fs = fs_row["name"]
        self.perfileset = bool(fs_row["perfileset_quota"])
        self.filesets = usage.live_filesets(inv.db, self.fs)
        self.by_name = {r["name"]: r for r in self.filesets}
        self.by_id = {r["id"]: r for r in self.filesets}
        self.rows = {(r["type"], r["id"], r["fileset"]): r for r in inv.db.execute(
            "SELECT * FROM quotas WHERE fs = ?", (self.fs,))}
        self.grace = {t: (DEFAULT_GRACE, DEFAULT_GRACE) for t in TYPES}
        for r in inv.db.execute("SELECT * FROM grace_periods WHERE fs = ?", (self.fs,)):
            self.grace[r["type"]] = (r["block_seconds"], r["files_seconds"])
        enforced = (fs_row["quotas_enforced"] or "").split(";")
        self.enforced = {t: _ENFORCED[t] in enforced for t in TYPES}
        self.usage = measured if measured is not None else usage.measure(inv.root, inv.db,
                                                                         fs_row)
        self.now = time.time()
        self.updates: list[tuple[tuple[str, int, str], float | None, float | None]] = []

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
            table = self.usage.users if kind == "USR" else self.usage.groups
            keys |= {(owner, None) for owner in table}
            keys |= {(ident, None) for (t, ident, scope) in self.rows
                     if t == kind and ident != DEFAULT_ID and scope == ""}
        return sorted(keys, key=lambda k: (k[0], -1 if k[1] is None else k[1]))

    def scope_of(self, fid: int | None) -> str:
        if fid is None:
            return ""
        return self.by_id[fid]["name"]

    def entry(self, kind: str, ident: int, fid: int | None = None, *, numeric: bool = False
              ) -> Entry:
        """One USR/GRP (``fid``: per fileset) or FILESET (``ident`` = fileset id) entry."""
        if kind == "FILESET":
            counts = self.usage.filesets.get(ident, usage.Counts(0, 0))
            name = self.by_id[ident]["name"]
            key = ("FILESET", ident, "")
            default_keys = [(("FILESET", DEFAULT_ID, ""), "d_fsys")]
            fid = None
        else:
            if fid is None:
                table = self.usage.users if kind == "USR" else self.usage.groups
                counts = table.get(ident, usage.Counts(0, 0))
            else:
                table = (self.usage.fileset_users if kind == "USR"
                         else self.usage.fileset_groups)
                counts = table.get((fid, ident), usage.Counts(0, 0))
            name = owner_name(kind, ident, numeric)
            scope = self.scope_of(fid)
            key = (kind, ident, scope)
            if fid == 0 and key not in self.rows and (kind, ident, "") in self.rows \
                    and self.perfileset:
                key = (kind, ident, "")
            default_keys = [((kind, DEFAULT_ID, scope), "d_fset" if scope else "d_fsys")]
            if scope:
                default_keys.append(((kind, DEFAULT_ID, ""), "d_fsys"))
        row = self.rows.get(key)
        limits = _limits(row)
        remarks = "e" if any(limits) else "i"
        def_quota = "off"
        for default_key, label in default_keys:
            default_row = self.rows.get(default_key)
            if default_row is not None and any(_limits(default_row)):
                def_quota = "on"
                if remarks == "i":
                    limits, remarks = _limits(default_row), label
                break
        block_grace, block_since = self._grace(kind, 0, counts.kb, limits[0], limits[1],
                                               row["block_over_since"] if row else None)
        files_grace, files_since = self._grace(kind, 1, counts.inodes, limits[2], limits[3],
                                               row["files_over_since"] if row else None)
        if (block_since, files_since) != ((row["block_over_since"], row["files_over_since"])
                                          if row else (None, None)):
            self.updates.append((key, block_since, files_since))
        return Entry(kind, ident, name, "" if kind == "FILESET" else self.scope_of(fid), fid,
                     counts.kb, counts.inodes, *limits, remarks, block_grace, files_grace,
                     "on" if self.enforced[kind] else "off", def_quota)

    def _grace(self, kind: str, which: int, used: int, soft: int, hard: int,
               since: float | None) -> tuple[str, float | None]:
        if not soft or used <= soft:
            return "none", None
        since = since if since is not None else self.now
        left = since + self.grace[kind][which] - self.now
        if left <= 0 or (hard and used > hard):
            return "expired", since
        return format_period(left), since

    def fileset_entries(self, only: int | None = None) -> list[Entry]:
        return [self.entry("FILESET", r["id"]) for r in self.filesets
                if only is None or r["id"] == only]

    def owner_entries(self, kind: str, scope_fid: int | None, numeric: bool) -> list[Entry]:
        return [self.entry(kind, ident, fid, numeric=numeric)
                for ident, fid in self.owner_keys(kind, scope_fid)]

    def save_grace_clocks(self) -> None:
        """Record when usage went over (or back under) a soft limit; best effort when the
        command only reads (another writer may hold the database)."""
        if not self.updates:
            return
        try:
            for (kind, ident, scope), block_since, files_since in self.updates:
                row = self.rows.get((kind, ident, scope))
                if (row is None or not any(_limits(row))) and (
                        block_since is None and files_since is None):
                    self.inv.db.execute(
                        "DELETE FROM quotas WHERE fs = ? AND type = ? AND id = ? "
                        "AND fileset = ?", (self.fs, kind, ident, scope))
                    continue
                self.inv.db.execute(
                    "INSERT INTO quotas (fs, type, id, fileset, block_over_since, "
                    "files_over_since) VALUES (?, ?, ?, ?, ?, ?) "
                    "ON CONFLICT (fs, type, id, fileset) DO UPDATE SET "
                    "block_over_since = excluded.block_over_since, "
                    "files_over_since = excluded.files_over_since",
                    (self.fs, kind, ident, scope, block_since, files_since))
        except sqlite3.OperationalError:
            pass
        self.updates = []

    def default_state(self, kind: str) -> str:
        on = any(t == kind and ident == DEFAULT_ID and any(_limits(r))
                 for (t, ident, _), r in self.rows.items())
        return "on" if on else "off"


def _limits(row: sqlite3.Row | None) -> tuple[int, int, int, int]:
    if row is None:
        return (0, 0, 0, 0)
    return (row["block_soft"], row["block_hard"], row["files_soft"], row["files_hard"])


# Human tables --------------------------------------------------------------------------

def _kb(value: int, block_size: int | str | None) -> str:
    return usage.format_kb(value, block_size)


def _numbers(e: Entry, block_size: int | str | None) -> str:
    return (f"{_kb(e.kb, block_size):>12} {_kb(e.block_soft, block_size):>10} "
            f"{_kb(e.block_hard, block_size):>10} {0:>10} {e.block_grace:>8} | "
            f"{e.files:>8} {e.files_soft:>7} {e.files_hard:>8} {0:>8} {e.files_grace:>8}")


def _size_heading(block_size: int | str | None) -> str:
    return "KB" if block_size == "K" else "blocks"


def _block_size(inv: Invocation, args: Parsed) -> int | str | None:
    text = args.get("--block-size")
    if text is None:
        return "K"
    try:
        return usage.parse_block_size(text)
    except ValueError:
        raise inv.fail(f"Incorrect block size: {text}", 22) from None


# mmrepquota ----------------------------------------------------------------------------

@command("mmrepquota",
         "mmrepquota [-u] [-g] [-j] [-e] [-n] [-v] [-q] [-t] "
         "[--block-size {BlockSize | auto} | -Y]\n"
         "           {-a | Device[:Fileset] ...}",
         flags=("-u", "-g", "-j", "-e", "-n", "-v", "-q", "-t", "-a", "-Y"),
         valued=("--block-size",))
def mmrepquota(inv: Invocation, args: Parsed) -> None:
    if not args.operands and not args.has("-a"):
        raise UsageError("Specify -a or at least one Device.")
    if args.has("-Y") and args.get("--block-size") is not None:
        raise UsageError("Options -Y and --block-size are mutually exclusive.")
    block_size = _block_size(inv, args)
    kinds = [t for t, flag in zip(TYPES, ("-u", "-g", "-j")) if args.has(flag)] or list(TYPES)
    targets: list[tuple[sqlite3.Row, str | None]] = []
    if args.has("-a"):
        targets += [(row, None) for row in inv.filesystems("all")]
    for operand in args.operands:
        device, _, fileset = operand.partition(":")
        targets += [(row, fileset or None) for row in inv.filesystems(device)]
    numeric = args.has("-n")
    for fs_row, fileset in targets:
        book = Book(inv, fs_row)
        only = find_fileset(inv, fs_row["name"], fileset)["id"] if fileset else None
        entries: list[Entry] = []
        for kind in kinds:
            if kind == "FILESET":
                entries += book.fileset_entries(only)
            else:
                entries += book.owner_entries(kind, only, numeric)
        events.save_quota_clocks(inv, book)
        fs = fs_row["name"]
        if args.has("-Y"):
            inv.say(f"*** Report for {' '.join(kinds)} quotas on {fs}")
            inv.out.write(ytable("mmrepquota", "", Y_COLUMNS, [e.y_row(fs) for e in entries]))
            continue
        inv.say(f"*** Report for {''.join(k + ' ' for k in kinds)} quotas on {fs}")
        if args.has("-t"):
            for kind in kinds:
                block, files = book.grace[kind]
                inv.say(f"{kind} grace periods: block {format_period(block)}, "
                        f"files {format_period(files)}")
        if args.has("-q"):
            for kind in kinds:
                inv.say(f"{kind} default quota is {book.default_state(kind)}")
        per_fileset = any(e.scope for e in entries)
        inv.say(_REP_TITLE)
        name_head = "Name       fileset    " if per_fileset else "Name       "
        inv.say(f"{name_head}{'type':<7}{_size_heading(block_size):>12}      quota      limit"
                "   in_doubt    grace |    files   quota    limit in_doubt    grace entryType")
        for e in entries:
            label = f"{e.name:<10} {e.scope:<10} " if per_fileset else f"{e.name:<10} "
            inv.say(f"{label}{e.type:<7}{_numbers(e, block_size)} {e.remarks}")


# mmlsquota -----------------------------------------------------------------------------

@command("mmlsquota",
         "mmlsquota [-u User | -g Group] [-v | -q] [-e] [-C ClusterName] [-Y] "
         "[--block-size {BlockSize|auto}] [Device[:Fileset] ...]\n"
         "mmlsquota -j Fileset [-v | -q] [-e] [-C ClusterName] [-Y] [--block-size ...] "
         "Device ...",
         flags=("-v", "-q", "-e", "-Y"), valued=("-u", "-g", "-j", "-C", "--block-size"))
def mmlsquota(inv: Invocation, args: Parsed) -> None:
    chosen = [o for o in ("-u", "-g", "-j") if args.get(o) is not None]
    if len(chosen) > 1:
        raise UsageError("Specify only one of -u, -g and -j.")
    block_size = _block_size(inv, args)
    targets: list[tuple[sqlite3.Row, str | None]] = []
    for operand in args.operands or ["all"]:
        device, _, fileset = operand.partition(":")
        targets += [(row, fileset or None) for row in inv.filesystems(device)]
    if args.get("-j") is not None:
        kind, who = "FILESET", args.get("-j")
    elif args.get("-g") is not None:
        kind, who = "GRP", args.get("-g")
    else:
        kind, who = "USR", args.get("-u")
    ident = None
    if kind != "FILESET":
        ident = (resolve_owner(inv, kind, who) if who is not None
                 else (os.geteuid() if kind == "USR" else os.getegid()))
    rows: list[tuple[str, Entry]] = []
    for fs_row, fileset in targets:
        fs = fs_row["name"]
        book = Book(inv, fs_row)
        if kind == "FILESET":
            entry = book.entry("FILESET", find_fileset(inv, fs, who)["id"])
        else:
            fid = find_fileset(inv, fs, fileset)["id"] if fileset else (
                0 if book.perfileset else None)
            entry = book.entry(kind, ident, fid)
        events.save_quota_clocks(inv, book)
        if not args.has("-q") or entry.over():
            rows.append((fs, entry))
    if args.has("-Y"):
        inv.out.write(ytable("mmlsquota", "", Y_COLUMNS, [e.y_row(fs) for fs, e in rows]))
        return
    if kind != "FILESET":
        word, idword = ("user", "uid") if kind == "USR" else ("group", "gid")
        inv.say(f"Disk quotas for {word} {owner_name(kind, ident)} ({idword} {ident}):")
    if not rows:
        return
    per_fileset = any(e.scope for _, e in rows)
    inv.say(_LS_TITLE)
    head = "Filesystem Fileset    " if per_fileset else "Filesystem "
    inv.say(f"{head}{'type':<7}{_size_heading(block_size):>12}      quota      limit   in_doubt"
            "    grace |    files   quota    limit in_doubt    grace  Remarks")
    for fs, e in rows:
        label = f"{fs:<10} {e.scope:<10} " if per_fileset else f"{fs:<10} "
        if not (e.block_soft or e.block_hard or e.files_soft or e.files_hard):
            inv.say(f"{label}{e.type:<7}{'no limits':>12}")   # as the real command says
        else:
            inv.say(f"{label}{e.type:<7}{_numbers(e, block_size)} ")


# mmsetquota ----------------------------------------------------------------------------

@command("mmsetquota",
         "mmsetquota Device[:FilesetName] [--user IdOrName[,IdOrName]] "
         "[--group IdOrName[,IdOrName]]\n"
         "           [--block SoftLimit[:HardLimit]] [--files SoftLimit[:HardLimit]]\n"
         "mmsetquota Device[:FilesetName] --default {user | group} [--block ...] [--files ...]\n"
         "mmsetquota Device --default fileset [--block ...] [--files ...]\n"
         "mmsetquota Device --grace {user | group | fileset} [--block GracePeriod] "
         "[--files GracePeriod]",
         valued=("--user", "--group", "--block", "--files", "--default", "--grace", "-F"),
         max_operands=1, changing=True)
def mmsetquota(inv: Invocation, args: Parsed) -> None:
    if args.get("-F") is not None:
        raise inv.fail("Quota stanza files (-F) are not supported by the emulated cluster.", 1)
    if not args.operands:
        raise UsageError("Missing Device.")
    device, _, fileset_name = args.operands[0].partition(":")
    fs_row = inv.filesystem(device)
    fs = fs_row["name"]
    fileset = find_fileset(inv, fs, fileset_name) if fileset_name else None
    if args.get("--block") is None and args.get("--files") is None:
        raise UsageError("Specify --block and/or --files.")
    if args.get("--grace") is not None:
        _set_grace(inv, args, fs, fileset)
        return
    block = _limit_pair(inv, "--block", args.get("--block")) if args.get("--block") else None
    files = _limit_pair(inv, "--files", args.get("--files")) if args.get("--files") else None
    perfileset = bool(fs_row["perfileset_quota"])
    keys: list[tuple[str, int, str]] = []
    if args.get("--default") is not None:
        if args.get("--user") is not None or args.get("--group") is not None:
            raise UsageError("--default cannot be combined with --user or --group.")
        kind = _TYPE_OF.get(args.get("--default").lower())
        if kind is None:
            raise inv.fail(f"Incorrect value for --default: {args.get('--default')}", 22)
        if fileset is not None:
            if kind == "FILESET":
                raise inv.fail("Default fileset quotas are set for the whole file system "
                               f"(mmsetquota {fs} --default fileset).", 1)
            _need_perfileset(inv, fs_row)
        keys.append((kind, DEFAULT_ID, fileset["name"] if fileset is not None else ""))
    elif args.get("--user") is not None or args.get("--group") is not None:
        if fileset is not None:
            _need_perfileset(inv, fs_row)
        scope = fileset["name"] if fileset is not None else ("root" if perfileset else "")
        for kind, option in (("USR", "--user"), ("GRP", "--group")):
            for who in (args.get(option) or "").split(","):
                if who:
                    keys.append((kind, resolve_owner(inv, kind, who), scope))
    elif fileset is not None:
        keys.append(("FILESET", fileset["id"], ""))
    else:
        raise UsageError("Specify --user, --group, Device:Fileset, --default or --grace.")
    book = Book(inv, fs_row)
    for key in keys:
        row = book.rows.get(key)
        limits = list(_limits(row))
        if block is not None:
            limits[0:2] = block
        if files is not None:
            limits[2:4] = files
        if (limits[1] and limits[0] > limits[1]) or (limits[3] and limits[2] > limits[3]):
            raise inv.fail("The soft limit would be greater than the hard limit.", 22)
        if not any(limits):
            inv.db.execute("DELETE FROM quotas WHERE fs = ? AND type = ? AND id = ? "
                           "AND fileset = ?", (fs, *key))
            continue
        since = (None, None)
        if key[1] != DEFAULT_ID:
            kind, ident, scope = key
            counts = _usage_of(book, kind, ident, scope)
            since = (_since(counts.kb, limits[0], row["block_over_since"] if row else None),
                     _since(counts.inodes, limits[2], row["files_over_since"] if row else None))
        inv.db.execute(
            "INSERT INTO quotas (fs, type, id, fileset, block_soft, block_hard, files_soft, "
            "files_hard, block_over_since, files_over_since) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (fs, type, id, fileset) DO UPDATE SET block_soft = excluded.block_soft,"
            " block_hard = excluded.block_hard, files_soft = excluded.files_soft,"
            " files_hard = excluded.files_hard, block_over_since = excluded.block_over_since,"
            " files_over_since = excluded.files_over_since",
            (fs, *key, *limits, *since))
        events.quota_limits_set(inv, book, key, row, limits, since)


def _need_perfileset(inv: Invocation, fs_row: sqlite3.Row) -> None:
    if not fs_row["perfileset_quota"]:
        raise inv.fail(f"Per-fileset quotas are not enabled on file system {fs_row['name']}; "
                       "enable them with mmchfs --perfileset-quota.", 1)


def _usage_of(book: Book, kind: str, ident: int, scope: str) -> usage.Counts:
    zero = usage.Counts(0, 0)
    if kind == "FILESET":
        return book.usage.filesets.get(ident, zero)
    if scope:
        fileset = book.by_name.get(scope)
        if fileset is None:
            return zero
        table = book.usage.fileset_users if kind == "USR" else book.usage.fileset_groups
        return table.get((fileset["id"], ident), zero)
    table = book.usage.users if kind == "USR" else book.usage.groups
    return table.get(ident, zero)


def _since(used: int, soft: int, before: float | None) -> float | None:
    if not soft or used <= soft:
        return None
    return before if before is not None else time.time()


def _set_grace(inv: Invocation, args: Parsed, fs: str, fileset: sqlite3.Row | None) -> None:
    if fileset is not None:
        raise inv.fail("Grace periods are set for the whole file system "
                       f"(mmsetquota {fs} --grace ...).", 1)
    if any(args.get(o) is not None for o in ("--user", "--group", "--default")):
        raise UsageError("--grace cannot be combined with --user, --group or --default.")
    kind = _TYPE_OF.get(args.get("--grace").lower())
    if kind is None:
        raise inv.fail(f"Incorrect value for --grace: {args.get('--grace')}", 22)
    periods = {}
    for option, column in (("--block", "block_seconds"), ("--files", "files_seconds")):
        if args.get(option) is not None:
            try:
                periods[column] = parse_grace(args.get(option))
            except ValueError:
                raise inv.fail(f"Incorrect grace period for {option}: {args.get(option)}",
                               22) from None
    inv.db.execute("INSERT OR IGNORE INTO grace_periods (fs, type) VALUES (?, ?)", (fs, kind))
    for column, seconds in periods.items():
        inv.db.execute(f"UPDATE grace_periods SET {column} = ? WHERE fs = ? AND type = ?",
                       (seconds, fs, kind))

