"""The ``gpfskit`` command (its entry point is ``launch.main``).

Help is click's plain text (``rich_markup_mode=None``): rendering it with rich would load
rich's Markdown and syntax-highlighting modules, most of the time ``--help`` takes. For the
same reason what only running a command needs (logging, the emulator) is imported when it
runs.
"""

from __future__ import annotations

import sys

import typer

from gpfskit.cli import config_cmd, dryrun_cmd, emulator_cmd, log_cmd, serve_cmd, tour
from gpfskit.config import ConfigError

app = typer.Typer(help="gpfskit: manage IBM Storage Scale clusters, real or emulated.",
                  no_args_is_help=True, pretty_exceptions_enable=False,
                  rich_markup_mode=None)
app.add_typer(config_cmd.app, name="config")
app.add_typer(emulator_cmd.app, name="emulator")
app.command("tour")(tour.tour)
app.command("log")(log_cmd.show)
app.command("dry-run")(dryrun_cmd.dry_run)
app.command("serve")(serve_cmd.serve)
app.command("worker")(serve_cmd.worker)


@app.callback()
def _options(verbose: bool = typer.Option(False, "--verbose", "-v",
                                          help="log every admin command run")) -> None:
    import logging

    logging.basicConfig(level=logging.DEBUG if verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")


def _command_names(incomplete: str) -> list[str]:
    """Shell completion of the emulated command names."""
    from gpfskit.emulator.commands import FAMILIES

    return sorted(name for names in FAMILIES.values() for name in names
                  if name.startswith(incomplete))


@app.command("mm", context_settings={"allow_extra_args": True,
                                     "ignore_unknown_options": True,
                                     "help_option_names": []})
def mm(ctx: typer.Context,
       command: str = typer.Argument("--help", metavar="COMMAND", show_default=False,
                                     autocompletion=_command_names,
                                     help="an mm* command, e.g. mmlsfileset")
       ) -> None:
    """Run an emulated admin command: gpfskit mm mmlsfileset mmfs1 -L"""
    from gpfskit.cli.mm import emulated_usage, run_emulated

    if command in ("--help", "-h"):
        typer.echo(emulated_usage(), nl=False)
        raise typer.Exit(0)
    raise typer.Exit(run_emulated([command, *ctx.args]))


@app.command("man")
def man(command: str = typer.Argument(..., metavar="COMMAND", autocompletion=_command_names,
                                      help="an emulated mm* command, e.g. mmlsfileset")
        ) -> None:
    """Show an emulated command's manual page: synopsis, options, what is not emulated."""
    from gpfskit.emulator.manual import man_page, spec_of

    spec = spec_of(command)
    if spec is None:
        typer.echo(f"error: {command} is not an emulated command (gpfskit mm lists them)",
                   err=True)
        raise typer.Exit(2)
    page = man_page(spec)
    if sys.stdout.isatty():
        import click

        click.echo_via_pager(page)
    else:
        typer.echo(page, nl=False)


def main() -> None:
    try:
        app()
    except ConfigError as exc:
        print(f"gpfskit: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
