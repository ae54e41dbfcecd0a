"""Tokenizer for policy text.

Token kinds: ``IDENT`` (keywords are identifiers too; compare ``upper``), ``STRING`` (value is
the unescaped text), ``NUMBER`` (value is int or float), ``OP`` (punctuation and operators) and
``EOF``.  ``/* ... */`` comments and whitespace are skipped; ``--`` is two minus signs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["LexError", "Token", "tokenize"]

_NUMBER = re.compile(r"(?:[0-9]+\.[0-9]*|\.[0-9]+|[0-9]+)(?:[eE][+-]?[0-9]+)?")
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_WS = re.compile(r"\s+")
_OPS = ("<>", "!=", "<=", ">=", "||", "=", "<", ">", "+", "-", "*", "/", "(", ")", ",")


@dataclass(frozen=True, slots=True)
class Token:
    kind: str
    value: object
    pos: int
    end: int
    text: str = ""

    @property
    def upper(self) -> str:
        return self.text.upper()

    def describe(self) -> str:
        """How the token is named in error messages."""
        if self.kind == "EOF":
            return "end of input"
        if self.kind == "STRING":
            escaped = str(self.value).replace("'", "''")
            if len(escaped) > 40:
                escaped = escaped[:37] + "..."
            return f"string '{escaped}'"
        return f"'{self.text}'"


class LexError(Exception):
    def __init__(self, message: str, pos: int) -> None:
        super().__init__(message)
        self.message = message
        self.pos = pos


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    n = len(text)
    i = 0
    while True:
        m = _WS.match(text, i)
        if m:
            i = m.end()
        if i >= n:
            break
        c = text[i]
        if text.startswith("/*", i):
            end = text.find("*/", i + 2)
            if end < 0:
                raise LexError("unterminated comment", i)
            i = end + 2
            continue
        if c == "'":
            j = i + 1
            parts = []
            while True:
                k = text.find("'", j)
                if k < 0:
                    raise LexError("unterminated string", i)
                parts.append(text[j:k])
                if k + 1 < n and text[k + 1] == "'":
                    parts.append("'")
                    j = k + 2
                    continue
                j = k + 1
                break
            tokens.append(Token("STRING", "".join(parts), i, j, text[i:j]))
            i = j
            continue
        if "0" <= c <= "9" or (c == "." and i + 1 < n and "0" <= text[i + 1] <= "9"):
            m = _NUMBER.match(text, i)
            raw = m.group()
            value: int | float
            if any(ch in raw for ch in ".eE"):
                value = float(raw)
            else:
                value = int(raw)
            tokens.append(Token("NUMBER", value, i, m.end(), raw))
            i = m.end()
            continue
        m = _IDENT.match(text, i)
        if m:
            word = m.group()
            tokens.append(Token("IDENT", word, i, m.end(), word))
            i = m.end()
            continue
        for op in _OPS:
            if text.startswith(op, i):
                tokens.append(Token("OP", op, i, i + len(op), op))
                i += len(op)
                break
        else:
            raise LexError(f"unexpected character {c!r}", i)
    tokens.append(Token("EOF", None, n, n))
    return tokens
