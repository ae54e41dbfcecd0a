"""Names, comments and junctions that are allowed, through the command line and back through
the -Y parser into the API: one rule for non-ASCII names in both, and -Y records that a
control character cannot split."""

from __future__ import annotations

import os

from tests.helpers import ok

from gpfskit.api import Cluster
from gpfskit.commands import yformat
from gpfskit.emulator.output import ytable


def test_non_ascii_letters_are_allowed_by_the_commands_and_the_api(mm, mp):
    ok(mm("mmcrfileset", "mmfs1", "données", "--inode-space", "new", "-J", f"{mp}/données"))
    fs = Cluster().filesystems["mmfs1"]
    created = fs.filesets.new("Projekt-Ü", maxInodes=1000, path=f"{mp}/Projekt-Ü")
    assert set(fs.filesets) >= {"données", "Projekt-Ü"}
    assert fs.filesets["données"].path == f"{mp}/données"
    created.snapshots.new("täglich")
    assert "täglich" in Cluster().filesystems["mmfs1"].filesets["Projekt-Ü"].snapshots
    listing = ok(mm("mmlssnapshot", "mmfs1", "-Y")).stdout
    assert ":täglich:" in listing
    # Symbols beyond ASCII are refused by both, with the same reason.
    refused = mm("mmcrfileset", "mmfs1", "€uro")
    assert refused.returncode == 22 and "only letters and digits" in refused.stderr


def test_junctions_and_comments_round_trip_through_the_y_parser(mm, mp):
    junction = f"{mp}/a b:c%d,é=(x)"
    comment = "end of project: 2030-12 %25 ü, 'quoted' \"too\""
    ok(mm("mmcrfileset", "mmfs1", "odd", "--inode-space", "new", "-J", junction,
          "-t", comment))
    text = ok(mm("mmlsfileset", "mmfs1", "odd", "-Y")).stdout
    assert len(text.splitlines()) == 2
    [row] = yformat.parse_table(text)
    assert row["path"] == junction and row["comment"] == comment
    fileset = Cluster().filesystems["mmfs1"].filesets["odd"]
    assert fileset.path == junction and fileset.comment == comment


def test_control_characters_in_y_values_are_encoded_and_decoded():
    values = ["x\ny", "tab\there", "bell\x07", "del\x7f", "a:b%c"]
    text = ytable("mmtest", "", ["v"], [[v] for v in values])
    assert len(text.splitlines()) == 1 + len(values)
    assert "%0A" in text and "%09" in text
    assert [row["v"] for row in yformat.parse_table(text)] == values


def test_shell_metacharacters_in_a_junction_are_just_characters(mm, mp, tmp_path,
                                                               monkeypatch):
    monkeypatch.chdir(tmp_path)
    junction = f"{mp}/$(touch pwned); `touch pwned` 'q' \"q\" | & > <"
    ok(mm("mmcrfileset", "mmfs1", "meta", "--inode-space", "new", "-J", junction))
    assert os.listdir(os.path.dirname(junction)) == [os.path.basename(junction)]
    assert not (tmp_path / "pwned").exists()
    assert Cluster().filesystems["mmfs1"].filesets["meta"].path == junction
