"""A user's failing policy function reports the user's own file, line and source line,
with the oldest and the newest cloudpickle the project allows.

cloudpickle 3.1.3 and later rename code pickled by value to ``<dynamic-code>``; the script
below runs as a user runs it (its own file, a fresh process, the demo cluster) once with
the pinned cloudpickle and once with the oldest allowed one in front of it.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent
PROJECT = Path(__file__).resolve().parents[2]
OLDEST = Path(sys.prefix) / "compat" / "cloudpickle-oldest"

SCRIPT = textwrap.dedent('''\
    import cloudpickle
    from arcapix.fs.gpfs import ListProcessingRule, ManagementPolicy, MapReduceRule

    print("cloudpickle", cloudpickle.__version__, flush=True)


    def fragile(f):
        if f.name.endswith(".txt"):
            raise RuntimeError("cannot handle " + f.name)
        return 1


    policy = ManagementPolicy()
    policy.rules.new(MapReduceRule, "fragile", fragile, reducefn=lambda a, b: a + b)
    policy.run("mmfs1")
''')


def _release(version: str) -> tuple[int, ...]:
    numbers = tuple(int(part) for part in version.split("."))
    return numbers + (0,) * (3 - len(numbers))


def _oldest_allowed() -> str:
    with open(PROJECT / "pyproject.toml", "rb") as handle:
        dependencies = tomllib.load(handle)["project"]["dependencies"]
    spec = next(d for d in dependencies if d.startswith("cloudpickle"))
    return re.search(r">=\s*([0-9.]+)", spec).group(1)


@pytest.fixture
def cluster(tmp_path):
    """A demo cluster with a text file in mmfs1, configured for fresh processes."""
    env = {**os.environ, "GPFSKIT_CONFIG": str(tmp_path / "config")}
    env.pop("PYTHONPATH", None)
    root = tmp_path / "cluster"
    subprocess.run([str(BIN / "gpfskit"), "emulator", "init", "--demo", "--root", str(root)],
                   env=env, check=True, capture_output=True, timeout=120)
    (root / "gpfs" / "mmfs1" / "notes.txt").write_text("hello\n")
    return env


@pytest.mark.parametrize("which", ["pinned", "oldest"])
def test_the_traceback_points_at_the_users_own_source(tmp_path, cluster, which):
    env = dict(cluster)
    expected_version = None
    if which == "oldest":
        if not (OLDEST / "cloudpickle").is_dir():
            pytest.skip(f"no oldest cloudpickle at {OLDEST}: `make test` installs it there")
        env["PYTHONPATH"] = str(OLDEST)
        expected_version = _oldest_allowed()
    script = tmp_path / "nightly_report.py"
    script.write_text(SCRIPT)
    result = subprocess.run([sys.executable, str(script)], env=env, capture_output=True,
                            text=True, timeout=300, check=False, cwd=tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    version = result.stdout.split()[1]
    if expected_version is not None:
        assert _release(version) == _release(expected_version)
    line = SCRIPT.splitlines().index('        raise RuntimeError("cannot handle " + f.name)') + 1
    assert f'File "{script}", line {line}, in fragile' in result.stderr, result.stderr
    assert 'raise RuntimeError("cannot handle " + f.name)' in result.stderr
    assert "RuntimeError: cannot handle notes.txt" in result.stderr
    assert "<dynamic-code>" not in result.stderr
