"""Protocol exports: NFS exports (``mmnfs export``) and SMB shares (``mmsmb export``).

    cluster = Cluster()
    export = cluster.nfsExports.new('/gpfs/mmfs1/projects/x',
                                    clients=[NfsClient('10.0.0.0/8', Access_Type='RW'),
                                             NfsClient('*', Access_Type='RO')])
    share = cluster.smbShares.new('projects', '/gpfs/mmfs1/projects',
                                  options={'browseable': 'yes', 'read only': 'no'})
    cluster.nfsExports.destroy('/gpfs/mmfs1/projects/x')
    cluster.smbShares.destroy('projects')

All NFS exports come from one ``mmnfs export list -Y`` (one row per path and client), all SMB
shares from one ``mmsmb export list -Y --all``. Access options are checked before anything
runs, with the names and values the commands accept, so a bad option is a ``ValueError``
naming it and nothing changes. The NFS listing is parsed by position rather than by splitting
on every colon: its values are not percent-encoded, and an IPv6 client contains colons.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from gpfskit.api import checks
from gpfskit.api.base import APIObject, NotFoundError
from gpfskit.api.collection import Collection
from gpfskit.api.loader import Loader
from gpfskit.commands import CommandResult, GPFSExecuteException, yformat

NFS_LISTING = ("mmnfs", "export", "list", "-Y")
SMB_LISTING = ("mmsmb", "export", "list", "-Y", "--all")

A = TypeVar("A", bound=APIObject)


def _attached(cls: type[A], loader: Loader, **state: Any) -> A:
    """A member built from a listing (its name is not checked again)."""
    obj = cls.__new__(cls)
    APIObject.__init__(obj, loader)
    obj.__dict__.update(state)
    return obj


def _remove(obj: APIObject, argv: list[str], listing: tuple[str, ...], key: str
            ) -> CommandResult:
    """Run a removal; under dry run the entry leaves the cached listing."""
    return obj._change(argv, lambda: obj._loader.patch([listing],
                                                       lambda table: table.pop(key, None)))


# -- NFS access options ---------------------------------------------------------------------

NFS_COLUMNS = ("Path", "Delegations", "Clients", "Access_Type", "Protocols", "Transports",
               "Squash", "Anonymous_uid", "Anonymous_gid", "SecType", "PrivilegedPort",
               "DefaultDelegations", "Manage_Gids", "NFS_Commit")
_AFTER_CLIENTS = len(NFS_COLUMNS) - 3

_SQUASH = {"no_root_squash": "NO_ROOT_SQUASH", "root_squash": "ROOT_SQUASH",
           "all_squash": "ALL_SQUASH", "root_id_squash": "ROOT_ID_SQUASH",
           "none": "NO_ROOT_SQUASH", "noidsquash": "NO_ROOT_SQUASH",
           "all_anonymous": "ALL_SQUASH"}
_CHOICES: dict[str, dict[str, str]] = {
    "Access_Type": {v: v for v in ("RO", "RW", "NONE", "MDONLY", "MDONLY_RO")},
    "Delegations": {"NONE": "NONE", "READ": "READ", "WRITE": "WRITE",
                    "READWRITE": "READWRITE"},
    "PrivilegedPort": {"TRUE": "TRUE", "FALSE": "FALSE"},
    "Manage_Gids": {"TRUE": "TRUE", "FALSE": "FALSE"},
    "NFS_Commit": {"TRUE": "TRUE", "FALSE": "FALSE"},
}
_LISTS: dict[str, dict[str, str]] = {
    "Protocols": {"3": "3", "4": "4", "NFS3": "3", "NFS4": "4", "V3": "3", "V4": "4"},
    "Transports": {"TCP": "TCP", "UDP": "UDP"},
    "SecType": {v: v for v in ("SYS", "KRB5", "KRB5I", "KRB5P", "NONE")},
}
NFS_OPTIONS = ("Access_Type", "Squash", "Protocols", "Transports", "SecType",
               "Anonymous_uid", "Anonymous_gid", "PrivilegedPort", "Delegations",
               "Manage_Gids", "NFS_Commit")
_NFS_OPTION_NAMES = {name.lower(): name for name in NFS_OPTIONS}
# Host names, IPv4/IPv6 addresses and networks, wildcards and @netgroups.
_CLIENT = re.compile(r"^(?:\*|@?[A-Za-z0-9_.*?-]+|[0-9A-Fa-f:.]+|[0-9A-Fa-f:.]+/\d{1,3})"
                     r"(?:/\d{1,3})?$")
# What an export path may not hold: quotes, separators of the client syntax, '%', controls.
_BAD_PATH = re.compile(r"[\"'`;:\\$%\x00-\x1f\x7f]")


def nfs_option(name: Any, value: Any) -> tuple[str, str]:
    """A checked NFS client option as (canonical name, canonical value)."""
    if not isinstance(name, str) or name.lower() not in _NFS_OPTION_NAMES:
        raise ValueError(f"unknown NFS access option {name!r} (options: "
                         f"{', '.join(NFS_OPTIONS)})")
    key = _NFS_OPTION_NAMES[name.lower()]
    if isinstance(value, bool):
        value = "TRUE" if value else "FALSE"
    if isinstance(value, (list, tuple)):
        value = ",".join(str(v) for v in value)
    if isinstance(value, int):
        value = str(value)
    if not isinstance(value, str):
        raise ValueError(f"NFS option {key} takes text, not {type(value).__name__}")
    text = value.strip()
    if key == "Squash":
        canonical = _SQUASH.get(text.lower())
        if canonical is None:
            raise ValueError(f"invalid value {value!r} for NFS option Squash (valid: "
                             "NO_ROOT_SQUASH, ROOT_SQUASH, ALL_SQUASH, ROOT_ID_SQUASH)")
        return key, canonical
    if key in ("Anonymous_uid", "Anonymous_gid"):
        if not re.fullmatch(r"-?\d{1,10}", text) or not -2 <= int(text) <= 4294967295:
            raise ValueError(f"invalid value {value!r} for NFS option {key} (a uid/gid "
                             "number, -2 for nobody)")
        return key, str(int(text))
    if key in _LISTS:
        allowed = _LISTS[key]
        items = [item for item in re.split(r"[,:]", text.upper()) if item]
        bad = [item for item in items if item not in allowed]
        if not items or bad:
            raise ValueError(f"invalid value {value!r} for NFS option {key} (valid: "
                             f"{', '.join(dict.fromkeys(allowed.values()))})")
        return key, ",".join(dict.fromkeys(allowed[item] for item in items))
    allowed = _CHOICES[key]
    if text.upper() not in allowed:
        raise ValueError(f"invalid value {value!r} for NFS option {key} (valid: "
                         f"{', '.join(allowed)})")
    return key, allowed[text.upper()]


@dataclass(frozen=True)
class NfsClient:
    """One client entry of an NFS export: who (host, network, ``*``, ``@netgroup``) and the
    access options given for it (``Access_Type='RW'``, ``Squash='root_squash'``...)."""

    client: str
    options: Mapping[str, str] = field(default_factory=dict)

    def __init__(self, client: str, options: Mapping[str, Any] | None = None,
                 **more: Any) -> None:
        if not isinstance(client, str) or len(client) > 255 or not _CLIENT.match(client):
            raise ValueError(f"invalid NFS client {client!r}: give a host name, an IP "
                             "address or network (10.0.0.0/8), '*' or '@netgroup'")
        checked = dict(nfs_option(k, v) for k, v in {**(options or {}), **more}.items())
        object.__setattr__(self, "client", client)
        object.__setattr__(self, "options", checked)

    def spec(self) -> str:
        """The ``--client`` text: ``10.0.0.0/8(Access_Type=RW,Squash=ROOT_SQUASH)``."""
        if not self.options:
            return self.client
        return f"{self.client}({','.join(f'{k}={v}' for k, v in self.options.items())})"


def export_path(value: Any) -> str:
    """A checked, normalised absolute export path."""
    path = checks.path(value, "export path")
    if _BAD_PATH.search(path):
        raise ValueError(f"export path {path!r} contains a character exports cannot hold "
                         "(quotes, ';', ':', '\\', '$', '%')")
    return os.path.normpath(path)


def _parse_nfs(text: str) -> dict[str, list[dict[str, str]]]:
    """``{path: [row per client]}`` from ``mmnfs export list -Y`` (values are not encoded)."""
    exports: dict[str, list[dict[str, str]]] = {}
    for line in text.splitlines():
        fields = line.split(":")
        if len(fields) < 7 + len(NFS_COLUMNS) - 1 or fields[2] == "HEADER" or \
                fields[1] != "nfsexports":
            continue
        body = fields[6:-1] if fields[-1] == "" else fields[6:]
        head, tail = body[:2], body[-_AFTER_CLIENTS:]
        client = ":".join(body[2:len(body) - _AFTER_CLIENTS])
        row = dict(zip(NFS_COLUMNS, [*head, client, *tail]))
        exports.setdefault(row["Path"], []).append(row)
    return exports


def _no_exports(exc: GPFSExecuteException) -> bool:
    text = (exc.stdout + exc.stderr).lower()
    return "no exports" in text or "no nfs exports" in text or "no smb exports" in text


def nfs_listing(loader: Loader) -> dict[str, list[dict[str, str]]]:
    return loader.command(NFS_LISTING, _parse_nfs, empty=_no_exports)


class NfsExport(APIObject):
    """One NFS export: ``path``, ``clients`` (a list of ``NfsClient`` with every option the
    listing reports) and ``exists()``."""

    def __init__(self, path: str, _loader: Loader | None = None) -> None:
        super().__init__(_loader)
        self._path = export_path(path)

    def _identity(self) -> tuple[Any, ...]:
        return (self._path,)

    def __repr__(self) -> str:
        return f"NfsExport({self._path!r})"

    def __str__(self) -> str:
        return self._path

    @property
    def path(self) -> str:
        return self._path

    def _rows(self) -> list[dict[str, str]]:
        rows = nfs_listing(self._loader).get(self._path)
        if rows is None:
            raise NotFoundError(f"NFS export {self._path} does not exist.")
        return rows

    def exists(self) -> bool:
        return self._path in nfs_listing(self._loader)

    @property
    def clients(self) -> list[NfsClient]:
        return [NfsClient(row["Clients"], {k: row[k] for k in NFS_OPTIONS if row.get(k)})
                for row in self._rows()]

    def delete(self) -> CommandResult:
        """``mmnfs export remove <path>``."""
        self._rows()
        return _remove(self, ["mmnfs", "export", "remove", self._path], NFS_LISTING, self._path)


class NfsExports(Collection[NfsExport]):
    """Every NFS export of the cluster, keyed by path."""

    _noun = "NFS export"

    def _build(self) -> dict[str, NfsExport]:
        return {path: _attached(NfsExport, self._loader, _path=path)
                for path in nfs_listing(self._loader)}

    def _key(self, key: Any) -> Any:
        if isinstance(key, NfsExport):
            return key.path
        return os.path.normpath(key) if isinstance(key, str) and key.startswith("/") else key

    def new(self, path: str, clients: Iterable[NfsClient | str] | None = None,
            pseudo: str | None = None) -> NfsExport:
        """Export ``path`` (``mmnfs export add <path> --client ...``) and return the export.

        ``clients`` are ``NfsClient`` objects (or bare client names, which get the defaults);
        none means every client (``*``) with the default options.
        """
        normal = export_path(path)
        entries = [c if isinstance(c, NfsClient) else NfsClient(c) for c in clients or ()]
        names = [c.client for c in entries]
        if len(set(names)) != len(names):
            raise ValueError(f"an NFS client is given more than once: {', '.join(names)}")
        if normal in nfs_listing(self._loader):
            raise ValueError(f"NFS export {normal} already exists")
        argv = ["mmnfs", "export", "add", normal]
        if entries:
            argv += ["--client", ";".join(c.spec() for c in entries)]
        if pseudo is not None:
            argv += ["--pseudo", export_path(pseudo)]
        rows = [{"Path": normal, "Clients": c.client, **c.options}
                for c in (entries or [NfsClient("*")])]
        self._change(argv, lambda: self._loader.patch(
            [NFS_LISTING], lambda table: table.setdefault(normal, rows)))
        return self[normal]

    def destroy(self, export: str | NfsExport) -> CommandResult:
        """Remove an export (KeyError when there is none at that path)."""
        return self[export].delete()


# -- SMB shares -------------------------------------------------------------------------------

_SMB_BOOLEAN = ("yes", "no", "true", "false", "1", "0")
SMB_OPTIONS: dict[str, tuple[str, ...] | str | None] = {
    "browseable": _SMB_BOOLEAN, "guest ok": _SMB_BOOLEAN, "read only": _SMB_BOOLEAN,
    "smb encrypt": ("auto", "default", "mandatory", "required", "disabled", "off",
                    "desired", "if_required"),
    "hide unreadable": _SMB_BOOLEAN, "hide dot files": _SMB_BOOLEAN, "oplocks": _SMB_BOOLEAN,
    "level2 oplocks": _SMB_BOOLEAN, "access based share enum": _SMB_BOOLEAN,
    "posix locking": _SMB_BOOLEAN, "gpfs:leases": _SMB_BOOLEAN,
    "gpfs:sharemodes": _SMB_BOOLEAN, "gpfs:recalls": _SMB_BOOLEAN,
    "csc policy": ("manual", "documents", "programs", "disable"),
    "comment": None, "admin users": None, "valid users": None, "invalid users": None,
    "read list": None, "write list": None, "hosts allow": None, "hosts deny": None,
    "force user": None, "force group": None, "create mask": "mask", "directory mask": "mask",
    "fileid:algorithm": ("fsname", "hostname", "fsid", "fsname_norootdir", "fsname_nodirs"),
}
_SHARE = re.compile(r"^[A-Za-z0-9_.\-]{1,79}\$?$")
_RESERVED_SHARES = frozenset({"global", "homes", "printers", "ipc$", "print$"})


def share_name(value: Any) -> str:
    if not isinstance(value, str) or not _SHARE.match(value) or \
            value.lower() in _RESERVED_SHARES:
        raise ValueError(f"invalid SMB share name {value!r}: use up to 79 letters, digits, "
                         "'_', '.' and '-' (a trailing '$' hides the share); global, homes "
                         "and printers are reserved")
    return value


def smb_option(name: Any, value: Any) -> tuple[str, str]:
    """A checked SMB share option as (canonical name, value)."""
    key = " ".join(name.split()).lower() if isinstance(name, str) else None
    if key is None or key not in SMB_OPTIONS:
        raise ValueError(f"unknown SMB share option {name!r} (options: "
                         f"{', '.join(SMB_OPTIONS)})")
    if isinstance(value, bool):
        value = "yes" if value else "no"
    if not isinstance(value, str):
        raise ValueError(f"SMB option {key!r} takes text, not {type(value).__name__}")
    text = value.strip()
    allowed = SMB_OPTIONS[key]
    if len(text) > 1024 or not text.isprintable():
        raise ValueError(f"invalid value for SMB option {key!r}: it must be printable text "
                         "of at most 1024 characters")
    if allowed == "mask":
        if not re.fullmatch(r"0?[0-7]{3,4}", text):
            raise ValueError(f"invalid value {value!r} for SMB option {key!r}: an octal mode "
                             "such as 0644")
    elif allowed is not None:
        if text.lower() not in allowed:
            raise ValueError(f"invalid value {value!r} for SMB option {key!r} (valid: "
                             f"{', '.join(allowed)})")
        text = text.lower()
    return key, text


def _parse_smb(text: str) -> dict[str, dict[str, str]]:
    shares: dict[str, dict[str, str]] = {}
    for row in yformat.parse_table(text, "exports", nulls=False):
        name = row.get("export")
        if name:
            shares[name] = {k: v or "" for k, v in row.items()}
    return shares


def smb_listing(loader: Loader) -> dict[str, dict[str, str]]:
    return loader.command(SMB_LISTING, _parse_smb, empty=_no_exports)


class SmbShare(APIObject):
    """One SMB share: ``name``, ``path``, ``options`` (every option the listing reports)."""

    def __init__(self, name: str, _loader: Loader | None = None) -> None:
        super().__init__(_loader)
        self._name = share_name(name)

    def _identity(self) -> tuple[Any, ...]:
        return (self._name.lower(),)

    def __repr__(self) -> str:
        return f"SmbShare({self._name!r})"

    def __str__(self) -> str:
        return self._name

    @property
    def name(self) -> str:
        return self._name

    def _row(self) -> dict[str, str]:
        for name, row in smb_listing(self._loader).items():
            if name.lower() == self._name.lower():
                return row
        raise NotFoundError(f"SMB export {self._name} does not exist.")

    def exists(self) -> bool:
        return any(n.lower() == self._name.lower() for n in smb_listing(self._loader))

    @property
    def path(self) -> str:
        return self._row()["path"]

    @property
    def options(self) -> dict[str, str]:
        return {k: v for k, v in self._row().items() if k not in ("export", "path")}

    def delete(self) -> CommandResult:
        """``mmsmb export remove <name>``."""
        name = self._row()["export"]
        return _remove(self, ["mmsmb", "export", "remove", name], SMB_LISTING, name)


class SmbShares(Collection[SmbShare]):
    """Every SMB share of the cluster, keyed by share name."""

    _noun = "SMB share"

    def _build(self) -> dict[str, SmbShare]:
        return {name: _attached(SmbShare, self._loader, _name=name)
                for name in smb_listing(self._loader)}

    def _alias(self, key: Any, members: dict[str, SmbShare]) -> str | None:
        if isinstance(key, str):  # share names are case-insensitive
            return next((name for name in members if name.lower() == key.lower()), None)
        return None

    def new(self, name: str, path: str, options: Mapping[str, Any] | None = None
            ) -> SmbShare:
        """Share ``path`` as ``name`` (``mmsmb export add <name> <path> --option ...``)."""
        share = share_name(name)
        normal = export_path(path)
        checked = dict(smb_option(k, v) for k, v in (options or {}).items())
        if share in self:
            raise ValueError(f"SMB share {share} already exists")
        argv = ["mmsmb", "export", "add", share, normal]
        for key, value in checked.items():
            argv += ["--option", f"{key}={value}"]
        row = {"export": share, "path": normal, "browseable": "yes", "guest ok": "no",
               "smb encrypt": "auto", **checked}
        self._change(argv, lambda: self._loader.patch(
            [SMB_LISTING], lambda table: table.setdefault(share, row)))
        return self[share]

    def destroy(self, share: str | SmbShare) -> CommandResult:
        """Remove a share (KeyError when there is none of that name)."""
        return self[share].delete()
