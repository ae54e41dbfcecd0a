"""Issue group "The emulator's behaviour and output": what scripts and shell users see of the
emulated commands, run in fresh processes against the demo cluster."""

from __future__ import annotations

import json

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
