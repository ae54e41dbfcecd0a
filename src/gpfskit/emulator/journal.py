"""The intent journal: every changing command survives a kill at any point.

A changing command runs under the cluster's command lock (``lockfile.CommandLock``: an
``flock`` on ``<root>/state.lock``, which the kernel releases when the process dies, however
it dies). It changes the cluster in three moves:

1. **Intent.** Before its first change on disk it records what it is about to do: one line
   listing its steps, with a fresh token (a Python literal, which ``repr`` makes in a few µs
   where a JSON encoder takes twice that), written at the start of the lock file
   (``lockfile.write_intent``: into its mapped first page, without a system call). The
   write lands in the page cache, which outlives the process as a WAL commit with
   ``synchronous=NORMAL`` does, for a few µs where a commit of its own cost tens.
2. **Act.** It changes the disk in steps that can each be undone from what is on disk
   (steps.py): renames into place, new directories, copies under a temporary name,
   attribute changes with the attributes saved first.
3. **Commit.** It writes the cluster state and the intent's token (``meta.intent_token``) in
   one transaction, does the work left for after the commit (deleting what a delete moved
   aside), then clears the intent.

A command that fails undoes its own steps before it returns. A command that is killed leaves
its intent behind; the next command, whichever it is, finds it (a changing command under the
lock; a reading one takes the lock for the moment when it is free) and settles it first: an
intent whose token is not the committed one is **rolled back** (its steps undone in reverse
order, so the cluster is as if the command never ran), a committed one is **rolled forward**
(its after-commit work finished). One log line says which.

Two variants: the moves of a file system's tree (mount, unmount, startup, shutdown) follow
a mount state that those commands write as they go, so they are recorded with the commit
(``Journal.then``: beside the token), done after it and redone after a kill; and
``mmapplypolicy``, which runs for long without the lock, records an intent for its run (a
row in ``intents``, in the state database, announced by the lock file's jobs mark) and holds
a lock of its own so that the next command can tell a running job from a killed one
(``running_job``). Commands that change only the database need no intent: their
transaction is all or nothing.

For tests, ``GPFSKIT_EMULATOR_CRASH_AT=N`` kills the command (SIGKILL) at its N-th journal
point: just after the intent is recorded, just after each step, just before the state
commit, just after it, and after each piece of after-commit work. Every changing command has
the two points around its commit, those that change only the database too.
"""

from __future__ import annotations

import ast
import contextlib
import fcntl
import itertools
import json
import logging
import os
import signal
import sqlite3
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from gpfskit.emulator import lockfile, state
from gpfskit.emulator.steps import Step

log = logging.getLogger(__name__)

CRASH_AT = "GPFSKIT_EMULATOR_CRASH_AT"
TOKEN_KEY = "intent_token"   # in meta: the last committed token (then a newline, its later steps)

# The internal switch the speed benchmark flips to measure the journal's cost (off: steps are
# done without an intent and without the command lock, as before the journal existed).
enabled = True

_local = threading.local()


class Unsettled(Exception):
    """An interrupted command's intent could not be settled (its steps failed to undo)."""


# Crash points (tests) ---------------------------------------------------------------------

# Read once a process, and again in a forked child: GPFSKIT_EMULATOR_CRASH_AT, the process's
# id, and the random prefix of its intents' tokens (each token is that prefix and a count, so
# that a command makes no system call for them).
_crash_at: int | None = None
_pid = os.getpid()
_tokens = itertools.count()
_token_prefix = os.urandom(6).hex()


def _new_process() -> None:
    global _crash_at, _pid, _token_prefix
    _crash_at, _pid, _token_prefix = None, os.getpid(), os.urandom(6).hex()


os.register_at_fork(after_in_child=_new_process)


def _arm() -> None:
    """At the start of a command: count the journal points from zero."""
    global _crash_at
    if _crash_at is None:
        wanted = os.environ.get(CRASH_AT)
        _crash_at = int(wanted) if wanted else 0
    _local.crash_at = _crash_at
    _local.points = 0


def _point() -> None:
    """One journal point passed; SIGKILL here when ``GPFSKIT_EMULATOR_CRASH_AT`` says so."""
    crash_at = getattr(_local, "crash_at", 0)
    if not crash_at:
        return
    _local.points += 1
    if _local.points == crash_at:
        os.kill(os.getpid(), signal.SIGKILL)


# One command's journal ----------------------------------------------------------------------

class Journal:
    """The intent and steps of one changing command (``Invocation.journal``).

    ``act`` takes the steps done before the commit (rolled back if the command dies before
    its commit); ``then`` takes steps done after it (rolled forward if it dies after: moves of
    a file system's tree, which follow a mount state that is already committed). The intent
    is written to the lock file (``lock``, the descriptor ``lockfile.CommandLock`` gives)
    before the first change on disk; the state commit carries its token
    (``meta.intent_token``), which tells the next command whether the commit happened.
    """

    def __init__(self, db: sqlite3.Connection, root: Path, lock: int, argv: list[str]
                 ) -> None:
        self.db = db
        self.root = root
        self.lock = lock
        self.argv = argv
        self.token: str | None = None      # set once the intent is recorded
        self.steps: list[Step] = []
        self.later: list[Step] = []
        self.done = 0
        _arm()

    def begin(self) -> None:
        """First thing in the command's transaction, under the lock: settle what interrupted
        commands left (committed on its own, so that it stays settled whatever this command
        does). The common case reads two bytes of the lock file's mapped page."""
        if not enabled:
            return
        intent, jobs = lockfile.peek(self.lock)
        if jobs and not state.has_intents(self.db):
            lockfile.mark_jobs(self.lock, False)     # the jobs that ran are done
            jobs = False
        if intent or jobs:
            settle(self.db, self.root)
            self.db.execute("COMMIT")
            self.db.execute("BEGIN IMMEDIATE")

    def act(self, *steps: Step) -> None:
        """Record ``steps`` as this command's intent, then do them.

        Call it once, from the handler's apply phase. A step that fails raises; the steps
        done so far are undone when the command ends.
        """
        if self.token is not None or self.steps:
            raise RuntimeError("a command records one intent")
        if not steps:
            return
        self.steps = list(steps)
        if enabled:
            self._record()
            _point()
        for step in self.steps:
            step.do()
            self.done += 1
            _point()

    def then(self, *steps: Step) -> None:
        """Steps to do once the state is committed (each redone from what is on disk)."""
        self.later.extend(steps)

    def _record(self) -> None:
        """Write the intent (its steps, and its token) at the start of the lock file, once: a
        write into the page cache, which outlives the process as a WAL commit does, at a
        fraction of a commit's cost."""
        self.token = f"{_token_prefix}{next(_tokens):x}"
        record = {"token": self.token, "argv": self.argv, "pid": _pid,
                  "steps": [s.record() for s in self.steps]}
        lockfile.write_intent(self.lock, repr(record).encode())

    def seal(self) -> None:
        """In the command's transaction, just before its commit: the commit carries the
        intent's token and the steps for after the commit, which only a committed command
        needs (so the intent, recorded first if only those steps came, is never rewritten)."""
        _point()
        if not enabled:
            return
        if self.later and self.token is None:
            self._record()
        if self.token is not None:
            committed = self.token
            if self.later:
                committed += "\n" + repr([s.record() for s in self.later])
            self.db.execute("UPDATE meta SET value = ? WHERE key = ?", (committed, TOKEN_KEY))

    def finish(self) -> None:
        """After the commit: the after-commit work, then the intent goes. An OSError leaves
        the intent for the next command to roll forward."""
        _point()
        for step in self.steps:
            if step.has_finish:
                step.finish()
                _point()
        for step in self.later:
            step.do()
            _point()
        if self.token is not None:
            lockfile.write_intent(self.lock, b"")

    def abandon(self) -> None:
        """After a rollback: undo the steps done, newest first, and clear the intent. If an
        undo fails the intent stays for the next command (or fsck) to settle."""
        for step in reversed(self.steps[:self.done + 1]):
            try:
                step.undo()
            except OSError as exc:
                log.error("%s: cannot undo its change on disk (%s); the next command will "
                          "try again", self.argv[0], exc)
                return
        if self.token is not None:
            lockfile.write_intent(self.lock, b"")


# Jobs that run without the lock ----------------------------------------------------------

def _job_lock(root: Path, intent: int) -> Path:
    return Path(root) / "locks" / f"intent-{intent}.lock"


@contextlib.contextmanager
def running_job(root: Path, argv: list[str], *steps: Step) -> Iterator[None]:
    """An intent for a long command that holds no command lock (``mmapplypolicy``): its
    ``steps`` have only after-commit work (``finish``), done when the job ends and, should it
    be killed, by the next command. The job holds a lock of its own, which tells the next
    command whether it is still running. The row is written through a connection of its own,
    so the job's read transaction stays a read, under the command lock for the moment it
    takes to set the lock file's jobs mark first (which tells other commands to look for
    such rows)."""
    if not enabled:
        try:
            yield
        finally:
            _clean_up(steps)
        return
    db = state.open_private(root)
    _arm()
    try:
        try:
            with lockfile.CommandLock(root) as command_lock:
                lockfile.mark_jobs(command_lock, True)
                intent = db.execute(
                    "INSERT INTO intents (command, argv, pid, started, phase, steps) "
                    "VALUES (?, ?, ?, ?, 'running', ?)",
                    (argv[0], json.dumps(argv), os.getpid(), time.time(),
                     json.dumps({"steps": [s.record() for s in steps], "later": []}))
                ).lastrowid
        except BaseException:     # nothing recorded, nothing run: what the caller prepared
            _clean_up(steps)      # (its work directory) goes now
            raise
        lock = _job_lock(root, intent)
        lock.parent.mkdir(exist_ok=True)
        fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            _point()
            try:
                yield
                _point()
            finally:
                _clean_up(steps)
                db.execute("DELETE FROM intents WHERE id = ?", (intent,))
                with contextlib.suppress(OSError):
                    os.unlink(lock)
        finally:
            os.close(fd)
    finally:
        db.close()


def _clean_up(steps: tuple[Step, ...]) -> None:
    """A job's after-commit work once it ends (what is only for a killed job left out)."""
    for step in steps:
        if not step.after_kill_only:
            step.finish()


def _job_alive(root: Path, intent: int) -> bool:
    try:
        fd = os.open(_job_lock(root, intent), os.O_RDWR | os.O_CLOEXEC)
    except FileNotFoundError:
        return False
    try:
        return not lockfile.try_lock(fd)
    finally:
        os.close(fd)


# Settling what interrupted commands left -----------------------------------------------------

@dataclass(frozen=True)
class Leftover:
    id: int | None           # the row in ``intents``; None for the lock file's intent
    argv: list[str]
    pid: int
    phase: str
    steps: list[Step]
    later: list[Step]

    @property
    def label(self) -> str:
        return " ".join(self.argv)


def leftovers(db: sqlite3.Connection, root: Path) -> list[Leftover]:
    """The intents left by dead commands (under the lock, every intent but those of jobs
    still running, and the lock file's unless its command completed)."""
    found = []
    for r in db.execute("SELECT * FROM intents ORDER BY id"):
        if r["phase"] == "running" and _job_alive(root, r["id"]):
            continue
        steps = json.loads(r["steps"])
        found.append(Leftover(r["id"], json.loads(r["argv"]), r["pid"], r["phase"],
                              [Step.from_record(s) for s in steps["steps"]],
                              [Step.from_record(s) for s in steps["later"]]))
    recorded = _lock_file_intent(db, root)
    return found if recorded is None else [*found, recorded]


def _lock_file_intent(db: sqlite3.Connection, root: Path) -> Leftover | None:
    """The intent in the lock file, when it is left to settle: its state not committed (to
    roll back), or committed with work left for after the commit (to roll forward)."""
    line = lockfile.read_intent(lockfile.lock_file(root))
    if not line:
        return None
    try:
        record = _parse_record(line)
    except (ValueError, SyntaxError):
        # An earlier build's JSON, torn by a kill while written (before any change); this
        # build publishes whole intents only, so anything else was damaged by hand.
        what = ("a command killed while recording its intent" if line.startswith(b'{"') else
                "an intent that does not parse, so nothing of it could be undone: check the "
                "cluster with gpfskit emulator fsck")
        record = {"token": None, "argv": [f"({what})"], "pid": 0, "steps": []}
    row = db.execute("SELECT value FROM meta WHERE key = ?", (TOKEN_KEY,)).fetchone()
    token, _, later_text = (row[0] if row is not None else "").partition("\n")
    committed = record["token"] is not None and token == record["token"]
    steps = [Step.from_record(s) for s in record["steps"]]
    later: list[Step] = []
    if committed:   # its after-commit steps are in the commit (an earlier build's: the intent)
        records = ast.literal_eval(later_text) if later_text else record.get("later", [])
        later = [Step.from_record(s) for s in records]
    if committed and not later and not any(s.has_finish for s in steps):
        return None          # its command completed; only the clearing of its intent was left
    return Leftover(None, record["argv"], record["pid"], "committed" if committed else "acting",
                    steps, later)


def _parse_record(line: bytes) -> dict:
    """An intent line: a Python literal (``repr``), or JSON as earlier builds wrote it."""
    text = line.decode("utf-8")
    if text.startswith('{"'):
        return json.loads(text)
    record = ast.literal_eval(text)
    if not isinstance(record, dict):
        raise ValueError(f"not an intent: {text[:80]}")
    return record


def settle_one(db: sqlite3.Connection, root: Path, leftover: Leftover) -> str:
    """Roll one leftover intent forward or back; returns the line logged."""
    try:
        if leftover.phase == "running":
            for step in leftover.steps:
                step.finish()
            outcome = ("cleaned up after (each of its file changes is whole; a rerun does the "
                       "rest)")
        elif leftover.phase == "committed":
            for step in leftover.steps:
                step.finish()
            for step in leftover.later:
                step.redo()
            outcome = "rolled forward (its committed change completed on disk)"
        else:
            for step in reversed(leftover.steps):
                step.undo()
            outcome = "rolled back (its changes on disk undone)"
    except OSError as exc:
        raise Unsettled(f"cannot settle the interrupted command '{leftover.label}' "
                        f"(pid {leftover.pid}): {exc}") from exc
    if leftover.id is None:
        lockfile.write_intent(lockfile.lock_file(root), b"")
    else:
        db.execute("DELETE FROM intents WHERE id = ?", (leftover.id,))
        with contextlib.suppress(OSError):
            os.unlink(_job_lock(root, leftover.id))
    line = f"interrupted command '{leftover.label}' (pid {leftover.pid}) {outcome}"
    log.warning("%s", line)
    return line


def settle(db: sqlite3.Connection, root: Path) -> list[str]:
    """Under the lock, in a write transaction: settle every leftover intent (and clear the
    lock file's, whose command may have completed but for that). The jobs mark is cleared by
    a later command, once the rows deleted here are committed."""
    lines = [settle_one(db, root, leftover) for leftover in leftovers(db, root)]
    lockfile.write_intent(lockfile.lock_file(root), b"")
    return lines


def settle_if_free(root: Path, db: sqlite3.Connection) -> None:
    """For a reading command that found something left to settle: settle it when the lock
    is free (a changing command that holds it is alive and will finish its own intent)."""
    if not enabled:
        return
    try:
        with lockfile.CommandLock(root, wait=0), state.transaction(db, write=True):
            settle(db, root)
    except lockfile.Busy:
        return
