"""GET /spaces/?where={"name": ...} with 10,000 spaces stored, 16 concurrent clients.

Measures the management service (a real ``gpfskit serve`` on loopback, SQLite store, token
checked on every request) side by side with the framework floor: a bare FastAPI endpoint on
the same uvicorn that returns the same document from memory. Prints p50/p99 latency and
requests/s for both and the ratios, in one run.

    .venv/bin/python benchmarks/api_queries.py [--spaces 10000] [--clients 16] [--requests 150]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spaces", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--requests", type=int, default=150, help="per client")
    args = parser.parse_args()

    from gpfskit.emulator.setup import init_cluster

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
            floor_stats = _summary(*_load(floor_url, None, args.clients, args.requests,
                                          args.spaces))
            ours = _summary(*_load(url, auth, args.clients, args.requests, args.spaces))
        finally:
            serve.terminate()
            serve.wait()
            if floor is not None:
                floor.terminate()
                floor.join()

    total = args.clients * args.requests
    print(f"GET /spaces/?where={{\"name\": ...}}: {args.spaces:,} spaces, {args.clients} "
          f"concurrent clients, {total:,} requests to each (os.cpu_count()={os.cpu_count()})")
    print(f"{'':28}{'p50 ms':>10}{'p99 ms':>10}{'req/s':>10}")
    print(f"{'bare FastAPI (floor)':28}{floor_stats[0]:>10.1f}{floor_stats[1]:>10.1f}"
          f"{floor_stats[2]:>10.0f}")
    print(f"{'gpfskit serve':28}{ours[0]:>10.1f}{ours[1]:>10.1f}{ours[2]:>10.0f}")
    print(f"{'ratio (ours / floor)':28}{ours[0] / floor_stats[0]:>10.2f}"
          f"{ours[1] / floor_stats[1]:>10.2f}{floor_stats[2] / ours[2]:>10.2f}"
          "   (throughput: floor / ours)")


if __name__ == "__main__":
    main()
