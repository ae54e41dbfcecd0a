"""``$regex``: patterns both databases run the same way, and REGEXP for SQLite.

PostgreSQL matches with its own ``~`` operator (POSIX advanced expressions); SQLite calls a
REGEXP function that :func:`install_sqlite_regexp` registers (Python's ``re``). Both search
(the pattern may match anywhere; anchor it with ``^`` and ``$``). A pattern is checked before
any SQL runs: it must compile, and it must keep to the syntax the two engines share, so that a
query never fails inside the database or means something else on the other engine.
"""

from __future__ import annotations

import functools
import re
import sqlite3
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

from gpfskit.mgmt.query.errors import QueryError

MAX_PATTERN = 1000
"""The longest pattern accepted, in characters."""

MAX_REPEAT = 255
"""The largest ``{m,n}`` count PostgreSQL accepts."""

# After "(?", the group kinds both engines know: non-capturing, lookahead, lookbehind.
_PORTABLE_GROUPS = (":", "=", "!", "<=", "<!")
_REPEAT = re.compile(r"\{(\d*)(,?)(\d*)\}")


def _portability_problem(pattern: str) -> str | None:
    """What in ``pattern`` only one of the engines understands, or None."""
    index, in_class = 0, False
    previous_quantifier = False
    while index < len(pattern):
        char = pattern[index]
        quantifier = False
        if char == "\\":
            if not in_class and pattern[index + 1:index + 2] in ("b", "B"):
                return "'\\b' or '\\B' (a word boundary in Python, other characters in PostgreSQL)"
            index += 2
            previous_quantifier = False
            continue
        if in_class:
            if char == "[" and pattern[index + 1:index + 2] in (":", "=", "."):
                return "a POSIX class such as '[[:alpha:]]' (write the characters or \\w, \\d)"
            in_class = char != "]"
        elif char == "[":
            in_class = True
            # a "]" right after "[" or "[^" is a literal member of the class
            if pattern[index + 1:index + 3].startswith(("]", "^]")):
                index += 2 if pattern[index + 1] == "]" else 3
                continue
        elif char == "(" and pattern.startswith("(?", index):
            if not pattern.startswith(_PORTABLE_GROUPS, index + 2):
                group = pattern[index:index + 4]
                return f"the group {group!r}... (use (?:, (?=, (?!, (?<= or (?<!)"
        elif char == "{":
            repeat = _REPEAT.match(pattern, index)
            if repeat:
                low, _comma, high = repeat.groups()
                if not low:
                    return "a repeat count without a lower bound, e.g. '{,3}' (write '{0,3}')"
                if max(int(low), int(high or 0)) > MAX_REPEAT:
                    return f"a repeat count above {MAX_REPEAT}"
                index = repeat.end()
                previous_quantifier = True
                continue
        elif char in "*+?":
            if previous_quantifier and char == "+":
                return "a possessive quantifier (e.g. 'a*+')"
            quantifier = char != "?" or not previous_quantifier
        previous_quantifier = quantifier
        index += 1
    return None


def _shown(pattern: str) -> str:
    return repr(pattern if len(pattern) <= 40 else pattern[:40] + "...")


def check_pattern(pattern: str, case_insensitive: bool) -> str:
    """``pattern`` ready for SQL (with ``(?i)`` when asked), or a QueryError saying why not."""
    if len(pattern) > MAX_PATTERN:
        raise QueryError(f"the pattern is longer than {MAX_PATTERN} characters")
    problem = _portability_problem(pattern)  # first: Python warns about some of these
    if problem:
        raise QueryError(f"the pattern {_shown(pattern)} uses {problem}, "
                         "which not every database runs")
    try:
        re.compile(pattern)
    except (re.error, RecursionError, OverflowError) as error:
        raise QueryError(f"the pattern {_shown(pattern)} is not a regular expression: "
                         f"{error}") from None
    return "(?i)" + pattern if case_insensitive else pattern


@functools.lru_cache(maxsize=256)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def _regexp(pattern: str | None, value: Any) -> bool | None:
    """SQLite's ``value REGEXP pattern``: NULL for NULL operands, else whether it matches."""
    if pattern is None or value is None:
        return None
    return _compiled(pattern).search(str(value)) is not None


def _register(dbapi_connection: Any, _record: Any) -> None:
    if isinstance(dbapi_connection, sqlite3.Connection):
        dbapi_connection.create_function("regexp", 2, _regexp, deterministic=True)


def install_sqlite_regexp(engine: Engine) -> None:
    """Give every SQLite connection of ``engine`` the REGEXP function ``$regex`` compiles to.

    Call it right after ``create_engine``. Harmless on other engines (PostgreSQL has ``~``)
    and when called twice. The function caches compiled patterns and answers NULL for NULL.
    """
    if engine.dialect.name != "sqlite":
        return
    if not event.contains(engine, "connect", _register):
        event.listen(engine, "connect", _register)
