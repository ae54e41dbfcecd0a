"""Exceptions of the policy layer."""

from __future__ import annotations

from gpfskit.commands.errors import GPFSError


class PolicyError(GPFSError):
    """A policy could not be built, run or installed."""


class PolicyProcessingError(PolicyError):
    """A list-processing or map-reduce function failed while a policy ran.

    ``rule`` is the id of the processing rule; ``details`` holds what the failing driver
    reported: the user function's traceback, or the stack dump of a driver that timed out.
    ``str()`` includes both, so the user's own traceback text reaches the caller.
    """

    def __init__(self, rule: str, message: str, details: str = "") -> None:
        self.rule = rule
        self.details = details
        text = f"rule {rule!r}: {message}"
        if details:
            text += "\n" + details.rstrip("\n")
        super().__init__(text)
