"""The import paths scripts written for the original API use (python-api.md)."""

from __future__ import annotations

import importlib

import pytest


def test_package_names():
    from arcapix.fs.gpfs import (  # noqa: F401
        CacheFileset,
        Cluster,
        DependentFileset,
        File,
        Filesystem,
        GPFSError,
        GPFSExecuteException,
        IndependentFileset,
    )

    assert issubclass(GPFSExecuteException, GPFSError)
    assert issubclass(CacheFileset, IndependentFileset)


def test_module_paths():
    import gpfskit.api as api
    from arcapix.config import config
    from arcapix.fs.gpfs.execute import dry_run, getCmdCache, getDryRun, setDryRun
    from arcapix.fs.gpfs.fileset import DependentFileset, IndependentFileset
    from arcapix.fs.gpfs.filesystem import Filesystem, setTempFilePath
    from gpfskit import commands
    from gpfskit.config import config as gpfskit_config

    assert config is gpfskit_config
    assert setDryRun is commands.setDryRun and getCmdCache is commands.getCmdCache
    assert getDryRun is commands.getDryRun and dry_run is commands.dry_run
    assert Filesystem is api.Filesystem and setTempFilePath is api.setTempFilePath
    assert IndependentFileset is api.IndependentFileset
    assert DependentFileset is api.DependentFileset


@pytest.mark.parametrize("module, names", [
    ("cluster", ["Cluster"]),
    ("filesystem", ["Filesystem", "setTempFilePath"]),
    ("filesets", ["Filesets"]),
    ("fileset", ["DependentFileset", "IndependentFileset", "CacheFileset"]),
    ("snapshots", ["Snapshots"]),
    ("snapshot", ["Snapshot"]),
    ("quotas", ["Quotas", "Quota"]),
    ("pool", ["Pool"]),
    ("disk", ["Disk"]),
    ("nsd", ["Nsd"]),
    ("node", ["Node"]),
    ("nodeclass", ["Nodeclass"]),
    ("file", ["File"]),
    ("execute", ["setDryRun", "getCmdCache", "getDryRun", "dry_run"]),
])
def test_every_owned_module_exists(module, names):
    loaded = importlib.import_module(f"arcapix.fs.gpfs.{module}")
    for name in names:
        assert hasattr(loaded, name), f"arcapix.fs.gpfs.{module} lacks {name}"


def test_arcapix_holds_no_logic():
    """The arcapix package only re-exports: each object comes from gpfskit."""
    import arcapix.fs.gpfs as package

    for name in package.__all__:
        origin = getattr(getattr(package, name), "__module__", "")
        assert origin.startswith("gpfskit."), name


def test_the_api_never_imports_the_emulator():
    import pathlib

    import gpfskit.api

    for source in pathlib.Path(gpfskit.api.__file__).parent.glob("*.py"):
        assert "emulator" not in source.read_text(), source.name
