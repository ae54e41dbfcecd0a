"""Policy scan speed: the emulated mmapplypolicy against find, fd and os.walk, end to end.

    python benchmarks/policy_scan.py [N_FILES] [--dirs N] [--base DIR] [--repeat K]

Builds (or reuses) an emulated cluster whose file system mmfs1 holds N files (default
1,000,000) in N/50 directories (default 20,000) two levels deep, with mixed owners (uids
1000-1009), sizes (sparse, 0 B to 4 MiB, log-spread) and modification times (the last two
years), under BASE (default /tmp/gpfskit-bench-policy-<N>). It warms the cache, then runs
one after the other, each writing the list of the files it selects:

* ours:    ``mmapplypolicy mmfs1 -P pol -I defer -f PREFIX`` with one LIST rule
           ``WHERE USER_ID = 1001 AND FILE_SIZE > 65536 AND MODIFICATION_TIME <
           CURRENT_TIMESTAMP - INTERVAL '180' DAYS`` (``-D`` fixes CURRENT_TIMESTAMP), run in
           a child process so that its peak RSS is its own;
* find:    GNU ``find -type f -uid 1001 -size +65536c ! -newermt @CUTOFF -printf '%i %p\\n'``;
* fd:      ``fd`` / ``fdfind`` with ``--owner``, ``--size`` and ``--changed-before`` (when
           installed; its ``--changed-before`` is whole seconds, like ours here);
* os.walk: ``os.walk`` + ``os.lstat`` of every file, the filter in Python;
* the bare two-thread C getdents64 + statx walk of ``scan_walk.py`` (when a C compiler is at
  hand), which selects nothing and writes nothing: the machine's limit at that moment.

It prints files/s (files in the tree / wall time), the ratio of each to ours, the number of
files each selected (they must agree), the CPU seconds (user + system) each used (ours: the
whole child process, interpreter start included), and our peak RSS: of the whole child process and
above the interpreter with its imports (what the scan itself costs). Best of --repeat runs.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import resource
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from scan_walk import raw_walker, run_raw

UIDS = list(range(1000, 1010))
WANT_UID = 1001
MIN_SIZE = 65536
AGE_DAYS = 180
NOW = 1_780_000_000          # CURRENT_TIMESTAMP of the runs (fixed: results are comparable)
CUTOFF = NOW - AGE_DAYS * 86400


def _stamp(epoch: float) -> str:
    return time.strftime("%Y-%m-%d@%H:%M:%S", time.localtime(epoch))


# The tree -----------------------------------------------------------------------------------

def _make_files(args: tuple[list[str], int, int]) -> int:
    dirs, per_dir, seed = args
    rng = random.Random(seed)
    flags = os.O_CREAT | os.O_WRONLY | os.O_EXCL
    made = 0
    for d in dirs:
        for f in range(per_dir):
            path = f"{d}/f{f:04d}.dat"
            fd = os.open(path, flags, 0o644)
            try:
                size = int(math.exp(rng.uniform(0, math.log(4 << 20)))) - 1
                os.ftruncate(fd, size)
                uid = rng.choice(UIDS)
                os.fchown(fd, uid, uid)
                mtime = NOW - rng.randrange(0, 2 * 365 * 86400 // 2) * 2   # even seconds
                os.utime(fd, (mtime, mtime))
            finally:
                os.close(fd)
            made += 1
    return made


def build(base: Path, n_files: int, n_dirs: int) -> tuple[Path, Path]:
    """The cluster root and the file system's mount point, made once and then reused."""
    root, mount = base / "cluster", base / "gpfs" / "mmfs1"
    marker, ours = base / ".complete", base / ".gpfskit-bench-tree"
    if marker.exists() and marker.read_text() == f"{n_files} {n_dirs}":
        return root, mount
    if ours.exists():            # a tree of other sizes, or one whose build was cut short
        shutil.rmtree(base)
    elif base.exists() and any(base.iterdir()):
        sys.exit(f"{base} holds files that are not a benchmark tree: give a new or empty "
                 "directory")
    base.mkdir(parents=True, exist_ok=True)
    ours.touch()
    from gpfskit.emulator import state
    from gpfskit.emulator.setup import init_cluster

    init_cluster(root, mount_prefix=base / "gpfs")
    state.forget_connections()
    fanout = max(1, math.ceil(math.sqrt(n_dirs)))
    dirs: list[str] = []
    for i in range(fanout):
        top = mount / f"d{i:04d}"
        top.mkdir()
        for j in range(fanout):
            if len(dirs) >= n_dirs:
                break
            sub = top / f"s{j:04d}"
            sub.mkdir()
            dirs.append(str(sub))
        if len(dirs) >= n_dirs:
            break
    per_dir = n_files // len(dirs)
    chunks = [(dirs[k::8], per_dir, k) for k in range(8)]
    from multiprocessing import Pool

    with Pool(os.cpu_count() or 2) as pool:
        made = sum(pool.map(_make_files, chunks))
    extra = n_files - made
    if extra:
        _make_files_extra(Path(dirs[0]), extra)
    marker.write_text(f"{n_files} {n_dirs}")
    return root, mount


def _make_files_extra(directory: Path, count: int) -> None:
    for k in range(count):
        (directory / f"extra{k:05d}.dat").touch()


def count_files(mount: Path) -> int:
    out = subprocess.run(["find", str(mount), "-type", "f", "-printf", "."],
                         capture_output=True, check=True).stdout
    return len(out)


# The runs -----------------------------------------------------------------------------------

OURS = textwrap.dedent("""
    import json, os, resource, sys, time
    t0 = time.perf_counter()
    from gpfskit.emulator.dispatch import run_command
    import gpfskit.emulator.commands.policy  # noqa: F401  (imports done before timing)
    base_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t1 = time.perf_counter()
    result = run_command(json.loads(sys.argv[2]), root=sys.argv[1])
    t2 = time.perf_counter()
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"rc": result.returncode, "err": result.stderr[-2000:],
                      "out": result.stdout[-3000:], "imports": t1 - t0, "run": t2 - t1,
                      "peak_kib": peak_kib, "base_kib": base_kib}))
""")


def run_ours(root: Path, policy: Path, prefix: Path, work: Path) -> dict:
    argv = ["mmapplypolicy", "mmfs1", "-P", str(policy), "-I", "defer", "-f", str(prefix),
            "-s", str(work), "-D", _stamp(NOW)]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    t0, c0 = time.perf_counter(), _children_cpu()
    done = subprocess.run([sys.executable, "-c", OURS, str(root), json.dumps(argv)],
                          capture_output=True, text=True, check=True, env=env)
    wall = time.perf_counter() - t0
    cpu = _children_cpu() - c0
    info = json.loads(done.stdout.strip().splitlines()[-1])
    if info["rc"] != 0:
        raise SystemExit(f"mmapplypolicy failed: {info['err']}")
    info["process"] = wall
    info["cpu"] = cpu
    info["selected"] = _lines(Path(f"{prefix}.list.sel"))
    return info


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _self_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _lines(path: Path) -> int:
    with open(path, "rb") as f:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 20), b""))


def run_find(mount: Path, out: Path) -> tuple[float, int, float]:
    argv = ["find", str(mount), "-path", f"{mount}/.snapshots", "-prune", "-o", "-type", "f",
            "-uid", str(WANT_UID), "-size", f"+{MIN_SIZE}c", "!", "-newermt",
            f"@{CUTOFF - 1}", "-printf", "%i %p\\n"]
    t0, c0 = time.perf_counter(), _children_cpu()
    with open(out, "wb") as f:
        subprocess.run(argv, stdout=f, check=True)
    return time.perf_counter() - t0, _lines(out), _children_cpu() - c0


def fd_binary() -> str | None:
    return shutil.which("fd") or shutil.which("fdfind")


def run_fd(binary: str, mount: Path, out: Path) -> tuple[float, int, float]:
    argv = [binary, "--unrestricted", "--type", "f", "--owner", str(WANT_UID), "--size",
            f"+{MIN_SIZE + 1}b", "--changed-before", _fd_time(CUTOFF), "--absolute-path",
            "--exclude", ".snapshots", ".", str(mount)]
    t0, c0 = time.perf_counter(), _children_cpu()
    with open(out, "wb") as f:
        subprocess.run(argv, stdout=f, check=True)
    return time.perf_counter() - t0, _lines(out), _children_cpu() - c0


def _fd_time(epoch: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(epoch))


def run_walk(mount: Path, out: Path) -> tuple[float, int, float]:
    t0, c0 = time.perf_counter(), _self_cpu()
    selected = 0
    with open(out, "wb") as f:
        root = os.fsencode(mount)
        for top, dirs, files in os.walk(root):
            if top == root and b".snapshots" in dirs:
                dirs.remove(b".snapshots")
            for name in files:
                path = os.path.join(top, name)
                st = os.lstat(path)
                if st.st_uid == WANT_UID and st.st_size > MIN_SIZE and st.st_mtime < CUTOFF:
                    f.write(b"%d %s\n" % (st.st_ino, path))
                    selected += 1
    return time.perf_counter() - t0, selected, _self_cpu() - c0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="?", type=int, default=1_000_000)
    parser.add_argument("--dirs", type=int, default=None)
    parser.add_argument("--base", default=None)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip-walk", action="store_true", help="leave out os.walk (slow)")
    args = parser.parse_args()
    n_dirs = args.dirs or max(1, args.files // 50)
    base = Path(args.base or f"/tmp/gpfskit-bench-policy-{args.files}")
    t0 = time.perf_counter()
    root, mount = build(base, args.files, n_dirs)
    built = time.perf_counter() - t0
    n = count_files(mount)                      # also warms the dentry and inode caches
    print(f"tree: {n:,} files in {n_dirs:,} directories under {mount} "
          f"({'built' if built > 5 else 'reused'} in {built:.1f} s); "
          f"{os.cpu_count()} CPUs")
    work = base / "work"
    work.mkdir(exist_ok=True)
    policy = base / "policy.pol"
    policy.write_text("RULE EXTERNAL LIST 'sel' EXEC ''\n"
                      f"RULE 'sel' LIST 'sel' WHERE USER_ID = {WANT_UID} AND FILE_SIZE > "
                      f"{MIN_SIZE} AND MODIFICATION_TIME < CURRENT_TIMESTAMP - INTERVAL "
                      f"'{AGE_DAYS}' DAYS\n")
    out = base / "out"
    out.mkdir(exist_ok=True)
    run_ours(root, policy, out / "warm", work)  # warm-up (page cache, xattr/inode caches)

    ours = min((run_ours(root, policy, out / "ours", work) for _ in range(args.repeat)),
               key=lambda r: r["run"])
    rows = [("gpfskit mmapplypolicy (command)", ours["run"], ours["selected"], None),
            ("gpfskit mmapplypolicy (process)", ours["process"], ours["selected"],
             ours["cpu"])]
    find = min(run_find(mount, out / "find.list") for _ in range(args.repeat))
    rows.append(("GNU find -printf", *find))
    binary = fd_binary()
    if binary:
        fd = min(run_fd(binary, mount, out / "fd.list") for _ in range(args.repeat))
        rows.append((f"{os.path.basename(binary)} (owner/size/changed-before)", *fd))
    else:
        print("fd / fdfind: not installed, left out")
    if not args.skip_walk:
        rows.append(("os.walk + os.lstat (Python)", *run_walk(mount, out / "walk.list")))
    limit = None
    if raw_walker() is not None:
        limit = min(run_raw(str(mount))["seconds"] for _ in range(args.repeat))

    print(f"\n{'method':<42} {'seconds':>8} {'files/s':>12} {'vs ours':>8} {'selected':>9} "
          f"{'CPU s':>7}")
    reference = ours["run"]
    for name, seconds, selected, cpu in rows:
        cpu_text = f"{cpu:>7.2f}" if cpu is not None else f"{'':>7}"
        print(f"{name:<42} {seconds:>8.3f} {n / seconds:>12,.0f} {reference / seconds:>7.2f}x "
              f"{selected:>9,} {cpu_text}")
    if limit is not None:
        print(f"{'bare C walk, 2 threads (the limit)':<42} {limit:>8.3f} {n / limit:>12,.0f} "
              f"{reference / limit:>7.2f}x {'-':>9}")
    print(f"\nours: peak RSS {ours['peak_kib'] / 1024:.0f} MiB for the whole process "
          f"({ours['base_kib'] / 1024:.0f} MiB after imports, so "
          f"{(ours['peak_kib'] - ours['base_kib']) / 1024:.0f} MiB for the run); "
          f"imports {ours['imports']:.2f} s")
    if limit is not None:
        print(f"ours (command) runs at {limit / reference:.0%} of the bare C walk's rate")
    counts = {selected for _, _, selected, _ in rows}
    print("selected counts agree" if len(counts) == 1 else
          f"SELECTED COUNTS DIFFER: {sorted(counts)}")


if __name__ == "__main__":
    main()
