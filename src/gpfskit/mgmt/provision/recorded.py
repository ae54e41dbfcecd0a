"""The admin commands an operation would run, read from the Runner's dry-run cache.

    start = mark()
    ...                       # API calls; under dry run each changing command is recorded
    commands = since(start)   # those commands, in order (empty outside dry run)
"""

from __future__ import annotations

from gpfskit.commands import getCmdCache, getDryRun


def mark() -> int:
    return len(getCmdCache())


def since(start: int) -> tuple[str, ...]:
    return tuple(getCmdCache()[start:]) if getDryRun() else ()
