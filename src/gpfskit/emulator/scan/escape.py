"""The escaping of paths and SHOW text in file-list records, as a byte table.

See ``records`` for the rules. The table is what both record writers (the C
``_walk.format_records`` and the NumPy twin) take: one byte per byte value, 1 = written as
it is; ``mode`` 0 is ``%XX`` escaping, 1 the backslash escaping of the no-ESCAPE case.
"""

from __future__ import annotations

UNRESERVED = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~"


def escape_table(escape: str | None) -> tuple[bytes, int]:
    """(256-byte keep table, mode) for an ESCAPE clause value (None: no clause)."""
    if escape is None:
        table = bytearray(b"\x01" * 256)
        table[ord("\n")] = 0
        table[ord("\\")] = 0
        return bytes(table), 1
    if not escape.startswith("%"):
        raise ValueError(f"ESCAPE must start with '%': {escape!r}")
    table = bytearray(256)
    for byte in UNRESERVED + escape[1:].encode("utf-8"):
        table[byte] = 1
    table[ord("%")] = 0
    return bytes(table), 0
