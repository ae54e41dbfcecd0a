"""File: GPFS attributes through mmlsattr/mmchattr, extended attributes, times."""

from __future__ import annotations

import os
from datetime import datetime

import pytest

from arcapix.fs.gpfs import File, Filesystem, GPFSExecuteException
from gpfskit.commands import dry_run


@pytest.fixture
def path(emulator_root) -> str:
    target = os.path.join(Filesystem("mmfs1").mountPoint, "data.bin")
    with open(target, "wb") as handle:
        handle.write(b"x" * 100)
    return target


def test_attributes(path):
    f = File(path)
    assert f.path == path and f.name == "data.bin" and f.size == 100
    assert f.storagepoolName == "sata1" == f.pool       # the placement default
    assert f.filesetName == "root" and f.snapshotName is None
    assert (f.dataReplication, f.maxDataReplication) == (1, 2)
    assert (f.metadataReplication, f.maxMetadataReplication) == (1, 2)
    assert f.immutable is False and f.appendOnly is False
    for when in (f.creationTime, f.modificationTime, f.accessTime, f.changeTime):
        assert isinstance(when, datetime) and when.tzinfo is None
    assert abs((f.modificationTime - datetime.fromtimestamp(os.stat(path).st_mtime))
               .total_seconds()) < 1e-3


def test_change(path, mm):
    f = File(path)
    f.change(storagepoolName="sas1", dataReplication=2)
    assert f.storagepoolName == "sas1" and f.dataReplication == 2
    assert "sas1" in mm("mmlsattr", "-L", path).stdout
    f.change(appendOnly=True)
    assert File(path).appendOnly is True
    f.change(appendOnly=False)
    with pytest.raises(GPFSExecuteException, match="nosuch"):
        f.change(storagepoolName="nosuch")
    for kwargs in [dict(), dict(dataReplication=0), dict(immutable="maybe"),
                   dict(storagepoolName="a b")]:
        with pytest.raises(ValueError):
            f.change(**kwargs)
    with pytest.raises(TypeError):
        f.change(colour="red")


def test_xattrs(path):
    os.setxattr(path, "user.gpfskit.internal", b"hidden")
    f = File(path)
    xattrs = f.xattrs
    assert len(xattrs) == 0
    xattrs.new("owner", "alice")
    xattrs.new("user.project", "p1")          # the prefix may be given
    assert dict(xattrs.items()) == {"owner": "alice", "project": "p1"}
    assert os.getxattr(path, "user.owner") == b"alice"
    with pytest.raises(ValueError, match="already exists"):
        xattrs.new("owner", "bob")
    xattrs.change("owner", "bob")
    assert File(path).xattrs["owner"] == "bob"
    with pytest.raises(KeyError):
        xattrs.change("missing", "x")
    xattrs.destroy("project")
    assert list(File(path).xattrs) == ["owner"]
    with pytest.raises(KeyError):
        xattrs.destroy("project")
    for bad in ["", "a=b", "gpfskit.pool", "user.gpfskit.pool", "with space"]:
        with pytest.raises(ValueError):
            xattrs.new(bad, "v")


def test_dry_run_shows_changes_in_the_session(path):
    f = File(path)
    with dry_run() as recorded:
        f.change(storagepoolName="sas1")
        f.xattrs.new("tag", "v")
        assert f.storagepoolName == "sas1" and f.xattrs["tag"] == "v"
    assert recorded == [f"mmchattr -P sas1 {path}", f"mmchattr --set-attr user.tag=v {path}"]
    fresh = File(path)
    assert fresh.storagepoolName == "sata1" and "tag" not in fresh.xattrs
    assert f.storagepoolName == "sata1"       # dry run over: the session shows the cluster


def test_missing_file(emulator_root):
    with pytest.raises(FileNotFoundError):
        File("/no/such/file")
