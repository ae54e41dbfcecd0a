"""Exceptions raised when the cluster refuses or cannot run a command."""

from __future__ import annotations

import shlex
from collections.abc import Sequence


class GPFSError(Exception):
    """Anything that went wrong talking to the cluster."""


class GPFSExecuteException(GPFSError):
    """An admin command exited non-zero (or could not be started).

    Carries the argv, exit code, stdout and stderr; ``str()`` gives the command line, the exit
    code and the command's own message, so a traceback says what the cluster said.
    """

    def __init__(self, argv: Sequence[str], returncode: int, stdout: str = "", stderr: str = ""):
        self.argv = list(argv)
        self.cmd = shlex.join(self.argv)
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr
        super().__init__(self._message())

    @property
    def message(self) -> str:
        """The command's own explanation: stderr less the generic 'Command failed' trailer."""
        lines = [line for line in (self.stderr or self.stdout).splitlines()
                 if line.strip() and "Command failed. Examine previous error" not in line]
        return "\n".join(lines)

    def _message(self) -> str:
        text = f"{self.cmd} failed with exit code {self.returncode}"
        return f"{text}: {self.message}" if self.message else text
