"""The callback driver: ``python -m gpfskit.callbacks.driver <handler file> [values...]``.

The cluster runs it (through the wrapper ``gpfskit-callback``) with the substituted
``--parms`` of a Python handler's callback: the handler file, the event name and node, the
values of the scope filter variables, then the handler's arguments. It

1. refuses a handler file, or a directory holding it, that another user owns or that group or
   others may write (exit 2, logged);
2. loads the file (cloudpickle);
3. exits 0 without calling anything when a filter does not match (the event concerns another
   file system, fileset, pool...);
4. calls the handler with the arguments as strings (``UNDEFINED``, a variable with no value
   for the event, becomes None), or runs the stored script with them;
5. logs the run, whatever the handler printed, and any exception with its traceback, to
   ``callbacks.log`` next to the handler file (to standard error when that directory is not
   safe). The exit code is 0 when the handler returned, 1 when it raised, the code of
   ``SystemExit`` when it called ``sys.exit``, the script's own code for a script.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from gpfskit.callbacks import store

UNDEFINED = "UNDEFINED"
log = logging.getLogger("gpfskit.callbacks.driver")


class _SafeFileHandler(logging.FileHandler):
    """Appends to the log without following a symbolic link planted in its place."""

    def _open(self):  # type: ignore[override]
        flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC
        fd = os.open(self.baseFilename, flags, 0o600)
        return os.fdopen(fd, "a", encoding=self.encoding or "utf-8")


def _log_to(directory: Path) -> logging.Handler:
    handler: logging.Handler
    if store.unsafe_reason(directory, directory=True) is None:
        try:
            handler = _SafeFileHandler(str(directory / store.LOG_NAME), encoding="utf-8",
                                       delay=False)
        except OSError:
            handler = logging.StreamHandler(sys.stderr)
    else:
        handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s [%(process)d] "
                                           "%(message)s"))
    return handler


def _value(word: str) -> str | None:
    return None if word == UNDEFINED else word


def _output(lines: str) -> None:
    for line in lines.rstrip("\n").splitlines():
        log.info("  | %s", line)


def run(argv: Sequence[str]) -> int:
    """Run one stored handler; returns the exit code."""
    if not argv:
        sys.stderr.write("usage: python -m gpfskit.callbacks.driver HANDLER_FILE [VALUE...]\n")
        return 2
    path = Path(argv[0]).absolute()
    values = list(argv[1:])
    handler = _log_to(path.parent)
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False
    try:
        return _run(path, values)
    finally:
        log.removeHandler(handler)
        handler.close()


def _run(path: Path, values: list[str]) -> int:
    node = os.environ.get("GPFSKIT_NODE")
    ident = os.environ.get("GPFSKIT_CALLBACK_ID") or path.name.removesuffix(store.SUFFIX)
    try:
        record = store.load(path)
    except store.UnsafeHandler as exc:
        log.error("callback %s on node %s: %s", ident, node or "?", exc)
        return 2
    except Exception as exc:
        log.error("callback %s on node %s: %s", ident, node or "?", exc)
        return 2
    context = dict(zip(record.context, values))
    rest = values[len(record.context):]
    event = context.get("eventName") or os.environ.get("GPFSKIT_EVENT") or "?"
    node = node or context.get("myNode") or "?"
    where = f"callback {record.identifier} event {event} on node {node}"
    got = rest[:len(record.filters)]
    arguments = rest[len(record.filters):]
    for (name, wanted), word in zip(record.filters, got):
        if word != f"{wanted}={wanted}":
            log.debug("%s: skipped (%s is %s, not %s)", where, name,
                      word.removesuffix(f"={wanted}"), wanted)
            return 0
    if len(got) < len(record.filters):
        log.warning("%s: skipped (the filter values are missing)", where)
        return 0
    if record.script is not None:
        return _run_script(where, record.script, arguments)
    args = [_value(a) for a in arguments]
    log.info("%s: calling %s%s", where, record.description,
             "(" + ", ".join(repr(a) for a in args) + ")")
    started = time.monotonic()
    captured = io.StringIO()
    code = 0
    try:
        with contextlib.redirect_stdout(captured), contextlib.redirect_stderr(captured):
            record.handler(*args)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        if exc.code is not None and not isinstance(exc.code, int):
            captured.write(f"{exc.code}\n")
    except BaseException:
        _output(captured.getvalue())
        log.exception("%s: %s raised an exception", where, record.description)
        return 1
    _output(captured.getvalue())
    log.info("%s: finished in %.3fs with exit code %d", where, time.monotonic() - started, code)
    return code


def _run_script(where: str, script: str, arguments: list[str]) -> int:
    log.info("%s: running %s %s", where, script, " ".join(arguments))
    try:
        done = subprocess.run([script, *arguments], stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, errors="replace", check=False)
    except OSError as exc:
        log.error("%s: cannot run %s: %s", where, script, exc.strerror or exc)
        return 127
    _output(done.stdout + done.stderr)
    log.info("%s: %s exited with code %d", where, script, done.returncode)
    return done.returncode


def main() -> None:
    raise SystemExit(run(sys.argv[1:]))


if __name__ == "__main__":
    main()
