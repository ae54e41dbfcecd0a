"""Pools, disks and capacity: mmlspool, mmdf, mmlsdisk, mmchdisk, mmlsnsd.

The figures are measured from the real files (``capacity``: how data and metadata are
charged to pools and disks, and the inode counts of ``mmdf``).

Measuring raises the pool callback events (``events.pool_levels``: lowDiskSpace at a MIGRATE
rule's THRESHOLD high mark, noDiskSpace when a data pool is full); ``mmchdisk stop`` raises
diskFailure for the disks it marks down.
"""

from __future__ import annotations

import re
import sqlite3

from gpfskit.emulator import events, layout
from gpfskit.emulator.args import Parsed, UsageError, is_digits
from gpfskit.emulator.capacity import DiskFigures, PoolFigures, figures, inode_figures, measure
from gpfskit.emulator.dispatch import Invocation, command
from gpfskit.emulator.output import ytable


def _pct(part: int, whole: int) -> int:
    return int(part * 100 / whole + 0.5) if whole else 0


def human_size(kb: int) -> str:
    """``400 GB``, ``4 MB``... (binary units, as the real commands print sizes)."""
    for unit, scale in (("PB", 1024**4), ("TB", 1024**3), ("GB", 1024**2), ("MB", 1024)):
        if kb >= scale:
            value = kb / scale
            return f"{value:.0f} {unit}" if value >= 10 or value == int(value) \
                else f"{value:.1f} {unit}"
    return f"{kb} KB"


def _block_text(nbytes: int) -> str:
    if nbytes >= 1024 * 1024 and nbytes % (1024 * 1024) == 0:
        return f"{nbytes // (1024 * 1024)} MB"
    return f"{nbytes // 1024} KB"


def _max_disk_kb(pool: PoolFigures) -> int:
    largest = max((d.size_kb for d in pool.disks), default=0)
    return largest * 4


# mmlspool --------------------------------------------------------------------------------

_LSPOOL_HEADER = ("Name                    Id   BlkSize Data Meta Total Data in (KB)   "
                  "Free Data in (KB)   Total Meta in (KB)    Free Meta in (KB)")


def _pools_named(inv: Invocation, fs: str, spec: str | None) -> list[str] | None:
    if spec is None or spec == "all":
        return None
    names = [n for n in spec.split(",") if n]
    for n in names:
        if not inv.db.execute("SELECT 1 FROM pools WHERE fs = ? AND name = ?",
                              (fs, n)).fetchone():
            raise inv.fail(f"Storage pool {n} does not exist in file system {fs}.", 2)
    return names


@command("mmlspool", "mmlspool Device [PoolName[,PoolName...] | all] [-L]", flags=("-L",),
         min_operands=1, max_operands=2)
def mmlspool(inv: Invocation, args: Parsed) -> None:
    fs = inv.filesystem(args.operands[0])
    wanted = _pools_named(inv, fs["name"], args.operands[1] if len(args.operands) > 1 else None)
    pools = [p for p in figures(inv.root, inv.db, fs) if wanted is None or p.name in wanted]
    events.pool_levels(inv, fs, pools)
    if args.has("-L"):
        for index, pool in enumerate(pools):
            if index:
                inv.say("")
            has_data, has_meta = bool(pool.data_disks), bool(pool.metadata_disks)
            fpo = inv.db.execute("SELECT write_affinity_depth, block_group_factor FROM pools "
                                 "WHERE fs = ? AND name = ?", (fs["name"], pool.name)).fetchone()
            kind = ("dataAndMetadata" if has_data and has_meta else "metadataOnly" if has_meta
                    else "dataOnly")
            inv.say("Pool:")
            for label, value in (("name", pool.name), ("poolID", pool.pool_id),
                                 ("blockSize", _block_text(pool.block_size)),
                                 ("usage", kind),
                                 ("maxDiskSize", human_size(_max_disk_kb(pool))),
                                 ("layoutMap", "cluster"), ("allowWriteAffinity", "no"),
                                 ("writeAffinityDepth", fpo["write_affinity_depth"]),
                                 ("blockGroupFactor", fpo["block_group_factor"])):
                inv.say(f"  {label:<22} = {value}")
        return
    inv.say(f"Storage pools in file system at '{layout.visible_root(fs)}':")
    inv.say(_LSPOOL_HEADER)
    for pool in pools:
        data, meta = pool.data_disks, pool.metadata_disks
        data_total = sum(d.size_kb for d in data)
        data_free = sum(d.free_kb for d in data)
        meta_total = sum(d.size_kb for d in meta)
        meta_free = sum(d.free_kb for d in meta)
        inv.say(f"{pool.name:<20}{pool.pool_id:>6}{_block_text(pool.block_size):>10}"
                f"{'yes' if data else 'no':>5}{'yes' if meta else 'no':>5}"
                f"{data_total:>15}{data_free:>15} ({_pct(data_free, data_total):>3}%)"
                f"{meta_total:>15}{meta_free:>15} ({_pct(meta_free, meta_total):>3}%)")


# mmdf ------------------------------------------------------------------------------------

_DF_NSD = ["nsdName", "storagePool", "diskSize", "failureGroup", "metadata", "data",
           "freeBlocks", "freeBlocksPct", "freeFragments", "freeFragmentsPct",
           "diskAvailableForAlloc"]
_DF_POOL = ["poolName", "poolSize", "freeBlocks", "freeBlocksPct", "freeFragments",
            "freeFragmentsPct", "maxDiskSize"]
_DF_TOTAL = ["freeBlocks", "freeBlocksPct", "freeFragments", "freeFragmentsPct"]
_UNITS = {"K": 1, "M": 1024, "G": 1024**2, "T": 1024**3, "P": 1024**4}


def _sum(disks: list[DiskFigures]) -> tuple[int, int, int]:
    return (sum(d.size_kb for d in disks), sum(d.free_blocks_kb for d in disks),
            sum(d.free_fragments_kb for d in disks))


def _unit(inv: Invocation, text: str | None) -> tuple[int, str]:
    """``--block-size``: KiB per reported unit (0 = auto) and the unit's name for headers."""
    if text is None:
        return 1, "KB"
    value = text.strip().upper()
    if value == "AUTO":
        return 0, "auto"
    match = re.fullmatch(r"(\d{1,7})([KMGTP]?)", value)
    if not match or int(match.group(1)) < 1:
        raise inv.fail(f"Incorrect block size {text!r}: expected a number with an optional "
                       "K, M, G, T or P suffix, or auto.", 22)
    number, suffix = int(match.group(1)), match.group(2)
    kib = number * _UNITS[suffix] if suffix else number // 1024
    if kib < 1:
        raise inv.fail(f"Incorrect block size {text!r}: the smallest unit is 1K.", 22)
    return kib, (f"{suffix}B" if number == 1 and suffix else value)


_POOL_SETTINGS = {"--write-affinity-depth": ("write_affinity_depth", 0, 2),
                  "--block-group-factor": ("block_group_factor", 1, 1024)}


@command("mmchpool", "mmchpool Device PoolName [--block-group-factor BlockGroupFactor]\n"
         "         [--write-affinity-depth WriteAffinityDepth]",
         valued=tuple(_POOL_SETTINGS), min_operands=2, max_operands=2, changing=True)
def mmchpool(inv: Invocation, args: Parsed) -> None:
    """Change a pool's write-affinity (FPO) settings, shown by ``mmlspool -L``."""
    fs = inv.filesystem(args.operands[0])
    pool = args.operands[1]
    if not inv.db.execute("SELECT 1 FROM pools WHERE fs = ? AND name = ?",
                          (fs["name"], pool)).fetchone():
        raise inv.fail(f"Storage pool {pool} does not exist in file system {fs['name']}.", 2)
    changes = {}
    for option, (column, low, high) in _POOL_SETTINGS.items():
        text = args.get(option)
        if text is None:
            continue
        if not is_digits(text) or not low <= int(text) <= high:
            raise inv.fail(f"Incorrect value {text!r} for {option}: expected a whole number "
                           f"from {low} to {high}.", 22)
        changes[column] = int(text)
    if not changes:
        raise UsageError("Missing arguments.")
    for column, value in changes.items():
        inv.db.execute(f"UPDATE pools SET {column} = ? WHERE fs = ? AND name = ?",
                       (value, fs["name"], pool))


@command("mmdf", "mmdf Device [-d | -F | -m] [-P PoolName] [--block-size {BlockSize | auto}] "
         "[-Y]", flags=("-d", "-F", "-m", "-Y"), valued=("-P", "--block-size", "--qos"),
         min_operands=1, max_operands=1)
def mmdf(inv: Invocation, args: Parsed) -> None:
    fs = inv.filesystem(args.operands[0])
    if sum(1 for f in ("-d", "-F", "-m") if args.has(f)) > 1:
        raise UsageError("Options -d, -F and -m cannot be used together.")
    pool_name = args.get("-P")
    if pool_name is not None:
        _pools_named(inv, fs["name"], pool_name)
        if "," in pool_name:
            raise inv.fail("Only one storage pool can be given with -P.", 22)
    unit, unit_name = _unit(inv, args.get("--block-size"))
    usage = measure(inv.root, inv.db, fs)
    pools = [p for p in figures(inv.root, inv.db, fs, usage) if pool_name in (None, p.name)]
    events.pool_levels(inv, fs, pools)
    keep = (lambda d: d.row["data"]) if args.has("-d") else \
        (lambda d: d.row["metadata"]) if args.has("-m") else (lambda d: True)
    every = [d for p in pools for d in p.disks]
    inodes = inode_figures(inv.db, fs, usage)

    def scale(kb: int) -> int:
        return kb // unit if unit else kb

    if args.has("-Y"):
        _mmdf_y(inv, pools, every, keep, inodes, args, pool_name, scale)
        return
    if not args.has("-F"):
        _mmdf_human(inv, pools, every, keep, args, pool_name, unit, unit_name)
    if pool_name is None and not args.has("-d", "-m"):
        used, free, allocated, maximum = inodes
        if not args.has("-F"):
            inv.say("")
        inv.say("Inode Information\n-----------------")
        inv.say(f"Number of used inodes:      {used:>12}")
        inv.say(f"Number of free inodes:      {free:>12}")
        inv.say(f"Number of allocated inodes: {allocated:>12}")
        inv.say(f"Maximum number of inodes:   {maximum:>12}")


def _mmdf_y(inv, pools, every, keep, inodes, args, pool_name, scale) -> None:
    yes = {1: "Yes", 0: "No"}
    text = []
    if not args.has("-F"):
        rows = []
        pool_rows = []
        for pool in pools:
            disks = [d for d in pool.disks if keep(d)]
            if not disks:
                continue
            for d in disks:
                rows.append([d.row["name"], pool.name, scale(d.size_kb), d.row["failure_group"],
                             yes[bool(d.row["metadata"])], yes[bool(d.row["data"])],
                             scale(d.free_blocks_kb), _pct(d.free_blocks_kb, d.size_kb),
                             scale(d.free_fragments_kb), _pct(d.free_fragments_kb, d.size_kb),
                             ""])
            size, blocks, frags = _sum(disks)
            pool_rows.append([pool.name, scale(size), scale(blocks), _pct(blocks, size),
                              scale(frags), _pct(frags, size), scale(_max_disk_kb(pool))])
        text.append(ytable("mmdf", "nsd", _DF_NSD, rows))
        text.append(ytable("mmdf", "poolTotal", _DF_POOL, pool_rows))
        if pool_name is None:
            sections = []
            if not args.has("-m"):
                sections.append(("data", "totalData", [d for d in every if d.row["data"]]))
            if not args.has("-d"):
                sections.append(("metadata", "totalMetadata",
                                 [d for d in every if d.row["metadata"]]))
            sections.append(("fsTotal", "fsSize", [d for d in every if keep(d)]))
            for section, first, disks in sections:
                size, blocks, frags = _sum(disks)
                text.append(ytable("mmdf", section, [first, *_DF_TOTAL], [[
                    scale(size), scale(blocks), _pct(blocks, size), scale(frags),
                    _pct(frags, size)]]))
    if pool_name is None and not args.has("-d", "-m"):
        text.append(ytable("mmdf", "inode", ["usedInodes", "freeInodes", "allocatedInodes",
                                             "maxInodes"], [list(inodes)]))
    # All HEADER lines first, then the data lines, as the real command prints them.
    lines = [line for chunk in text for line in chunk.splitlines()]
    headers = [line for line in lines if ":HEADER:" in line]
    data = [line for line in lines if ":HEADER:" not in line]
    inv.out.write("".join(line + "\n" for line in headers + data))


def _amount(kb: int, unit: int) -> str:
    if unit:
        return str(kb // unit)
    return human_size(kb).replace(" ", "")


def _mmdf_human(inv, pools, every, keep, args, pool_name, unit, unit_name) -> None:
    shown = "KB" if unit_name == "auto" else unit_name
    inv.say(f"{'disk':<15} {'disk size':>13} {'failure':>8} {'holds':<8} {'holds':<5} "
            f"{'free ' + shown:>20} {'free ' + shown:>19}")
    inv.say(f"{'name':<15} {'in ' + shown:>13} {'group':>8} {'metadata':<8} {'data':<5} "
            f"{'in full blocks':>20} {'in fragments':>19}")
    inv.say(f"{'-' * 15} {'-' * 13} {'-' * 8} {'-' * 8} {'-' * 5} {'-' * 20} {'-' * 19}")

    def free(kb: int, size: int, width: int, pct_width: int) -> str:
        return f"{_amount(kb, unit)} ({_pct(kb, size):>{pct_width}}%)".rjust(width)

    for pool in pools:
        disks = [d for d in pool.disks if keep(d)]
        if not disks:
            continue
        inv.say(f"Disks in storage pool: {pool.name} (Maximum disk size allowed is "
                f"{human_size(_max_disk_kb(pool))})")
        for d in disks:
            inv.say(f"{d.row['name']:<15} {_amount(d.size_kb, unit):>13} "
                    f"{d.row['failure_group']:>8} {'Yes' if d.row['metadata'] else 'No':<8} "
                    f"{'Yes' if d.row['data'] else 'No':<5} "
                    f"{free(d.free_blocks_kb, d.size_kb, 20, 3)} "
                    f"{free(d.free_fragments_kb, d.size_kb, 19, 2)}")
        size, blocks, frags = _sum(disks)
        inv.say(f"{'':<15} {'-' * 13} {'':<8} {'':<8} {'':<5} {'-' * 20} {'-' * 19}")
        inv.say(f"{'(pool total)':<15} {_amount(size, unit):>13} {'':<8} {'':<8} {'':<5} "
                f"{free(blocks, size, 20, 3)} {free(frags, size, 19, 2)}")
        inv.say("")
    if pool_name is not None:
        return
    inv.say(f"{'':<15} {'=' * 13} {'':<8} {'':<8} {'':<5} {'=' * 20} {'=' * 19}")
    totals = []
    if not args.has("-m"):
        totals.append(("(data)", [d for d in every if d.row["data"]]))
    if not args.has("-d"):
        totals.append(("(metadata)", [d for d in every if d.row["metadata"]]))
    for label, disks in totals:
        size, blocks, frags = _sum(disks)
        inv.say(f"{label:<15} {_amount(size, unit):>13} {'':<8} {'':<8} {'':<5} "
                f"{free(blocks, size, 20, 3)} {free(frags, size, 19, 2)}")
    inv.say(f"{'':<15} {'=' * 13} {'':<8} {'':<8} {'':<5} {'=' * 20} {'=' * 19}")
    size, blocks, frags = _sum([d for d in every if keep(d)])
    inv.say(f"{'(total)':<15} {_amount(size, unit):>13} {'':<8} {'':<8} {'':<5} "
            f"{free(blocks, size, 20, 3)} {free(frags, size, 19, 2)}")


# mmlsdisk --------------------------------------------------------------------------------

_LSDISK_COLUMNS = ["nsdName", "driverType", "sectorSize", "failureGroup", "metadata", "data",
                   "status", "availability", "diskID", "storagePool", "remarks",
                   "numQuorumDisks", "readQuorumValue", "writeQuorumValue", "diskSizeKB",
                   "diskUID", "thinDiskType", "replicaType"]


def _split_disks(text: str) -> list[str]:
    return [d.strip() for d in text.split(";") if d.strip()]


def _fs_disks(inv: Invocation, fs: str, names: list[str] | None) -> list[sqlite3.Row]:
    disks = inv.db.execute("SELECT * FROM nsds WHERE fs = ? ORDER BY disk_id", (fs,)).fetchall()
    if names is None:
        return disks
    known = {d["name"]: d for d in disks}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise inv.fail(f"Disk {unknown[0]} does not belong to file system {fs}.", 2)
    return [known[n] for n in dict.fromkeys(names)]


def _descriptor_disks(disks: list[sqlite3.Row]) -> set[str]:
    """Disks holding a file system descriptor replica: the marked ones, else up to three."""
    marked = {d["name"] for d in disks if "desc" in d["remarks"].split()}
    if marked:
        return marked
    chosen: list[str] = []
    groups: set[int] = set()
    for d in disks:   # prefer distinct failure groups, as GPFS does
        if d["failure_group"] not in groups and len(chosen) < 3:
            chosen.append(d["name"])
            groups.add(d["failure_group"])
    for d in disks:
        if len(chosen) < 3 and d["name"] not in chosen:
            chosen.append(d["name"])
    return set(chosen)


@command("mmlsdisk", 'mmlsdisk Device [-d "DiskName[;DiskName...]"] [-e] [-L] [-Y]',
         flags=("-e", "-L", "-Y"), valued=("-d",), min_operands=1, max_operands=1)
def mmlsdisk(inv: Invocation, args: Parsed) -> None:
    fs = inv.filesystem(args.operands[0])
    spec = args.get("-d")
    every = _fs_disks(inv, fs["name"], None)
    disks = _fs_disks(inv, fs["name"], _split_disks(spec) if spec is not None else None)
    if args.has("-e"):
        disks = [d for d in disks if d["status"] != "ready" or d["availability"] != "up"]
    desc = _descriptor_disks(every)
    quorum = len(desc)
    read = write = quorum // 2 + 1 if quorum else 0
    yes = {1: "Yes", 0: "No"}
    if args.has("-Y"):
        inv.out.write(ytable("mmlsdisk", "", _LSDISK_COLUMNS, [[
            d["name"], "nsd", 512, d["failure_group"], yes[bool(d["metadata"])],
            yes[bool(d["data"])], d["status"], d["availability"], d["disk_id"], d["pool"],
            "desc" if d["name"] in desc else "", quorum, read, write, d["size_kb"],
            d["volume_id"], "", ""] for d in disks]))
        return
    if args.has("-e") and not disks:
        inv.say("All disks up and ready")
        return
    width = max([12, *(len(d["name"]) for d in disks)])
    long = args.has("-L")
    heads = [("disk", "name", "l", width), ("driver", "type", "l", 8),
             ("sector", "size", "r", 6), ("failure", "group", "r", 11),
             ("holds", "metadata", "l", 8), ("holds", "data", "l", 5),
             ("", "status", "l", 13), ("", "availability", "l", 12)]
    if long:
        heads.append(("", "disk id", "r", 7))
    heads.append(("storage", "pool", "l", 12))
    if long:
        heads.append(("", "remarks", "l", 9))
    for index in (0, 1):
        inv.say(" ".join(h[index].rjust(h[3]) if h[2] == "r" else h[index].ljust(h[3])
                         for h in heads).rstrip())
    inv.say(" ".join("-" * h[3] for h in heads))
    for d in disks:
        line = (f"{d['name']:<{width}} {'nsd':<8} {512:>6} {d['failure_group']:>11} "
                f"{yes[bool(d['metadata'])]:<8} {yes[bool(d['data'])]:<5} {d['status']:<13} "
                f"{d['availability']:<12} ")
        if long:
            line += f"{d['disk_id']:>7} {d['pool']:<12} {'desc' if d['name'] in desc else ''}"
        else:
            line += d["pool"]
        inv.say(line.rstrip())
    if long:
        inv.say(f"Number of quorum disks: {quorum}")
        inv.say(f"Read quorum value:      {read}")
        inv.say(f"Write quorum value:     {write}")


# mmchdisk --------------------------------------------------------------------------------

_CHDISK_ACTIONS = {"suspend": ("status", "suspended"), "resume": ("status", "ready"),
                   "stop": ("availability", "down"), "start": ("availability", "up")}


@command("mmchdisk", 'mmchdisk Device {suspend | resume | stop | start} '
         '-d "DiskName[;DiskName...]"\nmmchdisk Device start -a', flags=("-a",),
         valued=("-d", "-N", "--qos"), min_operands=2, max_operands=2, changing=True)
def mmchdisk(inv: Invocation, args: Parsed) -> None:
    fs = inv.filesystem(args.operands[0])
    action = args.operands[1]
    if action not in _CHDISK_ACTIONS:
        raise UsageError(f"Incorrect action {action}: expected suspend, resume, stop or start.")
    if args.has("-a"):
        if action != "start" or args.has("-d"):
            raise UsageError("-a is valid only with start and without -d.")
        disks = _fs_disks(inv, fs["name"], None)
    else:
        spec = args.get("-d")
        if spec is None or not _split_disks(spec):
            raise UsageError("Missing arguments.")
        disks = _fs_disks(inv, fs["name"], _split_disks(spec))
    column, value = _CHDISK_ACTIONS[action]
    names = {d["name"] for d in disks}
    if action == "stop":
        every = _fs_disks(inv, fs["name"], None)
        meta_up = [d for d in every if d["metadata"] and d["availability"] == "up"
                   and d["name"] not in names]
        if not meta_up:
            raise inv.fail("Stopping these disks would leave no metadata disk available in "
                           f"file system {fs['name']}.", 22)
    inv.db.executemany(f"UPDATE nsds SET {column} = ? WHERE name = ?",
                       [(value, n) for n in sorted(names)])
    if action == "stop":
        events.disks_stopped(inv, fs["name"], [d for d in disks if d["availability"] != "down"])


# mmlsnsd ---------------------------------------------------------------------------------

_NSD_COLUMNS = ["fileSystem", "diskName", "volumeId", "serverList", "thinDisk"]
_NSD_X_COLUMNS = ["fileSystem", "diskName", "volumeId", "serverList", "deviceType",
                  "localDiskName", "remarks"]
FREE_DISK = "(free disk)"


@command("mmlsnsd", 'mmlsnsd [-a | -F | -f Device | -d "DiskName[;DiskName...]"] '
         "[-L | -m | -M | -X] [-Y]", flags=("-a", "-F", "-L", "-m", "-M", "-X", "-Y", "-v"),
         valued=("-f", "-d"), max_operands=0)
def mmlsnsd(inv: Invocation, args: Parsed) -> None:
    if sum(1 for o in ("-a", "-F", "-f", "-d") if args.has(o)) > 1:
        raise UsageError("Options -a, -F, -f and -d cannot be used together.")
    nsds = inv.db.execute("SELECT * FROM nsds ORDER BY fs IS NULL, fs, disk_id").fetchall()
    if args.has("-f"):
        fs = inv.filesystem(args.get("-f") or "")
        nsds = [n for n in nsds if n["fs"] == fs["name"]]
    elif args.has("-F"):
        nsds = [n for n in nsds if not n["fs"]]
    elif args.has("-d"):
        names = _split_disks(args.get("-d") or "")
        known = {n["name"]: n for n in nsds}
        for name in names:
            if name not in known:
                raise inv.fail(f"Disk {name} is not a known NSD.", 2)
        nsds = [known[n] for n in dict.fromkeys(names)]
    detail = args.has("-X", "-m", "-M")
    if args.has("-Y"):
        if detail:
            rows = [[n["fs"] or FREE_DISK, n["name"], n["volume_id"], n["servers"], "generic",
                     "-", "server node" if server else "directly attached"]
                    for n in nsds for server in (n["servers"].split(",") or [""])]
            inv.out.write(ytable("mmlsnsd", "nsd", _NSD_X_COLUMNS, rows))
        else:
            inv.out.write(ytable("mmlsnsd", "nsd", _NSD_COLUMNS, [
                [n["fs"] or FREE_DISK, n["name"], n["volume_id"], n["servers"], "no"]
                for n in nsds]))
        return
    inv.say("")
    width = max([12, *(len(n["name"]) for n in nsds)])
    if detail:
        inv.say(f" {'Disk name':<{width}} {'NSD volume ID':<18} {'Device':<14} {'Devtype':<8} "
                f"{'Node name':<24} Remarks")
        inv.say("-" * (width + 87))
        for n in nsds:
            for server in [s for s in n["servers"].split(",") if s] or ["(directly attached)"]:
                remark = "" if server.startswith("(") else "server node"
                inv.say(f" {n['name']:<{width}} {n['volume_id']:<18} {'-':<14} {'generic':<8} "
                        f"{server:<24} {remark}".rstrip())
        return
    long = args.has("-L")
    head = f" {'File system':<13} {'Disk name':<{width}} "
    inv.say(head + (f"{'NSD volume ID':<18} " if long else "") + "NSD servers")
    inv.say("-" * (width + 63 + (19 if long else 0)))
    for n in nsds:
        line = f" {n['fs'] or FREE_DISK:<13} {n['name']:<{width}} "
        if long:
            line += f"{n['volume_id']:<18} "
        inv.say(line + (n["servers"] or "(directly attached)"))
