"""Several emulated clusters: init, list, use, destroy, and shims that follow the choice."""

from __future__ import annotations

import json
import os
import subprocess

from tests.e2e.test_cli import BIN, cli


def _shell(command: list[str], path: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, capture_output=True, text=True, timeout=60, check=False,
                          env={**os.environ, "PATH": f"{path}:{os.environ['PATH']}"})


def _python_filesystems() -> list[str]:
    done = subprocess.run([str(BIN / "python"), "-c", "from arcapix.fs.gpfs import Cluster; "
                           "print(sorted(Cluster().filesystems))"], capture_output=True,
                          text=True, timeout=60, check=True)
    return done.stdout.strip()


def test_two_clusters_shims_and_python_follow_the_configured_one(tmp_path, _isolated_config):
    one, two = tmp_path / "one", tmp_path / "two"
    made = cli("gpfskit", "emulator", "init", "--demo", "--root", str(one))
    assert made.returncode == 0 and "It is now the configured cluster" in made.stdout
    second = cli("gpfskit", "emulator", "init", "--root", str(two))
    assert f"It is now the configured cluster (gpfskit.emulator.root in {_isolated_config}); " \
           f"it was {one}." in second.stdout
    shims = str(one / "bin")                  # made by the first init, still on PATH
    assert _shell(["mmlsfs", "all", "-T"], shims).stdout == ""      # cluster two: no fs
    assert _python_filesystems() == "[]"

    listing = cli("gpfskit", "emulator", "list").stdout.splitlines()
    assert listing == [f"  {one}  democluster: mmfs1, mmfs2",
                       f"* {two}  democluster: no file systems"]

    assert cli("gpfskit", "emulator", "use", str(one)).stdout == \
        f"{one} is now the configured cluster.\n"
    assert "mmfs1" in _shell(["mmlsfileset", "mmfs1"], shims).stdout
    assert "mmfs1" in _shell(["mmlsfileset", "mmfs1"], str(two / "bin")).stdout
    assert _python_filesystems() == "['mmfs1', 'mmfs2']"
    assert cli("gpfskit", "emulator", "list").stdout.startswith(f"* {one}")

    missing = cli("gpfskit", "emulator", "use", str(tmp_path / "none"))
    assert missing.returncode == 1 and "no emulated cluster at" in missing.stderr
    assert json.loads(cli("gpfskit", "config", "get", "gpfskit.emulator.root").stdout) == \
        str(one)


def test_shims_made_with_an_explicit_root_keep_it(tmp_path):
    one, two = tmp_path / "one", tmp_path / "two"
    cli("gpfskit", "emulator", "init", "--demo", "--root", str(one))
    line = cli("gpfskit", "emulator", "env", "--root", str(one)).stdout
    assert line.startswith(f"export PATH={one / 'bin'}:")
    cli("gpfskit", "emulator", "init", "--root", str(two))
    assert "mmfs1" in _shell(["mmlsfileset", "mmfs1"], str(one / "bin")).stdout


def test_destroy_asks_and_deletes(tmp_path):
    one, two = tmp_path / "one", tmp_path / "two"
    cli("gpfskit", "emulator", "init", "--demo", "--root", str(one))
    cli("gpfskit", "emulator", "init", "--root", str(two))
    gpfskit = str(BIN / "gpfskit")
    refused = subprocess.run([gpfskit, "emulator", "destroy", str(one)], input="n\n",
                             capture_output=True, text=True, timeout=60, check=False)
    assert refused.returncode == 1 and "Nothing deleted." in refused.stdout
    assert (one / "gpfs" / "mmfs1").is_dir()
    agreed = subprocess.run([gpfskit, "emulator", "destroy", str(one)], input="y\n",
                            capture_output=True, text=True, timeout=60, check=False)
    assert agreed.returncode == 0 and not one.exists()
    assert cli("gpfskit", "emulator", "list").stdout == f"* {two}  democluster: no file systems\n"
    done = cli("gpfskit", "emulator", "destroy", "--yes", str(two))
    assert done.returncode == 0 and "gpfskit.emulator.root is back to its default" in done.stdout
    assert not two.exists()
    again = cli("gpfskit", "emulator", "destroy", "--yes", str(two))
    assert again.returncode == 1 and "no emulated cluster at" in again.stderr
    not_a_cluster = tmp_path / "data"
    not_a_cluster.mkdir()
    (not_a_cluster / "keep.txt").write_text("x")
    assert cli("gpfskit", "emulator", "destroy", "--yes", str(not_a_cluster)).returncode == 1
    assert (not_a_cluster / "keep.txt").exists()
