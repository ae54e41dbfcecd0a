"""Runtime values of the SQL dialect and the conversions between them.

Values are plain Python objects: ``None`` (NULL), ``bool``, ``int``, ``float``, ``str``, plus
:class:`SqlTimestamp` and :class:`SqlInterval`, which wrap seconds so that timestamp
arithmetic and comparisons can follow SQL rules instead of float rules.
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass

from .errors import PolicyEvalError
from .timeutil import format_timestamp, parse_timestamp

__all__ = [
    "SqlInterval",
    "SqlTimestamp",
    "as_number",
    "like_regex",
    "like_to_arrow",
    "parse_number",
    "posix_regex",
    "posix_regex_re2",
    "to_number",
    "to_text",
    "to_timestamp_seconds",
]


@dataclass(frozen=True, order=True, slots=True)
class SqlTimestamp:
    """A point in time, as seconds since the Unix epoch (shown in local time)."""

    seconds: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "seconds", float(self.seconds))

    def __str__(self) -> str:
        return format_timestamp(self.seconds)


@dataclass(frozen=True, order=True, slots=True)
class SqlInterval:
    """A duration in seconds (the result of ``ts - ts`` or ``INTERVAL 'n' unit``)."""

    seconds: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "seconds", float(self.seconds))

    def __str__(self) -> str:
        seconds = self.seconds
        if math.isfinite(seconds) and seconds.is_integer():
            return str(int(seconds))
        return repr(seconds)


# ASCII only: int() and float() would accept other Unicode digits and reject some Unicode
# blanks (such as \x1f) that a plain \s matches.
_NUMBER_RE = re.compile(r"[+-]?(?:\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)", re.ASCII)
_INT_RE = re.compile(r"[+-]?\d+", re.ASCII)
_BLANKS = " \t\n\r\f\v"


def parse_number(text: str) -> int | float | None:
    """The number written in ``text`` (int when it has no point or exponent), else None."""
    text = text.strip(_BLANKS)
    if _INT_RE.fullmatch(text):
        return int(text)
    if _NUMBER_RE.fullmatch(text):
        return float(text)
    return None


def _number_text(value: int | float) -> str:
    return repr(value) if isinstance(value, float) else str(value)


def to_text(value: object) -> str | None:
    """VARCHAR conversion: the text form the product would show for ``value``."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, float)):
        return _number_text(value)
    if isinstance(value, (SqlTimestamp, SqlInterval)):
        return str(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", "surrogateescape")
    raise PolicyEvalError(f"cannot convert {type(value).__name__} to text")


def to_number(value: object) -> int | float | None:
    """Numeric conversion; strings that are not numbers give None (NULL)."""
    if value is None or isinstance(value, (int, float)):
        return value  # bool is an int
    if isinstance(value, str):
        return parse_number(value)
    if isinstance(value, (SqlTimestamp, SqlInterval)):
        return value.seconds
    raise PolicyEvalError(f"cannot convert {type(value).__name__} to a number")


def as_number(value: object) -> int | float | None:
    """Operand of arithmetic and numeric functions: booleans count as 0/1, text is parsed
    (NULL if it is not a number), timestamps and intervals are rejected."""
    if isinstance(value, (SqlTimestamp, SqlInterval)):
        raise PolicyEvalError("unexpected timestamp or interval")
    if isinstance(value, bool):
        return int(value)
    return to_number(value)


def to_timestamp_seconds(value: object) -> float | None:
    """Seconds since the epoch for a timestamp, a date string or a number of seconds."""
    if value is None:
        return None
    if isinstance(value, SqlTimestamp):
        return value.seconds
    if isinstance(value, str):
        return parse_timestamp(value)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value) if math.isfinite(value) else None
    raise PolicyEvalError(f"expected a timestamp, got {type(value).__name__}")


# -- LIKE -------------------------------------------------------------------------------------


def _like_tokens(pattern: str, escape: str | None) -> list[str]:
    """Split a LIKE pattern into ``'%'`` / ``'_'`` wildcards and ``'=c'`` literal characters."""
    if escape is not None and len(escape) != 1:
        raise PolicyEvalError(f"LIKE ESCAPE must be a single character, got {escape!r}")
    tokens: list[str] = []
    i = 0
    n = len(pattern)
    while i < n:
        c = pattern[i]
        if escape is not None and c == escape:
            # The escape character makes the next character literal; at the end of the
            # pattern it stands for itself.
            if i + 1 < n:
                tokens.append("=" + pattern[i + 1])
                i += 2
                continue
            tokens.append("=" + c)
        elif c in "%_":
            tokens.append(c)
        else:
            tokens.append("=" + c)
        i += 1
    return tokens


@functools.lru_cache(maxsize=1024)
def like_regex(pattern: str, escape: str | None) -> re.Pattern[str]:
    """Compiled Python regex equivalent to ``LIKE pattern ESCAPE escape`` (use fullmatch)."""
    parts = []
    for tok in _like_tokens(pattern, escape):
        if tok == "%":
            parts.append(".*")
        elif tok == "_":
            parts.append(".")
        else:
            parts.append(re.escape(tok[1:]))
    return re.compile("".join(parts), re.DOTALL)


@functools.lru_cache(maxsize=1024)
def like_to_arrow(pattern: str, escape: str | None) -> str:
    """The same pattern in Arrow ``match_like`` syntax (backslash is Arrow's escape)."""
    parts = []
    for tok in _like_tokens(pattern, escape):
        if tok in ("%", "_"):
            parts.append(tok)
        else:
            c = tok[1:]
            parts.append("\\" + c if c in "\\%_" else c)
    return "".join(parts)


# -- POSIX extended regular expressions ------------------------------------------------------

_POSIX_CLASSES = {
    "alpha": "a-zA-Z",
    "digit": "0-9",
    "alnum": "a-zA-Z0-9",
    "upper": "A-Z",
    "lower": "a-z",
    "space": r" \t\n\r\f\v",
    "blank": r" \t",
    "punct": r"!-/:-@\[-`{-~",
    "xdigit": "0-9A-Fa-f",
    "cntrl": r"\x00-\x1f\x7f",
    "print": r"\x20-\x7e",
    "graph": r"\x21-\x7e",
    "word": r"\w",
}


def _translate_ere(pattern: str) -> tuple[str, str | None]:
    """Translate a POSIX ERE to Python ``re`` syntax and, when safe, to RE2 syntax.

    ``$`` anchors at the very end (Python's ``$`` would also match before a final newline).
    The RE2 form is None when the pattern uses something whose meaning could differ between
    the two engines (backslash letter escapes, ``{,n}``, ``(?...)``, the ``word`` class).
    """
    python: list[str] = []
    re2: list[str] | None = []
    i = 0
    n = len(pattern)
    while i < n:
        c = pattern[i]
        if c == "\\":
            pair = pattern[i : i + 2]
            python.append(pair)
            if re2 is not None:
                if len(pair) < 2 or pair[1].isalnum():
                    re2 = None
                else:
                    re2.append(pair)
            i += 2
            continue
        if c == "[":
            j = i + 1
            negate = False
            if j < n and pattern[j] == "^":
                negate = True
                j += 1
            items = []
            first = True
            while j < n and (pattern[j] != "]" or first):
                first = False
                if pattern.startswith("[:", j):
                    end = pattern.find(":]", j + 2)
                    name = pattern[j + 2 : end] if end >= 0 else ""
                    if name not in _POSIX_CLASSES:
                        raise PolicyEvalError(f"unknown character class in regex {pattern!r}")
                    if name == "word":
                        re2 = None
                    items.append(_POSIX_CLASSES[name])
                    j = end + 2
                    continue
                ch = pattern[j]
                items.append("\\" + ch if ch in "\\[]^&~|" else ch)
                j += 1
            if j >= n:
                raise PolicyEvalError(f"unterminated bracket expression in regex {pattern!r}")
            text = "[" + ("^" if negate else "") + "".join(items) + "]"
            python.append(text)
            if re2 is not None:
                re2.append(text)
            i = j + 1
            continue
        if c == "$":
            python.append(r"\Z")
            if re2 is not None:
                re2.append("$")
        else:
            if pattern.startswith(("{,", "(?"), i):
                re2 = None
            python.append(c)
            if re2 is not None:
                re2.append(c)
        i += 1
    return "".join(python), (None if re2 is None else "".join(re2))


@functools.lru_cache(maxsize=1024)
def posix_regex(pattern: str) -> re.Pattern[str]:
    """Compile a POSIX ERE (bracket classes such as ``[[:digit:]]`` included) for ``search``."""
    try:
        return re.compile(_translate_ere(pattern)[0], re.DOTALL)
    except re.error as exc:
        raise PolicyEvalError(f"invalid regular expression {pattern!r}: {exc}") from None


@functools.lru_cache(maxsize=1024)
def posix_regex_re2(pattern: str) -> str | None:
    """The same pattern for Arrow's RE2 kernels (dot matches newline), or None if unsure."""
    re2 = _translate_ere(pattern)[1]
    return None if re2 is None else "(?s)" + re2
