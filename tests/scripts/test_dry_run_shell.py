"""Dry run from the shell: GPFSKIT_DRY_RUN=1 and gpfskit dry-run, for scripts left unchanged."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.scripts.conftest import BIN

CHANGES = """
import subprocess, sys
from arcapix.fs.gpfs import Cluster
fs = Cluster().filesystems['mmfs1']
fs.filesets.new('scratch')
print('filesets', sorted(fs.filesets))
subprocess.run([sys.executable, '-c', "from arcapix.fs.gpfs import Cluster; "
                "Cluster().filesystems['mmfs1'].filesets.new('child')"], check=True)
subprocess.run(['mmcrsnapshot', 'mmfs1', 'nightly'], check=True)
"""

RECORDED = ["mmcrfileset mmfs1 scratch", "mmcrfileset mmfs1 child",
            "mmcrsnapshot mmfs1 nightly"]


def _recorded(stderr: str) -> list[str]:
    head, _, rest = stderr.partition("none of them run:\n")
    assert "gpfskit dry run: 3 command(s) recorded" in head, stderr
    return [line.strip() for line in rest.splitlines()]


def _unchanged(demo) -> None:
    listing = demo.mm("mmlsfileset", "mmfs1", "-Y").stdout
    assert "scratch" not in listing and "child" not in listing
    assert "nightly" not in demo.mm("mmlssnapshot", "mmfs1", check=False).stdout


def test_environment_variable_runs_a_script_in_dry_run(demo):
    env = {**demo.env, "GPFSKIT_DRY_RUN": "1",
           "PATH": f"{demo.root / 'bin'}:{demo.env['PATH']}"}
    path = demo.root.parent / "changes.py"
    path.write_text(CHANGES)
    done = subprocess.run([sys.executable, str(path)], capture_output=True, text=True,
                          env=env, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "filesets ['root', 'scratch']\n"  # the dry run's own view
    assert _recorded(done.stderr) == RECORDED
    _unchanged(demo)


def test_gpfskit_dry_run_wraps_any_program(demo):
    path = demo.root.parent / "changes.py"
    path.write_text(CHANGES + "sys.exit(4)\n")
    env = {**demo.env, "PATH": f"{demo.root / 'bin'}:{demo.env['PATH']}"}
    done = subprocess.run([str(BIN / "gpfskit"), "dry-run", "--", sys.executable, str(path)],
                          capture_output=True, text=True, env=env, timeout=120, check=False)
    assert done.returncode == 4, done.stderr              # the program's own exit code
    assert _recorded(done.stderr) == RECORDED
    _unchanged(demo)
    missing = subprocess.run([str(BIN / "gpfskit"), "dry-run", "--", "no-such-program"],
                             capture_output=True, text=True, env=env, timeout=60, check=False)
    assert missing.returncode == 127 and "no-such-program: command not found" in missing.stderr
    log = json.loads(subprocess.run([str(BIN / "gpfskit"), "log", "--json"], capture_output=True,
                                    text=True, env=env, timeout=60, check=True).stdout)
    assert log == []                                     # nothing ran, nothing logged


POLICY = """
import os
from arcapix.fs.gpfs import DeleteRule, ManagementPolicy
from arcapix.fs.gpfs.execute import getCmdCache, setDryRun
policy = ManagementPolicy()
policy.rules.new(DeleteRule, name='old_logs', criteria=None)
setDryRun(True)
policy.run('mmfs1')
line = getCmdCache()[-1].split()
kept = line[line.index('-P') + 1]
print(kept)
print(open(kept).read())
"""


def _data_files(demo) -> int:
    return sum(1 for _ in demo.mp.rglob("*.dat"))


def test_a_dry_run_policy_keeps_its_policy_file(demo):
    files = _data_files(demo)
    done = demo.script(POLICY)
    kept, _, text = done.stdout.partition("\n")
    assert kept.startswith(f"{demo.mp}/.policytmp/dryrun-") and kept.endswith(".pol")
    assert "RULE 'old_logs' DELETE" in text
    after = demo.mp / ".policytmp"
    assert [p.name for p in after.iterdir()] == [kept.rsplit("/", 1)[1]]  # work dir gone
    assert _data_files(demo) == files > 0                # nothing deleted


TEST_RUN = """
import json
from arcapix.fs.gpfs import DeleteRule, ManagementPolicy, MigrateRule
policy = ManagementPolicy()
policy.rules.new(DeleteRule, name='old_logs', criteria=None)
policy.rules.new(MigrateRule, name='to_sata', source='system', target='sata1')
print(json.dumps({'test': policy.run('mmfs1', action='test'),
                  'summary': policy.summary('mmfs1')['applicability']}))
"""


def test_a_test_run_reports_each_rule_as_mmapplypolicy_does(demo):
    files = _data_files(demo)
    result = json.loads(demo.script(TEST_RUN).stdout)
    tested = result["test"]
    assert set(tested) == {"old_logs", "to_sata"}
    assert int(tested["old_logs"]["hit_cnt"]) > 0 and int(tested["old_logs"]["kb_chosen"]) > 0
    for rule in tested:                                  # the same shape as summary()
        assert set(tested[rule]) == set(result["summary"][rule])
        assert tested[rule]["chosen"] == result["summary"][rule]["chosen"]
    assert _data_files(demo) == files                    # a test run changes nothing
