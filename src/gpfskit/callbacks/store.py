"""Where persistent handlers live and how a handler file is written, checked and read.

The directory is the directive ``gpfskit.callbacks.dir``; unset, it is
``<gpfskit.emulator.root>/callbacks`` on the emulated backend and ``REAL_DEFAULT``
(``/var/mmfs/etc/gpfskit-callbacks``, root's, local to each node) on a real cluster. It is
created with mode 0700 and must stay writable by its owner only: the driver, which runs as the
user the cluster runs callbacks as (root on a real cluster), refuses to load a handler from a
file or directory that another user owns or that group or others may write, since loading a
pickle runs code. On a real cluster the callback command must exist on every node where the
event can fire, so the directory (and gpfskit) must be present on each of those nodes: copy it
there, or point ``gpfskit.callbacks.dir`` at a root-owned directory every node sees.

The directory holds:

* ``gpfskit-callback``: the driver wrapper, an executable script that runs
  ``<python> -m gpfskit.callbacks.driver "$@"`` with the interpreter (and gpfskit) that wrote
  it; it is the ``--command`` of every Python handler's callback.
* ``<callback id>.handler``: one handler, a ``HandlerRecord`` written by :mod:`gpfskit.shipping`.
* ``callbacks.log``: what every run did (``driver``).

A callback's ``--parms`` are ``<handler file> %eventName %myNode <filters> <handler
arguments>``: the event name and node are for the log; each filter is a word
``%variable=value`` (``%fsName=mmfs1``), which the cluster turns into ``<actual>=value`` and
the driver compares, so that events of other objects are skipped; the handler's arguments come
last.
"""

from __future__ import annotations

import os
import stat
import sys
import sysconfig
import tempfile
import time
import types
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gpfskit import shipping
from gpfskit.commands import GPFSError

REAL_DEFAULT = "/var/mmfs/etc/gpfskit-callbacks"
DRIVER_NAME = "gpfskit-callback"
DRIVER_MODULE = "gpfskit.callbacks.driver"
SUFFIX = ".handler"
LOG_NAME = "callbacks.log"
CONTEXT = ("eventName", "myNode")
RECORD_VERSION = 1


class UnsafeHandler(GPFSError):
    """A handler file or directory that must not be trusted (owner or permissions)."""


def default_dir() -> Path:
    """The callbacks directory for the configured backend."""
    from gpfskit.config import config

    configured = config["gpfskit.callbacks.dir"]
    if configured:
        return Path(configured)
    if config["gpfskit.cluster.backend"] == "emulated":
        return Path(config["gpfskit.emulator.root"]) / "callbacks"
    return Path(REAL_DEFAULT)


def unsafe_reason(path: Path, *, directory: bool) -> str | None:
    """Why ``path`` must not be trusted by this user, or None when it may be."""
    try:
        st = os.lstat(path)
    except OSError as exc:
        return f"cannot examine it ({exc.strerror or exc})"
    kind = "directory" if directory else "file"
    if stat.S_ISLNK(st.st_mode):
        return "it is a symbolic link"
    if directory and not stat.S_ISDIR(st.st_mode):
        return "it is not a directory"
    if not directory and not stat.S_ISREG(st.st_mode):
        return "it is not a regular file"
    if st.st_uid != os.geteuid():
        return f"the {kind} is owned by uid {st.st_uid}, not by uid {os.geteuid()}"
    if st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        return f"the {kind} is writable by group or others (mode {stat.S_IMODE(st.st_mode):o})"
    return None


def prepare_dir(path: Path | None = None) -> Path:
    """The callbacks directory, created (mode 0700) if needed and checked to be safe."""
    path = Path(path or default_dir()).absolute()
    if any(c.isspace() for c in str(path)):
        raise GPFSError(f"the callbacks directory {path} contains a blank; callback "
                        "parameters are split on blanks, so choose another "
                        "(gpfskit.callbacks.dir)")
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            path.mkdir(mode=0o700)
        except FileExistsError:
            pass
    reason = unsafe_reason(path, directory=True)
    if reason is not None:
        raise UnsafeHandler(f"refusing to use the callbacks directory {path}: {reason}")
    return path


def driver_path(directory: Path) -> Path:
    return Path(directory) / DRIVER_NAME


def _wrapper_text() -> str:
    import shlex

    import gpfskit

    package_parent = str(Path(gpfskit.__file__).resolve().parent.parent)
    return ("#!/bin/sh\n"
            "# Runs a stored Python event handler: see gpfskit.callbacks.\n"
            f"PYTHONPATH={shlex.quote(package_parent)}${{PYTHONPATH:+:$PYTHONPATH}}\n"
            "export PYTHONPATH\n"
            f"exec {shlex.quote(sys.executable)} -m {DRIVER_MODULE} \"$@\"\n")


def install_driver(directory: Path) -> Path:
    """Write the driver wrapper into ``directory`` (unless it is already current)."""
    path = driver_path(directory)
    text = _wrapper_text()
    try:
        current = path.read_text(encoding="utf-8") if not path.is_symlink() else None
    except OSError:
        current = None
    if current != text or unsafe_reason(path, directory=False) is not None:
        _write_atomically(path, text.encode(), 0o700)
    return path


def _write_atomically(path: Path, data: bytes, mode: int) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def handler_path(directory: Path, identifier: str) -> Path:
    return Path(directory) / f"{identifier}{SUFFIX}"


@dataclass
class HandlerRecord:
    """What a handler file holds."""

    identifier: str
    handler: Any = None                  # the Python callable, or None for a script
    script: str | None = None            # a script run with the arguments instead
    nargs: int = 0                       # how many argument words the handler takes
    filters: list[tuple[str, str]] = field(default_factory=list)   # (variable, value)
    context: tuple[str, ...] = CONTEXT
    created: float = field(default_factory=time.time)
    version: int = RECORD_VERSION

    def parms(self, path: Path, arguments: list[str]) -> list[str]:
        """The ``--parms`` words of the callback that runs this record from ``path``."""
        return [str(path), *(f"%{name}" for name in self.context),
                *(f"%{name}={value}" for name, value in self.filters), *arguments]

    @property
    def description(self) -> str:
        if self.script is not None:
            return self.script
        fn = self.handler
        return getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None) or repr(fn)


def _installed_dirs() -> list[str]:
    paths = sysconfig.get_paths()
    dirs = {paths.get(k) for k in ("stdlib", "platstdlib", "purelib", "platlib")}
    return [os.path.realpath(d) for d in dirs if d]


def _by_value_modules(handler: Any) -> list[types.ModuleType]:
    """Modules the handler comes from that a driver process may not be able to import
    (scripts, modules in a working directory): their functions are pickled by value."""
    owners = []
    target = getattr(handler, "__func__", handler)
    for obj in (target, getattr(handler, "__self__", None), type(handler)):
        name = getattr(obj, "__module__", None) if obj is not None else None
        if name:
            owners.append(name)
    installed = _installed_dirs()
    chosen = []
    for name in dict.fromkeys(owners):
        if name in ("__main__", "builtins") or name.split(".")[0] in ("gpfskit", "arcapix"):
            continue
        module = sys.modules.get(name)
        path = getattr(module, "__file__", None)
        if module is None or not path:
            continue
        real = os.path.realpath(path)
        if any(real.startswith(d + os.sep) for d in installed):
            continue
        chosen.append(module)
    return chosen


def dumps(record: HandlerRecord) -> bytes:
    modules = _by_value_modules(record.handler) if record.handler is not None else []
    return shipping.dumps(record, by_value=modules)


def save(directory: Path, record: HandlerRecord) -> Path:
    """Write ``record`` to its handler file (mode 0600) and return the path."""
    data = dumps(record)
    path = handler_path(directory, record.identifier)
    _write_atomically(path, data, 0o600)
    return path


def check(path: Path) -> None:
    """Raise ``UnsafeHandler`` unless ``path`` and its directory may be trusted."""
    path = Path(path)
    for target, directory in ((path.parent, True), (path, False)):
        reason = unsafe_reason(target, directory=directory)
        if reason is not None:
            raise UnsafeHandler(f"refusing to load handler {path}: {reason}")


def load(path: Path) -> HandlerRecord:
    """The record in ``path``, after ``check``; ``GPFSError`` if it cannot be read."""
    check(path)
    try:
        with open(path, "rb") as handle:
            record = shipping.loads(handle.read())
    except Exception as exc:
        raise GPFSError(f"cannot load handler {path}: {exc}") from exc
    if not isinstance(record, HandlerRecord):
        raise GPFSError(f"{path} is not a gpfskit handler file")
    return record


def is_driver(command: str | None) -> bool:
    return bool(command) and os.path.basename(command) == DRIVER_NAME


def handler_file(command: str | None, parms: str | None) -> Path | None:
    """The handler file a callback runs, when its command is the driver (and the file lies
    next to it)."""
    if not is_driver(command) or not parms:
        return None
    words = parms.split()
    if not words or not words[0].endswith(SUFFIX):
        return None
    path = Path(words[0])
    return path if path.parent == Path(command).parent else None


def remove(path: Path) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
