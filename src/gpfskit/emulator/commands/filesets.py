"""Filesets: mmlsfileset, mmcrfileset, mmdelfileset, mmlinkfileset, mmunlinkfileset, mmchfileset.

A fileset is a real directory (layout.py, usage.py): created empty and unlinked (parked, mode
0700, owner root), moved into the tree by ``mmlinkfileset`` and back out by
``mmunlinkfileset`` with all its data, nested filesets moving with it. Formats, messages and
exit codes follow storage-scale.md §2.8 and §1.

Where the reference is silent the emulator does what follows (an administrator's
expectations, written down here):

* Exit codes: 2 for an unknown fileset (22 for ``mmlsfileset``, as observed), 17 for a name
  or junction that already exists, 22 for an incorrect name, comment, junction or number,
  1 for the other refusals (linked, not empty, root, ...).
* Fileset ids are the lowest free id; a ``Deleted`` fileset keeps its id. Independent
  filesets get the lowest free inode space number and root inode
  ``inodeSpace * 2**k + 3`` where ``2**k`` is the first power of two not below the file
  system's inode limit (at least 2**17); dependent filesets get ``base + 3 + 4096*m`` in
  their inode space. A new independent fileset without ``--inode-limit`` gets
  MaxInodes 100352 and AllocInodes 65920 (never more than MaxInodes).
* Fileset names follow names.py (the documented rules plus whitespace, quotes, ``;``, ``:``
  and ``,`` refused). ``-p`` takes ``afm*`` attributes only (those with a ``-Y`` column); a
  fileset with AFM attributes is independent.
* A junction must lie inside the file system (``..`` resolved lexically, symlinks in the
  parent resolved), its parent directory must exist, the junction itself must not, and it
  may not lie in a ``.snapshots`` directory. A dependent fileset may only be linked inside a
  fileset of its own inode space. Linking and unlinking work whether or not the file system
  is mounted.
* ``parentId`` is the id of the fileset holding the junction (``--`` for root and unlinked
  filesets). While a fileset is unlinked, filesets linked inside it stay ``Linked`` but have
  no visible path (shown as ``--``).
* ``mmdelfileset`` refuses filesets that still hold linked filesets. A fileset captured by a
  global snapshot (or, for a dependent fileset, by a snapshot of its inode space's owner)
  taken after it was created becomes ``Deleted``: its files are removed, its name shows in
  parentheses and the name is free for a new fileset; ``mmdelsnapshot`` removes it with the
  last such snapshot. Its quota entries go at once. For a Deleted fileset ``parent_id``
  records the newest snapshot holding it (the column the real -L listing replaces).
* ``mmlsfileset`` lists ``Deleted`` filesets too (``--deleted``: only those); for them -L
  shows the newest snapshot still holding them (name under RootInode, id under ParentId)
  and ``-Y`` its id in ``snapId``. ``inodes``, ``dataInKB`` and ``freeInodes`` need ``-i``
  or ``-d`` (counting walks the files) and are ``-`` otherwise; ``-X`` is accepted and
  prints the ``-L`` table; ``--afm`` lists only filesets with AFM attributes;
  ``--block-size`` and ``--iam-mode`` are accepted and ignored.
* ``mmchfileset`` prints ``Fileset X changed.``; the root fileset's inode limit is the file
  system's (``mmchfs --inode-limit``) and is refused here.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from pathlib import Path

from gpfskit.emulator import layout, names, usage
from gpfskit.emulator.args import Parsed, UsageError, scaled_number
from gpfskit.emulator.dispatch import CommandError, Invocation, command
from gpfskit.emulator.output import ctime, encode, ytable

# The steps (steps.py) are imported by the changing commands when they act, and the plans
# are plain classes: a listing from a shell loads neither ``dataclasses`` nor the journal.

# The 5.1+ header (85 columns; note the second 'reserved').
Y_COLUMNS = [
    "filesystemName", "filesetName", "id", "rootInode", "status", "path", "parentId", "created",
    "inodes", "dataInKB", "comment", "filesetMode", "afmTarget", "afmState", "afmMode",
    "afmFileLookupRefreshInterval", "afmFileOpenRefreshInterval", "afmDirLookupRefreshInterval",
    "afmDirOpenRefreshInterval", "afmAsyncDelay", "afmNeedsRecovery", "afmExpirationTimeout",
    "afmRPO", "afmLastPSnapId", "inodeSpace", "isInodeSpaceOwner", "maxInodes", "allocInodes",
    "inodeSpaceMask", "afmShowHomeSnapshots", "afmNumReadThreads", "reserved", "afmReadBufferSize",
    "afmWriteBufferSize", "afmReadSparseThreshold", "afmParallelReadChunkSize",
    "afmParallelReadThreshold", "snapId", "afmNumFlushThreads", "afmPrefetchThreshold",
    "afmEnableAutoEviction", "permChangeFlag", "afmParallelWriteThreshold", "freeInodes",
    "afmNeedsResync", "afmParallelWriteChunkSize", "afmNumWriteThreads", "afmPrimaryID",
    "afmDRState", "afmAssociatedPrimaryId", "afmDIO", "afmGatewayNode", "afmIOFlags",
    "afmVerifyDmapi", "afmSkipHomeACL", "afmSkipHomeMtimeNsec", "afmForceCtimeChange",
    "afmSkipResyncRecovery", "afmSkipConflictQDrop", "afmRefreshAsync", "afmParallelMounts",
    "afmRefreshOnce", "afmSkipHomeCtimeNsec", "afmReaddirOnce", "afmResyncVer2",
    "afmSnapUncachedRead", "afmFastCreate", "afmObjectXattr", "afmObjectVHB",
    "afmObjectNoDirectoryObj", "afmSkipHomeRefresh", "afmObjectGCS", "afmObjectUserKeys",
    "afmWriteOnClose", "afmObjectSSL", "afmObjectACL", "afmMUPromoted", "afmMUAutoRemove",
    "afmObjFastReaddir", "afmObjectBlkIO", "preventSnapshotRestore", "permInheritFlag",
    "afmIOFlags2", "afmRemoteUpdate", "falStatus",
]
_COL = {}
for _i, _name in enumerate(Y_COLUMNS):
    _COL.setdefault(_name, _i)
AFM_ATTRIBUTES = frozenset(c for c in Y_COLUMNS if c.startswith("afm"))

DEFAULT_MAX_INODES = 100352
DEFAULT_ALLOC_INODES = 65920
PERM_CHANGE = {"chmodonly": "chmodOnly", "setaclonly": "setAclOnly",
               "chmodandsetacl": "chmodAndSetacl", "chmodandupdateacl": "chmodAndUpdateAcl"}
PERM_INHERIT = {"inheritaclonly": "inheritAclOnly", "inheritacl": "inheritAclOnly",
                "inheritaclandaddmode": "inheritAclAndAddMode"}

_L_HEADER = ("Name                            Id      RootInode  ParentId Created"
             "                      InodeSpace      MaxInodes    AllocInodes")


# Shared helpers (also used by the snapshot and quota commands) ---------------------------

def all_filesets(db: sqlite3.Connection, fs: str) -> list[sqlite3.Row]:
    return db.execute("SELECT * FROM filesets WHERE fs = ? ORDER BY id", (fs,)).fetchall()


def find_fileset(inv: Invocation, fs: str, name: str, returncode: int = 2) -> sqlite3.Row:
    """The fileset called ``name`` (not a Deleted one), or the refusal real commands print."""
    row = inv.db.execute("SELECT * FROM filesets WHERE fs = ? AND name = ? "
                         "AND status != 'Deleted'", (fs, name)).fetchone()
    if row is None:
        raise inv.fail(f"Fileset named {name} does not exist.", returncode)
    return row


def find_by_junction(inv: Invocation, fs_row: sqlite3.Row, rows: list[sqlite3.Row],
                     path: str, returncode: int = 2) -> sqlite3.Row:
    wanted = os.path.normpath(os.path.abspath(path))
    places = usage.fileset_places(inv.root, fs_row, rows)
    for row in rows:
        place = places.get(row["id"])
        if place is not None and place.visible and os.path.normpath(place.visible) == wanted:
            return row
    raise inv.fail(f"{wanted} is not a fileset junction.", returncode)


def space_shift(fs_row: sqlite3.Row) -> int:
    return max(17, (max(int(fs_row["max_inodes"]), 2) - 1).bit_length())


def inode_space_mask(fs_row: sqlite3.Row) -> int:
    return ((1 << 12) - 1) << space_shift(fs_row)


def capturing_snapshots(db: sqlite3.Connection, fs: str, fileset: sqlite3.Row,
                        rows: list[sqlite3.Row], excluding: set[int] = frozenset()
                        ) -> list[sqlite3.Row]:
    """Snapshots that hold ``fileset``: global ones taken after it was created, and for a
    dependent fileset those of the fileset owning its inode space; for a Deleted fileset
    only those taken before it was deleted (``parent_id`` then holds the newest of them)."""
    newest = fileset["parent_id"] if fileset["status"] == "Deleted" else None
    owners = [r["name"] for r in rows if r["is_inode_space_owner"]
              and r["inode_space"] == fileset["inode_space"] and r["id"] != fileset["id"]
              and r["status"] != "Deleted"]
    found = []
    for snap in db.execute("SELECT * FROM snapshots WHERE fs = ? ORDER BY snap_id", (fs,)):
        if snap["snap_id"] in excluding or snap["created"] < fileset["created"]:
            continue
        if newest is not None and snap["snap_id"] > newest:
            continue
        if snap["fileset"] is None or (not fileset["is_inode_space_owner"]
                                       and snap["fileset"] in owners):
            found.append(snap)
    return found


COUNT_UNITS = {"": 1, "K": 1024, "M": 1024 ** 2, "G": 1024 ** 3}


def parse_count(text: str) -> int:
    """An inode count: digits with an optional K/M/G suffix (powers of 1024)."""
    return scaled_number(text, COUNT_UNITS)


def _inode_limit(inv: Invocation, text: str) -> tuple[int, int | None]:
    maximum, _, prealloc = text.partition(":")
    try:
        limit = parse_count(maximum)
        alloc = parse_count(prealloc) if prealloc else None
    except ValueError as exc:
        raise inv.fail(f"Incorrect inode limit {names.shown(text)}: {exc}.", 22) from None
    if limit < 1:
        raise inv.fail(f"Incorrect inode limit {names.shown(text)}: it must be at least 1.", 22)
    if alloc is not None and alloc > limit:
        raise inv.fail(f"The number of inodes to preallocate ({alloc}) exceeds the inode "
                       f"limit ({limit}).", 22)
    return limit, alloc


def _perm_value(inv: Invocation, option: str, text: str, table: dict[str, str]) -> str:
    value = table.get(text.lower())
    if value is None:
        raise inv.fail(f"Incorrect value for {option}: {text}", 22)
    return value


def _afm_attributes(inv: Invocation, items: list[str]) -> dict[str, str]:
    attrs: dict[str, str] = {}
    for item in items:
        key, eq, value = item.partition("=")
        match = next((c for c in AFM_ATTRIBUTES if c.lower() == key.lower()), None)
        if not eq or match is None:
            raise inv.fail(f"Incorrect AFM attribute: {item}", 22)
        attrs[match] = value
    return attrs


# Linking -------------------------------------------------------------------------------

class LinkPlan:
    """Where ``mmlinkfileset`` (or ``mmcrfileset -J``) puts a fileset."""

    __slots__ = ("junction", "parent_id", "target", "visible")

    def __init__(self, junction: str, visible: str, target: Path, parent_id: int) -> None:
        self.junction = junction      # relative to the file system root
        self.visible = visible        # the absolute path users see
        self.target = target          # where the fileset directory goes
        self.parent_id = parent_id    # the fileset holding the junction


def plan_link(inv: Invocation, fs_row: sqlite3.Row, rows: list[sqlite3.Row],
              fileset: sqlite3.Row, junction: str | None) -> LinkPlan:
    """Check a junction path for ``fileset`` (nothing changes here)."""
    fs = fs_row["name"]
    if junction is None:
        junction = os.path.join(os.getcwd(), fileset["name"])
    elif not os.path.isabs(junction):
        junction = os.path.join(os.getcwd(), junction)
    shown = os.path.normpath(junction)
    problem = names.path_problem(junction)
    if problem:
        raise inv.fail(f"Incorrect junction path {names.shown(shown)}: {problem}.", 22)
    rel = layout.relative_to_fs(fs_row, junction)
    if rel is None:
        raise inv.fail(f"Junction path {shown} is not in file system {fs}.", 22)
    if rel == "":
        raise inv.fail(f"Junction path {shown} already exists.", 17)
    tree = layout.tree(inv.root, fs_row)
    real_tree = os.path.realpath(tree)
    parent_rel, leaf = os.path.split(rel)
    real_parent = os.path.realpath(os.path.join(tree, parent_rel))
    if real_parent != real_tree and not real_parent.startswith(real_tree + os.sep):
        raise inv.fail(f"Junction path {shown} is not in file system {fs}.", 22)
    if not os.path.isdir(real_parent):
        raise inv.fail(f"Directory {os.path.dirname(shown)} does not exist.", 2)
    parent_rel = os.path.relpath(real_parent, real_tree)
    parent_rel = "" if parent_rel == "." else parent_rel
    rel = os.path.join(parent_rel, leaf) if parent_rel else leaf
    if layout.SNAPDIR in rel.split(os.sep):
        raise inv.fail(f"Junction path {shown} is in a snapshot directory.", 22)
    target = tree / rel
    if os.path.lexists(target):
        raise inv.fail(f"Junction path {shown} already exists.", 17)
    places = usage.fileset_places(inv.root, fs_row, rows)
    in_tree = {p.dir: fid for fid, p in places.items() if p.linked_in_tree}
    by_id = {r["id"]: r for r in rows}
    container = 0
    probe = parent_rel
    while True:
        found = in_tree.get(os.path.join(str(tree), probe) if probe else str(tree))
        if found is not None:
            container = found
            break
        if not probe:
            break
        probe = os.path.dirname(probe)
    holder = by_id[container]
    if not fileset["is_inode_space_owner"] and holder["inode_space"] != fileset["inode_space"]:
        owner = next((r["name"] for r in rows if r["is_inode_space_owner"]
                      and r["inode_space"] == fileset["inode_space"]), "?")
        raise inv.fail(f"Dependent fileset {fileset['name']} can only be linked within its own "
                       f"inode space (that of fileset {owner}); {shown} is in fileset "
                       f"{holder['name']}.", 1)
    return LinkPlan(rel, layout.junction_path(fs_row, rel), target, container)


def check_parked(inv: Invocation, fs_row: sqlite3.Row, fileset: sqlite3.Row) -> Path:
    """The parked root directory of an unlinked fileset, which must be there to be linked."""
    source = layout.parked_fileset(inv.root, fs_row["name"], fileset["id"])
    if not source.is_dir():
        raise inv.fail(f"The root directory of fileset {fileset['name']} is missing "
                       f"({source}).", 1)
    return source


def record_link(inv: Invocation, fs_row: sqlite3.Row, rows: list[sqlite3.Row],
                fileset_id: int, plan: LinkPlan) -> None:
    """The database side of a link (the fileset directory is already at its junction)."""
    inner = usage.descendants(rows, fileset_id)
    inv.db.execute("UPDATE filesets SET status = 'Linked', junction = ?, parent_id = ? "
                   "WHERE fs = ? AND id = ?",
                   (plan.junction, plan.parent_id, fs_row["name"], fileset_id))
    for child in inner:
        inv.db.execute("UPDATE filesets SET junction = ? WHERE fs = ? AND id = ?",
                       (f"{plan.junction}/{child['junction']}", fs_row["name"], child["id"]))


# mmlsfileset ---------------------------------------------------------------------------

@command("mmlsfileset",
         "mmlsfileset Device [[Fileset[,Fileset...]] [-J Junction[,Junction...]] | -F FileName]\n"
         "            [-d [--block-size {BlockSize | auto}]] [-i] [-L] [-X] [-Y]\n"
         "            [--afm] [--deleted] [--iam-mode]",
         flags=("-d", "-i", "-L", "-X", "-Y", "--afm", "--deleted", "--iam-mode"),
         valued=("-J", "-F", "--block-size"), min_operands=1, max_operands=2)
def mmlsfileset(inv: Invocation, args: Parsed) -> None:
    fs_row = inv.filesystem(args.operands[0])
    fs = fs_row["name"]
    rows = all_filesets(inv.db, fs)
    chosen, missing = _select(inv, fs_row, rows, args)
    if args.has("--deleted"):
        chosen = [r for r in chosen if r["status"] == "Deleted"]
    if args.has("--afm"):
        chosen = [r for r in chosen if json.loads(r["afm"] or "{}")]
    inodes = usage.count_inodes(inv.root, inv.db, fs_row) if args.has("-i") else None
    if inodes is not None:
        from gpfskit.emulator import events  # only -i measures what can fire an event

        events.fileset_limits(inv, fs_row, inodes)
    data = usage.measure(inv.root, inv.db, fs_row).filesets if args.has("-d") else None
    places = usage.fileset_places(inv.root, fs_row, rows)
    latest = _latest_snapshots(inv.db, fs, rows)
    if chosen or not missing:
        if args.has("-Y"):
            inv.out.write(ytable("mmlsfileset", "", Y_COLUMNS, [
                _y_row(fs_row, r, places.get(r["id"]), inodes, data, latest.get(r["id"]))
                for r in chosen], raw=("path",)))
        else:
            _human(inv, fs_row, chosen, places, inodes, data, latest,
                   long=args.has("-L") or args.has("-X"))
    if missing:
        raise CommandError("\n".join(missing), 22)


def _select(inv: Invocation, fs_row: sqlite3.Row, rows: list[sqlite3.Row], args: Parsed
            ) -> tuple[list[sqlite3.Row], list[str]]:
    wanted: list[str] = []
    if len(args.operands) > 1:
        wanted += [n for n in args.operands[1].split(",") if n]
    if args.get("-F"):
        try:
            text = Path(args.get("-F")).read_text()
        except OSError as exc:
            raise inv.fail(f"Cannot read file {args.get('-F')}: {exc.strerror}", 2) from None
        wanted += [line.strip() for line in text.splitlines() if line.strip()]
    junctions = [j for j in (args.get("-J") or "").split(",") if j]
    if not wanted and not junctions:
        return list(rows), []
    chosen: list[sqlite3.Row] = []
    missing: list[str] = []
    by_name = {r["name"]: r for r in rows}
    for name in wanted:
        row = by_name.get(name) or by_name.get(f"({name})")
        if row is None:
            missing.append(f"{inv.name}: Fileset named {name} does not exist.")
        elif row not in chosen:
            chosen.append(row)
    places = usage.fileset_places(inv.root, fs_row, rows)
    by_path = {os.path.normpath(p.visible): fid for fid, p in places.items() if p.visible}
    by_id = {r["id"]: r for r in rows}
    for junction in junctions:
        fid = by_path.get(os.path.normpath(os.path.abspath(junction)))
        if fid is None:
            missing.append(f"{inv.name}: {junction} is not a fileset junction.")
        elif by_id[fid] not in chosen:
            chosen.append(by_id[fid])
    return chosen, missing


def _latest_snapshots(db: sqlite3.Connection, fs: str, rows: list[sqlite3.Row]
                      ) -> dict[int, sqlite3.Row]:
    latest = {}
    for row in rows:
        if row["status"] == "Deleted":
            snaps = capturing_snapshots(db, fs, row, rows)
            if snaps:
                latest[row["id"]] = snaps[-1]
    return latest


def _path_text(place: usage.Place | None) -> str:
    return place.visible if place is not None and place.visible else "--"


def _y_row(fs_row: sqlite3.Row, row: sqlite3.Row, place: usage.Place | None,
           inodes: dict[int, int] | None, data: dict[int, usage.Counts] | None,
           snap: sqlite3.Row | None) -> list[object]:
    values: list[object] = ["-"] * len(Y_COLUMNS)
    visible = place.visible if place is not None else None
    used = inodes.get(row["id"], 0) if inodes is not None else None
    owner = bool(row["is_inode_space_owner"])
    fields = {
        "filesystemName": fs_row["name"], "filesetName": row["name"], "id": row["id"],
        "rootInode": row["root_inode"], "status": row["status"],
        "path": encode(visible) if visible else "%2D%2D",
        "parentId": ("--" if row["parent_id"] is None or row["id"] == 0
                     or row["status"] == "Deleted" else row["parent_id"]),
        "created": ctime(row["created"]),
        "inodes": used if used is not None else "-",
        "dataInKB": (data.get(row["id"], usage.Counts(0, 0)).kb if data is not None else "-"),
        "comment": row["comment"], "filesetMode": "off",
        "inodeSpace": row["inode_space"], "isInodeSpaceOwner": int(owner),
        "maxInodes": row["max_inodes"] if owner else 0,
        "allocInodes": row["alloc_inodes"] if owner else 0,
        "inodeSpaceMask": inode_space_mask(fs_row),
        "snapId": snap["snap_id"] if snap is not None else 0,
        "permChangeFlag": row["perm_change"],
        "freeInodes": (0 if not owner else max(row["alloc_inodes"] - used, 0)
                       if used is not None else "-"),
        "preventSnapshotRestore": "no", "permInheritFlag": row["perm_inherit"],
        "falStatus": "default",
    }
    fields.update(json.loads(row["afm"] or "{}"))
    for name, value in fields.items():
        values[_COL[name]] = value
    return values


def _human(inv: Invocation, fs_row: sqlite3.Row, rows: list[sqlite3.Row],
           places: dict[int, usage.Place], inodes: dict[int, int] | None,
           data: dict[int, usage.Counts] | None, latest: dict[int, sqlite3.Row], *, long: bool
           ) -> None:
    if inodes is not None or data is not None:
        inv.say("Collecting fileset usage information ...")
    inv.say(f"Filesets in file system '{fs_row['name']}':")
    if long:
        header = _L_HEADER
        header += "     UsedInodes" if inodes is not None else ""
        header += "   Data (in KB)" if data is not None else ""
        inv.say(header + " Comment")
    else:
        header = f"{'Name':<24} {'Status':<9} Path"
        header += "  Inodes" if inodes is not None else ""
        header += "  Data (in KB)" if data is not None else ""
        inv.say(header)
    for row in rows:
        extra = ""
        if long:
            if inodes is not None:
                extra += f"{inodes.get(row['id'], 0):>15}"
            if data is not None:
                extra += f"{data.get(row['id'], usage.Counts(0, 0)).kb:>15}"
            owner = bool(row["is_inode_space_owner"])
            snap = latest.get(row["id"])
            root_inode = snap["name"] if snap is not None else row["root_inode"]
            parent = (snap["snap_id"] if snap is not None
                      else "--" if row["parent_id"] is None or row["id"] == 0
                      else row["parent_id"])
            line = (f"{row['name']:<30} {row['id']:>3}{root_inode:>15}{parent!s:>10} "
                    f"{ctime(row['created']):<24}{row['inode_space']:>9}"
                    f"{row['max_inodes'] if owner else 0:>21}"
                    f"{row['alloc_inodes'] if owner else 0:>15}{extra} {row['comment']}")
        else:
            if inodes is not None:
                extra += f"  {inodes.get(row['id'], 0)}"
            if data is not None:
                extra += f"  {data.get(row['id'], usage.Counts(0, 0)).kb}"
            line = (f"{row['name']:<24} {row['status']:<9} "
                    f"{_path_text(places.get(row['id']))}{extra}")
        inv.say(line.rstrip())


# mmcrfileset ---------------------------------------------------------------------------

@command("mmcrfileset",
         "mmcrfileset Device FilesetName [-p afmAttribute=Value...] [-t Comment]\n"
         "   [--inode-space {new [--inode-limit MaxNumInodes[:NumInodesToPreallocate]] | "
         "ExistingFileset}]\n"
         "   [--allow-permission-change PermissionChangeMode]\n"
         "   [--allow-permission-inherit PermissionInheritMode]\n"
         "   [-J JunctionPath]",
         valued=("-p", "-t", "--inode-space", "--inode-limit", "--allow-permission-change",
                 "--allow-permission-inherit", "-J"),
         min_operands=2, max_operands=2, changing=True)
def mmcrfileset(inv: Invocation, args: Parsed) -> None:
    apply_create(inv, plan_create(inv, args))


class CreatePlan:
    """The fileset ``mmcrfileset`` makes."""

    __slots__ = ("fs_row", "link", "parked", "row")

    def __init__(self, fs_row: sqlite3.Row, row: dict[str, object], parked: Path,
                 link: LinkPlan | None) -> None:
        self.fs_row = fs_row
        self.row = row                # the new filesets row
        self.parked = parked          # its root directory, made empty and unlinked
        self.link = link              # -J: where it is linked at once


def plan_create(inv: Invocation, args: Parsed) -> CreatePlan:
    """Check an ``mmcrfileset`` and choose the new fileset's id, inode space and root inode
    (nothing changes here)."""
    fs_row = inv.filesystem(args.operands[0])
    fs = fs_row["name"]
    name = args.operands[1]
    problem = names.fileset_name_problem(name)
    if problem:
        raise inv.fail(names.fileset_message(name, problem), 22)
    rows = all_filesets(inv.db, fs)
    if any(r["name"] == name for r in rows):
        raise inv.fail(f"Fileset {name} already exists.", 17)
    comment = args.get("-t", "")
    problem = names.comment_problem(comment)
    if problem:
        raise inv.fail(f"Incorrect comment: {problem}.", 22)
    afm = _afm_attributes(inv, args.all("-p"))
    space_arg = args.get("--inode-space")
    if space_arg is None and afm:
        space_arg = "new"
    if args.get("--inode-limit") is not None and space_arg != "new":
        raise inv.fail("The --inode-limit option can be used only with --inode-space new.", 1)
    perm_change = _perm_value(inv, "--allow-permission-change",
                              args.get("--allow-permission-change", "chmodAndSetAcl"),
                              PERM_CHANGE)
    perm_inherit = _perm_value(inv, "--allow-permission-inherit",
                               args.get("--allow-permission-inherit", "inheritAclOnly"),
                               PERM_INHERIT)
    if space_arg == "new":
        owner = True
        space, root_inode = _new_inode_space(fs_row, rows)
        max_inodes, alloc = DEFAULT_MAX_INODES, None
        if args.get("--inode-limit") is not None:
            max_inodes, alloc = _inode_limit(inv, args.get("--inode-limit"))
        alloc_inodes = alloc if alloc is not None else min(max_inodes, DEFAULT_ALLOC_INODES)
    else:
        owner = False
        if afm:
            raise inv.fail("AFM filesets must be independent filesets (--inode-space new).", 1)
        space_owner = (find_fileset(inv, fs, space_arg) if space_arg is not None
                       else next(r for r in rows if r["id"] == 0))
        if not space_owner["is_inode_space_owner"]:
            raise inv.fail(f"Fileset {space_arg} is not an independent fileset; a dependent "
                           "fileset needs the inode space of an independent fileset.", 1)
        space = space_owner["inode_space"]
        root_inode = _dependent_root_inode(fs_row, rows, space)
        max_inodes = alloc_inodes = 0
    ids = {r["id"] for r in rows}
    fid = next(i for i in range(1, len(ids) + 2) if i not in ids)
    new_row = {"fs": fs, "id": fid, "name": name, "root_inode": root_inode,
               "status": "Unlinked", "junction": None, "parent_id": None, "created": time.time(),
               "comment": comment, "inode_space": space, "is_inode_space_owner": int(owner),
               "max_inodes": max_inodes, "alloc_inodes": alloc_inodes,
               "perm_change": perm_change, "perm_inherit": perm_inherit,
               "afm": json.dumps(afm)}
    link = None
    if args.get("-J") is not None:
        link = plan_link(inv, fs_row, rows, new_row, args.get("-J"))
    parked = layout.parked_fileset(inv.root, fs, fid)
    if os.path.lexists(parked):
        raise inv.fail(f"The directory for fileset id {fid} already exists: {parked}", 1)
    return CreatePlan(fs_row, new_row, parked, link)


def _new_inode_space(fs_row: sqlite3.Row, rows: list[sqlite3.Row]) -> tuple[int, int]:
    """The lowest free inode space number and its root inode."""
    spaces = {r["inode_space"] for r in rows}
    space = next(s for s in range(1, len(spaces) + 2) if s not in spaces)
    return space, (space << space_shift(fs_row)) + 3


def _dependent_root_inode(fs_row: sqlite3.Row, rows: list[sqlite3.Row], space: int) -> int:
    base = space << space_shift(fs_row)
    used = {r["root_inode"] for r in rows}
    return next(base + 3 + 4096 * m for m in range(1, len(rows) + 2)
                if base + 3 + 4096 * m not in used)


def apply_create(inv: Invocation, plan: CreatePlan) -> None:
    """Make the fileset's root directory (and link it), then record it."""
    from gpfskit.emulator.steps import MakeDir, Rename

    steps = [MakeDir(str(plan.parked), 0o700)]
    if plan.link is not None:
        steps.append(Rename(str(plan.parked), str(plan.link.target)))
    inv.journal.act(*steps)
    row = plan.row
    inv.db.execute(f"INSERT INTO filesets ({', '.join(row)}) "
                   f"VALUES ({', '.join('?' * len(row))})", tuple(row.values()))
    inv.say(f"Fileset {row['name']} created with id {row['id']} root inode "
            f"{row['root_inode']}.")
    if plan.link is not None:
        record_link(inv, plan.fs_row, [], int(row["id"]), plan.link)
        inv.say(f"Fileset {row['name']} linked at {plan.link.visible}")


# mmlinkfileset / mmunlinkfileset -------------------------------------------------------

@command("mmlinkfileset", "mmlinkfileset Device FilesetName [-J JunctionPath]",
         valued=("-J",), min_operands=2, max_operands=2, changing=True)
def mmlinkfileset(inv: Invocation, args: Parsed) -> None:
    fs_row = inv.filesystem(args.operands[0])
    fs = fs_row["name"]
    fileset = find_fileset(inv, fs, args.operands[1])
    rows = all_filesets(inv.db, fs)
    if fileset["status"] == "Linked":
        place = usage.fileset_places(inv.root, fs_row, rows).get(fileset["id"])
        where = f" at {place.visible}" if place is not None and place.visible else ""
        raise inv.fail(f"Fileset {fileset['name']} is already linked{where}.", 1)
    plan = plan_link(inv, fs_row, rows, fileset, args.get("-J"))
    source = check_parked(inv, fs_row, fileset)
    from gpfskit.emulator.steps import Rename

    inv.journal.act(Rename(str(source), str(plan.target)))
    record_link(inv, fs_row, rows, fileset["id"], plan)
    inv.say(f"Fileset {fileset['name']} linked at {plan.visible}")


@command("mmunlinkfileset", "mmunlinkfileset Device {FilesetName | -J JunctionPath} [-f]",
         flags=("-f",), valued=("-J",), min_operands=1, max_operands=2, changing=True)
def mmunlinkfileset(inv: Invocation, args: Parsed) -> None:
    fs_row = inv.filesystem(args.operands[0])
    fs = fs_row["name"]
    rows = all_filesets(inv.db, fs)
    fileset = _named_or_junction(inv, fs_row, rows, args)
    if fileset["id"] == 0:
        raise inv.fail("The root fileset cannot be unlinked.", 1)
    if fileset["status"] != "Linked":
        raise inv.fail(f"Fileset {fileset['name']} is already unlinked.", 1)
    place = usage.fileset_places(inv.root, fs_row, rows)[fileset["id"]]
    target = layout.parked_fileset(inv.root, fs, fileset["id"])
    if not place.path.is_dir():
        raise inv.fail(f"The junction of fileset {fileset['name']} is missing ({place.path}).", 1)
    if target.exists() and any(target.iterdir()):
        raise inv.fail(f"The parking directory {target} is in use.", 1)
    inner = usage.descendants(rows, fileset["id"])
    prefix = fileset["junction"] + "/"
    from gpfskit.emulator.steps import Rename

    inv.journal.act(Rename(str(place.path), str(target)))
    inv.db.execute("UPDATE filesets SET status = 'Unlinked', junction = NULL, "
                   "parent_id = NULL WHERE fs = ? AND id = ?", (fs, fileset["id"]))
    for child in inner:
        inv.db.execute("UPDATE filesets SET junction = ? WHERE fs = ? AND id = ?",
                       (child["junction"].removeprefix(prefix), fs, child["id"]))
    inv.say(f"Fileset {fileset['name']} unlinked.")


def _named_or_junction(inv: Invocation, fs_row: sqlite3.Row, rows: list[sqlite3.Row],
                       args: Parsed) -> sqlite3.Row:
    junction = args.get("-J")
    if (junction is None) == (len(args.operands) < 2):
        raise UsageError("Specify either a fileset name or -J JunctionPath.")
    if junction is not None:
        return find_by_junction(inv, fs_row, rows, junction)
    return find_fileset(inv, fs_row["name"], args.operands[1])


# mmdelfileset --------------------------------------------------------------------------

@command("mmdelfileset",
         "mmdelfileset Device FilesetName [-f] [--pit-continues-on-error] [--qos QosClass]",
         flags=("-f", "--pit-continues-on-error"), valued=("--qos",), min_operands=2,
         max_operands=2, changing=True)
def mmdelfileset(inv: Invocation, args: Parsed) -> None:
    fs_row = inv.filesystem(args.operands[0])
    fs = fs_row["name"]
    fileset = find_fileset(inv, fs, args.operands[1])
    name = fileset["name"]
    if fileset["id"] == 0:
        raise inv.fail("The root fileset cannot be deleted.", 1)
    rows = all_filesets(inv.db, fs)
    inv.say("Checking fileset ...")
    if fileset["status"] == "Linked":
        raise inv.fail(f"Fileset {name} is linked; unlink it before deleting it.", 1)
    if fileset["is_inode_space_owner"]:
        dependents = [r["name"] for r in rows if r["inode_space"] == fileset["inode_space"]
                      and r["id"] != fileset["id"] and r["status"] != "Deleted"]
        if dependents:
            raise inv.fail(f"Fileset {name} has dependent filesets ({', '.join(dependents)}); "
                           "delete them first.", 1)
        snaps = [r["name"] for r in inv.db.execute(
            "SELECT name FROM snapshots WHERE fs = ? AND fileset = ? ORDER BY snap_id",
            (fs, name))]
        if snaps:
            raise inv.fail(f"Fileset {name} has fileset snapshots ({', '.join(snaps)}); "
                           "delete them first.", 1)
    inner = [r["name"] for r in usage.descendants(rows, fileset["id"])]
    if inner:
        raise inv.fail(f"Fileset {name} contains linked filesets ({', '.join(inner)}); "
                       "unlink them first.", 1)
    parked = layout.parked_fileset(inv.root, fs, fileset["id"])
    if not args.has("-f") and _holds_files(parked):
        raise inv.fail(f"Fileset {name} contains user files, but -f was not specified.", 1)
    inv.say("Checking fileset complete.")
    captured = capturing_snapshots(inv.db, fs, fileset, rows)
    inv.say("Deleting fileset ...")
    if parked.exists():
        from gpfskit.emulator.steps import Discard, deleting

        inv.journal.act(Discard(str(parked), str(deleting(parked))))
    if captured:
        taken = {r["name"] for r in rows}
        shown = f"({name})"
        if shown in taken:
            shown = f"({name}#{fileset['id']})"
        inv.db.execute("UPDATE filesets SET status = 'Deleted', name = ?, junction = NULL, "
                       "parent_id = ? WHERE fs = ? AND id = ?",
                       (shown, captured[-1]["snap_id"], fs, fileset["id"]))
    else:
        inv.db.execute("DELETE FROM filesets WHERE fs = ? AND id = ?", (fs, fileset["id"]))
    inv.db.execute("DELETE FROM quotas WHERE fs = ? AND ((type = 'FILESET' AND id = ?) "
                   "OR fileset = ?)", (fs, fileset["id"], name))
    inv.say(f"Fileset {name} deleted.")


def _holds_files(directory: Path) -> bool:
    """True when the fileset's root directory holds anything but an empty ``.snapshots``."""
    try:
        with os.scandir(directory) as entries:
            names = [e.name for e in entries]
    except FileNotFoundError:
        return False
    if any(name != layout.SNAPDIR for name in names):
        return True
    if names:
        try:
            with os.scandir(directory / layout.SNAPDIR) as entries:
                return any(True for _ in entries)
        except OSError:
            return True
    return False


# mmchfileset ---------------------------------------------------------------------------

@command("mmchfileset",
         "mmchfileset Device {FilesetName | -J JunctionPath}\n"
         "   [-j NewFilesetName] [-t NewComment] [-p afmAttribute=Value...]\n"
         "   [--allow-permission-change PermissionChangeMode]\n"
         "   [--allow-permission-inherit PermissionInheritMode]\n"
         "   [--inode-limit MaxNumInodes[:NumInodesToPreallocate]]\n"
         "   [--iam-mode Mode] [--afmFastRemove {yes|no}]",
         valued=("-J", "-j", "-t", "-p", "--allow-permission-change",
                 "--allow-permission-inherit", "--inode-limit", "--iam-mode",
                 "--afmFastRemove"),
         min_operands=1, max_operands=2, changing=True)
def mmchfileset(inv: Invocation, args: Parsed) -> None:
    fs_row = inv.filesystem(args.operands[0])
    fs = fs_row["name"]
    rows = all_filesets(inv.db, fs)
    fileset = _named_or_junction(inv, fs_row, rows, args)
    name = fileset["name"]
    is_root = fileset["id"] == 0
    if not any(args.has(o) for o in ("-j", "-t", "-p", "--allow-permission-change",
                                     "--allow-permission-inherit", "--inode-limit",
                                     "--iam-mode", "--afmFastRemove")):
        raise UsageError("No attributes to change were specified.")
    changes: dict[str, object] = {}
    new_name = args.get("-j")
    if new_name is not None and new_name != name:
        if is_root:
            raise inv.fail("The root fileset cannot be renamed.", 1)
        problem = names.fileset_name_problem(new_name)
        if problem:
            raise inv.fail(names.fileset_message(new_name, problem), 22)
        if any(r["name"] == new_name for r in rows):
            raise inv.fail(f"Fileset {new_name} already exists.", 17)
        changes["name"] = new_name
    if args.get("-t") is not None:
        if is_root:
            raise inv.fail("The comment of the root fileset cannot be changed.", 1)
        problem = names.comment_problem(args.get("-t"))
        if problem:
            raise inv.fail(f"Incorrect comment: {problem}.", 22)
        changes["comment"] = args.get("-t")
    if args.get("--inode-limit") is not None:
        if is_root:
            raise inv.fail("The inode limit of the root fileset is that of the file system; "
                           "use mmchfs --inode-limit.", 1)
        if not fileset["is_inode_space_owner"]:
            raise inv.fail(f"Fileset {name} is a dependent fileset; the inode limit can be "
                           "changed only for an independent fileset.", 1)
        limit, alloc = _inode_limit(inv, args.get("--inode-limit"))
        if limit < fileset["alloc_inodes"]:
            raise inv.fail(f"The new inode limit {limit} is less than the number of allocated "
                           f"inodes ({fileset['alloc_inodes']}) of fileset {name}.", 1)
        if alloc is not None and alloc < fileset["alloc_inodes"]:
            raise inv.fail(f"The number of preallocated inodes cannot be decreased "
                           f"(fileset {name} has {fileset['alloc_inodes']}).", 1)
        changes["max_inodes"] = limit
        if alloc is not None:
            changes["alloc_inodes"] = alloc
    if args.all("-p"):
        current = json.loads(fileset["afm"] or "{}")
        if not current:
            raise inv.fail(f"Fileset {name} is not an AFM fileset.", 1)
        current.update(_afm_attributes(inv, args.all("-p")))
        changes["afm"] = json.dumps(current)
    if args.get("--allow-permission-change") is not None:
        changes["perm_change"] = _perm_value(inv, "--allow-permission-change",
                                             args.get("--allow-permission-change"),
                                             PERM_CHANGE)
    if args.get("--allow-permission-inherit") is not None:
        changes["perm_inherit"] = _perm_value(inv, "--allow-permission-inherit",
                                              args.get("--allow-permission-inherit"),
                                              PERM_INHERIT)
    if changes:
        inv.db.execute(f"UPDATE filesets SET {', '.join(f'{k} = ?' for k in changes)} "
                       "WHERE fs = ? AND id = ?", (*changes.values(), fs, fileset["id"]))
    if "name" in changes:
        inv.db.execute("UPDATE snapshots SET fileset = ? WHERE fs = ? AND fileset = ?",
                       (new_name, fs, name))
        inv.db.execute("UPDATE quotas SET fileset = ? WHERE fs = ? AND fileset = ?",
                       (new_name, fs, name))
    inv.say(f"Fileset {name} changed.")
