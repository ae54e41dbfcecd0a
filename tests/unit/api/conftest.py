"""Fixtures for the API tests: counting commands, and a canned cluster of any size."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from api_fakes import FakeBackend

from gpfskit.commands import runner


class CommandLog(logging.Handler):
    """The commands that ran (one DEBUG record each on the ``gpfskit.commands`` logger)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.argvs: list[list[str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        argv = getattr(record, "argv", None)
        if argv is not None:
            self.argvs.append(list(argv))

    @property
    def count(self) -> int:
        return len(self.argvs)

    def names(self) -> list[str]:
        return [" ".join(a) for a in self.argvs]

    def clear(self) -> None:
        self.argvs.clear()


@pytest.fixture
def commands() -> Iterator[CommandLog]:
    logger = logging.getLogger("gpfskit.commands")
    handler = CommandLog()
    old_level = logger.level
    logger.setLevel(logging.DEBUG)
    logger.addHandler(handler)
    yield handler
    logger.removeHandler(handler)
    logger.setLevel(old_level)


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> FakeBackend:
    backend = FakeBackend()
    monkeypatch.setattr(runner, "configured_backend", lambda: backend)
    return backend
