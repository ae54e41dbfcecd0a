"""File placement: the storage pool a file's data lives in on the emulated cluster.

A file's pool is the one recorded on it (``fileattrs.recorded_pool``: set by ``mmchattr -P``
or by a ``mmapplypolicy`` migration), otherwise the one the installed placement rules choose
for it. Placement is evaluated the way a real file system evaluates it at file creation:

* The ``SET POOL`` rules of the installed policy (``mmchpolicy``) are tried in order and the
  first one that applies wins. ``FOR FILESET`` and ``WHERE`` decide whether a rule applies;
  other rule kinds (management rules stored with the policy) play no part.
* A rule is passed over when its pool cannot take data: an unknown pool, a pool without data
  disks, or (when the caller gives pool occupancy) a pool at or above the rule's ``LIMIT`` or
  full. Without occupancy, ``LIMIT`` is ignored.
* With no ``SET POOL`` rule the file system behaves as if ``SET POOL '<first non-system data
  pool>'`` were installed, or ``system`` when there is no such pool. When rules exist but none
  applies, a real file system refuses to create the file (EINVAL); files that exist anyway
  (made while another policy was installed, say) are taken to be in that same default pool.
* The rules see the file as it was when created: ``FILE_SIZE`` and ``KB_ALLOCATED`` are 0 and
  ``ACCESS_TIME``, ``MODIFICATION_TIME`` and ``CHANGE_TIME`` equal ``CREATION_TIME``. Name,
  path, fileset, owner, group, mode and extended attributes are the file's current ones. So a
  file does not change pools by growing or ageing.
* Directories are metadata: they are always in ``system``.
* Placement happens once, when the file is created: a file keeps the pool of the placement
  rules in force at its ``CREATION_TIME``, whatever is installed later (``mmchpolicy`` keeps
  every placement it replaces in ``placement_history``). Only a migration, ``mmchattr -P``
  or ``mmrestripefile`` move a file afterwards.

Two entry points: ``placement_pool`` answers for one path (reference evaluator, one record),
``placement_vectorized.pool_column`` for a whole scan batch (vectorised, fills
``POOL_NAME``; the only part that needs NumPy and pyarrow).
"""

from __future__ import annotations

import bisect
import functools
import os
import sqlite3
import stat as statmod
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gpfskit.emulator import fileattrs, layout, usage
from gpfskit.language import (
    XATTRS_KEY,
    EvalContext,
    PolicySyntaxError,
    Rule,
    RuleKind,
    matches,
    parse_policy,
    referenced_attributes,
)

SYSTEM = "system"

#: Attributes that placement sees with their creation-time value.
ZERO_AT_CREATION = ("FILE_SIZE", "KB_ALLOCATED")
TIMES_AT_CREATION = ("ACCESS_TIME", "MODIFICATION_TIME", "CHANGE_TIME")


@functools.lru_cache(maxsize=64)
def _placement_rules(text: str) -> tuple[Rule, ...]:
    """The SET POOL rules of a policy text (an unparsable text has none)."""
    try:
        policy = parse_policy(text)
    except PolicySyntaxError:
        return ()
    return tuple(r for r in policy.rules if r.kind is RuleKind.SET_POOL)


@dataclass(frozen=True)
class Placement:
    """The placement rules in force for one file system."""

    fs: str
    rules: tuple[Rule, ...]          # the SET POOL rules, in policy order
    default: str                     # the pool when no rule applies (see the module doc)
    data_pools: frozenset[str]       # pools with data disks

    @property
    def columns(self) -> frozenset[str]:
        """Scan columns the rules need (add them to a scan that fills POOL_NAME)."""
        names: set[str] = set()
        for rule in self.usable_rules():
            names |= referenced_attributes(rule)
        if names & set(TIMES_AT_CREATION):
            names.add("CREATION_TIME")
        names.discard(XATTRS_KEY)
        return frozenset(names)

    @property
    def needs_xattrs(self) -> bool:
        return any(XATTRS_KEY in referenced_attributes(r) for r in self.usable_rules())

    def usable_rules(self, occupancy: Mapping[str, float] | None = None) -> list[Rule]:
        """The rules whose pool can take data now (``occupancy``: percent full per pool)."""
        usable = []
        for rule in self.rules:
            pool = rule.pool or ""
            if pool not in self.data_pools:
                continue
            if occupancy is not None and pool in occupancy:
                full = occupancy[pool]
                if full >= 100 or (rule.limit is not None and full >= float(rule.limit)):
                    continue
            usable.append(rule)
        return usable

    @property
    def constant(self) -> str | None:
        """The pool every file gets, when that does not depend on the file (else None)."""
        rules = self.usable_rules()
        if not rules:
            return self.default
        first = rules[0]
        if first.for_fileset is None and first.where is None:
            return first.pool
        return None

    # One record -----------------------------------------------------------------------------
    def pool_for(self, record: Mapping[str, Any], ctx: EvalContext | None = None, *,
                 occupancy: Mapping[str, float] | None = None) -> str:
        """The pool placement chooses for one file (``record``: attributes by name)."""
        ctx = ctx or EvalContext()
        view = dict(record)
        for name in ZERO_AT_CREATION:
            if name in view:
                view[name] = 0
        for name in TIMES_AT_CREATION:
            if name in view:
                view[name] = view.get("CREATION_TIME")
        for rule in self.usable_rules(occupancy):
            if rule.for_fileset is not None and view.get("FILESET_NAME") not in rule.for_fileset:
                continue
            if matches(rule.where, view, ctx):
                return rule.pool or self.default
        return self.default


@dataclass(frozen=True)
class PlacementHistory:
    """The placements a file system has had: each file is placed by the one in force when it
    was created. Answers as :class:`Placement` does (``placement_vectorized.pool_column``
    for a batch)."""

    eras: tuple[tuple[float, Placement], ...]   # (in force since, placement), oldest first

    @property
    def current(self) -> Placement:
        return self.eras[-1][1]

    @property
    def sinces(self) -> list[float]:
        return [since for since, _ in self.eras]

    @property
    def columns(self) -> frozenset[str]:
        names = frozenset().union(*(p.columns for _, p in self.eras))
        return names | {"CREATION_TIME"} if len(self.eras) > 1 else names

    @property
    def needs_xattrs(self) -> bool:
        return any(p.needs_xattrs for _, p in self.eras)

    @property
    def constant(self) -> str | None:
        pools = {p.constant for _, p in self.eras}
        return pools.pop() if len(pools) == 1 else None

    def era(self, created: Any) -> Placement:
        """The placement in force at ``created`` (a file made in the tick of an install
        counts as made after it)."""
        if len(self.eras) == 1 or created is None:
            return self.current
        return self.eras[max(bisect.bisect_right(self.sinces, created) - 1, 0)][1]

    def pool_for(self, record: Mapping[str, Any], ctx: EvalContext | None = None, *,
                 occupancy: Mapping[str, float] | None = None) -> str:
        return self.era(record.get("CREATION_TIME")).pool_for(record, ctx,
                                                              occupancy=occupancy)


# Loading ------------------------------------------------------------------------------------

def default_pool(db: sqlite3.Connection, fs_name: str) -> str:
    """The first non-system pool holding data disks, else ``system``."""
    row = db.execute(
        "SELECT p.name FROM pools p WHERE p.fs = ? AND p.name != 'system' AND EXISTS "
        "(SELECT 1 FROM nsds n WHERE n.fs = p.fs AND n.pool = p.name AND n.data) "
        "ORDER BY p.id LIMIT 1", (fs_name,)).fetchone()
    return row["name"] if row else SYSTEM


# (id of the connection, fs) -> (version, the connection itself, placement); holding the
# connection keeps its id from being reused by another one while the entry exists.
_LOADED: dict[tuple[int, str], tuple[tuple[int, int], sqlite3.Connection, PlacementHistory]] \
    = {}


def load(db: sqlite3.Connection, fs_name: str, policy_text: str | None = None
         ) -> PlacementHistory:
    """The placements of ``fs_name``, each in force since it was installed
    (``policy_text``: this one instead, for every file).

    The installed placement is cached per connection until the database changes (this
    connection's changes or another's commit), so per-file callers pay one PRAGMA.
    """
    if policy_text is None:
        version = (db.total_changes, db.execute("PRAGMA data_version").fetchone()[0])
        cached = _LOADED.get((id(db), fs_name))
        if cached is not None and cached[0] == version and cached[1] is db:
            return cached[2]
        history = _load(db, fs_name, None)
        if len(_LOADED) > 64:
            _LOADED.clear()
        _LOADED[(id(db), fs_name)] = (version, db, history)
        return history
    return _load(db, fs_name, policy_text)


def _load(db: sqlite3.Connection, fs_name: str, policy_text: str | None
          ) -> PlacementHistory:
    if policy_text is not None:
        texts = [(0.0, policy_text)]
    else:
        texts = [(r["since"], r["text"]) for r in db.execute(
            "SELECT since, text FROM placement_history WHERE fs = ? ORDER BY since, rowid",
            (fs_name,))]
        if not texts:
            row = db.execute("SELECT text FROM policies WHERE fs = ?", (fs_name,)).fetchone()
            texts = [(0.0, row["text"] if row is not None else "")]
    data_pools = frozenset(r["pool"] for r in db.execute(
        "SELECT DISTINCT pool FROM nsds WHERE fs = ? AND data AND pool IS NOT NULL",
        (fs_name,)))
    default = default_pool(db, fs_name)
    return PlacementHistory(tuple(
        (since, Placement(fs_name, _placement_rules(text), default, data_pools))
        for since, text in texts))


def fileset_junctions(root: Path, db: sqlite3.Connection, fs_row: sqlite3.Row
                      ) -> dict[str, str]:
    """Junction (relative to the file system root; '' = root) -> fileset name, for the
    filesets reachable in the tree (linked, below linked filesets)."""
    rows = usage.live_filesets(db, fs_row["name"])
    places = usage.fileset_places(root, fs_row, rows)
    result: dict[str, str] = {}
    for row in rows:
        place = places.get(row["id"])
        if row["id"] == 0:
            result[""] = row["name"]
        elif place is not None and place.linked_in_tree and row["junction"] is not None:
            result[row["junction"]] = row["name"]
    return result


def fileset_at(junctions: Mapping[str, str], rel: str) -> str:
    """The fileset of a path relative to the file system root (the deepest junction above)."""
    best, name = -1, junctions.get("", "root")
    for junction, fileset in junctions.items():
        if junction and (rel == junction or rel.startswith(junction + "/")) \
                and len(junction) > best:
            best, name = len(junction), fileset
    return name


def _emulator_root(db: sqlite3.Connection) -> Path | None:
    for row in db.execute("PRAGMA database_list"):
        if row[1] == "main" and row[2]:
            return Path(row[2]).parent
    return None


def file_record(path: str, disk_path: str, fileset: str | None,
                names: frozenset[str]) -> dict[str, Any]:
    """The attributes ``names`` of one file from ``lstat`` (NULL where not derivable)."""
    record: dict[str, Any] = dict.fromkeys(names)
    record["PATH_NAME"] = path
    record["NAME"] = os.path.basename(path.rstrip("/")) or "/"
    record["FILESET_NAME"] = fileset
    try:
        st = os.lstat(disk_path)
    except OSError:
        return record
    record.update(
        INODE=st.st_ino, FILE_SIZE=st.st_size, KB_ALLOCATED=-(-st.st_blocks * 512 // 1024),
        USER_ID=st.st_uid, GROUP_ID=st.st_gid, NLINK=st.st_nlink,
        MODE=statmod.filemode(st.st_mode), DEVICE_ID=st.st_dev, RDEVICE_ID=st.st_rdev,
        BLOCKSIZE=st.st_blksize, ACCESS_TIME=st.st_atime, MODIFICATION_TIME=st.st_mtime,
        CHANGE_TIME=st.st_ctime)
    if "CREATION_TIME" in names or names & set(TIMES_AT_CREATION):
        record["CREATION_TIME"] = fileattrs.creation_time(disk_path)
    return {k: v for k, v in record.items() if k in names or k in ("PATH_NAME", "NAME")}


def placement_pool(db: sqlite3.Connection, fs_name: str,
                   path: str | os.PathLike[str] | None, *,
                   occupancy: Mapping[str, float] | None = None) -> str:
    """The pool placement chooses for the file users see at ``path`` in ``fs_name``.

    ``path`` None stands for a file nobody can name (in an unlinked fileset): only rules
    that need nothing of the file can apply to it.
    """
    placement = load(db, fs_name)
    if occupancy is None and placement.constant is not None:
        return placement.constant
    fs_row = db.execute("SELECT * FROM filesystems WHERE name = ?", (fs_name,)).fetchone()
    needed = placement.columns | {"PATH_NAME", "NAME"}
    ctx = EvalContext(current_timestamp=time.time())
    if path is None or fs_row is None:
        record = dict.fromkeys(needed)
        return placement.pool_for(record, ctx, occupancy=occupancy)
    shown = os.fspath(path)
    rel = layout.relative_to_fs(fs_row, shown)
    root = _emulator_root(db)
    if rel is None or root is None:
        disk, fileset = shown, None
    else:
        disk = str(layout.tree(root, fs_row) / rel) if rel else str(layout.tree(root, fs_row))
        fileset = fileset_at(fileset_junctions(root, db, fs_row), rel) \
            if "FILESET_NAME" in needed else None
    record = file_record(shown, disk, fileset, frozenset(needed))
    if os.path.isdir(disk) and not os.path.islink(disk):
        return SYSTEM
    if placement.needs_xattrs:
        ctx.xattr = lambda _record, name: _xattr(disk, name)
    return placement.pool_for(record, ctx, occupancy=occupancy)


def _xattr(path: str, name: str) -> bytes | None:
    try:
        return os.getxattr(path, name, follow_symlinks=False)
    except OSError:
        return None


def pool_of(db: sqlite3.Connection, fs_name: str, path: str | os.PathLike[str],
            visible_path: str | os.PathLike[str] | None = None) -> str:
    """A file's pool: recorded on it, else placed (``path`` on disk, ``visible_path`` as
    users see it)."""
    if os.path.isdir(path) and not os.path.islink(path):
        return SYSTEM
    return fileattrs.recorded_pool(path) or placement_pool(db, fs_name, visible_path or path)
