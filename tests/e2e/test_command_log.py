"""The command log as an admin reads it: scripts change the cluster, gpfskit log shows it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.e2e.test_cli import cli

from gpfskit.commands.audit import BACKUPS, entries, parse_line

SCRIPT = """
import sys
from arcapix.fs.gpfs import Cluster
fs = Cluster().filesystems['mmfs1']
fs.filesets.new('scratch', junction=sys.argv[1])
print(sorted(fs.filesets))
try:
    fs.filesets.new('scratch')
except Exception as exc:
    print('refused', type(exc).__name__)
"""


def _demo(tmp_path: Path) -> Path:
    root = tmp_path / "cluster"
    assert cli("gpfskit", "emulator", "init", "--demo", "--root", str(root)).returncode == 0
    return root


def _script(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    script = tmp_path / "nightly.py"
    script.write_text(SCRIPT)
    done = subprocess.run([sys.executable, str(script), *args], capture_output=True, text=True,
                          env=dict(os.environ), timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    return done


def test_changing_commands_are_logged_and_shown(tmp_path, _isolated_config):
    root = _demo(tmp_path)
    junction = root / "gpfs" / "mmfs1" / "scratch dir"
    _script(tmp_path, str(junction))
    log = _isolated_config / ".commands.log"
    assert json.loads(cli("gpfskit", "config", "get", "gpfskit.log.commands").stdout) == str(log)
    lines = log.read_text().splitlines()
    commands = [parse_line(line)["argv"] for line in lines]
    assert commands == [["mmcrfileset", "mmfs1", "scratch"],
                        ["mmlinkfileset", "mmfs1", "scratch", "-J", str(junction)]]
    first = parse_line(lines[0])
    assert first["user"] == "root" and first["process"] == "nightly.py" and first["exit"] == 0
    assert first["level"] == "INFO" and first["pid"] > 0 and first["duration"] >= 0

    shown = cli("gpfskit", "log")
    assert shown.returncode == 0
    assert "nightly.py[" in shown.stdout
    assert f"mmlinkfileset mmfs1 scratch -J '{junction}'" in shown.stdout
    assert "mmlsfileset" not in shown.stdout      # read-only: debug level only
    as_json = json.loads(cli("gpfskit", "log", "--json", "--since", "1h").stdout)
    assert [entry["argv"] for entry in as_json] == commands
    assert json.loads(cli("gpfskit", "log", "--json", "--since", "2099-01-01").stdout) == []
    bad = cli("gpfskit", "log", "--since", "yesterday")
    assert bad.returncode == 2 and "neither a time ago" in bad.stderr


def test_debug_level_logs_read_only_commands_too(tmp_path, _isolated_config):
    _demo(tmp_path)
    assert cli("gpfskit", "config", "set", "gpfskit.log.level", "debug").returncode == 0
    _script(tmp_path, str(tmp_path / "cluster" / "gpfs" / "mmfs1" / "s"))
    entries_ = json.loads(cli("gpfskit", "log", "--json").stdout)
    levels = {entry["argv"][0]: entry["level"] for entry in entries_}
    assert levels["mmlsfileset"] == "DEBUG" and levels["mmcrfileset"] == "INFO"


def test_log_at_a_chosen_place_and_off(tmp_path, _isolated_config):
    _demo(tmp_path)
    chosen = tmp_path / "logs" / "gpfskit.log"
    cli("gpfskit", "config", "set", "gpfskit.log.commands", str(chosen))
    _script(tmp_path, str(tmp_path / "cluster" / "gpfs" / "mmfs1" / "s"))
    assert len(chosen.read_text().splitlines()) == 2
    assert not (_isolated_config / ".commands.log").exists()
    cli("gpfskit", "config", "set", "gpfskit.log.commands", "null")
    off = cli("gpfskit", "log")
    assert off.returncode == 1 and "the command log is off" in off.stderr


def test_rotated_files_are_read_oldest_first(tmp_path):
    log = tmp_path / "commands.log"
    line = ("2026-12-01T10:00:0{n}.000+00:00 INFO user=a pid=1 process=p exit=0 duration=0.1"
            " -- mm{n}")
    Path(f"{log}.2").write_text(line.format(n=1) + "\n")
    Path(f"{log}.1").write_text(line.format(n=2) + "\ntorn li\n")
    log.write_text(line.format(n=3) + "\n")
    assert [entry["argv"] for entry in entries(log)] == [["mm1"], ["mm2"], ["mm3"]]
    assert BACKUPS >= 2
