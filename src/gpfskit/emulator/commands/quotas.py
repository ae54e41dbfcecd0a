"""Quotas: mmsetquota, mmlsquota, mmrepquota (storage-scale.md §2.10).

Limits are stored in the ``quotas`` table in KiB (blocks) and inodes (files); usage is never
stored: every report walks the real files (usage.py). The commands read and keep that state
through the file system's ``QuotaLedger`` (quota_ledger.py). A fileset's usage is its own tree, a
user's or group's usage is every file of the file system they own (linked and unlinked
filesets). Grace periods start when a report or ``mmsetquota`` first sees usage above the soft
limit (``block_over_since``/``files_over_since``) and end when usage drops back. Those
crossings raise the callback events softQuotaExceeded and usageUnderSoftQuota (``events``).

Where the reference is silent:

* ``--block``: a number with a suffix K, M, G, T or P (case-insensitive, powers of 1024, a
  decimal fraction allowed) is that many KiB, MiB...; a bare number is bytes, rounded up to
  KiB. ``--files``: a count, optionally with K, M or G (powers of 1024). An omitted hard limit
  means none (0). Limits above 999999999999999 KiB, file counts above 2^63-1 and a soft
  limit above a non-zero hard limit are refused (exit 22), as are uids and gids above
  2^32-2. Numbers are read exactly (ASCII digits only). Options left out keep their current
  values.
* ``--grace`` periods are ``N`` followed by ``days``, ``hours``, ``minutes`` or ``seconds``
  (singular, plural or the first letter); a bare number is seconds, at most 2^31-1. The
  default is 7 days.
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
import os
import pwd
import re
import sqlite3
from fractions import Fraction

from gpfskit.emulator import events, names, usage
from gpfskit.emulator.args import Parsed, UsageError, scaled_number
from gpfskit.emulator.commands.filesets import find_fileset, parse_count
from gpfskit.emulator.dispatch import Invocation, command
from gpfskit.emulator.output import ytable
from gpfskit.emulator.quota_ledger import (
    DEFAULT_ID,
    TYPES,
    QuotaEntry,
    QuotaKey,
    QuotaLedger,
    format_period,
    limits_of,
    over_since,
    owner_name,
)

Y_COLUMNS = ["filesystemName", "quotaType", "id", "name", "blockUsage", "blockQuota",
             "blockLimit", "blockInDoubt", "blockGrace", "filesUsage", "filesQuota",
             "filesLimit", "filesInDoubt", "filesGrace", "remarks", "quota", "defQuota", "fid",
             "filesetname"]
MAX_BLOCK_KB = 999_999_999_999_999
_TYPE_OF = {"user": "USR", "group": "GRP", "fileset": "FILESET"}

_REP_TITLE = ("        Block Limits                                    |"
              "                     File Limits")
_LS_TITLE = "Block Limits                                    |     File Limits"


# Parsing -------------------------------------------------------------------------------

BLOCK_UNITS = {"": Fraction(1, 1024), "K": 1, "M": 1024, "G": 1024 ** 2, "T": 1024 ** 3,
               "P": 1024 ** 4}
GRACE_UNITS = {unit.upper(): seconds
               for names_, seconds in ((("", "s", "sec", "secs", "second", "seconds"), 1),
                                       (("m", "min", "mins", "minute", "minutes"), 60),
                                       (("h", "hour", "hours"), 3600),
                                       (("d", "day", "days"), 86400))
               for unit in names_}
# A grace period longer than this (about 68 years, a signed 32-bit count of seconds) is
# certainly a mistake.
MAX_GRACE = 2**31 - 1
MAX_ID = 2**32 - 2   # uid_t and gid_t; 2**32 - 1 is (uid_t) -1, "no user"


def parse_block(text: str) -> int:
    """A block limit in KiB (see the module docstring; the caller checks the maximum)."""
    return scaled_number(text, BLOCK_UNITS, fractions=True, maximum=None)


def parse_grace(text: str) -> int:
    """A grace period in seconds."""
    return scaled_number(text, GRACE_UNITS, maximum=MAX_GRACE)


def _limit_pair(inv: Invocation, option: str, text: str) -> tuple[int, int]:
    soft_text, _, hard_text = text.partition(":")
    parse = parse_block if option == "--block" else parse_count
    try:
        soft = parse(soft_text)
        hard = parse(hard_text) if hard_text else 0
    except ValueError as exc:
        raise inv.fail(f"Incorrect value for {option} {names.shown(text)}: {exc}.",
                       22) from None
    if option == "--block" and max(soft, hard) > MAX_BLOCK_KB:
        raise inv.fail(f"The {option} limit {names.shown(text)} exceeds the maximum of "
                       f"{MAX_BLOCK_KB}K.", 22)
    if hard and soft > hard:
        raise inv.fail(f"The soft limit ({soft_text}) is greater than the hard limit "
                       f"({hard_text}) for {option}.", 22)
    return soft, hard


def resolve_owner(inv: Invocation, kind: str, text: str) -> int:
    """A user (``USR``) or group (``GRP``) name or numeric id -> its id."""
    if re.fullmatch(r"[0-9]+", text):
        if int(text) > MAX_ID:
            word = "user" if kind == "USR" else "group"
            raise inv.fail(f"Incorrect {word} ID {names.shown(text)}: IDs go up to {MAX_ID}.",
                           22)
        return int(text)
    try:
        return pwd.getpwnam(text).pw_uid if kind == "USR" else grp.getgrnam(text).gr_gid
    except KeyError:
        word = "user" if kind == "USR" else "group"
        raise inv.fail(f"Incorrect {word} name or ID: {text}", 22) from None


# Human tables --------------------------------------------------------------------------

def _kb(value: int, block_size: int | str | None) -> str:
    return usage.format_kb(value, block_size)


def _numbers(e: QuotaEntry, block_size: int | str | None) -> str:
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
        ledger = QuotaLedger(inv.root, inv.db, fs_row)
        only = find_fileset(inv, fs_row["name"], fileset)["id"] if fileset else None
        entries: list[QuotaEntry] = []
        for kind in kinds:
            if kind == "FILESET":
                entries += ledger.fileset_entries(only)
            else:
                entries += ledger.owner_entries(kind, only, numeric)
        events.save_quota_clocks(inv, ledger)
        fs = fs_row["name"]
        if args.has("-Y"):
            inv.say(f"*** Report for {' '.join(kinds)} quotas on {fs}")
            inv.out.write(ytable("mmrepquota", "", Y_COLUMNS, [e.y_row(fs) for e in entries]))
            continue
        inv.say(f"*** Report for {''.join(k + ' ' for k in kinds)} quotas on {fs}")
        if args.has("-t"):
            for kind in kinds:
                block, files = ledger.grace[kind]
                inv.say(f"{kind} grace periods: block {format_period(block)}, "
                        f"files {format_period(files)}")
        if args.has("-q"):
            for kind in kinds:
                inv.say(f"{kind} default quota is {ledger.default_state(kind)}")
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
    rows: list[tuple[str, QuotaEntry]] = []
    for fs_row, fileset in targets:
        fs = fs_row["name"]
        ledger = QuotaLedger(inv.root, inv.db, fs_row)
        if kind == "FILESET":
            entry = ledger.entry("FILESET", find_fileset(inv, fs, who)["id"])
        else:
            fid = find_fileset(inv, fs, fileset)["id"] if fileset else (
                0 if ledger.perfileset else None)
            entry = ledger.entry(kind, ident, fid)
        events.save_quota_clocks(inv, ledger)
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
    keys: list[QuotaKey] = []
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
        keys.append(QuotaKey(kind, DEFAULT_ID, fileset["name"] if fileset is not None else ""))
    elif args.get("--user") is not None or args.get("--group") is not None:
        if fileset is not None:
            _need_perfileset(inv, fs_row)
        scope = fileset["name"] if fileset is not None else ("root" if perfileset else "")
        for kind, option in (("USR", "--user"), ("GRP", "--group")):
            for who in (args.get(option) or "").split(","):
                if who:
                    keys.append(QuotaKey(kind, resolve_owner(inv, kind, who), scope))
    elif fileset is not None:
        keys.append(QuotaKey("FILESET", fileset["id"], ""))
    else:
        raise UsageError("Specify --user, --group, Device:Fileset, --default or --grace.")
    ledger = QuotaLedger(inv.root, inv.db, fs_row)
    for key in keys:
        row = ledger.rows.get(key)
        limits = list(limits_of(row))
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
        if key.id != DEFAULT_ID:
            counts = ledger.usage_of(key)
            since = (over_since(counts.kb, limits[0], row["block_over_since"] if row else None),
                     over_since(counts.inodes, limits[2],
                                row["files_over_since"] if row else None))
        inv.db.execute(
            "INSERT INTO quotas (fs, type, id, fileset, block_soft, block_hard, files_soft, "
            "files_hard, block_over_since, files_over_since) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (fs, type, id, fileset) DO UPDATE SET block_soft = excluded.block_soft,"
            " block_hard = excluded.block_hard, files_soft = excluded.files_soft,"
            " files_hard = excluded.files_hard, block_over_since = excluded.block_over_since,"
            " files_over_since = excluded.files_over_since",
            (fs, *key, *limits, *since))
        events.quota_limits_set(inv, ledger, key, row, limits, since)


def _need_perfileset(inv: Invocation, fs_row: sqlite3.Row) -> None:
    if not fs_row["perfileset_quota"]:
        raise inv.fail(f"Per-fileset quotas are not enabled on file system {fs_row['name']}; "
                       "enable them with mmchfs --perfileset-quota.", 1)


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
            except ValueError as exc:
                raise inv.fail(f"Incorrect grace period for {option} "
                               f"{names.shown(args.get(option))}: {exc}.", 22) from None
    inv.db.execute("INSERT OR IGNORE INTO grace_periods (fs, type) VALUES (?, ?)", (fs, kind))
    for column, seconds in periods.items():
        inv.db.execute(f"UPDATE grace_periods SET {column} = ? WHERE fs = ? AND type = ?",
                       (seconds, fs, kind))

