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
    except (GPFSExecuteException, ValueError) as exc:     # refused before it runs
        refused[fset.name] = str(exc)
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


def _filesets(demo) -> dict[str, dict[str, str]]:
    listing = demo.mm("mmlsfileset", "mmfs1", "-Y").stdout
    return {row["filesetName"]: row for row in yformat.parse_table(listing)}


# -- 12. fileset comments, counts from configuration files, _inodeSpace -----------------------

FILESETS_FROM_A_CONFIG_FILE = '''
import configparser, json, uuid
from arcapix.fs.gpfs import Cluster, DependentFileset, IndependentFileset
cfg = configparser.ConfigParser()
cfg.read_string("[gizmo]\\nmaxInodes = 100000\\nallocInodes = 1024\\n")
fs = Cluster().filesystems['mmfs1']
tag = uuid.uuid4()
fs.filesets.new('tagged', comment=tag)
fs.filesets.new('counted', maxInodes=cfg['gizmo']['maxInodes'],
                allocInodes=cfg['gizmo']['allocInodes'])
IndependentFileset('mmfs1', 'Gizmo', tag, maxInodes=cfg['gizmo']['maxInodes'],
                   allocInodes=cfg['gizmo']['allocInodes']).create()
widget = DependentFileset('mmfs1', 'widget', tag)
widget._inodeSpace = 'Gizmo'
widget.create()
bolt = DependentFileset('mmfs1', 'bolt')
bolt._inodeSpace = Cluster().filesystems['mmfs1'].filesets['Gizmo']
bolt.create()
nut = DependentFileset('mmfs1', 'nut', 42)
nut._inodeSpace = 'root'
nut.create()
errors = {}
for label, make in (
        ('long', lambda: fs.filesets.new('long', comment='x' * 256)),
        ('words', lambda: fs.filesets.new('words', maxInodes='lots')),
        ('alloc', lambda: IndependentFileset('mmfs1', 'alloc', maxInodes=1000,
                                             allocInodes='1k').create())):
    try:
        make()
    except ValueError as exc:
        errors[label] = str(exc)
print(json.dumps({'tag': str(tag), 'errors': errors}))
'''


def test_fileset_comments_and_counts_as_scripts_pass_them(demo):
    result = json.loads(demo.script(FILESETS_FROM_A_CONFIG_FILE).stdout.splitlines()[-1])
    rows = _filesets(demo)
    assert rows["tagged"]["comment"] == rows["Gizmo"]["comment"] == \
        rows["widget"]["comment"] == result["tag"]
    assert rows["nut"]["comment"] == "42" and rows["bolt"]["comment"] == ""
    for name in ("counted", "Gizmo"):
        assert (rows[name]["maxInodes"], rows[name]["allocInodes"]) == ("100000", "1024")
        assert rows[name]["isInodeSpaceOwner"] == "1"
    gizmo_space = rows["Gizmo"]["inodeSpace"]
    assert gizmo_space != "0"
    assert rows["widget"]["inodeSpace"] == rows["bolt"]["inodeSpace"] == gizmo_space
    assert rows["nut"]["inodeSpace"] == "0"
    assert result["errors"] == {
        "long": "comment is 256 characters long; at most 255 allowed",
        "words": "maxInodes must be a whole number, not 'lots'",
        "alloc": "allocInodes must be a whole number, not '1k'"}
    assert not {"long", "words", "alloc"} & set(rows)


# -- 13. link() with a relative junction path ---------------------------------------------------

RELATIVE_LINK = '''
import os
from arcapix.fs.gpfs import Cluster
fs = Cluster().filesystems['mmfs1']
os.makedirs(os.path.join(fs.mountPoint, 'projects', 'sub'))
os.chdir(os.path.join(fs.mountPoint, 'projects'))
fs.filesets.new('alpha', maxInodes=1000).link('alpha')
fs.filesets.new('beta').link('./sub/../beta')
fs.filesets.new('gamma', path='gamma')
print(fs.filesets['alpha'].path, fs.filesets['beta'].path, fs.filesets['gamma'].path)
'''


def test_link_resolves_a_relative_junction_against_the_current_directory(demo):
    done = demo.script(RELATIVE_LINK)
    projects = demo.mp / "projects"
    assert done.stdout.split() == [str(projects / n) for n in ("alpha", "beta", "gamma")]
    rows = _filesets(demo)
    for name in ("alpha", "beta", "gamma"):
        assert rows[name]["status"] == "Linked"
        assert rows[name]["path"] == str(projects / name)
        assert (projects / name).is_dir()
