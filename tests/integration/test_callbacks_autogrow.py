"""Auto-grow: a softQuotaExceeded handler raises a fileset's inode limit (and its soft quota)
when the fileset fills up, found by a quota report from a shell or by the periodic check."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from gpfskit.commands import yformat
from helpers import wait_for

GPFSKIT = Path(sys.executable).with_name("gpfskit")

pytestmark = pytest.mark.usefixtures("emulator_root")


def run(*argv: str) -> str:
    done = subprocess.run(list(argv), capture_output=True, text=True, timeout=60,
                          env=dict(os.environ), check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


def max_inodes(mm) -> int:
    rows = yformat.parse_table(mm("mmlsfileset", "mmfs1", "proj", "-Y").stdout)
    return int(rows[0]["maxInodes"])


def files_soft(mm) -> int:
    rows = yformat.parse_table(mm("mmlsquota", "-j", "proj", "mmfs1", "-Y").stdout)
    return int(rows[0]["filesQuota"])


def test_soft_quota_handler_grows_the_fileset(mm, tmp_path):
    from arcapix.fs.gpfs import Cluster

    fs = Cluster().filesystems["mmfs1"]
    fset = fs.filesets.new("proj", maxInodes=100)
    fset.link(f"{fs.mountPoint}/proj")
    fset.change(filesSoftLimit=20)
    junction = Path(fs.mountPoint) / "proj"

    run(sys.executable, "-c", textwrap.dedent('''\
        from arcapix.fs.gpfs import Cluster

        def grow(fsName, filesetName, filesQuota):
            fileset = Cluster().filesystems[fsName].filesets[filesetName]
            fileset.change(maxInodes=fileset.maxInodes * 2,
                           filesSoftLimit=int(filesQuota) * 2)

        Cluster().filesystems['mmfs1'].filesets['proj'].onSoftQuotaExceeded.new(grow)
        '''))
    assert max_inodes(mm) == 100

    # Filled past the soft quota: a quota report from a shell notices.
    for i in range(25):
        (junction / f"f{i}").write_text("x")
    run(str(GPFSKIT), "mm", "mmrepquota", "-j", "mmfs1")
    assert wait_for(lambda: (max_inodes(mm), files_soft(mm)) == (200, 40), timeout=20.0)

    # Filled again: the periodic check notices.
    for i in range(25, 45):
        (junction / f"f{i}").write_text("x")
    run(sys.executable, "-m", "gpfskit.emulator.events", "check")
    assert wait_for(lambda: (max_inodes(mm), files_soft(mm)) == (400, 80), timeout=20.0)

    # Usage stays over the new soft limit: the condition fires once, not at every report.
    for i in range(45, 85):
        (junction / f"f{i}").write_text("x")
    mm("mmrepquota", "-j", "mmfs1")
    assert wait_for(lambda: (max_inodes(mm), files_soft(mm)) == (800, 160), timeout=20.0)
    mm("mmrepquota", "-j", "mmfs1")
    time.sleep(1.0)
    assert (max_inodes(mm), files_soft(mm)) == (800, 160)
