"""NFS and SMB exposers on the demo cluster: the share, its fragment, their removal."""

from __future__ import annotations

import pytest

from gpfskit.api import NfsClient
from gpfskit.commands import dry_run
from gpfskit.config import config
from gpfskit.mgmt.provision.errors import FieldError
from gpfskit.mgmt.provision.exposers import (
    create_nfs_exposer,
    create_smb_exposer,
    delete_nfs_exposer,
    delete_smb_exposer,
)
from gpfskit.mgmt.provision.profiles import Profile
from gpfskit.mgmt.provision.spaces import create_space
from helpers import ok

SHARE = "0f1e2d3c-aaaa-bbbb-cccc-000000000001"


@pytest.fixture
def space(mp):
    result = create_space("snake", "mmfs1", Profile("p", "mmfs1", "sas1"), "projects/snake",
                          1 << 30)
    return result.path


def test_nfs_exposer_of_a_space(space, mm, emulator_root):
    result = create_nfs_exposer(SHARE, space, [
        NfsClient("10.0.0.0/8", Access_Type="RW", Squash="no_root_squash"),
        {"client": "*", "Access_Type": "RO"}])
    listed = ok(mm("mmnfs", "export", "list", "-Y")).stdout
    assert f"{space}:NONE:10.0.0.0/8:RW:" in listed.replace(":none:", ":NONE:")
    fragment = emulator_root / "etc" / "ganesha" / "exports.d" / f"pixmanaged.{SHARE}.conf"
    assert result.fragment == str(fragment)
    text = fragment.read_text()
    assert f'Path = "{space}";' in text and 'Clients = "10.0.0.0/8";' in text
    assert "Squash = NO_ROOT_SQUASH;" in text and "Access_Type = RO;" in text
    delete_nfs_exposer(SHARE, space)
    assert space not in ok(mm("mmnfs", "export", "list", "-Y")).stdout
    assert not fragment.exists()


def test_smb_exposer_with_a_directive_set_include_dir(space, mm, tmp_path):
    include = tmp_path / "samba-includes"
    config["arcapix.management.smb.include_dir"] = str(include)
    create_smb_exposer(SHARE, "snake", space, {"read only": "no", "browseable": True})
    assert "snake" in ok(mm("mmsmb", "export", "list", "-Y")).stdout
    text = (include / f"pixmanaged.{SHARE}.conf").read_text()
    assert "[snake]" in text and f"path = {space}" in text and "read only = no" in text
    delete_smb_exposer(SHARE, "snake")
    assert "snake" not in ok(mm("mmsmb", "export", "list", "-Y")).stdout
    assert list(include.iterdir()) == []


@pytest.mark.parametrize("call,field", [
    (lambda p: create_nfs_exposer(SHARE, p, [{"client": "*", "Access_Type": "ALL"}]),
     "clients"),
    (lambda p: create_nfs_exposer(SHARE, p, [{"client": "a b"}]), "clients"),
    (lambda p: create_nfs_exposer(SHARE, p + "/missing"), "path"),
    (lambda p: create_nfs_exposer(SHARE, "relative"), "path"),
    (lambda p: create_nfs_exposer("../evil", p), "id"),
    (lambda p: create_smb_exposer(SHARE, "bad name", p), "name"),
    (lambda p: create_smb_exposer(SHARE, "ok", p, {"guest ok": "maybe"}), "options"),
    (lambda p: create_smb_exposer(SHARE, "ok", p, {"include": "/etc/passwd"}), "options"),
])
def test_bad_input_names_the_field_and_changes_nothing(space, mm, emulator_root, call, field):
    with pytest.raises(FieldError) as caught:
        call(space)
    assert caught.value.field == field
    assert space not in ok(mm("mmnfs", "export", "list", "-Y")).stdout
    assert ok(mm("mmsmb", "export", "list", "-Y")).stdout.count("\n") == 1
    assert not (emulator_root / "etc").exists()


def test_an_exposer_twice_is_refused(space):
    create_nfs_exposer(SHARE, space)
    with pytest.raises(FieldError, match="already exported"):
        create_nfs_exposer("another", space)


def test_dry_run_records_the_command_and_writes_no_fragment(space, mm, emulator_root):
    with dry_run():
        result = create_smb_exposer(SHARE, "snake", space, {"read only": "yes"})
    assert result.commands == (f"mmsmb export add snake {space} --option 'read only=yes'",)
    assert "snake" not in ok(mm("mmsmb", "export", "list", "-Y")).stdout
    assert not (emulator_root / "etc").exists()


def test_a_failed_fragment_write_removes_the_share(space, mm, tmp_path):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    config["arcapix.management.nfs.exports_dir"] = str(blocker)
    with pytest.raises(OSError):
        create_nfs_exposer(SHARE, space)
    assert space not in ok(mm("mmnfs", "export", "list", "-Y")).stdout
