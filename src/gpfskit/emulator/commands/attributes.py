"""Per-file attributes: mmlsattr and mmchattr.

Paths are resolved lexically first (``..`` cannot climb out of a file system), then the file
must exist inside a file system mounted on this node; symbolic links are followed and must
stay inside the same file system. Files inside ``.snapshots`` are read-only. The fileset of a
path is the deepest linked fileset whose junction lies above it.

``mmchattr`` refuses ``-i``/``-a`` on a file system or fileset root directory (the emulator
moves those directories when mounting and linking), ``-P`` on directories (they are
metadata), and extended attribute changes on immutable or append-only files (as Linux does).
Only ``user.`` extended attributes can be set; ``user.gpfskit.*`` is reserved for the GPFS
attributes themselves (see ``fileattrs``).
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass

from gpfskit.emulator import fileattrs, layout
from gpfskit.emulator.args import Parsed, UsageError, is_digits
from gpfskit.emulator.commands.filesystems import MAX_REPLICAS, fs_attrs
from gpfskit.emulator.dispatch import Invocation, command
from gpfskit.emulator.output import ctime
from gpfskit.emulator.steps import SetAttributes

MAX_XATTR_NAME = 255
MAX_XATTR_VALUE = 65536


@dataclass(frozen=True)
class Target:
    given: str            # the path as given
    path: str             # the file itself (symbolic links resolved)
    fs: sqlite3.Row
    rel: str              # relative to the file system root ('' = the root)
    visible: str          # the path users see

    @property
    def is_dir(self) -> bool:
        return os.path.isdir(self.path)

    @property
    def snapshot(self) -> str | None:
        parts = self.rel.split("/") if self.rel else []
        if layout.SNAPDIR in parts:
            index = parts.index(layout.SNAPDIR)
            return parts[index + 1] if index + 1 < len(parts) else ""
        return None


def resolve(inv: Invocation, given: str) -> Target:
    """The file ``given`` names, inside a file system mounted on this node."""
    if not given or "\0" in given:
        raise inv.fail(f"Incorrect path name {given!r}.", 22)
    absolute = os.path.normpath(os.path.join(os.getcwd(), given))
    fs_row = None
    for row in inv.db.execute("SELECT * FROM filesystems WHERE mounted_at IS NOT NULL"):
        base = os.path.normpath(row["mounted_at"])
        if absolute == base or absolute.startswith(base.rstrip("/") + "/"):
            fs_row = row
            break
    if fs_row is None:
        raise inv.fail(f"File {given} is not in a GPFS file system.", 22)
    if not os.path.lexists(absolute):
        raise inv.fail(f"{given}: No such file or directory", 2)
    base = os.path.normpath(fs_row["mounted_at"])
    real, real_base = os.path.realpath(absolute), os.path.realpath(base)
    if real != real_base and not real.startswith(real_base.rstrip("/") + "/"):
        raise inv.fail(f"File {given} is not in a GPFS file system.", 22)
    if not os.path.exists(real):
        raise inv.fail(f"{given}: No such file or directory", 2)
    rel = "" if real == real_base else os.path.relpath(real, real_base)
    return Target(given, real, fs_row, rel, os.path.join(base, rel) if rel else base)


def linked_junctions(db: sqlite3.Connection, fs: str) -> dict[str, str]:
    """Junction (relative to the fs root) -> fileset name, for the filesets users can reach:
    linked, with every fileset above them linked too."""
    rows = {r["id"]: r for r in db.execute(
        "SELECT id, name, status, junction, parent_id FROM filesets WHERE fs = ?", (fs,))}
    result: dict[str, str] = {}
    for row in rows.values():
        if row["status"] != "Linked" or row["junction"] is None:
            continue
        parent, seen, reachable = row["parent_id"], {row["id"]}, True
        while parent is not None and parent not in seen and parent in rows:
            seen.add(parent)
            above = rows[parent]
            if above["status"] != "Linked" or above["junction"] is None:
                reachable = False
                break
            parent = above["parent_id"]
        if reachable:
            result[row["junction"]] = row["name"]
    return result


def fileset_of(db: sqlite3.Connection, fs: str, rel: str) -> str:
    parts = rel.split("/") if rel else []
    if layout.SNAPDIR in parts:
        parts = parts[:parts.index(layout.SNAPDIR)]
    rel = "/".join(parts)
    best, name = -1, "root"
    for junction, fileset in linked_junctions(db, fs).items():
        if (junction == "" or rel == junction or rel.startswith(junction + "/")) \
                and len(junction) > best:
            best, name = len(junction), fileset
    return name


def _replication(target: Target) -> tuple[int, int, int, int]:
    """(metadata, max metadata, data, max data) replicas: the file's own, else the fs's."""
    attrs = fs_attrs(target.fs)
    meta, data = fileattrs.replication(target.path)
    meta_max, data_max = fileattrs.max_replication(target.path)
    return (meta or int(attrs.get("defaultMetadataReplicas", 1) or 1),
            meta_max or int(attrs.get("maxMetadataReplicas", 2) or 2),
            data or int(attrs.get("defaultDataReplicas", 1) or 1),
            data_max or int(attrs.get("maxDataReplicas", 2) or 2))


def _show_value(value: bytes) -> str:
    try:
        text = value.decode("utf-8")
    except UnicodeDecodeError:
        return "0x" + value.hex().upper()
    if text.isprintable():
        return f'"{text}"'
    return "0x" + value.hex().upper()


def _label(label: str, value: object) -> str:
    return f"{label + ':':<22}{value}".rstrip()


@command("mmlsattr", "mmlsattr [-L] [-d | --dump-attr] [-n AttributeName | --get-attr "
         "AttributeName] FileName [FileName...]",
         flags=("-L", "-l", "-d", "--dump-attr"), valued=("-n", "--get-attr"), min_operands=1)
def mmlsattr(inv: Invocation, args: Parsed) -> None:
    targets = [resolve(inv, p) for p in args.operands]
    wanted = args.all("-n") + args.all("--get-attr")
    dump = args.has("-d", "--dump-attr")
    for name in wanted:
        if not name.startswith("user.") or len(name) > MAX_XATTR_NAME:
            raise inv.fail(f"Incorrect extended attribute name {name!r}: names start with "
                           "'user.'.", 22)
    values: list[dict[str, bytes]] = []
    for target in targets:
        present = fileattrs.user_xattrs(target.path)
        for name in wanted:
            if name not in present:
                raise inv.fail(f"Extended attribute {name} is not set for file {target.given}.",
                               61)
        values.append(present)
    if not args.has("-L") and not wanted and not dump:
        inv.say("  replication factors")
        inv.say("metadata(max) data(max) file    [flags]")
        inv.say("------------- --------- ---------------")
        for target in targets:
            meta, meta_max, data, data_max = _replication(target)
            flags = [f for f, on in (("immutable", fileattrs.immutable(target.path)),
                                     ("appendOnly", fileattrs.append_only(target.path))) if on]
            extra = f"  [{','.join(flags)}]" if flags else ""
            inv.say(f"{meta:>7} ({meta_max:>3}) {data:>3} ({data_max:>3}) {target.given}{extra}")
        return
    for index, (target, present) in enumerate(zip(targets, values)):
        if index and args.has("-L"):
            inv.say("")
        inv.say(_label("file name", target.given))
        if args.has("-L"):
            _long(inv, target)
        shown = present if dump else {n: present[n] for n in wanted}
        for name, value in shown.items():
            inv.say(_label(name, _show_value(value)))


def _long(inv: Invocation, target: Target) -> None:
    meta, meta_max, data, data_max = _replication(target)
    pool = fileattrs.pool_of(inv.db, target.fs["name"], target.path, target.visible)
    kind = "DIRECTORY" if target.is_dir else "ARCHIVE"
    for label, value in (
            ("metadata replication", f"{meta} max {meta_max}"),
            ("data replication", f"{data} max {data_max}"),
            ("immutable", "yes" if fileattrs.immutable(target.path) else "no"),
            ("appendOnly", "yes" if fileattrs.append_only(target.path) else "no"),
            ("flags", ""),
            ("storage pool name", pool),
            ("fileset name", fileset_of(inv.db, target.fs["name"], target.rel)),
            ("snapshot name", target.snapshot or ""),
            ("creation time", ctime(fileattrs.creation_time(target.path))),
            ("Misc attributes", kind),
            ("Encrypted", "no")):
        inv.say(_label(label, value))


# mmchattr --------------------------------------------------------------------------------

_CHATTR_USAGE = """mmchattr [-m MetadataReplicas] [-M MaxMetadataReplicas] [-r DataReplicas]
         [-R MaxDataReplicas] [-P DataPoolName]
         [-I {yes | defer}] [-i {yes | no}] [-a {yes | no}]
         [--set-attr AttributeName=Value] [--delete-attr AttributeName]
         FileName [FileName...]"""


def _yes_no(inv: Invocation, option: str, value: str | None) -> bool | None:
    if value is None:
        return None
    if value not in ("yes", "no"):
        raise inv.fail(f"Incorrect value for the {option} option: {value!r}. Valid values "
                       "are: yes, no.", 22)
    return value == "yes"


def _xattr_name(inv: Invocation, name: str) -> str:
    if (not name.startswith("user.") or name == "user." or len(name) > MAX_XATTR_NAME
            or "\0" in name or not name.isprintable()):
        raise inv.fail(f"Incorrect extended attribute name {name!r}: names start with 'user.' "
                       f"and have at most {MAX_XATTR_NAME} printable characters.", 22)
    if name.startswith(fileattrs.PREFIX):
        raise inv.fail(f"Extended attribute names starting with {fileattrs.PREFIX} are "
                       "reserved.", 22)
    return name


@command("mmchattr", _CHATTR_USAGE, valued=("-m", "-M", "-r", "-R", "-P", "-I", "-i", "-a",
                                            "--set-attr", "--delete-attr"),
         min_operands=1, changing=True)
def mmchattr(inv: Invocation, args: Parsed) -> None:
    apply_chattr(inv, plan_chattr(inv, args))


@dataclass(frozen=True)
class ChattrPlan:
    targets: list[Target]
    change: dict[str, object]     # fileattrs.change's plain-data form, the same for each file


def plan_chattr(inv: Invocation, args: Parsed) -> ChattrPlan:
    """Check every option against every file (nothing changes here)."""
    if not args.values:
        raise UsageError("Missing arguments.")
    immutable = _yes_no(inv, "-i", args.get("-i"))
    append = _yes_no(inv, "-a", args.get("-a"))
    placement = args.get("-I")
    if placement is not None and placement not in ("yes", "defer"):
        raise inv.fail(f"Incorrect value for the -I option: {placement!r}. Valid values are: "
                       "yes, defer.", 22)
    sets: dict[str, bytes] = {}
    for item in args.all("--set-attr"):
        name, eq, value = item.partition("=")
        if not eq:
            raise inv.fail(f"Incorrect --set-attr value {item!r}: expected Name=Value.", 22)
        encoded = value.encode()
        if len(encoded) > MAX_XATTR_VALUE:
            raise inv.fail(f"The value of extended attribute {name} is too long "
                           f"({len(encoded)} bytes; at most {MAX_XATTR_VALUE}).", 22)
        sets[_xattr_name(inv, name)] = encoded
    deletes = [_xattr_name(inv, n) for n in args.all("--delete-attr")]
    both = set(sets) & set(deletes)
    if both:
        raise inv.fail(f"Extended attribute {sorted(both)[0]} cannot be both set and deleted.",
                       22)
    pool = args.get("-P")
    replicas: dict[str, int] = {}
    targets = [resolve(inv, p) for p in args.operands]

    for target in targets:
        fs = target.fs
        if target.snapshot is not None:
            raise inv.fail(f"Cannot change {target.given}: files in a snapshot are read-only.",
                           30)
        meta, meta_max, data, data_max = _replication(target)
        for option, current in (("-M", meta), ("-R", data)):
            value = args.get(option)
            if value is None:
                continue
            if not is_digits(value) or not max(current, 1) <= int(value) <= MAX_REPLICAS:
                raise inv.fail(f"Incorrect value for the {option} option: {value!r}. It must "
                               f"be between the file's current replicas ({current}) and "
                               f"{MAX_REPLICAS}.", 22)
            replicas[option] = int(value)
        for option, limit_option, maximum in (("-m", "-M", meta_max), ("-r", "-R", data_max)):
            value = args.get(option)
            if value is None:
                continue
            maximum = min(replicas.get(limit_option, maximum), MAX_REPLICAS)
            if not is_digits(value) or not 1 <= int(value) <= maximum:
                raise inv.fail(f"Incorrect value for the {option} option: {value!r}. It must "
                               f"be between 1 and the maximum number of replicas ({maximum}).",
                               22)
            replicas[option] = int(value)
        if pool is not None:
            row = inv.db.execute("SELECT 1 FROM pools WHERE fs = ? AND name = ?",
                                 (fs["name"], pool)).fetchone()
            if row is None:
                raise inv.fail(f"Storage pool {pool} does not exist in file system "
                               f"{fs['name']}.", 2)
            if not inv.db.execute("SELECT 1 FROM nsds WHERE fs = ? AND pool = ? AND data",
                                  (fs["name"], pool)).fetchone():
                raise inv.fail(f"Storage pool {pool} of file system {fs['name']} holds no "
                               "data disks.", 22)
            if target.is_dir:
                raise inv.fail(f"{target.given} is a directory; only files are placed in "
                               "storage pools.", 21)
        if (immutable or append) and (target.rel == "" or target.rel in
                                      linked_junctions(inv.db, fs["name"])):
            raise inv.fail(f"{target.given} is the root directory of a file system or fileset; "
                           "it cannot be made immutable or append-only.", 1)
        if sets or deletes:
            stays_immutable = fileattrs.immutable(target.path) if immutable is None \
                else immutable
            stays_append = fileattrs.append_only(target.path) if append is None else append
            if stays_immutable or stays_append:
                raise inv.fail(f"Cannot change the extended attributes of {target.given}: the "
                               "file is immutable or append-only.", 1)
            present = fileattrs.user_xattrs(target.path)
            for name in deletes:
                if name not in present:
                    raise inv.fail(f"Extended attribute {name} is not set for file "
                                   f"{target.given}.", 61)

    return ChattrPlan(targets, {
        "immutable": immutable, "append": append, "pool": pool,
        "replicas": {option.lstrip("-"): count for option, count in replicas.items()},
        "delete": deletes, "set": {name: value.hex() for name, value in sets.items()}})


def apply_chattr(inv: Invocation, plan: ChattrPlan) -> None:
    """Change the files, each with its attributes saved first (the journal restores them all
    if one change fails or the command is killed)."""
    try:
        inv.journal.act(*(SetAttributes.of(t.path, plan.change) for t in plan.targets))
    except OSError as exc:
        failed = plan.targets[min(inv.journal.done, len(plan.targets) - 1)]
        raise inv.fail(f"Cannot change {failed.given}: {exc.strerror or exc}.") from exc
