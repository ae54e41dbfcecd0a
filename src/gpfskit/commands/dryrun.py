"""Dry run: record the commands that would change the cluster instead of running them.

Dry run is process-wide: ``setDryRun(True)`` (or a ``dry_run()`` block, or a function
decorated with ``@dry_run``) puts every thread in dry run, and the subprocesses the process
starts while it is on (the policy engine's list drivers, callback handlers, a script's own
Python helpers) inherit it through the environment variable ``GPFSKIT_DRY_RUN``. That names a
file to which they append what they record; ``getCmdCache()`` in the parent includes it.

The rare caller that needs a mode of its own, such as one request of a server, uses
``dry_run(thread_only=True)``: that holds for the current thread or asyncio task only (a
ContextVar), with a command cache of its own; ``dry_run(False, thread_only=True)`` runs
commands for real inside a process-wide dry run. Subprocesses follow the process-wide mode.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shlex
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from contextvars import ContextVar, Token
from dataclasses import dataclass, field
from typing import Any

ENVIRONMENT = "GPFSKIT_DRY_RUN"


@dataclass
class _Mode:
    enabled: bool = False
    records: list[tuple[int, str]] = field(default_factory=list)  # (time_ns, command line)
    blocks: list[list[str]] = field(default_factory=list)         # lists of open blocks
    directories: set[str] = field(default_factory=set)            # see assume_directory()


@dataclass
class _Shared:
    """The file subprocesses record into; ``owned`` when this process made it."""

    path: str
    owned: bool


_lock = threading.RLock()
_process = _Mode()
_override: ContextVar[_Mode | None] = ContextVar("gpfskit_dry_run_override", default=None)
_shared: _Shared | None = None


def _current() -> _Mode:
    return _override.get() or _process


#: Values of ``GPFSKIT_DRY_RUN`` that start a script in dry run from the shell.
SWITCHED_ON = ("1", "true", "yes", "on")


def _inherit() -> None:
    """A process started under dry run is in dry run, recording into its parent's file.

    ``GPFSKIT_DRY_RUN=1 python script.py`` (a value of ``SWITCHED_ON`` rather than a file)
    starts the script itself in dry run, as ``setDryRun(True)`` would, and prints what it
    recorded when it exits.
    """
    global _shared
    value = os.environ.get(ENVIRONMENT, "")
    if value.lower() in SWITCHED_ON:
        _set_process_mode(True, clear=True)
        atexit.register(_report)
    elif os.path.isabs(value):
        _process.enabled = True
        _shared = _Shared(value, owned=False)


def report(commands: Sequence[str]) -> str:
    """The text printed at the end of a dry run from the shell."""
    if not commands:
        return "gpfskit dry run: no command that changes the cluster was recorded.\n"
    lines = "".join(f"  {line}\n" for line in commands)
    return (f"gpfskit dry run: {len(commands)} command(s) recorded, none of them run:\n"
            f"{lines}")


def _report() -> None:
    import sys

    sys.stderr.write(report(getCmdCache()))
    sys.stderr.flush()


def _remove_own_file() -> None:
    if _shared is not None and _shared.owned:
        with contextlib.suppress(OSError):
            os.unlink(_shared.path)


def _set_process_mode(enabled: bool, *, clear: bool) -> None:
    global _shared
    with _lock:
        _process.enabled = enabled
        if clear:
            _process.records.clear()
            _process.directories.clear()
            if _shared is not None and _shared.owned:
                open(_shared.path, "w").close()
            else:
                handle, path = tempfile.mkstemp(prefix="gpfskit-dry-run-", suffix=".txt")
                os.close(handle)
                _shared = _Shared(path, owned=True)
        if enabled and _shared is not None:
            os.environ[ENVIRONMENT] = _shared.path
        else:
            os.environ.pop(ENVIRONMENT, None)


def setDryRun(enabled: bool) -> None:
    """Turn dry run on or off for the whole process (and the subprocesses it starts while
    on). Turning it on clears the command cache."""
    _set_process_mode(bool(enabled), clear=bool(enabled))


def getDryRun() -> bool:
    """True when commands that would change the cluster are recorded (in this thread)."""
    return _current().enabled


def getCmdCache() -> list[str]:
    """The command lines recorded since dry run was turned on, in the order they were
    recorded (subprocesses' included)."""
    mode = _current()
    with _lock:
        records = list(mode.records)
        if mode is _process and _shared is not None:
            records += _read_shared(_shared.path)
    return [line for _, line in sorted(records, key=lambda r: r[0])]


def recorded_in(path: str) -> list[str]:
    """The command lines subprocesses recorded in ``path`` (a ``GPFSKIT_DRY_RUN`` file), in
    the order they were recorded."""
    return [line for _, line in sorted(_read_shared(path), key=lambda r: r[0])]


def _read_shared(path: str) -> list[tuple[int, str]]:
    try:
        with open(path, encoding="utf-8", errors="surrogateescape") as handle:
            lines = handle.read().splitlines()
    except FileNotFoundError:
        return []
    records = []
    for line in lines:
        stamp, _, command = line.partition(" ")
        if stamp.isdigit():
            records.append((int(stamp), command))
    return records


def clearCmdCache() -> None:
    mode = _current()
    with _lock:
        mode.records.clear()
        mode.directories.clear()
        if mode is _process and _shared is not None and _shared.owned:
            open(_shared.path, "w").close()


def record(argv: Sequence[str]) -> None:
    """Note ``argv`` as a command dry run did not run."""
    line = shlex.join(argv)
    stamp = time.time_ns()
    mode = _current()
    with _lock:
        if mode is _process and _shared is not None and not _shared.owned:
            # One short write in append mode per line: concurrent writers never mix lines.
            with open(_shared.path, "a", encoding="utf-8", errors="surrogateescape") as out:
                out.write(f"{stamp} {line}\n")
        else:
            mode.records.append((stamp, line))
        for commands in mode.blocks:
            commands.append(line)


def assume_directory(path: str) -> None:
    """Note that the work being dry-run would have created the host directory ``path`` (and
    its parents), so that later checks of the same dry run see it as there. Outside dry run
    it does nothing."""
    mode = _current()
    if not mode.enabled:
        return
    path = os.path.normpath(path)
    with _lock:
        while path not in mode.directories and not os.path.isdir(path):
            mode.directories.add(path)
            path = os.path.dirname(path)


def assumed_directory(path: str) -> bool:
    """True when ``path`` is a directory, or this dry run would have created it."""
    if os.path.isdir(path):
        return True
    mode = _current()
    with _lock:
        return mode.enabled and os.path.normpath(path) in mode.directories


class _Block(contextlib.ContextDecorator):
    """A ``dry_run()`` block or decorated function (see :func:`dry_run`)."""

    def __init__(self, enabled: bool, thread_only: bool) -> None:
        self.enabled = enabled
        self.thread_only = thread_only
        self._saved: list[tuple[bool, Token[_Mode | None] | None]] = []

    def __enter__(self) -> list[str]:
        commands: list[str] = []
        if self.thread_only:
            token = _override.set(_Mode(self.enabled, blocks=[commands]))
            self._saved.append((False, token))
            return commands
        with _lock:
            self._saved.append((_process.enabled, None))
            if self.enabled != _process.enabled:
                _set_process_mode(self.enabled, clear=self.enabled)
            _process.blocks.append(commands)
        return commands

    def __exit__(self, *exc: object) -> None:
        was_enabled, token = self._saved.pop()
        if token is not None:
            _override.reset(token)
            return
        with _lock:
            _process.blocks.pop()
            if _process.enabled != was_enabled:
                _set_process_mode(was_enabled, clear=False)


def dry_run(enabled: bool | Callable[..., Any] = True, *, thread_only: bool = False) -> Any:
    """Dry run for a block or for each call of a function; the previous mode comes back on
    the way out, exceptions included.

    ``with dry_run() as commands:`` records the block's changing commands (``commands`` lists
    those recorded inside it; ``getCmdCache()`` has them too, also after the block);
    ``@dry_run`` or ``@dry_run()`` on a function does the same for each call. Entering turns
    the process-wide mode on, clearing the cache as ``setDryRun(True)`` does (unless dry run
    was on already). ``dry_run(False)`` runs a block for real. ``thread_only=True``: for this
    thread or asyncio task only, with a cache of its own.
    """
    if callable(enabled):
        return _Block(True, thread_only)(enabled)
    return _Block(bool(enabled), thread_only)


atexit.register(_remove_own_file)   # registered first: runs after the report
_inherit()
