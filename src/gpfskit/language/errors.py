"""Exceptions of the policy language."""

from __future__ import annotations

__all__ = ["PolicyEvalError", "PolicySyntaxError"]


class PolicySyntaxError(ValueError):
    """A policy or expression could not be parsed.

    ``line`` and ``column`` are 1-based and refer to the text the caller passed in (before
    macro expansion; text produced by a macro is reported at the macro's invocation).
    ``message`` is the description without the position prefix.
    """

    def __init__(self, message: str, line: int, column: int, offset: int | None = None) -> None:
        super().__init__(f"line {line}, column {column}: {message}")
        self.message = message
        self.line = line
        self.column = column
        self.offset = offset


class PolicyEvalError(ValueError):
    """An expression cannot be evaluated (unknown attribute or function, type mismatch...)."""
