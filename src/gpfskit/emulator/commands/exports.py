"""Protocol exports (CES): ``mmnfs export add|list|remove|change`` and
``mmsmb export add|list|remove|change``.

An export's path must be an existing directory inside a file system (checked in the file
system's tree, so it works while the file system is not mounted on this node); for SMB a path
with ``%`` substitutions (``/gpfs/fs1/home/%U``) is checked up to the last directory without
one. NFS exports are kept one row per (path, client) in ``nfs_exports``; SMB exports in
``smb_exports`` with the options set explicitly (defaults are filled in when listing).

``mmsmb export list -Y`` prints ``mmsmb:exports:HEADER:version:reserved:reserved:export:path:
browseable:guest ok:smb encrypt:`` followed by any further options asked for (``--option``,
``--all``). This header is not confirmed against a real cluster; its column order (share name
in field 7, ``smb encrypt`` in field 11) matches what scripts for the real command extract.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3

from gpfskit.emulator import layout
from gpfskit.emulator.args import Parsed, UsageError, is_digits
from gpfskit.emulator.args import parse as parse_args
from gpfskit.emulator.dispatch import Invocation, command
from gpfskit.emulator.output import text_table, ytable

# Characters refused in export paths: quotes, the -Y delimiter, separators of the client
# syntax and anything a configuration file could misread.
_BAD_PATH = re.compile(r"[\"'`;:\\$\x00-\x1f\x7f]")


def _export_path(inv: Invocation, path: str, *, substitutions: bool = False) -> str:
    """Check an export path; returns it normalised."""
    if not path.startswith("/"):
        raise inv.fail(f"The export path {path!r} is not an absolute path.", 22)
    if len(path) > 4095 or _BAD_PATH.search(path):
        raise inv.fail(f"The export path {path!r} contains characters that are not allowed.",
                       22)
    normal = os.path.normpath(path)
    check = normal
    if substitutions and "%" in normal:
        parts = normal.split("/")
        first = next(i for i, p in enumerate(parts) if "%" in p)
        check = "/".join(parts[:first]) or "/"
    elif "%" in normal:
        raise inv.fail(f"The export path {path!r} contains characters that are not allowed.",
                       22)
    for row in inv.db.execute("SELECT * FROM filesystems ORDER BY name"):
        rel = layout.relative_to_fs(row, check)
        if rel is None:
            continue
        tree = layout.tree(inv.root, row)
        on_disk = os.path.join(tree, rel) if rel else str(tree)
        real, real_tree = os.path.realpath(on_disk), os.path.realpath(tree)
        if real != real_tree and not real.startswith(real_tree.rstrip("/") + "/"):
            break
        if not os.path.isdir(on_disk):
            raise inv.fail(f"The export path {path} does not exist or is not a directory.", 2)
        return normal
    raise inv.fail(f"The export path {path} is not inside a GPFS file system.", 22)


# NFS ---------------------------------------------------------------------------------------

NFS_COLUMNS = ["Path", "Delegations", "Clients", "Access_Type", "Protocols", "Transports",
               "Squash", "Anonymous_uid", "Anonymous_gid", "SecType", "PrivilegedPort",
               "DefaultDelegations", "Manage_Gids", "NFS_Commit"]
NFS_DEFAULTS = {"Access_Type": "NONE", "Protocols": "3,4", "Transports": "TCP",
                "Squash": "ROOT_SQUASH", "Anonymous_uid": "-2", "Anonymous_gid": "-2",
                "SecType": "SYS", "PrivilegedPort": "FALSE", "Delegations": "NONE",
                "Manage_Gids": "FALSE", "NFS_Commit": "FALSE"}
_NFS_KEYS = {k.lower(): k for k in NFS_DEFAULTS}
_SQUASH = {"no_root_squash": "NO_ROOT_SQUASH", "noidsquash": "NO_ROOT_SQUASH",
           "none": "NO_ROOT_SQUASH", "root_squash": "ROOT_SQUASH",
           "rootsquash": "ROOT_SQUASH", "root": "ROOT_SQUASH", "all_squash": "ALL_SQUASH",
           "allsquash": "ALL_SQUASH", "all": "ALL_SQUASH", "all_anonymous": "ALL_SQUASH",
           "allanonymous": "ALL_SQUASH", "root_id_squash": "ROOT_ID_SQUASH",
           "rootidsquash": "ROOT_ID_SQUASH", "root_id": "ROOT_ID_SQUASH"}
_CLIENT = re.compile(r"^[A-Za-z0-9.*?@_\-\[\]/:]{1,255}$")
_NFS_USAGE = """mmnfs export add Path [--client "ClientOption[;ClientOption...]"] [--pseudo Path]
    [--dry-run]
mmnfs export remove Path [--force]
mmnfs export change Path {--nfsadd "ClientOption[;ClientOption...]" |
    --nfsremove Client[,Client...] | --nfschange "ClientOption[;ClientOption...]"}
    [--nfsposition {PositionIndex | Client}] [--dry-run]
mmnfs export list [-Y] [--nfsdefs Path | --nfsdefs-match Path]"""


def _list_value(inv: Invocation, key: str, value: str, allowed: dict[str, str]) -> str:
    items = [v for v in re.split(r"[,:]", value) if v]
    if not items:
        raise inv.fail(f"Incorrect value for {key}: {value!r}.", 22)
    out = []
    for item in items:
        canonical = allowed.get(item.upper())
        if canonical is None:
            raise inv.fail(f"Incorrect value for {key}: {item!r}. Valid values are: "
                           f"{', '.join(dict.fromkeys(allowed.values()))}.", 22)
        if canonical not in out:
            out.append(canonical)
    return ",".join(out)


def _nfs_value(inv: Invocation, key: str, value: str) -> str:
    upper = value.strip().upper()
    if key == "Access_Type":
        if upper not in ("RO", "RW", "NONE", "MDONLY", "MDONLY_RO"):
            raise inv.fail(f"Incorrect value for Access_Type: {value!r}. Valid values are: "
                           "RO, RW, NONE, MDONLY, MDONLY_RO.", 22)
        return upper
    if key == "Squash":
        canonical = _SQUASH.get(value.strip().lower())
        if canonical is None:
            raise inv.fail(f"Incorrect value for Squash: {value!r}. Valid values are: "
                           "NO_ROOT_SQUASH, ROOT_SQUASH, ALL_SQUASH, ROOT_ID_SQUASH.", 22)
        return canonical
    if key == "Protocols":
        return _list_value(inv, key, value, {"3": "3", "4": "4", "NFS3": "3", "NFS4": "4",
                                             "V3": "3", "V4": "4"})
    if key == "Transports":
        return _list_value(inv, key, value, {"TCP": "TCP", "UDP": "UDP"})
    if key == "SecType":
        return _list_value(inv, key, value, {v: v for v in ("SYS", "KRB5", "KRB5I", "KRB5P",
                                                            "NONE")})
    if key in ("Anonymous_uid", "Anonymous_gid"):
        if not re.fullmatch(r"-?\d{1,10}", value.strip()) or not \
                -2 <= int(value) <= 4294967295:
            raise inv.fail(f"Incorrect value for {key}: {value!r}.", 22)
        return str(int(value))
    if key == "Delegations":
        if upper not in ("NONE", "READ", "WRITE", "READWRITE", "R", "W", "RW"):
            raise inv.fail(f"Incorrect value for Delegations: {value!r}. Valid values are: "
                           "NONE, READ, WRITE, READWRITE.", 22)
        return {"R": "READ", "W": "WRITE", "RW": "READWRITE"}.get(upper, upper)
    if upper not in ("TRUE", "FALSE", "YES", "NO"):
        raise inv.fail(f"Incorrect value for {key}: {value!r}. Valid values are: TRUE, FALSE.",
                       22)
    return "TRUE" if upper in ("TRUE", "YES") else "FALSE"


def parse_clients(inv: Invocation, text: str) -> list[tuple[str, dict[str, str]]]:
    """``"10.0.0.0/8(Access_Type=RW,Squash=no_root_squash);*(Access_Type=RO)"``."""
    result: list[tuple[str, dict[str, str]]] = []
    for spec in (s.strip() for s in text.split(";")):
        if not spec:
            continue
        match = re.fullmatch(r"([^()\s]+)\s*(?:\((.*)\))?", spec)
        if not match or not _CLIENT.match(match.group(1)):
            raise inv.fail(f"Incorrect client specification {spec!r}: expected "
                           "Client(Option=Value,...).", 22)
        client = match.group(1)
        options: dict[str, str] = {}
        tokens: list[str] = []
        for token in (match.group(2) or "").split(","):
            token = token.strip()
            if not token:
                continue
            if "=" not in token and tokens:      # "Protocols=3,4": the 4 belongs to 3
                tokens[-1] += "," + token
            else:
                tokens.append(token)
        for token in tokens:
            key, eq, value = token.partition("=")
            canonical = _NFS_KEYS.get(key.strip().lower())
            if not eq or canonical is None:
                raise inv.fail(f"Incorrect client option {token!r} for client {client}. Valid "
                               f"options are: {', '.join(NFS_DEFAULTS)}.", 22)
            options[canonical] = _nfs_value(inv, canonical, value)
        if any(c == client for c, _ in result):
            raise inv.fail(f"Client {client} is given more than once.", 22)
        result.append((client, options))
    if not result:
        raise inv.fail("No client specification was given.", 22)
    return result


def _nfs_rows(db: sqlite3.Connection, path: str | None = None) -> list[sqlite3.Row]:
    if path is None:
        return db.execute("SELECT * FROM nfs_exports ORDER BY path, position").fetchall()
    return db.execute("SELECT * FROM nfs_exports WHERE path = ? ORDER BY position",
                      (path,)).fetchall()


def _insert_clients(db: sqlite3.Connection, path: str,
                    clients: list[tuple[str, dict[str, str]]], at: int | None = None) -> None:
    rows = [(r["client"], r["options"]) for r in _nfs_rows(db, path)]
    new = [(c, json.dumps(o)) for c, o in clients]
    at = len(rows) if at is None else max(0, min(at, len(rows)))
    rows[at:at] = new
    db.execute("DELETE FROM nfs_exports WHERE path = ?", (path,))
    db.executemany("INSERT INTO nfs_exports (path, client, position, options) "
                   "VALUES (?, ?, ?, ?)",
                   [(path, c, i, o) for i, (c, o) in enumerate(rows)])


def _export_verb(words: list[str]) -> tuple[str, list[str]]:
    """The verb and its arguments of ``mmnfs|mmsmb export <verb> ...``."""
    if len(words) < 2 or words[0] != "export":
        raise UsageError("Missing arguments." if len(words) < 2 or words[0] == "export"
                         else f"Incorrect subcommand: {words[0]}.")
    return words[1], words[2:]


def _nfs_existing(inv: Invocation, path: str) -> str:
    normal = os.path.normpath(path) if path.startswith("/") else path
    if not _nfs_rows(inv.db, normal):
        raise inv.fail(f"NFS export {path} does not exist.", 2)
    return normal


@command("mmnfs", _NFS_USAGE, parse_args=False, changing=True)
def mmnfs(inv: Invocation, args: Parsed) -> None:
    verb, rest = _export_verb(args.operands)
    if verb == "add":
        opts = parse_args(rest, flags=("--dry-run",), valued=("--client", "--pseudo"),
                          min_operands=1, max_operands=1)
        path = _export_path(inv, opts.operands[0])
        if _nfs_rows(inv.db, path):
            raise inv.fail(f"NFS export {path} already exists.", 17)
        clients = parse_clients(inv, opts.get("--client", "*") or "*")
        pseudo = opts.get("--pseudo")
        if pseudo is not None:
            if not pseudo.startswith("/") or _BAD_PATH.search(pseudo) or len(pseudo) > 4095:
                raise inv.fail(f"Incorrect pseudo path {pseudo!r}.", 22)
            clients = [(c, {**o, "Pseudo": os.path.normpath(pseudo)}) for c, o in clients]
        if opts.has("--dry-run"):
            return
        _insert_clients(inv.db, path, clients)
        inv.say("mmnfs: The NFS export was created successfully.")
    elif verb == "remove":
        opts = parse_args(rest, flags=("--force",), min_operands=1, max_operands=1)
        path = _nfs_existing(inv, opts.operands[0])
        inv.db.execute("DELETE FROM nfs_exports WHERE path = ?", (path,))
        inv.say("mmnfs: The NFS export was deleted successfully.")
    elif verb == "change":
        _nfs_change(inv, rest)
    elif verb == "list":
        _nfs_list(inv, rest)
    else:
        raise UsageError(f"Incorrect subcommand: {verb}.")


def _nfs_change(inv: Invocation, rest: list[str]) -> None:
    opts = parse_args(rest, flags=("--dry-run",),
                      valued=("--nfsadd", "--nfsremove", "--nfschange", "--nfsposition"),
                      min_operands=1, max_operands=1)
    path = _nfs_existing(inv, opts.operands[0])
    chosen = [o for o in ("--nfsadd", "--nfsremove", "--nfschange") if opts.has(o)]
    if len(chosen) != 1:
        raise UsageError("Exactly one of --nfsadd, --nfsremove and --nfschange is required.")
    current = {r["client"]: json.loads(r["options"]) for r in _nfs_rows(inv.db, path)}
    order = list(current)
    position = opts.get("--nfsposition")
    if position is not None and chosen[0] != "--nfsadd":
        raise UsageError("--nfsposition is valid only with --nfsadd.")
    if chosen[0] == "--nfsadd":
        clients = parse_clients(inv, opts.get("--nfsadd") or "")
        present = [c for c, _ in clients if c in current]
        if present:
            raise inv.fail(f"Client {present[0]} is already defined for NFS export {path}.",
                           17)
        at = None
        if position is not None:
            if is_digits(position):
                at = int(position)
            elif position in current:
                at = order.index(position)
            else:
                raise inv.fail(f"Incorrect --nfsposition {position!r}: not a position or a "
                               "client of the export.", 22)
        if not opts.has("--dry-run"):
            _insert_clients(inv.db, path, clients, at)
    elif chosen[0] == "--nfsremove":
        names = [c.strip() for c in (opts.get("--nfsremove") or "").split(",") if c.strip()]
        if not names:
            raise inv.fail("No client was given to --nfsremove.", 22)
        missing = [c for c in names if c not in current]
        if missing:
            raise inv.fail(f"Client {missing[0]} is not defined for NFS export {path}.", 2)
        if set(names) >= set(current):
            raise inv.fail(f"Removing every client would leave NFS export {path} without "
                           "clients; use mmnfs export remove to delete it.", 22)
        if not opts.has("--dry-run"):
            inv.db.executemany("DELETE FROM nfs_exports WHERE path = ? AND client = ?",
                               [(path, c) for c in names])
            _insert_clients(inv.db, path, [])
    else:
        clients = parse_clients(inv, opts.get("--nfschange") or "")
        missing = [c for c, _ in clients if c not in current]
        if missing:
            raise inv.fail(f"Client {missing[0]} is not defined for NFS export {path}.", 2)
        if not opts.has("--dry-run"):
            for client, options in clients:
                inv.db.execute("UPDATE nfs_exports SET options = ? WHERE path = ? AND client = ?",
                               (json.dumps({**current[client], **options}), path, client))
    if not opts.has("--dry-run"):
        inv.say("mmnfs: The NFS export was changed successfully.")


def _nfs_values(row: sqlite3.Row) -> dict[str, str]:
    options = {**NFS_DEFAULTS, **json.loads(row["options"])}
    return {**options, "Path": row["path"], "Clients": row["client"],
            "DefaultDelegations": "NONE"}


def _nfs_list(inv: Invocation, rest: list[str]) -> None:
    opts = parse_args(rest, flags=("-Y",), valued=("--nfsdefs", "--nfsdefs-match", "-n"),
                      max_operands=0)
    rows = _nfs_rows(inv.db)
    exact = opts.get("--nfsdefs") or opts.get("-n")
    match = opts.get("--nfsdefs-match")
    if exact is not None:
        rows = [r for r in rows if r["path"] == os.path.normpath(exact)]
        if not rows:
            raise inv.fail(f"NFS export {exact} does not exist.", 2)
    elif match is not None:
        rows = [r for r in rows if match in r["path"]]
    values = [_nfs_values(r) for r in rows]
    if opts.has("-Y"):
        lowered = ("Delegations", "DefaultDelegations")
        inv.out.write(ytable("mmcesnfslsexport", "nfsexports", NFS_COLUMNS, [
            [v[c].lower() if c in lowered else v[c] for c in NFS_COLUMNS] for v in values],
            raw=NFS_COLUMNS))
        return
    columns = NFS_COLUMNS if exact is not None or match is not None else NFS_COLUMNS[:3]
    table = text_table(columns, [[v[c] for c in columns] for v in values]).splitlines()
    widths = [max([len(c)] + [len(v[c]) for v in values]) for c in columns]
    inv.say(table[0])
    inv.say(" ".join("-" * w for w in widths))
    for line in table[1:]:
        inv.say(line)


# SMB ---------------------------------------------------------------------------------------

SMB_DEFAULTS = {"browseable": "yes", "guest ok": "no", "smb encrypt": "auto"}
SMB_COLUMNS = ["export", "path", "browseable", "guest ok", "smb encrypt"]
_SMB_BOOLEAN = {"yes", "no", "true", "false", "1", "0"}
SMB_OPTIONS = {
    "browseable": _SMB_BOOLEAN, "guest ok": _SMB_BOOLEAN, "read only": _SMB_BOOLEAN,
    "smb encrypt": {"auto", "default", "mandatory", "required", "disabled", "off",
                    "desired", "if_required"},
    "hide unreadable": _SMB_BOOLEAN, "hide dot files": _SMB_BOOLEAN, "oplocks": _SMB_BOOLEAN,
    "level2 oplocks": _SMB_BOOLEAN, "access based share enum": _SMB_BOOLEAN,
    "posix locking": _SMB_BOOLEAN, "gpfs:leases": _SMB_BOOLEAN,
    "gpfs:sharemodes": _SMB_BOOLEAN, "gpfs:recalls": _SMB_BOOLEAN,
    "csc policy": {"manual", "documents", "programs", "disable"},
    "comment": None, "admin users": None, "valid users": None, "invalid users": None,
    "read list": None, "write list": None, "hosts allow": None, "hosts deny": None,
    "force user": None, "force group": None, "create mask": "mask", "directory mask": "mask",
    "fileid:algorithm": {"fsname", "hostname", "fsid", "fsname_norootdir",
                         "fsname_nodirs"},
}
_SHARE = re.compile(r"^[A-Za-z0-9_.\-]{1,79}\$?$")
_RESERVED_SHARES = {"global", "homes", "printers", "ipc$", "print$"}
_SMB_USAGE = """mmsmb export add SMBExport Path [--option SMBOption=Value ...]
mmsmb export change SMBExport [--option SMBOption=Value ...] [--remove SMBOption ...]
mmsmb export remove SMBExport [--force]
mmsmb export list [SMBExport[,SMBExport...]] [-Y] [--option SMBOption ...] [--all]"""


def _smb_option(inv: Invocation, text: str) -> tuple[str, str]:
    key, eq, value = text.partition("=")
    key, value = " ".join(key.split()).lower(), value.strip()
    if not eq:
        raise inv.fail(f"Incorrect SMB option {text!r}: expected Option=Value.", 22)
    return _smb_option_name(inv, key), _smb_value(inv, key, value)


def _smb_option_name(inv: Invocation, name: str) -> str:
    key = " ".join(name.split()).lower()
    if key == "path":
        raise inv.fail("The path of an SMB export cannot be changed with --option.", 22)
    if key not in SMB_OPTIONS:
        raise inv.fail(f"Unsupported SMB option {name!r}.", 22)
    return key


def _smb_value(inv: Invocation, key: str, value: str) -> str:
    allowed = SMB_OPTIONS[key]
    if len(value) > 1024 or not value.isprintable() or any(c in value for c in "\n\r\0"):
        raise inv.fail(f"Incorrect value for SMB option {key!r}.", 22)
    if allowed == "mask":
        if not re.fullmatch(r"0?[0-7]{3,4}", value):
            raise inv.fail(f"Incorrect value for SMB option {key!r}: {value!r} is not an "
                           "octal mode.", 22)
    elif allowed is not None and value.lower() not in allowed:
        raise inv.fail(f"Incorrect value for SMB option {key!r}: {value!r}. Valid values "
                       f"are: {', '.join(sorted(allowed))}.", 22)
    elif allowed is not None:
        value = value.lower()
    return value


def _smb_row(inv: Invocation, name: str) -> sqlite3.Row:
    row = inv.db.execute("SELECT * FROM smb_exports WHERE lower(name) = lower(?)",
                         (name,)).fetchone()
    if row is None:
        raise inv.fail(f"SMB export {name} does not exist.", 2)
    return row


@command("mmsmb", _SMB_USAGE, parse_args=False, changing=True)
def mmsmb(inv: Invocation, args: Parsed) -> None:
    verb, rest = _export_verb(args.operands)
    if verb == "add":
        opts = parse_args(rest, valued=("--option",), min_operands=2, max_operands=2)
        name, path = opts.operands
        if not _SHARE.match(name) or name.lower() in _RESERVED_SHARES:
            raise inv.fail(f"Incorrect SMB export name {name!r}: use up to 80 letters, digits "
                           "and _ . - characters (a trailing $ hides the share).", 22)
        if inv.db.execute("SELECT 1 FROM smb_exports WHERE lower(name) = lower(?)",
                          (name,)).fetchone():
            raise inv.fail(f"SMB export {name} already exists.", 17)
        normal = _export_path(inv, path, substitutions=True)
        options = dict(_smb_option(inv, o) for o in opts.all("--option"))
        inv.db.execute("INSERT INTO smb_exports (name, path, options) VALUES (?, ?, ?)",
                       (name, normal, json.dumps(options)))
        inv.say("mmsmb: The SMB export was created successfully.")
    elif verb == "change":
        opts = parse_args(rest, valued=("--option", "--remove"), min_operands=1,
                          max_operands=1)
        row = _smb_row(inv, opts.operands[0])
        if not opts.has("--option", "--remove"):
            raise UsageError("Missing arguments.")
        options = json.loads(row["options"])
        for name in opts.all("--remove"):
            options.pop(_smb_option_name(inv, name), None)
        options.update(dict(_smb_option(inv, o) for o in opts.all("--option")))
        inv.db.execute("UPDATE smb_exports SET options = ? WHERE name = ?",
                       (json.dumps(options), row["name"]))
        inv.say("mmsmb: The SMB export was changed successfully.")
    elif verb == "remove":
        opts = parse_args(rest, flags=("--force",), min_operands=1, max_operands=1)
        row = _smb_row(inv, opts.operands[0])
        inv.db.execute("DELETE FROM smb_exports WHERE name = ?", (row["name"],))
        inv.say("mmsmb: The SMB export was deleted successfully.")
    elif verb == "list":
        _smb_list(inv, rest)
    else:
        raise UsageError(f"Incorrect subcommand: {verb}.")


def _smb_list(inv: Invocation, rest: list[str]) -> None:
    opts = parse_args(rest, flags=("-Y", "--all"),
                      valued=("--option", "--header", "--export-regex"), max_operands=1)
    rows = inv.db.execute("SELECT * FROM smb_exports ORDER BY lower(name)").fetchall()
    if opts.operands:
        rows = [_smb_row(inv, n) for n in opts.operands[0].split(",") if n]
    pattern = opts.get("--export-regex")
    if pattern is not None:
        try:
            compiled = re.compile(pattern)
        except re.error as exc:
            raise inv.fail(f"Incorrect --export-regex {pattern!r}: {exc}.", 22) from exc
        rows = [r for r in rows if compiled.search(r["name"])]
    extra = [_smb_option_name(inv, o) for o in opts.all("--option")]
    if opts.has("--all"):
        for r in rows:
            extra.extend(k for k in json.loads(r["options"]) if k not in SMB_DEFAULTS)
    columns = SMB_COLUMNS + [c for c in dict.fromkeys(extra) if c not in SMB_COLUMNS]
    table = []
    for r in rows:
        values = {**SMB_DEFAULTS, **json.loads(r["options"]), "export": r["name"],
                  "path": r["path"]}
        table.append([values.get(c, "") for c in columns])
    if opts.has("-Y"):
        inv.out.write(ytable("mmsmb", "exports", columns, table))
        return
    inv.out.write(text_table(columns, table, gap=4))
