"""``gpfskit serve`` (the management service) and ``gpfskit worker`` (a job worker)."""

from __future__ import annotations

import gc
import logging
import signal
import socket
import sys

import typer

from gpfskit.config import config

log = logging.getLogger("gpfskit.mgmt")


def _console_logging() -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setLevel(logging.INFO)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(logging.INFO)


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP named, not 0: asyncio turns Nagle's algorithm off (TCP_NODELAY) only on
    # connections of a socket that says it is TCP; with it on, a response written in two
    # parts waits for the client's delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        typer.echo(f"gpfskit serve: cannot listen on {host}:{port}: {exc.strerror}", err=True)
        raise typer.Exit(2) from None
    sock.listen(2048)
    return sock


def _banner(url: str, password: str | None, tls: bool) -> str:
    insecure = " -k" if tls else ""
    lines = [f"gpfskit management service at {url}/"]
    if password:
        from gpfskit.mgmt.app import first_admin_message

        lines += ["", first_admin_message(password)]
    secret = password or "<the admin password>"
    lines += [
        "",
        "Get a token (valid for gpfskit.management.tokens.expiry seconds):",
        f"  TOKEN=$(curl{insecure} -s -d grant_type=password -d username=admin "
        f"-d password='{secret}' {url}/oauth2/token | python3 -c "
        "'import json,sys; print(json.load(sys.stdin)[\"access_token\"])')",
        "Then query the service with the token as the basic-auth user name:",
        f"  curl{insecure} -s -u \"$TOKEN:\" {url}/spaces/",
        f"API docs: {url}/docs",
    ]
    return "\n".join(lines)


def serve(
    host: str = typer.Option(None, help="address to listen on "
                             "[default: directive gpfskit.management.host, 127.0.0.1]"),
    port: int = typer.Option(None, help="port to listen on (0 = any free port) "
                             "[default: directive gpfskit.management.port, 5101]"),
    demo: bool = typer.Option(False, "--demo", help="create the demo emulated cluster first "
                              "when there is none (with its default placement rules)"),
) -> None:
    """Run the REST management service in the foreground (Ctrl-C stops it).

    On start it applies the store's migrations, creates the administrator 'admin' with a
    generated password when there is no user yet (shown once), and populates the store from
    the cluster when it never was. Job workers run inside it unless
    gpfskit.management.jobs.workers is 0 (then run `gpfskit worker`).
    """
    import dataclasses

    import uvicorn

    from gpfskit.mgmt import app as service
    from gpfskit.mgmt import settings as mgmt_settings

    _console_logging()
    if demo:
        _demo_cluster()
    settings = mgmt_settings.load()
    host = host if host is not None else settings.host
    sock = _bind(host, settings.port if port is None else port)
    bound = sock.getsockname()[1]
    if "arcapix.management.server.url" not in config.stored():
        scheme = "https" if settings.tls else "http"
        shown = f"[{host}]" if ":" in host else host
        url = f"{scheme}://{shown}:{bound}"
        settings = dataclasses.replace(settings, host=host, port=bound, server_url=url)
    try:
        password = service.prepare(settings)
    except Exception as exc:
        typer.echo(f"gpfskit serve: cannot prepare the store {settings.database_url}: {exc}",
                   err=True)
        raise typer.Exit(1) from None
    typer.echo(_banner(settings.server_url, password, settings.tls))
    sys.stdout.flush()
    server = uvicorn.Server(uvicorn.Config(
        service.create_app(settings), log_level="info", access_log=False,
        ssl_certfile=settings.certificate, ssl_keyfile=settings.key,
        timeout_graceful_shutdown=5, backlog=2048))
    # What is loaded by now lives as long as the process: keep it out of the collector's
    # full passes, each of which otherwise stalls every request for ~0.1 s.
    gc.freeze()
    server.run(sockets=[sock])


def _demo_cluster() -> None:
    from pathlib import Path

    from gpfskit.emulator.state import DB_NAME

    if config["gpfskit.cluster.backend"] != "emulated":
        return
    root = Path(config["gpfskit.emulator.root"])
    if (root / DB_NAME).exists():
        return
    from gpfskit.cli.tour import ensure_demo
    from gpfskit.mgmt.discovery import install_default_policy

    ensure_demo(lambda text: typer.echo(text))
    install_default_policy()


def worker(
    threads: int = typer.Option(2, "--threads", "-t", min=1, help="jobs run at once"),
) -> None:
    """Run job worker threads on the configured queue until stopped (SIGINT/SIGTERM).

    For a service whose gpfskit.management.jobs.workers is 0, or for more nodes sharing a
    Redis queue (gpfskit.management.jobs.storage = redis) and a PostgreSQL store.
    """
    from gpfskit.mgmt import settings as mgmt_settings
    from gpfskit.mgmt import store
    from gpfskit.mgmt.jobs.workers import Workers

    _console_logging()
    settings = mgmt_settings.load()
    store.migrate(settings.database_url)
    workers = Workers(settings, threads)

    def stop(_signum, _frame) -> None:
        workers.stop()

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    workers.start()
    typer.echo(f"gpfskit worker: {threads} thread(s) on the {settings.job_storage} queue "
               f"{settings.job_queue!r}")
    sys.stdout.flush()
    workers.wait()
