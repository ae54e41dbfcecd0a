"""Query values coerced to the type of the column they are compared with.

A query arrives as text, so ``{"size": "10"}`` and ``size == 10`` must both mean the integer 10,
and ``created > "2026-01-31T12:00:00Z"`` a date-time. What cannot be coerced exactly is an error
that names the field and the value; a value never reaches SQL as a string compared with a
number. Null (``None``) is valid for every field.
"""

from __future__ import annotations

import datetime as dt
import decimal
import math
import re
import uuid
from typing import Any

from sqlalchemy import types

from gpfskit.mgmt.query.errors import QueryError
from gpfskit.mgmt.query.fields import FieldPath

INT64 = (-(2**63), 2**63 - 1)
_INTEGER_TEXT = re.compile(r"[+-]?[0-9]+")
_NUMBER_TEXT = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?")


def kind(type_: types.TypeEngine) -> str:
    """The family of a column type: integer, number, boolean, datetime, date, choice, uuid, text
    or other (not comparable)."""
    if isinstance(type_, types.TypeDecorator):
        type_ = type_.impl_instance
    families = (
        (types.Boolean, "boolean"), (types.Integer, "integer"), (types.Float, "number"),
        (types.Numeric, "number"),
        (types.DateTime, "datetime"), (types.Date, "date"), (types.Enum, "choice"),
        (types.Uuid, "uuid"), (types.String, "text"),
    )
    return next((family for cls, family in families if isinstance(type_, cls)), "other")


def _describe(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f"the text {value!r}"
    if isinstance(value, int | float):
        return f"the number {value!r}"
    return repr(value)


def _integer(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    elif isinstance(value, str) and _INTEGER_TEXT.fullmatch(value.strip()):
        number = int(value.strip())
    else:
        return None
    return number if INT64[0] <= number <= INT64[1] else None


def _number(value: Any, as_decimal: bool) -> float | decimal.Decimal | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    if isinstance(value, str) and not _NUMBER_TEXT.fullmatch(value.strip()):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    if not math.isfinite(number):
        return None
    return decimal.Decimal(str(value).strip()) if as_decimal else number


def _boolean(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return None


def _datetime(value: Any, aware: bool) -> dt.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = dt.datetime.fromisoformat(value.strip())
        if aware and moment.tzinfo is None:
            return moment.replace(tzinfo=dt.UTC)
        if not aware and moment.tzinfo is not None:
            return moment.astimezone(dt.UTC).replace(tzinfo=None)
    except (ValueError, OverflowError):  # not ISO 8601, or out of range once in UTC
        return None
    return moment


def _date(value: Any) -> dt.date | None:
    if not isinstance(value, str):
        return None
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        return None


def text(value: Any) -> str | None:
    """``value`` if it is text that every database stores (no NUL, valid Unicode)."""
    if not isinstance(value, str) or "\x00" in value:
        return None
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return None
    return value


def _choice(value: Any, type_: types.Enum) -> Any:
    if text(value) is None or value not in type_.enums:
        return None
    return type_.enum_class[value] if type_.enum_class is not None else value


def _uuid(value: Any) -> uuid.UUID | None:
    if not isinstance(value, str):
        return None
    try:
        return uuid.UUID(value.strip())
    except ValueError:
        return None


_EXPECTED = {
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
    "datetime": "an ISO 8601 date-time such as 2026-01-31T12:00:00Z",
    "date": "an ISO 8601 date such as 2026-01-31",
    "uuid": "a UUID",
    "text": "text",
    "other": "nothing (it can only be tested for null)",
}


def coerce(field: FieldPath, value: Any) -> Any:
    """``value`` as the Python type of ``field``'s column, or a QueryError naming both."""
    if value is None:
        return None
    type_ = field.column_type
    if isinstance(type_, types.TypeDecorator):
        type_ = type_.impl_instance
    family = kind(type_)
    if family == "integer":
        result = _integer(value)
    elif family == "number":
        result = _number(value, bool(getattr(type_, "asdecimal", False))
                         and not isinstance(type_, types.Float))
    elif family == "boolean":
        result = _boolean(value)
    elif family == "datetime":
        result = _datetime(value, bool(getattr(type_, "timezone", False)))
    elif family == "date":
        result = _date(value)
    elif family == "choice":
        result = _choice(value, type_)
        if result is None:
            raise QueryError(f"field {field.name!r} is one of {', '.join(type_.enums)}; "
                             f"got {_describe(value)}")
    elif family == "uuid":
        result = _uuid(value)
    elif family == "text":
        result = text(value)
    else:
        result = None
    if result is None:
        raise QueryError(f"field {field.name!r} takes {_EXPECTED[family]}; got {_describe(value)}")
    return result
