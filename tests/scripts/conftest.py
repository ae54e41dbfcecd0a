"""Scripts as administrators write them, run in a fresh process against a demo cluster.

Each test gets its own demo cluster made by ``gpfskit emulator init --demo`` with a private
``GPFSKIT_CONFIG``; ``demo.script(text)`` runs ``text`` with the venv's Python, as a user runs
a script, and ``demo.mm(...)`` runs an emulated command to check what the script did.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent


@dataclass
class Demo:
    root: Path
    env: dict[str, str]

    @property
    def mp(self) -> Path:
        """The mount point of mmfs1."""
        return self.root / "gpfs" / "mmfs1"

    def script(self, text: str, *, check: bool = True, cwd: Path | None = None,
               timeout: float = 120) -> subprocess.CompletedProcess[str]:
        """Run ``text`` (dedented) as a Python script in a fresh process."""
        path = self.root.parent / "script.py"
        path.write_text(textwrap.dedent(text))
        done = subprocess.run([sys.executable, str(path)], capture_output=True, text=True,
                              env=self.env, cwd=cwd or self.root.parent, timeout=timeout,
                              check=False)
        if check:
            assert done.returncode == 0, done.stdout + done.stderr
        return done

    def mm(self, *argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """An emulated command, run as a shell user runs it (by its real name)."""
        done = subprocess.run([str(self.root / "bin" / argv[0]), *argv[1:]], capture_output=True,
                              text=True, env=self.env, timeout=120, check=False)
        if check:
            assert done.returncode == 0, done.stdout + done.stderr
        return done


def make_demo(where: Path) -> Demo:
    """A demo cluster under ``where``/cluster, with its own configuration directory."""
    env = {**os.environ, "GPFSKIT_CONFIG": str(where / "config"),
           "PATH": f"{BIN}:{os.environ.get('PATH', '/usr/bin:/bin')}"}
    env.pop("ARCAPIX_CONFIG", None)
    root = where / "cluster"
    done = subprocess.run([str(BIN / "gpfskit"), "emulator", "init", "--demo", "--root",
                           str(root)], capture_output=True, text=True, env=env, timeout=120,
                          check=False)
    assert done.returncode == 0, done.stderr
    return Demo(root, env)


@pytest.fixture
def demo(tmp_path: Path) -> Demo:
    return make_demo(tmp_path)


@pytest.fixture
def demo_factory() -> Callable[[Path], Demo]:
    return make_demo
