"""The rule applicability table ``mmapplypolicy -L 1`` (and higher) prints at the end::

    [I] Summary of Rule Applicability and File Choices:
     Rule#   Hit_Cnt    KB_Hit    Chosen   KB_Chosen    KB_Ill     Rule
         0        14      1312        14        1312         0     RULE 'l' LIST 'x' WHERE(.)

Columns are read from the header line, so added or reordered columns still parse; every
value is kept as the string printed, under the lower-cased column name (``kb_chosen``), and
``rule`` holds the rule text. ``Rule#`` counts the policy's file-selecting rules (MIGRATE,
DELETE, LIST, EXCLUDE) from 0, in file order; a row whose text names its rule is matched by
that name first.
"""

from __future__ import annotations

import re

_HEADER = re.compile(r"^\s*Rule#\s")
_NAME = re.compile(r"\bRULE\s+'((?:[^']|'')*)'", re.I)


def parse_applicability(text: str) -> list[dict[str, str]]:
    """The rows of the applicability table(s) in ``text``, in order."""
    rows: list[dict[str, str]] = []
    columns: list[str] | None = None
    for line in text.splitlines():
        if _HEADER.match(line):
            columns = [c.lower() for c in line.split()]
            continue
        if columns is None:
            continue
        words = line.split(None, len(columns) - 1)
        if len(words) < len(columns) - 1 or not words[0].isdigit():
            columns = None
            continue
        row = dict(zip(columns, words))
        row.setdefault(columns[-1], "")
        rows.append(row)
    return rows


def rule_name(text: str) -> str | None:
    """The name in ``RULE 'name' ...`` (None for an unnamed rule)."""
    m = _NAME.search(text)
    return m.group(1).replace("''", "'") if m else None
