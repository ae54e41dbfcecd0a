"""Profiles and the default placement rules, installed on the demo cluster's mmfs1."""

from __future__ import annotations

import logging

import pytest

from gpfskit.commands import dry_run
from gpfskit.mgmt.provision.errors import FieldError, RefusedError
from gpfskit.mgmt.provision.profiles import (
    MigrationStep,
    PlacementControl,
    Profile,
    ensure_default_placement_rules,
    install_profile,
    pool_of_fileset,
    remove_profile,
)
from helpers import ok


def policy_text(mm) -> str:
    return ok(mm("mmlspolicy", "mmfs1", "-L")).stdout


def test_default_rules_installed_before_the_default_rule_once(mm):
    change = ensure_default_placement_rules("mmfs1")
    assert change.added == ("system-placement", "sas1-placement", "sata1-placement")
    text = policy_text(mm)
    assert "RULE 'sas1-placement' SET POOL 'sas1' WHERE FILESET_NAME LIKE 'sas1-%'" in text
    assert text.index("sata1-placement") < text.index("RULE 'default' SET POOL 'sata1'")
    assert ensure_default_placement_rules("mmfs1").added == ()
    assert policy_text(mm) == text
    assert pool_of_fileset("mmfs1", "sas1-sleepy-snake") == "sas1"
    assert pool_of_fileset("mmfs1", "elsewhere") == "sata1"


def test_no_final_default_rule_is_skipped_with_a_coded_warning(mm, tmp_path, caplog):
    rules = tmp_path / "p.pol"
    rules.write_text("RULE 'default' SET POOL 'sata1'\nRULE 'big' SET POOL 'sas1' "
                     "WHERE FILE_SIZE > 10\n")
    ok(mm("mmchpolicy", "mmfs1", str(rules)))
    before = policy_text(mm)
    with caplog.at_level(logging.WARNING):
        change = ensure_default_placement_rules("mmfs1")
    assert change.warning == "[GK0117E] Filesystem mmfs1 has no default placement rule - skipping"
    assert change.warning in caplog.text
    assert policy_text(mm) == before


def test_dry_run_lists_the_command_and_changes_nothing(mm):
    before = policy_text(mm)
    with dry_run() as commands:
        change = ensure_default_placement_rules("mmfs1")
    assert len(commands) == 1 and commands[0].startswith("mmchpolicy mmfs1 ")
    assert list(change.commands) == commands
    assert policy_text(mm) == before


def test_profile_with_ilm_steps_and_placement_controls(mm):
    profile = Profile("media", "mmfs1", "sas1",
                      migrations=(MigrationStep("sas1", "sata1", older_than_days=30,
                                                threshold=(80, 60)),),
                      placements=(PlacementControl("system", name_patterns=("*.db", "*.idx"),
                                                   max_size=1 << 20),))
    change = install_profile(profile)
    assert change.added == ("sas1-placement", "media-place-1", "media-ilm-1")
    text = policy_text(mm)
    assert text.index("media-place-1") < text.index("sas1-placement") < text.index(
        "RULE 'default'")
    assert "MIGRATE FROM POOL 'sas1' THRESHOLD(80, 60) TO POOL 'sata1'" in text
    assert "NAME LIKE '%.db' OR NAME LIKE '%.idx'" in text
    again = install_profile(profile)          # reinstall replaces, never duplicates
    assert again.removed == ("media-place-1", "media-ilm-1")
    assert policy_text(mm).count("media-place-1") == 1
    remove_profile(profile)
    text = policy_text(mm)
    assert "media-" not in text and "sas1-placement" in text


@pytest.mark.parametrize("profile,field", [
    (Profile("p", "mmfs1", "nopool"), "pool"),
    (Profile("p", "mmfs2", "sas1"), "pool"),
    (Profile("p", "nofs", "sas1"), "filesystem"),
    (Profile("bad name", "mmfs1", "sas1"), "name"),
    (Profile("p", "mmfs1", "sas1", migrations=(MigrationStep("sas1", "sas1", 3),)),
     "ilm_steps[0]"),
    (Profile("p", "mmfs1", "sas1", migrations=(MigrationStep("sas1", "sata1"),)),
     "ilm_steps[0]"),
    (Profile("p", "mmfs1", "sas1",
             migrations=(MigrationStep("sas1", "sata1", threshold=(50, 80)),)),
     "ilm_steps[0].threshold"),
    (Profile("p", "mmfs1", "sas1", placements=(PlacementControl("sata1", ("a/b",)),)),
     "placement_controls[0].name_patterns"),
    (Profile("p", "mmfs1", "sas1",
             placements=(PlacementControl("sata1", min_size=10, max_size=5),)),
     "placement_controls[0].max_size"),
])
def test_bad_profiles_name_the_field_and_change_nothing(mm, profile, field):
    before = policy_text(mm)
    with pytest.raises(FieldError) as caught:
        install_profile(profile)
    assert caught.value.field == field
    assert policy_text(mm) == before


def test_profile_refused_without_a_final_default_rule(mm, tmp_path):
    rules = tmp_path / "p.pol"
    rules.write_text("RULE 'big' SET POOL 'sas1' WHERE FILE_SIZE > 10\n")
    ok(mm("mmchpolicy", "mmfs1", str(rules)))
    with pytest.raises(RefusedError, match="GK0117E"):
        install_profile(Profile("p", "mmfs1", "sas1"))
