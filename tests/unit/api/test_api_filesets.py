"""Filesets: creating the three kinds, linking, changing, deleting; nothing left half done."""

from __future__ import annotations

import os
from datetime import datetime

import pytest
from api_fakes import FILESET_HEADER, FILESET_ROWS, fileset_row

from arcapix.fs.gpfs import (
    CacheFileset,
    Filesystem,
    GPFSExecuteException,
    IndependentFileset,
)
from arcapix.fs.gpfs.fileset import DependentFileset
from gpfskit.commands import yformat


def _real(mm) -> dict[str, dict]:
    out = mm("mmlsfileset", "mmfs1", "-Y").stdout
    return {r["filesetName"]: r for r in yformat.parse_table(out)}


@pytest.fixture
def fs(emulator_root) -> Filesystem:
    return Filesystem("mmfs1")


def test_new_dependent_and_independent(fs, mm):
    independent = fs.filesets.new("proj", maxInodes=20000, allocInodes=10000,
                                  comment="project: x", path=fs.mountPoint + "/proj")
    dependent = fs.filesets.new("sub", inodeSpace="proj", path=fs.mountPoint + "/proj/sub")
    plain = fs.filesets.new("plain")
    assert isinstance(independent, IndependentFileset)
    assert isinstance(dependent, DependentFileset) and isinstance(plain, DependentFileset)
    real = _real(mm)
    assert real["proj"]["isInodeSpaceOwner"] == "1" and real["proj"]["maxInodes"] == "20000"
    assert real["proj"]["comment"] == "project: x"
    assert real["sub"]["inodeSpace"] == real["proj"]["inodeSpace"]
    assert real["plain"]["inodeSpace"] == "0" and real["plain"]["status"] == "Unlinked"
    assert os.path.isdir(fs.mountPoint + "/proj/sub")
    assert independent.id == int(real["proj"]["id"]) and independent.status == "Linked"
    assert independent.inodeSpace == int(real["proj"]["inodeSpace"])
    assert isinstance(independent.created, datetime) and independent.rootInode > 3
    assert dependent.inodeSpace == independent.inodeSpace and not dependent.independent
    assert plain.path is None and plain.status == "Unlinked"
    assert list(fs.filesets) == ["root", "proj", "sub", "plain"]
    assert list(fs.filesets.independent()) == ["root", "proj"]
    assert len(independent.snapshots) == 0
    # A dependent fileset has no snapshots of its own: an empty collection that says so.
    assert len(dependent.snapshots) == 0
    with pytest.raises(ValueError, match="no snapshots of its own; snapshot fileset proj"):
        dependent.snapshots.new("s")


def test_directly_built_filesets_create(emulator_root, mm):
    fileset = IndependentFileset("mmfs1", "direct", "made directly", maxInodes=4096)
    assert not fileset.exists() and fileset.status is None and fileset.path is None
    assert fileset.maxInodes == 4096 and fileset.comment == "made directly"
    fileset.create()
    assert fileset.exists() and fileset.status == "Unlinked" and fileset.maxInodes == 4096
    dependent = DependentFileset("mmfs1", "dep", comment="")
    dependent._inodeSpace = "direct"       # what scripts do
    dependent.create()
    assert _real(mm)["dep"]["inodeSpace"] == _real(mm)["direct"]["inodeSpace"]
    by_number = DependentFileset("mmfs1", "dep2", inodeSpace=fileset.inodeSpace)
    by_number.create()
    assert by_number.inodeSpace == fileset.inodeSpace
    with pytest.raises(ValueError, match="already exists"):
        IndependentFileset("mmfs1", "direct").create()


def test_cache_fileset(fs, mm):
    cache = fs.filesets.new("cache", remotePath="/home/data", gateway="homenode")
    assert isinstance(cache, CacheFileset) and isinstance(cache, IndependentFileset)
    real = _real(mm)["cache"]
    assert real["afmTarget"] == "nfs://homenode/home/data" and real["afmMode"] == "ro"
    assert cache.remotePath == "/home/data" and cache.gateway == "homenode"
    assert cache.protocol == "nfs" and cache.afmMode == "ro"
    assert isinstance(fs.filesets["cache"], CacheFileset)
    direct = CacheFileset("mmfs1", "cache2", "/remote/x", protocol="gpfs")
    assert direct.remotePath == "/remote/x"
    direct.create()
    assert _real(mm)["cache2"]["afmTarget"] == "gpfs:///remote/x"
    # A fileset read from the listing was built with nothing: once deleted it reports
    # nothing of its own, and it cannot be created again without a remotePath.
    listed = fs.filesets["cache"]
    listed.delete()
    assert listed.remotePath is None and listed.protocol == "nfs" and listed.maxInodes is None
    assert listed.comment == "" and not listed.exists()
    with pytest.raises(ValueError, match="not built with a remotePath"):
        listed.create()
    assert "cache" not in _real(mm)


def test_link_unlink_delete(fs, mm):
    fileset = fs.filesets.new("work", maxInodes=1000)
    junction = fs.mountPoint + "/work"
    fileset.link(junction)
    assert fileset.path == junction and os.path.isdir(junction)
    with pytest.raises(ValueError, match="already linked"):
        fileset.link(junction + "2")
    fileset.unlink()
    assert fileset.status == "Unlinked" and not os.path.exists(junction)
    with pytest.raises(ValueError, match="not linked"):
        fileset.unlink()
    fileset.link(junction)
    fs.filesets.destroy("work", unlink=True)
    assert "work" not in _real(mm) and "work" not in fs.filesets
    with pytest.raises(KeyError, match="no fileset named 'work'"):
        fs.filesets.destroy("work")


def test_delete_nonempty_needs_the_flag(fs, mm):
    fileset = fs.filesets.new("full", path=fs.mountPoint + "/full")
    with open(fs.mountPoint + "/full/data", "w") as handle:
        handle.write("x")
    fileset.unlink()
    with pytest.raises(GPFSExecuteException) as info:
        fileset.delete()
    assert "full" in _real(mm) and info.value.returncode != 0
    fileset.delete(deleteNonEmpty=True)
    assert "full" not in _real(mm)


def test_failed_delete_after_unlink_links_back(fs, mm):
    fileset = fs.filesets.new("busy", path=fs.mountPoint + "/busy")
    with open(fs.mountPoint + "/busy/data", "w") as handle:
        handle.write("x")
    with pytest.raises(GPFSExecuteException):
        fs.filesets.destroy(fileset, unlink=True)   # non-empty without deleteNonEmpty
    real = _real(mm)["busy"]
    assert real["status"] == "Linked" and real["path"] == fs.mountPoint + "/busy"


def test_change_rename_comment_relink_inodes_quota(fs, mm):
    fileset = fs.filesets.new("before", maxInodes=1000, path=fs.mountPoint + "/before")
    fileset.change(name="after", comment="renamed", path=fs.mountPoint + "/moved",
                   maxInodes=5000, filesSoftLimit=10, filesHardLimit=20)
    real = _real(mm)
    assert "before" not in real and real["after"]["comment"] == "renamed"
    assert real["after"]["path"] == fs.mountPoint + "/moved"
    assert real["after"]["maxInodes"] == "5000"
    assert fileset.name == "after" and fileset.path == fs.mountPoint + "/moved"
    quota = fileset.quotas.fileset["after"]
    assert (quota.filesSoftLimit, quota.filesHardLimit) == (10, 20)
    assert list(fs.filesets) == ["root", "after"]


def test_change_is_undone_when_a_later_step_fails(fs, mm):
    fileset = fs.filesets.new("stay", path=fs.mountPoint + "/stay")
    with pytest.raises(GPFSExecuteException):
        fileset.change(name="gone", path=os.path.dirname(fs.mountPoint) + "/outside")
    real = _real(mm)
    assert "gone" not in real and real["stay"]["status"] == "Linked"
    assert real["stay"]["path"] == fs.mountPoint + "/stay"
    assert fileset.name == "stay"


def test_new_is_undone_when_linking_fails(fs, mm):
    with pytest.raises(GPFSExecuteException):
        fs.filesets.new("orphan", maxInodes=1000, path=os.path.dirname(fs.mountPoint) + "/out")
    assert "orphan" not in _real(mm) and "orphan" not in fs.filesets


def test_new_is_undone_when_the_quota_fails(fake):
    def listing() -> str:
        created = any(argv[0] == "mmcrfileset" for argv in fake.ran)
        linked = any(argv[0] == "mmlinkfileset" for argv in fake.ran)
        extra = fileset_row("project", "q", 3, linked=linked) if created else ""
        return FILESET_HEADER + "".join(FILESET_ROWS) + extra

    fake.outputs[("mmlsfileset", "project", "-Y")] = listing
    fake.failures[("mmsetquota", "project:q", "--block", "1G:2G")] = (
        22, "mmsetquota: Quotas are not enabled for file system project.\n")
    with pytest.raises(GPFSExecuteException, match="Quotas are not enabled"):
        Filesystem("project").filesets.new("q", maxInodes=100, path="/fs/project/q",
                                           blockSoftLimit="1G", blockHardLimit="2G")
    assert [" ".join(argv) for argv in fake.ran if not argv[0].startswith("mmls")] == [
        "mmcrfileset project q --inode-space new --inode-limit 100",
        "mmlinkfileset project q -J /fs/project/q",
        "mmsetquota project:q --block 1G:2G",
        "mmunlinkfileset project q -f",
        "mmdelfileset project q -f",
    ]


def test_root_fileset_is_protected(fs):
    root = fs.filesets["root"]
    with pytest.raises(ValueError, match="root fileset cannot be deleted"):
        root.delete()
    with pytest.raises(ValueError, match="cannot be unlinked"):
        root.unlink()
    with pytest.raises(ValueError, match="cannot be renamed"):
        root.change(name="other")
    with pytest.raises(ValueError, match="reserved"):
        fs.filesets.new("root")
    other = fs.filesets.new("other")
    with pytest.raises(ValueError, match="fileset root already exists"):
        other.change(name="root")
    with pytest.raises(ValueError, match="reserved name"):
        other.change(name="new")


@pytest.mark.parametrize("name", ["with space", "a/b", "quote'd", 'dq"x', "semi;colon",
                                  "$(reboot)", "back`tick`", "x" * 256, "", "-dash", "new"])
def test_bad_names_are_refused_before_anything_runs(fs, commands, name):
    fs.filesets  # noqa: B018 - the collection itself costs nothing
    with pytest.raises(ValueError):
        fs.filesets.new(name)
    with pytest.raises(ValueError):
        IndependentFileset("mmfs1", name)
    assert not [c for c in commands.names() if not c.startswith("mmls")]


def test_bad_arguments_are_refused_before_anything_runs(fs, mm, commands):
    fs.filesets.new("exists")
    commands.clear()
    cases = [
        (ValueError, dict(filesetname="exists")),
        (ValueError, dict(filesetname="x", allocInodes=10)),
        (ValueError, dict(filesetname="x", maxInodes=10, allocInodes=20)),
        (ValueError, dict(filesetname="x", maxInodes=-1)),
        (ValueError, dict(filesetname="x", path="bad\nline")),
        (ValueError, dict(filesetname="x", maxInodes="many")),
        (ValueError, dict(filesetname="x", comment="x" * 256)),
        (ValueError, dict(filesetname="x", blockSoftLimit="ten gigs")),
        (ValueError, dict(filesetname="x", filesSoftLimit=10, filesHardLimit=5)),
        (ValueError, dict(filesetname="x", maxInodes=10, inodeSpace="root")),
        (ValueError, dict(filesetname="x", inodeSpace="no space")),
        (ValueError, dict(filesetname="x", inodeSpace=99)),
        (TypeError, dict(filesetname="x", colour="blue")),
    ]
    for error, kwargs in cases:
        with pytest.raises(error):
            fs.filesets.new(**kwargs)
    fileset = fs.filesets["exists"]
    for error, kwargs in [(TypeError, dict(colour="blue")), (ValueError, dict()),
                          (ValueError, dict(name="root")), (ValueError, dict(name="a b")),
                          (ValueError, dict(maxInodes=10)),  # dependent
                          (ValueError, dict(comment="x" * 300))]:
        with pytest.raises(error):
            fileset.change(**kwargs)
    assert [c for c in commands.names() if not c.startswith("mmls")] == []
    assert list(_real(mm)) == ["root", "exists"]


def test_cluster_refusal_surfaces_with_its_message(fs):
    missing = DependentFileset("mmfs1", "ghost")
    with pytest.raises(LookupError, match="Fileset named ghost does not exist"):
        missing.link("/x")
    fs.filesets.new("dup")
    fs.refresh()
    other = DependentFileset("mmfs1", "dup2", inodeSpace="nosuchfileset")
    with pytest.raises(GPFSExecuteException) as info:
        other.create()
    assert info.value.returncode != 0 and info.value.message
