"""``gpfskit dry-run -- COMMAND...``: run any program with dry run on, then list what it
would have changed.

The program and every process it starts (Python scripts using the object API or the policy
engine, the emulated mm* commands from a shell) record the commands that would change the
cluster in one file named by ``GPFSKIT_DRY_RUN`` instead of running them; read-only commands
run as usual. At the end the recorded commands are printed on stderr, and the program's exit
code is the exit code.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import tempfile

import typer


def dry_run(command: list[str] = typer.Argument(..., metavar="-- COMMAND [ARGS...]",
                                                help="the program to run in dry run, "
                                                "e.g. -- python nightly.py")) -> None:
    """Run a program with dry run on; print the commands it would have run that change the
    cluster."""
    from gpfskit.commands.dryrun import ENVIRONMENT, recorded_in, report  # not for --help

    handle, path = tempfile.mkstemp(prefix="gpfskit-dry-run-", suffix=".txt")
    os.close(handle)
    try:
        try:
            code = subprocess.run(command, env={**os.environ, ENVIRONMENT: path},
                                  check=False).returncode
        except FileNotFoundError:
            typer.echo(f"error: {command[0]}: command not found", err=True)
            raise typer.Exit(127) from None
        except PermissionError:
            typer.echo(f"error: {command[0]}: permission denied", err=True)
            raise typer.Exit(126) from None
        sys.stderr.write(report(recorded_in(path)))
    finally:
        with contextlib.suppress(OSError):
            os.unlink(path)
    raise typer.Exit(code if code >= 0 else 128 - code)
