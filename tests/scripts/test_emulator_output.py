"""Issue group "The emulator's behaviour and output": what scripts and shell users see of the
emulated commands, run in fresh processes against the demo cluster."""

from __future__ import annotations

import json
import subprocess

from gpfskit.commands import yformat

# -- 15. placement happens when a file is created, never afterwards ---------------------------

PLACEMENT_CHANGES = '''
import json, os
from arcapix.fs.gpfs import Filesystem, File, Criteria
from arcapix.fs.gpfs.policy import PlacementPolicy
from arcapix.fs.gpfs.rule import SetPoolRule
mount = Filesystem('mmfs1').mountPoint

def install(with_raw_rule):
    policy = PlacementPolicy('mmfs1')       # the demo's: RULE 'default' SET POOL 'sata1'
    if 'raw' in policy.rules:
        policy.rules.destroy('raw')
    if with_raw_rule:
        policy.rules.new(SetPoolRule, name='raw', target='sas1',
                         criteria=Criteria.like('name', '*.raw'))
    policy.save()

def make(name):
    with open(os.path.join(mount, name), 'wb') as handle:
        handle.write(b'r' * 300_000)

def pools():
    return {n: File(os.path.join(mount, n)).storagepoolName
            for n in sorted(os.listdir(mount)) if n.endswith('.raw')}

seen = {}
install(True)
make('early.raw')
seen['created'] = pools()
install(False)
make('late.raw')
seen['rule_removed'] = pools()
install(True)
seen['rule_back'] = pools()
File(os.path.join(mount, 'late.raw')).change(storagepoolName='system')   # mmchattr -P
seen['moved'] = pools()
print(json.dumps(seen))
'''


def test_placement_happens_when_a_file_is_created(demo):
    seen = json.loads(demo.script(PLACEMENT_CHANGES).stdout.splitlines()[-1])
    assert seen == {
        "created": {"early.raw": "sas1"},
        "rule_removed": {"early.raw": "sas1", "late.raw": "sata1"},
        "rule_back": {"early.raw": "sas1", "late.raw": "sata1"},
        "moved": {"early.raw": "sas1", "late.raw": "system"},
    }
    shown = demo.mm("mmlsattr", "-L", str(demo.mp / "early.raw")).stdout
    assert "storage pool name:    sas1" in shown, shown
    free = {}
    for pool in ("sas1", "sata1"):
        rows = yformat.parse_table(demo.mm("mmdf", "mmfs1", "-P", pool, "-Y").stdout,
                                   "poolTotal")
        total = next(r for r in rows if r.get("poolName") == pool)
        free[pool] = int(total["poolSize"]) - int(total["freeBlocks"])
    assert free["sas1"] >= 256 and free["sata1"] < 256   # early.raw stays in sas1


# -- 16. emulated commands stream their output --------------------------------------------------

SLOW_EXEC = """#!/bin/sh
# Waits (at most 60 s) until the reader has seen the scan lines, then lets the run finish.
if [ "$1" = LIST ]; then
  i=0
  while [ ! -e {go} ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done
fi
exit 0
"""


def test_mmapplypolicy_streams_its_lines_as_it_goes(demo):
    (demo.mp / "a.txt").write_text("a")
    go = demo.root.parent / "go"
    script = demo.root.parent / "slow.sh"
    script.write_text(SLOW_EXEC.format(go=go))
    script.chmod(0o755)
    policy = demo.root.parent / "slow.pol"
    policy.write_text(f"RULE EXTERNAL LIST 'slow' EXEC '{script}'\n"
                      "RULE 'all' LIST 'slow'\n")
    process = subprocess.Popen([str(demo.root / "bin" / "mmapplypolicy"), "mmfs1", "-P",
                                str(policy)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, env=demo.env)
    try:
        early = []
        for line in process.stdout:
            early.append(line)
            if "Policy execution" in line or "Summary of Rule Applicability" in line:
                break
        released = process.poll() is None       # the command is still waiting for us
        go.touch()
        rest = process.stdout.read()
        assert process.wait(timeout=60) == 0, process.stderr.read()
    finally:
        go.touch()
        process.kill()
        process.wait()
    assert released, "the lines came only when the command had finished"
    assert any("[I] Directories scan:" in line for line in early)
    assert "[I] Policy execution. 1 files dispatched." in "".join(early) + rest
