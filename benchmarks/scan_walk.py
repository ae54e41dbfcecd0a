"""Metadata scan speed: gpfskit's scan against find and os.walk on one warm tree.

    python benchmarks/scan_walk.py [N_FILES] [--tree DIR] [--repeat K]

Builds (or reuses) a tree of N files (default 1,000,000) in N/50 directories two levels deep
under DIR (default /tmp/gpfskit-bench-tree-<N>), warms the cache, then runs, each in a fresh
process so that its peak RSS is its own:

* gpfskit scan, C lister, 2 workers, every column (the policy engine's worst case);
* the same with only the columns a LIST rule on size/owner/age needs;
* that scan with a three-term vectorised filter and the file-list records written to
  /dev/null: a LIST rule end to end, minus the policy language;
* gpfskit scan, C lister, 1 worker (why threads: compare with 2);
* gpfskit scan, pure-Python lister (its default single worker: it holds the GIL);
* GNU find -printf '%s %U %T@ %p\\n' > /dev/null;
* os.walk + os.lstat of every file;
* when a C compiler is at hand, a bare C walk (getdents64 + statx, 2 threads, nothing
  recorded): the practical limit of the machine at that moment, to read the others against.

and prints files/s, the ratio to our scan, and each run's peak RSS. Best of --repeat runs.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import shutil
import subprocess
import sys
import time

LIST_COLUMNS = ["PATH_NAME", "INODE", "GENERATION", "FILE_SIZE", "USER_ID",
                "MODIFICATION_TIME", "FILESET_NAME"]


def build_tree(root: str, n_files: int, per_dir: int = 50) -> int:
    """N files (empty, via mknod) in ceil(N / per_dir) directories, two levels deep."""
    marker = root.rstrip("/") + ".complete"  # beside the tree, not in it
    if os.path.exists(marker):
        with open(marker) as f:
            return int(f.read())
    ours = marker + ".building"          # set while a tree is made: it may be removed
    if os.path.exists(ours):
        shutil.rmtree(root, ignore_errors=True)
    elif os.path.exists(root):
        sys.exit(f"{root} exists and is not a benchmark tree: give a new directory")
    open(ours, "w").close()
    n_dirs = max(1, math.ceil(n_files / per_dir))
    fanout = max(1, math.ceil(math.sqrt(n_dirs)))
    dirs: list[str] = []
    os.makedirs(root)
    for i in range(fanout):
        top = os.path.join(root, f"d{i:04d}")
        os.mkdir(top)
        dirs.append(top)
        for j in range(fanout - 1):
            if len(dirs) >= n_dirs:
                break
            sub = os.path.join(top, f"s{j:04d}")
            os.mkdir(sub)
            dirs.append(sub)
        if len(dirs) >= n_dirs:
            break
    made = 0
    for k, d in enumerate(dirs):
        count = min(per_dir, n_files - made)
        if count <= 0:
            break
        for f in range(count):
            os.mknod(os.path.join(d, f"file-{k:05d}-{f:03d}.dat"))
        made += count
    with open(marker, "w") as f:
        f.write(str(made))
    os.unlink(ours)
    return made


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_ours(tree: str, implementation: str, workers: int | None,
             columns: list[str] | None) -> dict:
    from gpfskit.emulator.scan import scan

    t0 = time.perf_counter()
    s = scan(tree, implementation=implementation, workers=workers, columns=columns)
    rows = 0
    for batch in s:
        rows += batch.num_rows
    elapsed = time.perf_counter() - t0
    return {"files": rows, "seconds": elapsed, "rss": peak_rss_mib(),
            "dirs": s.stats.directories, "errors": s.stats.problems}


def run_list_rule(tree: str) -> dict:
    """Scan + a three-term vectorised filter + file-list records to /dev/null: what a LIST
    rule costs end to end, minus the policy parser."""
    import pyarrow.compute as pc

    from gpfskit.emulator.scan import scan, write_records

    now = time.time()
    t0 = time.perf_counter()
    s = scan(tree, columns=LIST_COLUMNS)
    listed = 0
    with open(os.devnull, "wb") as out:
        for batch in s:
            keep = pc.and_(pc.and_(pc.greater_equal(batch.column("FILE_SIZE"), 0),
                                   pc.less(batch.column("MODIFICATION_TIME"), now)),
                           pc.equal(batch.column("FILESET_NAME"), "root"))
            listed += write_records(out, batch.filter(keep))
    elapsed = time.perf_counter() - t0
    return {"files": s.stats.files, "seconds": elapsed, "rss": peak_rss_mib(),
            "listed": listed}


def run_find(tree: str) -> dict:
    t0 = time.perf_counter()
    with open(os.devnull, "wb") as null:
        subprocess.run(["find", tree, "-type", "f", "-printf", "%s %U %T@ %p\\n"], stdout=null,
                       check=True)
    elapsed = time.perf_counter() - t0
    with open(tree.rstrip("/") + ".complete") as f:
        files = int(f.read())
    return {"files": files, "seconds": elapsed,
            "rss": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}


RAW_WALK_C = r"""
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
struct d64 { uint64_t ino; int64_t off; unsigned short len; unsigned char type; char name[]; };
static char **stack;
static int sp, cap, busy;
static long total;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static void push(char *p) {
  if (sp == cap) {
    cap = cap ? cap * 2 : 1024;
    stack = realloc(stack, cap * sizeof(char *));
  }
  stack[sp++] = p;
}
static void *worker(void *arg) {
  char *buf = malloc(65536);
  long files = 0;
  int nsubs = 0, capsubs = 256;
  char **subs = malloc(capsubs * sizeof(char *));
  for (;;) {
    pthread_mutex_lock(&mu);
    while (!sp && busy) pthread_cond_wait(&cv, &mu);
    if (!sp) { pthread_cond_broadcast(&cv); pthread_mutex_unlock(&mu); break; }
    char *p = stack[--sp];
    busy++;
    pthread_mutex_unlock(&mu);
    int fd = open(p, O_RDONLY | O_DIRECTORY);
    nsubs = 0;
    if (fd >= 0) {
      for (;;) {
        long n = syscall(SYS_getdents64, fd, buf, 65536);
        if (n <= 0) break;
        for (long pos = 0; pos < n;) {
          struct d64 *d = (void *)(buf + pos);
          pos += d->len;
          if (d->name[0] == '.' && (!d->name[1] || (d->name[1] == '.' && !d->name[2])))
            continue;
          if (d->type == DT_DIR) {
            char *s = malloc(strlen(p) + strlen(d->name) + 2);
            sprintf(s, "%s/%s", p, d->name);
            if (nsubs == capsubs) subs = realloc(subs, (capsubs *= 2) * sizeof(char *));
            subs[nsubs++] = s;
          } else {
            struct statx sx;
            statx(fd, d->name, AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS | STATX_BTIME, &sx);
            files++;
          }
        }
      }
      close(fd);
    }
    pthread_mutex_lock(&mu);
    for (int i = 0; i < nsubs; i++) push(subs[i]);
    busy--;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
    free(p);
  }
  __sync_fetch_and_add(&total, files);
  return arg;
}
int main(int argc, char **argv) {
  int nt = atoi(argv[2]);
  pthread_t th[64];
  push(strdup(argv[1]));
  for (int i = 0; i < nt; i++) pthread_create(&th[i], 0, worker, 0);
  for (int i = 0; i < nt; i++) pthread_join(th[i], 0);
  printf("%ld\n", total);
  return 0;
}
"""


def raw_walker() -> str | None:
    """Compile the bare C walk once (None without a compiler)."""
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        return None
    exe = os.path.join(os.environ.get("TMPDIR", "/tmp"), "gpfskit-bench-rawwalk")
    src = exe + ".c"
    with open(src, "w") as f:
        f.write(RAW_WALK_C)
    done = subprocess.run([cc, "-O2", "-pthread", "-o", exe, src], capture_output=True)
    return exe if done.returncode == 0 else None


def run_raw(tree: str) -> dict:
    exe = raw_walker()
    assert exe is not None
    t0 = time.perf_counter()
    out = subprocess.run([exe, tree, "2"], check=True, capture_output=True, text=True)
    elapsed = time.perf_counter() - t0
    return {"files": int(out.stdout), "seconds": elapsed,
            "rss": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}


def run_oswalk(tree: str) -> dict:
    t0 = time.perf_counter()
    files = 0
    lstat = os.lstat
    join = os.path.join
    for top, _dirs, names in os.walk(tree):
        for name in names:
            lstat(join(top, name))
            files += 1
    return {"files": files, "seconds": time.perf_counter() - t0, "rss": peak_rss_mib()}


METHODS = {
    "ours-c-2w-all": lambda t: run_ours(t, "c", 2, None),
    "ours-c-2w-list": lambda t: run_ours(t, "c", 2, LIST_COLUMNS),
    "ours-c-2w-list-records": run_list_rule,
    "ours-c-1w-all": lambda t: run_ours(t, "c", 1, None),
    "ours-python-all": lambda t: run_ours(t, "python", None, None),
    "find-printf": run_find,
    "os.walk+lstat": run_oswalk,
    "raw-c-2t": run_raw,
}
LABELS = {
    "ours-c-2w-all": "gpfskit scan, C, 2 workers, all columns",
    "ours-c-2w-list": "gpfskit scan, C, 2 workers, LIST columns",
    "ours-c-2w-list-records": "  + 3-term filter + list records to /dev/null",
    "ours-c-1w-all": "gpfskit scan, C, 1 worker, all columns",
    "ours-python-all": "gpfskit scan, Python fallback (1 worker)",
    "find-printf": "GNU find -printf '%s %U %T@ %p'",
    "os.walk+lstat": "Python os.walk + os.lstat",
    "raw-c-2t": "bare C getdents64+statx, 2 threads (limit)",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n_files", nargs="?", type=int, default=1_000_000)
    parser.add_argument("--tree", default=None)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--one", choices=sorted(METHODS), help=argparse.SUPPRESS)
    parser.add_argument("--skip", action="append", default=[], choices=sorted(METHODS))
    args = parser.parse_args()
    tree = args.tree or f"/tmp/gpfskit-bench-tree-{args.n_files}"

    if args.one:  # child process: one measurement, as JSON
        print(json.dumps(METHODS[args.one](tree)))
        return

    t0 = time.perf_counter()
    made = build_tree(tree, args.n_files)
    print(f"tree: {tree}: {made:,} files in {math.ceil(made / 50):,} directories "
          f"(ready in {time.perf_counter() - t0:.1f} s)")
    subprocess.run(["find", tree, "-printf", ""], check=True)  # warm the dentry/inode cache
    from gpfskit.emulator.scan import HAVE_C_EXTENSION

    if not HAVE_C_EXTENSION:
        print("the C extension is not built: the C rows are skipped")
    results: dict[str, dict] = {}
    for name in METHODS:
        if name in args.skip or (name.startswith("ours-c") and not HAVE_C_EXTENSION):
            continue
        if name == "raw-c-2t" and raw_walker() is None:
            continue
        best: dict | None = None
        for _ in range(max(1, args.repeat)):
            out = subprocess.run([sys.executable, __file__, str(args.n_files), "--tree", tree,
                                  "--one", name], check=True, capture_output=True, text=True)
            r = json.loads(out.stdout)
            if best is None or r["seconds"] < best["seconds"]:
                best = r
        assert best is not None
        best["rate"] = best["files"] / best["seconds"]
        results[name] = best

    ref = results.get("ours-c-2w-all") or results.get("ours-python-all")
    limit = results.get("raw-c-2t")
    print(f"\n{'method':46} {'files':>10} {'seconds':>8} {'files/s':>10} {'vs ours':>8} "
          f"{'of limit':>8} {'peak RSS':>9}")
    for name, r in results.items():
        ratio = r["rate"] / ref["rate"] if ref else float("nan")
        of_limit = f"{r['rate'] / limit['rate']:>7.0%}" if limit else "       -"
        print(f"{LABELS[name]:46} {r['files']:>10,} {r['seconds']:>8.3f} "
              f"{r['rate'] / 1e6:>8.3f} M {ratio:>7.2f}x {of_limit:>8} {r['rss']:>6.0f} MiB")
    print("\n(peak RSS: the whole measuring process, interpreter and libraries included; "
          "find and the bare C walk: the child.\n 'of limit': the share of the bare C walk's "
          "rate, comparable across machines of different speed)")


if __name__ == "__main__":
    main()
