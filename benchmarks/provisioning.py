"""Provisioning over REST: POST-to-ACTIVE latency of a templated space, and many spaces at once.

1. Latency: a space with a 10-directory template, POSTed to a real ``gpfskit serve`` on the
   demo cluster and polled until ACTIVE (p50, p90 of N), side by side with the same space
   made by the provisioning operation called directly in Python (what the job itself does):
   the ratio is the cost of the REST service, its store and its job engine. Bar: p50 < 1 s.
2. Throughput: 100 spaces POSTed by 10 concurrent clients, on SQLite with the workers inside
   the server, and on PostgreSQL with Redis and two ``gpfskit worker`` processes. Bar: all
   ACTIVE, no duplicates (one fileset per space), none lost.

    python benchmarks/provisioning.py [--latency 20] [--spaces 100] [--clients 10]

PostgreSQL (127.0.0.1:5432, user postgres) and Redis (127.0.0.1:6379) are used when they
answer; the run creates its own database and queue name and removes them afterwards.
"""

from __future__ import annotations

import argparse
import json
import secrets
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from mgmt_service import BIN, Service, cli, data, free_port

CJ = {"Content-Type": "application/vnd.collection+json"}
GIB = 1024 ** 3


def body(**values) -> dict:
    return {"template": {"data": [{"name": k, "value": v} for k, v in values.items()]}}


def href(session: requests.Session, url: str, resource: str, where: dict) -> str:
    resp = session.get(f"{url}/{resource}/", params={"where": json.dumps(where)})
    return resp.json()["collection"]["items"][0]["href"]


def status_of(session: requests.Session, location: str) -> str:
    return data(session.get(location).json()["collection"]["items"][0])["status"]


def wait(session: requests.Session, location: str, timeout: float = 120.0) -> str:
    deadline = time.monotonic() + timeout
    while True:
        status = status_of(session, location)
        if status in ("ACTIVE", "ERRORED") or time.monotonic() > deadline:
            return status
        time.sleep(0.01)


def make_model(root: Path) -> Path:
    model = root / "gpfs" / "mmfs1" / "bench_model"
    for index in range(10):
        (model / f"dir{index}").mkdir(parents=True)
    return model


def prepare(svc: Service) -> tuple[requests.Session, dict[str, str]]:
    """An admin session and the references a space needs (exposer, profile, template)."""
    session = svc.session()
    url = svc.url
    model = make_model(svc.root)
    resp = session.post(url + "/templates/", json=body(
        name="bench", type="filesystemtemplate", template_location=str(model)), headers=CJ)
    assert wait(session, resp.headers["Location"]) == "ACTIVE", resp.text
    refs = {"exposers": href(session, url, "exposers", {"type": "gpfsnative", "name": "mmfs1"}),
            "profile": href(session, url, "profiles", {"name": "mmfs1-sas1"}),
            "templates": resp.json()["collection"]["items"][0]["href"]}
    return session, refs


def post_space(session: requests.Session, url: str, refs: dict, name: str) -> str:
    resp = session.post(url + "/spaces/", json=body(
        name=name, relativepath=f"bench/{name}", size=GIB, **refs), headers=CJ)
    assert resp.status_code == 202, resp.text
    return resp.headers["Location"]


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def latency(base: Path, count: int) -> None:
    svc = Service(base / "latency", gpfskit__management__port=free_port())
    assert cli(svc.env, "adminctl", "policy", "install", "default").returncode == 0
    svc.start()
    try:
        session, refs = prepare(svc)
        rest = []
        for index in range(count):
            start = time.perf_counter()
            location = post_space(session, svc.url, refs, f"lat{index}")
            assert wait(session, location) == "ACTIVE"
            rest.append(time.perf_counter() - start)
        direct = direct_latency(svc, count)
    finally:
        svc.stop()
    p50, p50d = statistics.median(rest), statistics.median(direct)
    print(f"POST-to-ACTIVE, space with a 10-directory template ({count} spaces, one client)")
    print(f"  {'':28} {'p50':>9} {'p90':>9}")
    print(f"  {'REST (gpfskit serve)':28} {p50 * 1000:8.0f}ms "
          f"{percentile(rest, 0.9) * 1000:8.0f}ms")
    print(f"  {'provisioning call in Python':28} {p50d * 1000:8.0f}ms "
          f"{percentile(direct, 0.9) * 1000:8.0f}ms")
    print(f"  REST / direct: {p50 / p50d:.1f}x;  bar p50 < 1000 ms: "
          f"{'met' if p50 < 1.0 else 'NOT met'}")


def direct_latency(svc: Service, count: int) -> list[float]:
    """The same spaces made by calling the operation the job runs (in a subprocess on the
    service's configuration)."""
    script = (
        "import sys, time\n"
        "from gpfskit.mgmt.provision.profiles import Profile\n"
        "from gpfskit.mgmt.provision.spaces import create_space\n"
        "from gpfskit.mgmt.provision.templates import stored_templates\n"
        "[t] = [t for t in stored_templates() if t.name == 'bench']\n"
        "p = Profile('mmfs1-sas1', 'mmfs1', 'sas1')\n"
        "for i in range(int(sys.argv[1])):\n"
        "    s = time.perf_counter()\n"
        "    create_space(f'direct{i}', 'mmfs1', p, f'direct/d{i}', 1 << 30, [t])\n"
        "    print(time.perf_counter() - s)\n")
    done = subprocess.run([sys.executable, "-c", script, str(count)], env=svc.env,
                          capture_output=True, text=True, check=True)
    return [float(line) for line in done.stdout.split()]


def throughput(svc: Service, label: str, spaces: int, clients: int) -> None:
    session, refs = prepare(svc)
    locations: list[str] = []
    lock = threading.Lock()
    token = session.auth

    def client(number: int) -> None:
        mine = requests.Session()
        mine.auth = token
        for index in range(number, spaces, clients):
            location = post_space(mine, svc.url, refs, f"many{index}")
            with lock:
                locations.append(location)

    start = time.perf_counter()
    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    states = [wait(session, location, timeout=600) for location in locations]
    elapsed = time.perf_counter() - start
    listing = cli(svc.env, "gpfskit", "mm", "mmlsfileset", "mmfs1").stdout
    filesets = [line.split()[0] for line in listing.splitlines()
                if line.startswith("sas1-many")]
    stored = session.get(svc.url + "/spaces/", params={
        "where": '{"name": {"$regex": "^many"}}', "max_results": 1000})
    names = [data(i)["name"] for i in stored.json()["collection"]["items"]]
    active = states.count("ACTIVE")
    ok = active == spaces and len(set(filesets)) == len(filesets) == spaces and \
        sorted(names) == sorted(set(names)) and len(names) == spaces
    print(f"  {label:34} {spaces / elapsed:6.1f} spaces/s   ACTIVE {active}/{spaces}   "
          f"filesets {len(filesets)}   stored {len(names)}   "
          f"{'all ACTIVE, no duplicates, none lost' if ok else 'BAR NOT MET'}")
    for item in stored.json()["collection"]["items"]:
        values = data(item)
        if values["status"] != "ACTIVE":
            print(f"    {values['name']}: {values['status']} {values['status_message']}")


def postgres_and_redis():
    """(database url, drop function, redis url, queue name) or None when either is down."""
    try:
        import psycopg
        import redis
        with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres",
                             autocommit=True, connect_timeout=3) as conn:
            name = f"gpfskit_bench_{secrets.token_hex(4)}"
            conn.execute(f"CREATE DATABASE {name}")
        redis.Redis.from_url("redis://127.0.0.1:6379/0", socket_timeout=3).ping()
    except Exception as exc:  # a server that does not answer: skip with the reason
        print(f"  PostgreSQL + Redis: skipped ({type(exc).__name__}: {exc})")
        return None
    queue = f"gpfskit-bench-{secrets.token_hex(4)}"

    def drop() -> None:
        with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres",
                             autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        client = redis.Redis.from_url("redis://127.0.0.1:6379/0")
        for key in client.scan_iter(f"*{queue}*"):
            client.delete(key)

    return f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}", drop, \
        "redis://127.0.0.1:6379/0", queue


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--latency", type=int, default=20, help="spaces timed one by one")
    parser.add_argument("--spaces", type=int, default=100)
    parser.add_argument("--clients", type=int, default=10)
    args = parser.parse_args()
    print("(shared, noisy 2-core machine: figures vary between runs)")
    with tempfile.TemporaryDirectory(prefix="gpfskit-bench-") as tmp:
        base = Path(tmp)
        latency(base, args.latency)
        print(f"\n{args.spaces} spaces by {args.clients} concurrent clients")
        svc = Service(base / "sqlite", gpfskit__management__port=free_port())
        assert cli(svc.env, "adminctl", "policy", "install", "default").returncode == 0
        svc.start()
        try:
            throughput(svc, "SQLite, 2 workers in the server", args.spaces, args.clients)
        finally:
            svc.stop()
        servers = postgres_and_redis()
        if servers is None:
            return
        db_url, drop, redis_url, queue = servers
        svc = Service(base / "pg", gpfskit__management__port=free_port(),
                      arcapix__management__database__url=db_url,
                      gpfskit__management__jobs__storage="redis",
                      gpfskit__management__jobs__redis_url=redis_url,
                      gpfskit__management__jobs__name=queue,
                      gpfskit__management__jobs__workers=0)
        workers: list[subprocess.Popen] = []
        try:
            assert cli(svc.env, "adminctl", "policy", "install", "default").returncode == 0
            svc.start()
            workers = [subprocess.Popen([str(BIN / "gpfskit"), "worker"], env=svc.env,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                       for _ in range(2)]
            throughput(svc, "PostgreSQL + Redis, 2 gpfskit worker", args.spaces, args.clients)
        finally:
            for worker in workers:
                worker.terminate()
                worker.wait(timeout=30)
            svc.stop()
            drop()


if __name__ == "__main__":
    main()
