"""The work directory a policy run shares with its list drivers, and what drivers do in it.

``mmapplypolicy -g <work dir>`` runs each processing rule's EXTERNAL LIST script once per
bucket of files, possibly on several nodes at once; they all meet in this directory::

    <work dir>/
        driver                 executable wrapper: exec <python> -m gpfskit.policy.driver "$@"
        policy.pol             the policy text handed to mmapplypolicy (-P)
        tmp/                   mmapplypolicy's local work directory (-s)
        rule-<id>/spec.json    what the driver does for the rule (mode, SHOW layout, timeout)
        rule-<id>/functions.pkl   the map-reduce functions (gpfskit.shipping)
        rule-<id>/list-*.txt   gathered file lists (list processing)
        rule-<id>/part-*.pkl   partial results (map-reduce)
        rule-<id>/error-*.txt  tracebacks of failed buckets
        rule-<id>/running-*.txt   one per bucket being processed; left behind by a driver
                               that was stopped (a timed-out driver appends its stack dump)

The EXTERNAL LIST rule of a processing rule is
``EXTERNAL LIST '<id>' EXEC '<work dir>/driver' OPTS '<work dir> <id>'`` (both OPTS words
percent-encoded so that neither holds a space). Every file the drivers write appears under
its final name by an atomic rename.

Parent side: :class:`Workspace` creates the directory, registers rules and collects their
results and errors. Driver side: :func:`process_bucket` (called by
:mod:`gpfskit.policy.driver`). This module imports only the standard library (and
cloudpickle when writing), so that a driver starts in a few tens of milliseconds.
"""

from __future__ import annotations

import copy
import faulthandler
import functools
import gc
import json
import operator
import os
import pickle
import secrets
import shlex
import shutil
import sys
import tempfile
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, unquote

from gpfskit import shipping
from gpfskit.policy.filelist import FileList, Layout, descending, order_of

GATHER, MAPREDUCE = "gather", "mapreduce"
WRAPPER = "driver"
POLICY_FILE = "policy.pol"

#: Files per bucket (mmapplypolicy -B) when a policy has processing rules and the caller
#: does not say: every bucket starts a Python process, so buckets must be large.
DEFAULT_BUCKET_SIZE = 100_000

_NOTHING = object()


@dataclass
class Functions:
    """The user functions of a map-reduce rule, as shipped to the drivers."""

    mapfn: Callable[[Any], Any]
    combinefn: Callable[[Any, Any], Any] | None = None
    reducefn: Callable[[Any, Any], Any] | None = None
    initial: Any = None
    has_initial: bool = False
    sort: Any = None


@dataclass
class Partial:
    """What one bucket's driver produced.

    ``kind`` ``'list'``: the mapped ``values`` with their sort ``keys``; ``'acc'``: one
    accumulator in ``value`` (``empty`` when the bucket had no files and no initial value).
    ``first`` (the bucket's first inode) orders partials deterministically.
    """

    kind: str
    first: int | None = None
    keys: list[Any] = field(default_factory=list)
    values: list[Any] = field(default_factory=list)
    value: Any = None
    empty: bool = False


def rule_key(rule_id: str) -> str:
    """The directory name (one path component) of a rule's files."""
    return "rule-" + quote(rule_id, safe="")


# -- the parent side ------------------------------------------------------------------------


def _python_path() -> str:
    """sys.path entries a driver needs to import what this process imports (beyond the
    interpreter's own library and site directories)."""
    skip = {os.path.realpath(p) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix)}
    package_root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    entries = [package_root]
    for entry in sys.path:
        path = os.path.abspath(entry or os.getcwd())
        real = os.path.realpath(path)
        if any(real == s or real.startswith(s + os.sep) for s in skip):
            continue
        if os.path.isdir(path) and path not in entries:
            entries.append(path)
    return os.pathsep.join(entries)


class Workspace:
    """A policy run's work directory (see the module docstring); ``cleanup()`` removes it."""

    def __init__(self, path: str, created_base: str | None = None) -> None:
        self.path = path
        self._created_base = created_base

    @classmethod
    def create(cls, base: str) -> Workspace:
        base = os.path.abspath(base)
        created = None if os.path.isdir(base) else base
        for attempt in range(3):  # another run may remove an empty base meanwhile
            os.makedirs(base, exist_ok=True)
            try:
                path = tempfile.mkdtemp(prefix="policy-", dir=base)
                break
            except FileNotFoundError:
                if attempt == 2:
                    raise
        os.makedirs(os.path.join(path, "tmp"))
        workspace = cls(path, created)
        workspace._write_wrapper()
        return workspace

    @property
    def wrapper(self) -> str:
        return os.path.join(self.path, WRAPPER)

    @property
    def local_dir(self) -> str:
        return os.path.join(self.path, "tmp")

    @property
    def policy_file(self) -> str:
        return os.path.join(self.path, POLICY_FILE)

    def _write_wrapper(self) -> None:
        text = (
            "#!/bin/sh\n"
            "# gpfskit list driver for EXTERNAL LIST rules (see gpfskit.policy.workspace)\n"
            f"PYTHONPATH={shlex.quote(_python_path())}${{PYTHONPATH:+:$PYTHONPATH}}\n"
            "export PYTHONPATH\n"
            f"exec {shlex.quote(sys.executable)} -m gpfskit.policy.driver \"$@\"\n"
        )
        _write_atomic(self.wrapper, text.encode())
        os.chmod(self.wrapper, 0o755)

    def rule_dir(self, rule_id: str) -> str:
        return os.path.join(self.path, rule_key(rule_id))

    def opts(self, rule_id: str) -> str:
        """The OPTS string of a rule's EXTERNAL LIST rule."""
        return f"{quote(self.path)} {quote(rule_id, safe='')}"

    def add_rule(self, rule_id: str, mode: str, layout: Layout,
                 functions: Functions | None = None, timeout: float | None = None) -> None:
        """Register a processing rule: its directory, spec and (map-reduce) functions."""
        directory = self.rule_dir(rule_id)
        os.makedirs(directory, exist_ok=True)
        if functions is not None:
            _write_atomic(os.path.join(directory, "functions.pkl"), shipping.dumps(functions))
        spec = {"rule": rule_id, "mode": mode, "layout": layout.to_json(), "timeout": timeout}
        _write_atomic(os.path.join(directory, "spec.json"), json.dumps(spec).encode())

    def _files(self, rule_id: str, prefix: str, suffix: str) -> list[str]:
        directory = self.rule_dir(rule_id)
        try:
            names = os.listdir(directory)
        except FileNotFoundError:
            return []
        return sorted(os.path.join(directory, n) for n in names
                      if n.startswith(prefix) and n.endswith(suffix))

    def problems(self, rule_id: str) -> list[tuple[str, str]]:
        """(message, details) for every failed or unfinished bucket of a rule."""
        found = []
        for path in self._files(rule_id, "error-", ".txt"):
            found.append(("a processing function failed", _read_text(path)))
        for path in self._files(rule_id, "running-", ".txt"):
            found.append(("a list driver did not finish (stopped or timed out)",
                          _read_text(path)))
        return found

    def gathered_lists(self, rule_id: str) -> list[str]:
        return self._files(rule_id, "list-", ".txt")

    def partials(self, rule_id: str) -> list[Partial]:
        parts = []
        for path in self._files(rule_id, "part-", ".pkl"):
            with open(path, "rb") as handle:
                parts.append(pickle.load(handle))
        return parts

    def cleanup(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)
        if self._created_base:
            try:
                os.rmdir(self._created_base)
            except OSError:
                pass


def merge_partials(functions: Functions, partials: list[Partial]) -> Any:
    """The map-reduce result from the partials of every bucket (before ``output``)."""
    partials = sorted(partials, key=lambda p: (p.first is None, p.first or 0))
    if functions.combinefn is None and functions.reducefn is None:
        keys: list[Any] = []
        values: list[Any] = []
        for part in partials:
            keys.extend(part.keys)
            values.extend(part.values)
        if functions.sort is not False and len(keys) == len(values):
            values = [values[i] for i in order_of(keys, descending(functions.sort))]
        return _concatenated(values)
    accumulators = [p.value for p in partials if not p.empty]
    if not accumulators:
        return copy.deepcopy(functions.initial) if functions.has_initial else None
    if functions.reducefn is not None:
        return functools.reduce(functions.reducefn, accumulators)
    if len(accumulators) == 1:
        return accumulators[0]
    try:
        return functools.reduce(operator.add, accumulators)
    except TypeError as exc:
        raise TypeError(
            "the partial results of several workers cannot be added together "
            f"({exc}); give the MapReduceRule a reducefn") from None


def _concatenated(values: list[Any]) -> list[Any]:
    """The mapped values as one list: a mapped list adds its items (mapped lists are
    concatenated), any other value adds itself."""
    if not any(isinstance(v, list) for v in values):
        return values
    result: list[Any] = []
    for value in values:
        if isinstance(value, list):
            result.extend(value)
        else:
            result.append(value)
    return result


# -- the driver side ------------------------------------------------------------------------


def map_bucket(functions: Functions, chunks: Iterable[FileList]) -> Partial:
    """Run map (and combine) over one bucket's file list, given as consecutive chunks."""
    mapfn = functions.mapfn
    fold = functions.combinefn or functions.reducefn
    part = Partial("list" if fold is None else "acc")
    acc: Any = copy.deepcopy(functions.initial) if functions.has_initial else _NOTHING
    for chunk in chunks:
        if part.first is None:
            part.first = chunk.first_inode()
        if fold is None:
            part.values.extend(map(mapfn, chunk.files()))
            if functions.sort is not False:
                part.keys.extend(chunk.sort_keys(functions.sort))
        else:
            mapped = map(mapfn, chunk.files())
            if acc is _NOTHING:
                acc = next(mapped, _NOTHING)
            if acc is not _NOTHING:
                acc = functools.reduce(fold, mapped, acc)
            del mapped
        chunk.release()
    if fold is not None:
        if acc is _NOTHING:
            part.empty = True
        else:
            part.value = acc
    return part


def parse_opts(words: list[str]) -> tuple[str, str]:
    """(work dir, rule id) from the OPTS words (one argument or several)."""
    parts = " ".join(words).split()
    if len(parts) != 2:
        raise ValueError(f"expected OPTS '<work dir> <rule id>', got {' '.join(words)!r}")
    return unquote(parts[0]), unquote(parts[1])


def read_spec(workdir: str, rule_id: str) -> dict[str, Any]:
    with open(os.path.join(workdir, rule_key(rule_id), "spec.json"), "rb") as handle:
        return json.load(handle)


def process_bucket(workdir: str, rule_id: str, filelist: str) -> int:
    """Handle ``LIST <filelist>`` for one rule; returns the exit status."""
    directory = os.path.join(workdir, rule_key(rule_id))
    spec = read_spec(workdir, rule_id)
    token = f"{os.uname().nodename}-{os.getpid()}-{secrets.token_hex(4)}"
    running = os.path.join(directory, f"running-{token}.txt")
    watch = open(running, "w")  # noqa: SIM115 - closed in the finally clause
    watch.write(f"processing {filelist} on {os.uname().nodename} (pid {os.getpid()})\n")
    watch.flush()
    timeout = spec.get("timeout")
    if timeout:
        watch.write(f"stack dump if still running after {timeout} seconds:\n")
        watch.flush()
        faulthandler.dump_traceback_later(float(timeout), exit=True, file=watch)
    try:
        if spec["mode"] == GATHER:
            target = os.path.join(directory, f"list-{token}.txt")
            shutil.copyfile(filelist, target + ".tmp")
            os.replace(target + ".tmp", target)
        else:
            with open(os.path.join(directory, "functions.pkl"), "rb") as handle:
                functions = shipping.loads(handle.read())
            gc.freeze()  # what is loaded so far is never garbage: keep collections short
            with open(filelist, "rb") as handle:
                layout = Layout.from_json(spec["layout"])
                partial = map_bucket(functions, FileList.stream(handle, layout))
            import cloudpickle

            _write_atomic(os.path.join(directory, f"part-{token}.pkl"),
                          cloudpickle.dumps(partial, protocol=pickle.HIGHEST_PROTOCOL))
    except BaseException:
        text = traceback.format_exc()
        sys.stderr.write(text)
        _write_atomic(os.path.join(directory, f"error-{token}.txt"),
                      f"while processing {filelist}:\n{text}".encode())
        return 1
    finally:
        if timeout:
            faulthandler.cancel_dump_traceback_later()
        watch.close()
        os.unlink(running)
    return 0


# -- helpers ----------------------------------------------------------------------------------


def _write_atomic(path: str, data: bytes) -> None:
    tmp = f"{path}.{secrets.token_hex(4)}.tmp"
    with open(tmp, "wb") as handle:
        handle.write(data)
    os.replace(tmp, path)


def _read_text(path: str) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.read()
    except OSError as exc:
        return f"({path}: {exc.strerror})"
