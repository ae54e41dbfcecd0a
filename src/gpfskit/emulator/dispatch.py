"""Running an emulated command: argv in, (stdout, stderr, exit code) out.

Each command is a function registered with ``@command``; it gets an ``Invocation`` (the
database in a transaction, the local node, output buffers) and the parsed arguments. It
reports refusals by raising ``CommandError``, after which nothing it did is kept: the
transaction rolls back, and commands do their disk changes last, after every check.

A changing handler has two phases: a plan (checks and reads only) and an apply phase that
hands its disk changes to ``inv.journal.act(...)`` (journal.py: the intent is recorded
first, the steps are undone if the command fails or is killed) and then writes the state.
"""

from __future__ import annotations

import importlib
import io
import os
import sqlite3
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from pathlib import Path

from gpfskit.emulator import args as mmargs
from gpfskit.emulator import lockfile, state
from gpfskit.emulator.nodesets import system_classes

TYPE_CHECKING = False   # True for mypy only: a command from a shell does not load typing
if TYPE_CHECKING:
    from typing import TextIO

    from gpfskit.emulator import journal

# The classes here are plain ones, not dataclasses, and the journal is imported by changing
# commands only: a reading command from a shell loads neither (nor ``dataclasses``,
# ``inspect``, ``logging``), which is most of what its start-up would cost.
Handler = Callable[["Invocation", mmargs.Parsed], None]
_FAILED = "{name}: Command failed. Examine previous error messages to determine cause.\n"


class Result:
    """What a command printed, and its exit code."""

    __slots__ = ("returncode", "stderr", "stdout")

    def __init__(self, stdout: str, stderr: str, returncode: int) -> None:
        self.stdout = stdout
        self.stderr = stderr
        self.returncode = returncode

    def __repr__(self) -> str:
        return (f"Result(stdout={self.stdout!r}, stderr={self.stderr!r}, "
                f"returncode={self.returncode!r})")


class CommandError(Exception):
    """A refusal: the message lines go to stderr, then the 'Command failed' trailer."""

    def __init__(self, message: str, returncode: int = 1, *, trailer: bool = True):
        super().__init__(message)
        self.message = message
        self.returncode = returncode
        self.trailer = trailer


class Spec:
    """A registered command: its handler, synopsis and what its arguments may be."""

    __slots__ = (
        "changing",
        "flags",
        "handler",
        "max_operands",
        "min_operands",
        "name",
        "parse_args",
        "usage",
        "valued",
    )

    def __init__(self, name: str, handler: Handler, usage: str, flags: tuple[str, ...] = (),
                 valued: tuple[str, ...] = (), min_operands: int = 0,
                 max_operands: int | None = None, changing: bool = False,
                 parse_args: bool = True) -> None:
        self.name = name
        self.handler = handler
        self.usage = usage
        self.flags = flags
        self.valued = valued
        self.min_operands = min_operands
        self.max_operands = max_operands
        self.changing = changing
        self.parse_args = parse_args   # False: the handler gets the raw words as operands


_REGISTRY: dict[str, Spec] = {}


def command(name: str, usage: str, *, flags: Sequence[str] = (), valued: Sequence[str] = (),
            min_operands: int = 0, max_operands: int | None = None, changing: bool = False,
            parse_args: bool = True, aliases: Sequence[str] = ()) -> Callable[[Handler], Handler]:
    """Register an emulated command; ``usage`` is its synopsis for ``Usage:`` messages."""

    def register(handler: Handler) -> Handler:
        spec = Spec(name, handler, usage, tuple(flags), tuple(valued), min_operands,
                    max_operands, changing, parse_args)
        for key in (name, *aliases):
            _REGISTRY[key] = spec
        return handler

    return register


def commands() -> dict[str, Spec]:
    _load_all()
    return dict(_REGISTRY)


_loaded = False


def _load_all() -> None:
    global _loaded
    if _loaded:
        return
    import pkgutil

    from gpfskit.emulator import commands as package

    for module in pkgutil.iter_modules(package.__path__):
        importlib.import_module(f"{package.__name__}.{module.name}")
    _loaded = True


def _load(name: str) -> None:
    """Register ``name``: import its family's module only (all of them for unknown names)."""
    if name in _REGISTRY:
        return
    from gpfskit.emulator.commands import FAMILIES

    family = next((module for module, names in FAMILIES.items() if name in names), None)
    if family is None:
        _load_all()
    else:
        importlib.import_module(f"gpfskit.emulator.commands.{family}")


class _Streamed(io.StringIO):
    """Output kept for the Result and, as it is written, passed on to a stream (a shell user
    sees each line of a long command when it happens)."""

    def __init__(self, stream: TextIO) -> None:
        super().__init__()
        self.stream = stream

    def write(self, text: str) -> int:
        self.stream.write(text)
        self.stream.flush()
        return super().write(text)


class Invocation:
    """What a command handler works with."""

    __slots__ = (
        "after_commit",
        "argv",
        "db",
        "err",
        "journal",
        "name",
        "node",
        "out",
        "root",
    )

    def __init__(self, name: str, argv: list[str], root: Path, db: sqlite3.Connection,
                 node: str, out: io.StringIO | None = None,
                 err: io.StringIO | None = None) -> None:
        self.name = name
        self.argv = argv
        self.root = root
        self.db = db
        self.node = node
        self.out = io.StringIO() if out is None else out
        self.err = io.StringIO() if err is None else err
        self.after_commit: list[Callable[[], None]] = []
        self.journal: journal.Journal | None = None   # set for changing commands

    def say(self, text: str = "") -> None:
        self.out.write(text if text.endswith("\n") else text + "\n")

    def warn(self, text: str) -> None:
        self.err.write(text if text.endswith("\n") else text + "\n")

    def fail(self, message: str, returncode: int = 1) -> CommandError:
        """``raise inv.fail("...")``: a refusal prefixed with the command name."""
        return CommandError(f"{self.name}: {message}", returncode)

    # Lookups shared by many commands -----------------------------------------------------
    def filesystem(self, device: str) -> sqlite3.Row:
        name = device.removeprefix("/dev/")
        row = self.db.execute("SELECT * FROM filesystems WHERE name = ?", (name,)).fetchone()
        if row is None:
            raise CommandError(f"{self.name}: File system {name} is not known to the GPFS "
                               "cluster.", 2)
        return row

    def filesystems(self, device: str) -> list[sqlite3.Row]:
        """``all`` (and ``all_local``) expand to every file system; else just the one named."""
        if device in ("all", "all_local"):
            return self.db.execute("SELECT * FROM filesystems ORDER BY name").fetchall()
        if device == "all_remote":
            return []
        return [self.filesystem(device)]

    def node_names(self, spec: str | None) -> list[str]:
        """Expand a ``-N`` specification: node names, node classes, ``all``, ``mount``..."""
        if spec is None:
            return [self.node]
        known = [r["name"] for r in self.db.execute("SELECT name FROM nodes ORDER BY number")]
        chosen: list[str] = []
        systems = {name.lower(): members for name, members in system_classes(self.db).items()}
        for item in mmargs.node_list(spec):
            if item in ("all", "all_local"):
                names = known
            elif item == "mount":
                names = sorted({r["node"] for r in self.db.execute("SELECT node FROM mounts")})
            elif item in known:
                names = [item]
            elif item.lower() in systems:
                names = systems[item.lower()]
            else:
                members = [r["node"] for r in self.db.execute(
                    "SELECT node FROM nodeclass_members WHERE class = ?", (item,))]
                if not members and not self.db.execute(
                        "SELECT 1 FROM nodeclasses WHERE name = ?", (item,)).fetchone():
                    raise CommandError(f"{self.name}: Incorrect node {item} specified for "
                                       "command.", 22)
                names = members
            chosen.extend(n for n in names if n not in chosen)
        return chosen


def local_node(db: sqlite3.Connection, configured: str | None) -> str:
    if configured:
        return configured
    row = db.execute("SELECT name FROM nodes ORDER BY number LIMIT 1").fetchone()
    return row["name"] if row else "localhost"


def _usage(spec: Spec, problem: str) -> str:
    synopsis = "\n".join("  " + line for line in spec.usage.strip().splitlines())
    return f"{spec.name}: {problem}\nUsage:\n{synopsis}\n"


def _not_utf8(argv: Sequence[str]) -> str | None:
    """The first word that is not UTF-8 text, as its bytes (a shell can pass any bytes; the
    cluster's names, paths and records are UTF-8), or None."""
    for word in argv:
        try:
            word.encode("utf-8")
        except UnicodeEncodeError:
            try:
                return repr(os.fsencode(word))[2:-1]
            except UnicodeError:
                return word.encode("utf-8", "backslashreplace").decode("ascii")
    return None


def run_command(argv: Sequence[str], *, root: str | os.PathLike[str],
                node: str | None = None, lock_wait: float | None = None,
                stdout: TextIO | None = None, stderr: TextIO | None = None) -> Result:
    """Run one emulated command against the cluster under ``root``.

    A changing command waits up to ``lock_wait`` seconds (default: the connection's 120)
    for another one to finish, then gives up with exit code 16 (EBUSY). With ``stdout`` /
    ``stderr`` the output is also written there as the command goes, as a real command's
    output reaches a terminal; the Result holds all of it either way.
    """
    out = _Streamed(stdout) if stdout is not None else io.StringIO()
    err = _Streamed(stderr) if stderr is not None else io.StringIO()
    returncode = _run(argv, root, node, lock_wait, out, err)
    return Result(out.getvalue(), err.getvalue(), returncode)


def _run(argv: Sequence[str], root: str | os.PathLike[str], node: str | None,
         lock_wait: float | None, out: io.StringIO, err: io.StringIO) -> int:
    name = os.path.basename(argv[0]) if argv else ""
    _load(name)
    spec = _REGISTRY.get(name)
    if spec is None:
        err.write(f"{name}: command not found\n")
        return 127
    if list(argv[1:]) == ["--help"] or (list(argv[1:]) == ["-h"] and spec.parse_args
                                        and "-h" not in spec.flags + spec.valued):
        from gpfskit.emulator.manual import help_text

        out.write(help_text(spec))
        return 0
    bad = _not_utf8(argv)
    if bad is not None:
        err.write(f"{name}: Incorrect argument {bad}: it is not UTF-8 text.\n")
        return 22
    try:
        parsed = (mmargs.parse(argv[1:], flags=spec.flags, valued=spec.valued,
                               min_operands=spec.min_operands, max_operands=spec.max_operands)
                  if spec.parse_args else mmargs.Parsed(list(argv[1:]), set()))
    except mmargs.UsageError as exc:
        err.write(_usage(spec, str(exc)))
        return 1
    try:
        db = state.connection(root)
    except state.NoCluster as exc:
        err.write(f"{name}: {exc}\n")
        return 1
    inv = Invocation(name, list(argv), Path(root), db, local_node(db, node), out, err)
    if lock_wait is not None:
        state.set_lock_wait(db, lock_wait)
    try:
        if spec.changing:
            _run_changing(inv, spec, parsed, lock_wait)
        else:
            _settle_quietly(inv)
            with state.transaction(db, write=False):
                spec.handler(inv, parsed)
    except sqlite3.OperationalError as exc:
        if "locked" not in str(exc):
            raise
        return _busy(err, name, root, lock_wait, "its state database is locked")
    except lockfile.Busy:
        return _busy(err, name, root, lock_wait, "it holds the cluster's command lock")
    except OverflowError:
        err.write(f"{name}: A number in the arguments is too large (the limit is "
                  f"{mmargs.MAX_NUMBER}).\n{_FAILED.format(name=name)}")
        return 22
    except OSError as exc:
        # The host refused a file operation (no space, permissions, a path too long...):
        # the transaction is rolled back; say which file and why, with its errno as the code.
        import logging  # loaded when there is something to log

        logging.getLogger(__name__).debug("%s failed on the host", name, exc_info=True)
        where = f": {exc.filename}" if exc.filename else ""
        err.write(f"{name}: {exc.strerror or exc}{where}\n{_FAILED.format(name=name)}")
        return exc.errno if exc.errno and 0 < exc.errno < 256 else 1
    except CommandError as exc:
        trailer = _FAILED.format(name=name) if exc.trailer else ""
        message = exc.message if exc.message.endswith("\n") else exc.message + "\n"
        err.write(message + trailer)
        return exc.returncode
    except mmargs.UsageError as exc:
        err.write(_usage(spec, str(exc)))
        return 1
    for action in inv.after_commit:
        action()
    return 0


def _busy(err: io.StringIO, name: str, root: str | os.PathLike[str], lock_wait: float | None,
          why: str) -> int:
    waited = f" {lock_wait:g} s" if lock_wait is not None else ""
    err.write(f"{name}: Waited{waited} for another command changing the cluster at {root} to "
              f"finish ({why}); nothing was changed. Try again later.\n")
    return 16


def _run_changing(inv: Invocation, spec: Spec, parsed: mmargs.Parsed,
                  lock_wait: float | None) -> None:
    """Under the command lock: settle what interrupted commands left, then run the handler
    with a journal (its intent undone on failure, finished after the commit)."""
    from gpfskit.emulator import journal

    with (lockfile.CommandLock(inv.root, wait=lock_wait) if journal.enabled
          else nullcontext(-1)) as lock:
        inv.journal = journal.Journal(inv.db, inv.root, lock, inv.argv)
        try:
            with state.transaction(inv.db, write=True):
                inv.journal.begin()
                spec.handler(inv, parsed)
                inv.journal.seal()
        except journal.Unsettled as exc:
            raise inv.fail(f"{exc}; see gpfskit emulator fsck --repair", 1) from exc
        except BaseException:
            inv.journal.abandon()
            raise
        try:
            inv.journal.finish()
        except OSError as exc:
            raise inv.fail(f"The change is recorded, but completing it on disk failed: "
                           f"{exc}. The next command completes it.", 1) from exc


def _settle_quietly(inv: Invocation) -> None:
    """A reading command settles leftovers when it can, and reads on when it cannot."""
    if not state.left_to_settle(inv.db, lockfile.lock_file(inv.root)):
        return                              # the common case, without loading the journal
    from gpfskit.emulator import journal

    try:
        journal.settle_if_free(inv.root, inv.db)
    except journal.Unsettled as exc:
        journal.log.error("%s; see gpfskit emulator fsck --repair", exc)
