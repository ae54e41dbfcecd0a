"""C library API speed on the emulated cluster: inode scans and walk + stat-lite.

    python benchmarks/clib_scan.py [N_FILES] [--dirs N] [--base DIR] [--repeat K]

Builds (or reuses) an emulated cluster whose mmfs1 holds N files (default 1,000,000) in
--dirs directories (default 20,000), the tree of ``policy_scan.py``, warms the cache, then
times in this one process, best of --repeat runs:

* ``inode.open_inodescan`` + ``next_inode`` until None over the whole file system (every
  inode, attributes with fileset, pool and snapshot ids), once as it is and once totalling
  ``ia_size`` as a script would (a record makes a field's value when it is read), and
  ``utils.inode_iterator`` totalling ``ia_size``,
  against GNU ``find -printf '%i %s %U %T@\\n'`` (the same inodes, unsorted, fewer fields);
  the scan once more without its memo (every file's recorded pool read, as the first scan
  after the files all changed);
* ``utils.walk`` + ``stat.lstatlite`` on every entry, against ``os.walk`` + ``os.lstat``
  on every entry (the peer a script would otherwise write);
* the bare two-thread C getdents64 + statx walk of ``scan_walk.py`` (when a C compiler is at
  hand): what listing the tree costs at the least, the limit for any inode scan here.

It prints objects per second, the CPU seconds each run took (every thread, and find's own),
and the ratios. The machine may be shared: read the ratios, which both sides of one run see
alike, before the absolute figures; under load the CPU ratio is the steadier one, while the
wall-clock ratio shows what the second core gives (the scan and the walk list on two
threads, their peers on one).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from policy_scan import build
from scan_walk import raw_walker


def cpu_seconds() -> float:
    """CPU time of this process (every thread) and of its finished children."""
    me, children = (resource.getrusage(who) for who in (resource.RUSAGE_SELF,
                                                        resource.RUSAGE_CHILDREN))
    return me.ru_utime + me.ru_stime + children.ru_utime + children.ru_stime


def best(fn, repeat: int) -> tuple[float, int, float]:
    """The fastest of ``repeat`` runs: wall seconds, objects, CPU seconds of that run."""
    runs = []
    for _ in range(repeat):
        c0, t0 = cpu_seconds(), time.perf_counter()
        n = fn()
        runs.append((time.perf_counter() - t0, n, cpu_seconds() - c0))
    return min(runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("n_files", nargs="?", type=int, default=1_000_000)
    parser.add_argument("--dirs", type=int, default=20_000)
    parser.add_argument("--base", default=None, help="where the cluster is built (reused)")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    base = Path(args.base or f"/tmp/gpfskit-bench-clib-{args.n_files}-{args.dirs}")
    print(f"building or reusing {args.n_files:,} files in {args.dirs:,} directories "
          f"under {base} ...", flush=True)
    root, mount = build(base, args.n_files, args.dirs)

    os.environ["GPFSKIT_CONFIG"] = tempfile.mkdtemp(prefix="gpfskit-bench-config-")
    from gpfskit.config import config

    config["gpfskit.cluster.backend"] = "emulated"
    config["gpfskit.emulator.root"] = str(root)
    from gpfskit.clib import fssnap, inode, stat, utils

    top = str(mount)

    def os_walk_lstat() -> int:
        n = 0
        for dirpath, dirs, files in os.walk(top):
            if dirpath == top:
                dirs[:] = [d for d in dirs if d != ".snapshots"]
            for name in dirs + files:
                os.lstat(os.path.join(dirpath, name))
                n += 1
        return n

    def clib_walk_lstatlite() -> int:
        n = 0
        for dirpath, dirs, files in utils.walk(top):
            for name in dirs + files:
                stat.lstatlite(os.path.join(dirpath, name))
                n += 1
        return n

    def inode_scan() -> int:
        handle = fssnap.get_fssnaphandle_by_name("mmfs1")
        scan = inode.open_inodescan(handle)
        n = 0
        next_inode = inode.next_inode
        while next_inode(scan) is not None:
            n += 1
        inode.close_inodescan(scan)
        fssnap.free_fssnaphandle(handle)
        return n

    def inode_scan_sizes() -> int:
        handle = fssnap.get_fssnaphandle_by_name("mmfs1")
        scan = inode.open_inodescan(handle)
        n = total = 0
        next_inode = inode.next_inode
        while (ia := next_inode(scan)) is not None:
            n += 1
            total += ia.ia_size
        inode.close_inodescan(scan)
        fssnap.free_fssnaphandle(handle)
        return n

    def inode_iterator() -> int:
        n = total = 0
        for ia in utils.inode_iterator(top):
            n += 1
            total += ia.ia_size
        return n

    def inode_scan_without_memo() -> int:
        shutil.rmtree(root / "filesystems" / "mmfs1" / "scan-memo", ignore_errors=True)
        return inode_scan()

    def find_inodes() -> int:
        out = subprocess.run(["find", top, "-path", f"{top}/.snapshots", "-prune", "-o",
                              "-printf", "%i %s %U %T@\\n"], capture_output=True, check=True)
        return out.stdout.count(b"\n")

    os_walk_lstat()  # warm the cache
    print("(shared machine: absolute figures vary with the load; compare within this run)")
    rows = []
    for label, fn in (("inode scan: open_inodescan + next_inode", inode_scan),
                      ("inode scan: next_inode, total ia_size", inode_scan_sizes),
                      ("inode scan: utils.inode_iterator, total ia_size", inode_iterator),
                      ("inode scan: next_inode, no memo", inode_scan_without_memo),
                      ("GNU find -printf inode, size, uid, mtime", find_inodes),
                      ("utils.walk + stat.lstatlite, every entry", clib_walk_lstatlite),
                      ("os.walk + os.lstat, every entry", os_walk_lstat)):
        seconds, n, cpu = best(fn, args.repeat)
        rows.append((label, n, seconds, cpu))
        print(f"  {label:<48} {n:>10,} objects {seconds:8.2f} s {n / seconds / 1e6:6.2f} M/s"
              f"  (CPU {cpu:6.2f} s)", flush=True)
    scan, find = rows[0], rows[4]
    print(f"inode scan is {find[2] / scan[2]:.2f}x GNU find, {find[3] / scan[3]:.2f}x in CPU "
          f"time (inodes: {scan[1]:,} vs {find[1]:,})")
    ours, peer = rows[5], rows[6]
    print(f"walk + lstatlite is {peer[2] / ours[2]:.2f}x os.walk + os.lstat, "
          f"{peer[3] / ours[3]:.2f}x in CPU time (same {ours[1]:,} entries: {ours[1] == peer[1]})")
    bare = raw_walker()
    if bare is not None:
        seconds, n, cpu = best(lambda: int(subprocess.run(
            [bare, top, "2"], check=True, capture_output=True, text=True).stdout), args.repeat)
        print(f"  {'bare C getdents64 + statx walk, 2 threads':<48} {n:>10,} files   "
              f"{seconds:8.2f} s {n / seconds / 1e6:6.2f} M/s  (CPU {cpu:6.2f} s): the limit")
        limit = n / seconds
        print(f"inode scan runs at {scan[1] / scan[2] / limit:.0%} of the bare walk's rate, "
              f"totalling sizes at {rows[1][1] / rows[1][2] / limit:.0%}, "
              f"utils.inode_iterator at {rows[2][1] / rows[2][2] / limit:.0%}, "
              f"without a memo at {rows[3][1] / rows[3][2] / limit:.0%}")


if __name__ == "__main__":
    main()
