"""Local-time arithmetic shared by the per-record and the vectorised evaluators.

The product interprets timestamps in the local time zone.  Both evaluators convert epoch
seconds to local wall-clock time through the same UTC-offset table (built once from
``time.localtime`` and rebuilt when ``TZ`` changes) and split dates with the same integer
formulas, so they agree exactly, including around daylight-saving changes.

Date arithmetic uses the proleptic Gregorian calendar with day numbers counted from
1970-01-01 (``days``); ``DAYS()`` of the SQL dialect is ``days + 719163`` (1 = 0001-01-01).
"""

from __future__ import annotations

import bisect
import math
import os
import re
import time

__all__ = [
    "EPOCH_ORDINAL",
    "civil_from_days",
    "civil_parts",
    "days_from_civil",
    "format_timestamp",
    "local_midnight",
    "local_offset",
    "offset_table",
    "parse_timestamp",
    "to_epoch",
]

#: ``date(1970, 1, 1).toordinal()``: DAYS() of the Unix epoch.
EPOCH_ORDINAL = 719163

_TABLE_START = -2208988800  # 1900-01-01T00:00:00Z
_TABLE_END = 4102444800  # 2100-01-01T00:00:00Z
_STEP = 7 * 86400


class OffsetTable:
    """Piecewise-constant UTC offsets: ``offsets[k]`` applies from ``times[k-1]``."""

    def __init__(self) -> None:
        def offset(t: int) -> int:
            try:
                return time.localtime(t).tm_gmtoff
            except (OverflowError, OSError, ValueError):  # pragma: no cover - exotic platforms
                return 0

        times: list[int] = []
        offsets = [offset(_TABLE_START)]
        prev_t, prev_o = _TABLE_START, offsets[0]
        t = _TABLE_START
        while t < _TABLE_END:
            t = min(t + _STEP, _TABLE_END)
            o = offset(t)
            if o != prev_o:
                lo, hi = prev_t, t
                while hi - lo > 1:
                    mid = (lo + hi) // 2
                    if offset(mid) == prev_o:
                        lo = mid
                    else:
                        hi = mid
                times.append(hi)
                offsets.append(o)
            prev_t, prev_o = t, o
        self.times = times
        self.offsets = offsets


_tables: dict[tuple, OffsetTable] = {}


def offset_table() -> OffsetTable:
    """The UTC-offset table of the current local time zone (built once per zone)."""
    key = (os.environ.get("TZ"), time.tzname, time.timezone, time.altzone)
    table = _tables.get(key)
    if table is None:
        table = _tables[key] = OffsetTable()
    return table


def local_offset(seconds: float) -> int:
    """UTC offset in seconds of local time at the instant ``seconds`` (epoch seconds)."""
    table = offset_table()
    if not table.times:
        return table.offsets[0]
    return table.offsets[bisect.bisect_right(table.times, seconds)]


def to_epoch(local_seconds: float) -> float:
    """Inverse of local conversion: epoch seconds whose local wall-clock is ``local_seconds``."""
    guess = local_seconds - local_offset(local_seconds)
    return local_seconds - local_offset(guess)


# -- calendar ---------------------------------------------------------------------------------


def civil_parts(days):
    """(era, year of era, March-based month, day) of day number ``days``.

    The shared arithmetic of ``civil_from_days`` and its vectorised twin in
    :mod:`.vectorized`: only integer operators, so it works on Python ints and int64 arrays
    alike.
    """
    z = days + 719468
    era = z // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    day = doy - (153 * mp + 2) // 5 + 1
    return era, yoe, mp, day


def civil_from_days(days: int) -> tuple[int, int, int]:
    """(year, month, day) of day number ``days`` (0 = 1970-01-01)."""
    era, yoe, mp, day = civil_parts(days)
    month = mp + 3 if mp < 10 else mp - 9
    year = yoe + era * 400 + (1 if month <= 2 else 0)
    return year, month, day


def days_from_civil(year: int, month: int, day: int) -> int:
    """Day number (0 = 1970-01-01) of a proleptic Gregorian date."""
    year -= 1 if month <= 2 else 0
    era = year // 400
    yoe = year - era * 400
    doy = (153 * (month + (-3 if month > 2 else 9)) + 2) // 5 + day - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


_MONTH_DAYS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def days_in_month(year: int, month: int) -> int:
    return 29 if month == 2 and is_leap(year) else _MONTH_DAYS[month - 1]


def local_midnight(seconds: float) -> float:
    """Epoch seconds of the local midnight starting the day that contains ``seconds``."""
    local = seconds + local_offset(seconds)
    return to_epoch(math.floor(local / 86400) * 86400)


# -- text -------------------------------------------------------------------------------------

_TS_RE = re.compile(
    r"\s*(-?\d{1,4})-(\d{1,2})-(\d{1,2})"
    r"(?:[ T@-](\d{1,2})[:.](\d{1,2})(?:[:.](\d{1,2})(?:\.(\d{1,6}))?)?)?\s*"
)


def parse_timestamp(text: str) -> float | None:
    """Epoch seconds of a local date/time string, or None if it is not one.

    Accepted: ``YYYY-MM-DD``, optionally followed by `` ``, ``T``, ``@`` or ``-`` and
    ``HH:MM[:SS[.ffffff]]`` (``.`` may replace ``:``, as in ``2024-01-01-10.00.00``).
    """
    m = _TS_RE.fullmatch(text)
    if m is None:
        return None
    year, month, day = int(m.group(1)), int(m.group(2)), int(m.group(3))
    hour = int(m.group(4) or 0)
    minute = int(m.group(5) or 0)
    second = int(m.group(6) or 0)
    fraction = m.group(7)
    if not (1 <= month <= 12 and 1 <= day <= days_in_month(year, month)):
        return None
    if hour > 23 or minute > 59 or second > 59:
        return None
    local = days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second
    epoch = to_epoch(local)
    if fraction:
        epoch += int(fraction.ljust(6, "0")) / 1e6
    return epoch


def format_timestamp(seconds: float) -> str:
    """``YYYY-MM-DD HH:MM:SS`` in local time, with ``.ffffff`` when there is a fraction."""
    local = seconds + local_offset(seconds)
    whole = math.floor(local)
    days, sod = divmod(whole, 86400)
    year, month, day = civil_from_days(days)
    hour, minute, second = sod // 3600, sod % 3600 // 60, sod % 60
    text = f"{year:04d}-{month:02d}-{day:02d} {hour:02d}:{minute:02d}:{second:02d}"
    micros = min(round((local - whole) * 1e6), 999999)
    if micros:
        text += f".{micros:06d}"
    return text
