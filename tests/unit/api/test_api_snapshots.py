"""Snapshots: global and fileset snapshots, their properties, errors."""

from __future__ import annotations

import os
from datetime import datetime

import pytest

from arcapix.fs.gpfs import Filesystem, GPFSExecuteException
from arcapix.fs.gpfs.snapshot import Snapshot
from arcapix.fs.gpfs.snapshots import Snapshots
from gpfskit.commands import yformat


def _real(mm) -> list[tuple[str | None, str]]:
    rows = yformat.parse_table(mm("mmlssnapshot", "mmfs1", "-Y").stdout)
    return [(r["fileset"] or None, r["directory"]) for r in rows]


def test_global_snapshot_properties(emulator_root, mm):
    fs = Filesystem("mmfs1")
    snap = fs.snapshots.new("backup-1")
    assert isinstance(snap, Snapshot) and snap.name == "backup-1"
    assert isinstance(snap.id, int) and snap.status == "Valid"
    assert snap.filesetName is None and snap.filesystemName == "mmfs1"
    assert isinstance(snap.created, datetime)
    assert abs((datetime.now() - snap.created).total_seconds()) < 120
    assert snap.dataInKB == 0 and snap.metadataInKB == 0
    assert snap.location == os.path.join(fs.mountPoint, ".snapshots", "backup-1")
    assert os.path.isdir(snap.location)
    assert Snapshot("mmfs1", "backup-1").id == snap.id
    assert _real(mm) == [(None, "backup-1")]


def test_fileset_snapshots_share_one_listing(emulator_root, mm, commands):
    fs = Filesystem("mmfs1")
    fileset = fs.filesets.new("proj", maxInodes=1000, path=fs.mountPoint + "/proj")
    snap = fileset.snapshots.new("daily")
    fs.snapshots.new("daily")                     # same name, global: allowed
    assert snap.filesetName == "proj"
    assert snap.location == os.path.join(fs.mountPoint, "proj", ".snapshots", "daily")
    assert os.path.isdir(snap.location)
    assert set(_real(mm)) == {(None, "daily"), ("proj", "daily")}
    commands.clear()
    fresh = Filesystem("mmfs1")
    assert list(fresh.snapshots) == ["daily"]
    assert list(fresh.filesets["proj"].snapshots) == ["daily"]
    assert list(Snapshots("mmfs1", "proj")) == ["daily"]
    assert commands.names().count("mmlssnapshot mmfs1 -Y") == 2  # fresh + Snapshots(...)
    fileset.snapshots.destroy("daily")
    assert _real(mm) == [(None, "daily")]


def test_destroy_errors(emulator_root, mm):
    fs = Filesystem("mmfs1")
    with pytest.raises(ValueError, match="no snapshot named 'nosuch'"):
        fs.snapshots.destroy("nosuch")
    with pytest.raises(ValueError):
        fs.snapshots.destroy(Snapshot("mmfs1", "ghost"))
    fs.snapshots.new("s")
    assert "s" in fs.snapshots
    assert mm("mmdelsnapshot", "mmfs1", "s").returncode == 0  # behind the API's back
    with pytest.raises(GPFSExecuteException) as info:
        fs.snapshots.destroy("s")                              # the cached listing still has it
    assert info.value.argv == ["mmdelsnapshot", "mmfs1", "s"] and info.value.message


def test_new_errors_leave_nothing(emulator_root, mm, commands):
    fs = Filesystem("mmfs1")
    fs.snapshots.new("dup")
    commands.clear()
    with pytest.raises(ValueError, match="already exists"):
        fs.snapshots.new("dup")
    for bad in ["a b", "x/y", "fs:snap", "a,b", "$(id)", "'q'", "x" * 256]:
        with pytest.raises(ValueError):
            fs.snapshots.new(bad)
    with pytest.raises(TypeError):
        fs.snapshots.new("ok", colour="red")
    with pytest.raises(ValueError):
        fs.snapshots.new("ok", expirationTime="tomorrow")
    assert [c for c in commands.names() if not c.startswith("mmls")] == []
    assert _real(mm) == [(None, "dup")]


def test_snapshot_the_cluster_would_refuse_is_refused_before_it_runs(emulator_root, mm):
    fs = Filesystem("mmfs1")
    fs.filesets.new("dep", path=fs.mountPoint + "/dep")
    fs.filesets.new("loose", maxInodes=1000)
    with pytest.raises(GPFSExecuteException, match="dep is a dependent fileset"):
        Snapshots("mmfs1", "dep").new("s")
    with pytest.raises(GPFSExecuteException, match="loose is not linked"):
        Snapshots("mmfs1", "loose").new("s")
    with pytest.raises(GPFSExecuteException, match="Fileset named ghost does not exist"):
        Snapshots("mmfs1", "ghost").new("s")
    assert _real(mm) == []


def test_expiration_time_and_direct_create_delete(emulator_root, mm):
    snap = Snapshot("mmfs1", "keep")
    assert not snap.exists()
    snap.create(expirationTime=datetime(2030, 1, 2, 3, 4, 5))
    assert snap.exists() and snap.status == "Valid"
    snap.delete()
    assert not snap.exists() and _real(mm) == []
    with pytest.raises(LookupError):
        snap.delete()
