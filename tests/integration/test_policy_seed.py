"""The ListProcessingRule example of the Python API introduction, as written, on the demo
cluster: the per-user file counts it prints are the true counts of the files created."""

from __future__ import annotations

import os
import stat
from collections import Counter

from gpfskit.api import Filesystem

OWNERS = [1000, 1000, 1000, 1001, 1001, 2000, 0, 1000, 1001, 1000, 2000, 4242]


def true_counts(root: str) -> dict[int, int]:
    counts: Counter[int] = Counter()
    for directory, _dirs, files in os.walk(root):
        for name in files:
            st = os.lstat(os.path.join(directory, name))
            if stat.S_ISREG(st.st_mode):
                counts[st.st_uid] += 1
    return dict(counts)


def test_list_files_per_user(emulator_root, capsys):
    mount = Filesystem("mmfs1").mountPoint
    for number, uid in enumerate(OWNERS):
        directory = os.path.join(mount, f"project{number % 3}", "data")
        os.makedirs(directory, exist_ok=True)
        path = os.path.join(directory, f"file {number}.dat")
        with open(path, "w") as handle:
            handle.write("x" * number)
        os.chown(path, uid, 100 + number % 2)
    os.symlink("project0", os.path.join(mount, "link"))  # not a regular file: not listed
    expected = true_counts(mount)
    assert sum(expected.values()) == len(OWNERS)

    from arcapix.fs.gpfs.policy import ManagementPolicy
    from arcapix.fs.gpfs.rule import ListProcessingRule

    def listFilesPerUser(files):
        result = {}
        for file in files:
            result[file.userid] = result.pop(file.userid, 0) + 1
        return result

    p = ManagementPolicy()
    p.rules.new(ListProcessingRule, 'user_counts', listFilesPerUser)
    print(p.run('mmfs1')['user_counts'])

    printed = capsys.readouterr().out
    counts = p.run('mmfs1')['user_counts']
    assert counts == expected
    assert printed == f"{counts}\n"
    assert not os.path.exists(os.path.join(mount, ".policytmp"))  # work files cleaned up
