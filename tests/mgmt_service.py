"""A real ``gpfskit serve`` on loopback for end-to-end tests, on its own demo cluster and
configuration directory (shared by the tests of a module: starting one costs ~2 s)."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import requests
import urllib3

BIN = Path(sys.executable).parent


def unverified(method: str, url: str, **kwargs: Any) -> requests.Response:
    """A request that does not verify the service's certificate (the harness does not know
    which one it made), without urllib3's warning about it."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", urllib3.exceptions.InsecureRequestWarning)
        return requests.request(method, url, verify=False, **kwargs)


def write_directive(config_dir: Path, name: str, value: Any) -> None:
    path = config_dir.joinpath(*name.split("."))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(value) + "\n")


def cluster_env(base: Path, **directives: Any) -> dict[str, str]:
    """An environment whose configuration directory under ``base`` selects a fresh demo
    cluster and a management store of its own (plus ``directives``)."""
    from gpfskit.emulator.setup import init_cluster

    config_dir, root = base / "config", base / "cluster"
    if not root.exists():
        init_cluster(root).close()
    settings = {"gpfskit.cluster.backend": "emulated", "gpfskit.emulator.root": str(root),
                "arcapix.management.database.path": str(base / "mgmt.db"), **directives}
    for name, value in settings.items():
        write_directive(config_dir, name.replace("__", "."), value)
    env = {k: v for k, v in os.environ.items() if k != "ARCAPIX_CONFIG"}
    env["GPFSKIT_CONFIG"] = str(config_dir)
    return env


def free_port() -> int:
    """A port that was free a moment ago (for a service whose URL must be in the directives
    before it starts)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def cli(env: dict[str, str], *argv: str, stdin: str | None = None
        ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / argv[0]), *argv[1:]], capture_output=True, text=True,
                          env=env, input=stdin, timeout=120, check=False)


class Service:
    """``gpfskit serve --port 0`` as a subprocess; ``url``, ``admin_password``, sessions."""

    def __init__(self, base: Path, **directives: Any) -> None:
        self.base = base
        self.env = cluster_env(base, **directives)
        self.config_dir = Path(self.env["GPFSKIT_CONFIG"])
        self.root = base / "cluster"
        self.proc: subprocess.Popen[str] | None = None
        self.url = ""
        self.admin_password: str | None = None
        self.banner = ""

    def start(self, timeout: float = 60.0) -> Service:
        log = open(self.base / "serve.log", "a")  # noqa: SIM115 - kept open while it runs
        port = [] if (self.config_dir / "gpfskit/management/port").exists() else ["--port", "0"]
        self.proc = subprocess.Popen([str(BIN / "gpfskit"), "serve", *port],
                                     env=self.env, stdout=subprocess.PIPE, stderr=log,
                                     text=True)
        try:
            return self._ready(time.monotonic() + timeout)
        except BaseException:  # never leave a server behind a failed start
            self.kill()
            raise

    def _ready(self, deadline: float) -> Service:
        """Read the banner, then wait until the service answers."""
        assert self.proc is not None and self.proc.stdout is not None
        lines = []
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                raise RuntimeError(f"gpfskit serve exited: {self.log()}")
            lines.append(line)
            if line.startswith("API docs:"):
                break
        self.banner = "".join(lines)
        self.url = re.search(r"service at (\S+)/\n", self.banner).group(1)
        found = re.search(r"shown only now\): (\S+)", self.banner)
        if found:
            self.admin_password = found.group(1)
        while time.monotonic() < deadline:
            try:
                answer = unverified("GET", self.url + "/openapi.json", timeout=10)
                if answer.status_code == 200:
                    return self
            except requests.RequestException:  # not listening yet, or busy
                time.sleep(0.05)
        raise RuntimeError(f"gpfskit serve does not answer: {self.log()}")

    def log(self) -> str:
        path = self.base / "serve.log"
        return path.read_text() if path.exists() else ""

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def kill(self) -> None:
        """SIGKILL: a crash, with no chance to clean up."""
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait()
        self.proc = None

    def token(self, user: str = "admin", password: str | None = None) -> str:
        resp = unverified("POST", self.url + "/oauth2/token", data={
            "grant_type": "password", "username": user,
            "password": password or self.admin_password})
        assert resp.status_code == 200, resp.text
        return resp.json()["access_token"]

    def session(self, user: str = "admin", password: str | None = None) -> requests.Session:
        session = requests.Session()
        session.auth = (self.token(user, password), "")
        return session

    def add_user(self, name: str, role: str, password: str = "secret-password") -> str:
        result = cli(self.env, "adminctl", "users", "add", name, "--role", role,
                     "--password-stdin", stdin=password + "\n")
        assert result.returncode == 0, result.stderr
        return password


def data(item: dict[str, Any]) -> dict[str, Any]:
    """A C+J item's data as a dict."""
    return {d["name"]: d["value"] for d in item["data"]}


def items(resp: requests.Response) -> list[dict[str, Any]]:
    assert resp.status_code == 200, resp.text
    return [data(i) for i in resp.json()["collection"]["items"]]


def wait_for_job(session: requests.Session, url: str, job_href: str,
                 timeout: float = 30.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        resp = session.get(url + job_href)
        job = data(resp.json()["collection"]["items"][0])
        if job["state"] in ("COMPLETED", "ERRORED") or time.monotonic() > deadline:
            return job
        time.sleep(0.1)


def wait_status(session: requests.Session, url: str, wanted=("ACTIVE", "ERRORED"),
                timeout: float = 30.0) -> str:
    """Poll an item (a 202's ``Location``) until its status is one of ``wanted``."""
    deadline = time.monotonic() + timeout
    while True:
        status = data(session.get(url).json()["collection"]["items"][0])["status"]
        if status in wanted or time.monotonic() > deadline:
            return status
        time.sleep(0.1)


def cj_body(**values: Any) -> dict[str, Any]:
    """A Collection+JSON template holding ``values``."""
    return {"template": {"data": [{"name": k, "value": v} for k, v in values.items()]}}


def find(session: requests.Session, url: str, resource: str, where: dict[str, Any]) -> str:
    """The href of the one item of ``resource`` matching ``where``."""
    resp = session.get(url + f"/{resource}/", params={"where": json.dumps(where)})
    assert resp.headers["X-Total-Count"] == "1", resp.text
    return resp.json()["collection"]["items"][0]["href"]


def mm(service: Service, *argv: str) -> str:
    """An emulated admin command's output, on the service's cluster."""
    result = cli(service.env, "gpfskit", "mm", *argv)
    assert result.returncode == 0, result.stderr
    return result.stdout
