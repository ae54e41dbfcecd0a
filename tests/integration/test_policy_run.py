"""Policies end to end on the demo cluster's emulated mmapplypolicy / mmchpolicy /
mmlspolicy: map-reduce, list processing on directories and snapshots, summary, dry run,
failures and placement policies."""

from __future__ import annotations

import os
from collections import Counter

import pytest

from gpfskit.api import Filesystem
from gpfskit.commands import dryrun
from gpfskit.policy import (
    Criteria,
    ListProcessingRule,
    ListRule,
    ManagementPolicy,
    MapReduceRule,
    PlacementPolicy,
    SetPoolRule,
)
from gpfskit.policy.errors import PolicyProcessingError


@pytest.fixture
def tree(emulator_root):
    """A few files in mmfs1: {path: size}."""
    mount = Filesystem("mmfs1").mountPoint
    files = {}
    for number in range(25):
        directory = os.path.join(mount, "projects", f"p{number % 4}")
        os.makedirs(directory, exist_ok=True)
        path = os.path.join(directory, f"f{number:02d}{'.mp4' if number % 5 == 0 else '.txt'}")
        with open(path, "wb") as handle:
            handle.write(b"x" * (number * 1000))
        os.chown(path, 1000 + number % 3, 100)
        files[path] = number * 1000
    return mount, files


def test_map_reduce_histogram(tree):
    mount, files = tree

    def add(acc, key):
        acc[key] = acc.get(key, 0) + 1
        return acc

    p = ManagementPolicy()
    p.rules.new(MapReduceRule, "hist", lambda f: f.size.bit_length(), combinefn=add,
                reducefn=lambda a, b: Counter(a) + Counter(b), initial={},
                output=dict).show_attributes("FILE_SIZE")
    p.rules.new(MapReduceRule, "paths", lambda f: f.path)
    result = p.run("mmfs1", threads=2, maxFiles=4)
    assert result["hist"] == dict(Counter(size.bit_length() for size in files.values()))
    assert sorted(result["paths"]) == sorted(files)
    assert [os.stat(p).st_ino for p in result["paths"]] == \
        sorted(os.stat(p).st_ino for p in files)
    assert not os.path.exists(os.path.join(mount, ".policytmp"))


def test_criteria_on_a_directory_target(tree):
    mount, files = tree
    p = ManagementPolicy()
    rule = p.rules.new(ListProcessingRule, "videos", lambda fs: sorted(f.name for f in fs))
    rule.criteria.new(Criteria.like("name", "*.mp4"))
    rule.criteria.new(Criteria.gt("size", 0))
    target = os.path.join(mount, "projects", "p0")
    expected = sorted(os.path.basename(p) for p, size in files.items()
                      if p.startswith(target + "/") and p.endswith(".mp4") and size > 0)
    assert expected
    assert p.run(target)["videos"] == expected


def test_snapshot_path_target(tree, mm):
    mount, files = tree
    assert mm("mmcrsnapshot", "mmfs1", "snap1").returncode == 0
    os.unlink(next(iter(files)))  # gone from the live tree, still in the snapshot
    p = ManagementPolicy()
    p.rules.new(ListProcessingRule, "all", lambda fs: [(f.name, f.size) for f in fs])
    snapshot = os.path.join(mount, ".snapshots", "snap1", "projects")
    got = p.run(snapshot)["all"]
    assert sorted(got) == sorted((os.path.basename(p), s) for p, s in files.items())


def test_summary(tree):
    _, files = tree
    p = ManagementPolicy()
    big = p.rules.new(ListRule, "big", criteria=Criteria.ge("size", 10_000))
    p.rules.new(ListProcessingRule, "all", len)
    summary = p.summary("mmfs1")
    chosen = summary["applicability"][big.id]
    assert chosen["chosen"] == str(sum(1 for s in files.values() if s >= 10_000))
    assert isinstance(chosen["kb_chosen"], str) and int(chosen["kb_chosen"]) > 0
    assert summary["applicability"]["all"]["chosen"] == str(len(files))


def test_dry_run(tree):
    p = ManagementPolicy()
    p.rules.new(ListProcessingRule, "all", lambda fs: sum(1 for _ in fs))
    dryrun.setDryRun(True)
    try:
        assert p.run("mmfs1") == {"all": 0}
        (recorded,) = dryrun.getCmdCache()
        assert recorded.startswith("mmapplypolicy mmfs1 -P ") and "-I yes" in recorded
        assert p.run("mmfs1", action="test") == {"all": 0}
        assert len(dryrun.getCmdCache()) == 1
    finally:
        dryrun.setDryRun(False)
    assert p.run("mmfs1") == {"all": len(tree[1])}


def test_failures_surface_with_the_traceback(tree):
    mount, _ = tree

    def fragile(f):
        if f.name.endswith(".mp4"):
            raise RuntimeError(f"cannot handle {f.name}")
        return 1

    p = ManagementPolicy()
    p.rules.new(MapReduceRule, "fragile", fragile, reducefn=lambda a, b: a + b)
    with pytest.raises(PolicyProcessingError) as info:
        p.run("mmfs1")
    assert "RuntimeError: cannot handle f" in str(info.value)
    assert 'raise RuntimeError(f"cannot handle {f.name}")' in str(info.value)
    assert not os.path.exists(os.path.join(mount, ".policytmp"))


def test_placement_policy(emulator_root):
    policy = PlacementPolicy("mmfs1")
    assert policy.rules.defaultPlacement is not None
    default_pool = policy.rules.defaultPlacement.target
    policy.rules.new(SetPoolRule, target="sas1", name="videos",
                     criteria=Criteria.like("name", "*.mp4"))
    assert policy.validate() is True
    policy.save()
    again = PlacementPolicy("mmfs1")
    assert again.rules.keys()[-2:] == ["videos", again.rules.defaultPlacement.id]
    assert again.rules.defaultPlacement.target == default_pool
    assert str(again.rules["videos"].criteria) == "NAME LIKE '%.mp4'"


def test_directories_plus_lists_directories_too(tree):
    mount, files = tree
    p = ManagementPolicy()
    p.rules.new(ListProcessingRule, "everything",
                lambda fs: sorted((f.mode[0], f.path) for f in fs), directories_plus=True)
    target = os.path.join(mount, "projects")
    got = p.run(target)["everything"]
    directories = {path for kind, path in got if kind == "d"}
    assert {os.path.join(target, f"p{n}") for n in range(4)} <= directories
    assert {path for kind, path in got if kind == "-"} == set(files)


def test_arcapix_import_paths():
    from arcapix.fs.gpfs import criteria, policy, policydriver, rule

    assert policy.ManagementPolicy is ManagementPolicy
    assert policy.PlacementPolicy is PlacementPolicy
    assert rule.ListProcessingRule is ListProcessingRule and rule.SetPoolRule is SetPoolRule
    assert criteria.Criteria is Criteria
    assert callable(policydriver.main)
