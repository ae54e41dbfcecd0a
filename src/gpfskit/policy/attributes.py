"""File attributes: their names, kinds and the objects list processing hands to user code.

Names
-----
The policy language's attribute names (``FILE_SIZE``, ``USER_ID``, ...) are canonical. Any
spelling that differs only in case and underscores names the same attribute
(``FILE_SIZE``, ``file_size``, ``filesize``, ``FileSize``), and a few short forms are
accepted too (``size``, ``path``, ``user``, ``pool``, ``creation``, ...); see
:func:`canonical`.

File-attribute objects
----------------------
A :class:`FileAttributes` object is one record of a file list. It is a tiny tuple (its row
number) whose class belongs to the parsed list it came from (a
:class:`gpfskit.policy.filelist.FileList`), so creating one costs a single C-level
allocation; attributes are read from the list's columns, each column being converted (for
all rows at once) the first time any row asks for it. Attribute and item access both work
(``f.filesize``, ``f['FILE_SIZE']``). Times are naive ``datetime`` objects in the cluster's
local time, as the policy engine prints them. ``key=value`` pairs in custom SHOW text become
attributes as well.

Pickling a file-attribute object (for instance when a map function returns it) detaches it:
the copy carries its values in a dict and no longer needs the list.
"""

from __future__ import annotations

import re
from collections import _tuplegetter  # type: ignore[attr-defined]
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from gpfskit.language.catalog import INTEGER_ATTRIBUTES, STRING_ATTRIBUTES, TIMESTAMP_ATTRIBUTES

INT, TIME, TEXT = "int", "time", "text"

#: Kind of every attribute a SHOW clause can carry (the language's catalog says which
#: attributes exist and of what type), plus the record's own fields.
KINDS: dict[str, str] = {
    **dict.fromkeys(sorted(INTEGER_ATTRIBUTES), INT),
    **dict.fromkeys(sorted(TIMESTAMP_ATTRIBUTES), TIME),
    **dict.fromkeys(sorted(STRING_ATTRIBUTES), TEXT),
    "SNAPID": INT,
}

#: What every record carries without a SHOW clause (``inode gen snapid ... -- path``).
RECORD_FIELDS = ("INODE", "GENERATION", "SNAPID", "PATH_NAME", "NAME")

#: The attributes processing rules SHOW by default: everything ``stat`` would tell.
DEFAULT_SHOW = (
    "FILE_SIZE", "KB_ALLOCATED", "USER_ID", "GROUP_ID", "MODE", "NLINK",
    "ACCESS_TIME", "MODIFICATION_TIME", "CHANGE_TIME", "CREATION_TIME",
    "POOL_NAME", "FILESET_NAME", "MISC_ATTRIBUTES", "BLOCKSIZE", "DEVICE_ID", "RDEVICE_ID",
    "MODIFICATION_SNAPID",
)

#: Short names accepted besides the canonical spellings.
SHORT_NAMES = {
    "path": "PATH_NAME",
    "size": "FILE_SIZE",
    "user": "USER_ID",
    "uid": "USER_ID",
    "group": "GROUP_ID",
    "gid": "GROUP_ID",
    "access": "ACCESS_TIME",
    "atime": "ACCESS_TIME",
    "modification": "MODIFICATION_TIME",
    "mtime": "MODIFICATION_TIME",
    "change": "CHANGE_TIME",
    "ctime": "CHANGE_TIME",
    "creation": "CREATION_TIME",
    "pool": "POOL_NAME",
    "fileset": "FILESET_NAME",
    "gen": "GENERATION",
}


def normalise(name: str) -> str:
    """The spelling-independent key of a name: lower case, no underscores."""
    return name.lower().replace("_", "")


_CANONICAL = {normalise(n): n for n in KINDS}
_CANONICAL.update(SHORT_NAMES)


def canonical(name: str) -> str | None:
    """The canonical attribute a name stands for, or None if it names none."""
    return _CANONICAL.get(normalise(name)) if isinstance(name, str) else None


def spellings(attribute: str) -> tuple[str, ...]:
    """The names under which an attribute is bound on file-attribute classes."""
    names = {attribute, attribute.lower(), normalise(attribute)}
    names.update(short for short, target in SHORT_NAMES.items() if target == attribute)
    return tuple(sorted(names))


def public_name(attribute: str) -> str:
    """The documented lower-case name (``FILE_SIZE`` -> ``filesize``)."""
    return normalise(attribute)


# -- value conversion ---------------------------------------------------------------------

_TIME_RE = re.compile(
    r"\s*(\d{1,4})-(\d{1,2})-(\d{1,2})(?:[ T@-](\d{1,2})[:.](\d{1,2})"
    r"(?:[:.](\d{1,2})(?:\.(\d{1,6}))?)?)?\s*"
)


def parse_time(text: str | bytes | None) -> datetime | None:
    """A naive datetime from the policy engine's text form (None for empty/unparsable)."""
    if text is None:
        return None
    if isinstance(text, bytes):
        text = text.decode("ascii", "replace")
    if not text:
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        pass
    m = _TIME_RE.fullmatch(text)
    if m is None:
        return None
    fraction = m.group(7)
    try:
        return datetime(int(m.group(1)), int(m.group(2)), int(m.group(3)),
                        int(m.group(4) or 0), int(m.group(5) or 0), int(m.group(6) or 0),
                        int(fraction.ljust(6, "0")) if fraction else 0)
    except ValueError:
        return None


def parse_number(text: str | bytes | None) -> int | float | None:
    """An int (or float) from text; None for empty or non-numeric text."""
    if text is None:
        return None
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return None


def convert(attribute: str | None, text: str) -> Any:
    """A SHOW value in the Python type of ``attribute`` (text for unknown names)."""
    kind = KINDS.get(attribute) if attribute else None
    if kind == INT:
        return parse_number(text)
    if kind == TIME:
        return parse_time(text)
    if attribute is None:
        number = parse_number(text) if text[:1].isdigit() or text[:1] == "-" else None
        return text if number is None else number
    return text


_PAIR_RE = re.compile(r"([^\s=]+)=(.*?)(?=\s+[^\s=]+=|\s*$)", re.DOTALL)


def parse_pairs(text: str) -> dict[str, Any]:
    """``key=value`` pairs of custom SHOW text (values may contain spaces)."""
    pairs: dict[str, Any] = {}
    for key, value in _PAIR_RE.findall(text):
        pairs[key] = convert(canonical(key), value.strip())
    return pairs


# -- file-attribute objects ---------------------------------------------------------------


class FileAttributes(tuple):
    """The attributes of one file of a file list (see the module docstring)."""

    __slots__ = ()
    _table: Any = None  # the FileList a row class reads from (set on per-list subclasses)
    _i = _tuplegetter(0, "row number in the list")

    # -- lookup -------------------------------------------------------------------------
    def _lookup(self, name: str) -> Any:
        """Value of an attribute that is not bound on the class (custom SHOW keys...)."""
        table = type(self)._table
        if table is None:
            raise AttributeError(name)
        attribute = canonical(name)
        if attribute is not None and table.has(attribute):
            return getattr(self, attribute)
        custom = table.custom(self._i)
        if name in custom:
            return custom[name]
        key = normalise(name)
        for candidate, value in custom.items():
            if normalise(candidate) == key:
                return value
        if attribute is not None:
            raise AttributeError(
                f"{name!r}: {attribute} is not in this rule's SHOW clause "
                f"(add it with show_attributes)")
        raise AttributeError(f"file has no attribute {name!r}")

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return self._lookup(name)

    # tuple's own methods must not hide custom SHOW keys of the same names
    count = property(lambda self: self._lookup("count"))  # type: ignore[assignment]
    index = property(lambda self: self._lookup("index"))  # type: ignore[assignment]

    def __getitem__(self, name: str) -> Any:  # type: ignore[override]
        if not isinstance(name, str):
            raise TypeError("file attributes are looked up by name, e.g. f['FILE_SIZE']")
        try:
            return getattr(self, name)
        except AttributeError:
            raise KeyError(name) from None

    def get(self, name: str, default: Any = None) -> Any:
        try:
            return getattr(self, name)
        except AttributeError:
            return default

    def __contains__(self, name: object) -> bool:  # type: ignore[override]
        if not isinstance(name, str):
            return False
        try:
            getattr(self, name)
        except AttributeError:
            return False
        return True

    # -- mapping view -------------------------------------------------------------------
    def as_dict(self) -> dict[str, Any]:
        """Every attribute this file carries, under its documented lower-case name."""
        table = type(self)._table
        values = {public_name(a): getattr(self, a) for a in table.attributes()}
        values.update(table.custom(self._i))
        return values

    def keys(self) -> list[str]:
        return list(self.as_dict())

    def __iter__(self) -> Iterator[str]:  # type: ignore[override]
        return iter(self.keys())

    def __len__(self) -> int:
        return len(self.keys())

    def __bool__(self) -> bool:
        return True

    # -- identity -----------------------------------------------------------------------
    def _identity(self) -> tuple[Any, ...]:
        return (self.get("INODE"), self.get("GENERATION"), self.get("SNAPID"),
                self.get("PATH_NAME"))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, FileAttributes):
            return NotImplemented
        return self._identity() == other._identity()

    def __ne__(self, other: object) -> bool:
        result = self.__eq__(other)
        return result if result is NotImplemented else not result

    def __hash__(self) -> int:
        return hash(self._identity())

    def __repr__(self) -> str:
        return f"<FileAttributes {self.get('PATH_NAME')!r} inode={self.get('INODE')}>"

    def __reduce__(self) -> tuple[Any, ...]:
        return (_detached, (self.as_dict(),))

    def __copy__(self) -> FileAttributes:
        return self

    def __deepcopy__(self, memo: dict) -> FileAttributes:
        return self


class DetachedFileAttributes(FileAttributes):
    """A file-attribute object holding its own values (what unpickling gives)."""

    __slots__ = ()
    _values = _tuplegetter(1, "attribute values")

    def _lookup(self, name: str) -> Any:
        values = self._values
        if name in values:
            return values[name]
        attribute = canonical(name)
        if attribute is not None and public_name(attribute) in values:
            return values[public_name(attribute)]
        key = normalise(name)
        for candidate, value in values.items():
            if normalise(candidate) == key:
                return value
        raise AttributeError(f"file has no attribute {name!r}")

    def as_dict(self) -> dict[str, Any]:
        return dict(self._values)


def _detached(values: dict[str, Any]) -> DetachedFileAttributes:
    return DetachedFileAttributes((0, values))


def detached(values: dict[str, Any]) -> DetachedFileAttributes:
    """A stand-alone file-attribute object over ``values`` (any spelling of the names)."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        attribute = canonical(key)
        out[public_name(attribute) if attribute else key] = value
    return _detached(out)


class _Column:
    """Class-level binding of one attribute: converts the column on first use, then
    replaces itself (under every spelling) by a plain property over the converted list."""

    __slots__ = ("attribute",)

    def __init__(self, attribute: str) -> None:
        self.attribute = attribute

    def __get__(self, obj: Any, cls: type | None = None) -> Any:
        if obj is None:
            return self
        cls = type(obj)
        table = cls._table
        column = table.column(self.attribute)
        table.used(self.attribute)
        prop = property(_row_getter(column))
        for name in spellings(self.attribute):
            setattr(cls, name, prop)
        return column[obj._i]


def _row_getter(column: list) -> Any:
    def get(self: FileAttributes) -> Any:
        return column[self._i]
    return get


def row_class(table: Any, attributes: tuple[str, ...] | list[str],
              inline: tuple[str, ...] = ()) -> type[FileAttributes]:
    """A FileAttributes subclass whose rows read ``table`` (which offers ``attributes``).

    Rows of the class are ``(row number, *values of the inline attributes)``: those are
    read straight from the tuple (no Python code runs), the others from the table.
    """
    namespace: dict[str, Any] = {"__slots__": (), "_table": table,
                                 "__module__": FileAttributes.__module__,
                                 "__qualname__": "FileAttributes"}
    for attribute in attributes:
        binding: Any = _Column(attribute)
        if attribute in inline:
            binding = _tuplegetter(1 + inline.index(attribute), attribute)
        for name in spellings(attribute):
            namespace[name] = binding
    return type("FileAttributes", (FileAttributes,), namespace)
