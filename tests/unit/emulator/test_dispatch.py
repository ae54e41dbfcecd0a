"""The command registry: each command is found, and loads only its own family."""

from __future__ import annotations

import subprocess
import sys
from collections import defaultdict
from pathlib import Path

from gpfskit.emulator.commands import FAMILIES
from gpfskit.emulator.dispatch import commands


def test_families_name_exactly_what_each_module_registers():
    registered: dict[str, set[str]] = defaultdict(set)
    for name, spec in commands().items():
        registered[spec.handler.__module__.rsplit(".", 1)[1]].add(name)
    assert {module: set(names) for module, names in FAMILIES.items()} == registered


def test_a_command_loads_only_its_own_family(emulator_root: Path):
    probe = (
        "import sys\n"
        "from gpfskit.emulator.dispatch import run_command\n"
        "result = run_command(['mmlsfileset', 'mmfs1'], root=sys.argv[1])\n"
        "assert result.returncode == 0, result.stderr\n"
        "loaded = sorted(m for m in sys.modules if m.startswith('gpfskit.emulator.commands.'))\n"
        "print(loaded, 'pyarrow' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", probe, str(emulator_root)],
                          capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "['gpfskit.emulator.commands.filesets'] False"


def test_unknown_commands_are_not_found(mm):
    result = mm("mmnosuchcommand", "x")
    assert (result.returncode, result.stderr) == (127, "mmnosuchcommand: command not found\n")
