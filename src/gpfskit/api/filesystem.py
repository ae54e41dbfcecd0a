"""File systems: ``Filesystem`` and the ``Filesystems`` collection.

A file system's attributes are what ``mmlsfs -Y`` reports: from ``mmlsfs all -Y`` (one
command for every file system) when reached from a Cluster, from ``mmlsfs <device> -Y`` when
built directly. Every ``fieldName`` is readable as a property under its own name (hyphenated
names in camelCase: ``create-time`` -> ``createTime``), numbers as ints.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from datetime import datetime
from functools import cached_property
from typing import Any

from gpfskit.api import checks, listings
from gpfskit.api.base import APIObject, Steps, node_args
from gpfskit.api.callbacks import callbackable
from gpfskit.api.collection import Collection
from gpfskit.api.disk import Disks
from gpfskit.api.filesets import Filesets
from gpfskit.api.loader import Loader
from gpfskit.api.pool import Pools
from gpfskit.api.quotas import Quotas
from gpfskit.api.snapshots import Snapshots
from gpfskit.api.values import natural, to_datetime, to_int
from gpfskit.commands import CommandResult

DEFAULT_SNAPDIR = ".snapshots"
#: The directory under a file system's mount point where policy runs keep their work files
#: when nothing else is configured (``gpfskit.policy.target``).
TEMP_DIR_NAME = ".policytmp"

_temp_file_path: str | None = None


def setTempFilePath(path: str | None) -> None:
    """Where policy runs keep their work files (None: ``<mount point>/.policytmp``)."""
    global _temp_file_path
    _temp_file_path = checks.path(path, "temporary file path") if path is not None else None


def getTempFilePath(filesystem: Filesystem | str | None = None) -> str | None:
    """The directory set with ``setTempFilePath``, else ``<mount point>/.policytmp`` (None
    when neither is known)."""
    if _temp_file_path is not None or filesystem is None:
        return _temp_file_path
    fs = filesystem if isinstance(filesystem, Filesystem) else Filesystem(filesystem)
    mount = fs.mountPoint
    return os.path.join(mount, TEMP_DIR_NAME) if mount else None


def _camel(field: str) -> str:
    """``create-time`` -> ``createTime``; other names stay as they are."""
    head, *rest = field.split("-")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def _yes_no(value: Any, what: str) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return checks.choice(str(value).lower(), what, ("yes", "no"))


def _flag_pair(on: str, off: str) -> Callable[[Any], list[str]]:
    def build(value: Any) -> list[str]:
        return [on] if _yes_no(value, on) == "yes" else [off]
    return build


def _valued(flag: str, convert: Callable[[Any], Any]) -> Callable[[Any], list[str]]:
    def build(value: Any) -> list[str]:
        return [flag, str(convert(value))]
    return build


def _choice(*allowed: str) -> Callable[[Any], str]:
    def convert(value: Any) -> str:
        if isinstance(value, bool) and "yes" in allowed:
            value = "yes" if value else "no"
        return checks.choice(value, "value", allowed)
    return convert


def _count(minimum: int = 0) -> Callable[[Any], int]:
    def convert(value: Any) -> int:
        number = to_int(value) if isinstance(value, str) else value
        return checks.count(number, "value", minimum=minimum)
    return convert


def _mount_options(value: Any) -> str:
    text = checks.text(value, "additionalMountOptions")
    if not text or " " in text:
        raise ValueError(f"invalid mount options {value!r}")
    return text


def _shown(value: Any) -> str:
    """How ``mmlsfs`` shows a boolean-ish setting."""
    if isinstance(value, bool):
        return "Yes" if value else "No"
    return str(value)


# change() keyword -> (mmlsfs fieldName, mmchfs arguments for a value)
_CHANGES: dict[str, tuple[str, Callable[[Any], list[str]]]] = {
    "mountPoint": ("defaultMountPoint",
                   lambda v: ["-T", checks.path(v, "mountPoint")]),
    "automaticMountOption": ("automaticMountOption",
                             _valued("-A", _choice("yes", "no", "automount"))),
    "additionalMountOptions": ("additionalMountOptions", _valued("-o", _mount_options)),
    "defaultDataReplicas": ("defaultDataReplicas", _valued("-r", _count(1))),
    "defaultMetadataReplicas": ("defaultMetadataReplicas", _valued("-m", _count(1))),
    "suppressAtime": ("suppressAtime", _valued("-S", _choice("yes", "no", "relatime"))),
    "exactMtime": ("exactMtime", _valued("-E", _choice("yes", "no"))),
    "numNodes": ("numNodes", _valued("-n", _count(1))),
    "maxNumberOfInodes": ("maxNumberOfInodes", _valued("--inode-limit", _count(1))),
    "filesetdfEnabled": ("filesetdfEnabled", _flag_pair("--filesetdf", "--nofilesetdf")),
    "perfilesetQuotas": ("perfilesetQuotas",
                         _flag_pair("--perfileset-quota", "--noperfileset-quota")),
    "logReplicas": ("logReplicas", _valued("--log-replicas", _count(0))),
    "mountPriority": ("mountPriority", _valued("--mount-priority", _count(0))),
    "DMAPIEnabled": ("DMAPIEnabled", _valued("-z", _choice("yes", "no"))),
    "strictReplication": ("strictReplication",
                          _valued("-K", _choice("no", "whenpossible", "always"))),
    "fileLockingSemantics": ("fileLockingSemantics", _valued("-D", _choice("posix", "nfs4"))),
    "ACLSemantics": ("ACLSemantics", _valued("-k", _choice("posix", "nfs4", "all"))),
    "rapidRepairEnabled": ("rapidRepairEnabled",
                           _flag_pair("--rapid-repair", "--norapid-repair")),
    "writeCacheThreshold": ("write-cache-threshold",
                            _valued("--write-cache-threshold", _count(0))),
    "maintenanceMode": ("maintenance-mode", _valued("--maintenance-mode", _choice("yes", "no"))),
}


@callbackable("filesystem")
class Filesystem(APIObject):
    """One file system.

    Properties: ``name``/``deviceName``, ``id`` (the file system UID), ``mountPoint``*,
    ``snapDir`` (``.snapshots``), ``blockSize``, ``createTime``, ``manager``,
    ``mountedNodes``, ``attributes`` (every mmlsfs field), and each mmlsfs field by name;
    collections ``filesets``, ``snapshots`` (global), ``quotas``, ``pools``, ``disks``.
    """

    def __init__(self, deviceName: str, _loader: Loader | None = None) -> None:
        super().__init__(_loader)
        self._device = checks.device(deviceName)

    @classmethod
    def _attach(cls, loader: Loader, device: str) -> Filesystem:
        obj = cls.__new__(cls)
        APIObject.__init__(obj, loader)
        obj._device = device
        return obj

    def _identity(self) -> tuple[Any, ...]:
        return (self._device,)

    def __repr__(self) -> str:
        return f"Filesystem({self._device!r})"

    def __str__(self) -> str:
        return self._device

    def _attrs(self) -> dict[str, Any]:
        return listings.fs_attributes(self._loader, self._device)

    # -- properties --------------------------------------------------------------------------
    @property
    def name(self) -> str:
        return self._device

    deviceName = name

    @property
    def id(self) -> str | None:
        return self._attrs().get("UID")

    @property
    def mountPoint(self) -> str | None:
        return self._attrs().get("defaultMountPoint")

    @property
    def snapDir(self) -> str:
        return self._attrs().get("snapDir") or DEFAULT_SNAPDIR

    @property
    def blockSize(self) -> int | None:
        return to_int(self._attrs().get("blockSize"))

    @property
    def createTime(self) -> datetime | None:
        return to_datetime(self._attrs().get("create-time"))

    @property
    def attributes(self) -> dict[str, Any]:
        """Every field ``mmlsfs`` reports, by its own name, as text."""
        return dict(self._attrs())

    @property
    def manager(self) -> str | None:
        return listings.managers(self._loader).get("filesystems", {}).get(self._device)

    @property
    def mountedNodes(self) -> list[str]:
        """Names of the nodes that have this file system mounted (``mmlsmount -L``)."""
        return list(listings.mounts(self._loader).get(self._device, []))

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("_"):
            raise AttributeError(attr)
        attrs = self._attrs()
        for field, value in attrs.items():
            if field == attr or _camel(field) == attr:
                return natural(value)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {attr!r}")

    # -- collections -------------------------------------------------------------------------
    @cached_property
    def filesets(self) -> Filesets:
        return Filesets(self._device, _loader=self._loader)

    @cached_property
    def snapshots(self) -> Snapshots:
        return Snapshots(self._device, _loader=self._loader)

    @cached_property
    def quotas(self) -> Quotas:
        return Quotas(self._device, _loader=self._loader)

    @cached_property
    def pools(self) -> Pools:
        return Pools(self._device, _loader=self._loader)

    @cached_property
    def disks(self) -> Disks:
        return Disks(self._device, _loader=self._loader)

    # -- changes -----------------------------------------------------------------------------
    def change(self, quotas: bool | None = None, **kwargs: Any) -> list[CommandResult]:
        """Change attributes with ``mmchfs``: ``mountPoint`` (-T), ``automaticMountOption``
        (-A), ``additionalMountOptions`` (-o), ``defaultDataReplicas`` (-r),
        ``defaultMetadataReplicas`` (-m), ``suppressAtime`` (-S), ``exactMtime`` (-E),
        ``numNodes`` (-n), ``maxNumberOfInodes`` (--inode-limit), ``filesetdfEnabled``,
        ``perfilesetQuotas``, ``logReplicas``, ``mountPriority``, ``DMAPIEnabled`` (-z),
        ``strictReplication`` (-K), ``fileLockingSemantics`` (-D), ``ACLSemantics`` (-k),
        ``rapidRepairEnabled``, ``writeCacheThreshold``, ``maintenanceMode``; ``quotas``
        turns quota enforcement on or off (-Q, a command of its own).
        """
        unknown = {k: v for k, v in kwargs.items() if k not in _CHANGES}
        checks.no_unknown(unknown, "Filesystem.change()")
        args: list[str] = []
        for key, value in kwargs.items():
            args += _CHANGES[key][1](value)
        quota_value = _yes_no(quotas, "quotas") if quotas is not None else None
        if not args and quota_value is None:
            raise ValueError("Filesystem.change(): nothing to change")
        old = dict(self._attrs())
        results = []
        with Steps() as steps:
            if args:
                shown = {_CHANGES[key][0]: _shown(value) for key, value in kwargs.items()}
                results.append(self._change(["mmchfs", self._device, *args],
                                            lambda: self._patch_fields(shown)))
                steps.undo("the file system change", lambda: self._revert(old, kwargs))
            if quota_value is not None:
                enforced = "user;group;fileset" if quota_value == "yes" else "none"
                results.append(self._change(
                    ["mmchfs", self._device, "-Q", quota_value],
                    lambda: self._patch_fields({"quotasEnforced": enforced})))
        return results

    def _patch_fields(self, fields: dict[str, str]) -> None:
        device = self._device

        def edit(listing: dict[str, dict[str, Any]]) -> None:
            if device in listing:
                listing[device].update(fields)

        self._loader.patch(listings.fs_keys(device), edit)

    def _revert(self, old: dict[str, Any], changed: dict[str, Any]) -> None:
        args: list[str] = []
        for key in changed:
            value = old.get(_CHANGES[key][0])
            if value is None:
                continue
            if re.fullmatch(r"(?i)yes|no", str(value)):
                value = str(value).lower()
            try:
                args += _CHANGES[key][1](natural(value))
            except (TypeError, ValueError):
                continue
        if args:
            self._change(["mmchfs", self._device, *args])

    def mount(self, nodes: Any = None) -> CommandResult:
        """``mmmount <device>`` on this node, on ``nodes`` (-N), or on every node (``'all'``)."""
        argv = ["mmmount", self._device, *node_args(nodes)]
        return self._change(argv, lambda: self._patch_mounts(nodes, mounted=True))

    def unmount(self, nodes: Any = None, force: bool = False) -> CommandResult:
        """``mmumount <device> [-f]`` on this node, on ``nodes`` or everywhere (``'all'``)."""
        argv = ["mmumount", self._device, *(["-f"] if force else []), *node_args(nodes)]
        return self._change(argv, lambda: self._patch_mounts(nodes, mounted=False))

    umount = unmount

    def _patch_mounts(self, nodes: Any, *, mounted: bool) -> None:
        if nodes is None:
            return  # the local node: which one that is, the listing does not say
        if isinstance(nodes, str) and nodes == "all":
            names = list(listings.cluster(self._loader)["nodes"])
        else:
            names = node_args(nodes)[1].split(",")
        device = self._device

        def edit(table: dict[str, list[str]]) -> None:
            current = table.setdefault(device, [])
            if mounted:
                current.extend(n for n in names if n not in current)
            else:
                current[:] = [n for n in current if n not in names]

        self._loader.patch([listings.MOUNTS], edit)


class Filesystems(Collection[Filesystem]):
    """The file systems of the cluster (``mmlsfs all -Y``), keyed by device name."""

    _noun = "file system"

    def _where(self) -> str:
        return "in the cluster"

    def _build(self) -> dict[str, Filesystem]:
        return {name: Filesystem._attach(self._loader, name)
                for name in listings.filesystems(self._loader)}
