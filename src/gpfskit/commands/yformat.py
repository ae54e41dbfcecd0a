"""Parser for the colon-separated ``-Y`` output of Storage Scale commands.

``<cmd>:<section>:HEADER:version:reserved:reserved:<col>...:`` names the columns of every later
``<cmd>:<section>:0:1:::<val>...:`` line with the same key. Values are percent-encoded; ``-``,
``--`` and ``(undefined)`` mean "no value". Rows are zipped against the header, so rows longer
or shorter than the header (seen in real output) still parse. Columns whose name repeats (a
real ``mmlsfileset`` header has ``reserved`` twice) get ``_2``, ``_3``... suffixes.
"""

from __future__ import annotations

from collections import defaultdict
from urllib.parse import unquote

NULLS = frozenset({"-", "--", "(undefined)"})

Row = dict[str, str | None]


def decode(value: str, *, nulls: bool = True) -> str | None:
    text = unquote(value)
    if nulls and text in NULLS:
        return None
    return text


def _column_names(fields: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    names = []
    for name in fields:
        seen[name] = seen.get(name, 0) + 1
        names.append(name if seen[name] == 1 else f"{name}_{seen[name]}")
    return names


def parse(text: str, *, nulls: bool = True) -> dict[tuple[str, str], list[Row]]:
    """All tables in ``text``, keyed by (reporting command, section)."""
    headers: dict[tuple[str, str], list[str]] = {}
    tables: dict[tuple[str, str], list[Row]] = defaultdict(list)
    for line in text.splitlines():
        fields = line.split(":")
        if len(fields) < 6 or line.startswith("***"):
            continue
        key = (fields[0], fields[1])
        body = fields[6:]
        if body and body[-1] == "":
            body = body[:-1]
        if fields[2] == "HEADER":
            headers[key] = _column_names(body)
            tables.setdefault(key, [])
        elif key in headers:
            tables[key].append(
                {name: decode(value, nulls=nulls) for name, value in zip(headers[key], body)}
            )
    return dict(tables)


def parse_table(text: str, section: str = "", *, nulls: bool = True) -> list[Row]:
    """The rows of one section (the empty section for single-table commands)."""
    for (_, sec), rows in parse(text, nulls=nulls).items():
        if sec == section:
            return rows
    return []
