"""m4-style macro preprocessing of policy text.

The product feeds policy files through m4 with ``[`` and ``]`` as the quote characters before
parsing them.  This module implements the subset of m4 that policy files use:

* ``define(name, body)`` defines a macro and expands to nothing; ``undef(name)`` removes one;
  ``ifdef(name, then[, else])`` picks text by whether a macro exists; ``dnl`` deletes up to and
  including the next newline.
* A macro name is recognised only as a whole identifier (``[A-Za-z_][A-Za-z0-9_]*``) and is
  case-sensitive.  When the name is immediately followed by ``(`` the parenthesised,
  comma-separated arguments are collected (leading whitespace of each is dropped, nested
  parentheses are respected) and ``$1``..``$9`` in the body are replaced by them; ``$0`` is the
  macro name and ``$#`` the argument count.  The result is rescanned, so macros may use
  other macros.  Expansion depth is limited to catch runaway recursion.
* ``[...]`` quotes protect text from expansion; one level of brackets is removed each time text
  is scanned (so ``REGEX(NAME, ['^[a-z]*$'])`` reaches the parser as ``'^[a-z]*$'``).
* ``-M name=value`` definitions are passed as a dict and behave like ``define(name, value)``
  placed before the text.

Deliberate differences from real m4, chosen to be friendlier and predictable:

* Single-quoted SQL string literals are opaque: no macro expansion and no bracket removal
  inside them (m4 knows nothing of SQL strings), and commas inside them do not split macro
  arguments.  ``$n`` parameters, however, *are* substituted inside strings of a macro body.
  Pass ``expand_in_strings=True`` to expand macro names inside strings too (as m4 would).
* ``/* ... */`` comments are copied through unchanged and nothing inside them is expanded.
* ``#`` is not a comment character.

The expander also returns, for every output character, the offset of the input character it
came from (text produced by a macro maps to the start of the invocation), so the parser can
report errors at positions in the original file.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

__all__ = ["MacroError", "expand_macros", "expand_macros_with_origins"]

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_NUMBERISH = re.compile(r"[0-9][A-Za-z0-9_.]*")
_PARAM = re.compile(r"\$([0-9#])")
_MAX_DEPTH = 64


class MacroError(ValueError):
    """Raised for malformed macro calls; ``offset`` is the position in the original text."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset


def expand_macros(
    text: str, defines: Mapping[str, object] | None = None, *, expand_in_strings: bool = False
) -> str:
    """Return ``text`` with macros expanded (see the module docstring for the rules)."""
    return expand_macros_with_origins(text, defines, expand_in_strings=expand_in_strings)[0]


def expand_macros_with_origins(
    text: str, defines: Mapping[str, object] | None = None, *, expand_in_strings: bool = False
) -> tuple[str, list[int]]:
    """Expand macros; also return the original offset of every output character."""
    expander = _Expander(expand_in_strings)
    for name, value in (defines or {}).items():
        if not _IDENT.fullmatch(name):
            raise MacroError(f"invalid macro name {name!r}", 0)
        expander.macros[name] = "" if value is None else str(value)
    out: list[str] = []
    origins: list[int] = []
    expander.scan(text, list(range(len(text))), out, origins, 0)
    return "".join(out), origins


class _Expander:
    def __init__(self, expand_in_strings: bool) -> None:
        self.macros: dict[str, str] = {}
        self.expand_in_strings = expand_in_strings

    # -- scanning -------------------------------------------------------------------------

    def scan(
        self, text: str, origin: list[int] | int, out: list[str], origins: list[int], depth: int
    ) -> None:
        """Scan ``text``, appending expanded characters to ``out`` and their origins."""
        if depth > _MAX_DEPTH:
            raise MacroError("macro expansion too deep (recursive macro?)", _at(origin, 0))

        def emit(start: int, end: int) -> None:
            out.append(text[start:end])
            if isinstance(origin, int):
                origins.extend([origin] * (end - start))
            else:
                origins.extend(origin[start:end])

        n = len(text)
        i = 0
        while i < n:
            c = text[i]
            if c == "'" and not self.expand_in_strings:
                j = _skip_string(text, i)
                emit(i, j)
                i = j
            elif c == "/" and text.startswith("/*", i):
                j = _skip_comment(text, i)
                emit(i, j)
                i = j
            elif c == "[":
                j = self._skip_quote(text, i, origin)
                emit(i + 1, j - 1)
                i = j
            elif "0" <= c <= "9":
                m = _NUMBERISH.match(text, i)
                emit(i, m.end())
                i = m.end()
            elif c.isalpha() or c == "_":
                m = _IDENT.match(text, i)
                if m is None:  # non-ASCII letter: not an identifier character for m4
                    emit(i, i + 1)
                    i += 1
                    continue
                i = self._identifier(text, m, origin, out, origins, depth, emit)
            else:
                j = i + 1
                while j < n and text[j] not in "'/[_" and not text[j].isalnum():
                    j += 1
                emit(i, j)
                i = j

    def _identifier(self, text, m, origin, out, origins, depth, emit) -> int:
        name = m.group()
        start, end = m.start(), m.end()
        at = _at(origin, start)
        if name == "dnl":
            nl = text.find("\n", end)
            return len(text) if nl < 0 else nl + 1
        builtin = name in ("define", "undef", "ifdef")
        if not builtin and name not in self.macros:
            emit(start, end)
            return end
        args: list[str] = []
        has_args = end < len(text) and text[end] == "("
        if has_args:
            raw_args, end = self._collect_args(text, end, origin)
            args = [self._expand_to_text(a, at, depth + 1) for a in raw_args]
        if name == "define":
            if not has_args:
                emit(start, end)
                return end
            if not args or not _IDENT.fullmatch(args[0].strip()):
                raise MacroError("define needs a macro name as its first argument", at)
            self.macros[args[0].strip()] = args[1] if len(args) > 1 else ""
            return end
        if name == "undef":
            if not has_args:
                emit(start, end)
                return end
            for a in args:
                self.macros.pop(a.strip(), None)
            return end
        if name == "ifdef":
            if not has_args:
                emit(start, end)
                return end
            if len(args) < 2:
                raise MacroError("ifdef needs at least two arguments", at)
            if args[0].strip() in self.macros:
                chosen = args[1]
            else:
                chosen = args[2] if len(args) > 2 else ""
            self.scan(chosen, at, out, origins, depth + 1)
            return end
        body = _substitute(self.macros[name], name, args)
        self.scan(body, at, out, origins, depth + 1)
        return end

    def _expand_to_text(self, text: str, at: int, depth: int) -> str:
        out: list[str] = []
        self.scan(text, at, out, [], depth)
        return "".join(out)

    def _skip_quote(self, text: str, i: int, origin) -> int:
        """Return the index just past the ``]`` matching the ``[`` at ``i``."""
        depth = 0
        n = len(text)
        j = i
        while j < n:
            c = text[j]
            if c == "'" and not self.expand_in_strings:
                j = _skip_string(text, j)
                continue
            if c == "[":
                depth += 1
            elif c == "]":
                depth -= 1
                if depth == 0:
                    return j + 1
            j += 1
        raise MacroError("unterminated '[' quote", _at(origin, i))

    def _collect_args(self, text: str, i: int, origin) -> tuple[list[str], int]:
        """Split the argument list starting at ``text[i] == '('``; return (args, end)."""
        args: list[str] = []
        current_start = i + 1
        depth = 0
        n = len(text)
        j = i
        while j < n:
            c = text[j]
            if c == "'" and not self.expand_in_strings:
                j = _skip_string(text, j)
                continue
            if c == "/" and text.startswith("/*", j):
                j = _skip_comment(text, j)
                continue
            if c == "[":
                j = self._skip_quote(text, j, origin)
                continue
            if c == "(":
                depth += 1
            elif c == ")":
                depth -= 1
                if depth == 0:
                    args.append(text[current_start:j].lstrip())
                    return args, j + 1
            elif c == "," and depth == 1:
                args.append(text[current_start:j].lstrip())
                current_start = j + 1
            j += 1
        raise MacroError("unterminated macro argument list", _at(origin, i))


def _at(origin: list[int] | int, index: int) -> int:
    if isinstance(origin, int):
        return origin
    if not origin:
        return 0
    return origin[min(index, len(origin) - 1)]


def _skip_string(text: str, i: int) -> int:
    """Index just past the SQL string starting at ``i`` (``''`` is an escaped quote)."""
    n = len(text)
    j = i + 1
    while j < n:
        if text[j] == "'":
            if j + 1 < n and text[j + 1] == "'":
                j += 2
                continue
            return j + 1
        j += 1
    return n


def _skip_comment(text: str, i: int) -> int:
    end = text.find("*/", i + 2)
    return len(text) if end < 0 else end + 2


def _substitute(body: str, name: str, args: list[str]) -> str:
    def repl(m: re.Match) -> str:
        key = m.group(1)
        if key == "#":
            return str(len(args))
        k = int(key)
        if k == 0:
            return name
        return args[k - 1] if k <= len(args) else ""

    return _PARAM.sub(repl, body)
