"""How many admin commands the object API issues, and what one listing costs the emulator.

On a real cluster each mm* command takes 0.3-2 s, so the figure that matters is the number of
commands: listing N filesets with their quotas and snapshots must cost a constant number, not
one per fileset. Printed side by side with the per-object approach a naive wrapper takes
(one listing, then ``mmlsquota -j`` and ``mmlssnapshot -j`` per fileset), on one emulated
cluster in one run. Last, the cost of the emulator's intent journal (crash safety) on the
common path: the same cycle of changing and reading commands with the journal switched off
and on, alternating, in one run.

    python benchmarks/commands_per_operation.py [--filesets 1000]
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path


class _Counter(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.argvs: list[list[str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        if hasattr(record, "argv"):
            self.argvs.append(record.argv)


def _counted(action, changing_only: bool = False) -> tuple[int, float, object]:
    from gpfskit.commands.catalog import is_read_only

    counter = _Counter()
    logger = logging.getLogger("gpfskit.commands")
    logger.setLevel(logging.DEBUG)
    logger.addHandler(counter)
    start = time.perf_counter()
    try:
        value = action()
    finally:
        logger.removeHandler(counter)
    argvs = [a for a in counter.argvs if not (changing_only and is_read_only(a))]
    return len(argvs), time.perf_counter() - start, value


def _populate(root: Path, count: int) -> None:
    from gpfskit.emulator.dispatch import run_command

    mount = root / "gpfs" / "mmfs1"
    for i in range(count):
        name = f"proj{i:05d}"
        for argv in (["mmcrfileset", "mmfs1", name, "--inode-space", "new"],
                     ["mmlinkfileset", "mmfs1", name, "-J", str(mount / name)],
                     ["mmsetquota", f"mmfs1:{name}", "--block", "1G:2G"]):
            result = run_command(argv, root=root)
            if result.returncode:
                sys.exit(f"set-up failed: {' '.join(argv)}: {result.stderr}")
        if i % 10 == 0:
            run_command(["mmcrsnapshot", "mmfs1", f"{name}:daily"], root=root)


def _api_walk() -> int:
    from gpfskit.api import Filesystem

    report = []
    for fileset in Filesystem("mmfs1").filesets.values():
        quota = fileset.quotas.fileset[fileset.name]
        snaps = [s.name for s in fileset.snapshots.values()]
        report.append((fileset.name, fileset.path, quota.blockUsage, quota.blockLimit, snaps))
    return len(report)


def _naive_walk() -> int:
    from gpfskit.commands import run, yformat

    report = []
    for row in yformat.parse_table(run(["mmlsfileset", "mmfs1", "-Y"]).stdout):
        name = row["filesetName"]
        quota = yformat.parse_table(run(["mmlsquota", "-j", name, "mmfs1", "-Y"]).stdout)
        snaps = run(["mmlssnapshot", "mmfs1", "-j", name, "-Y"], check=False).stdout
        report.append((name, row["path"], quota, snaps))
    return len(report)


def _create_one() -> None:
    from gpfskit.api import Filesystem

    fs = Filesystem("mmfs1")
    fset = fs.filesets.new("newproject", maxInodes=100000)
    fset.link(f"{fs.mountPoint}/newproject")
    fset.quotas.fileset.new(blockSoftLimit="1G", blockHardLimit="2G")


def _lsfileset_ms(root: Path) -> float:
    from gpfskit.emulator.dispatch import run_command

    times = []
    for _ in range(20):
        start = time.perf_counter()
        run_command(["mmlsfileset", "mmfs1", "-Y"], root=root)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


_CYCLE = (["mmcrfileset", "mmfs1", "j{i}", "--inode-space", "new", "-J", "{mp}/j{i}"],
          ["mmsetquota", "mmfs1:j{i}", "--block", "1G:2G"],
          ["mmcrsnapshot", "mmfs1", "j{i}:s"],
          ["mmlsfileset", "mmfs1", "j{i}", "-Y"],
          ["mmdelsnapshot", "mmfs1", "j{i}:s"],
          ["mmunlinkfileset", "mmfs1", "j{i}"],
          ["mmdelfileset", "mmfs1", "j{i}"])


# The cheapest changes on disk (one rename each), where the journal's share is largest.
_LINKS = (["mmunlinkfileset", "mmfs1", "l"], ["mmlinkfileset", "mmfs1", "l", "-J", "{mp}/l"])


def _cycle_ms(root: Path, first: int, rounds: int,
              cycle: tuple[list[str], ...] = _CYCLE) -> list[list[float]]:
    """The times of each command of ``cycle`` (in ms), run ``rounds`` times on fresh names
    numbered from ``first``: one list per command."""
    from gpfskit.emulator.dispatch import run_command

    mount = str(root / "gpfs" / "mmfs1")
    times: list[list[float]] = [[] for _ in cycle]
    for i in range(first, first + rounds):
        for k, argv in enumerate(cycle):
            start = time.perf_counter()
            result = run_command([a.format(i=i, mp=mount) for a in argv], root=root)
            times[k].append((time.perf_counter() - start) * 1000)
            if result.returncode:
                sys.exit(f"cycle failed: {argv}: {result.stderr}")
    return times


def _journal_cost(root: Path, cycle: tuple[list[str], ...], rounds: int = 400
                  ) -> tuple[float, float]:
    """One command of ``cycle``, in ms, with the intent journal off and on.

    The two alternate, a few cycles at a time, to share the machine's mood. Each command's
    figure in each mode is the 10th percentile of its ``rounds`` runs: a run as little
    disturbed by other work as most (on a shared machine the noise only ever adds; the
    fastest single run is itself a matter of luck). The result is their mean.
    """
    from gpfskit.emulator import journal

    runs: dict[bool, list[list[float]]] = {False: [[] for _ in cycle],
                                            True: [[] for _ in cycle]}
    try:
        for r in range(0, rounds, 4):
            for enabled in (False, True):
                journal.enabled = enabled
                for k, times in enumerate(_cycle_ms(root, 2 * r + 4 * enabled, 4, cycle)):
                    runs[enabled][k].extend(times)
    finally:
        journal.enabled = True
    return tuple(statistics.fmean(statistics.quantiles(times, n=10)[0] for times in mode)
                 for mode in (runs[False], runs[True]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--filesets", type=int, default=1000, help="largest fileset count")
    options = parser.parse_args()
    sizes = sorted({n for n in (10, 100, options.filesets) if n <= options.filesets})

    from gpfskit.config import config
    from gpfskit.emulator.setup import init_cluster

    print(f"{'filesets':>8} | {'gpfskit cmds':>12} {'time':>8} | {'per-object cmds':>15} "
          f"{'time':>8} | {'cmds ratio':>10}")
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["GPFSKIT_CONFIG"] = str(Path(tmp) / "config")
        for count in sizes:
            root = Path(tmp) / f"cluster{count}"
            init_cluster(root)
            config["gpfskit.cluster.backend"] = "emulated"
            config["gpfskit.emulator.root"] = str(root)
            _populate(root, count)
            ours, our_time, _ = _counted(_api_walk)
            theirs, their_time, _ = _counted(_naive_walk)
            print(f"{count + 1:>8} | {ours:>12} {our_time:>7.2f}s | {theirs:>15} "
                  f"{their_time:>7.2f}s | {theirs / ours:>9.0f}x")
        created, _, _ = _counted(_create_one, changing_only=True)
        listing = _lsfileset_ms(root)
        small = Path(tmp) / "journal"
        init_cluster(small)
        without, with_journal = _journal_cost(small, _CYCLE)
        from gpfskit.emulator.dispatch import run_command

        run_command(["mmcrfileset", "mmfs1", "l", "-J", str(small / "gpfs/mmfs1/l")], root=small)
        links_without, links_with = _journal_cost(small, _LINKS)
    print(f"\ncreate + link + quota one independent fileset: {created} changing commands "
          "(mmcrfileset, mmlinkfileset, mmsetquota; the peer needs the same three)")
    print(f"in-process 'mmlsfileset mmfs1 -Y' with {sizes[-1] + 1} filesets: {listing:.1f} ms "
          "median of 20 (bar: under 50 ms; a real cluster takes 300-2000 ms per command)")
    print(f"one command of a fileset create/quota/snapshot/list/delete cycle: "
          f"{without:.2f} ms without the intent journal, {with_journal:.2f} ms with it "
          f"({with_journal / without:.2f}x; bar: at most 1.10x)")
    print(f"one mmunlinkfileset or mmlinkfileset (one rename): {links_without:.2f} ms without "
          f"the journal, {links_with:.2f} ms with it ({links_with / links_without:.2f}x)")


if __name__ == "__main__":
    main()
