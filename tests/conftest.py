"""Shared fixtures: every test that touches a cluster gets a fresh demo cluster of its own."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from gpfskit.commands import dryrun
from gpfskit.emulator import state
from gpfskit.emulator.setup import init_cluster


@pytest.fixture(autouse=True)
def _isolated_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No test reads or writes the machine's real configuration."""
    config_dir = tmp_path / "config"
    monkeypatch.setenv("GPFSKIT_CONFIG", str(config_dir))
    monkeypatch.delenv("ARCAPIX_CONFIG", raising=False)
    dryrun.setDryRun(False)
    dryrun.clearCmdCache()
    return config_dir


@pytest.fixture
def emulator_root(tmp_path: Path, _isolated_config: Path) -> Iterator[Path]:
    """A fresh demo cluster under tmp_path, selected as this test's backend."""
    from gpfskit.config import config

    root = tmp_path / "cluster"
    init_cluster(root)
    config["gpfskit.cluster.backend"] = "emulated"
    config["gpfskit.emulator.root"] = str(root)
    yield root
    state.forget_connections()


@pytest.fixture
def mp(emulator_root: Path) -> Path:
    """The mount point of mmfs1 on the demo cluster (mounted on this node)."""
    return emulator_root / "gpfs" / "mmfs1"


@pytest.fixture
def mm(emulator_root: Path):
    """``mm('mmlsfileset', 'mmfs1', '-Y')`` runs an emulated command and returns its Result."""
    from gpfskit.emulator.dispatch import run_command

    def run(*argv: str):
        return run_command(list(argv), root=emulator_root)

    return run


@pytest.fixture(autouse=True)
def _clear_immutable_flags(tmp_path: Path) -> Iterator[None]:
    """Tests run as root, so immutable/append-only files are real: clear them for clean-up."""
    yield
    from gpfskit.emulator import fileattrs

    fileattrs.clear_flags(tmp_path)
