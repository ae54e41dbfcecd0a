"""ManagementPolicy.run() and summary() against a stand-in mmapplypolicy that follows the
EXTERNAL LIST script protocol; dry run through the real command runner."""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

import pytest
from policy_fakes import FakeApplyPolicy, group_counts

from gpfskit.commands import GPFSExecuteException, dryrun
from gpfskit.commands.runner import CommandResult
from gpfskit.language import parse_policy
from gpfskit.policy import (
    Criteria,
    DeleteRule,
    ExcludeRule,
    ListProcessingRule,
    ListRule,
    ManagementPolicy,
    MapReduceRule,
    MigrateRule,
)
from gpfskit.policy.errors import PolicyProcessingError
from gpfskit.policy.summary import parse_applicability, rule_name
from gpfskit.policy.target import Target, work_base

TARGET = "/gpfs/mmfs1/projects"


def per_user(files):
    result = {}
    for file in files:
        result[file.userid] = result.pop(file.userid, 0) + 1
    return result


def test_run_returns_each_processing_rule_result(fake_apply, records, work_base):
    p = ManagementPolicy()
    p.rules.new(ListProcessingRule, "user_counts", per_user)
    p.rules.new(MapReduceRule, "bytes", lambda f: f.size, reducefn=lambda a, b: a + b)
    p.rules.new(ListRule, "plain")
    result = p.run(TARGET)
    assert result == {"user_counts": group_counts(records, "USER_ID"),
                      "bytes": sum(r["FILE_SIZE"] for r in records)}
    argv = fake_apply.calls[0]
    workdir = argv[argv.index("-g") + 1]
    assert argv[:6] == ["mmapplypolicy", TARGET, "-P", os.path.join(workdir, "policy.pol"),
                        "-I", "yes"]
    assert argv[argv.index("-s") + 1] == os.path.join(workdir, "tmp")
    assert argv[argv.index("-B") + 1] == "100000"
    assert os.path.dirname(workdir) == str(work_base)
    assert {"driver", "policy.pol", "tmp", "rule-user_counts", "rule-bytes"} <= \
        set(fake_apply.workdir_listing)
    assert not os.path.exists(workdir) and not os.path.exists(work_base)  # cleaned up
    text = fake_apply.policies[0]
    external = [r for r in parse_policy(text) if r.exec_]
    assert [r.list_name for r in external] == ["user_counts", "bytes"]
    assert all(r.exec_ == os.path.join(workdir, "driver") for r in external)
    assert external[0].opts == f"{workdir} user_counts"
    # TEST once per script, then LIST per bucket
    assert [run[1] for run in fake_apply.script_runs].count("TEST") == 2


def test_options_reach_the_command(fake_apply):
    p = ManagementPolicy()
    p.rules.new(ListRule, "x")
    assert p.run(TARGET, action="defer", nodes=["node1", "node2"], threads=4, maxFiles=500,
                 qos="maintenance") == {}
    argv = fake_apply.calls[0]
    assert argv[4:16] == ["-I", "defer", "-N", "node1,node2", "-m", "4", "-B", "500",
                          "--qos", "maintenance", "-g", argv[15]]
    p.run(TARGET, nodes="all")
    assert "-B" not in fake_apply.calls[1] and "all" in fake_apply.calls[1]
    p.run(TARGET, nodes="node1,node2")
    assert fake_apply.calls[2][6:8] == ["-N", "node1,node2"]
    with pytest.raises(ValueError, match="invalid node"):
        p.run(TARGET, nodes="node1;reboot")
    assert len(fake_apply.calls) == 3
    with pytest.raises(ValueError, match="action"):
        p.run(TARGET, action="maybe")


def test_many_buckets_run_in_parallel(fake_apply, records):
    p = ManagementPolicy()
    p.rules.new(MapReduceRule, "users", lambda f: f.userid,
                combinefn=lambda acc, u: acc.update([u]) or acc, initial=Counter(),
                reducefn=lambda a, b: a + b)
    p.rules.new(MapReduceRule, "paths", lambda f: f.path)
    result = p.run(TARGET, maxFiles=7, threads=3)
    assert result["users"] == Counter(r["USER_ID"] for r in records)
    by_inode = sorted(records, key=lambda r: r["INODE"])
    assert result["paths"] == [r["PATH_NAME"] for r in by_inode]
    lists = [run for run in fake_apply.script_runs if run[1] == "LIST"]
    assert len(lists) == 2 * -(-len(records) // 7)


def test_criteria_and_show_reach_the_drivers(fake_apply, records):
    p = ManagementPolicy()
    rule = p.rules.new(ListProcessingRule, "big", lambda files: sorted(f.name for f in files),
                       show="'owner=' || VARCHAR(USER_ID)")
    rule.criteria.new(Criteria.gt("size", 50_000))
    rule.show_attributes("FILE_SIZE")
    per_owner = p.rules.new(MapReduceRule, "owners", lambda f: (f.owner, f.size),
                            show="'owner=' || VARCHAR(USER_ID)")
    per_owner.show_performance()
    per_owner.change(show="'owner=' || VARCHAR(USER_ID) || ' size=' || VARCHAR(FILE_SIZE)")
    result = p.run(TARGET)
    assert result["big"] == sorted(r["NAME"] for r in records if r["FILE_SIZE"] > 50_000)
    by_inode = sorted(records, key=lambda r: r["INODE"])
    assert result["owners"] == [(r["USER_ID"], r["FILE_SIZE"]) for r in by_inode]


def test_work_files_are_kept_out_of_the_rules(fake_apply, work_base):
    p = ManagementPolicy()
    p.rules.new(ListProcessingRule, "all", len)
    p.rules.new(MigrateRule, target="sata1", criteria="FILE_SIZE > 0")
    p.rules.new(DeleteRule)
    p.rules.new(ExcludeRule, name="kept")
    p.rules.new(ListRule, "ex", exclude=True)
    p.run(str(work_base.parent))  # the work directory lies inside the target
    pattern = str(work_base).replace("_", "\\_")
    guard = f"PATH_NAME NOT LIKE '{pattern}/%' ESCAPE '\\'"
    lines = fake_apply.policies[0].splitlines()
    assert lines[1].endswith(f"WHERE {guard}")
    assert lines[2].endswith(f"WHERE FILE_SIZE > 0 AND {guard}")
    assert lines[3].endswith(f"WHERE {guard}")
    assert "NOT LIKE" not in lines[4] and "NOT LIKE" not in lines[5]
    p.run(TARGET)  # not inside: nothing added
    assert "NOT LIKE" not in fake_apply.policies[1]


def test_test_and_defer_runs_give_empty_results(fake_apply):
    p = ManagementPolicy()
    p.rules.new(ListProcessingRule, "user_counts", per_user)
    p.rules.new(MapReduceRule, "n", lambda f: 1, reducefn=lambda a, b: a + b, initial=0)
    p.rules.new(MapReduceRule, "l", lambda f: 1)
    for action in ("test", "defer"):
        assert p.run(TARGET, action=action) == {"user_counts": {}, "n": 0, "l": []}
    assert not [run for run in fake_apply.script_runs if run[1] == "LIST"]


def test_a_failing_processor_function_surfaces_with_its_traceback(fake_apply, work_base):
    def broken(f):
        return 1 / (f.size - f.size)

    p = ManagementPolicy()
    p.rules.new(MapReduceRule, "broken", broken, reducefn=lambda a, b: a + b)
    with pytest.raises(PolicyProcessingError) as info:
        p.run(TARGET)
    text = str(info.value)
    assert info.value.rule == "broken"
    assert "a processing function failed" in text
    assert "ZeroDivisionError: division by zero" in text
    assert "return 1 / (f.size - f.size)" in text
    assert isinstance(info.value.__cause__, GPFSExecuteException)
    assert not os.path.exists(work_base)


def test_a_failing_list_processor_raises_directly(fake_apply, work_base):
    def processor(files):
        raise KeyError("nope")

    p = ManagementPolicy()
    p.rules.new(ListProcessingRule, "l", processor)
    with pytest.raises(KeyError, match="nope"):
        p.run(TARGET)
    assert not os.path.exists(work_base)


def test_command_failures_propagate_and_clean_up(work_base, monkeypatch):
    from gpfskit.policy import management

    def refuse(argv, **kw):
        raise GPFSExecuteException(argv, 22, "", "mmapplypolicy: Incorrect option")

    monkeypatch.setattr(management, "run", refuse)
    p = ManagementPolicy()
    p.rules.new(ListProcessingRule, "l", len)
    with pytest.raises(GPFSExecuteException, match="Incorrect option"):
        p.run(TARGET)
    assert not os.path.exists(work_base)


def test_dry_run_records_only_mmapplypolicy(work_base, monkeypatch):
    from gpfskit.commands import runner

    def no_backend():
        raise AssertionError("nothing may run in dry run")

    monkeypatch.setattr(runner, "configured_backend", no_backend)
    dryrun.setDryRun(True)
    try:
        p = ManagementPolicy()
        p.rules.new(ListProcessingRule, "user_counts", per_user)
        p.rules.new(MapReduceRule, "n", lambda f: 1, reducefn=lambda a, b: a + b)
        assert p.run(TARGET) == {"user_counts": {}, "n": None}
        cache = dryrun.getCmdCache()
        assert len(cache) == 1 and cache[0].startswith(f"mmapplypolicy {TARGET} -P ")
        assert "-I yes" in cache[0]
        kept = cache[0].split()[cache[0].split().index("-P") + 1]
        assert os.listdir(work_base) == [os.path.basename(kept)]  # only the policy file stays
        assert "RULE 'user_counts'" in Path(kept).read_text()
    finally:
        dryrun.setDryRun(False)


def test_test_mode_still_runs_in_dry_run(work_base, monkeypatch, records):
    from gpfskit.commands import runner

    class Backend:
        def execute(self, argv, timeout):
            from gpfskit.commands.backends import Outcome

            result = FakeApplyPolicy(records)(argv)
            return Outcome(result.stdout, result.stderr, result.returncode)

    monkeypatch.setattr(runner, "configured_backend", lambda: Backend())
    dryrun.setDryRun(True)
    try:
        p = ManagementPolicy()
        p.rules.new(ListProcessingRule, "user_counts", per_user)
        assert p.run(TARGET, action="test") == {"user_counts": {}}
        assert dryrun.getCmdCache() == []
    finally:
        dryrun.setDryRun(False)


# -- summary ----------------------------------------------------------------------------------

HEAD = "[I] Summary of Rule Applicability and File Choices:\n"
EMULATED = (
    "[I] Loaded policy rules from /x/policy.pol.\n" + HEAD +
    " Rule#      Hit_Cnt         KB_Hit       Chosen      KB_Chosen     KB_Ill     Rule\n"
    "     1           10             36           10             36          0     "
    "RULE 'user_counts' LIST 'user_counts' WHERE(.)\n"
    "     2            3             12            2              8          0     "
    "RULE MIGRATE FROM POOL 'system' TO POOL 'sata1' WHERE(.)\n"
    "     3            0              0            0              0          0     "
    "RULE 'it''s' DELETE\n"
    "[I] Policy execution. 0 files dispatched.\n")

REAL_STYLE = (
    HEAD +
    " Rule#      Hit_Cnt          KB_Hit          Chosen       KB_Chosen          KB_Ill     "
    "Rule\n"
    "     0           14            1312              14            1312               0     "
    "RULE 'list1' LIST 'mylist' WHERE(.)\n"
    "     1            2             128               2             128               0     "
    "RULE MIGRATE FROM POOL 'system' TO POOL 'data' WHERE(.)\n"
    "\n"
    "[I] Filesystem objects with no applicable rules: 53.\n")


def test_parse_applicability():
    rows = parse_applicability(REAL_STYLE)
    assert rows == [
        {"rule#": "0", "hit_cnt": "14", "kb_hit": "1312", "chosen": "14", "kb_chosen": "1312",
         "kb_ill": "0", "rule": "RULE 'list1' LIST 'mylist' WHERE(.)"},
        {"rule#": "1", "hit_cnt": "2", "kb_hit": "128", "chosen": "2", "kb_chosen": "128",
         "kb_ill": "0", "rule": "RULE MIGRATE FROM POOL 'system' TO POOL 'data' WHERE(.)"},
    ]
    assert rule_name(rows[0]["rule"]) == "list1" and rule_name(rows[1]["rule"]) is None
    assert rule_name("RULE 'it''s' DELETE") == "it's"
    assert parse_applicability("nothing here") == []


def test_summary_maps_rows_to_rule_ids(fake_apply):
    fake_apply.summary = EMULATED
    p = ManagementPolicy()
    p.rules.new(ListProcessingRule, "user_counts", per_user)
    migrate = p.rules.new(MigrateRule, source="system", target="sata1", criteria="NLINK > 0")
    p.rules.new(DeleteRule, name="it's")
    summary = p.summary(TARGET)
    argv = fake_apply.calls[0]
    assert argv[4:12] == ["-I", "test", "-N", "all", "-L", "1", "--qos", "maintenance"]
    applicability = summary["applicability"]
    assert set(applicability) == {"user_counts", migrate.id, "it's"}
    assert applicability["user_counts"]["kb_chosen"] == "36"
    assert applicability[migrate.id]["kb_chosen"] == "8"
    assert applicability[migrate.id]["chosen"] == "2"
    assert applicability["it's"]["hit_cnt"] == "0"
    assert summary["output"] == EMULATED
    assert not [run for run in fake_apply.script_runs if run[1] == "LIST"]


def test_summary_numbers_counting_only_selecting_rules(fake_apply):
    fake_apply.summary = REAL_STYLE
    p = ManagementPolicy()
    first = p.rules.new(ListRule, "mylist")
    second = p.rules.new(MigrateRule, source="system", target="data")
    applicability = p.summary(TARGET, nodes=None, qos=None)["applicability"]
    assert applicability[first.id]["kb_chosen"] == "1312"
    assert applicability[second.id]["kb_chosen"] == "128"
    assert "-N" not in fake_apply.calls[0] and "--qos" not in fake_apply.calls[0]


# -- where work files go ----------------------------------------------------------------------


def test_work_base_precedence(tmp_path, monkeypatch):
    from gpfskit.api import filesystem
    from gpfskit.config import config
    from gpfskit.policy import setTempFilePath

    target = Target("mmfs1", "mmfs1", "/gpfs/mmfs1")
    assert work_base(target) == "/gpfs/mmfs1/.policytmp"
    assert work_base(Target("/x", None, None, "/x")) == os.environ.get("TMPDIR", "/tmp")
    config["gpfskit.policy.tmpdir"] = str(tmp_path / "cfg")
    assert work_base(target) == str(tmp_path / "cfg")
    monkeypatch.setattr(filesystem, "_temp_file_path", None)
    setTempFilePath(str(tmp_path / "set"))
    assert work_base(target) == str(tmp_path / "set")


def test_directory_targets_resolve_to_their_file_system(monkeypatch):
    from gpfskit.policy import target

    class FS:
        def __init__(self, name, mount):
            self.name, self.mountPoint = name, mount

    monkeypatch.setattr(target, "_filesystems",
                        lambda: [FS("mmfs1", "/gpfs/mmfs1"), FS("inner", "/gpfs/mmfs1/in")])
    got = target.resolve("/gpfs/mmfs1/.snapshots/snap1/projects")
    assert got == Target("/gpfs/mmfs1/.snapshots/snap1/projects", "mmfs1", "/gpfs/mmfs1",
                         "/gpfs/mmfs1/.snapshots/snap1/projects")
    assert target.resolve("/gpfs/mmfs1/in/x").filesystem == "inner"
    assert target.resolve("/elsewhere").filesystem is None
    with pytest.raises(TypeError):
        target.resolve(3)


def test_command_result_type_is_the_runners():
    assert CommandResult(("a",), 0, "", "", 0.0).recorded is False
