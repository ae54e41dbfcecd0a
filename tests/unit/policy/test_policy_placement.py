"""PlacementPolicy over a stand-in mmlspolicy / mmchpolicy."""

from __future__ import annotations

import pytest

from gpfskit.commands import CommandResult, GPFSExecuteException, dryrun
from gpfskit.policy import Criteria, MigrateRule, PlacementPolicy, SetPoolRule
from gpfskit.policy.errors import PolicyError
from gpfskit.policy.placement import installed_text

INSTALLED = (
    "RULE 'default' SET POOL 'system'\n"
    "RULE 'media' SET POOL 'sata1' WHERE NAME LIKE '%.mp4'\n"
    "RULE 'm' MIGRATE FROM POOL 'system' TO POOL 'sata1'\n"
)


class FakeCluster:
    def __init__(self, installed: str = INSTALLED, refuse: bool = False) -> None:
        self.installed = installed
        self.refuse = refuse
        self.calls: list[list[str]] = []
        self.files: list[str] = []

    def __call__(self, argv, **kw) -> CommandResult:
        argv = list(argv)
        self.calls.append(argv)
        if argv[0] == "mmlspolicy":
            return CommandResult(tuple(argv), 0, self.installed, "", 0.0)
        assert argv[0] == "mmchpolicy"
        with open(argv[2], encoding="utf-8") as handle:
            self.files.append(handle.read())
        if self.refuse:
            raise GPFSExecuteException(argv, 22, "", "mmchpolicy: [E] Error on line 1")
        if argv[3:] != ["-I", "test"]:
            self.installed = self.files[-1]
        return CommandResult(tuple(argv), 0, "Validated policy.", "", 0.0)


@pytest.fixture
def cluster(work_base, monkeypatch):
    from gpfskit.policy import placement

    fake = FakeCluster()
    monkeypatch.setattr(placement, "run", fake)
    monkeypatch.setattr(placement, "resolve", lambda fs: __import__(
        "gpfskit.policy.target", fromlist=["Target"]).Target(fs, fs, "/gpfs/" + fs))
    return fake


def test_reads_the_installed_policy(cluster):
    policy = PlacementPolicy("mmfs1")
    assert cluster.calls[0] == ["mmlspolicy", "mmfs1", "-L"]
    assert policy.rules.keys() == ["default", "media", "m"]
    assert policy.rules.defaultPlacement is policy.rules["default"]
    assert isinstance(policy.rules["m"], MigrateRule)


def test_save_keeps_the_default_rule_last(cluster, work_base):
    policy = PlacementPolicy("/dev/mmfs1")
    policy.rules.new(SetPoolRule, target="sas1", name="docs",
                     criteria=Criteria.like("name", "*.doc"))
    policy.save()
    argv = cluster.calls[-1]
    assert argv[:2] == ["mmchpolicy", "mmfs1"] and len(argv) == 3
    assert argv[2].startswith(str(work_base))
    assert cluster.files[-1] == (
        "RULE 'media' SET POOL 'sata1' WHERE NAME LIKE '%.mp4'\n"
        "RULE 'm' MIGRATE FROM POOL 'system' TO POOL 'sata1'\n"
        "RULE 'docs' SET POOL 'sas1' WHERE NAME LIKE '%.doc'\n"
        "RULE 'default' SET POOL 'system'\n")
    assert not work_base.exists()  # the temporary policy file is gone
    assert PlacementPolicy("mmfs1").rules.keys() == ["media", "m", "docs", "default"]


def test_validate_and_test_only(cluster):
    policy = PlacementPolicy("mmfs1")
    assert policy.validate() is True
    assert cluster.calls[-1][3:] == ["-I", "test"]
    policy.save(testOnly=True)
    assert cluster.calls[-1][3:] == ["-I", "test"]
    assert cluster.installed == INSTALLED
    cluster.refuse = True
    with pytest.raises(GPFSExecuteException, match="Error on line 1"):
        policy.validate()


def test_default_placement_can_be_replaced(cluster):
    policy = PlacementPolicy("mmfs1")
    policy.rules.defaultPlacement = "sata1"
    assert policy.rules.defaultPlacement.target == "sata1"
    assert [r.id for r in policy.rules.values()].count("default") == 1
    policy.rules.defaultPlacement = SetPoolRule(target="sas1", name="fallback")
    assert policy.text().splitlines()[-1] == "RULE 'fallback' SET POOL 'sas1'"
    with pytest.raises(ValueError):
        policy.rules.defaultPlacement = SetPoolRule(target="x", fileset="f")


def test_export_and_import(cluster, tmp_path):
    policy = PlacementPolicy("mmfs1")
    path = tmp_path / "placement.pol"
    policy.export_to_file(str(path))
    assert path.read_text() == policy.text()
    path.write_text("RULE 'only' SET POOL 'sas1'\n")
    policy.import_from_file(str(path))
    assert policy.rules.keys() == ["only"] and policy.rules.defaultPlacement.target == "sas1"
    path.write_text("RULE SET POOL\n")
    with pytest.raises(PolicyError):
        policy.import_from_file(str(path))


def test_no_installed_policy(cluster):
    cluster.installed = "No policy file was installed for file system 'mmfs1'.\n"
    policy = PlacementPolicy("mmfs1")
    assert len(policy.rules) == 0 and policy.rules.defaultPlacement is None
    with pytest.raises(PolicyError, match="no rules"):
        policy.save()


def test_dry_run_records_the_install_only(cluster, monkeypatch):
    from gpfskit.commands import run as real_run
    from gpfskit.policy import placement

    policy = PlacementPolicy("mmfs1")
    monkeypatch.setattr(placement, "run", real_run)
    dryrun.setDryRun(True)
    try:
        policy.save()
        (recorded,) = dryrun.getCmdCache()
        assert recorded.startswith("mmchpolicy mmfs1 ")
    finally:
        dryrun.setDryRun(False)


def test_installed_text_forms():
    assert installed_text("") == ""
    assert installed_text(INSTALLED) == INSTALLED
    human = ("Policy for file system '/dev/fs1':\n"
             "   Installed by root@node1 on Fri Jan  8 10:12:33 2021.\n"
             "   First line of policy 'placement.pol' is:\n"
             "RULE 'default' SET POOL 'system'\n")
    assert installed_text(human) == "RULE 'default' SET POOL 'system'\n"
