"""Issue group "Objects": scripts written for the original API, run unchanged in a fresh
process against the demo cluster."""

from __future__ import annotations

import json

from gpfskit.commands import yformat


def _snapshots(demo) -> set[tuple[str, str]]:
    """(fileset, name) of every snapshot of mmfs1, as mmlssnapshot lists them."""
    listing = demo.mm("mmlssnapshot", "mmfs1", "-Y").stdout
    return {(row["fileset"], row["directory"]) for row in yformat.parse_table(listing)}


# -- 11. snapshots of the root fileset ---------------------------------------------------------

SNAPSHOT_EVERY_INDEPENDENT_FILESET = '''
import json, os
from arcapix.fs.gpfs import Cluster, GPFSExecuteException
fs = Cluster().filesystems['mmfs1']
fs.filesets.new('proj', maxInodes=10000, path=os.path.join(fs.mountPoint, 'proj'))
fs.filesets.new('loose', maxInodes=10000)                      # never linked
with open(os.path.join(fs.mountPoint, 'top.txt'), 'w') as handle:
    handle.write('top')
made, refused = [], {}
for fset in fs.filesets.independent().values():
    try:
        made.append((fset.name, fset.snapshots.new('daily').location))
    except GPFSExecuteException as exc:
        refused[fset.name] = exc.stderr.strip()
fs.snapshots.new('weekly')
root = Cluster().filesystems['mmfs1'].filesets['root']
print(json.dumps({'made': made, 'refused': refused, 'root_lists': sorted(root.snapshots),
                  'global_lists': sorted(fs.snapshots)}))
'''


def test_root_fileset_snapshots_are_global_by_default(demo):
    result = json.loads(demo.script(SNAPSHOT_EVERY_INDEPENDENT_FILESET).stdout.splitlines()[-1])
    assert result["made"] == [["root", f"{demo.mp}/.snapshots/daily"],
                              ["proj", f"{demo.mp}/proj/.snapshots/daily"]]
    assert "loose" in result["refused"] and "not linked" in result["refused"]["loose"]
    assert result["root_lists"] == result["global_lists"] == ["daily", "weekly"]
    assert _snapshots(demo) == {("", "daily"), ("proj", "daily"), ("", "weekly")}
    assert (demo.mp / ".snapshots" / "daily" / "top.txt").read_text() == "top"


ROOT_FILESET_PRAGMA = '''
import json, os, warnings
from arcapix.fs.gpfs import Cluster
from arcapix.fs.gpfs.snapshots import setRootFilesetSnapshots
fs = Cluster().filesystems['mmfs1']
fs.snapshots.new('global1')
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter('always')
    setRootFilesetSnapshots(True)
root = fs.filesets['root']
snap = root.snapshots.new('own1')
print(json.dumps({'warned': [str(w.category.__name__) for w in caught],
                  'location': snap.location, 'fileset': snap.filesetName,
                  'root_lists': sorted(root.snapshots), 'global_lists': sorted(fs.snapshots)}))
'''


def test_set_root_fileset_snapshots_makes_true_fileset_snapshots(demo):
    result = json.loads(demo.script(ROOT_FILESET_PRAGMA).stdout.splitlines()[-1])
    assert result["warned"] == ["DeprecationWarning"]
    assert result["location"] == f"{demo.mp}/.snapshots/own1"
    assert result["fileset"] == "root"
    assert result["root_lists"] == ["own1"] and result["global_lists"] == ["global1"]
    assert _snapshots(demo) == {("", "global1"), ("root", "own1")}
    assert sorted(p.name for p in (demo.mp / ".snapshots").iterdir()) == ["global1", "own1"]
