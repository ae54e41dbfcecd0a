"""The README's Python examples, extracted from README.md itself and run as written: each
block in a new process against a new demo cluster, twice in a row (they must be idempotent)."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[2] / "README.md"


def python_blocks() -> list[str]:
    return re.findall(r"^```python\n(.*?)^```", README.read_text(), re.M | re.S)


def run(argv: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, env=env, timeout=120)


@pytest.fixture
def demo_env(tmp_path: Path) -> dict[str, str]:
    """A fresh demo cluster made by the CLI, as a new user makes it."""
    env = {**os.environ, "GPFSKIT_CONFIG": str(tmp_path / "config")}
    gpfskit = Path(sys.executable).with_name("gpfskit")
    done = run([str(gpfskit), "emulator", "init", "--demo", "--root", str(tmp_path / "c")], env)
    assert done.returncode == 0, done.stderr
    return env


def mm(env: dict[str, str], *argv: str) -> str:
    done = run([sys.executable, "-m", "gpfskit.cli.mm", *argv], env)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_readme_has_the_examples_this_test_checks():
    blocks = python_blocks()
    assert len(blocks) == 2
    assert "filesets.new('projects'" in blocks[0] and "MapReduceRule" in blocks[1]


def test_every_python_block_runs_twice_in_new_processes(demo_env):
    blocks = python_blocks()
    outputs = []
    for _ in range(2):
        for block in blocks:
            done = run([sys.executable, "-c", block], demo_env)
            assert done.returncode == 0, done.stderr
            assert "Traceback" not in done.stderr
            outputs.append(done.stdout.splitlines())
    first, second, first_again, second_again = outputs
    for lines in (first, first_again):
        assert lines[0] == "mmfs1,mmfs2"
        assert lines[-1] == "['mmdelsnapshot mmfs1 nightly -j projects']"
    # The map-reduce sums the demo tree's file sizes per user: something, and the same twice.
    for lines in (second, second_again):
        totals = ast.literal_eval(lines[0])
        assert totals and sum(totals.values()) >= 6_656_000
    assert second == second_again
    # Nothing doubled: one projects fileset, one nightly snapshot, one handler.
    filesets = [line.split(":")[7] for line in mm(demo_env, "mmlsfileset", "mmfs1", "-Y")
                .splitlines()[1:]]
    assert sorted(filesets) == ["projects", "root"]
    snapshots = [line for line in mm(demo_env, "mmlssnapshot", "mmfs1", "-Y").splitlines()[1:]]
    assert len(snapshots) == 1 and ":nightly:" in snapshots[0]
    callbacks = mm(demo_env, "mmlscallback", "-Y").splitlines()[1:]
    assert len(callbacks) == 1
    assert ":grow_inodes:" in callbacks[0] and "filesetLimitExceeded" in callbacks[0]
