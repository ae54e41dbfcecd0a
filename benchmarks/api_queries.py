"""GET /spaces/?where={"name": ...} with 10,000 spaces stored, 16 concurrent clients.

Measures the management service (a real ``gpfskit serve`` on loopback, SQLite store, token
checked on every request) side by side with the framework floor: a bare FastAPI endpoint on
the same uvicorn that returns the same document from memory. Prints p50/p99 latency and
requests/s for both and the ratios, in one run.

The load comes from ``wrk`` (C, one connection per client, a random name per request) when
it is installed (``apt-get install wrk``): a load generator in Python takes a large share of
the 2 cores from the servers it measures, and its own scheduling shows up in their p99.
Without wrk (or with ``--loader python``) it comes from 16 Python threads with ``requests``.
Both servers are always measured by the same loader.

    .venv/bin/python benchmarks/api_queries.py [--spaces 10000] [--clients 16]
        [--loader auto|wrk|python] [--rounds 3] [--seconds 5] [--requests 150]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

BIN = Path(sys.executable).parent


def _directive(config_dir: Path, name: str, value) -> None:
    path = config_dir.joinpath(*name.split("."))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(value) + "\n")


def _fill_store(url: str, count: int) -> None:
    from sqlalchemy import insert

    from gpfskit.mgmt import models, store

    store.migrate(url)
    now = models.utcnow()
    rows = [{"id": models.new_id(), "name": f"project-{i:05d}", "status": models.ACTIVE,
             "status_message": "ready", "comment": "", "extras": "{}", "created": now,
             "updated": now, "relativepath": f"projects/project-{i:05d}",
             "size": 4 * 2**30, "filesystem": "mmfs1", "fileset": f"sas1-project-{i:05d}"}
            for i in range(count)]
    with store.session(url) as s:
        s.execute(insert(models.Space), rows)
        # These spaces are not on the (emulated) cluster: keep the first start's population
        # from reconciling them away.
        store.meta_set(s, "populated", now.isoformat())
    store.dispose()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _floor(port: int, document: bytes) -> None:
    """The framework floor: the same document from memory, no store, no auth."""
    import uvicorn
    from fastapi import FastAPI, Response

    app = FastAPI()

    @app.get("/spaces/")
    def spaces(where: str | None = None) -> Response:
        return Response(document, media_type="application/vnd.collection+json",
                        headers={"X-Total-Count": "1"})

    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def _wait(url: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            requests.get(url, timeout=5)
            return
        except requests.RequestException:
            time.sleep(0.1)
    raise RuntimeError(f"{url} does not answer")


def _load(url: str, auth, clients: int, per_client: int, spaces: int
          ) -> tuple[list[float], float]:
    latencies: list[float] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    start_gate = threading.Barrier(clients + 1)

    def client(seed: int) -> None:
        rng = random.Random(seed)
        session = requests.Session()
        session.auth = auth
        mine = []
        start_gate.wait()
        try:
            for _ in range(per_client):
                where = json.dumps({"name": f"project-{rng.randrange(spaces):05d}"})
                began = time.perf_counter()
                resp = session.get(url + "/spaces/", params={"where": where})
                mine.append(time.perf_counter() - began)
                if resp.status_code != 200 or resp.headers.get("X-Total-Count") != "1":
                    raise RuntimeError(f"{url}: {resp.status_code} {resp.text[:200]}")
        except Exception as exc:
            with lock:
                errors.append(exc)
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    start_gate.wait()
    began = time.perf_counter()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - began
    if errors:
        raise errors[0]
    return latencies, elapsed


def _summary(latencies: list[float], elapsed: float) -> tuple[float, float, float]:
    ordered = sorted(latencies)
    p50 = statistics.median(ordered) * 1000
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000
    return p50, p99, len(ordered) / elapsed


def _median(runs: list[tuple[float, float, float]]) -> tuple[float, float, float]:
    p50s, p99s, rates = zip(*runs, strict=True)
    return statistics.median(p50s), statistics.median(p99s), statistics.median(rates)


# A random name per request (wrk's Lua), as the Python clients do.
WRK_SCRIPT = """
local spaces = tonumber(os.getenv("GK_SPACES"))
local token = os.getenv("GK_TOKEN")
local headers = {}
if token ~= "" then headers["Authorization"] = "Bearer " .. token end
request = function()
  local name = string.format("project-%05d", math.random(0, spaces - 1))
  return wrk.format("GET", "/spaces/?where=%7B%22name%22%3A%20%22" .. name .. "%22%7D", headers)
end
"""
_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def _wrk(url: str, token: str, clients: int, seconds: int, spaces: int
         ) -> tuple[float, float, float]:
    """p50 ms, p99 ms and requests/s of ``seconds`` of wrk load (two threads)."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as script:
        script.write(WRK_SCRIPT)
        script.flush()
        out = subprocess.run(
            ["wrk", "-t2", f"-c{clients}", f"-d{seconds}s", "--latency", "-s", script.name,
             url + "/spaces/"], capture_output=True, text=True, check=True,
            env={**os.environ, "GK_SPACES": str(spaces), "GK_TOKEN": token}).stdout
    if "Non-2xx" in out or "Socket errors" in out:
        raise RuntimeError(f"{url}: failed requests under load:\n{out}")

    def latency(percentile: str) -> float:
        value, unit = re.search(rf"^\s+{percentile}%\s+([\d.]+)(us|ms|s)\s*$", out,
                                re.MULTILINE).groups()
        return float(value) * _UNITS[unit]

    rps = float(re.search(r"^Requests/sec:\s+([\d.]+)", out, re.MULTILINE).group(1))
    return latency("50"), latency("99"), rps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spaces", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--loader", choices=("auto", "wrk", "python"), default="auto",
                        help="wrk when installed (auto), or Python threads")
    parser.add_argument("--rounds", type=int, default=3, help="alternating, per server")
    parser.add_argument("--seconds", type=int, default=5, help="of wrk load per round")
    parser.add_argument("--requests", type=int, default=150,
                        help="per client and round, with the Python loader")
    args = parser.parse_args()
    loader = args.loader
    if loader == "auto":
        loader = "wrk" if shutil.which("wrk") else "python"
    elif loader == "wrk" and not shutil.which("wrk"):
        parser.error("wrk is not installed (apt-get install wrk)")

    from gpfskit.emulator.setup import init_cluster

    before = os.getloadavg()[0]

    with tempfile.TemporaryDirectory(prefix="gpfskit-bench-") as tmp:
        base = Path(tmp)
        config_dir = base / "config"
        init_cluster(base / "cluster").close()
        for name, value in {"gpfskit.cluster.backend": "emulated",
                            "gpfskit.emulator.root": str(base / "cluster"),
                            "arcapix.management.database.path": str(base / "mgmt.db"),
                            "gpfskit.management.jobs.workers": 0}.items():
            _directive(config_dir, name, value)
        os.environ["GPFSKIT_CONFIG"] = str(config_dir)
        _fill_store(f"sqlite:///{base / 'mgmt.db'}", args.spaces)

        serve = subprocess.Popen([str(BIN / "gpfskit"), "serve", "--port", "0"],
                                 stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        floor = None
        try:
            banner = ""
            while "API docs:" not in banner:
                line = serve.stdout.readline()
                if not line:
                    raise RuntimeError("gpfskit serve exited")
                banner += line
            url = banner.split("service at ", 1)[1].split("/\n", 1)[0]
            password = banner.split("shown only now): ", 1)[1].split()[0]
            _wait(url + "/openapi.json")
            token = requests.post(url + "/oauth2/token", data={
                "grant_type": "password", "username": "admin",
                "password": password}).json()["access_token"]
            auth = (token, "")
            sample = requests.get(url + "/spaces/", auth=auth,
                                  params={"where": '{"name": "project-00042"}'})
            port = _free_port()
            floor = multiprocessing.get_context("spawn").Process(
                target=_floor, args=(port, sample.content), daemon=True)
            floor.start()
            floor_url = f"http://127.0.0.1:{port}"
            _wait(floor_url + "/spaces/")

            # Warm both (connections, caches), then measure the floor and the service.
            _load(floor_url, None, args.clients, 10, args.spaces)
            _load(url, auth, args.clients, 10, args.spaces)

            def measure(target: str, bearer: str) -> tuple[float, float, float]:
                if loader == "wrk":
                    return _wrk(target, bearer, args.clients, args.seconds, args.spaces)
                return _summary(*_load(target, (bearer, "") if bearer else None, args.clients,
                                       args.requests, args.spaces))

            # Rounds alternate between the two, so that a burst of other work on the
            # machine falls on both alike; each figure is the median of its rounds.
            floor_runs, our_runs = [], []
            for _ in range(args.rounds):
                floor_runs.append(measure(floor_url, ""))
                our_runs.append(measure(url, token))
            floor_stats, ours = _median(floor_runs), _median(our_runs)
        finally:
            serve.terminate()
            serve.wait()
            if floor is not None:
                floor.terminate()
                floor.join()

    load = (f"wrk, {args.seconds} s" if loader == "wrk" else
            f"Python threads, {args.clients * args.requests:,} requests")
    print(f"GET /spaces/?where={{\"name\": ...}}: {args.spaces:,} spaces, {args.clients} "
          f"concurrent clients; {args.rounds} alternating round(s) of {load} on each, medians "
          f"(os.cpu_count()={os.cpu_count()}, load average {before:.1f} before, "
          f"{os.getloadavg()[0]:.1f} after)")
    print(f"{'':28}{'p50 ms':>10}{'p99 ms':>10}{'req/s':>10}")
    print(f"{'bare FastAPI (floor)':28}{floor_stats[0]:>10.1f}{floor_stats[1]:>10.1f}"
          f"{floor_stats[2]:>10.0f}")
    print(f"{'gpfskit serve':28}{ours[0]:>10.1f}{ours[1]:>10.1f}{ours[2]:>10.0f}")
    print(f"{'ratio (ours / floor)':28}{ours[0] / floor_stats[0]:>10.2f}"
          f"{ours[1] / floor_stats[1]:>10.2f}{floor_stats[2] / ours[2]:>10.2f}"
          "   (throughput: floor / ours)")


if __name__ == "__main__":
    main()
