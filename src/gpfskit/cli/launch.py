"""Entry point of the ``gpfskit`` command: start only what the command line needs.

``gpfskit mm COMMAND [ARGS...]`` (what scripts run in loops) goes straight to the emulated
command, without loading the CLI framework; every other command line, ``gpfskit mm`` without
a command or with an option first included, goes to the typer application in ``main``.
"""

from __future__ import annotations

import sys


def main() -> None:
    args = sys.argv[1:]
    if len(args) >= 2 and args[0] == "mm" and not args[1].startswith("-"):
        import logging

        from gpfskit.cli.mm import run_emulated
        from gpfskit.config import ConfigError

        logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
        try:
            code = run_emulated(args[1:])
        except ConfigError as exc:       # as the typer application reports it
            print(f"gpfskit: {exc}", file=sys.stderr)
            code = 2
        raise SystemExit(code)
    from gpfskit.cli.main import main as application

    application()


if __name__ == "__main__":
    main()
