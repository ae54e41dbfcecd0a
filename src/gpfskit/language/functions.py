"""The SQL functions of the policy language, for the reference evaluator.

Strict functions (``STRICT_FUNCTIONS``) receive already-evaluated, non-NULL arguments; a NULL
argument makes the call NULL before they are reached.  Extended-attribute functions get the
record and the context (``record_function``); GETENV, GETMMCONFIG and SNAP_ID consult the
context (``context_function``).

The reference material confirms the names of the extended-attribute functions but not all
their signatures; this module implements:

* ``XATTR(name[, start[, length]])``: the value as text (UTF-8, surrogateescape), optionally a
  1-based byte range of it; NULL when the attribute is absent;
* ``XATTR_INTEGER`` / ``XATTR_FLOAT(name[, start[, length[, byte_order]]])``: without a byte
  order the value is read as decimal text (NULL if it is not a number); with
  ``'BIG_ENDIAN'``, ``'LITTLE_ENDIAN'`` or ``'NATIVE'`` the bytes are a binary integer
  (1, 2, 4 or 8 bytes, signed) or float (4 or 8 bytes);
* ``GETXATTRS([pattern[, prototype]])``: the attributes whose names match ``pattern`` (a
  wildcard pattern; ``'*'`` or empty matches every name), sorted by name and written as the
  ``prototype`` shows one of them (see :func:`_getxattrs`); an empty string when none match;
* ``SETXATTR(name, value)`` and the FPO layout functions: side effects, returning TRUE.
"""

from __future__ import annotations

import fnmatch
import math
import os
import re
import struct
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from .catalog import FUNCTIONS, RECORD_FUNCTIONS, XATTRS_KEY
from .errors import PolicyEvalError
from .timeutil import (
    EPOCH_ORDINAL,
    civil_from_days,
    days_from_civil,
    days_in_month,
    is_leap,
    local_midnight,
    local_offset,
)
from .values import (
    SqlInterval,
    SqlTimestamp,
    as_number,
    parse_number,
    posix_regex,
    to_text,
    to_timestamp_seconds,
)

if TYPE_CHECKING:
    from .evaluate import EvalContext

__all__ = [
    "CONTEXT_FUNCTIONS",
    "STRICT_FUNCTIONS",
    "context_function",
    "record_function",
    "round_half_away",
]

Record = Mapping[str, Any]


def _local_parts(value: Any) -> tuple[int, int] | None:
    """(day number since 1970-01-01, second of day) in local time, or None for NULL."""
    seconds = to_timestamp_seconds(value)
    if seconds is None:
        return None
    whole = math.floor(seconds + local_offset(seconds))
    return divmod(whole, 86400)


def _date_function(extract: Callable[[int, int], Any]) -> Callable[..., Any]:
    def fn(value: Any) -> Any:
        parts = _local_parts(value)
        return None if parts is None else extract(*parts)

    return fn


def _day_of_week(days: int) -> int:
    return (days + EPOCH_ORDINAL) % 7 + 1


def _day_of_year(days: int) -> int:
    year = civil_from_days(days)[0]
    return days - days_from_civil(year, 1, 1) + 1


def _week(days: int) -> int:
    year = civil_from_days(days)[0]
    jan1 = days_from_civil(year, 1, 1)
    return (days - jan1 + _day_of_week(jan1) - 1) // 7 + 1


_DATE_FUNCTIONS: dict[str, Callable[[int, int], Any]] = {
    "DAYS": lambda d, s: d + EPOCH_ORDINAL,
    "YEAR": lambda d, s: civil_from_days(d)[0],
    "MONTH": lambda d, s: civil_from_days(d)[1],
    "DAY": lambda d, s: civil_from_days(d)[2],
    "HOUR": lambda d, s: s // 3600,
    "MINUTE": lambda d, s: s % 3600 // 60,
    "SECOND": lambda d, s: s % 60,
    "DAYOFWEEK": lambda d, s: _day_of_week(d),
    "DAYOFYEAR": lambda d, s: _day_of_year(d),
    "QUARTER": lambda d, s: (civil_from_days(d)[1] - 1) // 3 + 1,
    "WEEK": lambda d, s: _week(d),
    "DAYSINYEAR": lambda d, s: 366 if is_leap(civil_from_days(d)[0]) else 365,
    "DAYSINMONTH": lambda d, s: days_in_month(*civil_from_days(d)[:2]),
}


def _timestamp(value: Any) -> SqlTimestamp | None:
    seconds = to_timestamp_seconds(value)
    return None if seconds is None else SqlTimestamp(seconds)


def _date(value: Any) -> SqlTimestamp | None:
    seconds = to_timestamp_seconds(value)
    return None if seconds is None else SqlTimestamp(local_midnight(seconds))


def _int_arg(value: Any) -> int | None:
    number = as_number(value)
    if number is None:
        return None
    if isinstance(number, float):
        if not math.isfinite(number):
            return None
        number = int(number)
    return number


def _char(value: Any, length: Any = None) -> str | None:
    text = to_text(value)
    if length is None:
        return text
    n = _int_arg(length)
    if n is None:
        return None
    if not 0 <= n <= 255:
        raise PolicyEvalError(f"CHAR length must be between 0 and 255, got {n}")
    return text[:n].ljust(n)


def _hex(value: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        return format(value & 0xFFFFFFFFFFFFFFFF if value < 0 else value, "X")
    return to_text(value).encode("utf-8", "surrogateescape").hex().upper()


def _substr(value: Any, start: Any, length: Any = None) -> str | None:
    text = to_text(value)
    begin = _int_arg(start)
    if begin is None:
        return None
    first = max(begin, 1) - 1
    if length is None:
        return text[first:]
    n = _int_arg(length)
    if n is None:
        return None
    if n < 0:
        raise PolicyEvalError("SUBSTR length must not be negative")
    return text[first : max(begin - 1 + n, first)]


def _int(value: Any) -> int | None:
    return _int_arg(value)


def _mod(a: Any, b: Any) -> int | float | None:
    x, y = as_number(a), as_number(b)
    if x is None or y is None or y == 0:
        return None
    if isinstance(x, int) and isinstance(y, int):
        r = abs(x) % abs(y)
        return r if x >= 0 else -r
    if math.isinf(x):
        return math.nan
    return math.fmod(x, y)


def _floor(value: Any) -> int | float | None:
    x = as_number(value)
    if x is None or isinstance(x, int) or not math.isfinite(x):
        return x
    return float(math.floor(x))


def _ceil(value: Any) -> int | float | None:
    x = as_number(value)
    if x is None or isinstance(x, int) or not math.isfinite(x):
        return x
    return float(math.ceil(x))


def _abs(value: Any) -> Any:
    if isinstance(value, SqlInterval):
        return SqlInterval(abs(value.seconds))
    x = as_number(value)
    return None if x is None else abs(x)


def round_half_away(x: float, digits: int) -> float:
    """Round to ``digits`` decimals, halves away from zero (SQL ROUND)."""
    scale = 10.0**digits
    return math.copysign(math.floor(abs(x) * scale + 0.5) / scale, x)


def _round(value: Any, digits: Any = 0) -> int | float | None:
    x = as_number(value)
    d = _int_arg(digits)
    if x is None or d is None:
        return None
    if isinstance(x, int):
        if d >= 0:
            return x
        unit = 10 ** (-d)
        q = (abs(x) + unit // 2) // unit * unit
        return q if x >= 0 else -q
    if not math.isfinite(x):
        return x
    return round_half_away(x, d)


def _regex(value: Any, pattern: Any) -> bool:
    return posix_regex(to_text(pattern)).search(to_text(value)) is not None


def _regexreplace(value: Any, pattern: Any, replacement: Any) -> str:
    try:
        return posix_regex(to_text(pattern)).sub(to_text(replacement), to_text(value))
    except (IndexError, ValueError) as exc:
        raise PolicyEvalError(f"invalid REGEXREPLACE replacement: {exc}") from None


def _xattr_bytes(record: Record, ctx: EvalContext, name: Any) -> bytes | None:
    name = to_text(name)
    source = record.get(XATTRS_KEY) if isinstance(record, Mapping) else None
    if source is not None:
        raw = source(name) if callable(source) else source.get(name)
    elif ctx.xattr is not None:
        raw = ctx.xattr(record, name)
    else:
        raw = None
    if isinstance(raw, str):
        raw = raw.encode("utf-8", "surrogateescape")
    return raw


def _slice_bytes(raw: bytes, start: Any, length: Any) -> bytes | None:
    if start is None and length is None:
        return raw
    begin = _int_arg(start) if start is not None else 1
    if begin is None:
        return None
    first = max(begin, 1) - 1
    if length is None:
        return raw[first:]
    n = _int_arg(length)
    if n is None:
        return None
    return raw[first : max(begin - 1 + n, first)]


_BYTE_ORDERS = {"BIG_ENDIAN": ">", "LITTLE_ENDIAN": "<", "NATIVE": "="}


def _xattr_number(raw: bytes, option: Any, integer: bool) -> int | float | None:
    if option is None:
        number = parse_number(raw.decode("utf-8", "surrogateescape"))
        if number is None:
            return None
        if integer:
            return int(number) if math.isfinite(number) else None
        return float(number)
    order = _BYTE_ORDERS.get(to_text(option).upper())
    if order is None:
        raise PolicyEvalError(f"unknown byte order {to_text(option)!r}")
    codes = {1: "b", 2: "h", 4: "i", 8: "q"} if integer else {4: "f", 8: "d"}
    code = codes.get(len(raw))
    if code is None:
        return None
    return struct.unpack(order + code, raw)[0]


#: GetXattrs' default prototype: every pair as ``key=hexvalue``, separated by commas.
DEFAULT_XATTRS_PROTOTYPE = "key^n=hexvalue,"

_PROTOTYPE = re.compile(r"key(?:\^n)?(?:=(?P<value>hexvalue|value))?(?P<sep>.*)",
                        re.DOTALL)


def _getxattrs(source: Mapping[str, Any], pattern: str, prototype: str) -> str:
    """GetXattrs: the matching pairs written as ``prototype`` shows one of them.

    A prototype is ``key``, then optionally ``^n`` (accepted; keys are written as they are),
    then optionally ``=value`` (the value as text) or ``=hexvalue`` (its bytes in hex), then
    the separator.  With no ``,`` in the prototype the separator is a space: ``'key'`` gives
    the names separated by spaces, ``'key,'`` separated by commas.
    """
    form = _PROTOTYPE.fullmatch(prototype.strip())
    if form is None:
        raise PolicyEvalError(f"GetXattrs: prototype {prototype!r} does not start with 'key'")
    separator = form["sep"] if "," in form["sep"] else " "
    match_all = pattern in ("", "*")
    pairs = []
    for key in sorted(source):
        if not (match_all or fnmatch.fnmatchcase(key, pattern)):
            continue
        if form["value"] is None:
            pairs.append(key)
            continue
        raw = source[key]
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        text = raw.hex().upper() if form["value"] == "hexvalue" else \
            raw.decode("utf-8", "surrogateescape")
        pairs.append(f"{key}={text}")
    return separator.join(pairs)


def record_function(name: str, args: list[Any], record: Record, ctx: EvalContext) -> Any:
    if name == "SETXATTR":
        if args[0] is None or args[1] is None:
            return None
        attr, value = to_text(args[0]), to_text(args[1])
        if ctx.setxattr is not None:
            ctx.setxattr(record, attr, value)
        else:
            ctx.actions.append(("SETXATTR", record, attr, value))
        return True
    if name in ("SETBGF", "SETWAD", "SETWADFG"):
        ctx.actions.append((name, record, *args))
        return True
    if name == "GETXATTRS":
        source = record.get(XATTRS_KEY) if isinstance(record, Mapping) else None
        if source is None or callable(source):
            source = ctx.xattrs(record) if ctx.xattrs is not None else {}
        pattern = to_text(args[0]) if args and args[0] is not None else "*"
        prototype = to_text(args[1]) if len(args) > 1 and args[1] is not None else \
            DEFAULT_XATTRS_PROTOTYPE
        return _getxattrs(source, pattern, prototype)
    if args[0] is None:
        return None
    raw = _xattr_bytes(record, ctx, args[0])
    if raw is None:
        return None
    if any(a is None for a in args[1:3]):
        return None
    start = args[1] if len(args) > 1 else None
    length = args[2] if len(args) > 2 else None
    sliced = _slice_bytes(raw, start, length)
    if sliced is None:
        return None
    if name == "XATTR":
        return sliced.decode("utf-8", "surrogateescape")
    option = args[3] if len(args) > 3 else None
    return _xattr_number(sliced, option, integer=(name == "XATTR_INTEGER"))


def _lookup(source: Any, key: str) -> Any:
    if source is None:
        return None
    if callable(source):
        return source(key)
    return source.get(key)


def context_function(name: str, args: list[Any], ctx: EvalContext) -> Any:
    key = to_text(args[0])
    if name == "GETENV":
        return (ctx.getenv or os.environ.get)(key)
    if name == "GETMMCONFIG":
        return _lookup(ctx.mmconfig, key)
    return _lookup(ctx.snap_id, key)  # SNAP_ID


STRICT_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "TIMESTAMP": _timestamp,
    "DATE": _date,
    "CHAR": _char,
    "CONCAT": lambda *a: "".join(to_text(x) for x in a),
    "HEX": _hex,
    "LENGTH": lambda x: len(to_text(x)),
    "LOWER": lambda x: to_text(x).lower(),
    "UPPER": lambda x: to_text(x).upper(),
    "SUBSTR": _substr,
    "SUBSTRING": _substr,
    "VARCHAR": to_text,
    "REGEX": _regex,
    "REGEXREPLACE": _regexreplace,
    "INT": _int,
    "INTEGER": _int,
    "MOD": _mod,
    "FLOOR": _floor,
    "CEIL": _ceil,
    "CEILING": _ceil,
    "ABS": _abs,
    "ROUND": _round,
}
for _name, _extract in _DATE_FUNCTIONS.items():
    STRICT_FUNCTIONS[_name] = _date_function(_extract)

CONTEXT_FUNCTIONS = frozenset({"GETENV", "GETMMCONFIG", "SNAP_ID"})

assert set(STRICT_FUNCTIONS) | RECORD_FUNCTIONS | CONTEXT_FUNCTIONS == set(FUNCTIONS)
