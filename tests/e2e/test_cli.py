"""The command-line tools as a user runs them: real processes, real exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent


def cli(*argv: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / argv[0]), *argv[1:]], capture_output=True, text=True,
                          env=env or dict(os.environ), timeout=120, check=False)


def test_help_explains():
    result = cli("gpfskit", "--help")
    assert result.returncode == 0
    for word in ("config", "emulator", "mm", "tour"):
        assert word in result.stdout


def test_config_get_set_list_unset(_isolated_config):
    assert cli("gpfskit", "config", "set", "gpfskit.commands.timeout", "30").returncode == 0
    assert json.loads(cli("gpfskit", "config", "get", "gpfskit.commands.timeout").stdout) == 30
    assert cli("gpfskit", "config", "set", "arcapix.auth.server.url",
               "https://mgmt:8443").returncode == 0
    assert (_isolated_config / "arcapix/auth/server/url").read_text() == '"https://mgmt:8443"\n'
    listing = cli("gpfskit", "config", "list", env={**os.environ, "COLUMNS": "200"}).stdout
    assert "gpfskit.commands.timeout" in listing and "arcapix.auth.server.url" in listing
    assert cli("gpfskit", "config", "unset", "gpfskit.commands.timeout").returncode == 0
    assert json.loads(cli("gpfskit", "config", "get",
                          "gpfskit.commands.timeout").stdout) == 3600.0
    assert json.loads(cli("adminctl", "config", "get",
                          "arcapix.auth.server.url").stdout) == "https://mgmt:8443"


@pytest.mark.parametrize("argv, message", [
    (("config", "set", "gpfskit.commands.timeout", '"soon"'), "takes an integer or a number"),
    (("config", "set", "../../etc/passwd", "1"), "invalid directive name"),
    (("config", "get", "no.such.thing"), "is not set and has no default"),
    (("config", "set", "gpfskit.cluster.backend", "bogus"), "must be one of 'scale', 'emulated'"),
    (("config", "set", "gpfskit.commands.timeout", "--", "-5"), "greater than 0, not -5"),
    (("config", "set", "gpfskit.commands.timeout", "0"), "greater than 0, not 0"),
    (("config", "set", "gpfskit.commands.timeout", "true"), "not true"),
    (("config", "set", "gpfskit.emulator.lock_timeout", "--", "-1"), "greater than 0"),
    (("config", "unset", "no.such.thing"), "is not set"),
])
def test_config_errors_are_clear(argv, message):
    result = cli("gpfskit", *argv)
    assert result.returncode == 2
    assert message in result.stderr


def test_emulator_init_mm_and_shims(tmp_path):
    root = tmp_path / "cluster"
    result = cli("gpfskit", "emulator", "init", "--demo", "--root", str(root))
    assert result.returncode == 0 and "Created demo cluster" in result.stdout
    again = cli("gpfskit", "emulator", "init", "--demo", "--root", str(root))
    assert again.returncode == 1 and "already holds an emulated cluster" in again.stderr

    listing = cli("gpfskit", "mm", "mmlsfileset", "mmfs1")
    assert listing.returncode == 0 and "Filesets in file system 'mmfs1':" in listing.stdout
    missing = cli("gpfskit", "mm", "mmlsfileset", "mmfs1", "nosuch")
    assert missing.returncode == 22
    assert "Fileset named nosuch does not exist." in missing.stderr
    bad = cli("gpfskit", "mm", "mmcrfileset", "mmfs1", "a b; $(rm -rf /)")
    assert bad.returncode != 0 and "Command failed" in bad.stderr
    assert cli("gpfskit", "mm", "mmnosuch").returncode == 127

    env_line = cli("gpfskit", "emulator", "env").stdout
    assert env_line.startswith("export PATH=")
    shims = root / "bin"
    assert (shims / "mmlsfileset").exists() and (shims / "mmapplypolicy").exists()
    env = {**os.environ, "PATH": f"{shims}:{os.environ['PATH']}"}
    state = subprocess.run(["mmgetstate", "-a"], capture_output=True, text=True, env=env,
                           timeout=60, check=False)
    assert state.returncode == 0 and "node3" in state.stdout


def test_env_needs_a_cluster(tmp_path):
    assert cli("gpfskit", "config", "set", "gpfskit.emulator.root",
               str(tmp_path / "none")).returncode == 0
    result = cli("gpfskit", "emulator", "env")
    assert result.returncode == 1 and "no emulated cluster" in result.stderr


def test_tour_creates_the_demo_and_shows_it(tmp_path):
    cli("gpfskit", "config", "set", "gpfskit.emulator.root", str(tmp_path / "demo"))
    result = cli("gpfskit", "tour", env={**os.environ, "COLUMNS": "120"})
    assert result.returncode == 0, result.stderr
    assert "Created the demo emulated cluster" in result.stdout
    for text in ("democluster", "node1", "mmfs1", "sas1", "sata1", "root"):
        assert text in result.stdout
    assert "Created the demo" not in cli("gpfskit", "tour").stdout  # the second time: reused


def test_verbose_logs_every_command(emulator_root):
    result = cli("gpfskit", "--verbose", "tour")
    assert "gpfskit.commands: ran mmlscluster -Y: exit 0" in result.stderr


def test_a_bad_stored_directive_is_one_clear_line_at_use(_isolated_config, tmp_path):
    stored = _isolated_config / "gpfskit" / "cluster" / "backend"
    stored.parent.mkdir(parents=True)
    stored.write_text('"bogus"\n')
    result = cli("gpfskit", "tour")
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert "gpfskit.cluster.backend must be one of 'scale', 'emulated', not 'bogus'" in \
        result.stderr and str(stored) in result.stderr
    assert not (tmp_path / "cluster").exists()


