"""The lean start-up paths of the commands give what the full paths give, and load less.

What a process loads is read from ``sys.modules`` in that process (never timed here; the
figures are ``benchmarks/startup.py``'s).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from gpfskit.cli.emulator_cmd import write_shims

BIN = Path(sys.executable).parent
HEAVY = ("typer", "click", "rich", "numpy", "pyarrow")

# What a reading command from a shell need not load: most of its start-up time once was.
NOT_FOR_READING = ("dataclasses", "inspect", "typing", "logging", "fractions", "shutil",
                   "gpfskit.emulator.journal", "gpfskit.emulator.steps")

_LOADED = """
import atexit, json, sys
def report():
    names = set(sys.modules) | {m.split('.')[0] for m in sys.modules}
    loaded = sorted(names & set(%r))
    sys.stderr.write('LOADED ' + json.dumps(loaded) + '\\n')
atexit.register(report)
sys.argv = %r
%s
"""


def _loaded(argv: list[str], entry: str, env: dict[str, str],
            watched: tuple[str, ...] = HEAVY) -> tuple[str, list[str], int]:
    """(stdout, the ``watched`` modules loaded, exit code) of running ``entry`` with
    ``argv``."""
    code = _LOADED % (watched, argv, entry)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=env, timeout=120, check=False)
    line = next(x for x in done.stderr.splitlines() if x.startswith("LOADED "))
    return done.stdout, json.loads(line.removeprefix("LOADED ")), done.returncode


def test_gpfskit_mm_skips_the_cli_framework_and_prints_the_same(emulator_root: Path):
    env = dict(os.environ)
    fast = _loaded(["gpfskit", "mm", "mmlsfileset", "mmfs1", "-Y"],
                   "from gpfskit.cli.launch import main; main()", env)
    assert fast[1:] == ([], 0)
    # the typer command, as `gpfskit -v mm ...` (an option first) still takes it
    full = _loaded(["gpfskit", "mm", "mmlsfileset", "mmfs1", "-Y"],
                   "from gpfskit.cli.main import main; main()", env)
    assert "typer" in full[1] and full[2] == 0
    assert fast[0] == full[0] and "mmlsfileset::HEADER" in fast[0]


def test_a_failing_command_keeps_its_exit_code_on_the_fast_path(emulator_root: Path):
    result = subprocess.run([str(BIN / "gpfskit"), "mm", "mmlsfileset", "mmfs1", "nosuch"],
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 22 and "Fileset named nosuch does not exist." in result.stderr


def test_a_shim_loads_no_cli_framework_nor_arrow(emulator_root: Path):
    shims = write_shims(emulator_root)
    text = (shims / "mmlsfileset").read_text()
    assert " -P -c " in text                      # nothing importable from the cwd
    stdout, heavy, code = _loaded(
        ["-c", f"--root={emulator_root}", "mmlsfileset", "mmfs1", "-Y"],
        "from gpfskit.cli.mm import main; main()", dict(os.environ))
    assert (heavy, code) == ([], 0)
    shim = subprocess.run([str(shims / "mmlsfileset"), "mmfs1", "-Y"], capture_output=True,
                          text=True, timeout=120, check=True)
    assert shim.stdout == stdout


def test_a_reading_command_loads_neither_dataclasses_nor_the_journal(emulator_root: Path):
    """The same listing through the shim's entry point, with and without -Y, and a usage
    error; a changing command does load the journal."""
    entry = "from gpfskit.cli.mm import main; main()"
    for argv in (["mmlsfileset", "mmfs1"], ["mmlsfileset", "mmfs1", "-Y"],
                 ["mmlsfileset", "mmfs1", "--bogus"]):
        _, loaded, code = _loaded(["-c", f"--root={emulator_root}", *argv], entry,
                                  dict(os.environ), NOT_FOR_READING)
        assert loaded == [] and code == (1 if "--bogus" in argv else 0), (argv, loaded)
    _, loaded, code = _loaded(["-c", f"--root={emulator_root}", "mmcrfileset", "mmfs1", "n"],
                              entry, dict(os.environ), NOT_FOR_READING)
    assert code == 0 and "gpfskit.emulator.journal" in loaded


def test_help_loads_no_rich():
    stdout, heavy, code = _loaded(["gpfskit", "--help"],
                                  "from gpfskit.cli.launch import main; main()",
                                  dict(os.environ))
    assert code == 0 and "rich" not in heavy and "numpy" not in heavy
    for word in ("config", "emulator", "mm", "tour"):
        assert word in stdout


def test_a_bad_stored_directive_is_one_line_on_both_paths(_isolated_config: Path):
    stored = _isolated_config / "gpfskit" / "emulator" / "root"
    stored.parent.mkdir(parents=True)
    stored.write_text("42\n")
    results = [subprocess.run([str(BIN / "gpfskit"), *argv, "mm", "mmlsfileset", "mmfs1"],
                              capture_output=True, text=True, timeout=120, check=False)
               for argv in ([], ["-v"])]          # the fast path, then the typer command
    for result in results:
        assert result.returncode == 2 and "Traceback" not in result.stderr
        assert "gpfskit.emulator.root takes a string" in result.stderr
    assert results[0].stderr == results[1].stderr
