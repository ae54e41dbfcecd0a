"""File-list records: what EXTERNAL LIST / EXTERNAL POOL scripts read, one file per line.

Format (reference §4.5)::

    InodeNumber GenNumber SnapId  [SHOW] -- FullPath\\n

one space after the inode and the generation, two before the SHOW text (so three spaces
before ``--`` when there is none), then `` -- `` and the path::

    48900 1741777473 0   -- /filesystem/file1
    72733306044 1910420955 0  1000:64451:128 -- /work/bob/a

Escaping of paths and SHOW text:

* ``ESCAPE '%'``: every byte outside the RFC 3986 unreserved set (``A-Z a-z 0-9 - _ . ~``)
  is written as ``%XX`` (upper-case hex), ``%`` itself included.
* ``ESCAPE '%/+@#'`` (any characters after the ``%``): those characters are also kept.
* No ESCAPE clause: the text is written as it is except that a newline becomes ``\\n`` and a
  backslash ``\\\\``, so that one record stays one line and the escaping can be undone. (What
  the real product does there is not confirmed; this is the smallest reversible rule.)

A NULL SHOW value is written as no text. ``write_records`` works on a whole filtered batch
at once (in C when the extension is built, else vectorised numpy plus one join);
``parse_records`` splits each line on the first `` -- `` (paths may contain spaces and
`` -- ``; SHOW text should not, unless escaped).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Iterator, Sequence
from typing import IO, Any, NamedTuple

import numpy as np
import pyarrow as pa

from gpfskit.emulator.scan import _pywalk
from gpfskit.emulator.scan.escape import escape_table

try:
    from gpfskit.emulator.scan import _walk  # type: ignore[attr-defined]
except ImportError:
    _walk = None

class Record(NamedTuple):
    inode: int
    gen: int
    snapid: int
    show: bytes | str
    path: bytes | str


def _binary_parts(array: Any, n: int) -> tuple[Any, np.ndarray, np.ndarray | None]:
    """(data buffer, int32 offsets (n + 1), validity bytes or None) of a binary-like array."""
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    if not isinstance(array, pa.Array):
        array = pa.array([v.encode() if isinstance(v, str) else v for v in array], pa.binary())
    if pa.types.is_large_binary(array.type) or pa.types.is_large_string(array.type) or \
            pa.types.is_string(array.type):
        array = array.cast(pa.binary())
    elif not pa.types.is_binary(array.type):
        array = array.cast(pa.string()).cast(pa.binary())
    if len(array) != n:
        raise ValueError(f"expected {n} values, got {len(array)}")
    buffers = array.buffers()
    offsets = np.frombuffer(buffers[1], np.int32)[array.offset: array.offset + n + 1]
    data = buffers[2] if buffers[2] is not None else b""
    valid = None
    if array.null_count:
        valid = np.asarray(array.is_valid(), np.uint8)
    return data, np.ascontiguousarray(offsets), valid


def _int64(column: Any) -> np.ndarray:
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    if isinstance(column, pa.Array):
        column = column.to_numpy(zero_copy_only=False)
    return np.ascontiguousarray(column, np.int64)


def format_records(batch: pa.RecordBatch | pa.Table, *, snap_id: int = 0,
                   show: Any = None, escape: str | None = None) -> bytes | memoryview:
    """The records for every row of ``batch`` (INODE, GENERATION, PATH_NAME columns).

    ``show`` is None or one value per row (a pyarrow string/binary array or a sequence;
    NULL = no text); ``escape`` is the EXTERNAL rule's ESCAPE value or None.
    """
    n = batch.num_rows
    inode = _int64(batch.column("INODE"))
    gen = _int64(batch.column("GENERATION"))
    pdata, poff, _ = _binary_parts(batch.column("PATH_NAME"), n)
    sdata = soff = svalid = None
    if show is not None:
        sdata, soff, svalid = _binary_parts(show, n)
    table, mode = escape_table(escape)
    if _walk is not None:
        out = _walk.format_records(inode, gen, int(snap_id), pdata, poff, sdata, soff, svalid,
                                   table, mode)
        return memoryview(out)
    return _format_python(inode, gen, int(snap_id), pdata, poff, sdata, soff, svalid, table,
                          mode)


def _format_python(inode: np.ndarray, gen: np.ndarray, snap_id: int, pdata: Any,
                   poff: np.ndarray, sdata: Any, soff: np.ndarray | None,
                   svalid: np.ndarray | None, table: bytes, mode: int) -> bytes:
    paths = _split(pdata, poff, table, mode)
    shows: Sequence[bytes] = [b""] * len(inode)
    if sdata is not None and soff is not None:
        shows = _split(sdata, soff, table, mode)
        if svalid is not None:
            shows = [s if ok else b"" for s, ok in zip(shows, svalid)]
    snap = b"%d" % snap_id
    return b"".join(
        b"%d %d %s  %s -- %s\n" % (i, g, snap, s, p)
        for i, g, s, p in zip(inode.tolist(), gen.tolist(), shows, paths)
    )


def _split(data: Any, offsets: np.ndarray, table: bytes, mode: int) -> list[bytes]:
    escaped = _pywalk.escape(data, offsets, table, mode)
    if escaped is not None:
        blob, offs = escaped
        blob = bytes(blob)
    else:
        blob = bytes(memoryview(data)[offsets[0]: offsets[-1]])
        offs = offsets - offsets[0]
    bounds = offs.tolist()
    return [blob[a:b] for a, b in itertools.pairwise(bounds)]


def write_records(out: IO[bytes], batch: pa.RecordBatch | pa.Table, *, snap_id: int = 0,
                  show: Any = None, escape: str | None = None) -> int:
    """Write the records of ``batch`` to the binary stream ``out``; returns the row count."""
    out.write(format_records(batch, snap_id=snap_id, show=show, escape=escape))
    return batch.num_rows


def escape_paths(array: pa.Array, escape: str | None) -> pa.Array:
    """A binary array escaped the way ``write_records`` escapes paths and SHOW text."""
    n = len(array)
    data, offsets, valid = _binary_parts(array, n)
    table, mode = escape_table(escape)
    impl = _walk.escape if _walk is not None else _pywalk.escape
    escaped = impl(data, offsets, table, mode)
    if escaped is None:
        return array if pa.types.is_binary(array.type) else array.cast(pa.binary())
    blob, offs = escaped
    bitmap = None
    if valid is not None:
        bitmap = pa.py_buffer(np.packbits(valid.astype(bool), bitorder="little"))
    return pa.Array.from_buffers(pa.binary(), n, [bitmap, pa.py_buffer(offs), pa.py_buffer(blob)])


_PERCENT = re.compile(rb"%([0-9A-Fa-f]{2})")
_BACKSLASH = re.compile(rb"\\(.)", re.DOTALL)


def unescape(value: bytes, escape: str | None) -> bytes:
    """Undo the record escaping of a path or SHOW text."""
    if escape is None:
        if b"\\" not in value:
            return value
        return _BACKSLASH.sub(lambda m: b"\n" if m.group(1) == b"n" else m.group(1), value)
    if b"%" not in value:
        return value
    return _PERCENT.sub(lambda m: bytes([int(m.group(1), 16)]), value)


def parse_records(lines: Iterable[bytes | str], *, escape: str | None = None,
                  decode: bool = True) -> Iterator[Record]:
    """Read records back: (inode, gen, snapid, show, path) per line.

    Lines may be bytes or str (the fields come back as the same type), with or without
    their newline. With ``decode`` the path and SHOW text are unescaped per ``escape``
    (the ESCAPE value the writer used, None for none); str input is decoded back to str
    with UTF-8/surrogateescape.
    """
    for line in lines:
        text = line.encode("utf-8", "surrogateescape") if isinstance(line, str) else line
        if text.endswith(b"\n"):
            text = text[:-1]
        if not text:
            continue
        left, sep, path = text.partition(b" -- ")
        if not sep:
            raise ValueError(f"not a file-list record (no ' -- '): {line!r}")
        parts = left.split(b" ", 3)
        if len(parts) < 3:
            raise ValueError(f"not a file-list record: {line!r}")
        rest = parts[3] if len(parts) > 3 else b""
        show = rest[1:] if rest.startswith(b" ") else rest
        if decode:
            path = unescape(path, escape)
            show = unescape(show, escape)
        if isinstance(line, str):
            yield Record(int(parts[0]), int(parts[1]), int(parts[2]),
                         show.decode("utf-8", "surrogateescape"),
                         path.decode("utf-8", "surrogateescape"))
        else:
            yield Record(int(parts[0]), int(parts[1]), int(parts[2]), show, path)
