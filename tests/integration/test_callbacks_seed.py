"""The introduction's event handler example, as written: the handler is added in one Python
process that then ends, and a later unmount and mount run from a shell call it."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from helpers import wait_for

GPFSKIT = Path(sys.executable).with_name("gpfskit")

pytestmark = pytest.mark.usefixtures("emulator_root")


def shell(*argv: str) -> subprocess.CompletedProcess[str]:
    """One command from a shell, in the test's environment (its GPFSKIT_CONFIG)."""
    done = subprocess.run([str(GPFSKIT), *argv], capture_output=True, text=True, timeout=60,
                          env=dict(os.environ), check=False)
    assert done.returncode == 0, done.stderr
    return done


def python(code: str, cwd: Path | None = None) -> None:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, env=dict(os.environ), cwd=cwd, check=False)
    assert done.returncode == 0, done.stderr


def test_onmount_example_as_written(tmp_path, mm):
    logfile = tmp_path / "logfile"
    python(textwrap.dedent(f'''\
        from arcapix.fs.gpfs import Cluster

        def handler():
            with open("{logfile}", "a") as f:
               f.write("Filesystem mounted")


        Cluster().filesystems['mmfs1'].onMount.new(handler)
        '''))
    assert not logfile.exists()

    shell("mm", "mmumount", "mmfs1")
    shell("mm", "mmmount", "mmfs1")
    assert wait_for(lambda: logfile.exists() and logfile.read_text()) == "Filesystem mounted"

    # Another file system's mount does not call it.
    assert mm("mmumount", "mmfs2").returncode == 0
    assert mm("mmmount", "mmfs2").returncode == 0
    assert "event         = mount" in mm("mmlscallback").stdout
    time.sleep(0.5)
    assert logfile.read_text() == "Filesystem mounted"


def test_handler_from_a_module_that_is_gone_later(tmp_path):
    """A handler defined in a script's own module keeps working after the module is
    deleted: it was stored with its code."""
    logfile = tmp_path / "logfile"
    module_dir = tmp_path / "scripts"
    module_dir.mkdir()
    (module_dir / "handlers.py").write_text(textwrap.dedent(f'''\
        def handler():
            with open("{logfile}", "a") as f:
               f.write("Filesystem mounted")
        '''))
    python("from handlers import handler\n"
           "from arcapix.fs.gpfs import Cluster\n"
           "Cluster().filesystems['mmfs1'].onMount.new(handler)\n", cwd=module_dir)
    (module_dir / "handlers.py").unlink()

    shell("mm", "mmumount", "mmfs1")
    shell("mm", "mmmount", "mmfs1")
    assert wait_for(lambda: logfile.exists() and logfile.read_text()) == "Filesystem mounted"
