r"""The command log: one line per admin command the Runner ran, in a rotating file.

Every command that changes the cluster is written at INFO level, read-only ones at DEBUG
(kept only with ``gpfskit.log.level`` = ``debug``), through the ``gpfskit.audit`` logger to
the file named by ``gpfskit.log.commands``. A line reads::

    2026-12-01T22:53:44.123+00:00 INFO user=root pid=4242 process=nightly.py exit=0 \
        duration=0.012 -- mmcrfileset mmfs1 scratch

(one line in the file; broken here to fit).

Values and arguments are shell-quoted, so ``parse_line`` gives back exactly what ran. Several
processes append to the same file; each line is one write. Rotation (at ``MAX_BYTES``, keeping
``BACKUPS`` old files as ``FILE.1`` ...) is per process, as ``logging`` does it.
"""

from __future__ import annotations

import getpass
import logging
import logging.handlers
import os
import shlex
import sys
import threading
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from gpfskit.config import config

MAX_BYTES = 10 * 2**20
BACKUPS = 5

logger = logging.getLogger("gpfskit.audit")
logger.propagate = False            # the file is the record; --verbose has its own lines
_setup_lock = threading.Lock()
_handler: logging.handlers.RotatingFileHandler | None = None
_warned: set[str] = set()


class _Line(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        when = datetime.fromtimestamp(record.created, UTC).isoformat(
            timespec="milliseconds")
        fields = record.__dict__["command"]
        head = " ".join(f"{key}={shlex.quote(str(value))}" for key, value in fields.items()
                        if key != "argv")
        return f"{when} {record.levelname} {head} -- {shlex.join(fields['argv'])}"


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return str(os.getuid())


def _process() -> str:
    """The script or program name (``python -c`` for code given on the command line)."""
    name = sys.argv[0] if sys.argv else ""
    if name in ("", "-c", "-"):
        return f"{os.path.basename(sys.executable)} {name}".strip()
    return os.path.basename(name)


def _ready() -> bool:
    """Attach the file handler for the configured log (again when the directive changed)."""
    global _handler
    path = config["gpfskit.log.commands"]
    level = logging.DEBUG if config["gpfskit.log.level"] == "debug" else logging.INFO
    with _setup_lock:
        if path is None:
            if _handler is not None:
                logger.removeHandler(_handler)
                _handler.close()
                _handler = None
            return False
        if _handler is None or _handler.baseFilename != os.path.abspath(path):
            try:
                Path(path).parent.mkdir(parents=True, exist_ok=True)
                handler = logging.handlers.RotatingFileHandler(
                    path, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8",
                    errors="surrogateescape")
            except OSError as exc:
                if path not in _warned:
                    _warned.add(path)
                    logging.getLogger("gpfskit.commands").warning(
                        "cannot write the command log %s: %s", path, exc.strerror or exc)
                return False
            handler.setFormatter(_Line())
            if _handler is not None:
                logger.removeHandler(_handler)
                _handler.close()
            logger.addHandler(handler)
            _handler = handler
        logger.setLevel(level)
        return True


def record(argv: Sequence[str], returncode: int, duration: float, *, changing: bool) -> None:
    """Log one command that ran: changing ones at INFO, read-only ones at DEBUG."""
    level = logging.INFO if changing else logging.DEBUG
    if not _ready() or not logger.isEnabledFor(level):
        return
    fields = {"user": _user(), "pid": os.getpid(), "process": _process(),
              "exit": returncode, "duration": f"{duration:.3f}", "argv": list(argv)}
    logger.log(level, "%s", shlex.join(argv), extra={"command": fields})


def parse_line(line: str) -> dict[str, Any] | None:
    """One log line as a dict (time, level, user, pid, process, exit, duration, argv), or
    None for a line that is not one (a torn write, another program's text)."""
    try:
        words = shlex.split(line)
        stop = words.index("--")
        when = datetime.fromisoformat(words[0])
    except (ValueError, IndexError):
        return None
    entry: dict[str, Any] = {"time": when.isoformat(timespec="milliseconds"),
                             "level": words[1]}
    for word in words[2:stop]:
        key, _, value = word.partition("=")
        entry[key] = value
    try:
        entry["pid"], entry["exit"] = int(entry["pid"]), int(entry["exit"])
        entry["duration"] = float(entry["duration"])
    except (KeyError, ValueError):
        return None
    entry["argv"] = words[stop + 1:]
    return entry


def entries(path: str | os.PathLike[str]) -> Iterator[dict[str, Any]]:
    """Every entry of the log and its rotated files, oldest first."""
    files = [Path(f"{path}.{n}") for n in range(BACKUPS, 0, -1)] + [Path(path)]
    for file in files:
        try:
            with open(file, encoding="utf-8", errors="surrogateescape") as handle:
                for line in handle:
                    entry = parse_line(line)
                    if entry is not None:
                        yield entry
        except FileNotFoundError:
            continue
