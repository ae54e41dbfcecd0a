"""Issue group "Rule collections and policies": scripts written for the original API, run
unchanged in a fresh process against the demo cluster."""

from __future__ import annotations

import json

# -- 9. a snapshot directory as the scan target ------------------------------------------------

SNAPSHOT_SCAN = '''
import json, os
from arcapix.fs.gpfs import Filesystem, ManagementPolicy, ListProcessingRule, MapReduceRule
fs = Filesystem('mmfs1')
mount = fs.mountPoint
os.makedirs(os.path.join(mount, 'testdata', 'sub'))
for name in ('a.txt', 'sub/b.txt'):
    with open(os.path.join(mount, 'testdata', name), 'w') as handle:
        handle.write(name)
fs.snapshots.new('snap1')
fset = fs.filesets.new('proj', maxInodes=10000, path=os.path.join(mount, 'proj'))
with open(os.path.join(mount, 'proj', 'c.txt'), 'w') as handle:
    handle.write('c')
fset.snapshots.new('fsnap')
os.remove(os.path.join(mount, 'testdata', 'a.txt'))       # still in the snapshot
os.remove(os.path.join(mount, 'proj', 'c.txt'))

p = ManagementPolicy()
p.rules.new(ListProcessingRule, 'files', lambda files: sorted((f.path, f.name) for f in files))
p.rules.new(MapReduceRule, 'sizes', lambda f: f.filesize)
print(json.dumps({'global': p.run(os.path.join(mount, '.snapshots', 'snap1', 'testdata')),
                  'fileset': p.run(os.path.join(mount, 'proj', '.snapshots', 'fsnap')),
                  'live': p.run(os.path.join(mount, 'testdata'))}))
'''


def test_a_snapshot_directory_is_a_scan_target(demo):
    result = json.loads(demo.script(SNAPSHOT_SCAN).stdout.splitlines()[-1])
    snap = f"{demo.mp}/.snapshots/snap1/testdata"
    assert result["global"]["files"] == [[f"{snap}/a.txt", "a.txt"],
                                         [f"{snap}/sub/b.txt", "b.txt"]]
    assert sorted(result["global"]["sizes"]) == [5, 9]
    assert result["fileset"]["files"] == [[f"{demo.mp}/proj/.snapshots/fsnap/c.txt", "c.txt"]]
    assert result["live"]["files"] == [[f"{demo.mp}/testdata/sub/b.txt", "b.txt"]]
    assert (demo.mp / ".snapshots" / "snap1" / "testdata" / "a.txt").read_text() == "a.txt"
