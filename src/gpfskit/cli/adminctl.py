"""``adminctl``: the administrator's control tool (configuration, cluster-wide set-up)."""

from __future__ import annotations

import logging

import typer

from gpfskit.cli import config_cmd, mgmt_cmd

app = typer.Typer(help="adminctl: administer gpfskit on this cluster.", no_args_is_help=True,
                  pretty_exceptions_enable=False, rich_markup_mode=None)
app.add_typer(config_cmd.app, name="config")
app.add_typer(mgmt_cmd.populate_app, name="populate")
app.add_typer(mgmt_cmd.policy_app, name="policy")
app.add_typer(mgmt_cmd.users_app, name="users")
app.add_typer(mgmt_cmd.roles_app, name="roles")
app.add_typer(mgmt_cmd.tokens_app, name="tokens")
app.add_typer(mgmt_cmd.tls_app, name="tls")


@app.callback()
def _options(verbose: bool = typer.Option(False, "--verbose", "-v",
                                          help="log every admin command run")) -> None:
    logging.basicConfig(level=logging.DEBUG if verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    if not verbose:  # the commands print the service's coded messages themselves
        logging.getLogger("gpfskit.mgmt").propagate = False


def main() -> None:
    app()
