"""Several processes changing one emulated cluster at once: nothing is lost or mixed up."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

from gpfskit.commands import yformat

WORKER = textwrap.dedent("""
    import sys
    from gpfskit.emulator.dispatch import run_command
    root, worker, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    mount = root + "/gpfs/mmfs1"
    for i in range(count):
        name = f"w{worker}_{i}"
        for argv in (["mmcrfileset", "mmfs1", name, "--inode-space", "new"],
                     ["mmlinkfileset", "mmfs1", name, "-J", f"{mount}/{name}"],
                     ["mmsetquota", f"mmfs1:{name}", "--block", f"{i + 1}M:{i + 2}M"],
                     ["mmcrsnapshot", "mmfs1", f"{name}:s{i}"]):
            result = run_command(argv, root=root)
            if result.returncode:
                sys.exit(f"{argv}: {result.stderr}")
""")


def test_parallel_processes_lose_no_updates(emulator_root, mm):
    workers, count = 4, 12
    env = dict(os.environ)
    procs = [subprocess.Popen([sys.executable, "-c", WORKER, str(emulator_root), str(w),
                               str(count)], env=env, stderr=subprocess.PIPE, text=True)
             for w in range(workers)]
    errors = [p.communicate(timeout=120)[1] for p in procs]
    assert [p.returncode for p in procs] == [0] * workers, errors

    filesets = yformat.parse_table(mm("mmlsfileset", "mmfs1", "-Y").stdout)
    created = {r["filesetName"]: r for r in filesets if r["filesetName"] != "root"}
    assert len(created) == workers * count
    ids = [r["id"] for r in filesets]
    assert len(set(ids)) == len(ids)  # every fileset got its own id
    mount = emulator_root / "gpfs" / "mmfs1"
    for name, row in created.items():
        assert row["status"] == "Linked" and row["path"] == str(mount / name)
        assert (mount / name / ".snapshots").is_dir()

    quotas = {r["name"]: r for r in yformat.parse_table(
        mm("mmrepquota", "-j", "mmfs1", "-Y").stdout)}
    for w in range(workers):
        for i in range(count):
            assert quotas[f"w{w}_{i}"]["blockLimit"] == str((i + 2) * 1024)
    snapshots = yformat.parse_table(mm("mmlssnapshot", "mmfs1", "-Y").stdout)
    assert len({(r["fileset"], r["snapID"]) for r in snapshots}) == workers * count
    assert len({r["snapID"] for r in snapshots}) == workers * count


CHURN = textwrap.dedent("""
    import sys
    from gpfskit.emulator.dispatch import run_command
    root, worker = sys.argv[1], sys.argv[2]
    mount = root + "/gpfs/mmfs1"
    for i in range(10**6):
        name = f"k{worker}_{i}"
        for argv in (["mmcrfileset", "mmfs1", name, "--inode-space", "new", "-J",
                      f"{mount}/{name}"],
                     ["mmcrsnapshot", "mmfs1", f"{name}:s"],
                     ["mmunlinkfileset", "mmfs1", name],
                     ["mmlinkfileset", "mmfs1", name, "-J", f"{mount}/{name}"],
                     ["mmdelsnapshot", "mmfs1", f"{name}:s"],
                     ["mmunlinkfileset", "mmfs1", name],
                     ["mmdelfileset", "mmfs1", name, "-f"]):
            result = run_command(argv, root=root)
            if result.returncode:
                sys.exit(f"{argv}: {result.stderr}")
""")


def test_parallel_processes_killed_at_random_leave_a_repairable_cluster(emulator_root, mm):
    import random
    import signal
    import time

    from gpfskit.emulator import fsck, state

    rng = random.Random(10)
    (emulator_root / "gpfs" / "mmfs1" / "data.txt").write_text("x\n")
    started = 0

    def start() -> subprocess.Popen:
        nonlocal started
        started += 1
        return subprocess.Popen([sys.executable, "-c", CHURN, str(emulator_root), str(started)],
                                stderr=subprocess.PIPE, text=True)

    procs = [start() for _ in range(4)]
    time.sleep(1.5)                       # let them get going (interpreter start)
    kills, logged = 0, []
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        time.sleep(rng.uniform(0.02, 0.2))
        victim = rng.randrange(len(procs))
        procs[victim].send_signal(signal.SIGKILL)
        logged.append(procs[victim].communicate()[1])
        kills += 1
        procs[victim] = start()
    for proc in procs:
        proc.send_signal(signal.SIGKILL)
        logged.append(proc.communicate()[1])
    assert not any("Traceback" in err for err in logged), logged
    assert kills > 8
    ok = mm("mmlsfileset", "mmfs1")          # the next command settles what the kills left
    assert ok.returncode == 0, ok.stderr
    db = state.connection(emulator_root)
    assert db.execute("SELECT count(*) FROM intents").fetchone()[0] == 0
    report = fsck.check(emulator_root)
    assert report.exit_code == fsck.CLEAN, report.lines()
