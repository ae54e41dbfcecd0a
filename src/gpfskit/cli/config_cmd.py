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
def list_(as_json: bool = typer.Option(False, "--json", help="print a JSON document")) -> None:
    """List every known or stored directive with its value and description."""
    stored = set(config.stored())
    rows = []
    for name in config:
        row: dict[str, object] = {"name": name, "set": name in stored,
                                  "description": DIRECTIVES[name].description
                                  if name in DIRECTIVES else ""}
        try:
            row["value"] = config[name]
        except ConfigError as exc:
            row["value"], row["error"] = None, str(exc)
        rows.append(row)
    if as_json:
        typer.echo(json.dumps({"directory": str(config_dir()), "directives": rows}, indent=2))
        return
    from rich import box  # here: the other commands print no table
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    console = Console()
    console.print(f"Configuration in {escape(str(config_dir()))}", soft_wrap=True)
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
    table.add_column("directive", no_wrap=True)       # a name is never broken
    table.add_column("value", overflow="fold", max_width=max(12, console.width // 6))
    table.add_column("set", no_wrap=True)
    table.add_column("description", ratio=1)
    for row in rows:
        value = (f"[red]{escape(str(row['error']))}[/red]" if "error" in row
                 else escape(json.dumps(row["value"])))
        table.add_row(str(row["name"]), value, "yes" if row["set"] else "",
                      escape(str(row["description"])))
    console.print(table)
