"""Start-up of the commands as new processes, side by side with their floors and with find.

    python benchmarks/startup.py [--files N] [--runs K] [--base DIR]

Part 1, on a fresh demo cluster in a temporary directory (median and best of K runs each,
default 21, after one warm-up run that also writes the bytecode caches):

* floors: ``/bin/true`` (starting any process) and ``python -c pass`` (starting Python);
* ``mmlsfileset mmfs1`` through the shim that ``gpfskit emulator env`` puts on PATH (goal:
  60 ms), and the same command as ``gpfskit mm mmlsfileset mmfs1``;
* ``gpfskit --help`` (goal: 150 ms).

Part 2, on a tree of N files (default 200,000) in N/50 directories, built once under BASE
(default: a temporary directory, removed afterwards) by ``policy_scan.build``: files of
uids 1000-1009, 0 B to 4 MiB, modified over the last two years. Best of 3 runs each, as new
processes, every one writing the list of the files it selects:

* ``gpfskit mm mmapplypolicy mmfs1 -P pol -I defer -f PREFIX`` with the rule of issue 8,
  ``LIST WHERE USER_ID = 1001 AND FILE_SIZE > 1048576 AND (DAYS(CURRENT_TIMESTAMP) -
  DAYS(MODIFICATION_TIME)) > 180`` (uid 1001 instead of 0: the tree's files have owners
  1000-1009, so uid 0 would select nothing);
* the same rule with the age as ``MODIFICATION_TIME < CURRENT_TIMESTAMP - INTERVAL '180'
  DAYS``;
* GNU ``find`` with the equivalent filter for each (``-uid``, ``-size +Nc`` and ``!
  -newermt`` at the local midnight that the DAYS comparison, or at the instant that the
  INTERVAL comparison, puts the limit), ``-printf '%i %p\\n'``.

The selected counts must agree. Figures are wall-clock times of the whole process,
interpreter start included; the CPU time (user + system) is shown too, as the machine may
be shared.
"""

from __future__ import annotations

import argparse
import datetime
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from policy_scan import build, count_files

BIN = Path(sys.executable).parent
NOW = 1_780_000_000          # CURRENT_TIMESTAMP of the policy runs (-D), fixed
UID, MIN_SIZE, AGE_DAYS = 1001, 1048576, 180


def _environment(config: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["GPFSKIT_CONFIG"] = str(config)
    return env


def _once(argv: list[str], env: dict[str, str], stdout: int | None = None
          ) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one run of ``argv`` as a new process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    done = subprocess.run(argv, env=env, stdout=stdout or subprocess.DEVNULL,
                          stderr=subprocess.PIPE, check=False)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{argv[0]} failed ({done.returncode}): {done.stderr.decode()[-500:]}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def _timed(argv: list[str], env: dict[str, str], runs: int) -> dict[str, float]:
    _once(argv, env)                                           # warm-up, bytecode caches
    walls, cpus = zip(*(_once(argv, env) for _ in range(runs)))
    return {"median": statistics.median(walls), "best": min(walls),
            "cpu": statistics.median(cpus)}


def startup(base: Path, runs: int) -> None:
    from gpfskit.cli.emulator_cmd import write_shims
    from gpfskit.emulator import state
    from gpfskit.emulator.setup import init_cluster

    root = base / "demo"
    if not (root / state.DB_NAME).exists():             # a kept --base is reused
        init_cluster(root)
        state.forget_connections()
    shims = write_shims(root)
    env = _environment(base / "config")
    env["PATH"] = f"{shims}{os.pathsep}{env.get('PATH', '')}"
    subprocess.run([str(BIN / "gpfskit"), "config", "set", "gpfskit.emulator.root",
                    str(root)], env=env, check=True, capture_output=True)
    rows = [
        ("/bin/true", ["/bin/true"], None),
        ("python -c pass", [sys.executable, "-c", "pass"], None),
        ("mmlsfileset mmfs1 (shim)", [str(shims / "mmlsfileset"), "mmfs1"], 0.060),
        ("gpfskit mm mmlsfileset mmfs1", [str(BIN / "gpfskit"), "mm", "mmlsfileset", "mmfs1"],
         None),
        ("gpfskit --help", [str(BIN / "gpfskit"), "--help"], 0.150),
    ]
    results = [(name, _timed(argv, env, runs), goal) for name, argv, goal in rows]
    python = results[1][1]["median"]
    print(f"{'command (new process)':<32} {'median ms':>10} {'best ms':>8} {'CPU ms':>7} "
          f"{'x python':>9} {'goal ms':>8}")
    for name, r, goal in results:
        print(f"{name:<32} {r['median'] * 1e3:>10.1f} {r['best'] * 1e3:>8.1f} "
              f"{r['cpu'] * 1e3:>7.1f} {r['median'] / python:>8.2f}x "
              f"{goal * 1e3 if goal else '':>8}")


def _midnight_before(days: int) -> int:
    """Epoch seconds of local midnight starting the day ``days`` days before NOW's day."""
    day = datetime.date.fromtimestamp(NOW) - datetime.timedelta(days=days)
    return int(time.mktime(day.timetuple()))


def policy(base: Path, n_files: int) -> None:
    t0 = time.perf_counter()
    root, mount = build(base / "tree", n_files, max(1, n_files // 50))
    n = count_files(mount)                       # also warms the dentry and inode caches
    print(f"\ntree: {n:,} files under {mount} (ready in {time.perf_counter() - t0:.0f} s)")
    env = _environment(base / "config")
    subprocess.run([str(BIN / "gpfskit"), "config", "set", "gpfskit.emulator.root",
                    str(root)], env=env, check=True, capture_output=True)
    work = base / "work"
    work.mkdir(exist_ok=True)
    stamp = time.strftime("%Y-%m-%d@%H:%M:%S", time.localtime(NOW))
    rules = {
        "DAYS(CURRENT_TIMESTAMP) - DAYS(...) > 180":
            (f"(DAYS(CURRENT_TIMESTAMP) - DAYS(MODIFICATION_TIME)) > {AGE_DAYS}",
             _midnight_before(AGE_DAYS)),
        "MODIFICATION_TIME < ... - INTERVAL '180' DAYS":
            (f"MODIFICATION_TIME < CURRENT_TIMESTAMP - INTERVAL '{AGE_DAYS}' DAYS",
             NOW - AGE_DAYS * 86400),
    }
    print(f"{'run (new process)':<58} {'seconds':>8} {'files/s':>11} {'CPU s':>6} "
          f"{'vs find':>8} {'selected':>9}")
    for label, (age, before) in rules.items():
        pol = base / "list.pol"
        pol.write_text(f"RULE 'sel' LIST 'sel' WHERE USER_ID = {UID} AND FILE_SIZE > "
                       f"{MIN_SIZE} AND {age}\n")
        prefix = base / "out"
        ours_argv = [str(BIN / "gpfskit"), "mm", "mmapplypolicy", "mmfs1", "-P", str(pol),
                     "-I", "defer", "-f", str(prefix), "-s", str(work), "-D", stamp]
        listed = base / "find.list"
        # mtime < before, for whole-second mtimes: not newer than before - 1
        find_argv = ["find", str(mount), "-path", f"{mount}/.snapshots", "-prune", "-o",
                     "-type", "f", "-uid", str(UID), "-size", f"+{MIN_SIZE}c", "!",
                     "-newermt", f"@{before - 1}", "-printf", "%i %p\\n"]
        _once(ours_argv, env)
        ours = min(_once(ours_argv, env) for _ in range(3))
        selected = _lines(Path(f"{prefix}.list.sel"))
        find = min(_into(listed, find_argv, env) for _ in range(3))
        found = _lines(listed)
        for name, (seconds, cpu), count in (
                (f"gpfskit mm mmapplypolicy, {label}", ours, selected),
                ("GNU find, same filter", find, found)):
            print(f"{name:<58} {seconds:>8.3f} {n / seconds:>11,.0f} {cpu:>6.2f} "
                  f"{find[0] / seconds:>7.2f}x {count:>9,}")
        if selected != found:
            print(f"SELECTED COUNTS DIFFER: {selected} against {found}")


def _into(path: Path, argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    with open(path, "wb") as out:
        return _once(argv, env, stdout=out.fileno())


def _lines(path: Path) -> int:
    with open(path, "rb") as f:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 20), b""))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=21)
    parser.add_argument("--base", default=None, help="keep the trees here (reused next time)")
    args = parser.parse_args()
    base = Path(args.base) if args.base else Path(tempfile.mkdtemp(prefix="gpfskit-startup."))
    base.mkdir(parents=True, exist_ok=True)
    try:
        print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}\n")
        startup(base / "startup", args.runs)
        policy(base, args.files)
    finally:
        if not args.base:
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
