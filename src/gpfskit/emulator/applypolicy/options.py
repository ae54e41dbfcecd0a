"""mmapplypolicy's options: the synopsis, parsing and validation.

Every option of the 6.0.1 synopsis (reference §5.1) is accepted. What the emulator does with
each one is listed in ``USAGE``'s companion table in the package docstring; options that only
tune the real product's distributed sort or node fan-out are validated and then have no
effect (the emulator runs on one node, in one process).
"""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass, field

from gpfskit.emulator.args import Parsed
from gpfskit.emulator.dispatch import Invocation
from gpfskit.language.timeutil import parse_timestamp

USAGE = """mmapplypolicy {Device|Directory}
   [-A IscanBuckets] [-a IscanThreads] [-B MaxFiles]
   [-D yyyy-mm-dd[@hh:mm[:ss]]] [-e] [-f FileListPrefix]
   [-g GlobalWorkDirectory] [-I {yes|defer|test|prepare}]
   [-i InputFileList] [-L n] [-M name=value...] [-m ThreadLevel]
   [-N {all | mount | Node[,Node...] | NodeFile | NodeClass}]
   [-n DirThreadLevel] [-P PolicyFile] [-q] [-r FileListPathname...]
   [-S SnapshotName] [-s LocalWorkDirectory]
   [--choice-algorithm {best | exact | fast}]
   [--maxdepth MaxDirectoryDepth] [--allow-scan-on-remote]
   [--max-merge-files MaxFiles] [--max-sort-bytes MaxBytes]
   [--qos QosClass] [--single-instance]
   [--scope {filesystem | fileset | inodespace}]
   [--sort-buffer-size Size | --other-sort-options SortOptions]
   [--sort-command SortCommand] [--split-filelists-by-weight]
   [--split-margin n.n] [--silent-on-delete]"""

FLAGS = ("-e", "-q", "--single-instance", "--allow-scan-on-remote",
         "--split-filelists-by-weight", "--silent-on-delete")
VALUED = ("-A", "-a", "-B", "-D", "-f", "-g", "-I", "-i", "-L", "-M", "-m", "-N", "-n", "-P",
          "-r", "-S", "-s", "--choice-algorithm", "--maxdepth", "--max-merge-files",
          "--max-sort-bytes", "--qos", "--scope", "--sort-buffer-size",
          "--other-sort-options", "--sort-command", "--split-margin")

ACTIONS = ("yes", "defer", "test", "prepare")
CHOICES = ("best", "exact", "fast")
SCOPES = ("filesystem", "fileset", "inodespace")
QOS_CLASSES = ("maintenance", "other")

DEFAULT_BUCKET = 100       # -B: files per script call
DEFAULT_THREADS = 24       # -m: concurrent script calls / action workers
DEFAULT_DIR_THREADS = 24   # -n: directory scan threads (capped by the CPUs)

_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?:@(\d{2}):(\d{2})(?::(\d{2}))?)?")
_MACRO = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)=(.*)", re.DOTALL)


@dataclass
class Options:
    target: str
    policy_file: str | None = None
    action: str = "yes"
    level: int = 1
    defines: dict[str, str] = field(default_factory=dict)
    now: float = 0.0
    date_given: bool = False
    bucket: int = DEFAULT_BUCKET
    threads: int = DEFAULT_THREADS
    dir_threads: int = DEFAULT_DIR_THREADS
    nodes: list[str] = field(default_factory=list)
    global_dir: str | None = None
    local_dir: str = "/tmp"
    prefix: str | None = None
    snapshot: str | None = None
    scope: str = "filesystem"
    choice: str = "exact"
    single_instance: bool = False
    reevaluate: bool = False
    qos: str | None = None
    maxdepth: int | None = None

    @property
    def scan_workers(self) -> int:
        return max(1, min(self.dir_threads, os.cpu_count() or 2))


def _positive(inv: Invocation, option: str, text: str | None, default: int,
              minimum: int = 1) -> int:
    if text is None:
        return default
    if not re.fullmatch(r"\d+", text) or int(text) < minimum:
        raise inv.fail(f"Incorrect value for the {option} option: {text}. It must be an "
                       f"integer of at least {minimum}.", 22)
    return int(text)


def _choice(inv: Invocation, option: str, text: str | None, allowed: tuple[str, ...],
            default: str) -> str:
    if text is None:
        return default
    if text not in allowed:
        raise inv.fail(f"Incorrect value for the {option} option: {text}. Valid values are: "
                       f"{', '.join(allowed)}.", 22)
    return text


def parse_date(text: str) -> float | None:
    """``-D yyyy-mm-dd[@hh:mm[:ss]]`` as epoch seconds (local time), None if malformed."""
    if not _DATE.fullmatch(text):
        return None
    return parse_timestamp(text)


def _directory(inv: Invocation, option: str, text: str | None) -> str | None:
    if text is None:
        return None
    if not os.path.isdir(text):
        raise inv.fail(f"The {option} work directory {text} does not exist or is not a "
                       "directory.", 2)
    if not os.access(text, os.W_OK | os.X_OK):
        raise inv.fail(f"The {option} work directory {text} is not writable.", 13)
    return os.path.abspath(text)


def parse(inv: Invocation, args: Parsed) -> Options:
    """Validate everything before any work starts (a refusal changes nothing)."""
    opts = Options(target=args.operands[0])
    for unsupported in ("-i", "-r"):
        if args.has(unsupported):
            raise inv.fail(f"The {unsupported} option (processing file lists of an earlier "
                           "run) is not supported by the emulated cluster.", 22)
    opts.policy_file = args.get("-P")
    opts.action = _choice(inv, "-I", args.get("-I"), ACTIONS, "yes")
    level = args.get("-L")
    if level is not None and not re.fullmatch(r"[0-6]", level):
        raise inv.fail(f"Incorrect value for the -L option: {level}. Valid values are 0 "
                       "through 6.", 22)
    opts.level = int(level) if level is not None else 1
    for item in args.all("-M"):
        match = _MACRO.fullmatch(item)
        if not match:
            raise inv.fail(f"Incorrect value for the -M option: {item}. The form is "
                           "name=value.", 22)
        opts.defines[match.group(1)] = match.group(2)
    date = args.get("-D")
    if date is not None:
        parsed = parse_date(date)
        if parsed is None:
            raise inv.fail(f"Incorrect value for the -D option: {date}. The form is "
                           "yyyy-mm-dd[@hh:mm[:ss]].", 22)
        opts.now, opts.date_given = parsed, True
    else:
        opts.now = time.time()
    opts.bucket = _positive(inv, "-B", args.get("-B"), DEFAULT_BUCKET)
    opts.threads = _positive(inv, "-m", args.get("-m"), DEFAULT_THREADS)
    opts.dir_threads = _positive(inv, "-n", args.get("-n"), DEFAULT_DIR_THREADS)
    _positive(inv, "-a", args.get("-a"), 2)
    _positive(inv, "-A", args.get("-A"), 1)
    for option in ("--max-merge-files", "--max-sort-bytes"):
        _positive(inv, option, args.get(option), 1)
    margin = args.get("--split-margin")
    if margin is not None and not re.fullmatch(r"\d+(\.\d*)?|\.\d+", margin):
        raise inv.fail(f"Incorrect value for the --split-margin option: {margin}.", 22)
    if args.has("-N"):
        opts.nodes = inv.node_names(args.get("-N"))
    opts.global_dir = _directory(inv, "-g", args.get("-g"))
    opts.local_dir = _directory(inv, "-s", args.get("-s")) or "/tmp"
    opts.prefix = args.get("-f")
    if opts.prefix is not None:
        parent = os.path.dirname(os.path.abspath(opts.prefix)) if not os.path.isdir(
            opts.prefix) else opts.prefix
        if not os.path.isdir(parent):
            raise inv.fail(f"Incorrect value for the -f option: the directory {parent} does "
                           "not exist.", 2)
    opts.snapshot = args.get("-S")
    opts.scope = _choice(inv, "--scope", args.get("--scope"), SCOPES, "filesystem")
    opts.choice = _choice(inv, "--choice-algorithm", args.get("--choice-algorithm"), CHOICES,
                          "exact")
    opts.qos = args.get("--qos")
    if opts.qos is not None:
        _choice(inv, "--qos", opts.qos, QOS_CLASSES, "maintenance")
    depth = args.get("--maxdepth")
    if depth is not None:
        opts.maxdepth = _positive(inv, "--maxdepth", depth, 0, minimum=0)
    opts.single_instance = args.has("--single-instance")
    opts.reevaluate = args.has("-e")
    return opts
