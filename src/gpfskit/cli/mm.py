"""Running emulated mm* commands from a shell.

``gpfskit mm mmlsfileset mmfs1`` runs one command; the shims that ``gpfskit emulator env``
puts on PATH call ``main()`` here under the commands' real names.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Sequence

from gpfskit.config import config
from gpfskit.emulator.dispatch import run_command


def run_emulated(argv: Sequence[str], root: str | None = None) -> int:
    """Run one emulated command, print its output, return its exit code."""
    result = run_command(list(argv), root=root or config["gpfskit.emulator.root"],
                         node=config["gpfskit.emulator.node"])
    sys.stdout.write(result.stdout)
    sys.stderr.write(result.stderr)
    sys.stdout.flush()
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
    raise SystemExit(run_emulated([os.path.basename(args[0]), *args[1:]], root))


if __name__ == "__main__":
    main()
