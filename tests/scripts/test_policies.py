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


# -- 6. the criteria collection offers the builders; like('path') matches the whole path ------
# -- 8. MapReduceRule(name, mapfn, reducefn); without reducefn mapped lists are concatenated ---

MAP_REDUCE_AND_BUILDERS = '''
import json, operator, os
from arcapix.fs.gpfs import Filesystem, ManagementPolicy, MapReduceRule
mount = Filesystem('mmfs1').mountPoint
for rel in ('somedir/a.txt', 'somedir/sub/b.txt', 'other/c.txt'):
    path = os.path.join(mount, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'w') as handle:
        handle.write(rel)
p = ManagementPolicy()
names = p.rules.new(MapReduceRule, 'names', lambda f: {f.name}, operator.ior)
names.criteria.new(names.criteria.like('path', os.path.join(mount, 'somedir', '*')))
triples = p.rules.new(MapReduceRule, 'triples', lambda f: [(f.name, f.path, 'x')], output=set)
triples.criteria.new(triples.criteria.like('name', '*.txt'))
result = p.run('mmfs1')
print(json.dumps({'names': sorted(result['names']),
                  'triples': sorted(map(list, result['triples'])),
                  'type': type(result['triples']).__name__}))
'''


def test_map_reduce_positional_and_criteria_builders(demo):
    result = json.loads(demo.script(MAP_REDUCE_AND_BUILDERS).stdout.splitlines()[-1])
    assert result["names"] == ["a.txt", "b.txt"]             # the whole path, * wildcard
    assert result["type"] == "set"
    assert result["triples"] == sorted([
        ["a.txt", f"{demo.mp}/somedir/a.txt", "x"], ["b.txt", f"{demo.mp}/somedir/sub/b.txt", "x"],
        ["c.txt", f"{demo.mp}/other/c.txt", "x"]])


# -- 7. ManagementPolicy(path).save() writes back there, every rule in order -------------------

SAVE_BACK = '''
import sys
from arcapix.fs.gpfs import ManagementPolicy, ExcludeRule, Criteria
p = ManagementPolicy('example.pol')
p.rules['old'].change(target='sas1')
excl = ExcludeRule(name='excl-bak')
excl.criteria.new(Criteria.like('name', '*.bak'))
p.rules.insert(excl, 1)
p.save()
'''


def test_a_policy_read_from_a_file_saves_back_to_it(demo):
    policy = demo.root.parent / "example.pol"
    policy.write_text("RULE 'old' MIGRATE FROM POOL 'system' TO POOL 'sata1'\n"
                      "RULE 'gone' DELETE WHERE NAME LIKE '%.tmp'\n")
    demo.script(SAVE_BACK)
    text = policy.read_text()
    assert [line.split("'")[1] for line in text.splitlines() if line.startswith("RULE")] == \
        ["old", "excl-bak", "gone"]
    assert "TO POOL 'sas1'" in text and "NAME LIKE '%.bak'" in text
    demo.mm("mmchpolicy", "mmfs1", str(policy), "-I", "test")      # the cluster takes it


# -- 10. a MigrateRule without a target: built, inserted, printed; refused before it runs ------

MIGRATE_WITHOUT_TARGET = '''
import json
from arcapix.fs.gpfs import Filesystem
from arcapix.fs.gpfs.policy import PlacementPolicy
from arcapix.fs.gpfs.rule import MigrateRule
from arcapix.fs.gpfs.execute import setDryRun, getCmdCache
policy = PlacementPolicy('mmfs1')
rule = MigrateRule(source='sata1', threshold=(90, 50), name='drain')
policy.rules.insert(rule, 0)
printed = str(rule)
errors = []
for action in (policy.validate, policy.save):
    try:
        action()
    except Exception as exc:
        errors.append(f'{type(exc).__name__}: {exc}')
setDryRun(True)
try:
    policy.save()
except Exception:
    pass
print(json.dumps({'printed': printed, 'errors': errors, 'recorded': getCmdCache()}))
'''


def test_a_migrate_rule_without_target_is_refused_before_anything_runs(demo):
    before = demo.mm("mmlspolicy", "mmfs1", "-L").stdout
    result = json.loads(demo.script(MIGRATE_WITHOUT_TARGET).stdout.splitlines()[-1])
    assert result["printed"] == "RULE 'drain' MIGRATE FROM POOL 'sata1' THRESHOLD(90, 50)"
    assert len(result["errors"]) == 2 and result["errors"][0] == result["errors"][1]
    assert result["errors"][0].startswith("PolicyError: rule 'drain' (RULE 'drain' MIGRATE")
    assert "has no target pool" in result["errors"][0] and "TO POOL" in result["errors"][0]
    assert result["recorded"] == []
    assert demo.mm("mmlspolicy", "mmfs1", "-L").stdout == before
