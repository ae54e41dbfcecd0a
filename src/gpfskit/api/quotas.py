"""Quotas: ``Quota`` and the ``Quotas`` collection with its ``user``, ``group`` and
``fileset`` views.

Figures come from ``mmrepquota``: ``mmrepquota -j <fs> -Y`` for the fileset quotas of a whole
file system (one command shared by the ``quotas`` of every fileset), ``-u`` / ``-g`` for user
and group quotas, and ``mmrepquota <fs> -Y`` (every type at once) when a collection of all
types is read; a one-type view reuses that listing when it is already loaded. Limits are set
with ``mmsetquota``. Block figures are KiB, as ``mmrepquota`` reports them.

Keys: a one-type view is keyed by the quota's owner name (user, group or fileset name); the
all-types collection by ``<type>:<owner>`` with type ``user``, ``group`` or ``fileset``
(``quotas['fileset:projects']``), since the same name can own quotas of several types.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gpfskit.api import checks, listings
from gpfskit.api.base import APIObject, NotFoundError, refused
from gpfskit.api.collection import Collection
from gpfskit.api.loader import Loader
from gpfskit.api.values import block_limit, files_limit, to_int
from gpfskit.commands import CommandResult

TYPES = {"user": "USR", "group": "GRP", "fileset": "FILESET"}
_KIND = {v: k for k, v in TYPES.items()}


@dataclass(frozen=True)
class LimitPlan:
    """Validated new limits: (mmsetquota text, number) pairs, None where unchanged."""

    block_soft: tuple[str, int] | None = None
    block_hard: tuple[str, int] | None = None
    files_soft: int | None = None
    files_hard: int | None = None


def plan_limits(blockSoftLimit: Any = None, blockHardLimit: Any = None,
                filesSoftLimit: Any = None, filesHardLimit: Any = None) -> LimitPlan:
    """Check new limits up front (ValueError when bad, or when none is given)."""
    plan = LimitPlan(
        block_limit(blockSoftLimit, "blockSoftLimit") if blockSoftLimit is not None else None,
        block_limit(blockHardLimit, "blockHardLimit") if blockHardLimit is not None else None,
        files_limit(filesSoftLimit, "filesSoftLimit") if filesSoftLimit is not None else None,
        files_limit(filesHardLimit, "filesHardLimit") if filesHardLimit is not None else None)
    if plan == LimitPlan():
        raise ValueError("no quota limit given (blockSoftLimit, blockHardLimit, "
                         "filesSoftLimit, filesHardLimit)")
    soft = plan.block_soft[1] if plan.block_soft else None
    hard = plan.block_hard[1] if plan.block_hard else None
    if soft and hard and soft > hard:
        raise ValueError(f"blockSoftLimit ({blockSoftLimit}) is above blockHardLimit "
                         f"({blockHardLimit})")
    if plan.files_soft and plan.files_hard and plan.files_soft > plan.files_hard:
        raise ValueError(f"filesSoftLimit ({filesSoftLimit}) is above filesHardLimit "
                         f"({filesHardLimit})")
    return plan


def _matches(row: dict[str, Any], quota_type: str, owner: str, scope: str | None) -> bool:
    if row.get("quotaType") != quota_type:
        return False
    if owner not in (row.get("name"), row.get("id")):
        return False
    if quota_type == "FILESET":
        return True
    return _scope_of(row) == scope


def _scope_of(row: dict[str, Any]) -> str | None:
    """The fileset a USR/GRP row is scoped to; None for file-system-wide rows (with
    per-fileset quotas on, the root fileset's rows are the file-system-wide ones)."""
    fileset = row.get("filesetname") or None
    return None if fileset == "root" else fileset


def _find(loader: Loader, fs: str, quota_type: str, owner: str, scope: str | None
          ) -> dict[str, Any] | None:
    for row in listings.quotas(loader, fs, quota_type):
        if _matches(row, quota_type, owner, scope):
            return row
    return None


def set_limits(obj: APIObject, fs: str, quota_type: str, owner: str, scope: str | None,
               plan: LimitPlan, *, new: bool = False) -> CommandResult:
    """``mmsetquota`` for one quota; a limit not given keeps its current value (0 when
    ``new``: the owner was just created and has no limits yet)."""
    loader = obj._loader
    current = None
    if not new and (None in (plan.block_soft, plan.block_hard) or
                    None in (plan.files_soft, plan.files_hard)):
        current = _find(loader, fs, quota_type, owner, scope)
    target = f"{fs}:{owner}" if quota_type == "FILESET" else (f"{fs}:{scope}" if scope else fs)
    argv = ["mmsetquota", target]
    if quota_type == "USR":
        argv += ["--user", owner]
    elif quota_type == "GRP":
        argv += ["--group", owner]

    def keep(column: str) -> tuple[str, int]:
        value = to_int((current or {}).get(column)) or 0
        return (f"{value}K" if value else "0", value)

    block = None
    if plan.block_soft or plan.block_hard:
        block = (plan.block_soft or keep("blockQuota"), plan.block_hard or keep("blockLimit"))
        argv += ["--block", f"{block[0][0]}:{block[1][0]}"]
    files = None
    if plan.files_soft is not None or plan.files_hard is not None:
        files = (plan.files_soft if plan.files_soft is not None
                 else to_int((current or {}).get("filesQuota")) or 0,
                 plan.files_hard if plan.files_hard is not None
                 else to_int((current or {}).get("filesLimit")) or 0)
        argv += ["--files", f"{files[0]}:{files[1]}"]
    for option, pair in (("--block", block and (block[0][1], block[1][1])),
                         ("--files", files)):
        if pair and pair[1] and pair[0] > pair[1]:
            unit = "K" if option == "--block" else ""
            raise refused(argv, f"The soft limit ({pair[0]}{unit}) is greater than the hard "
                          f"limit ({pair[1]}{unit}) for {option}.", 22)

    def edit(table: list[dict[str, Any]]) -> None:
        rows = [r for r in table if _matches(r, quota_type, owner, scope)]
        if not rows:
            rows = [_new_row(fs, quota_type, owner, scope)]
            table.append(rows[0])
        for row in rows:
            if block:
                row["blockQuota"], row["blockLimit"] = str(block[0][1]), str(block[1][1])
            if files:
                row["filesQuota"], row["filesLimit"] = str(files[0]), str(files[1])
            row["remarks"] = "e"

    keys = [listings.quotas_key(fs), listings.quotas_key(fs, quota_type)]
    return obj._change(argv, lambda: loader.patch(keys, edit))


def _new_row(fs: str, quota_type: str, owner: str, scope: str | None) -> dict[str, Any]:
    return {"filesystemName": fs, "quotaType": quota_type, "id": owner, "name": owner,
            "blockUsage": "0", "blockQuota": "0", "blockLimit": "0", "blockInDoubt": "0",
            "blockGrace": "none", "filesUsage": "0", "filesQuota": "0", "filesLimit": "0",
            "filesInDoubt": "0", "filesGrace": "none", "remarks": "e", "quota": "on",
            "defQuota": "off", "fid": None, "filesetname": scope}


class Quota(APIObject):
    """One quota entry, with the figures ``mmrepquota`` reports.

    Properties: ``quotaType`` (``USR``, ``GRP``, ``FILESET``; also ``type``), ``name`` (owner
    name), ``id`` (uid, gid or fileset id), ``filesystemName``, ``filesetName`` (the fileset
    a per-fileset user/group quota belongs to; the fileset itself for a fileset quota),
    ``blockUsage``, ``blockQuota``, ``blockLimit``, ``blockInDoubt``, ``blockGrace``,
    ``filesUsage``, ``filesQuota``, ``filesLimit``, ``filesInDoubt``, ``filesGrace``,
    ``remarks`` (``e`` explicit, ``i`` implicit; also ``entryType``), ``quota``,
    ``defQuota``; and ``blockSoftLimit``/``blockHardLimit``/``filesSoftLimit``/
    ``filesHardLimit`` (= the quota / limit figures), changeable with ``change()``.
    """

    def __init__(self, filesystemName: str, quotaType: str, name: str,
                 filesetName: str | None = None, _loader: Loader | None = None) -> None:
        super().__init__(_loader)
        self._fs = checks.device(filesystemName)
        kind = TYPES.get(str(quotaType).lower(), str(quotaType).upper())
        self._type = checks.choice(kind, "quotaType", ("USR", "GRP", "FILESET"))
        self._owner = checks.name(str(name), "quota owner")
        scope = checks.name(filesetName, "fileset") if filesetName else None
        self._scope = None if scope == "root" or self._type == "FILESET" else scope
        self._cached: tuple[int, dict[str, Any] | None] | None = None

    @classmethod
    def _attach(cls, loader: Loader, fs: str, quota_type: str, owner: str,
                scope: str | None, row: dict[str, Any] | None) -> Quota:
        obj = cls.__new__(cls)
        APIObject.__init__(obj, loader)
        obj._fs, obj._type, obj._owner, obj._scope = fs, quota_type, owner, scope
        obj._cached = (loader.version, row) if row is not None else None
        return obj

    def _identity(self) -> tuple[Any, ...]:
        return (self._fs, self._type, self._owner, self._scope)

    def __repr__(self) -> str:
        scope = f", filesetName={self._scope!r}" if self._scope else ""
        return f"Quota({self._fs!r}, {self._type!r}, {self._owner!r}{scope})"

    def _row(self) -> dict[str, Any]:
        version = self._loader.version  # before the read (see Collection._members)
        if self._cached is None or self._cached[0] != version:
            row = _find(self._loader, self._fs, self._type, self._owner, self._scope)
            self._cached = (version, row)
        row = self._cached[1]
        if row is None:
            raise NotFoundError(f"no {_KIND[self._type]} quota for {self._owner} in file "
                                f"system {self._fs}")
        return row

    @property
    def quotaType(self) -> str:
        return self._type

    type = quotaType

    @property
    def filesystemName(self) -> str:
        return self._fs

    @property
    def name(self) -> str:
        return self._row().get("name") or self._owner

    @property
    def id(self) -> int | None:
        return to_int(self._row().get("id"))

    @property
    def filesetName(self) -> str | None:
        return self._owner if self._type == "FILESET" else self._scope

    def _number(self, column: str) -> int | None:
        return to_int(self._row().get(column))

    @property
    def blockUsage(self) -> int | None:
        return self._number("blockUsage")

    @property
    def blockQuota(self) -> int | None:
        return self._number("blockQuota")

    @property
    def blockLimit(self) -> int | None:
        return self._number("blockLimit")

    @property
    def blockInDoubt(self) -> int | None:
        return self._number("blockInDoubt")

    @property
    def blockGrace(self) -> str | None:
        return self._row().get("blockGrace")

    @property
    def filesUsage(self) -> int | None:
        return self._number("filesUsage")

    @property
    def filesQuota(self) -> int | None:
        return self._number("filesQuota")

    @property
    def filesLimit(self) -> int | None:
        return self._number("filesLimit")

    @property
    def filesInDoubt(self) -> int | None:
        return self._number("filesInDoubt")

    @property
    def filesGrace(self) -> str | None:
        return self._row().get("filesGrace")

    @property
    def remarks(self) -> str | None:
        return self._row().get("remarks")

    entryType = remarks

    @property
    def quota(self) -> str | None:
        return self._row().get("quota")

    @property
    def defQuota(self) -> str | None:
        return self._row().get("defQuota")

    blockSoftLimit = blockQuota
    blockHardLimit = blockLimit
    filesSoftLimit = filesQuota
    filesHardLimit = filesLimit

    def change(self, blockSoftLimit: Any = None, blockHardLimit: Any = None,
               filesSoftLimit: Any = None, filesHardLimit: Any = None) -> CommandResult:
        """Set limits (``mmsetquota``); those not given stay. Integers are KiB for block
        limits; strings may carry a unit (``'10G'``)."""
        plan = plan_limits(blockSoftLimit, blockHardLimit, filesSoftLimit, filesHardLimit)
        return set_limits(self, self._fs, self._type, self._owner, self._scope, plan)

    def delete(self) -> CommandResult:
        """Remove the limits (all set to 0, which is how an entry is removed)."""
        plan = LimitPlan(("0", 0), ("0", 0), 0, 0)
        return set_limits(self, self._fs, self._type, self._owner, self._scope, plan)


class Quotas(Collection[Quota]):
    """Quotas of a file system (``filesetName=None``) or of one fileset.

    A file system's collection holds its fileset quotas and the user/group quotas that
    belong to no fileset; a fileset's holds its own fileset quota and the per-fileset
    user/group quotas. ``user``, ``group`` and ``fileset`` are views of one type each.
    """

    _noun = "quota"

    def __init__(self, deviceName: str, filesetName: str | None = None,
                 _loader: Loader | None = None, _type: str | None = None) -> None:
        super().__init__(_loader)
        self._fs = checks.device(deviceName)
        self._fileset = checks.name(filesetName, "fileset") if filesetName else None
        self._type = _type
        self._views: dict[str, Quotas] = {}

    @classmethod
    def _attach(cls, loader: Loader, fs: str, fileset: str | None,
                quota_type: str | None = None) -> Quotas:
        """The collection for names read from a listing (not checked again)."""
        obj = cls.__new__(cls)
        Collection.__init__(obj, loader)
        obj._fs, obj._fileset, obj._type, obj._views = fs, fileset, quota_type, {}
        return obj

    def _where(self) -> str:
        scope = f"fileset {self._fileset} of " if self._fileset else ""
        return f"in {scope}file system {self._fs}"

    def _view(self, kind: str) -> Quotas:
        if self._type is not None:
            raise AttributeError(f"a {_KIND[self._type]} quota view has no {kind} view")
        if kind not in self._views:
            self._views[kind] = Quotas._attach(self._loader, self._fs, self._fileset,
                                               TYPES[kind])
        return self._views[kind]

    @property
    def user(self) -> Quotas:
        return self._view("user")

    @property
    def group(self) -> Quotas:
        return self._view("group")

    @property
    def fileset(self) -> Quotas:
        return self._view("fileset")

    def _key(self, key: Any) -> Any:
        if isinstance(key, Quota):
            return key._owner if self._type else f"{_KIND[key._type]}:{key._owner}"
        return key

    def _in_scope(self, row: dict[str, Any]) -> bool:
        if row.get("quotaType") == "FILESET":
            return self._fileset is None or row.get("name") == self._fileset
        fileset = row.get("filesetname") or None
        return fileset == self._fileset or (fileset == "root" and self._fileset is None)

    def _build(self) -> dict[str, Quota]:
        members: dict[str, Quota] = {}
        if self._fileset is None:
            rows = listings.quotas(self._loader, self._fs, self._type)
        else:
            rows = listings.quota_rows_of_fileset(self._loader, self._fs, self._type,
                                                  self._fileset)
        for row in rows:
            if not self._in_scope(row):
                continue
            owner = row.get("name") or row.get("id") or ""
            quota_type = row["quotaType"]
            key = owner if self._type else f"{_KIND.get(quota_type, quota_type)}:{owner}"
            scope = None if quota_type == "FILESET" else _scope_of(row)
            members[key] = Quota._attach(self._loader, self._fs, quota_type, owner, scope, row)
        return members

    def new(self, name: str | None = None, blockSoftLimit: Any = None,
            blockHardLimit: Any = None, filesSoftLimit: Any = None,
            filesHardLimit: Any = None) -> Quota:
        """Set limits for one owner of this view's type and return its Quota.

        On a fileset's ``quotas.fileset`` the owner is the fileset itself; elsewhere ``name``
        is the user, group or fileset. Integers are KiB for block limits.
        """
        if self._type is None:
            raise TypeError("choose a quota type first: quotas.user.new(...), "
                            "quotas.group.new(...) or quotas.fileset.new(...)")
        if self._type == "FILESET":
            if name is None:
                name = self._fileset
            elif self._fileset and name != self._fileset:
                raise ValueError(f"the fileset quotas of {self._fileset} cannot hold a quota "
                                 f"for fileset {name}")
        if name is None:
            raise TypeError(f"a {_KIND[self._type]} name is needed")
        owner = checks.name(str(name), _KIND[self._type])
        plan = plan_limits(blockSoftLimit, blockHardLimit, filesSoftLimit, filesHardLimit)
        scope = None if self._type == "FILESET" or self._fileset == "root" else self._fileset
        set_limits(self, self._fs, self._type, owner, scope, plan)
        return Quota._attach(self._loader, self._fs, self._type, owner, scope, None)

    def destroy(self, quota: str | Quota) -> CommandResult:
        """Remove a quota's limits (``mmsetquota`` with all limits 0)."""
        if not isinstance(quota, Quota):
            quota = self[quota]
        return quota.delete()
