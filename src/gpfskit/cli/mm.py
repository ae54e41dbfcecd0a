"""Running emulated mm* commands from a shell.

``gpfskit mm mmlsfileset mmfs1`` runs one command; the shims that ``gpfskit emulator env``
puts on PATH call ``main()`` here under the commands' real names.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Sequence

from gpfskit.config import ConfigError, config
from gpfskit.emulator.dispatch import run_command


def emulated_usage() -> str:
    """What ``gpfskit mm`` and ``gpfskit mm --help`` print: every emulated command, one line
    each."""
    from gpfskit.emulator.manual import listing

    return listing()


def run_emulated(argv: Sequence[str], root: str | None = None) -> int:
    """Run one emulated command, printing its output as it goes; return its exit code.

    Under dry run (``GPFSKIT_DRY_RUN`` set, as ``gpfskit dry-run`` does for a shell script) a
    command that would change the cluster is recorded instead, as the Runner does.
    """
    if os.environ.get("GPFSKIT_DRY_RUN"):
        from gpfskit.commands import dryrun
        from gpfskit.commands.catalog import is_read_only

        if dryrun.getDryRun() and not is_read_only(argv):
            dryrun.record(argv)
            return 0
    result = run_command(list(argv), root=root or config["gpfskit.emulator.root"],
                         node=config["gpfskit.emulator.node"],
                         lock_wait=config["gpfskit.emulator.lock_timeout"], stdout=sys.stdout,
                         stderr=sys.stderr)
    return result.returncode


def _interrupted(signum: int, _frame: object) -> None:
    """SIGTERM and SIGHUP stop a command as Ctrl-C does: it undoes its changes and exits."""
    raise SystemExit(128 + signum)


def main() -> None:
    """Entry point of the shims: ``[--root=DIR] COMMAND [ARGS...]``."""
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _interrupted)
    args = sys.argv[1:]
    root = None
    if args and args[0].startswith("--root="):
        root = args.pop(0).removeprefix("--root=")
    if not args:
        sys.stderr.write("usage: python -m gpfskit.cli.mm [--root=DIR] COMMAND [ARGS...]\n")
        raise SystemExit(2)
    try:
        code = run_emulated([os.path.basename(args[0]), *args[1:]], root)
    except ConfigError as exc:
        sys.stderr.write(f"{os.path.basename(args[0])}: {exc}\n")
        code = 2
    raise SystemExit(code)


if __name__ == "__main__":
    main()
