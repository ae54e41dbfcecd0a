"""The one place every admin command goes through.

``run(argv)`` checks the argv, honours dry run, picks the backend, logs one DEBUG record per
command on the ``gpfskit.commands`` logger, writes the command log (``audit``) and raises
``GPFSExecuteException`` on failure.
``generation()`` counts the changing commands this process has run, so caches above can tell
when what they hold may be stale.
"""

from __future__ import annotations

import itertools
import logging
import shlex
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

from gpfskit.commands import audit, dryrun
from gpfskit.commands.backends import Backend, configured_backend
from gpfskit.commands.catalog import is_read_only
from gpfskit.commands.errors import GPFSError, GPFSExecuteException
from gpfskit.config import config

log = logging.getLogger("gpfskit.commands")

_changes = itertools.count(1)
_generation = 0
_lock = threading.Lock()


@dataclass(frozen=True)
class CommandResult:
    argv: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str
    duration: float
    recorded: bool = False  # True when dry run recorded the command instead of running it


def generation() -> int:
    return _generation


def _bump() -> None:
    global _generation
    with _lock:
        _generation = next(_changes)


def _check_argv(argv: Sequence[str]) -> tuple[str, ...]:
    if isinstance(argv, str) or not argv:
        raise TypeError("a command is a non-empty list of arguments, never a string")
    for arg in argv:
        if not isinstance(arg, str):
            raise TypeError(f"command arguments must be strings, got {arg!r}")
        if "\0" in arg:
            raise GPFSError(f"argument {arg!r} contains a NUL byte")
    return tuple(argv)


def run(argv: Sequence[str], *, check: bool = True, timeout: float | None = None,
        backend: Backend | None = None) -> CommandResult:
    """Run one admin command (or record it, in dry run, when it would change the cluster)."""
    args = _check_argv(argv)
    read_only = is_read_only(args)
    if not read_only and dryrun.getDryRun():
        dryrun.record(args)
        log.debug("dry run recorded: %s", shlex.join(args))
        return CommandResult(args, 0, "", "", 0.0, recorded=True)
    backend = backend or configured_backend()
    if timeout is None:
        timeout = float(config["gpfskit.commands.timeout"])
    start = time.perf_counter()
    try:
        outcome = backend.execute(args, timeout)
    finally:
        if not read_only:
            _bump()
    duration = time.perf_counter() - start
    audit.record(args, outcome.returncode, duration, changing=not read_only)
    log.debug("ran %s: exit %d in %.3fs", shlex.join(args), outcome.returncode, duration,
              extra={"argv": list(args), "returncode": outcome.returncode,
                     "duration": duration})
    result = CommandResult(args, outcome.returncode, outcome.stdout, outcome.stderr, duration)
    if check and outcome.returncode != 0:
        raise GPFSExecuteException(args, outcome.returncode, outcome.stdout, outcome.stderr)
    return result
