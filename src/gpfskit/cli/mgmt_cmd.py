"""``adminctl`` commands of the management service: populate, policy, users, roles, tokens,
tls. Operator messages carry their stable codes (docs/operations.md lists them).

Exit codes: 0 done, 1 refused or failed (the message says why), 2 bad usage.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from gpfskit.config import config
from gpfskit.mgmt import messages

populate_app = typer.Typer(help="Fill the management store from the cluster.",
                           no_args_is_help=True)
policy_app = typer.Typer(help="Placement policy set-up for the management service.",
                         no_args_is_help=True)
users_app = typer.Typer(help="Accounts of the management service.", no_args_is_help=True)
roles_app = typer.Typer(help="Roles (endpoint -> allowed methods).", no_args_is_help=True)
tokens_app = typer.Typer(help="Access tokens.", no_args_is_help=True)
tls_app = typer.Typer(help="TLS for `gpfskit serve`.", no_args_is_help=True)


def _settings():
    """The service's settings, with its store migrated and its default roles present."""
    from gpfskit.mgmt import resources, settings, store
    from gpfskit.mgmt.auth.roles import seed_default_roles

    current = settings.load()
    resources.load(current.plugins)
    store.migrate(current.database_url)
    with store.session(current.database_url) as s:
        seed_default_roles(s)
    return current


def _fail(text: str) -> None:
    typer.echo(text, err=True)
    raise typer.Exit(1)


@populate_app.command("now")
def populate_now(conditional: bool = typer.Option(
        False, "--conditional", help="do nothing when the store was populated before")) -> None:
    """Create what is missing and reconcile ACTIVE entries with the cluster (entries in
    other states are left alone)."""
    from gpfskit.mgmt import discovery

    settings = _settings()
    typer.echo(discovery.populate(settings.database_url, conditional=conditional,
                                  exclude=settings.fileset_exclude))


@populate_app.command("rebuild")
def populate_rebuild() -> None:
    """Make the store match the cluster exactly, whatever the entries' states (refused
    while jobs are pending or running)."""
    from gpfskit.mgmt import discovery

    settings = _settings()
    try:
        typer.echo(discovery.populate(settings.database_url, mode="rebuild",
                                      exclude=settings.fileset_exclude))
    except discovery.RebuildRefused as exc:
        _fail(str(exc))


@policy_app.command("install")
def policy_install(which: str = typer.Argument(..., help="the policy to install: default")
                   ) -> None:
    """Install one placement rule per data pool (RULE '<pool>-placement' SET POOL '<pool>'
    WHERE FILESET_NAME LIKE '<pool>-%') before each file system's final default rule."""
    from gpfskit.mgmt import discovery

    if which != "default":
        typer.echo(f"adminctl policy install: unknown policy {which!r} (known: default)",
                   err=True)
        raise typer.Exit(2)
    for line in discovery.install_default_policy():
        typer.echo(line, err=line[7:8] in ("E", "W"))  # "[GK0117E] ..."


def _read_password(from_stdin: bool, name: str) -> str:
    if from_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = typer.prompt(f"Password for {name}", hide_input=True,
                                confirmation_prompt=True)
    if len(password) < 8:
        _fail(messages.text("GK0207E", reason="a password needs at least 8 characters"))
    return password


@users_app.command("add")
def users_add(
    name: str = typer.Argument(..., help="user name (letters, digits, - and _)"),
    role: list[str] = typer.Option(..., "--role", "-r", help="role to give (repeatable)"),
    password_stdin: bool = typer.Option(False, "--password-stdin",
                                        help="read the password from the first line of stdin"),
    pam: bool = typer.Option(False, "--pam", help="a system account checked through PAM "
                             "(no password stored)"),
) -> None:
    """Create an account with its roles."""
    from sqlalchemy import select

    from gpfskit.mgmt import models, resources, store
    from gpfskit.mgmt.auth import accounts

    if not resources.NAME_RE.match(name):
        _fail(messages.text("GK0207E", reason=f"invalid user name {name!r}: use letters, "
                            "digits, hyphens and underscores"))
    settings = _settings()
    with store.session(settings.database_url) as s:
        if accounts.find_user(s, name) is not None:
            _fail(messages.text("GK0205E", name=name))
        known = sorted(s.scalars(select(models.Role.name)))
        missing = [r for r in role if r not in known]
        if missing:
            _fail(messages.text("GK0206E", name=missing[0], roles=", ".join(known)))
    password = None if pam else _read_password(password_stdin, name)
    with store.session(settings.database_url) as s:
        accounts.create_user(s, name, password, list(role), source="pam" if pam else "local")
    typer.echo(messages.text("GK0201I", name=name, roles=", ".join(role)))


@users_app.command("list")
def users_list() -> None:
    """The accounts, their roles and groups."""
    from sqlalchemy import select
    from sqlalchemy.orm import selectinload

    from gpfskit.mgmt import models, store

    settings = _settings()
    table = Table()
    for heading in ("user", "source", "status", "roles", "groups"):
        table.add_column(heading)
    with store.session(settings.database_url) as s:
        users = s.scalars(select(models.User).order_by(models.User.name).options(
            selectinload(models.User.roles), selectinload(models.User.groups)))
        for user in users:
            table.add_row(user.name, user.source, user.status,
                          ", ".join(sorted(r.name for r in user.roles)),
                          ", ".join(sorted(g.name for g in user.groups)))
    Console().print(table)


@users_app.command("remove")
def users_remove(name: str = typer.Argument(..., help="user name")) -> None:
    """Delete an account (its tokens stop working)."""
    from gpfskit.mgmt import store
    from gpfskit.mgmt.auth import accounts

    settings = _settings()
    with store.session(settings.database_url) as s:
        user = accounts.find_user(s, name)
        if user is None:
            _fail(messages.text("GK0204E", name=name))
        s.delete(user)
    typer.echo(messages.text("GK0202I", name=name))


@users_app.command("passwd")
def users_passwd(
    name: str = typer.Argument(..., help="user name"),
    password_stdin: bool = typer.Option(False, "--password-stdin",
                                        help="read the password from the first line of stdin"),
) -> None:
    """Set a local account's password (its existing tokens stay valid: revoke them with
    `adminctl tokens revoke --user NAME`)."""
    from gpfskit.mgmt import store
    from gpfskit.mgmt.auth import accounts, passwords

    settings = _settings()
    with store.session(settings.database_url) as s:
        if accounts.find_user(s, name) is None:
            _fail(messages.text("GK0204E", name=name))
    password = _read_password(password_stdin, name)
    with store.session(settings.database_url) as s:
        user = accounts.find_user(s, name)
        user.password_hash = passwords.hash_password(password)
        user.source = "local"
    typer.echo(messages.text("GK0203I", name=name))


@roles_app.command("list")
def roles_list() -> None:
    """The roles and what each allows."""
    from sqlalchemy import select

    from gpfskit.mgmt import models, store

    settings = _settings()
    table = Table()
    for heading in ("role", "description", "endpoint", "methods"):
        table.add_column(heading)
    with store.session(settings.database_url) as s:
        for role in s.scalars(select(models.Role).order_by(models.Role.name)):
            permissions = json.loads(role.permissions)
            first = True
            for endpoint, methods in permissions.items():
                table.add_row(role.name if first else "", role.comment if first else "",
                              endpoint, ", ".join(methods) or "(none)")
                first = False
    Console().print(table)


@tokens_app.command("revoke")
def tokens_revoke(
    token: str = typer.Argument(None, help="the token to revoke"),
    user: str = typer.Option(None, "--user", "-u", help="revoke every token of this user"),
) -> None:
    """Revoke one token, or all tokens of a user."""
    from gpfskit.mgmt import store
    from gpfskit.mgmt.auth import accounts

    if (token is None) == (user is None):
        typer.echo("adminctl tokens revoke: give a token or --user NAME", err=True)
        raise typer.Exit(2)
    settings = _settings()
    with store.session(settings.database_url) as s:
        count = accounts.revoke_user(s, user) if user else int(accounts.revoke(s, token))
    typer.echo(messages.text("GK0210I", count=count))


@tls_app.command("selfsigned")
def tls_selfsigned(
    directory: Path = typer.Option(None, "--dir", help="where to write cert.pem and key.pem "
                                   "[default: beside the management database]"),
    hostname: str = typer.Option("localhost", "--hostname", help="name in the certificate"),
    days: int = typer.Option(825, min=1, help="validity in days"),
) -> None:
    """Write a self-signed certificate and key for a lab and point `gpfskit serve` at them
    (clients then pass verify=False, or the certificate as their CA bundle)."""
    if not re.fullmatch(r"[A-Za-z0-9.-]{1,253}", hostname):
        _fail(messages.text("GK0207E", reason=f"invalid host name {hostname!r}"))
    target = directory or Path(config["arcapix.management.database.path"]).parent / "tls"
    target.mkdir(parents=True, exist_ok=True)
    cert, key = target / "cert.pem", target / "key.pem"
    argv = ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-sha256",
            "-days", str(days), "-subj", f"/CN={hostname}",
            "-addext", f"subjectAltName=DNS:{hostname},IP:127.0.0.1",
            "-keyout", str(key), "-out", str(cert)]
    try:
        result = subprocess.run(argv, capture_output=True, text=True, check=False)
    except FileNotFoundError:
        _fail(messages.text("GK0207E", reason="openssl is not installed"))
    if result.returncode != 0:
        _fail(messages.text("GK0207E", reason=f"openssl failed: {result.stderr.strip()}"))
    os.chmod(key, 0o600)
    config["gpfskit.management.tls.certificate"] = str(cert)
    config["gpfskit.management.tls.key"] = str(key)
    typer.echo(messages.text("GK0302I", certificate=cert, key=key))
