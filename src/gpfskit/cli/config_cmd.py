"""``gpfskit config get|set|unset|list``: read and write configuration directives."""

from __future__ import annotations

import json

import typer

from gpfskit.config import DIRECTIVES, ConfigError, config, config_dir, parse_value

app = typer.Typer(help="Read and write configuration directives (one JSON file each).",
                  no_args_is_help=True, rich_markup_mode=None)


def _directive_names(incomplete: str) -> list[str]:
    """Shell completion of the directive names (known and stored)."""
    return sorted(name for name in config if name.startswith(incomplete))


def _name(help_text: str) -> typer.models.ArgumentInfo:
    return typer.Argument(..., metavar="NAME", autocompletion=_directive_names, help=help_text)


def _fail(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


@app.command("get")
def get(name: str = _name("dotted directive name, e.g. gpfskit.emulator.root")) -> None:
    """Print a directive's value as JSON (its default when it is not set)."""
    try:
        typer.echo(json.dumps(config[name]))
    except KeyError:
        _fail(f"{name} is not set and has no default")
    except ConfigError as exc:
        _fail(str(exc))


@app.command("set")
def set_(name: str = _name("dotted directive name"),
         value: str = typer.Argument(..., help="JSON value; bare words are taken as strings")
         ) -> None:
    """Set a directive (written atomically)."""
    try:
        config[name] = parse_value(name, value)
    except ConfigError as exc:
        _fail(str(exc))


@app.command("unset")
def unset(name: str = _name("dotted directive name")) -> None:
    """Remove a directive's file, so it falls back to its default."""
    try:
        del config[name]
    except KeyError:
        _fail(f"{name} is not set")
    except ConfigError as exc:
        _fail(str(exc))


@app.command("list")
def list_() -> None:
    """List every known or stored directive with its value and description."""
    from rich.console import Console  # here: the other commands print no table
    from rich.table import Table

    table = Table(title=f"Configuration in {config_dir()}")
    for heading in ("directive", "value", "set", "description"):
        table.add_column(heading, overflow="fold")
    stored = set(config.stored())
    for name in config:
        try:
            value = json.dumps(config[name])
        except ConfigError as exc:
            value = f"[red]{exc}[/red]"
        description = DIRECTIVES[name].description if name in DIRECTIVES else ""
        table.add_row(name, value, "yes" if name in stored else "", description)
    Console().print(table)
