"""mmnfs export add|list|change|remove and mmsmb export add|list|change|remove."""

from __future__ import annotations

from pathlib import Path

import pytest

from gpfskit.commands import yformat
from helpers import assert_refused, table_rows


@pytest.fixture
def share(emulator_root: Path) -> Path:
    path = emulator_root / "gpfs" / "mmfs1" / "share"
    path.mkdir()
    return path


def _nfs(mm) -> list[dict]:
    result = mm("mmnfs", "export", "list", "-Y")
    assert result.returncode == 0, result.stderr
    return yformat.parse_table(result.stdout, "nfsexports")


# NFS ---------------------------------------------------------------------------------------

def test_nfs_add_list_remove(mm, share):
    result = mm("mmnfs", "export", "add", str(share), "--client",
                "10.0.0.0/8(Access_Type=RW,Squash=no_root_squash,Protocols=3:4);"
                "*(Access_Type=RO,SecType=krb5)")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "mmnfs: The NFS export was created successfully.\n"
    out = mm("mmnfs", "export", "list", "-Y").stdout
    lines = out.splitlines()
    assert lines[0] == ("mmcesnfslsexport:nfsexports:HEADER:version:reserved:reserved:Path:"
                        "Delegations:Clients:Access_Type:Protocols:Transports:Squash:"
                        "Anonymous_uid:Anonymous_gid:SecType:PrivilegedPort:"
                        "DefaultDelegations:Manage_Gids:NFS_Commit:")
    assert lines[1] == (f"mmcesnfslsexport:nfsexports:0:1:::{share}:none:10.0.0.0/8:RW:3,4:TCP:"
                        "NO_ROOT_SQUASH:-2:-2:SYS:FALSE:none:FALSE:FALSE:")
    rows = _nfs(mm)
    assert [(r["Clients"], r["Access_Type"], r["SecType"]) for r in rows] == [
        ("10.0.0.0/8", "RW", "SYS"), ("*", "RO", "KRB5")]
    human = mm("mmnfs", "export", "list").stdout.splitlines()
    assert human[0].split() == ["Path", "Delegations", "Clients"]
    assert set(human[1]) <= {"-", " "}
    assert human[2].split() == [str(share), "NONE", "10.0.0.0/8"]
    full = mm("mmnfs", "export", "list", "--nfsdefs", str(share)).stdout
    assert "Access_Type" in full.splitlines()[0] and "ROOT_SQUASH" in full
    result = mm("mmnfs", "export", "remove", str(share))
    assert result.returncode == 0
    assert result.stdout == "mmnfs: The NFS export was deleted successfully.\n"
    assert _nfs(mm) == []


def test_nfs_default_client(mm, share):
    assert mm("mmnfs", "export", "add", str(share)).returncode == 0
    assert [(r["Clients"], r["Access_Type"], r["Squash"]) for r in _nfs(mm)] == [
        ("*", "NONE", "ROOT_SQUASH")]


def test_nfs_change(mm, share):
    assert mm("mmnfs", "export", "add", str(share), "--client", "a.example(Access_Type=RO)"
              ).returncode == 0
    result = mm("mmnfs", "export", "change", str(share), "--nfsadd",
                "b.example(Access_Type=RW);c.example")
    assert result.returncode == 0
    assert result.stdout == "mmnfs: The NFS export was changed successfully.\n"
    assert [r["Clients"] for r in _nfs(mm)] == ["a.example", "b.example", "c.example"]
    assert mm("mmnfs", "export", "change", str(share), "--nfsadd", "first(Access_Type=RO)",
              "--nfsposition", "0").returncode == 0
    assert _nfs(mm)[0]["Clients"] == "first"
    assert mm("mmnfs", "export", "change", str(share), "--nfschange",
              "a.example(Access_Type=RW,Squash=all_squash)").returncode == 0
    row = next(r for r in _nfs(mm) if r["Clients"] == "a.example")
    assert (row["Access_Type"], row["Squash"]) == ("RW", "ALL_SQUASH")
    assert mm("mmnfs", "export", "change", str(share), "--nfsremove",
              "b.example,first").returncode == 0
    assert [r["Clients"] for r in _nfs(mm)] == ["a.example", "c.example"]


def test_nfs_export_while_unmounted(mm, share):
    assert mm("mmumount", "mmfs1").returncode == 0
    assert mm("mmnfs", "export", "add", str(share)).returncode == 0


@pytest.mark.parametrize("suffix, text", [
    ("missing", "does not exist"),
    ("share/../../mmfs2/x", "does not exist"),
])
def test_nfs_add_bad_paths_in_fs(mm, emulator_root, share, suffix, text):
    path = f"{emulator_root}/gpfs/mmfs1/{suffix}"
    assert_refused(mm, emulator_root, ["mmnfs", "export", "add", path], 2, text)


@pytest.mark.parametrize("path, rc, text", [
    ("/etc", 22, "not inside a GPFS file system"),
    ("relative/path", 22, "not an absolute path"),
    ("{mp}/share/../../../state.db", 22, "not inside a GPFS file system"),
    ("{mp}/share;rm -rf", 22, "not allowed"),
    ("{mp}/share$(id)", 22, "not allowed"),
    ('{mp}/"share"', 22, "not allowed"),
    ("{mp}/a:b", 22, "not allowed"),
    ("{mp}/with\nnewline", 22, "not allowed"),
    ("{mp}/escape", 22, "not inside a GPFS file system"),
])
def test_nfs_add_refusals(mm, emulator_root, share, tmp_path, path, rc, text):
    mp = emulator_root / "gpfs" / "mmfs1"
    (mp / "escape").symlink_to(tmp_path)
    assert_refused(mm, emulator_root, ["mmnfs", "export", "add", path.format(mp=mp)], rc, text)


@pytest.mark.parametrize("clients, text", [
    ("*(Access_Type=RWX)", "Incorrect value for Access_Type"),
    ("*(Squash=maybe)", "Incorrect value for Squash"),
    ("*(Unknown=1)", "Incorrect client option"),
    ("*(Access_Type)", "Incorrect client option"),
    ("*(Protocols=5)", "Incorrect value for Protocols"),
    ("*(Anonymous_uid=abc)", "Incorrect value for Anonymous_uid"),
    ("bad host(Access_Type=RO)", "Incorrect client specification"),
    ("$(reboot)", "Incorrect client specification"),
    ("'quoted'", "Incorrect client specification"),
    ("x" * 300, "Incorrect client specification"),
    ("a;a", "more than once"),
    (";", "No client specification"),
])
def test_nfs_bad_clients(mm, emulator_root, share, clients, text):
    assert_refused(mm, emulator_root,
                   ["mmnfs", "export", "add", str(share), "--client", clients], 22, text)


def test_nfs_state_refusals(mm, emulator_root, share):
    assert mm("mmnfs", "export", "add", str(share), "--client", "a(Access_Type=RO)"
              ).returncode == 0
    assert_refused(mm, emulator_root, ["mmnfs", "export", "add", str(share)], 17, "already exists")
    assert_refused(mm, emulator_root, ["mmnfs", "export", "add", str(share) + "/"], 17,
                   "already exists")
    assert_refused(mm, emulator_root, ["mmnfs", "export", "remove", str(share) + "x"], 2,
                   "does not exist")
    assert_refused(mm, emulator_root,
                   ["mmnfs", "export", "change", str(share), "--nfsadd", "a"], 17,
                   "already defined")
    assert_refused(mm, emulator_root,
                   ["mmnfs", "export", "change", str(share), "--nfsremove", "zz"], 2,
                   "not defined")
    assert_refused(mm, emulator_root, ["mmnfs", "export", "change", str(share), "--nfsremove", "a"],
                   22, "without clients")
    assert_refused(mm, emulator_root, ["mmnfs", "export", "change", str(share), "--nfschange",
                                       "zz(Access_Type=RW)"], 2, "not defined")
    assert_refused(mm, emulator_root, ["mmnfs", "export", "list", "--nfsdefs", "/nope"], 2,
                   "does not exist")
    for argv in (["mmnfs"], ["mmnfs", "export"], ["mmnfs", "export", "explode"],
                 ["mmnfs", "config", "list"],
                 ["mmnfs", "export", "change", str(share)],
                 ["mmnfs", "export", "change", str(share), "--nfsadd", "b", "--nfsremove", "a"]):
        result = mm(*argv)
        assert result.returncode == 1 and "Usage:" in result.stderr, argv


def test_nfs_dry_run_changes_nothing(mm, emulator_root, share):
    before = table_rows(emulator_root)
    assert mm("mmnfs", "export", "add", str(share), "--dry-run").returncode == 0
    assert table_rows(emulator_root) == before


# SMB ---------------------------------------------------------------------------------------

def _smb(mm, *argv: str) -> list[dict]:
    result = mm("mmsmb", "export", "list", *argv, "-Y")
    assert result.returncode == 0, result.stderr
    return yformat.parse_table(result.stdout, "exports")


def test_smb_add_list_change_remove(mm, share):
    result = mm("mmsmb", "export", "add", "projects", str(share), "--option",
                "guest ok=yes", "--option", "comment=Team share")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "mmsmb: The SMB export was created successfully.\n"
    out = mm("mmsmb", "export", "list", "-Y").stdout
    header, row = out.splitlines()
    assert header == ("mmsmb:exports:HEADER:version:reserved:reserved:export:path:browseable:"
                      "guest ok:smb encrypt:")
    fields = row.split(":")
    assert fields[6] == "projects" and fields[10] == "auto"     # fields 7 and 11
    rows = _smb(mm)
    assert rows == [{"export": "projects", "path": str(share), "browseable": "yes",
                     "guest ok": "yes", "smb encrypt": "auto"}]
    assert _smb(mm, "--option", "comment")[0]["comment"] == "Team share"
    assert _smb(mm, "--all")[0]["comment"] == "Team share"
    human = mm("mmsmb", "export", "list").stdout.splitlines()
    assert human[0].split() == ["export", "path", "browseable", "guest", "ok", "smb", "encrypt"]
    assert human[1].split() == ["projects", str(share), "yes", "yes", "auto"]
    result = mm("mmsmb", "export", "change", "Projects", "--option", "smb encrypt=mandatory",
                "--remove", "guest ok")
    assert result.returncode == 0
    assert result.stdout == "mmsmb: The SMB export was changed successfully.\n"
    assert (_smb(mm)[0]["smb encrypt"], _smb(mm)[0]["guest ok"]) == ("mandatory", "no")
    result = mm("mmsmb", "export", "remove", "projects")
    assert result.stdout == "mmsmb: The SMB export was deleted successfully.\n"
    assert _smb(mm) == []


def test_smb_substitution_path_and_hidden_share(mm, share):
    assert mm("mmsmb", "export", "add", "homes2", f"{share}/%U").returncode == 0
    assert mm("mmsmb", "export", "add", "admin$", str(share)).returncode == 0
    assert {r["export"] for r in _smb(mm)} == {"homes2", "admin$"}
    assert {r["export"] for r in _smb(mm, "admin$")} == {"admin$"}


@pytest.mark.parametrize("name, text", [
    ("has space", "Incorrect SMB export name"),
    ("semi;colon", "Incorrect SMB export name"),
    ("$(reboot)", "Incorrect SMB export name"),
    ("a/b", "Incorrect SMB export name"),
    ("'q'", "Incorrect SMB export name"),
    ("x" * 81, "Incorrect SMB export name"),
    ("global", "Incorrect SMB export name"),
    ("IPC$", "Incorrect SMB export name"),
])
def test_smb_bad_names(mm, emulator_root, share, name, text):
    assert_refused(mm, emulator_root, ["mmsmb", "export", "add", name, str(share)], 22, text)


@pytest.mark.parametrize("option, text", [
    ("browseable=perhaps", "Incorrect value for SMB option"),
    ("smb encrypt=always", "Incorrect value for SMB option"),
    ("comment=line1\nline2", "Incorrect value for SMB option"),
    ("create mask=rwx", "not an octal mode"),
    ("path=/etc", "cannot be changed"),
    ("vfs objects=evil", "Unsupported SMB option"),
    ("browseable", "expected Option=Value"),
])
def test_smb_bad_options(mm, emulator_root, share, option, text):
    assert_refused(mm, emulator_root, ["mmsmb", "export", "add", "ok", str(share), "--option",
                                       option], 22, text)


def test_smb_state_refusals(mm, emulator_root, share):
    assert mm("mmsmb", "export", "add", "data", str(share)).returncode == 0
    assert_refused(mm, emulator_root, ["mmsmb", "export", "add", "DATA", str(share)], 17,
                   "already exists")
    assert_refused(mm, emulator_root, ["mmsmb", "export", "add", "other", "/etc"], 22,
                   "not inside a GPFS file system")
    assert_refused(mm, emulator_root,
                   ["mmsmb", "export", "add", "other", str(share) + "/../nope"], 2,
                   "does not exist")
    assert_refused(mm, emulator_root, ["mmsmb", "export", "remove", "nosuch"], 2, "does not exist")
    assert_refused(mm, emulator_root, ["mmsmb", "export", "change", "nosuch", "--option",
                                       "browseable=no"], 2, "does not exist")
    assert_refused(mm, emulator_root, ["mmsmb", "export", "change", "data", "--option",
                                       "browseable=maybe"], 22, "Incorrect value")
    assert_refused(mm, emulator_root, ["mmsmb", "export", "list", "nosuch"], 2, "does not exist")
    for argv in (["mmsmb"], ["mmsmb", "export", "add", "only-name"],
                 ["mmsmb", "export", "change", "data"], ["mmsmb", "config", "list"]):
        result = mm(*argv)
        assert result.returncode == 1 and "Usage:" in result.stderr, argv
