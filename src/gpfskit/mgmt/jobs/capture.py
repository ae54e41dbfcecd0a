"""Per-job output capture in a process whose worker threads run several jobs at once.

``sys.stdout``/``sys.stderr`` are replaced once by routers that send a thread's writes to its
job's buffers while it runs one (and to the real stream otherwise); a logging handler on the
root logger writes the records of such a thread to its job's stderr.
"""

from __future__ import annotations

import io
import logging
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_local = threading.local()
_installed = threading.Lock()
LOG_FORMAT = "%(levelname)s:%(name)s:%(message)s"


class Buffers:
    def __init__(self) -> None:
        self.stdout = io.StringIO()
        self.stderr = io.StringIO()
        self.lock = threading.Lock()

    def texts(self) -> tuple[str, str]:
        with self.lock:
            return self.stdout.getvalue(), self.stderr.getvalue()


class _Router(io.TextIOBase):
    def __init__(self, real, which: str) -> None:
        self.real = real
        self.which = which

    def write(self, text: str) -> int:
        buffers = getattr(_local, "buffers", None)
        if buffers is None:
            return self.real.write(text)
        with buffers.lock:
            return getattr(buffers, self.which).write(text)

    def flush(self) -> None:
        if getattr(_local, "buffers", None) is None:
            self.real.flush()

    def __getattr__(self, name: str):
        return getattr(self.real, name)


class _JobHandler(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        buffers = getattr(_local, "buffers", None)
        if buffers is None:
            return
        try:
            text = self.format(record)
        except Exception:  # a bad log call must not break the job
            text = f"{record.levelname}:{record.name}:{record.msg!r}"
        with buffers.lock:
            buffers.stderr.write(text + "\n")


_handler = _JobHandler(logging.DEBUG)
_handler.setFormatter(logging.Formatter(LOG_FORMAT))


def install() -> None:
    """Route output once per process (idempotent)."""
    with _installed:
        if not isinstance(sys.stdout, _Router):
            sys.stdout = _Router(sys.stdout, "stdout")
        if not isinstance(sys.stderr, _Router):
            sys.stderr = _Router(sys.stderr, "stderr")
        root = logging.getLogger()
        if _handler not in root.handlers:
            root.addHandler(_handler)
        for name in ("gpfskit", "arcapix"):
            logging.getLogger(name).setLevel(logging.DEBUG)


@contextmanager
def capturing() -> Iterator[Buffers]:
    """Capture this thread's output into fresh buffers for the block."""
    install()
    buffers = Buffers()
    _local.buffers = buffers
    try:
        yield buffers
    finally:
        _local.buffers = None
