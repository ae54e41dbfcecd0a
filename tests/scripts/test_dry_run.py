"""Dry run as scripts use it (issue 11 point 14 and the dry run that cannot be escaped by
accident): process-wide, as a block and a decorator, and recording only commands that would
succeed. Each script runs in a fresh process against the demo cluster."""

from __future__ import annotations

import json

from gpfskit.commands import yformat


def _filesets(demo) -> dict[str, dict[str, str]]:
    listing = demo.mm("mmlsfileset", "mmfs1", "-Y").stdout
    return {row["filesetName"]: row for row in yformat.parse_table(listing)}


def _snapshots(demo) -> set[str]:
    listing = demo.mm("mmlssnapshot", "mmfs1", "-Y").stdout
    return {row["directory"] for row in yformat.parse_table(listing)}


THREADS_AND_SUBPROCESSES = '''
import json, subprocess, sys
from concurrent.futures import ThreadPoolExecutor
from arcapix.fs.gpfs import Cluster
from arcapix.fs.gpfs.execute import setDryRun, getCmdCache
fs = Cluster().filesystems['mmfs1']
setDryRun(True)
with ThreadPoolExecutor(4) as pool:
    list(pool.map(lambda n: fs.filesets.new(f'thread{n}'), range(4)))
helper = "from arcapix.fs.gpfs import Filesystem; Filesystem('mmfs1').snapshots.new('fromchild')"
subprocess.run([sys.executable, '-c', helper], check=True)
print(json.dumps(sorted(getCmdCache())))
'''


def test_dry_run_holds_in_every_thread_and_subprocess(demo):
    before = _filesets(demo)
    recorded = json.loads(demo.script(THREADS_AND_SUBPROCESSES).stdout.splitlines()[-1])
    assert recorded == sorted([f"mmcrfileset mmfs1 thread{n}" for n in range(4)] +
                              ["mmcrsnapshot mmfs1 fromchild"])
    assert _filesets(demo) == before and _snapshots(demo) == set()


BLOCK_AND_DECORATOR = '''
import json
from arcapix.fs.gpfs import Cluster
from arcapix.fs.gpfs.execute import dry_run, getCmdCache, getDryRun
fs = Cluster().filesystems['mmfs1']
seen = {}
with dry_run() as commands:
    fs.snapshots.new('planned')
    seen['inside'] = getDryRun()
seen['block'] = list(commands)
seen['after_block'] = getDryRun()
try:
    with dry_run():
        fs.filesets.new('doomed')
        raise RuntimeError('boom')
except RuntimeError:
    seen['after_exception'] = getDryRun()

@dry_run
def plan():
    fs.filesets.new('planned_fs')
    return getDryRun()

@dry_run()
def plan_too():
    fs.snapshots.new('planned_too')

seen['in_function'] = plan()
plan_too()
seen['cache'] = getCmdCache()
seen['after_function'] = getDryRun()
fs.snapshots.new('real')                      # for real again
print(json.dumps(seen))
'''


def test_dry_run_as_a_block_and_a_decorator(demo):
    seen = json.loads(demo.script(BLOCK_AND_DECORATOR).stdout.splitlines()[-1])
    assert seen == {"inside": True, "block": ["mmcrsnapshot mmfs1 planned"],
                    "after_block": False, "after_exception": False, "in_function": True,
                    "cache": ["mmcrsnapshot mmfs1 planned_too"], "after_function": False}
    assert _snapshots(demo) == {"real"}
    assert not {"doomed", "planned_fs"} & set(_filesets(demo))


THREAD_OVERRIDE = '''
import json, threading
from arcapix.fs.gpfs import Cluster
from arcapix.fs.gpfs.execute import dry_run, getCmdCache, setDryRun
fs = Cluster().filesystems['mmfs1']
mine = {}
def request():
    with dry_run(thread_only=True) as commands:
        Cluster().filesystems['mmfs1'].snapshots.new('only_recorded')
    mine['commands'] = commands
worker = threading.Thread(target=request)
worker.start(); worker.join()
fs.snapshots.new('ran_meanwhile')
setDryRun(True)
with dry_run(False, thread_only=True):
    Cluster().filesystems['mmfs1'].snapshots.new('forced_real')
Cluster().filesystems['mmfs1'].snapshots.new('recorded')
print(json.dumps({'thread': mine['commands'], 'process': getCmdCache()}))
'''


def test_a_thread_can_override_the_process_wide_mode(demo):
    result = json.loads(demo.script(THREAD_OVERRIDE).stdout.splitlines()[-1])
    assert result == {"thread": ["mmcrsnapshot mmfs1 only_recorded"],
                      "process": ["mmcrsnapshot mmfs1 recorded"]}
    assert _snapshots(demo) == {"ran_meanwhile", "forced_real"}


REFUSED_AS_THE_REAL_RUN_WOULD = '''
import json, os, sys
from arcapix.fs.gpfs import Cluster, GPFSExecuteException
from arcapix.fs.gpfs.execute import setDryRun, getCmdCache
fs = Cluster().filesystems['mmfs1']
fs.filesets.new('base', path=os.path.join(fs.mountPoint, 'base'), filesSoftLimit=10,
                filesHardLimit=20)
setDryRun(sys.argv[1] == 'dry')

def attempt(action):
    try:
        action()
        return None
    except GPFSExecuteException as exc:        # what the real command says
        return f'{exc.returncode}: {exc.stderr.strip()}'

fs = Cluster().filesystems['mmfs1']
errors = [attempt(lambda: fs.filesets['base'].quotas.fileset['base'].change(filesSoftLimit=50))]
new = fs.filesets.new('proj', maxInodes=1000)
new.link(os.path.join(fs.mountPoint, 'proj'))
new.snapshots.new('ok')                     # linked, as the dry run changed it
new.unlink()
errors.append(attempt(lambda: new.snapshots.new('later')))
errors.append(attempt(lambda: fs.filesets['base'].delete()))
errors.append(attempt(lambda: fs.filesets.new('twin', path=os.path.join(fs.mountPoint, 'base'))))
errors.append(attempt(lambda: fs.filesets.new('deep', path=os.path.join(fs.mountPoint, 'x/y'))))
print(json.dumps({'errors': errors, 'cache': getCmdCache()}))
'''


def test_dry_run_refuses_what_the_real_run_would_refuse(demo, demo_factory, tmp_path):
    real_demo = demo_factory(tmp_path / "real")
    dry = json.loads(demo.script(REFUSED_AS_THE_REAL_RUN_WOULD.replace("sys.argv[1]", "'dry'"))
                     .stdout.splitlines()[-1])
    real = json.loads(real_demo.script(REFUSED_AS_THE_REAL_RUN_WOULD.replace(
        "sys.argv[1]", "'real'")).stdout.splitlines()[-1])
    shown = [e.replace(str(demo.mp), "MP") for e in dry["errors"]]
    assert shown == [e.replace(str(real_demo.mp), "MP") for e in real["errors"]]
    assert shown == [
        "22: mmsetquota: The soft limit (50) is greater than the hard limit (20) for --files.",
        "1: mmcrsnapshot: Fileset proj is not linked; a snapshot of an unlinked fileset "
        "cannot be created.",
        "1: mmdelfileset: Fileset base is linked; unlink it before deleting it.",
        "17: mmlinkfileset: Junction path MP/base already exists.",
        "2: mmlinkfileset: Directory MP/x does not exist.",
    ]
    assert dry["cache"] == [
        "mmcrfileset mmfs1 proj --inode-space new --inode-limit 1000",
        f"mmlinkfileset mmfs1 proj -J {demo.mp}/proj",
        "mmcrsnapshot mmfs1 ok -j proj",
        "mmunlinkfileset mmfs1 proj"]
    assert "proj" not in _filesets(demo) and _snapshots(demo) == set()
    quota = demo.mm("mmlsquota", "-j", "base", "-Y", "mmfs1").stdout
    assert [(r["filesQuota"], r["filesLimit"]) for r in yformat.parse_table(quota)] == \
        [("10", "20")]
    assert _filesets(real_demo)["proj"]["status"] == "Unlinked"
    assert _snapshots(real_demo) == {"ok"}
