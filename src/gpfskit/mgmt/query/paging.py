"""``max_results`` and ``page``: whole numbers, checked, with the page size capped."""

from __future__ import annotations

import re
from typing import Any

from gpfskit.mgmt.query.errors import QueryError

MAX_PAGE = 2**31 - 1
_WHOLE = re.compile(r"[0-9]{1,18}")


def _whole(name: str, value: Any, upper: int | None = None) -> int:
    """``value`` (an int or its decimal text) if it is from 1 to ``upper``."""
    expected = f"a whole number from 1 to {upper}" if upper else "a whole number of at least 1"
    if isinstance(value, str) and _WHOLE.fullmatch(value.strip()):
        number = int(value.strip())
    elif isinstance(value, int) and not isinstance(value, bool):
        number = value
    else:
        raise QueryError(f"{name}: expected {expected}, got {value!r}")
    if number < 1 or (upper is not None and number > upper):
        raise QueryError(f"{name}: expected {expected}, got {number}")
    return number


def parse_paging(max_results: Any, page: Any, default_page_size: int,
                 max_page_size: int) -> tuple[int, int]:
    """The effective (page, page size). A page size above the cap is lowered to the cap."""
    if not 1 <= default_page_size <= max_page_size:
        raise ValueError("need 1 <= default_page_size <= max_page_size")
    size = default_page_size
    if max_results is not None and max_results != "":
        size = min(_whole("max_results", max_results), max_page_size)
    number = 1 if page is None or page == "" else _whole("page", page, MAX_PAGE)
    return number, size
