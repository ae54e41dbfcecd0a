"""NFS exports and SMB shares through the API, on the emulated cluster."""

from __future__ import annotations

import pytest

from gpfskit.api import Cluster, NfsClient, NotFoundError
from gpfskit.api.exports import _parse_nfs
from gpfskit.commands import dry_run
from helpers import ok


def test_nfs_export_add_list_remove(mp, mm):
    (mp / "projects").mkdir()
    cluster = Cluster()
    export = cluster.nfsExports.new(str(mp / "projects"), clients=[
        NfsClient("10.0.0.0/8", Access_Type="rw", Squash="no_root_squash"),
        NfsClient("*", {"access_type": "RO"})])
    assert str(mp / "projects") in Cluster().nfsExports
    listed = ok(mm("mmnfs", "export", "list", "-Y")).stdout
    assert ":10.0.0.0/8:RW:" in listed and "NO_ROOT_SQUASH" in listed
    clients = Cluster().nfsExports[str(mp / "projects")].clients
    assert [c.client for c in clients] == ["10.0.0.0/8", "*"]
    assert clients[0].options["Access_Type"] == "RW"
    assert clients[1].options["Access_Type"] == "RO"
    export.delete()
    assert len(Cluster().nfsExports) == 0
    assert "projects" not in ok(mm("mmnfs", "export", "list", "-Y")).stdout


@pytest.mark.parametrize("client,options,message", [
    ("10.0.0.0/8", {"Access_Type": "ALL"}, "Access_Type"),
    ("10.0.0.0/8", {"Squash": "sometimes"}, "Squash"),
    ("10.0.0.0/8", {"Colour": "red"}, "unknown NFS access option"),
    ("10.0.0.0/8", {"Anonymous_uid": "x"}, "Anonymous_uid"),
    ("host name", {}, "invalid NFS client"),
    ("a;b", {}, "invalid NFS client"),
    ("h(x)", {}, "invalid NFS client"),
])
def test_nfs_bad_access_options_refused(client, options, message):
    with pytest.raises(ValueError, match=message):
        NfsClient(client, options)


@pytest.mark.parametrize("path", ["relative/path", "/a/b'c", "/a;rm -rf", "/a/$HOME", "/a\nb"])
def test_nfs_bad_paths_change_nothing(mp, mm, path):
    with pytest.raises(ValueError):
        Cluster().nfsExports.new(path)
    assert len(Cluster().nfsExports) == 0


def test_nfs_duplicate_and_missing(mp):
    cluster = Cluster()
    cluster.nfsExports.new(str(mp))
    with pytest.raises(ValueError, match="already exists"):
        cluster.nfsExports.new(str(mp) + "/")
    with pytest.raises(KeyError):
        cluster.nfsExports.destroy("/nowhere")
    from gpfskit.api import NfsExport
    with pytest.raises(NotFoundError):
        NfsExport("/nowhere").delete()


def test_nfs_listing_with_ipv6_client_parses():
    text = ("mmcesnfslsexport:nfsexports:HEADER:version:reserved:reserved:Path:Delegations:"
            "Clients:Access_Type:Protocols:Transports:Squash:Anonymous_uid:Anonymous_gid:"
            "SecType:PrivilegedPort:DefaultDelegations:Manage_Gids:NFS_Commit:\n"
            "mmcesnfslsexport:nfsexports:0:1:::/gpfs0/share:none:fd00::1/64:RW:3,4:TCP:"
            "ROOT_SQUASH:-2:-2:SYS:FALSE:none:FALSE:FALSE:\n")
    rows = _parse_nfs(text)["/gpfs0/share"]
    assert rows[0]["Clients"] == "fd00::1/64" and rows[0]["Access_Type"] == "RW"


def test_smb_share_add_list_remove(mp, mm):
    (mp / "projects").mkdir()
    cluster = Cluster()
    share = cluster.smbShares.new("projects", str(mp / "projects"),
                                  options={"read only": "no", "browseable": False})
    listed = ok(mm("mmsmb", "export", "list", "-Y", "--all")).stdout
    assert "projects" in listed
    again = Cluster().smbShares["PROJECTS"]
    assert again.path == str(mp / "projects")
    assert again.options["browseable"] == "no" and again.options["read only"] == "no"
    share.delete()
    assert "projects" not in Cluster().smbShares


@pytest.mark.parametrize("name,options,message", [
    ("bad name", {}, "invalid SMB share name"),
    ("homes", {}, "invalid SMB share name"),
    ("ok", {"read only": "perhaps"}, "read only"),
    ("ok", {"create mask": "999"}, "octal"),
    ("ok", {"evil option": "x"}, "unknown SMB share option"),
])
def test_smb_bad_input_changes_nothing(mp, name, options, message):
    with pytest.raises(ValueError, match=message):
        Cluster().smbShares.new(name, str(mp), options=options)
    assert len(Cluster().smbShares) == 0


def test_exports_in_dry_run_record_commands_and_show_in_session(mp, mm):
    with dry_run() as commands:
        cluster = Cluster()
        cluster.nfsExports.new(str(mp), clients=["*"])
        cluster.smbShares.new("all", str(mp))
        assert str(mp) in cluster.nfsExports and "all" in cluster.smbShares
        cluster.smbShares.destroy("all")
        assert "all" not in cluster.smbShares
    assert commands == [f"mmnfs export add {mp} --client '*'",
                        f"mmsmb export add all {mp}", "mmsmb export remove all"]
    assert len(Cluster().nfsExports) == 0 and len(Cluster().smbShares) == 0
