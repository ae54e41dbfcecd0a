"""File system commands: mmlsfs, mmchfs, mmmount, mmumount (mmunmount), mmlsmount.

``mmchfs -T`` changes the configured default mount point only; the tree stays where it is
until the file system is next mounted on the local node, which then uses the new mount point
(as the real command documents: the change takes effect at the next mount).
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from gpfskit.emulator import layout
from gpfskit.emulator.args import Parsed, UsageError, is_digits
from gpfskit.emulator.dispatch import CommandError, Invocation, command
from gpfskit.emulator.mounting import Mounter, MountProblem
from gpfskit.emulator.output import banner_time, ctime, ytable
from gpfskit.emulator.steps import Rename

RESERVED_DEVICES = frozenset({"all", "all_local", "all_remote"})
DEVICE_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,62}$")
MOUNT_POINT = re.compile(r"^/[A-Za-z0-9._+@,=~/-]*$")
MAX_REPLICAS = 3


def fs_attrs(row: sqlite3.Row) -> dict[str, object]:
    """The ``attrs`` JSON of a filesystems row (other mmlsfs fields, by fieldName)."""
    try:
        value = json.loads(row["attrs"] or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _yes_no(flag: object) -> str:
    return "Yes" if flag else "No"


# mmlsfs ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Field:
    name: str                 # the -Y fieldName
    flag: str | None          # the mmlsfs option selecting it (None: full listing only)
    description: str | None   # the human description (None: not in the human table)


FIELDS: tuple[Field, ...] = (
    Field("minFragmentSize", "-f", "Minimum fragment (subblock) size in bytes"),
    Field("inodeSize", "-i", "Inode size in bytes"),
    Field("indirectBlockSize", "-I", "Indirect block size in bytes"),
    Field("defaultMetadataReplicas", "-m", "Default number of metadata replicas"),
    Field("maxMetadataReplicas", "-M", "Maximum number of metadata replicas"),
    Field("defaultDataReplicas", "-r", "Default number of data replicas"),
    Field("maxDataReplicas", "-R", "Maximum number of data replicas"),
    Field("blockAllocationType", "-j", "Block allocation type"),
    Field("fileLockingSemantics", "-D", "File locking semantics in effect"),
    Field("ACLSemantics", "-k", "ACL semantics in effect"),
    Field("numNodes", "-n", "Estimated number of nodes that will mount file system"),
    Field("blockSize", "-B", "Block size"),
    Field("quotasAccountingEnabled", "-Q", "Quotas accounting enabled"),
    Field("quotasEnforced", "-Q", "Quotas enforced"),
    Field("defaultQuotasEnabled", "-Q", "Default quotas enabled"),
    Field("perfilesetQuotas", "--perfileset-quota", "Per-fileset quota enforcement"),
    Field("filesetdfEnabled", "--filesetdf", "Fileset df enabled?"),
    Field("filesystemVersion", "-V", "File system version"),
    Field("filesystemVersionLocal", "-V", None),
    Field("filesystemVersionManager", "-V", None),
    Field("filesystemVersionOriginal", "-V", None),
    Field("filesystemHighestSupported", "-V", None),
    Field("create-time", "--create-time", "File system creation time"),
    Field("DMAPIEnabled", "-z", "Is DMAPI enabled?"),
    Field("logfileSize", "-L", "Logfile size"),
    Field("exactMtime", "-E", "Exact mtime mount option"),
    Field("suppressAtime", "-S", "Suppress atime mount option"),
    Field("strictReplication", "-K", "Strict replica allocation option"),
    Field("fastEAenabled", "--fastea", "Fast external attributes enabled?"),
    Field("encryption", "--encryption", "Encryption enabled?"),
    Field("maxNumberOfInodes", "--inode-limit", "Maximum number of inodes"),
    Field("maxSnapshotId", None, None),
    Field("UID", None, None),
    Field("logReplicas", "--log-replicas", "Number of log replicas"),
    Field("is4KAligned", "--is4KAligned", "is4KAligned?"),
    Field("rapidRepairEnabled", "--rapid-repair", "rapidRepair enabled?"),
    Field("write-cache-threshold", "--write-cache-threshold", "HAWC Threshold (max 65536)"),
    Field("subblocksPerFullBlock", "--subblocks-per-full-block",
          "Number of subblocks per full block"),
    Field("storagePools", "-P", "Disk storage pools in file system"),
    Field("file-audit-log", "--file-audit-log", "File Audit Logging enabled?"),
    Field("maintenance-mode", "--maintenance-mode", "Maintenance Mode enabled?"),
    Field("disks", "-d", "Disks in file system"),
    Field("automaticMountOption", "-A", "Automatic mount option"),
    Field("additionalMountOptions", "-o", "Additional mount options"),
    Field("defaultMountPoint", "-T", "Default mount point"),
    Field("mountPriority", "--mount-priority", "Mount priority"),
)
_SELECTORS = tuple(dict.fromkeys(f.flag for f in FIELDS if f.flag))
# Values written without percent-encoding in -Y (observed: `disks:nsd1;nsd2`).
_RAW_FIELDS = frozenset({"disks", "storagePools"})


def fs_values(inv: Invocation, row: sqlite3.Row) -> dict[str, object]:
    """Every mmlsfs field of one file system, by fieldName."""
    attrs = fs_attrs(row)
    name = row["name"]
    pools = [r["name"] for r in inv.db.execute(
        "SELECT name FROM pools WHERE fs = ? ORDER BY id", (name,))]
    disks = [r["name"] for r in inv.db.execute(
        "SELECT name FROM nsds WHERE fs = ? ORDER BY disk_id", (name,))]
    snap = inv.db.execute("SELECT max(snap_id) AS m FROM snapshots WHERE fs = ?",
                          (name,)).fetchone()["m"] or 0
    manager = inv.db.execute("SELECT ip FROM nodes WHERE name = ?",
                             (row["manager_node"],)).fetchone()
    ip_hex = "".join(f"{int(p):02X}" for p in (manager["ip"] if manager else "0.0.0.0")
                     .split(".")[:4] if p.isdigit())
    version = row["version"]
    values: dict[str, object] = {
        "minFragmentSize": row["min_fragment"], "inodeSize": row["inode_size"],
        "blockSize": row["block_size"],
        "quotasAccountingEnabled": attrs.get("quotasAccountingEnabled", row["quotas_enforced"]),
        "quotasEnforced": row["quotas_enforced"],
        "perfilesetQuotas": _yes_no(row["perfileset_quota"]),
        "filesetdfEnabled": _yes_no(row["filesetdf"]),
        "filesystemVersion": version, "filesystemVersionLocal": version,
        "filesystemVersionManager": version,
        "filesystemVersionOriginal": attrs.get("filesystemVersionOriginal", version),
        "filesystemHighestSupported": version,
        "create-time": ctime(row["created"]),
        "maxNumberOfInodes": row["max_inodes"],
        "maxSnapshotId": max(int(attrs.get("maxSnapshotId", 0) or 0), snap),
        "UID": attrs.get("UID", f"{ip_hex or '00000000'}:{int(row['created']):08X}"),
        "storagePools": ";".join(pools), "disks": ";".join(disks),
        "automaticMountOption": row["automount"],
        "additionalMountOptions": row["mount_options"],
        "defaultMountPoint": row["mountpoint"],
    }
    for field in FIELDS:
        if field.name not in values:
            values[field.name] = attrs.get(field.name, "")
    return values


_LSFS_USAGE = ("mmlsfs {Device | all | all_local | all_remote} [-A] [-B] [-d] [-D] [-E] [-f] "
               "[-i] [-I] [-j] [-k] [-K] [-L] [-m] [-M] [-n] [-o] [-P] [-Q] [-r] [-R] [-S] [-T] "
               "[-V] [-z] [--create-time] [--encryption] [--fastea] [--file-audit-log] "
               "[--filesetdf] [--inode-limit] [--is4KAligned] [--log-replicas] "
               "[--maintenance-mode] [--mount-priority] [--perfileset-quota] [--rapid-repair] "
               "[--subblocks-per-full-block] [--write-cache-threshold] [-Y]")


@command("mmlsfs", _LSFS_USAGE, flags=("-Y", *_SELECTORS), min_operands=1, max_operands=1)
def mmlsfs(inv: Invocation, args: Parsed) -> None:
    rows = inv.filesystems(args.operands[0])
    selected = [f for f in args.flags if f != "-Y"]
    fields = [f for f in FIELDS if (f.flag in selected) or not selected]
    if args.has("-Y"):
        lines = []
        for row in rows:
            values = fs_values(inv, row)
            lines.extend([row["name"], f.name, values[f.name], ""] for f in fields)
        inv.out.write(_lsfs_y(lines))
        return
    for index, row in enumerate(rows):
        values = fs_values(inv, row)
        if index:
            inv.say("")
        title = f"File system attributes for /dev/{row['name']}:"
        inv.say(title)
        inv.say("=" * len(title))
        inv.say(f"{'flag':<19} {'value':<24} description")
        inv.say(f"{'-' * 19} {'-' * 24} {'-' * 35}")
        shown: set[str] = set()
        for field in fields:
            if field.description is None:
                continue
            flag = field.flag if field.flag not in shown else ""
            shown.add(field.flag or "")
            value = str(values[field.name])
            head = f" {flag:<18} "
            room = max(1, 24 - max(0, len(head) - 20))
            cell = f"{value:<{room}} " if len(value) <= room else value + "  "
            inv.say(f"{head}{cell}{field.description}")


def _lsfs_y(rows: list[list[object]]) -> str:
    text = ytable("mmlsfs", "", ["deviceName", "fieldName", "data", "remarks"], rows)
    # `disks` and `storagePools` keep their `;` unencoded, as the real command prints them.
    out = []
    for line in text.splitlines(keepends=True):
        parts = line.split(":")
        if len(parts) > 8 and parts[2] == "0" and parts[7] in _RAW_FIELDS:
            parts[8] = parts[8].replace("%3B", ";")
            line = ":".join(parts)
        out.append(line)
    return "".join(out)


# mmchfs ------------------------------------------------------------------------------------

_CHFS_USAGE = """mmchfs Device [-A {yes | no | automount}] [-D {posix | nfs4}] [-E {yes | no}]
    [-k {posix | nfs4 | all}] [-K {no | whenpossible | always}] [-m DefaultMetadataReplicas]
    [-n NumNodes] [-o MountOptions] [-r DefaultDataReplicas] [-S {yes | no | relatime}]
    [-T Mountpoint] [-z {yes | no}] [--filesetdf | --nofilesetdf]
    [--inode-limit MaxNumInodes[:NumInodesToPreallocate]] [--log-replicas LogReplicas]
    [--mount-priority Priority]
    [--perfileset-quota | --noperfileset-quota] [--rapid-repair | --norapid-repair]
    [--write-cache-threshold HAWCThreshold]
mmchfs Device -Q {yes | no}
mmchfs Device -W NewDeviceName
mmchfs Device --maintenance-mode {yes [--wait] | no}"""

_CHOICES = {
    "-A": ("automaticMountOption", ("yes", "no", "automount")),
    "-D": ("fileLockingSemantics", ("posix", "nfs4")),
    "-E": ("exactMtime", ("yes", "no")),
    "-k": ("ACLSemantics", ("posix", "nfs4", "all")),
    "-K": ("strictReplication", ("no", "whenpossible", "always")),
    "-S": ("suppressAtime", ("yes", "no", "relatime")),
    "-z": ("DMAPIEnabled", ("yes", "no")),
    "-Q": ("quotasEnforced", ("yes", "no")),
    "--maintenance-mode": ("maintenance-mode", ("yes", "no")),
}
_SUFFIX = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3}


def parse_count(text: str, what: str, inv: Invocation) -> int:
    """``1000000``, ``500K``, ``2M``... (binary suffixes, as the inode limits take them)."""
    match = re.fullmatch(r"(\d{1,12})([KMG]?)", text.strip().upper())
    if not match:
        raise inv.fail(f"Incorrect {what} value: {text!r}.", 22)
    return int(match.group(1)) * _SUFFIX[match.group(2)]


def _check_mount_point_value(inv: Invocation, value: str, fs: str) -> str:
    if len(value) > 1023 or not MOUNT_POINT.match(value):
        raise inv.fail(f"Incorrect mount point {value!r}: it must be an absolute path made of "
                       "letters, digits and . _ + @ , = ~ - characters.", 22)
    normal = os.path.normpath(value)
    if normal != value.rstrip("/") or normal == "/" or any(
            len(part) > 255 for part in normal.split("/")):
        raise inv.fail(f"Incorrect mount point {value!r}.", 22)
    root = inv.root.absolute()
    target = Path(normal)
    if (target == root or root in target.parents or target in root.parents) and not (
            target == root / "gpfs" or (root / "gpfs") in target.parents):
        raise inv.fail(f"Mount point {normal} overlaps the emulator's own files.", 22)
    for other in inv.db.execute("SELECT name, mountpoint FROM filesystems WHERE name != ?",
                                (fs,)):
        theirs = Path(other["mountpoint"])
        if theirs == target or theirs in target.parents or target in theirs.parents:
            raise inv.fail(f"Mount point {normal} is already in use by file system "
                           f"{other['name']}.", 22)
    return normal


def used_inodes(root: Path, fs_row: sqlite3.Row) -> int:
    """Inodes in use: every file and directory of the tree and of the parked filesets."""
    count = 0
    stack = [layout.tree(root, fs_row)]
    parked = layout.fs_home(root, fs_row["name"]) / "filesets"
    if parked.is_dir():
        stack.extend(p for p in parked.iterdir() if p.is_dir() and not p.is_symlink())
    while stack:
        top = stack.pop()
        if not top.exists():
            continue
        count += 1
        try:
            with os.scandir(top) as entries:
                for entry in entries:
                    if entry.name == layout.SNAPDIR:
                        continue
                    if entry.is_dir(follow_symlinks=False):
                        stack.append(Path(entry.path))
                    else:
                        count += 1
        except OSError:
            continue
    return count


@command("mmchfs", _CHFS_USAGE, flags=(
    "--perfileset-quota", "--noperfileset-quota", "--filesetdf", "--nofilesetdf",
    "--rapid-repair", "--norapid-repair", "--wait"),
    valued=("-A", "-D", "-E", "-k", "-K", "-m", "-n", "-o", "-r", "-S", "-T", "-z", "-Q", "-W",
            "--inode-limit", "--mount-priority", "--write-cache-threshold",
            "--maintenance-mode", "--log-replicas"),
    min_operands=1, max_operands=1, changing=True)
def mmchfs(inv: Invocation, args: Parsed) -> None:
    apply_chfs(inv, plan_chfs(inv, args))


@dataclass
class ChfsPlan:
    name: str
    columns: dict[str, object]     # filesystems columns to set (attrs included)
    new_name: str | None           # -W: the new device name


def plan_chfs(inv: Invocation, args: Parsed) -> ChfsPlan:
    """Check every ``mmchfs`` option and work out the new values (nothing changes here)."""
    row = inv.filesystem(args.operands[0])
    name = row["name"]
    if not args.flags and not args.values:
        raise UsageError("Missing arguments.")
    for a, b in (("--perfileset-quota", "--noperfileset-quota"),
                 ("--filesetdf", "--nofilesetdf"), ("--rapid-repair", "--norapid-repair")):
        if args.has(a) and args.has(b):
            raise inv.fail(f"Options {a} and {b} cannot be used together.", 22)
    if args.has("--wait") and args.get("--maintenance-mode") != "yes":
        raise UsageError("--wait is valid only with --maintenance-mode yes.")
    attrs = fs_attrs(row)
    columns: dict[str, object] = {}
    mounted_anywhere = bool(inv.db.execute("SELECT 1 FROM mounts WHERE fs = ?",
                                           (name,)).fetchone())

    for option, (field, allowed) in _CHOICES.items():
        value = args.get(option)
        if value is None:
            continue
        if value not in allowed:
            raise inv.fail(f"Incorrect value for the {option} option: {value!r}. Valid values "
                           f"are: {', '.join(allowed)}.", 22)
        if option == "-A":
            if value != row["automount"] and "automount" in (value, row["automount"]) \
                    and mounted_anywhere:
                raise inv.fail(f"File system {name} is mounted; it must be unmounted on all "
                               "nodes to change the automount setting.", 16)
            columns["automount"] = value
        elif option == "-Q":
            enforced = "user;group;fileset" if value == "yes" else "none"
            columns["quotas_enforced"] = enforced
            attrs["quotasAccountingEnabled"] = enforced
        else:
            attrs[field] = value

    for option, field, maximum_field in (("-m", "defaultMetadataReplicas",
                                          "maxMetadataReplicas"),
                                         ("-r", "defaultDataReplicas", "maxDataReplicas")):
        value = args.get(option)
        if value is None:
            continue
        maximum = int(attrs.get(maximum_field, 2) or 2)
        if not is_digits(value) or not 1 <= int(value) <= min(maximum, MAX_REPLICAS):
            raise inv.fail(f"Incorrect value for the {option} option: {value!r}. It must be "
                           f"between 1 and the maximum number of replicas ({maximum}).", 22)
        attrs[field] = int(value)

    for option, field, low, high in (("-n", "numNodes", 1, 16384),
                                     ("--mount-priority", "mountPriority", 0, 1_000_000),
                                     ("--log-replicas", "logReplicas", 0, MAX_REPLICAS)):
        value = args.get(option)
        if value is None:
            continue
        if not is_digits(value) or not low <= int(value) <= high:
            raise inv.fail(f"Incorrect value for the {option} option: {value!r}. It must be "
                           f"an integer between {low} and {high}.", 22)
        attrs[field] = int(value)

    value = args.get("--write-cache-threshold")
    if value is not None:
        threshold = parse_count(value, "--write-cache-threshold", inv)
        if threshold > 65536 or threshold % 4096:
            raise inv.fail(f"Incorrect value for the --write-cache-threshold option: {value!r}. "
                           "It must be 0 or a multiple of 4K up to 64K.", 22)
        attrs["write-cache-threshold"] = threshold

    value = args.get("-o")
    if value is not None:
        if not value or not re.fullmatch(r"[A-Za-z0-9_.=,/+-]{1,1024}", value):
            raise inv.fail(f"Incorrect mount options {value!r}.", 22)
        columns["mount_options"] = value

    if args.has("--perfileset-quota"):
        columns["perfileset_quota"] = 1
    if args.has("--noperfileset-quota"):
        columns["perfileset_quota"] = 0
    if args.has("--filesetdf"):
        columns["filesetdf"] = 1
    if args.has("--nofilesetdf"):
        columns["filesetdf"] = 0
    if args.has("--rapid-repair"):
        attrs["rapidRepairEnabled"] = "yes"
    if args.has("--norapid-repair"):
        attrs["rapidRepairEnabled"] = "no"

    value = args.get("-T")
    if value is not None:
        columns["mountpoint"] = _check_mount_point_value(inv, value, name)

    limit = args.get("--inode-limit")
    if limit is not None:
        _change_inode_limit(inv, row, limit, columns)

    new_name = args.get("-W")
    if new_name is not None:
        _check_new_name(inv, name, new_name, mounted_anywhere)

    columns["attrs"] = json.dumps(attrs)
    return ChfsPlan(name, columns, new_name if new_name not in (None, name) else None)


def apply_chfs(inv: Invocation, plan: ChfsPlan) -> None:
    """Rename the file system's home directory (-W), then write the new values."""
    if plan.new_name is not None:
        home = layout.fs_home(inv.root, plan.name)
        if home.exists():
            try:
                inv.journal.act(Rename(str(home), str(layout.fs_home(inv.root, plan.new_name))))
            except OSError as exc:
                raise inv.fail(f"Cannot rename file system {plan.name}: {exc.strerror}.") \
                    from exc
    columns = plan.columns
    assignments = ", ".join(f"{column} = ?" for column in columns)
    inv.db.execute(f"UPDATE filesystems SET {assignments} WHERE name = ?",
                   (*columns.values(), plan.name))
    if "max_inodes" in columns:
        inv.db.execute("UPDATE filesets SET max_inodes = ?, alloc_inodes = ? "
                       "WHERE fs = ? AND id = 0",
                       (columns["max_inodes"], columns["alloc_inodes"], plan.name))
    if plan.new_name is not None:
        _rename(inv, plan.name, plan.new_name)


def _change_inode_limit(inv: Invocation, row: sqlite3.Row, text: str,
                        columns: dict[str, object]) -> None:
    maximum_text, _, prealloc_text = text.partition(":")
    maximum = parse_count(maximum_text, "--inode-limit", inv)
    alloc = row["alloc_inodes"]
    if prealloc_text:
        prealloc = parse_count(prealloc_text, "--inode-limit", inv)
        if prealloc > maximum:
            raise inv.fail("The number of inodes to preallocate cannot exceed the maximum "
                           "number of inodes.", 22)
        if prealloc < alloc:
            raise inv.fail(f"The number of preallocated inodes cannot be decreased "
                           f"(currently {alloc}).", 22)
        alloc = prealloc
    if maximum > 2**31 - 1:
        raise inv.fail(f"The maximum number of inodes {maximum} is too large.", 22)
    if maximum < alloc:
        raise inv.fail(f"The maximum number of inodes {maximum} is less than the number of "
                       f"allocated inodes ({alloc}).", 22)
    in_use = used_inodes(inv.root, row)
    if maximum < in_use:
        raise inv.fail(f"The maximum number of inodes {maximum} is less than the number of "
                       f"inodes in use ({in_use}).", 22)
    columns["max_inodes"] = maximum
    columns["alloc_inodes"] = alloc


def _check_new_name(inv: Invocation, name: str, new_name: str, mounted: bool) -> None:
    if not DEVICE_NAME.match(new_name) or new_name in RESERVED_DEVICES:
        raise inv.fail(f"Incorrect file system name {new_name!r}: use up to 63 letters, "
                       "digits and . _ - characters, not starting with . or -.", 22)
    if new_name == name:
        return
    if inv.db.execute("SELECT 1 FROM filesystems WHERE name = ?", (new_name,)).fetchone():
        raise inv.fail(f"File system {new_name} already exists.", 17)
    if mounted:
        raise inv.fail(f"File system {name} is mounted; it must be unmounted on all nodes "
                       "before it can be renamed.", 16)
    if layout.fs_home(inv.root, new_name).exists():
        raise inv.fail(f"Cannot rename file system {name}: "
                       f"{layout.fs_home(inv.root, new_name)} already exists.", 17)


def _rename(inv: Invocation, old: str, new: str) -> None:
    """Rename a file system in every table that names it."""
    columns = [r["name"] for r in inv.db.execute("PRAGMA table_info(filesystems)")]
    listed = ", ".join(columns)
    picked = ", ".join("?" if c == "name" else c for c in columns)
    inv.db.execute(f"INSERT INTO filesystems ({listed}) SELECT {picked} FROM filesystems "
                   "WHERE name = ?", (new, old))
    tables = [r["name"] for r in inv.db.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name != 'filesystems'")]
    for table in tables:
        if any(c["name"] == "fs" for c in inv.db.execute(f"PRAGMA table_info({table})")):
            inv.db.execute(f"UPDATE {table} SET fs = ? WHERE fs = ?", (new, old))
    inv.db.execute("DELETE FROM filesystems WHERE name = ?", (old,))


# Mounting ---------------------------------------------------------------------------------

def resolve_devices(inv: Invocation, device: str) -> list[sqlite3.Row]:
    """``Device``, ``/dev/Device``, a default mount point, or all / all_local / all_remote."""
    if device.startswith("/") and not device.startswith("/dev/"):
        normal = os.path.normpath(device)
        row = inv.db.execute("SELECT * FROM filesystems WHERE mountpoint = ? OR mounted_at = ?",
                             (normal, normal)).fetchone()
        if row is None:
            raise CommandError(f"{inv.name}: File system {device} is not known to the GPFS "
                               "cluster.", 2)
        return [row]
    return inv.filesystems(device)


def _down_nodes(inv: Invocation, nodes: list[str]) -> list[str]:
    marks = ",".join("?" for _ in nodes)
    return [r["name"] for r in inv.db.execute(
        f"SELECT name FROM nodes WHERE name IN ({marks}) AND state != 'active' ORDER BY number",
        nodes)] if nodes else []


def _target_nodes(inv: Invocation, args: Parsed) -> list[str]:
    if args.has("-a") and args.has("-N"):
        raise UsageError("Options -a and -N cannot be used together.")
    if args.has("-a"):
        return [r["name"] for r in inv.db.execute("SELECT name FROM nodes ORDER BY number")]
    return inv.node_names(args.get("-N"))


_MOUNT_USAGE = """mmmount {Device | DefaultMountPoint | all | all_local | all_remote}
        [-o MountOptions] [-a | -N {Node[,Node...] | NodeFile | NodeClass}]
mmmount Device MountPoint [-o MountOptions] [-a | -N {Node[,Node...] | NodeFile | NodeClass}]"""


@command("mmmount", _MOUNT_USAGE, flags=("-a",), valued=("-o", "-N"), min_operands=1,
         max_operands=2, changing=True)
def mmmount(inv: Invocation, args: Parsed) -> None:
    rows = resolve_devices(inv, args.operands[0])
    mountpoint = args.operands[1] if len(args.operands) > 1 else None
    if mountpoint is not None:
        if len(rows) != 1 or args.operands[0] in RESERVED_DEVICES:
            raise UsageError("A mount point can be given only with a single device.")
        if not MOUNT_POINT.match(mountpoint) or len(mountpoint) > 1023:
            raise inv.fail(f"Incorrect mount point {mountpoint!r}.", 22)
    options = args.get("-o")
    mode = "RW"
    if options is not None:
        if not re.fullmatch(r"[A-Za-z0-9_.=,/+-]{1,1024}", options):
            raise inv.fail(f"Incorrect mount options {options!r}.", 22)
        if "ro" in options.split(","):
            mode = "RO"
    nodes = _target_nodes(inv, args)
    down = _down_nodes(inv, nodes)
    if args.has("-a"):
        nodes = [n for n in nodes if n not in down]   # -a: the nodes where GPFS runs
    elif down:
        where = "this node" if down == [inv.node] else "node " + ", ".join(down)
        raise inv.fail(f"GPFS is down on {where}.", 19)
    inv.say(f"{banner_time()}: mmmount: Mounting file systems ...")
    mounter = Mounter(inv)
    for row in rows:
        try:
            mounter.mount(row["name"], nodes, mountpoint=mountpoint, mode=mode)
        except MountProblem as exc:
            raise inv.fail(f"Cannot mount file system {row['name']}: {exc}", 16) from exc
    mounter.apply()


_UMOUNT_USAGE = """mmumount {Device | MountPoint | all | all_local | all_remote} [-f]
         [-a | -N {Node[,Node...] | NodeFile | NodeClass}]"""


@command("mmumount", _UMOUNT_USAGE, flags=("-a", "-f"), valued=("-N",), min_operands=1,
         max_operands=1, changing=True, aliases=("mmunmount",))
def mmumount(inv: Invocation, args: Parsed) -> None:
    rows = resolve_devices(inv, args.operands[0])
    nodes = _target_nodes(inv, args)
    inv.say(f"{banner_time()}: mmumount: Unmounting file systems ...")
    mounter = Mounter(inv)
    for row in rows:
        try:
            mounter.unmount(row["name"], nodes, force=args.has("-f"))
        except MountProblem as exc:
            raise inv.fail(f"Cannot unmount file system {row['name']}: {exc}", 16) from exc
    mounter.apply()


_LSMOUNT_COLUMNS = ["localDevName", "realDevName", "owningCluster", "totalNodes", "nodeIP",
                    "nodeName", "clusterName", "mountMode"]


@command("mmlsmount", "mmlsmount {Device | all | all_local | all_remote} [-L] [-Y] "
         "[-C {all | all_remote | ClusterName[,ClusterName...]}]",
         flags=("-L", "-Y"), valued=("-C",), min_operands=1, max_operands=1)
def mmlsmount(inv: Invocation, args: Parsed) -> None:
    rows = inv.filesystems(args.operands[0])
    cluster = inv.db.execute("SELECT name FROM cluster").fetchone()["name"]
    listing = []
    for row in rows:
        mounts = inv.db.execute(
            "SELECT m.node, m.mode, n.ip FROM mounts m LEFT JOIN nodes n ON n.name = m.node "
            "WHERE m.fs = ? ORDER BY n.number, m.node", (row["name"],)).fetchall()
        listing.append((row, mounts))
    if args.has("-Y"):
        inv.out.write(ytable("mmlsmount", "", _LSMOUNT_COLUMNS, [
            [row["name"], row["name"], cluster, len(mounts), m["ip"] or "", m["node"], cluster,
             m["mode"]] for row, mounts in listing for m in mounts]))
        return
    for row, mounts in listing:
        if not mounts:
            inv.say(f"File system {row['name']} is not mounted.")
            continue
        inv.say(f"File system {row['name']} is mounted on {len(mounts)} nodes"
                + (":" if args.has("-L") else "."))
        if args.has("-L"):
            for m in mounts:
                inv.say(f"  {m['ip'] or '':<15} {m['node']:<24} {cluster}")
