"""The package graph: which packages import which, and what a fresh import loads.

Checked from the source (the imports each module states) and in a fresh interpreter
(``sys.modules`` after an import), never with a timer.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

import gpfskit

SRC = Path(gpfskit.__file__).parent
HEAVY = ("numpy", "pyarrow", "typer", "rich")


def _imported_modules(package: Path) -> dict[str, set[str]]:
    """Module file -> the gpfskit modules it imports (at any depth of the file), for a
    package directory or a single module."""
    found: dict[str, set[str]] = {}
    for source in [package] if package.is_file() else sorted(package.rglob("*.py")):
        names: set[str] = set()
        relative = source.relative_to(SRC.parent).with_suffix("")
        parts = list(relative.parts)
        if parts[-1] == "__init__":
            parts.pop()
        for node in ast.walk(ast.parse(source.read_text(), str(source))):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = parts[:len(parts) - node.level + (source.name == "__init__.py")]
                    base = ".".join([*anchor, base] if base else anchor)
                names.update([base] if node.module else
                             [f"{base}.{alias.name}" for alias in node.names])
        found[str(source.relative_to(SRC))] = {n for n in names if n.startswith("gpfskit")}
    return found


def _offenders(package: str, forbidden: tuple[str, ...]) -> list[str]:
    return sorted(f"{module} imports {name}"
                  for module, names in _imported_modules(SRC / package).items()
                  for name in names
                  if any(name == f or name.startswith(f + ".") for f in forbidden))


def test_the_language_is_a_leaf():
    """``gpfskit.language`` imports nothing of gpfskit but itself."""
    outside = [f"{module} imports {name}"
               for module, names in _imported_modules(SRC / "language").items()
               for name in names if not name.startswith("gpfskit.language")]
    assert outside == []


def test_the_event_catalog_is_a_leaf():
    assert _imported_modules(SRC / "event_catalog.py") == {"event_catalog.py": set()}


def test_the_emulator_never_imports_the_layers_above_it():
    forbidden = ("gpfskit.api", "gpfskit.policy", "gpfskit.callbacks", "gpfskit.cli",
                 "gpfskit.mgmt")
    assert _offenders("emulator", forbidden) == []


def test_the_commands_layer_never_imports_api_or_policy():
    assert _offenders("commands", ("gpfskit.api", "gpfskit.policy", "gpfskit.cli")) == []


def _loaded_after(statement: str) -> list[str]:
    """The heavy third-party packages in ``sys.modules`` after ``statement``, fresh process."""
    probe = (f"import sys\n{statement}\n"
             f"print(__import__('json').dumps(sorted({{m.split('.')[0] for m in sys.modules}}"
             f" & {set(HEAVY)!r})))\n")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          check=True)
    return json.loads(done.stdout)


@pytest.mark.parametrize("statement", [
    "import arcapix.fs.gpfs",
    "from arcapix.fs.gpfs import Cluster, Filesystem, ManagementPolicy, ListRule",
    "import gpfskit.api",
    "from gpfskit.language.parser import parse_policy",
    "import gpfskit.language",
    "from gpfskit.policy import ManagementPolicy, Criteria, MapReduceRule",
])
def test_the_object_api_and_the_parser_load_no_numpy_pyarrow_or_cli(statement: str):
    assert _loaded_after(statement) == []


def test_the_vectorised_evaluator_is_where_numpy_comes_in():
    assert _loaded_after("import gpfskit.language.vectorized") == ["numpy", "pyarrow"]


def test_policy_names_stay_reexported_from_arcapix():
    import arcapix.fs.gpfs as package
    import gpfskit.policy

    for name in ("ManagementPolicy", "Criteria", "ListRule", "PolicyError", "SetPoolRule"):
        assert getattr(package, name) is getattr(gpfskit.policy, name)
        assert name in dir(package) and name in package.__all__
    with pytest.raises(AttributeError, match="no attribute 'NoSuchRule'"):
        package.NoSuchRule  # noqa: B018


def test_the_management_service_reaches_the_cluster_through_the_api_only():
    """Design rule 3: ``gpfskit.mgmt`` never runs admin commands itself: it imports neither
    the emulator nor the command runner's modules (the ``gpfskit.commands`` package itself
    only, for the dry-run switches)."""
    assert _offenders("mgmt", ("gpfskit.emulator", "gpfskit.commands.runner",
                               "gpfskit.commands.backends", "gpfskit.cli")) == []
    from_commands = {name for names in _imported_modules(SRC / "mgmt").values()
                     for name in names if name.startswith("gpfskit.commands")}
    assert from_commands <= {"gpfskit.commands"}
