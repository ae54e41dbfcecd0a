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
