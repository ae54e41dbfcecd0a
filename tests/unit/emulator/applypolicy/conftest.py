"""Fixtures for the mmapplypolicy tests: a demo cluster with a few real files."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest


@pytest.fixture
def work(tmp_path: Path) -> Path:
    path = tmp_path / "work"
    path.mkdir()
    return path


@pytest.fixture
def policy(tmp_path: Path) -> Callable[[str], str]:
    """``policy(text)`` writes a policy file and returns its path."""
    counter = iter(range(1000))

    def write(text: str) -> str:
        path = tmp_path / f"policy.{next(counter)}"
        path.write_text(text)
        return str(path)

    return write


@pytest.fixture
def apply(mm, work: Path):
    """``apply('mmfs1', '-P', pol, ...)``: mmapplypolicy with its work dir under tmp."""

    def run(*argv: str):
        extra = [] if "-s" in argv else ["-s", str(work)]
        return mm("mmapplypolicy", *argv, *extra)

    return run
