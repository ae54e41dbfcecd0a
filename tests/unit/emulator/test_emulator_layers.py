"""The emulator's command handlers sit on its domain layer, never the other way round.

``emulator/commands/`` answers mm* commands; the modules beside it (state, layout, usage,
the quota ledger, capacity, events, applypolicy, ...) hold what the commands share. Only the
dispatcher looks into ``commands`` (for the registry of command families), and no module
imports a name another module keeps private. Checked from the source.
"""

from __future__ import annotations

import ast
from pathlib import Path

import gpfskit.emulator

EMULATOR = Path(gpfskit.emulator.__file__).parent
#: Module package prefixes allowed to start with an underscore (compiled helpers).
_PRIVATE_MODULES_OK = ("gpfskit.emulator.scan",)


def _imports(source: Path) -> list[tuple[str, list[str]]]:
    """(module, imported names) of every ``from gpfskit... import`` in a file."""
    found = []
    for node in ast.walk(ast.parse(source.read_text(), str(source))):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("gpfskit"):
            found.append((node.module or "", [alias.name for alias in node.names]))
        elif isinstance(node, ast.Import):
            found += [(alias.name, []) for alias in node.names
                      if alias.name.startswith("gpfskit")]
    return found


def _domain_modules() -> list[Path]:
    return sorted(p for p in EMULATOR.rglob("*.py") if "commands" not in p.relative_to(
        EMULATOR).parts)


def test_only_the_dispatcher_looks_into_the_command_handlers():
    handlers = "gpfskit.emulator.commands"
    offenders = sorted(
        f"{path.relative_to(EMULATOR)} imports {target}"
        for path in _domain_modules() if path.name != "dispatch.py"
        for module, names in _imports(path)
        for target in [module, *(f"{module}.{name}" for name in names)]
        if target == handlers or target.startswith(handlers + ".")
    )
    assert offenders == []


def test_no_private_name_crosses_a_module():
    offenders = sorted(
        f"{path.relative_to(EMULATOR)} imports {name} from {module}"
        for path in EMULATOR.rglob("*.py")
        for module, names in _imports(path)
        for name in names
        if name.startswith("_") and not module.startswith(_PRIVATE_MODULES_OK)
    )
    assert offenders == []
