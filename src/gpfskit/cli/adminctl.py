"""``adminctl``: the administrator's control tool (configuration, cluster-wide set-up)."""

from __future__ import annotations

import typer

from gpfskit.cli import config_cmd

app = typer.Typer(help="adminctl: administer gpfskit on this cluster.", no_args_is_help=True,
                  pretty_exceptions_enable=False, rich_markup_mode=None)
app.add_typer(config_cmd.app, name="config")


def main() -> None:
    app()
