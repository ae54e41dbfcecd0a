"""The directives provisioning reads, with their per-backend defaults.

On the emulated cluster every directory defaults to a place under the emulator's root, so a
demo cluster and everything provisioned on it live (and are removed) together; on a real
cluster the defaults are the usual system places.
"""

from __future__ import annotations

import os

from gpfskit.config import config
from gpfskit.mgmt.provision.errors import ProvisionError


def _emulated_root() -> str | None:
    if config["gpfskit.cluster.backend"] == "emulated":
        return config["gpfskit.emulator.root"]
    return None


def _directory(directive: str, emulated: str, real: str) -> str:
    value = config[directive]
    if value is not None:
        if not isinstance(value, str) or not os.path.isabs(value):
            raise ProvisionError(f"directive {directive} must be an absolute path, not "
                                 f"{value!r}")
        return value
    root = _emulated_root()
    return os.path.join(root, emulated) if root else real


def template_store() -> str:
    """Where templates are captured (``arcapix.management.templates.store``)."""
    return _directory("arcapix.management.templates.store", "templates",
                      "/var/lib/gpfskit/templates")


def nfs_fragment_dir() -> str:
    """The exports.d-style directory of NFS share fragments."""
    return _directory("arcapix.management.nfs.exports_dir", "etc/ganesha/exports.d",
                      "/etc/ganesha/exports.d")


def smb_fragment_dir() -> str:
    """The Samba include directory of SMB share fragments."""
    return _directory("arcapix.management.smb.include_dir", "etc/samba/pixmanaged.d",
                      "/etc/samba/pixmanaged.d")


def soft_limit_percent() -> float:
    """A space's soft block limit in percent of its hard limit."""
    value = config["arcapix.management.quota.soft_percent"]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= 100:
        raise ProvisionError("directive arcapix.management.quota.soft_percent must be a "
                             f"number in (0, 100], not {value!r}")
    return float(value)
