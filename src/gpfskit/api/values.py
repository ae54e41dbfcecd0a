"""Turning the text values of command output into Python values, and back."""

from __future__ import annotations

import re
import time
from datetime import datetime

from gpfskit.api.checks import MAX_NUMBER

_CTIME_FORMATS = ("%a %b %d %H:%M:%S %Y", "%a %b %d %H:%M:%S %Z %Y", "%Y-%m-%d %H:%M:%S")


def to_int(value: str | int | None) -> int | None:
    """``'42'`` -> 42; ``None``/``''``/non-numbers -> None. A ``*`` suffix (``1*``) is ignored."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    text = value.strip().rstrip("*")
    try:
        return int(text)
    except ValueError:
        return None


def to_bool(value: str | bool | None) -> bool | None:
    """``yes``/``no`` in any case (also ``1``/``0``, ``on``/``off``) -> bool; else None."""
    if value is None or isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("yes", "y", "1", "on", "true"):
        return True
    if text in ("no", "n", "0", "off", "false"):
        return False
    return None


def to_datetime(value: str | None) -> datetime | None:
    """A C ``ctime()`` style time (``Tue Dec  5 10:44:05 2023``) as a naive local datetime."""
    if not value:
        return None
    text = " ".join(value.split())
    for fmt in _CTIME_FORMATS:
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            continue
    return None


def ctime(when: float | None = None) -> str:
    """The ctime() text the commands print, for rows synthesised during a dry run."""
    return time.strftime("%a %b %e %H:%M:%S %Y", time.localtime(when))


def natural(value: str | None) -> str | int | None:
    """Digits become an int; anything else stays as it is (used for mmlsfs values)."""
    if value is not None and re.fullmatch(r"-?\d+", value):
        return int(value)
    return value


_BLOCK = re.compile(r"^(\d+)\s*([KMGTP]?)$", re.IGNORECASE)
_FACTORS = {"": 1, "K": 1, "M": 1024, "G": 1024**2, "T": 1024**3, "P": 1024**4}
MAX_BLOCK_KB = 999_999_999_999_999


def block_limit(value: int | str, what: str) -> tuple[str, int]:
    """A block quota limit as (mmsetquota argument, KiB).

    Integers (and digit-only strings) are KiB, the unit ``mmrepquota`` reports; strings may
    carry a ``K``, ``M``, ``G``, ``T`` or ``P`` suffix (``'10G'``).
    """
    if isinstance(value, bool):
        raise ValueError(f"{what} must be a size such as 1048576 (KiB) or '10G', not {value!r}")
    text = str(value).strip() if isinstance(value, (int, str)) else None
    match = _BLOCK.match(text) if text is not None else None
    if not match:
        raise ValueError(f"{what} must be a size such as 1048576 (KiB) or '10G', not {value!r}")
    number, unit = int(match.group(1)), match.group(2).upper()
    kib = number * _FACTORS[unit]
    if kib > MAX_BLOCK_KB:
        raise ValueError(f"{what} {value!r} is above the largest block limit "
                         f"({MAX_BLOCK_KB} KiB)")
    return (f"{number}{unit or 'K'}" if number else "0"), kib


def files_limit(value: int | str, what: str) -> int:
    """An inode (files) quota limit: a non-negative whole number."""
    number = value if isinstance(value, int) and not isinstance(value, bool) else (
        int(value) if isinstance(value, str) and re.fullmatch(r"\s*[0-9]+\s*", value) else None)
    if number is None or not 0 <= number <= MAX_NUMBER:
        raise ValueError(f"{what} must be a whole number of files up to {MAX_NUMBER}, "
                         f"not {value!r}")
    return number
