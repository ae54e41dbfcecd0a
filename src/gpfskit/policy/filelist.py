"""File lists as ``mmapplypolicy`` hands them to EXTERNAL LIST scripts, parsed by column.

Record format (one file per line)::

    InodeNumber GenNumber SnapId  [SHOW text] -- FullPathToFile

one space after the inode and the generation, two after the snapshot id, then the SHOW text
(empty without SHOW), `` -- `` and the path, which runs to the end of the line (it may contain
spaces and `` -- ``; the SHOW text must not contain `` -- ``).

The SHOW text that processing rules ask for is laid out by :class:`Layout`: the values of a
fixed list of attributes separated by ``|``, optionally followed by ``|`` and the value of a
``sort=`` expression (empty where it is NULL), then optionally by ``|`` and the user's custom
SHOW text (``key=value`` pairs). A NULL anywhere in a SHOW expression makes the whole text
empty; such rows read as None for every SHOW attribute.

Escaping: without an ESCAPE clause the engine writes a newline in a path as ``\\n`` and a
backslash as ``\\\\`` (and escapes other special characters backslash-style); with
``ESCAPE '%...'`` every byte outside the unreserved set is written ``%XX``. :class:`FileList`
undoes either, per the layout's ``escape``.

Speed: nothing is parsed per line in Python. A :class:`FileList` covers a range of lines of
one bytes buffer; each column is cut out of all lines at once by one compiled regular
expression (``findall`` runs in C) and converted with C-level ``map`` calls (``int``,
``datetime.fromisoformat``, ``bytes.decode``), and only when some row first reads it. Rows
are :class:`~gpfskit.policy.attributes.FileAttributes` tuples built by ``map`` over row
numbers. The module needs nothing beyond the standard library, so driver processes start fast.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from itertools import repeat
from typing import Any
from urllib.parse import unquote_to_bytes

from gpfskit.policy.attributes import (
    INT,
    KINDS,
    RECORD_FIELDS,
    TIME,
    FileAttributes,
    canonical,
    parse_number,
    parse_pairs,
    parse_time,
    row_class,
)

SEPARATOR = "|"

_PREFIX = rb"[^ \n]* [^ \n]* [^ \n]*  "
# Every pattern starts with the newline that ends the previous line (a literal first
# character lets the regex engine jump from line to line instead of trying every byte) and
# matches at every line: the empty alternative keeps the columns aligned on malformed lines.
_SHOW = re.compile(rb"\n(?:" + _PREFIX + rb"(.*?) -- |)")
# The same for SHOW text without spaces (the usual case), several times faster.
_SHOW_NO_SPACE = re.compile(rb"\n\S* \S* \S*  (\S*) -- ")
_PATH = re.compile(rb"\n(?:" + _PREFIX + rb".*? -- (.*)|)")
_TOKENS = {
    "INODE": re.compile(rb"\n([^ \n]*)"),
    "GENERATION": re.compile(rb"\n(?:[^ \n]* ([^ \n]*)|)"),
    "SNAPID": re.compile(rb"\n(?:[^ \n]* [^ \n]* ([^ \n]*)|)"),
}
_BACKSLASH = re.compile(rb"\\(.)", re.S)
_ESCAPES = {b"n": b"\n", b"t": b"\t", b"r": b"\r"}


@dataclass(frozen=True)
class Layout:
    """How a processing rule's SHOW text is laid out.

    ``fields``: canonical attribute names, in order, values separated by ``|``;
    ``custom``: True when custom SHOW text follows the fields (after one more ``|``);
    ``escape``: the EXTERNAL LIST rule's ESCAPE value (None: no ESCAPE clause);
    ``sort``: True when the value of a sort expression follows the fields (before custom).
    """

    fields: tuple[str, ...] = ()
    custom: bool = False
    escape: str | None = None
    sort: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "fields", tuple(self.fields))
        for name in self.fields:
            if name not in KINDS or name in RECORD_FIELDS:
                raise ValueError(f"{name!r} cannot be a SHOW field")

    @property
    def has_show(self) -> bool:
        return bool(self.fields) or self.custom or self.sort

    @property
    def custom_index(self) -> int:
        """The position of the custom text among the ``|``-separated values."""
        return len(self.fields) + self.sort

    def to_json(self) -> dict[str, Any]:
        return {"fields": list(self.fields), "custom": self.custom, "escape": self.escape,
                "sort": self.sort}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Layout:
        return cls(tuple(data.get("fields", ())), bool(data.get("custom")), data.get("escape"),
                   bool(data.get("sort")))


def _field_pattern(index: int, rest: bool) -> re.Pattern[bytes]:
    skip = rb"(?:[^|\n]*\|)" + b"{%d}" % index if index else b""
    value = rb"(.*)" if rest else rb"([^|\n]*)"
    return re.compile(rb"\n(?:" + skip + value + rb"|)")


def unescape(value: bytes, escape: str | None) -> bytes:
    """Undo the engine's escaping of a path or SHOW text."""
    if escape is None:
        if b"\\" not in value:
            return value
        return _BACKSLASH.sub(lambda m: _ESCAPES.get(m.group(1), m.group(1)), value)
    if b"%" not in value:
        return value
    return unquote_to_bytes(value)


def _decode_all(values: list[bytes], escape: str | None, escaped: bool) -> list[str]:
    if escaped:
        values = [unescape(v, escape) for v in values]
    n = len(values)
    return list(map(bytes.decode, values, repeat("utf-8", n), repeat("surrogateescape", n)))


def _ints(values: list[bytes]) -> list[Any]:
    try:
        return list(map(int, values))
    except ValueError:
        return [parse_number(v) for v in values]


def _times(values: list[bytes]) -> list[Any]:
    try:
        return list(map(datetime.fromisoformat, map(bytes.decode, values)))
    except (ValueError, UnicodeDecodeError):
        return [parse_time(v) for v in values]


class FileList:
    """The records of ``data[start:end]`` (whole lines), with columns parsed on demand."""

    def __init__(self, data: bytes, layout: Layout | None = None, start: int = 0,
                 end: int | None = None, hot: set[str] | None = None) -> None:
        if end is None:
            end = len(data)
        if end > start and data[end - 1:end] != b"\n":
            if end != len(data):
                raise ValueError("a file list range must end at a line end")
            data = data + b"\n"
            end += 1
        if start == 0:
            data = b"\n" + data  # the patterns find each line by the newline before it
            start, end = 1, end + 1
        elif data[start - 1:start] != b"\n":
            raise ValueError("a file list range must start at a line start")
        self.data = data
        self.start = start
        self.end = end
        self.layout = layout or Layout()
        self.n = data.count(b"\n", start, end)
        self._columns: dict[str, list[Any]] = {}
        self._shows: list[bytes] | None = None
        self._null_rows: list[int] | None = None
        self._custom: dict[int, dict[str, Any]] = {}
        marker = b"\\" if self.layout.escape is None else b"%"
        self._escaped = self.n > 0 and data.find(marker, start, end) >= 0
        self._attributes = RECORD_FIELDS + self.layout.fields
        self._row_class: type[FileAttributes] | None = None
        # Attributes rows of earlier chunks of the same stream read: rows carry them inline.
        self._hot = hot
        self._inline: tuple[str, ...] = ()

    # -- construction -------------------------------------------------------------------
    @classmethod
    def from_files(cls, paths: Iterable[str], layout: Layout | None = None) -> FileList:
        """One list over the concatenated contents of several file-list files."""
        parts = []
        for path in paths:
            with open(path, "rb") as handle:
                part = handle.read()
            if part and not part.endswith(b"\n"):
                part += b"\n"
            parts.append(part)
        return cls(b"".join(parts), layout)

    @classmethod
    def chunks(cls, data: bytes, layout: Layout | None = None,
               size: int = 4 << 20) -> Iterator[FileList]:
        """Consecutive lists of about ``size`` bytes each over one copy of ``data``."""
        if data and not data.endswith(b"\n"):
            data += b"\n"
        data = b"\n" + data
        pos = 1
        total = len(data)
        while pos < total:
            cut = data.find(b"\n", min(pos + size, total) - 1)
            end = total if cut < 0 else cut + 1
            yield cls(data, layout, pos, end)
            pos = end

    @classmethod
    def stream(cls, handle: Any, layout: Layout | None = None,
               size: int = 1 << 20) -> Iterator[FileList]:
        """Lists of about ``size`` bytes each read from a binary file object in turn, so that
        memory stays small (and is reused) however long the file is. The attributes rows of
        one chunk read are converted up front in the next ones and carried in the rows."""
        hot: set[str] = set()
        carry = b""
        while True:
            block = handle.read(size)
            if not block:
                break
            buffer = b"\n" + carry + block
            cut = buffer.rfind(b"\n")
            if cut == 0:
                carry = buffer[1:]
                continue
            yield cls(buffer, layout, 1, cut + 1, hot)
            carry = buffer[cut + 1:]
        if carry:
            yield cls(b"\n" + carry + b"\n", layout, 1, hot=hot)

    def __len__(self) -> int:
        return self.n

    # -- what rows can read -------------------------------------------------------------
    def attributes(self) -> tuple[str, ...]:
        return self._attributes

    def has(self, attribute: str) -> bool:
        return attribute in self._attributes

    @property
    def row_class(self) -> type[FileAttributes]:
        if self._row_class is None:
            if self._hot:
                self._inline = tuple(a for a in self._attributes if a in self._hot)
            cls = row_class(self, self._attributes, self._inline)
            self._row_class = cls
            self._class_refs = sys.getrefcount(cls)  # as counted in release(): no rows yet
        return self._row_class

    def release(self) -> bool:
        """Free the parsed columns now if no row of this list is referenced any more.

        A row class and its list refer to each other, so without this they wait for a full
        garbage collection; a driver streaming a long list releases each chunk when done.
        Returns False (and keeps everything) while rows are still in use.
        """
        cls = self._row_class
        if cls is None:
            return True
        if sys.getrefcount(cls) > self._class_refs:
            return False
        for name, value in list(vars(cls).items()):
            if isinstance(value, property) or name == "_table":
                delattr(cls, name)
        self._row_class = None
        self._columns.clear()
        self._custom.clear()
        self._shows = None
        return True

    def used(self, attribute: str) -> None:
        """Note that some row read ``attribute`` (see ``hot``)."""
        if self._hot is not None:
            self._hot.add(attribute)

    def files(self, order: Iterable[int] | None = None) -> Iterator[FileAttributes]:
        """The rows as file-attribute objects, in list order or in ``order`` (row numbers)."""
        cls = self.row_class
        rows = range(self.n) if order is None else order
        if not self._inline:
            return map(cls, zip(rows))
        columns = [self.column(a) for a in self._inline]
        if order is not None:
            order = list(order)
            columns = [[column[i] for i in order] for column in columns]
        return map(cls, zip(rows, *columns))

    # -- columns ------------------------------------------------------------------------
    def _findall(self, pattern: re.Pattern[bytes], data: bytes | None = None) -> list[bytes]:
        if data is None:
            found = pattern.findall(self.data, self.start - 1, self.end - 1)
        else:
            found = pattern.findall(data)
        if len(found) != self.n:  # pragma: no cover - every pattern matches every line
            raise ValueError("malformed file list")
        return found

    def shows(self) -> list[bytes]:
        """The raw SHOW text of every row."""
        if self._shows is None:
            shows: list[bytes] = []
            if self.n and not any(KINDS[f] == TIME for f in self.layout.fields):
                # Every line matches, or the text has spaces somewhere: then counts differ.
                shows = _SHOW_NO_SPACE.findall(self.data, self.start - 1, self.end - 1)
            if len(shows) != self.n:
                shows = self._findall(_SHOW) if self.n else []
            self._shows = shows
        return self._shows

    def _nulls(self) -> list[int]:
        if self._null_rows is None:
            shows = self.shows()
            self._null_rows = [i for i, s in enumerate(shows) if not s] if b"" in shows else []
        return self._null_rows

    def _raw_field(self, index: int) -> list[bytes]:
        layout = self.layout
        if layout.custom_index == 1 and not layout.custom:
            return self.shows()
        rest = layout.custom and index == layout.custom_index  # the custom text: all the rest
        return self._findall(_field_pattern(index, rest), b"\n" + b"\n".join(self.shows()))

    def column(self, attribute: str) -> list[Any]:
        """The converted values of one attribute for every row (None where NULL)."""
        values = self._columns.get(attribute)
        if values is None:
            values = self._build(attribute)
            self._columns[attribute] = values
        return values

    def _build(self, attribute: str) -> list[Any]:
        if not self.n:
            return []
        escape = self.layout.escape
        if attribute == "PATH_NAME":
            return _decode_all(self._findall(_PATH), escape, self._escaped)
        if attribute == "NAME":
            return [p[p.rfind("/") + 1:] for p in self.column("PATH_NAME")]
        if attribute in _TOKENS:
            return _ints(self._findall(_TOKENS[attribute]))
        if attribute not in self.layout.fields:
            raise AttributeError(f"{attribute} is not in this list's SHOW clause")
        raw = self._raw_field(self.layout.fields.index(attribute))
        kind = KINDS[attribute]
        if kind == INT:
            values = _ints(raw)
        elif kind == TIME:
            values = _times(raw)
        else:
            values = _decode_all(raw, escape, self._escaped)
        for row in self._nulls():
            values[row] = None
        return values

    def custom_text(self) -> list[str | None]:
        """The custom SHOW text of every row (None without custom SHOW or where NULL)."""
        values = self._columns.get("\0custom")
        if values is None:
            if not self.layout.custom or not self.n:
                values = [None] * self.n
            else:
                raw = self._raw_field(self.layout.custom_index)
                values = _decode_all(raw, self.layout.escape, self._escaped)
                for row in self._nulls():
                    values[row] = None
            self._columns["\0custom"] = values
        return values

    def custom(self, row: int) -> dict[str, Any]:
        """The ``key=value`` pairs of one row's custom SHOW text."""
        if not self.layout.custom:
            return {}
        pairs = self._custom.get(row)
        if pairs is None:
            text = self.custom_text()[row]
            pairs = parse_pairs(text) if text else {}
            self._custom[row] = pairs
        return pairs

    # -- ordering -----------------------------------------------------------------------
    def first_inode(self) -> int | None:
        if not self.n:
            return None
        space = self.data.find(b" ", self.start, self.end)
        return parse_number(self.data[self.start:space])  # type: ignore[return-value]

    def sort_keys(self, sort: Any) -> list[Any]:
        """One key per row: the inode (``sort`` None), ``sort(file)``, or for a string the
        value of the attribute it names (``-`` in front for descending order is handled by
        :func:`order`) or, in the layout's sort slot, of the SQL expression it is."""
        if sort is None:
            return self.column("INODE")
        if callable(sort):
            return list(map(sort, self.files()))
        attribute = sort_attribute(sort)
        if attribute is not None and self.has(attribute):
            return self.column(attribute)
        if not self.layout.sort:
            raise ValueError(f"cannot sort by {sort!r}: not an attribute this rule shows")
        return self._sort_values()

    def _sort_values(self) -> list[Any]:
        """The sort slot's values: numbers when every value is one, else text."""
        texts = _decode_all(self._raw_field(len(self.layout.fields)), self.layout.escape,
                            self._escaped)
        for row in self._nulls():
            texts[row] = ""
        numbers = [parse_number(t) if t else None for t in texts]
        if all(n is not None for n, t in zip(numbers, texts) if t):
            return numbers
        return [t if t else None for t in texts]

    def order(self, sort: Any) -> list[int] | None:
        """Row numbers in ``sort`` order (None: keep list order, for ``sort=False``)."""
        if sort is False:
            return None
        return order_of(self.sort_keys(sort), descending=descending(sort))


def sort_attribute(sort: Any) -> str | None:
    """The attribute a ``sort=`` string names (``'size'``, ``'-FILE_SIZE'``), else None: the
    string is then an SQL expression."""
    return canonical(sort.removeprefix("-")) if isinstance(sort, str) else None


def descending(sort: Any) -> bool:
    """True for ``'-<attribute>'``: the files in descending order of that attribute."""
    return sort_attribute(sort) is not None and sort.startswith("-")


def order_of(keys: list[Any], descending: bool = False) -> list[int]:
    """Stable order of ``keys`` (None sorts last), as a list of positions."""
    key: Callable[[int], Any] = keys.__getitem__
    if None in keys:
        def key(i: int) -> Any:
            value = keys[i]
            return (value is None, value)
    return sorted(range(len(keys)), key=key, reverse=descending)
