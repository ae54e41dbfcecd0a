"""One file's GPFS attributes (``mmlsattr -L``) and extended attributes.

Pool, replication and the immutable / append-only flags come from ``mmlsattr -L <path>``;
times and sizes from ``stat`` (naive local datetimes). ``change()`` runs ``mmchattr``.
Extended attributes are read with ``os.listxattr``/``os.getxattr`` (names are shown without
the implied ``user.`` prefix; ``user.gpfskit.*`` names are internal and hidden) and written
with ``mmchattr --set-attr`` / ``--delete-attr``.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Callable
from datetime import datetime
from functools import cached_property
from typing import Any

from gpfskit.api import checks, listings
from gpfskit.api.base import APIObject
from gpfskit.api.collection import Collection
from gpfskit.api.loader import Loader
from gpfskit.api.values import to_bool, to_datetime, to_int
from gpfskit.commands import CommandResult

USER_PREFIX = "user."
HIDDEN_PREFIX = "user.gpfskit."
MAX_XATTR_NAME = 255


def _replicas(text: str | None) -> tuple[int | None, int | None]:
    """``'1 max 2'`` -> (1, 2)."""
    if not text:
        return None, None
    words = text.replace("(", " ").replace(")", " ").split()
    current = to_int(words[0]) if words else None
    maximum = to_int(words[words.index("max") + 1]) if "max" in words[:-1] else None
    return current, maximum


def _yes_no(value: Any, what: str) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return checks.choice(value, what, ("yes", "no"))


def _replica_count(value: Any, what: str) -> int:
    number = checks.count(value, what, minimum=1)
    if number > 3:
        raise ValueError(f"{what} must be 1, 2 or 3, not {number}")
    return number


#: change() keyword -> (mmchattr option, value check, mmlsattr label)
_CHANGES: dict[str, tuple[str, Callable[[Any], Any], str]] = {
    "storagepoolName": ("-P", lambda v: checks.name(v, "storage pool"), "storagepoolname"),
    "metadataReplication": ("-m", lambda v: _replica_count(v, "metadataReplication"),
                            "metadatareplication"),
    "maxMetadataReplication": ("-M", lambda v: _replica_count(v, "maxMetadataReplication"),
                               "metadatareplication"),
    "dataReplication": ("-r", lambda v: _replica_count(v, "dataReplication"),
                        "datareplication"),
    "maxDataReplication": ("-R", lambda v: _replica_count(v, "maxDataReplication"),
                           "datareplication"),
    "immutable": ("-i", lambda v: _yes_no(v, "immutable"), "immutable"),
    "appendOnly": ("-a", lambda v: _yes_no(v, "appendOnly"), "appendonly"),
}


def _xattr_key(key: Any) -> str:
    if not isinstance(key, str):
        raise TypeError(f"extended attribute names are strings, not {type(key).__name__}")
    name = key.removeprefix(USER_PREFIX)
    if not name or len(name) + len(USER_PREFIX) > MAX_XATTR_NAME:
        raise ValueError(f"invalid extended attribute name {key!r}")
    if any(c in name for c in "=\0\n\r,;") or name.startswith("-") or any(c.isspace()
                                                                        for c in name):
        raise ValueError(f"invalid extended attribute name {key!r}")
    if (USER_PREFIX + name).startswith(HIDDEN_PREFIX):
        raise ValueError(f"extended attribute names under {HIDDEN_PREFIX} are reserved")
    return name


def _xattr_value(value: Any) -> str:
    if isinstance(value, bytes):
        value = value.decode("utf-8")
    if not isinstance(value, str):
        value = str(value)
    if "\0" in value or "\n" in value:
        raise ValueError("extended attribute values may not contain NUL or newline")
    return value


class File(APIObject):
    """A file (or directory) in a GPFS file system.

    Properties: ``path``, ``name``, ``storagepoolName`` (also ``pool``), ``filesetName``,
    ``snapshotName``, ``dataReplication``, ``maxDataReplication``, ``metadataReplication``,
    ``maxMetadataReplication``, ``immutable``, ``appendOnly``, ``flags``,
    ``miscAttributes``, ``encrypted``, ``creationTime``, ``accessTime``,
    ``modificationTime``, ``changeTime`` (naive local datetimes), ``size``, ``uid``,
    ``gid``, ``mode``, and ``xattrs``.
    """

    def __init__(self, path: str | os.PathLike[str], _loader: Loader | None = None) -> None:
        super().__init__(_loader)
        self._path = checks.local_path(path, "file path")
        if not os.path.lexists(self._path):
            raise FileNotFoundError(errno.ENOENT, "No such file or directory", self._path)

    def _identity(self) -> tuple[Any, ...]:
        return (self._path,)

    def __repr__(self) -> str:
        return f"File({self._path!r})"

    def __str__(self) -> str:
        return self._path

    def _attrs(self) -> dict[str, str]:
        return listings.file_attributes(self._loader, self._path)

    def _stat(self) -> os.stat_result:
        return os.stat(self._path, follow_symlinks=False)

    # -- properties --------------------------------------------------------------------------
    @property
    def path(self) -> str:
        return self._path

    @property
    def name(self) -> str:
        return os.path.basename(self._path.rstrip("/")) or "/"

    @property
    def storagepoolName(self) -> str | None:
        return self._attrs().get("storagepoolname") or None

    pool = storagepoolName

    @property
    def filesetName(self) -> str | None:
        return self._attrs().get("filesetname") or None

    @property
    def snapshotName(self) -> str | None:
        return self._attrs().get("snapshotname") or None

    @property
    def metadataReplication(self) -> int | None:
        return _replicas(self._attrs().get("metadatareplication"))[0]

    @property
    def maxMetadataReplication(self) -> int | None:
        return _replicas(self._attrs().get("metadatareplication"))[1]

    @property
    def dataReplication(self) -> int | None:
        return _replicas(self._attrs().get("datareplication"))[0]

    @property
    def maxDataReplication(self) -> int | None:
        return _replicas(self._attrs().get("datareplication"))[1]

    @property
    def immutable(self) -> bool:
        return bool(to_bool(self._attrs().get("immutable")))

    @property
    def appendOnly(self) -> bool:
        return bool(to_bool(self._attrs().get("appendonly")))

    @property
    def flags(self) -> str:
        return self._attrs().get("flags") or ""

    @property
    def miscAttributes(self) -> str:
        return self._attrs().get("miscattributes") or ""

    @property
    def encrypted(self) -> bool | None:
        return to_bool(self._attrs().get("encrypted"))

    @property
    def creationTime(self) -> datetime | None:
        return to_datetime(self._attrs().get("creationtime"))

    @property
    def accessTime(self) -> datetime:
        return datetime.fromtimestamp(self._stat().st_atime)

    @property
    def modificationTime(self) -> datetime:
        return datetime.fromtimestamp(self._stat().st_mtime)

    @property
    def changeTime(self) -> datetime:
        return datetime.fromtimestamp(self._stat().st_ctime)

    @property
    def size(self) -> int:
        return self._stat().st_size

    @property
    def uid(self) -> int:
        return self._stat().st_uid

    @property
    def gid(self) -> int:
        return self._stat().st_gid

    @property
    def mode(self) -> int:
        return self._stat().st_mode

    @cached_property
    def xattrs(self) -> XAttrs:
        return XAttrs(self, _loader=self._loader)

    # -- changes -----------------------------------------------------------------------------
    def change(self, **kwargs: Any) -> CommandResult:
        """Change attributes with one ``mmchattr``: ``storagepoolName`` (-P),
        ``metadataReplication`` (-m), ``maxMetadataReplication`` (-M), ``dataReplication``
        (-r), ``maxDataReplication`` (-R), ``immutable`` (-i), ``appendOnly`` (-a)."""
        checks.no_unknown({k: v for k, v in kwargs.items() if k not in _CHANGES},
                          "File.change()")
        if not kwargs:
            raise ValueError("File.change(): nothing to change")
        args: list[str] = []
        values: dict[str, Any] = {}
        for key, value in kwargs.items():
            option, check, _label = _CHANGES[key]
            values[key] = check(value)
            args += [option, str(values[key])]

        def edit(attrs: dict[str, str]) -> None:
            for key, value in values.items():
                label = _CHANGES[key][2]
                if label in ("metadatareplication", "datareplication"):
                    current, maximum = _replicas(attrs.get(label))
                    if key.startswith("max"):
                        maximum = value
                    else:
                        current = value
                    attrs[label] = f"{current} max {maximum}"
                else:
                    attrs[label] = str(value)

        return self._change(["mmchattr", *args, self._path],
                            lambda: self._loader.patch([listings.attrs_key(self._path)], edit))


class XAttrs(Collection[str]):
    """A file's user extended attributes, keyed by name without the ``user.`` prefix.

    ``new(k, v)`` adds one (ValueError if it exists), ``change(k, v)`` replaces one
    (KeyError if missing), ``destroy(k)`` removes one (KeyError if missing).
    """

    _noun = "extended attribute"

    def __init__(self, file: File, _loader: Loader | None = None) -> None:
        super().__init__(_loader)
        self._file = file

    def _where(self) -> str:
        return f"on {self._file.path}"

    def _read(self) -> dict[str, str]:
        path = self._file.path
        values: dict[str, str] = {}
        try:
            names = os.listxattr(path, follow_symlinks=False)
        except OSError as exc:
            if exc.errno in (errno.ENOTSUP, errno.EOPNOTSUPP):
                return values
            raise
        for full in sorted(names):
            if not full.startswith(USER_PREFIX) or full.startswith(HIDDEN_PREFIX):
                continue
            try:
                raw = os.getxattr(path, full, follow_symlinks=False)
            except OSError:
                continue
            values[full[len(USER_PREFIX):]] = raw.decode("utf-8", "replace")
        return values

    def _cache_key(self) -> tuple[str, str]:
        return ("xattrs", self._file.path)

    def _values(self) -> dict[str, str]:
        return self._loader.get(self._cache_key(), self._read)

    def _patch(self, fn: Any) -> None:
        self._loader.patch([self._cache_key()], fn)

    def _build(self) -> dict[str, str]:
        return dict(self._values())

    def _set(self, name: str, value: str) -> CommandResult:
        return self._change(["mmchattr", "--set-attr", f"{USER_PREFIX}{name}={value}",
                             self._file.path],
                            lambda: self._patch(lambda values: values.update({name: value})))

    def new(self, key: str, value: Any) -> CommandResult:
        """Add an attribute; ValueError when it already exists."""
        name, text = _xattr_key(key), _xattr_value(value)
        if name in self:
            raise ValueError(f"extended attribute {name!r} already exists on "
                             f"{self._file.path}")
        return self._set(name, text)

    def change(self, key: str, value: Any) -> CommandResult:
        """Replace an attribute's value; KeyError when it does not exist."""
        name, text = _xattr_key(key), _xattr_value(value)
        if name not in self:
            raise KeyError(f"no extended attribute named {name!r} on {self._file.path}")
        return self._set(name, text)

    def destroy(self, key: str) -> CommandResult:
        """Remove an attribute; KeyError when it does not exist."""
        name = _xattr_key(key)
        if name not in self:
            raise KeyError(f"no extended attribute named {name!r} on {self._file.path}")

        return self._change(["mmchattr", "--delete-attr", f"{USER_PREFIX}{name}",
                             self._file.path],
                            lambda: self._patch(lambda values: values.pop(name, None)))
