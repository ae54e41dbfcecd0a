"""NFS and SMB exposers: a protocol share of a space or a path, and its configuration fragment.

Creating an exposer runs ``mmnfs export add`` / ``mmsmb export add`` through the API (which
checks every access option first) and writes the share's own fragment,
``pixmanaged.<share id>.conf``: a Ganesha ``EXPORT`` block in the exports.d-style directory
for NFS, a Samba share section in the include directory for SMB (directories from the
directives, see :mod:`.settings`). The fragment is written to a temporary name and renamed,
so a reader never sees half of one; the directory is meant to be shared (or synchronised),
so every node reads the same definitions. Deleting the exposer removes the share and its
fragment. If writing the fragment fails the share is removed again.
"""

from __future__ import annotations

import logging
import os
import re
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from gpfskit.api import Cluster, NfsClient
from gpfskit.api.exports import export_path, share_name, smb_option
from gpfskit.commands import getDryRun
from gpfskit.mgmt.provision import recorded
from gpfskit.mgmt.provision.errors import FieldError
from gpfskit.mgmt.provision.settings import nfs_fragment_dir, smb_fragment_dir
from gpfskit.mgmt.provision.undo import UndoLog

log = logging.getLogger("gpfskit.mgmt.provision")

_SHARE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$")


@dataclass(frozen=True)
class ExposerResult:
    protocol: str            # 'nfs' or 'smb'
    share_id: str
    path: str
    share: str               # the export path (NFS) or share name (SMB)
    fragment: str            # the fragment file
    commands: tuple[str, ...] = ()


def fragment_name(share_id: str) -> str:
    if not isinstance(share_id, str) or not _SHARE_ID.match(share_id):
        raise FieldError("id", f"invalid share id {share_id!r}: use letters, digits, '-' "
                         "and '_'")
    return f"pixmanaged.{share_id}.conf"


def _write_fragment(directory: str, share_id: str, text: str) -> str:
    os.makedirs(directory, exist_ok=True)
    target = os.path.join(directory, fragment_name(share_id))
    fd, partial = tempfile.mkstemp(dir=directory, prefix=".pixmanaged.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(partial, 0o644)
        os.replace(partial, target)
    except BaseException:
        os.unlink(partial)
        raise
    return target


def _remove_fragment(directory: str, share_id: str) -> None:
    if getDryRun():
        return
    try:
        os.unlink(os.path.join(directory, fragment_name(share_id)))
    except FileNotFoundError:
        pass


def _quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def nfs_fragment(share_id: str, path: str, clients: Iterable[NfsClient]) -> str:
    """The Ganesha ``EXPORT`` block of a managed NFS share."""
    lines = [f"# managed by gpfskit: NFS exposer {share_id}; changes here are overwritten",
             "EXPORT {", f"    Path = {_quoted(path)};", f"    Pseudo = {_quoted(path)};",
             "    FSAL { Name = GPFS; }"]
    for client in clients:
        lines += ["    CLIENT {", f"        Clients = {_quoted(client.client)};"]
        lines += [f"        {key} = {value};" for key, value in client.options.items()]
        lines.append("    }")
    lines.append("}")
    return "\n".join(lines) + "\n"


def smb_fragment(share_id: str, name: str, path: str, options: Mapping[str, str]) -> str:
    """The Samba share section of a managed SMB share."""
    lines = [f"# managed by gpfskit: SMB exposer {share_id}; changes here are overwritten",
             f"[{name}]", f"    path = {path}"]
    lines += [f"    {key} = {value}" for key, value in options.items()]
    return "\n".join(lines) + "\n"


def _directory(path: Any) -> str:
    try:
        normal = export_path(path)
    except (TypeError, ValueError) as exc:
        raise FieldError("path", str(exc)) from None
    if not os.path.isdir(normal):
        raise FieldError("path", f"{normal} is not an existing directory")
    return normal


def create_nfs_exposer(share_id: str, path: str,
                       clients: Iterable[NfsClient | Mapping[str, Any]] = ()) -> ExposerResult:
    """Export ``path`` over NFS to ``clients`` (``NfsClient`` objects, or mappings with a
    ``client`` key and options); none means every client with the defaults."""
    start = recorded.mark()
    fragment = fragment_name(share_id)
    normal = _directory(path)
    try:
        entries = [c if isinstance(c, NfsClient) else
                   NfsClient(c.get("client", "*"), {k: v for k, v in c.items() if k != "client"})
                   for c in clients]
    except (TypeError, ValueError, AttributeError) as exc:
        raise FieldError("clients", str(exc)) from None
    exports = Cluster().nfsExports
    if normal in exports:
        raise FieldError("path", f"{normal} is already exported over NFS")
    entries = entries or [NfsClient("*")]
    directory = nfs_fragment_dir()
    undo = UndoLog()
    try:
        undo.record("nfs_export", path=normal)
        exports.new(normal, clients=entries)
        if not getDryRun():
            undo.record("write_file", path=os.path.join(directory, fragment))
            _write_fragment(directory, share_id, nfs_fragment(share_id, normal, entries))
    except Exception:
        undo.rollback()
        raise
    log.info("NFS exposer %s: %s exported, fragment %s", share_id, normal, fragment)
    return ExposerResult("nfs", share_id, normal, normal, os.path.join(directory, fragment),
                         recorded.since(start))


def delete_nfs_exposer(share_id: str, path: str) -> ExposerResult:
    """Remove the NFS export of ``path`` and its fragment."""
    start = recorded.mark()
    fragment_name(share_id)
    normal = export_path(path)
    exports = Cluster().nfsExports
    if normal in exports:
        exports.destroy(normal)
    directory = nfs_fragment_dir()
    _remove_fragment(directory, share_id)
    return ExposerResult("nfs", share_id, normal, normal,
                         os.path.join(directory, fragment_name(share_id)), recorded.since(start))


def create_smb_exposer(share_id: str, name: str, path: str,
                       options: Mapping[str, Any] | None = None) -> ExposerResult:
    """Share ``path`` over SMB as ``name`` with ``options`` (Samba option names)."""
    start = recorded.mark()
    fragment = fragment_name(share_id)
    try:
        share = share_name(name)
    except ValueError as exc:
        raise FieldError("name", str(exc)) from None
    normal = _directory(path)
    try:
        checked = dict(smb_option(k, v) for k, v in (options or {}).items())
    except ValueError as exc:
        raise FieldError("options", str(exc)) from None
    shares = Cluster().smbShares
    if share in shares:
        raise FieldError("name", f"SMB share {share} already exists")
    directory = smb_fragment_dir()
    undo = UndoLog()
    try:
        undo.record("smb_share", name=share)
        shares.new(share, normal, options=checked)
        if not getDryRun():
            undo.record("write_file", path=os.path.join(directory, fragment))
            _write_fragment(directory, share_id, smb_fragment(share_id, share, normal, checked))
    except Exception:
        undo.rollback()
        raise
    log.info("SMB exposer %s: %s shared as %s, fragment %s", share_id, normal, share, fragment)
    return ExposerResult("smb", share_id, normal, share, os.path.join(directory, fragment),
                         recorded.since(start))


def delete_smb_exposer(share_id: str, name: str) -> ExposerResult:
    """Remove the SMB share ``name`` and its fragment."""
    start = recorded.mark()
    fragment_name(share_id)
    shares = Cluster().smbShares
    path = ""
    if name in shares:
        path = shares[name].path
        shares.destroy(name)
    directory = smb_fragment_dir()
    _remove_fragment(directory, share_id)
    return ExposerResult("smb", share_id, path, name,
                         os.path.join(directory, fragment_name(share_id)), recorded.since(start))
