"""Machine-readable output and tables that fit the terminal, on 80 and 200 columns."""

from __future__ import annotations

import json
import os
import re

import pytest
from tests.e2e.test_cli import cli

from gpfskit.config import DIRECTIVES

WIDTHS = (80, 200)


def _at(columns: int) -> dict[str, str]:
    return {**os.environ, "COLUMNS": str(columns), "LINES": "50"}


def test_config_list_json(_isolated_config):
    cli("gpfskit", "config", "set", "gpfskit.commands.timeout", "30")
    document = json.loads(cli("gpfskit", "config", "list", "--json").stdout)
    assert document["directory"] == str(_isolated_config)
    rows = {row["name"]: row for row in document["directives"]}
    assert set(rows) == set(DIRECTIVES)
    assert rows["gpfskit.commands.timeout"] == {
        "name": "gpfskit.commands.timeout", "set": True, "value": 30,
        "description": DIRECTIVES["gpfskit.commands.timeout"].description}
    assert rows["gpfskit.commands.sudo"]["set"] is False


@pytest.mark.parametrize("columns", WIDTHS)
def test_config_list_keeps_names_whole(columns, _isolated_config):
    result = cli("gpfskit", "config", "list", env=_at(columns))
    assert result.returncode == 0
    lines = result.stdout.splitlines()
    assert lines[0] == f"Configuration in {_isolated_config}"
    assert all(len(line) <= columns for line in lines[1:])
    names = {line.split()[0] for line in lines[3:] if line and not line.startswith(" ")}
    assert names == set(DIRECTIVES)              # each name whole, on one line


def test_tour_json(tmp_path):
    cli("gpfskit", "config", "set", "gpfskit.emulator.root", str(tmp_path / "demo"))
    result = cli("gpfskit", "tour", "--json")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)         # the progress message went to stderr
    assert "Created the demo emulated cluster" in result.stderr
    assert document["cluster"]["name"] == "democluster"
    assert [node["name"] for node in document["nodes"]] == ["node1", "node2", "node3"]
    mmfs1 = next(fs for fs in document["filesystems"] if fs["name"] == "mmfs1")
    assert mmfs1["mount_point"] == str(tmp_path / "demo" / "gpfs" / "mmfs1")
    assert {pool["name"] for pool in mmfs1["pools"]} == {"system", "sas1", "sata1"}
    assert mmfs1["filesets"][0]["name"] == "root"
    assert all(pool["free_kb"] <= pool["total_kb"] for pool in mmfs1["pools"])


@pytest.mark.parametrize("columns", WIDTHS)
def test_tour_titles_do_not_wrap(columns, tmp_path):
    cli("gpfskit", "config", "set", "gpfskit.emulator.root", str(tmp_path / "demo"))
    cli("gpfskit", "tour", "--json")
    lines = cli("gpfskit", "tour", env=_at(columns)).stdout.splitlines()
    for title in ("Nodes", "File systems", "mmfs1: pools", "mmfs1: filesets",
                  "mmfs2: pools"):
        assert title in lines
    tables = [line for line in lines if re.match(r"[┏┃┡│└]", line)]
    assert tables and all(len(line) <= columns for line in tables)
