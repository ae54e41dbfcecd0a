"""Writing command output the way the real commands print it.

``ytable`` emits the ``-Y`` format (header line, ``:0:1:::`` rows, trailing colon, the
percent-encoding of storage-scale.md §1.2); ``text_table`` lays out the fixed-width human tables.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Sequence

# The characters the real commands percent-encode in -Y values (plus '%' itself), and the
# control characters, which URL encoding also encodes: a newline must not split a record
# (NUL is left out: it cannot occur in a value, and ytable uses it as a stand-in for ':').
_CONTROL = "".join(map(chr, [*range(1, 32), 127]))
_ENCODED = "%!#$&'()*+,/:;=?@[]" + _CONTROL
_CODES = {c: f"%{ord(c):02X}" for c in _ENCODED}
_SPECIAL = re.compile("[" + re.escape(_ENCODED) + "]")


def _percent(text: str) -> str:
    # A regex touches only the few characters that need it; str.translate with multi-character
    # replacements rebuilds every character and is several times slower on long rows.
    return _SPECIAL.sub(lambda m: _CODES[m.group()], text)


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def encode(value: object) -> str:
    """A -Y field: None becomes empty, everything else is str()'d and percent-encoded."""
    return _percent(_text(value))


def ytable(command: str, section: str, columns: Sequence[str],
           rows: Iterable[Sequence[object]], *, raw: Sequence[str] = ()) -> str:
    """One -Y table; columns named in ``raw`` are written without percent-encoding."""
    header = f"{command}:{section}:HEADER:version:reserved:reserved:{':'.join(columns)}:\n"
    raw_idx = {columns.index(c) for c in raw}
    lines = [header]
    prefix = f"{command}:{section}:0:1:::"
    for row in rows:
        # One translate per row: NUL cannot occur in values, so it stands in for ':'.
        fields = _percent("\0".join([v if v.__class__ is str else _text(v) for v in row])
                          ).split("\0")
        for index in raw_idx:
            fields[index] = _text(row[index])
        lines.append(f"{prefix}{':'.join(fields)}:\n")
    return "".join(lines)


def ctime(epoch: float) -> str:
    """C ``ctime()`` style, day space-padded: ``Tue Dec  5 10:44:05 2023``."""
    return time.strftime("%a %b %e %H:%M:%S %Y", time.localtime(epoch))


def banner_time(epoch: float | None = None) -> str:
    """The timestamp prefix of progress lines: ``Wed Nov  1 14:26:35 KST 2017``."""
    return time.strftime("%a %b %e %H:%M:%S %Z %Y", time.localtime(epoch))


def text_table(headings: Sequence[str], rows: Iterable[Sequence[object]],
               *, align: str | None = None, gap: int = 1) -> str:
    """A left/right aligned table; ``align`` holds one 'l' or 'r' per column."""
    rows = [[("" if v is None else str(v)) for v in row] for row in rows]
    align = align or "l" * len(headings)
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(headings)]

    def fmt(cells: Sequence[str]) -> str:
        parts = [c.rjust(w) if a == "r" else c.ljust(w)
                 for c, w, a in zip(cells, widths, align)]
        return (" " * gap).join(parts).rstrip()

    return "\n".join([fmt(headings), *(fmt(r) for r in rows)]) + "\n"


def kib(nbytes: int) -> int:
    """Bytes to KiB, rounded up (how block usage is reported)."""
    return -(-int(nbytes) // 1024)
