"""Dry run: record the commands that would change the cluster instead of running them.

The state lives in a ContextVar, so each thread and each asyncio task has its own: one request
of a server in dry run does not put its neighbours in dry run.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field


@dataclass
class _DryRun:
    enabled: bool = False
    cache: list[str] = field(default_factory=list)


_state: ContextVar[_DryRun | None] = ContextVar("gpfskit_dry_run", default=None)


def _current() -> _DryRun:
    state = _state.get()
    if state is None:
        state = _DryRun()
        _state.set(state)
    return state


def setDryRun(enabled: bool) -> None:
    """Turn dry run on or off for this thread/task. Turning it on clears the command cache."""
    state = _DryRun(enabled=bool(enabled))
    if not enabled:
        state.cache = _current().cache
    _state.set(state)


def getDryRun() -> bool:
    return _current().enabled


def getCmdCache() -> list[str]:
    """The command lines recorded since dry run was turned on, in the order they would run."""
    return list(_current().cache)


def clearCmdCache() -> None:
    _current().cache.clear()


def record(argv: Sequence[str]) -> None:
    _current().cache.append(shlex.join(argv))


@contextmanager
def dry_run() -> Iterator[list[str]]:
    """``with dry_run() as commands:`` - dry run inside the block; ``commands`` fills up."""
    outer = _state.get()
    inner = _DryRun(enabled=True)
    token = _state.set(inner)
    try:
        yield inner.cache
    finally:
        _state.reset(token)
        if outer is None:
            _state.set(_DryRun())
