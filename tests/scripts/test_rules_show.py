"""Issue group "Rules and their SHOW clause": scripts written for the original API, run
unchanged in a fresh process against the demo cluster."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

# -- 3. GetXattrs(pattern, prototype) -----------------------------------------------------

XATTR_TREE = '''
import os
from arcapix.fs.gpfs import Filesystem
mount = Filesystem('mmfs1').mountPoint
os.makedirs(os.path.join(mount, 'tagged'), exist_ok=True)
def make(name, **attrs):
    path = os.path.join(mount, 'tagged', name)
    with open(path, 'w') as handle:
        handle.write(name)
    for key, value in attrs.items():
        os.setxattr(path, 'user.' + key, value.encode())
    return path
make('red.txt', colour='red', owner='ann')
make('blue.txt', colour='blue')
make('plain.txt')
'''


def test_getxattrs_follows_the_prototype(demo):
    done = demo.script(XATTR_TREE + '''
import json
import os
from arcapix.fs.gpfs import ManagementPolicy, ListProcessingRule
show = ("'names=' || GetXattrs('*', 'key') || ' commas=' || GetXattrs('', 'key,')"
        " || ' pairs=' || GetXattrs() || ' users=' || GetXattrs('user.c*', 'key=value,')")
p = ManagementPolicy()
p.rules.new(ListProcessingRule, 'tags',
            lambda files: {f.name: [f.names, f.commas, f.pairs, f.users] for f in files},
            show=show).criteria.new("PATH_NAME LIKE '%/tagged/%'")
p.rules.new(ListProcessingRule, 'having_colour', lambda files: sorted(f.name for f in files)
            ).criteria.new("GetXattrs('user.*', 'key') LIKE '%user.colour%'")
print(json.dumps(p.run('mmfs1')))
''')
    result = json.loads(done.stdout.splitlines()[-1])
    assert result["tags"] == {
        "red.txt": ["user.colour user.owner", "user.colour,user.owner",
                    "user.colour=726564,user.owner=616E6E", "user.colour=red"],
        "blue.txt": ["user.colour", "user.colour", "user.colour=626C7565", "user.colour=blue"],
        "plain.txt": ["", "", "", ""],   # an empty string, not NULL
    }
    assert result["having_colour"] == ["blue.txt", "red.txt"]


def test_getxattrs_text_in_the_list_file(demo):
    """The policy engine's own output, as an EXTERNAL LIST script would read it."""
    demo.script(XATTR_TREE)
    policy = demo.root.parent / "show.pol"
    policy.write_text("RULE EXTERNAL LIST 'x' EXEC ''\n"
                      "RULE 'l' LIST 'x' SHOW('[' || GetXattrs('*', 'key') || ']'"
                      " || GetXattrs('user.colour')) WHERE PATH_NAME LIKE '%/tagged/%'\n")
    prefix = demo.root.parent / "out"
    demo.mm("mmapplypolicy", str(demo.mp), "-P", str(policy), "-I", "defer", "-f", str(prefix))
    lines = (demo.root.parent / "out.list.x").read_text().splitlines()
    shown = {line.rsplit("/", 1)[1]: line.split("  ", 1)[1].split(" -- ")[0] for line in lines}
    assert shown == {"red.txt": "[user.colour user.owner]user.colour=726564",
                     "blue.txt": "[user.colour]user.colour=626C7565",
                     "plain.txt": "[]"}


# -- 4. XATTR() and GetXattrs() see the attributes, on the file systems users run on -----------

XATTR_DELETE = '''
import json, os
from arcapix.fs.gpfs import Filesystem, ManagementPolicy, ListProcessingRule, DeleteRule
mount = Filesystem('mmfs1').mountPoint
work = os.path.join(mount, 'work')
os.makedirs(work)
for name in ('keep.dat', 'drop.dat', 'red.dat'):
    with open(os.path.join(work, name), 'w') as handle:
        handle.write(name)
os.setxattr(os.path.join(work, 'drop.dat'), 'user.x', b'1')
os.setxattr(os.path.join(work, 'red.dat'), 'user.colour', b'red')

p = ManagementPolicy()
p.rules.new(ListProcessingRule, 'red', lambda files: [(f.name, f.colour) for f in files],
            show="'colour=' || XATTR('user.colour')").criteria.new(
                "XATTR('user.colour') = 'red'")
p.rules.new(ListProcessingRule, 'tagged', lambda files: sorted(f.name for f in files)
            ).criteria.new("GetXattrs('*', 'key') <> ''")
listed = p.run(work)

d = ManagementPolicy()
d.rules.new(DeleteRule).criteria.new("xattr('user.x') IS NOT NULL")
d.run(work)
print(json.dumps({**listed, 'left': sorted(os.listdir(work))}))
'''


def _xattr_script_on(demo):
    result = json.loads(demo.script(XATTR_DELETE).stdout.splitlines()[-1])
    assert result == {"red": [["red.dat", "red"]], "tagged": ["drop.dat", "red.dat"],
                      "left": ["keep.dat", "red.dat"]}
    assert sorted(os.listdir(demo.mp / "work")) == ["keep.dat", "red.dat"]


def test_xattrs_on_the_tmp_dir(demo):
    _xattr_script_on(demo)


def _supports_user_xattrs(directory: Path) -> bool:
    probe = directory / ".xattr-probe"
    try:
        probe.write_bytes(b"")
        os.setxattr(probe, "user.probe", b"1")
        return True
    except OSError:
        return False
    finally:
        probe.unlink(missing_ok=True)


def test_xattrs_on_tmpfs(demo_factory):
    shm = Path("/dev/shm")
    if not shm.is_dir():
        pytest.skip("no tmpfs at /dev/shm on this machine")
    if not _supports_user_xattrs(shm):
        pytest.skip("this kernel's tmpfs has no user.* extended attributes")
    where = Path(os.path.join(shm, f"gpfskit-test-{os.getpid()}-{id(demo_factory)}"))
    where.mkdir()
    try:
        _xattr_script_on(demo_factory(where))
    finally:
        shutil.rmtree(where, ignore_errors=True)


@pytest.fixture(params=["ext4", "xfs"])
def loop_mounted(request, tmp_path):
    """A small file system of the given type, loop-mounted under tmp_path."""
    kind = request.param
    mkfs = shutil.which(f"mkfs.{kind}")
    if mkfs is None:
        pytest.skip(f"mkfs.{kind} is not installed")
    if os.geteuid() != 0:
        pytest.skip(f"loop-mounting a {kind} image needs root")
    if not Path("/dev/loop-control").exists():
        pytest.skip("no loop devices (/dev/loop-control) on this machine")
    image, mount = tmp_path / f"{kind}.img", tmp_path / kind
    with open(image, "wb") as handle:
        handle.truncate(320 << 20 if kind == "xfs" else 32 << 20)  # xfs' smallest size
    made = subprocess.run([mkfs, "-q", str(image)], capture_output=True, text=True, check=False)
    if made.returncode != 0:
        pytest.skip(f"mkfs.{kind} failed: {made.stderr.strip()}")
    mount.mkdir()
    mounted = subprocess.run(["mount", "-o", "loop", str(image), str(mount)],
                             capture_output=True, text=True, check=False)
    if mounted.returncode != 0:
        pytest.skip(f"cannot loop-mount a {kind} image: {mounted.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_xattrs_on_loop_mounted_file_systems(demo_factory, loop_mounted):
    _xattr_script_on(demo_factory(loop_mounted))


# -- 5. sort= takes any SQL expression ---------------------------------------------------------

SORTED = '''
import json, os, time
from arcapix.fs.gpfs import Filesystem, ManagementPolicy, ListProcessingRule, MapReduceRule
mount = Filesystem('mmfs1').mountPoint
top = os.path.join(mount, 'ages')
now = time.time()
for days, relative in ((5, 'a/b/c/five'), (1, 'one'), (30, 'a/thirty'), (10, 'a/b/ten')):
    path = os.path.join(top, relative)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'w') as handle:
        handle.write(relative)
    os.utime(path, (now - days * 86400, now - days * 86400))

p = ManagementPolicy()
names = lambda files: [f.name for f in files]
p.rules.new(ListProcessingRule, 'by_age', names, sort="current_timestamp - modification_time")
p.rules.new(ListProcessingRule, 'by_dir', names, sort='DIRECTORY_HASH')
p.rules.new(ListProcessingRule, 'by_age_fast', names,
            sort='CURRENT_TIMESTAMP - MODIFICATION_TIME').show_performance()
p.rules.new(MapReduceRule, 'mapped', lambda f: f.name,
            sort="-(current_timestamp - modification_time)")
result = p.run(top)
try:
    ListProcessingRule('bad', names, sort='FILE_SIZE +')
except ValueError as exc:
    result['error'] = str(exc)
print(json.dumps(result))
'''


def test_sort_takes_any_sql_expression(demo):
    result = json.loads(demo.script(SORTED).stdout.splitlines()[-1])
    assert result["by_age"] == ["one", "five", "ten", "thirty"]
    assert result["by_age_fast"] == ["one", "five", "ten", "thirty"]
    assert result["by_dir"] == ["one", "thirty", "ten", "five"]   # deeper directories later
    assert result["mapped"] == ["thirty", "ten", "five", "one"]
    assert "sort='FILE_SIZE +' is neither an attribute nor an SQL expression" in \
        result["error"]


# -- 1. show_attributes / show_performance on the class and on a rule --------------------------
# -- 2. a raw SHOW expression: its key=value pairs become attributes; setxattr really sets -----

SHOW_FORMS = '''
import json, os
from arcapix.fs.gpfs import Filesystem, ManagementPolicy, ListProcessingRule, MapReduceRule
mount = Filesystem('mmfs1').mountPoint
os.makedirs(os.path.join(mount, 'shown'))
for name in ('a.txt', 'b.txt'):
    with open(os.path.join(mount, 'shown', name), 'w') as handle:
        handle.write(name * 10)
p = ManagementPolicy()
sizes = p.rules.new(ListProcessingRule, 'sizes', lambda files: sorted(f.filesize for f in files),
                    show=ListProcessingRule.show_attributes('FILE_SIZE'))
fast = p.rules.new(MapReduceRule, 'fast', lambda f: f.name)
fast.change(show=fast.show_performance())
tagged = p.rules.new(MapReduceRule, 'tagged', lambda f: [(f.name, f.path, f.xattrset)])
tagged.change(show="'path=' || varchar(PATH_NAME) || ' xattrset=' || "
                   "varchar(setxattr('user.foo', 'bar'))")
listed = p.rules.new(ListProcessingRule, 'listed', lambda files: sorted(f.xattrs for f in files))
listed.change(show="('xattrs=' || GetXattrs('*', 'key'))")
result = p.run(os.path.join(mount, 'shown'))
print(json.dumps({'result': result, 'fast_text': str(fast), 'class_value':
                  list(MapReduceRule.show_performance())}))
'''


def test_show_helpers_and_raw_show_expressions(demo):
    done = json.loads(demo.script(SHOW_FORMS).stdout.splitlines()[-1])
    result = done["result"]
    shown = demo.mp / "shown"
    assert result["sizes"] == [50, 50]
    assert sorted(result["fast"]) == ["a.txt", "b.txt"]
    assert "SHOW" not in done["fast_text"] and done["class_value"] == []
    assert sorted(map(tuple, result["tagged"])) == [
        ("a.txt", f"{shown}/a.txt", "TRUE"), ("b.txt", f"{shown}/b.txt", "TRUE")]
    for name in ("a.txt", "b.txt"):
        assert os.getxattr(shown / name, "user.foo") == b"bar"     # SHOW's setxattr ran
    assert result["listed"] == ["user.foo", "user.foo"]
