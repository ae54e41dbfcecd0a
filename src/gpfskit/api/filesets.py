"""The filesets of a file system: the ``Filesets`` collection (one ``mmlsfileset``)."""

from __future__ import annotations

from typing import Any

from gpfskit.api import checks, listings
from gpfskit.api.base import Steps
from gpfskit.api.collection import Collection
from gpfskit.api.fileset import (
    _QUOTA_KEYWORDS,
    RESERVED_NAMES,
    CacheFileset,
    DependentFileset,
    Fileset,
    IndependentFileset,
    check_junction_is_free,
    fileset_class,
    set_fileset_quota,
)
from gpfskit.api.loader import Loader
from gpfskit.api.quotas import plan_limits
from gpfskit.commands import CommandResult

_CACHE_KEYWORDS = ("remotePath", "gateway", "protocol", "afmMode")


class Filesets(Collection[Fileset]):
    """Filesets of one file system, in ``mmlsfileset`` order, keyed by name. Members are
    ``IndependentFileset`` (root included), ``DependentFileset`` or ``CacheFileset``."""

    _noun = "fileset"

    def __init__(self, deviceName: str, _loader: Loader | None = None) -> None:
        super().__init__(_loader)
        self._fs = checks.device(deviceName)

    def _where(self) -> str:
        return f"in file system {self._fs}"

    def _accept(self, fileset: Fileset) -> bool:
        return True

    def _build(self) -> dict[str, Fileset]:
        members: dict[str, Fileset] = {}
        for name, row in listings.filesets(self._loader, self._fs).items():
            fileset = fileset_class(row)._attach(self._loader, self._fs, name)
            if self._accept(fileset):
                members[name] = fileset
        return members

    def independent(self) -> IndependentFilesets:
        """A view holding only the independent filesets (root and caches included)."""
        return IndependentFilesets(self._fs, _loader=self._loader)

    def new(self, filesetname: str, maxInodes: int | None = None,
            allocInodes: int | None = None, **kwargs: Any) -> Fileset:
        """Create a fileset and return it.

        ``maxInodes`` > 0 makes an independent fileset (``--inode-space new``, with
        ``allocInodes`` preallocated); ``remotePath`` (with ``gateway``, ``protocol``,
        ``afmMode``) makes an AFM cache fileset; otherwise it is dependent, in the inode
        space of ``inodeSpace`` (an independent fileset; root by default). ``comment`` sets
        its comment; ``path`` (or ``junction``) links it there; ``blockSoftLimit``,
        ``blockHardLimit``, ``filesSoftLimit``, ``filesHardLimit`` set its fileset quota.

        Everything is checked before anything runs; when linking or setting the quota fails,
        the fileset just created is deleted again.
        """
        name = checks.name(filesetname, "fileset", reserved=RESERVED_NAMES)
        comment = checks.comment(kwargs.pop("comment", None))
        path = kwargs.pop("path", None)
        junction = kwargs.pop("junction", None)
        if path is not None and junction is not None and path != junction:
            raise ValueError("give either path or junction, not both")
        path = checks.local_path(path or junction, "path") if (path or junction) else None
        inode_space = kwargs.pop("inodeSpace", None)
        cache = {k: kwargs.pop(k) for k in _CACHE_KEYWORDS if k in kwargs}
        limits = {k: kwargs.pop(k) for k in _QUOTA_KEYWORDS if k in kwargs}
        checks.no_unknown(kwargs, "Filesets.new()")
        if maxInodes is not None:
            maxInodes = checks.count(maxInodes, "maxInodes")
        if allocInodes is not None:
            allocInodes = checks.count(allocInodes, "allocInodes", minimum=1)
        plan = None
        if limits:
            plan = plan_limits(**limits)
        if name in self._listing():
            raise ValueError(f"fileset {name} already exists in file system {self._fs}")
        if path is not None:
            check_junction_is_free(self._listing(), ["mmlinkfileset", self._fs, name, "-J", path],
                                   path)

        fileset: Fileset
        if cache:
            if "remotePath" not in cache:
                raise TypeError("a cache fileset needs remotePath")
            if inode_space is not None:
                raise ValueError("a cache fileset has an inode space of its own")
            fileset = CacheFileset(self._fs, name, comment=comment,
                                   maxInodes=maxInodes or None, allocInodes=allocInodes,
                                   _loader=self._loader, **cache)
        elif maxInodes:
            if inode_space is not None:
                raise ValueError("an independent fileset (maxInodes > 0) has an inode space "
                                 "of its own; inodeSpace is for dependent filesets")
            fileset = IndependentFileset(self._fs, name, comment, maxInodes=maxInodes,
                                         allocInodes=allocInodes, _loader=self._loader)
        else:
            if allocInodes is not None:
                raise ValueError("allocInodes needs maxInodes > 0 (an independent fileset)")
            fileset = DependentFileset(self._fs, name, comment, inodeSpace=inode_space,
                                       _loader=self._loader)
            fileset._create_args()  # resolves (and checks) the inode space up front

        with Steps() as steps:
            fileset.create()
            steps.undo(f"the creation of fileset {name}",
                       lambda: fileset.delete(deleteNonEmpty=True, unlink=True, force=True))
            if path is not None:
                fileset.link(path)
            if plan is not None:
                set_fileset_quota(fileset, plan, new=True)
        return fileset

    def _listing(self) -> dict[str, dict[str, Any]]:
        return listings.filesets(self._loader, self._fs)

    def destroy(self, fileset: str | Fileset, deleteNonEmpty: bool = False,
                unlink: bool = False, force: bool = False,
                qosClass: str | None = None) -> CommandResult:
        """Delete a fileset (see ``Fileset.delete``); KeyError when there is no such one."""
        member = self[fileset.name if isinstance(fileset, Fileset) else fileset]
        return member.delete(deleteNonEmpty=deleteNonEmpty, unlink=unlink, force=force,
                             qosClass=qosClass)


class IndependentFilesets(Filesets):
    """The independent filesets of a file system."""

    def _accept(self, fileset: Fileset) -> bool:
        return isinstance(fileset, IndependentFileset)
