"""Map-reduce over a file list: gpfskit's list driver against a plain Python loop.

    python benchmarks/mapreduce.py [N_RECORDS] [--workers W] [--repeat K] [--dir DIR]

Writes (or reuses) a file list of N records (default 1,000,000) in the record format
``mmapplypolicy`` hands to EXTERNAL LIST scripts, with the SHOW text a MapReduceRule asks
for after ``show_attributes('FILE_SIZE')``::

    <inode> <generation> 0  <FILE_SIZE> -- /mmfs1/dirNNNN/fileNNNNNNN.dat

split into W bucket files (what ``mmapplypolicy -B`` does before calling the script; not
timed). Then it times a size histogram (files per power-of-two size class: map, combine,
reduce) computed

* by the driver path: W driver processes started at once through the work directory's
  wrapper script, exactly as mmapplypolicy calls them (``driver LIST <bucket> <opts>``),
  each parsing its bucket, mapping and combining, then the partial results reduced in this
  process - everything from process start to the final dict is timed;
* by the same parse/map/combine in this process on one core (no subprocesses), for reference;
* by a plain single-process Python loop over the whole file (read, split each line, int,
  histogram) - what a script without gpfskit would do.

It prints records/s for each, the ratio to the plain loop, and checks all three agree.
Best of --repeat runs (default 3).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src"))

from gpfskit.policy.filelist import FileList, Layout
from gpfskit.policy.processing import MapReduceRule
from gpfskit.policy.workspace import MAPREDUCE, Workspace, map_bucket


def size_class(f):
    return f.filesize.bit_length()


def count(acc, key):
    acc[key] = acc.get(key, 0) + 1
    return acc


def merge(a, b):
    for key, value in b.items():
        a[key] = a.get(key, 0) + value
    return a


def write_list(path: str, n: int) -> None:
    marker = f"{path}.complete"
    if os.path.exists(marker) and os.path.exists(path):
        return
    with open(path, "wb") as out:
        step = 100_000
        for start in range(0, n, step):
            out.write(b"".join(
                b"%d %d 0  %d -- /mmfs1/dir%04d/file%07d.dat\n"
                % (1000 + i, (i * 2654435761) % 2147483647,
                   (i * 40503) % (1 << ((i * 7919) % 36 + 1)), i // 50, i)
                for i in range(start, min(start + step, n))))
    with open(marker, "w") as m:
        m.write(str(n))


def split(path: str, parts: int, directory: str) -> list[str]:
    with open(path, "rb") as f:
        data = f.read()
    out = []
    pos = 0
    for k in range(parts):
        end = len(data) if k == parts - 1 else data.index(b"\n", len(data) * (k + 1) // parts) + 1
        name = os.path.join(directory, f"bucket.{k}")
        with open(name, "wb") as f:
            f.write(data[pos:end])
        out.append(name)
        pos = end
    return out


def plain_loop(path: str) -> dict[int, int]:
    hist: dict[int, int] = {}
    with open(path, "rb") as f:
        for line in f:
            left, _, _ = line.partition(b" -- ")
            key = int(left.split()[3]).bit_length()
            hist[key] = hist.get(key, 0) + 1
    return hist


def driver_path(rule: MapReduceRule, buckets: list[str], base: str) -> dict[int, int]:
    workspace = Workspace.create(base)
    try:
        rule.prepare(workspace)
        opts = workspace.opts(rule.id)
        procs = [subprocess.Popen([workspace.wrapper, "LIST", bucket, opts])
                 for bucket in buckets]
        for proc in procs:
            if proc.wait() != 0:
                raise SystemExit(f"driver failed: {workspace.problems(rule.id)}")
        return rule.finish(workspace)
    finally:
        workspace.cleanup()


def in_process(rule: MapReduceRule, path: str) -> dict[int, int]:
    with open(path, "rb") as f:
        partial = map_bucket(rule._functions(), FileList.stream(f, Layout(("FILE_SIZE",))))
    return rule._finish([partial])


def best(fn, repeat: int):
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return min(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("records", nargs="?", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--dir", default="/tmp")
    args = parser.parse_args()

    path = os.path.join(args.dir, f"gpfskit-bench-list-{args.records}")
    write_list(path, args.records)
    work = os.path.join(args.dir, "gpfskit-bench-mapreduce")
    os.makedirs(work, exist_ok=True)
    buckets = split(path, args.workers, work)
    rule = MapReduceRule("hist", size_class, reducefn=merge, combinefn=count, initial={},
                         output=lambda h: dict(sorted(h.items())))
    assert rule.mode == MAPREDUCE
    rule.show_attributes("FILE_SIZE")

    n = args.records
    t_driver, r_driver = best(lambda: driver_path(rule, buckets, work), args.repeat)
    t_inproc, r_inproc = best(lambda: in_process(rule, path), args.repeat)
    t_plain, r_plain = best(lambda: dict(sorted(plain_loop(path).items())), args.repeat)
    for name in buckets:
        os.unlink(name)
    os.rmdir(work)
    assert r_driver == r_inproc == r_plain, "the three histograms differ"
    assert sum(r_plain.values()) == n

    print(f"size histogram over {n:,} file-list records, {os.cpu_count()} CPUs, "
          f"best of {args.repeat}")
    print(f"{'method':<52} {'seconds':>8} {'records/s':>12} {'vs plain':>9}")
    for label, seconds in (
        (f"gpfskit driver, {args.workers} parallel driver processes", t_driver),
        ("gpfskit parse + map + combine, in process, 1 core", t_inproc),
        ("plain Python loop, 1 process", t_plain),
    ):
        print(f"{label:<52} {seconds:8.3f} {n / seconds:12,.0f} {t_plain / seconds:8.2f}x")


if __name__ == "__main__":
    main()
