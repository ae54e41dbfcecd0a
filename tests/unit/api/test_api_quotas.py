"""Quotas: views by type, figures as mmrepquota reports them, limits set with mmsetquota."""

from __future__ import annotations

import pytest

from arcapix.fs.gpfs import Filesystem
from arcapix.fs.gpfs.quotas import Quota, Quotas
from gpfskit.commands import yformat

GIB_KB = 1024 * 1024


def _real(mm, kind: str = "FILESET") -> dict[str, dict]:
    rows = yformat.parse_table(mm("mmrepquota", "mmfs1", "-Y").stdout)
    return {r["name"]: r for r in rows if r["quotaType"] == kind}


@pytest.fixture
def fs(emulator_root) -> Filesystem:
    fs = Filesystem("mmfs1")
    fs.filesets.new("proj", maxInodes=10000, path=fs.mountPoint + "/proj")
    return fs


def test_fileset_quota_new_and_change(fs, mm):
    quota = fs.filesets["proj"].quotas.fileset.new(blockSoftLimit="1G", blockHardLimit="2G",
                                                   filesSoftLimit=100, filesHardLimit=200)
    assert isinstance(quota, Quota)
    real = _real(mm)["proj"]
    assert (real["blockQuota"], real["blockLimit"]) == (str(GIB_KB), str(2 * GIB_KB))
    assert (real["filesQuota"], real["filesLimit"]) == ("100", "200")
    assert quota.quotaType == "FILESET" == quota.type and quota.name == "proj"
    assert quota.filesetName == "proj" and quota.filesystemName == "mmfs1"
    assert quota.blockSoftLimit == GIB_KB and quota.blockHardLimit == 2 * GIB_KB
    assert quota.filesQuota == 100 and quota.filesLimit == 200 and quota.remarks == "e"
    assert quota.id == fs.filesets["proj"].id
    assert isinstance(quota.blockUsage, int) and isinstance(quota.filesUsage, int)
    assert quota.blockGrace == "none" and quota.blockInDoubt == 0
    quota.change(blockHardLimit=4 * GIB_KB)            # integers are KiB; others stay
    real = _real(mm)["proj"]
    assert (real["blockQuota"], real["blockLimit"]) == (str(GIB_KB), str(4 * GIB_KB))
    assert real["filesLimit"] == "200"
    quota.delete()
    assert _real(mm)["proj"]["blockLimit"] == "0"


def test_views_and_keys(fs):
    fs.quotas.user.new("root", blockSoftLimit=100, blockHardLimit=200)
    quotas = fs.quotas
    assert "fileset:proj" in quotas and "fileset:root" in quotas and "user:root" in quotas
    assert str(quotas.fileset) == "root,proj"
    assert quotas.user["root"].blockHardLimit == 200
    assert quotas["user:root"] == quotas.user["root"]
    assert quotas.group["root"].quotaType == "GRP"
    proj = fs.filesets["proj"].quotas
    assert list(proj) == ["fileset:proj"] and list(proj.fileset) == ["proj"]
    with pytest.raises(KeyError, match="no quota named 'root' in fileset proj"):
        proj.fileset["root"]
    with pytest.raises(AttributeError):
        quotas.user.group  # noqa: B018


def test_direct_quotas_collection(fs):
    quotas = Quotas("mmfs1", "proj")
    quotas.fileset.new(filesHardLimit=50)
    assert Quotas("mmfs1").fileset["proj"].filesLimit == 50
    assert Quota("mmfs1", "fileset", "proj").filesHardLimit == 50


def test_bad_limits_run_nothing(fs, commands):
    view = fs.filesets["proj"].quotas.fileset
    commands.clear()
    for kwargs in [dict(), dict(blockSoftLimit="lots"), dict(blockSoftLimit=-1),
                   dict(blockSoftLimit="2G", blockHardLimit="1G"),
                   dict(filesSoftLimit=2, filesHardLimit=1), dict(filesSoftLimit="1.5"),
                   dict(blockHardLimit=10**16)]:
        with pytest.raises(ValueError):
            view.new(**kwargs)
    with pytest.raises(ValueError):
        view.new("other", filesHardLimit=1)
    with pytest.raises(TypeError):
        fs.quotas.new(filesHardLimit=1)
    with pytest.raises(ValueError):
        fs.quotas.user.new("bad name", filesHardLimit=1)
    assert commands.names() == []


def test_cluster_refusal_surfaces(fs):
    from arcapix.fs.gpfs import GPFSExecuteException

    with pytest.raises(GPFSExecuteException) as info:
        fs.quotas.user.new("nosuchuser12345", blockSoftLimit=1)
    assert info.value.returncode != 0 and info.value.message


def test_per_fileset_user_quotas(fs, mm, commands):
    fs.change(perfilesetQuotas=True)
    quota = fs.filesets["proj"].quotas.user.new("root", filesSoftLimit=4, filesHardLimit=5)
    assert quota.filesetName == "proj" and quota.filesHardLimit == 5
    rows = [r for r in yformat.parse_table(mm("mmrepquota", "mmfs1", "-Y").stdout)
            if r["quotaType"] == "USR" and r["filesetname"] == "proj"]
    assert [(r["name"], r["filesLimit"]) for r in rows] == [("root", "5")]
    assert Filesystem("mmfs1").filesets["proj"].quotas.user["root"].filesSoftLimit == 4
    # With per-fileset quotas on, the root fileset's entries are the file system's own.
    top = fs.quotas.user["root"]
    top.change(filesHardLimit=7)
    assert "mmsetquota mmfs1 --user root --files 0:7" in commands.names()
    assert fs.filesets["root"].quotas.user["root"].filesHardLimit == 7
    assert fs.filesets["proj"].quotas.user["root"].filesHardLimit == 5


def test_listed_names_are_not_checked_again(fake):
    from api_fakes import FILESET_HEADER, QUOTA_HEADER, SNAPSHOT_HEADER, fileset_row

    fake.outputs[("mmlsfileset", "fs", "-Y")] = FILESET_HEADER + fileset_row("fs", "odd~name", 1)
    fake.outputs[("mmlssnapshot", "fs", "-Y")] = SNAPSHOT_HEADER
    fake.outputs[("mmrepquota", "-j", "fs", "-Y")] = QUOTA_HEADER + (
        "mmrepquota::0:1:::fs:FILESET:1:odd~name:1:0:0:0:none:1:0:0:0:none:i:on:off:::\n")
    fileset = Filesystem("fs").filesets["odd~name"]
    assert len(fileset.snapshots) == 0
    assert fileset.quotas.fileset["odd~name"].blockUsage == 1
