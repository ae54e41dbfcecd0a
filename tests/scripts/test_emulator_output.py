"""Issue group "The emulator's behaviour and output": what scripts and shell users see of the
emulated commands, run in fresh processes against the demo cluster."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

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


def _pool_used_kb(demo) -> dict[str, int]:
    """KB used per data pool of mmfs1, as mmdf reports it."""
    used = {}
    for pool in ("sas1", "sata1"):
        rows = yformat.parse_table(demo.mm("mmdf", "mmfs1", "-P", pool, "-Y").stdout,
                                   "poolTotal")
        total = next(r for r in rows if r.get("poolName") == pool)
        used[pool] = int(total["poolSize"]) - int(total["freeBlocks"])
    return used


def test_placement_happens_when_a_file_is_created(demo):
    before = _pool_used_kb(demo)
    seen = json.loads(demo.script(PLACEMENT_CHANGES).stdout.splitlines()[-1])
    assert seen == {
        "created": {"early.raw": "sas1"},
        "rule_removed": {"early.raw": "sas1", "late.raw": "sata1"},
        "rule_back": {"early.raw": "sas1", "late.raw": "sata1"},
        "moved": {"early.raw": "sas1", "late.raw": "system"},
    }
    shown = demo.mm("mmlsattr", "-L", str(demo.mp / "early.raw")).stdout
    assert "storage pool name:    sas1" in shown, shown
    after = _pool_used_kb(demo)
    assert after["sas1"] - before["sas1"] >= 256         # early.raw stayed in sas1
    assert after["sata1"] == before["sata1"]            # late.raw left it for system


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
    assert re.search(r"Policy execution\. \d+ files dispatched\.", "".join(early) + rest)


# -- 17. output formats, against the captures of the reference ---------------------------------

FIXTURES = Path(__file__).parent / "fixtures"


def _column_ends(line: str) -> list[int]:
    """Where each blank-separated field of a table line ends."""
    return [m.end() for m in re.finditer(r"\S+", line)]


def test_mmlsquota_and_mmrepquota_lay_out_as_the_captures(demo):
    demo.mm("mmcrfileset", "mmfs1", "data1", "--inode-space", "new")
    demo.mm("mmsetquota", "mmfs1:data1", "--block", "1T:1T")
    captured = (FIXTURES / "mmlsquota-human.txt").read_text().splitlines()
    shown = demo.mm("mmlsquota", "-j", "data1", "mmfs1").stdout.splitlines()
    assert shown[:2] == captured[:2]                                  # the titles, as captured
    assert _column_ends(shown[2])[1:] == _column_ends(captured[2])[1:]
    assert shown[2].split()[3:6] == ["1073741824", "1073741824", "0"]
    # an entry without limits (the root fileset's) says so
    root = demo.mm("mmlsquota", "-j", "root", "mmfs1").stdout.splitlines()
    assert root[:2] == captured[:2]
    assert root[2].split() == ["mmfs1", "FILESET", "no", "limits"]

    report = (FIXTURES / "mmrepquota-human.txt").read_text().splitlines()
    shown = demo.mm("mmrepquota", "mmfs1").stdout.splitlines()
    assert shown[0] == "*** Report for USR GRP FILESET  quotas on mmfs1"
    assert shown[1:3] == report[1:3]
    data1 = next(line for line in shown if line.startswith("data1 "))
    assert _column_ends(data1) == _column_ends(report[-1])
    assert data1.split()[3:5] == report[-1].split()[3:5]
    root_row = next(line for line in shown if line.startswith("root ") and "FILESET" in line)
    assert root_row.split()[3:5] == ["0", "0"]                        # zeros here, as captured


def test_mmapplypolicy_prints_timestamps_and_pool_utilization(demo):
    (demo.mp / "move.raw").write_bytes(b"m" * 200_000)
    policy = demo.root.parent / "move.pol"
    policy.write_text("RULE 'mv' MIGRATE FROM POOL 'sata1' TO POOL 'sas1' "
                      "WHERE NAME LIKE '%.raw'\n")
    out = demo.mm("mmapplypolicy", "mmfs1", "-P", str(policy), "-I", "test", "-L",
                  "2").stdout.splitlines()
    stamp = r"\[I\] \d{4}-\d\d-\d\d@\d\d:\d\d:\d\d\.\d{3} "
    for captured in (FIXTURES / "mmapplypolicy-phases.txt").read_text().splitlines():
        text = re.escape(captured.removeprefix("[I] "))
        pattern = re.sub(r"\d+", r"\\d+", text)
        timed = "Directories scan" not in captured     # the scan counts have no time stamp
        assert any(re.fullmatch((stamp if timed else r"\[I\] ") + pattern, line)
                   for line in out), (captured, out)
    current = out.index("[I] GPFS Current Data Pool Utilization in KB and %")
    predicted = out.index("Predicted Data Pool Utilization in KB and %:")
    header = "Pool_Name                   KB_Occupied        KB_Total  Percent_Occupied"
    assert out[current + 1] == out[predicted + 1] == header
    assert current < out.index(next(line for line in out if "Loaded policy rules" in line))

    def used(at: int) -> dict[str, int]:
        rows = [line.split() for line in out[at + 2:at + 5]]
        return {row[0]: int(row[1]) for row in rows}

    before, after = used(current), used(predicted)
    assert after["sas1"] - before["sas1"] == before["sata1"] - after["sata1"] >= 196
    assert after["system"] == before["system"]
    assert all(len(line) == len(header) for line in out[current + 2:current + 5])
