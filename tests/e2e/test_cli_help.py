"""Help as an admin reads it: gpfskit mm, COMMAND --help, gpfskit man, completion."""

from __future__ import annotations

import os
import re

import pytest
from tests.e2e.test_cli import BIN, cli

from gpfskit.emulator import args as mmargs
from gpfskit.emulator.dispatch import commands
from gpfskit.emulator.manual import SUMMARIES, options


def test_mm_lists_every_emulated_command_with_one_line():
    for argv in (("gpfskit", "mm", "--help"), ("gpfskit", "mm")):
        result = cli(*argv)
        assert result.returncode == 0, result.stderr
        assert "Usage: gpfskit mm COMMAND" in result.stdout
        lines = {line.split()[0]: line for line in result.stdout.splitlines()
                 if line.startswith("  mm")}
        names = {spec.name for spec in commands().values()}
        assert set(lines) == names
        assert "List filesets and their attributes." in lines["mmlsfileset"]
        assert "mmunmount (= mmumount)" in result.stdout
        assert "not found" not in result.stdout + result.stderr


def test_every_command_has_a_summary():
    assert {spec.name for spec in commands().values()} == set(SUMMARIES)


@pytest.mark.parametrize("name", sorted({spec.name for spec in commands().values()}))
def test_help_lists_the_options_the_parser_takes(name):
    """Each option the help lists parses, and each option the parser takes is listed."""
    spec = commands()[name]
    result = cli("gpfskit", "mm", name, "--help")
    assert result.returncode == 0 and result.stderr == ""
    assert result.stdout.startswith(f"{name} - {SUMMARIES[name]}\n\nUsage:\n  {name}")
    assert "Not emulated:" in result.stdout
    if spec.parse_args:
        listed = re.findall(r"^  (--?[\w-]+)", result.stdout.split("Options emulated:")[1]
                            .split("Not emulated:")[0], re.M) if spec.flags or spec.valued \
            else []
        assert sorted(listed) == sorted(spec.flags + spec.valued)
        for option in listed:
            words = [option, "x"] if option in spec.valued else [option]
            parsed = mmargs.parse(words, flags=spec.flags, valued=spec.valued)
            assert parsed.has(option)


def test_dash_h_is_help_where_the_command_has_no_h_option(emulator_root):
    result = cli("gpfskit", "mm", "mmlsfileset", "-h")
    assert result.returncode == 0 and "Options emulated:" in result.stdout
    assert "Options emulated:" in cli("gpfskit", "mm", "mmcrfileset", "-h").stdout


def test_help_of_an_option_shows_its_value_words():
    text = cli("gpfskit", "mm", "mmapplypolicy", "--help").stdout
    assert "  -I {yes|defer|test|prepare}" in text
    assert "  -P PolicyFile" in text
    assert "EXTERNAL pool and list programs run as real subprocesses" in " ".join(text.split())


def test_man_page(emulator_root):
    result = cli("gpfskit", "man", "mmlsfileset")
    assert result.returncode == 0, result.stderr
    text = result.stdout
    assert text.splitlines()[0].startswith("MMLSFILESET(8)")
    for section in ("NAME", "SYNOPSIS", "OPTIONS (EMULATED)", "NOT EMULATED"):
        assert f"\n{section}\n" in text
    assert "       -J Junction[,Junction...]" in text
    missing = cli("gpfskit", "man", "mmfoo")
    assert missing.returncode == 2 and "mmfoo is not an emulated command" in missing.stderr


def _complete(words: str) -> list[str]:
    env = {**os.environ, "_GPFSKIT_COMPLETE": "complete_bash", "COMP_WORDS": words,
           "COMP_CWORD": str(len(words.split()) - 1)}
    import subprocess

    done = subprocess.run([str(BIN / "gpfskit")], capture_output=True, text=True, env=env,
                          timeout=60, check=False)
    return done.stdout.split()


def test_completion_of_command_and_directive_names():
    assert "mmlsfileset" in _complete("gpfskit mm mmls")
    assert "mmcrfileset" not in _complete("gpfskit mm mmls")
    assert "mmcrsnapshot" in _complete("gpfskit man mmcr")
    assert set(_complete("gpfskit config get gpfskit.emulator.")) >= {
        "gpfskit.emulator.root", "gpfskit.emulator.node"}


def test_typer_help_names_values_not_types():
    text = cli("gpfskit", "emulator", "init", "--help").stdout
    assert "--root DIR" in text and "<path>" not in text and "<bool>" not in text


def test_options_of_a_command_without_a_table_are_not_listed():
    assert options(commands()["mmnfs"]) == []
