"""``gpfskit log``: what the toolkit did to the cluster, from the command log."""

from __future__ import annotations

import json
import re
import shlex
from datetime import UTC, datetime, timedelta

import typer

from gpfskit.config import config

_AGO = re.compile(r"([0-9]+)\s*([smhdw])")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def since_time(text: str) -> datetime:
    """``30m``, ``2h``, ``1d`` (that long ago) or an ISO date/time (local time when it has
    no zone) as an aware datetime."""
    match = _AGO.fullmatch(text.strip())
    if match:
        return datetime.now(UTC) - timedelta(**{_UNITS[match[2]]: int(match[1])})
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        raise typer.BadParameter(f"{text!r} is neither a time ago (30m, 2h, 1d, 1w) nor an "
                                 "ISO date/time (2026-12-01 or 2026-12-01T22:00)") from None
    return when if when.tzinfo else when.astimezone()


def show(since: str = typer.Option(None, "--since", metavar="WHEN",
                                   help="only commands from then on: 30m, 2h, 1d, 1w ago, or "
                                   "an ISO date/time such as 2026-12-01T22:00"),
         as_json: bool = typer.Option(False, "--json", help="print a JSON list of entries")
         ) -> None:
    """Show the command log: each command that changed the cluster (time, user, process,
    exit code, duration, command line). Its file is the directive gpfskit.log.commands."""
    start = since_time(since) if since else None
    path = config["gpfskit.log.commands"]
    if path is None:
        typer.echo("error: the command log is off (gpfskit.log.commands is null)", err=True)
        raise typer.Exit(1)
    from gpfskit.commands.audit import entries  # not for --help

    chosen = [entry for entry in entries(path)
              if start is None or datetime.fromisoformat(entry["time"]) >= start]
    if as_json:
        typer.echo(json.dumps(chosen, indent=2))
        return
    for entry in chosen:
        typer.echo(f"{entry['time']} {entry['user']} {entry['process']}[{entry['pid']}] "
                   f"exit {entry['exit']} {entry['duration']:.3f}s  "
                   f"{shlex.join(entry['argv'])}")
