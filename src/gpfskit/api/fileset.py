"""Filesets: ``DependentFileset``, ``IndependentFileset`` and ``CacheFileset``.

What a fileset is comes from ``mmlsfileset <fs> -Y``, run once for all filesets of the file
system. A fileset built directly (``IndependentFileset('mmfs1', 'x', maxInodes=...)``) that
does not exist yet reports the values it was built with, and ``create()`` makes it. Every
``mmlsfileset`` column can be read as a property by its own name (``afmTarget``,
``permChangeFlag``, ...).
"""

from __future__ import annotations

import os
from datetime import datetime
from typing import Any, Self, TypeAlias

from gpfskit.api import checks, listings
from gpfskit.api.base import APIObject, NotFoundError, Steps, refused
from gpfskit.api.callbacks import callbackable
from gpfskit.api.loader import Loader
from gpfskit.api.quotas import LimitPlan, Quotas, plan_limits, set_limits
from gpfskit.api.snapshots import DependentSnapshots, Snapshots, snapshot_scope
from gpfskit.api.values import ctime, to_bool, to_datetime, to_int
from gpfskit.commands import CommandResult

RESERVED_NAMES = ("root", "new")
#: What names the inode space of a dependent fileset: a fileset (or its name) or a number.
InodeSpace: TypeAlias = "str | int | Fileset"
_QUOTA_KEYWORDS = ("blockSoftLimit", "blockHardLimit", "filesSoftLimit", "filesHardLimit")


def fileset_name(value: Any) -> str:
    """A valid fileset name (``root`` is one; ``new`` can never be)."""
    return checks.name(value, "fileset", reserved=("new",))


def check_junction_is_free(listing: dict[str, dict[str, Any]], argv: list[str],
                           junction: str) -> None:
    """Refuse a junction the cluster would refuse for ``argv``, as the fileset listing (dry
    run's changes included) and the disk show it: in use, or in a missing directory."""
    linked = {row.get("path") for row in listing.values() if row.get("status") == "Linked"}
    # A fileset this dry run unlinked keeps its former junction in the listing: the directory
    # is still on disk, but would be gone.
    vacated = {row.get("path") for row in listing.values() if row.get("status") == "Unlinked"}
    if junction in linked:
        raise refused(argv, f"Junction path {junction} already exists.", 17)
    mount = (listing.get("root") or {}).get("path")   # the root fileset's junction
    if not mount or not os.path.isdir(mount):
        return  # not mounted on this node: the cluster checks the disk itself
    if os.path.lexists(junction) and junction not in vacated:
        raise refused(argv, f"Junction path {junction} already exists.", 17)
    parent = os.path.dirname(junction)
    if not os.path.isdir(parent) and parent not in linked:
        raise refused(argv, f"Directory {parent} does not exist.", 2)


@callbackable("fileset")
class Fileset(APIObject):
    """What every fileset has.

    Properties: ``id``, ``name``*, ``comment``*, ``path``* (the junction; None while
    unlinked; changing it relinks), ``status`` (``Linked``, ``Unlinked``, ``Deleted``),
    ``created`` (datetime), ``inodeSpace``, ``maxInodes``*, ``allocInodes``,
    ``filesystemName``, ``rootInode``, ``parentId``, ``isInodeSpaceOwner``, ``freeInodes``,
    ``quotas``.
    """

    _independent = False
    #: What the fileset is built with, reported (and created) while it does not exist yet.
    #: A fileset read from a listing reads its row instead and keeps these class defaults.
    _comment = ""

    def __init__(self, filesystemName: str, name: str, comment: Any = "",
                 _loader: Loader | None = None) -> None:
        self._start(_loader, checks.device(filesystemName), fileset_name(name))
        self._comment = checks.comment(comment)

    @classmethod
    def _attach(cls, loader: Loader, fs: str, name: str) -> Self:
        """The fileset of a listing row (its names are not checked again)."""
        obj = cls.__new__(cls)
        obj._start(loader, fs, name)
        return obj

    def _start(self, loader: Loader | None, fs: str, name: str) -> None:
        """The state every fileset has, however it was built."""
        APIObject.__init__(self, loader)
        self._fs, self._name = fs, name
        self._quotas: Quotas | None = None
        self._snapshots: Snapshots | None = None

    def _identity(self) -> tuple[Any, ...]:
        return (self._fs, self._name)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._fs!r}, {self._name!r})"

    def __str__(self) -> str:
        return self._name

    # -- rows --------------------------------------------------------------------------------
    def _listing(self) -> dict[str, dict[str, Any]]:
        return listings.filesets(self._loader, self._fs)

    def _row_or_none(self) -> dict[str, Any] | None:
        return self._listing().get(self._name)

    def _row(self) -> dict[str, Any]:
        row = self._row_or_none()
        if row is None:
            raise NotFoundError(f"Fileset named {self._name} does not exist in file system "
                                f"{self._fs}.")
        return row

    def exists(self) -> bool:
        """True when the fileset exists on the cluster (or was created in this dry run)."""
        return self._row_or_none() is not None

    def _patch_listing(self, fn: Any) -> None:
        """Show a recorded change: ``fn(listing)`` edits the fileset listing."""
        self._loader.patch([listings.filesets_key(self._fs)], fn)

    def _patch_row(self, **changes: Any) -> None:
        """Show a recorded change of this fileset's row."""
        name = self._name

        def edit(listing: dict[str, dict[str, Any]]) -> None:
            if name in listing:
                listing[name].update(changes)

        self._patch_listing(edit)

    def _get(self, column: str) -> Any:
        row = self._row_or_none()
        return None if row is None else row.get(column)

    # -- properties --------------------------------------------------------------------------
    @property
    def name(self) -> str:
        return self._name

    @property
    def filesystemName(self) -> str:
        return self._fs

    @property
    def id(self) -> int | None:
        return to_int(self._get("id"))

    @property
    def comment(self) -> str:
        row = self._row_or_none()
        return self._comment if row is None else (row.get("comment") or "")

    @property
    def status(self) -> str | None:
        return self._get("status")

    @property
    def path(self) -> str | None:
        row = self._row_or_none()
        if row is None or row.get("status") != "Linked":
            return None
        return row.get("path")

    @property
    def created(self) -> datetime | None:
        return to_datetime(self._get("created"))

    @property
    def inodeSpace(self) -> InodeSpace | None:
        return to_int(self._get("inodeSpace"))

    @property
    def maxInodes(self) -> int | None:
        return to_int(self._get("maxInodes"))

    @property
    def allocInodes(self) -> int | None:
        return to_int(self._get("allocInodes"))

    @property
    def rootInode(self) -> int | None:
        return to_int(self._get("rootInode"))

    @property
    def parentId(self) -> int | None:
        return to_int(self._get("parentId"))

    @property
    def isInodeSpaceOwner(self) -> bool | None:
        return to_bool(self._get("isInodeSpaceOwner"))

    @property
    def freeInodes(self) -> int | None:
        return to_int(self._get("freeInodes"))

    @property
    def independent(self) -> bool:
        return self._independent

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("_"):
            raise AttributeError(attr)
        row = self._row_or_none()
        if row is not None and attr in row:
            return row[attr]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {attr!r}")

    @property
    def snapshots(self) -> Snapshots:
        """Snapshots of the fileset (each kind of fileset says which it has)."""
        raise NotImplementedError

    @property
    def quotas(self) -> Quotas:
        """Quotas of this fileset: its FILESET quota and per-fileset user/group quotas."""
        if self._quotas is None or self._quotas._fileset != self._name:
            self._quotas = Quotas._attach(self._loader, self._fs, self._name)
        return self._quotas

    # -- creating ----------------------------------------------------------------------------
    def _create_args(self) -> list[str]:
        raise NotImplementedError

    def _new_row(self, listing: dict[str, dict[str, Any]]) -> dict[str, Any]:
        """The row a dry-run ``create()`` adds to the listing."""
        ids = [to_int(r.get("id")) or 0 for r in listing.values()]
        return {"filesystemName": self._fs, "filesetName": self._name,
                "id": str(max(ids, default=0) + 1), "rootInode": None, "status": "Unlinked",
                "path": None, "parentId": None, "created": ctime(), "comment": self._comment,
                "inodeSpace": "0", "isInodeSpaceOwner": "0", "maxInodes": "0",
                "allocInodes": "0"}

    def create(self) -> CommandResult:
        """Create the fileset (unlinked) with ``mmcrfileset``."""
        if self.exists():
            raise ValueError(f"fileset {self._name} already exists in file system {self._fs}")
        argv = ["mmcrfileset", self._fs, self._name, *self._create_args()]
        if self._comment:
            argv += ["-t", self._comment]

        def patch() -> None:
            name = self._name
            self._patch_listing(lambda listing: listing.setdefault(name, self._new_row(listing)))

        return self._change(argv, patch)

    # -- linking -----------------------------------------------------------------------------
    def link(self, junctionPath: str) -> CommandResult:
        """Link the fileset at ``junctionPath`` (``mmlinkfileset <fs> <name> -J <path>``)."""
        junction = checks.local_path(junctionPath, "junction path")
        row = self._row()
        if row.get("status") == "Linked":
            raise ValueError(f"fileset {self._name} is already linked at {row.get('path')}")
        argv = ["mmlinkfileset", self._fs, self._name, "-J", junction]
        check_junction_is_free(self._listing(), argv, junction)
        return self._change(argv,
                            lambda: self._patch_row(status="Linked", path=junction))

    def unlink(self, force: bool = False) -> CommandResult:
        """Unlink the fileset (``mmunlinkfileset <fs> <name> [-f]``)."""
        row = self._row()
        if row.get("status") != "Linked":
            raise ValueError(f"fileset {self._name} is not linked")
        if self._name == "root":
            raise ValueError("the root fileset cannot be unlinked")

        return self._change(["mmunlinkfileset", self._fs, self._name,
                             *(["-f"] if force else [])],
                            lambda: self._patch_row(status="Unlinked"))

    # -- deleting ----------------------------------------------------------------------------
    def delete(self, deleteNonEmpty: bool = False, unlink: bool = False,
               force: bool = False, qosClass: str | None = None) -> CommandResult:
        """Delete the fileset (``mmdelfileset``).

        ``deleteNonEmpty`` deletes it with its files (``-f``); ``unlink`` unlinks it first
        if it is linked (forcibly with ``force``); ``qosClass`` is passed as ``--qos``.
        If the delete fails after the unlink, the fileset is linked back.
        """
        if self._name == "root":
            raise ValueError("the root fileset cannot be deleted")
        row = self._row()
        argv = ["mmdelfileset", self._fs, self._name]
        if row.get("status") == "Linked" and not unlink:
            raise refused(argv, f"Fileset {self._name} is linked; unlink it before deleting "
                          "it.")
        if deleteNonEmpty:
            argv.append("-f")
        if qosClass is not None:
            argv += ["--qos", checks.name(qosClass, "QoS class")]
        with Steps() as steps:
            if unlink and row.get("status") == "Linked":
                junction: str = row["path"]
                self.unlink(force=force)
                steps.undo(f"the unlink of fileset {self._name}",
                           lambda: self.link(junction))
            name = self._name
            return self._change(
                argv, lambda: self._patch_listing(lambda listing: listing.pop(name, None)))

    # -- changing ----------------------------------------------------------------------------
    def _change_args(self, kwargs: dict[str, Any]) -> tuple[list[str], dict[str, str]]:
        """Extra ``mmchfileset`` arguments for subclass-specific keywords (popped from
        ``kwargs``), and the listing columns they change."""
        return [], {}

    def change(self, **kwargs: Any) -> list[CommandResult]:
        """Change the fileset: ``name``, ``comment`` and ``maxInodes``/``allocInodes``
        (``mmchfileset -j / -t / --inode-limit``), ``path`` (unlink, then link there),
        ``filesSoftLimit``/``filesHardLimit`` and ``blockSoftLimit``/``blockHardLimit``
        (``mmsetquota``). Everything is checked before anything runs; if a later step fails
        the earlier ones are undone.
        """
        row = self._row()
        new_name = fileset_name(kwargs.pop("name")) if "name" in kwargs else None
        comment = checks.comment(kwargs.pop("comment")) if "comment" in kwargs else None
        path = checks.local_path(kwargs.pop("path"), "path") if "path" in kwargs else None
        max_inodes = kwargs.pop("maxInodes", None)
        alloc_inodes = kwargs.pop("allocInodes", None)
        limits = {k: kwargs.pop(k) for k in _QUOTA_KEYWORDS if k in kwargs}
        extra, extra_columns = self._change_args(kwargs)
        checks.no_unknown(kwargs, f"{type(self).__name__}.change()")

        if new_name is not None:
            if self._name == "root":
                raise ValueError("the root fileset cannot be renamed")
            if new_name == self._name:
                new_name = None
            elif new_name in self._listing():  # root included; fileset_name refused "new"
                raise ValueError(f"fileset {new_name} already exists in file system "
                                 f"{self._fs}")
        if comment is not None and self._name == "root":
            raise ValueError("the comment of the root fileset cannot be changed")
        columns: dict[str, str] = dict(extra_columns)
        if comment is not None:
            columns["comment"] = comment
        inode_args: list[str] = []
        if max_inodes is not None or alloc_inodes is not None:
            if not self._independent:
                raise ValueError("maxInodes can only be changed on an independent fileset")
            limit = checks.count(max_inodes if max_inodes is not None
                                 else to_int(row.get("maxInodes")) or 0, "maxInodes", minimum=1)
            spec = str(limit)
            columns["maxInodes"] = spec
            if alloc_inodes is not None:
                spec += f":{checks.count(alloc_inodes, 'allocInodes', minimum=1)}"
                columns["allocInodes"] = str(alloc_inodes)
            inode_args = ["--inode-limit", spec]
        quota_plan = None
        if limits:
            quota_plan = plan_limits(**limits)
        args: list[str] = []
        if new_name is not None:
            args += ["-j", new_name]
        if comment is not None:
            args += ["-t", comment]
        args += inode_args + extra
        if not args and path is None and quota_plan is None:
            raise ValueError(f"{type(self).__name__}.change(): nothing to change")

        results: list[CommandResult] = []
        old_name, old_comment = self._name, row.get("comment") or ""
        with Steps() as steps:
            if args:
                results.append(self._chfileset(args, new_name, columns))
                if new_name is not None or comment is not None:
                    undo = (["-j", old_name] if new_name is not None else []) + \
                        (["-t", old_comment] if comment is not None else [])
                    steps.undo(f"the change of fileset {old_name}",
                               lambda: self._chfileset(
                                   undo, old_name if new_name else None,
                                   {"comment": old_comment} if comment is not None else {}))
            if path is not None:
                results += self._relink(path, steps)
            if quota_plan is not None:
                results.append(set_fileset_quota(self, quota_plan))
        return results

    def _chfileset(self, args: list[str], new_name: str | None,
                   columns: dict[str, str]) -> CommandResult:
        """``mmchfileset``; ``columns`` are the listing values it changes (for dry run)."""
        old = self._name

        def patch() -> None:
            self._patch_row(**columns)
            if new_name is not None:
                _rename_everywhere(self._loader, self._fs, old, new_name)

        result = self._change(["mmchfileset", self._fs, old, *args], patch)
        if new_name is not None:
            self._name = new_name
        return result

    def _relink(self, path: str, steps: Steps) -> list[CommandResult]:
        row = self._row()
        results = []
        old_path = row.get("path") if row.get("status") == "Linked" else None
        if old_path is not None:
            if old_path == path:
                return []
            results.append(self.unlink())
            steps.undo(f"the unlink of fileset {self._name}", lambda: self.link(old_path))
        results.append(self.link(path))
        steps.undo(f"the link of fileset {self._name}", lambda: self.unlink(force=True))
        return results


def set_fileset_quota(fileset: Fileset, plan: LimitPlan, *, new: bool = False
                      ) -> CommandResult:
    """Set the FILESET quota of ``fileset`` (``new``: it was just created, so it has no
    limits to keep)."""
    return set_limits(fileset, fileset.filesystemName, "FILESET", fileset.name, None, plan,
                      new=new)


def _rename_everywhere(loader: Loader, fs: str, old: str, new: str) -> None:
    """Show a recorded fileset rename in every listing that names the fileset."""

    def filesets(listing: dict[str, dict[str, Any]]) -> None:
        if old not in listing:
            return
        items = list(listing.items())
        listing.clear()
        for key, row in items:
            if key == old:
                row["filesetName"] = key = new
            listing[key] = row

    def snapshots(listing: dict[tuple[str, str], dict[str, Any]]) -> None:
        for fileset, name in [k for k in listing if k[0] == old]:
            row = listing.pop((fileset, name))
            row["fileset"] = new
            listing[(new, name)] = row

    def quotas(table: list[dict[str, Any]]) -> None:
        for row in table:
            if row.get("quotaType") == "FILESET" and row.get("name") == old:
                row["name"] = new
            if row.get("filesetname") == old:
                row["filesetname"] = new

    loader.patch([listings.filesets_key(fs)], filesets)
    loader.patch([listings.snapshots_key(fs)], snapshots)
    loader.patch(listings.quota_keys(fs), quotas)


class DependentFileset(Fileset):
    """A fileset sharing the inode space of an independent fileset (``root`` by default).

    ``inodeSpace`` (or the private ``_inodeSpace`` scripts set before ``create()``) names the
    independent fileset whose inode space it uses; a number is taken as an inode space.
    """

    _inodeSpace: InodeSpace | None = None

    def __init__(self, filesystemName: str, name: str, comment: Any = "",
                 inodeSpace: InodeSpace | None = None,
                 _loader: Loader | None = None) -> None:
        super().__init__(filesystemName, name, comment, _loader=_loader)
        self._inodeSpace = inodeSpace

    @property
    def inodeSpace(self) -> InodeSpace | None:
        row = self._row_or_none()
        if row is None:
            return self._inodeSpace if self._inodeSpace is not None else "root"
        return to_int(row.get("inodeSpace"))

    def _owner(self) -> str | None:
        """The name of the independent fileset whose inode space this one will use."""
        space = self._inodeSpace
        if space is None:
            return None
        if isinstance(space, Fileset):
            return space.name
        if isinstance(space, int) and not isinstance(space, bool):
            for name, row in self._listing().items():
                if to_int(row.get("inodeSpace")) == space and \
                        to_bool(row.get("isInodeSpaceOwner")):
                    return name
            raise ValueError(f"no independent fileset owns inode space {space} in file "
                             f"system {self._fs}")
        return fileset_name(space)

    def _create_args(self) -> list[str]:
        owner = self._owner()
        return ["--inode-space", owner] if owner is not None else []

    @property
    def snapshots(self) -> DependentSnapshots:
        """Always empty: a dependent fileset has no snapshots of its own (those of the
        independent fileset owning its inode space capture it); ``new`` says so."""
        snapshots = self._snapshots
        if not isinstance(snapshots, DependentSnapshots) or snapshots._fileset != self._name:
            snapshots = DependentSnapshots._attach(self._loader, self._fs, self._name)
            self._snapshots = snapshots
        space = self.inodeSpace
        snapshots.owner = next(
            (name for name, row in self._listing().items()
             if to_bool(row.get("isInodeSpaceOwner")) and to_int(row.get("inodeSpace")) == space),
            None)
        return snapshots

    def _new_row(self, listing: dict[str, dict[str, Any]]) -> dict[str, Any]:
        row = super()._new_row(listing)
        owner = listing.get(self._owner() or "root")
        if owner is not None:
            row["inodeSpace"] = owner.get("inodeSpace") or "0"
        return row


class IndependentFileset(Fileset):
    """A fileset with an inode space of its own (``--inode-space new``); it can have
    snapshots of its own (``snapshots``)."""

    _independent = True
    _maxInodes: int | None = None
    _allocInodes: int | None = None

    def __init__(self, filesystemName: str, name: str, comment: Any = "",
                 maxInodes: int | None = None, allocInodes: int | None = None,
                 _loader: Loader | None = None) -> None:
        super().__init__(filesystemName, name, comment, _loader=_loader)
        limit = checks.count(maxInodes, "maxInodes", minimum=1) \
            if maxInodes is not None else None
        alloc = checks.count(allocInodes, "allocInodes", minimum=1) \
            if allocInodes is not None else None
        if alloc is not None:
            if limit is None:
                raise ValueError("allocInodes needs maxInodes")
            if alloc > limit:
                raise ValueError(f"allocInodes ({allocInodes}) is larger than maxInodes "
                                 f"({maxInodes})")
        self._maxInodes, self._allocInodes = limit, alloc

    @property
    def maxInodes(self) -> int | None:
        row = self._row_or_none()
        return self._maxInodes if row is None else to_int(row.get("maxInodes"))

    @property
    def allocInodes(self) -> int | None:
        row = self._row_or_none()
        return self._allocInodes if row is None else to_int(row.get("allocInodes"))

    @property
    def snapshots(self) -> Snapshots:
        """Snapshots of this fileset (shares the file system's one ``mmlssnapshot``)."""
        scope = snapshot_scope(self._name)   # root: the global snapshots, by default
        if self._snapshots is None or self._snapshots._fileset != scope:
            self._snapshots = Snapshots._attach(self._loader, self._fs, scope)
        return self._snapshots

    def _create_args(self) -> list[str]:
        args = ["--inode-space", "new"]
        if self._maxInodes is not None:
            limit = str(self._maxInodes)
            if self._allocInodes is not None:
                limit += f":{self._allocInodes}"
            args += ["--inode-limit", limit]
        return args

    def _new_row(self, listing: dict[str, dict[str, Any]]) -> dict[str, Any]:
        row = super()._new_row(listing)
        spaces = [to_int(r.get("inodeSpace")) or 0 for r in listing.values()]
        row.update(inodeSpace=str(max(spaces, default=0) + 1), isInodeSpaceOwner="1",
                   maxInodes=str(self._maxInodes or 0),
                   allocInodes=str(self._allocInodes or self._maxInodes or 0))
        return row


def afm_target(remotePath: str, gateway: str | None, protocol: str) -> str:
    """The ``afmTarget`` value for a cache of ``remotePath``.

    A target that is already a URL (``nfs://server/path``) is used as it is; ``gpfs``
    targets are ``gpfs:///path``; an NFS target names its server: ``nfs://<gateway><path>``.
    """
    if "://" in remotePath:
        return remotePath
    if protocol == "gpfs":
        return f"gpfs://{checks.path(remotePath, 'remotePath')}"
    if gateway:
        server = checks.host(gateway, "gateway")
        return f"{protocol}://{server}{checks.path(remotePath, 'remotePath')}"
    return remotePath


class CacheFileset(IndependentFileset):
    """An AFM cache of a remote (home) directory; read-only cache (``afmMode=ro``) by default.

    Extra properties: ``remotePath``, ``gateway``, ``protocol``, ``afmTarget``, ``afmMode``
    and every other ``afm*`` column of ``mmlsfileset``. ``change(afmNumReadThreads=...)``
    sets any ``afm*`` attribute with ``mmchfileset -p``.
    """

    _remotePath: str | None = None
    _gateway: str | None = None
    _protocol = "nfs"
    _afmMode = "ro"

    def __init__(self, filesystemName: str, name: str, remotePath: str,
                 gateway: str | None = None, protocol: str = "nfs", comment: Any = "",
                 afmMode: str = "ro", maxInodes: int | None = None,
                 allocInodes: int | None = None,
                 _loader: Loader | None = None) -> None:
        super().__init__(filesystemName, name, comment, maxInodes, allocInodes,
                         _loader=_loader)
        if not isinstance(remotePath, str) or not remotePath or \
                any(c in remotePath for c in "\0\n\r ,"):
            raise ValueError(f"invalid remotePath {remotePath!r}")
        self._remotePath = remotePath
        self._gateway = checks.host(gateway, "gateway") if gateway is not None else None
        self._protocol = checks.choice(protocol, "protocol", ("nfs", "gpfs", "https", "s3"))
        self._afmMode = checks.choice(afmMode, "afmMode",
                                      ("ro", "sw", "iw", "lu", "single-writer",
                                       "read-only", "independent-writer", "local-updates"))
        afm_target(remotePath, self._gateway, self._protocol)

    @property
    def remotePath(self) -> str | None:
        row = self._row_or_none()
        if row is None:
            return self._remotePath
        target = row.get("afmTarget") or ""
        if "://" in target:
            rest = target.split("://", 1)[1]
            return "/" + rest.split("/", 1)[1] if "/" in rest else rest
        return target or None

    @property
    def protocol(self) -> str:
        row = self._row_or_none()
        target = (row or {}).get("afmTarget") or ""
        return target.split("://", 1)[0] if "://" in target else self._protocol

    @property
    def gateway(self) -> str | None:
        row = self._row_or_none()
        if row is None:
            return self._gateway
        target = row.get("afmTarget") or ""
        if "://" in target:
            host = target.split("://", 1)[1].split("/", 1)[0]
            return host or row.get("afmGatewayNode")
        return row.get("afmGatewayNode")

    def _target(self) -> str:
        """The ``afmTarget`` to create the cache with."""
        if self._remotePath is None:
            raise ValueError(f"cache fileset {self._name} was not built with a remotePath")
        return afm_target(self._remotePath, self._gateway, self._protocol)

    def _create_args(self) -> list[str]:
        return [*super()._create_args(), "-p", f"afmTarget={self._target()}",
                "-p", f"afmMode={self._afmMode}"]

    def _new_row(self, listing: dict[str, dict[str, Any]]) -> dict[str, Any]:
        row = super()._new_row(listing)
        row.update(afmTarget=self._target(),
                   afmMode=self._afmMode)
        return row

    def _change_args(self, kwargs: dict[str, Any]) -> tuple[list[str], dict[str, str]]:
        args: list[str] = []
        columns: dict[str, str] = {}
        for key in [k for k in kwargs if k.startswith("afm")]:
            value = kwargs.pop(key)
            if isinstance(value, bool):
                value = "yes" if value else "no"
            text = str(value)
            if not text or any(c in text for c in "\0\n\r ,="):
                raise ValueError(f"invalid value {value!r} for {key}")
            args += ["-p", f"{key}={text}"]
            columns[key] = text
        return args, columns


def fileset_class(row: dict[str, Any]) -> type[Fileset]:
    """The class of a listed fileset: cache, independent or dependent."""
    if row.get("afmTarget") or row.get("afmMode"):
        return CacheFileset
    if to_bool(row.get("isInodeSpaceOwner")):
        return IndependentFileset
    return DependentFileset
