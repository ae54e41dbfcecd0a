"""Canned command output shaped like the real commands (headers of storage-scale.md)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from gpfskit.commands.backends import Outcome
from helpers import MMLSFILESET_HEADER


@dataclass
class FakeBackend:
    """Answers read commands from canned output; changing commands succeed and are kept."""

    outputs: dict[tuple[str, ...], str | Callable[[], str]] = field(default_factory=dict)
    failures: dict[tuple[str, ...], tuple[int, str]] = field(default_factory=dict)
    ran: list[tuple[str, ...]] = field(default_factory=list)

    def execute(self, argv, timeout):
        key = tuple(argv)
        self.ran.append(key)
        if key in self.failures:
            code, message = self.failures[key]
            return Outcome("", message, code)
        if key in self.outputs:
            out = self.outputs[key]
            return Outcome(out() if callable(out) else out, "", 0)
        if argv[0].startswith("mmls") or argv[0] in ("mmrepquota", "mmgetstate", "mmdf"):
            return Outcome("", f"{argv[0]}: no canned output for {' '.join(argv)}", 1)
        return Outcome("", "", 0)


# Output shaped like the real commands (headers quoted in storage-scale.md) ---------------------

FILESET_HEADER = MMLSFILESET_HEADER + "\n"

# Real captured rows (storage-scale.md, section 2.8).
FILESET_ROWS = [
    "mmlsfileset::0:1:::project:root:0:3:Linked:%2Ffs%2Fproject:--:Wed May 18 10%3A41%3A35 "
    "2016:-:-:root fileset:off:-:-:-:-:-:-:-:-:-:-:-:-:0:1:300000000:102052224:2692530176:"
    "-:-:-:-:-:-:-:-:0:-:-:-:chmodAndSetacl:-:102045986:-:-:-:-:-:-:-:-:-:\n",
    "mmlsfileset::0:1:::project:ibtest:1:524291:Linked:%2Ffs%2Fproject%2Fibtest:0:Tue Jun 28 "
    "07%3A08%3A46 2016:-:-::off:-:-:-:-:-:-:-:-:-:-:-:-:1:1:1000000:556032:2692530176:-:-:-:"
    "-:-:-:-:-:0:-:-:-:chmodAndSetacl:-:544397:-:-:-:-:-:-:-:-:-:\n",
    "mmlsfileset::0:1:::project:PAS1136:2:17255366659:Unlinked:%2D%2D:--:Wed Nov 22 14%3A29%3A26"
    " 2017:-:-::off:-:-:-:-:-:-:-:-:-:-:-:-:164:1:1100000:1000000:2692530176:-:-:-:-:-:-:-:-:"
    "0:-:-:-:chmodAndSetacl:-:989069:-:-:-:-:-:-:-:-:-:\n",
]


def fileset_row(fs: str, name: str, number: int, *, independent: bool = True,
                comment: str = "", linked: bool = True) -> str:
    """A row in the real layout (the ibtest row above, with another name and id)."""
    owner, space = ("1", str(number)) if independent else ("0", "0")
    limits = "1000000:556032" if independent else "0:0"
    where = f"Linked:%2Ffs%2F{fs}%2F{name}" if linked else "Unlinked:%2D%2D"
    return (f"mmlsfileset::0:1:::{fs}:{name}:{number}:524291:{where}:0:"
            f"Tue Jun 28 07%3A08%3A46 2016:-:-:{comment}:off:-:-:-:-:-:-:-:-:-:-:-:-:{space}:"
            f"{owner}:{limits}:2692530176:-:-:-:-:-:-:-:-:0:-:-:-:chmodAndSetacl:-:544397:"
            "-:-:-:-:-:-:-:-:-:\n")


SNAPSHOT_HEADER = ("mmlssnapshot::HEADER:version:reserved:reserved:filesystemName:directory:"
                   "snapID:status:created:quotas:data:metadata:fileset:snapType:\n")

QUOTA_HEADER = ("mmrepquota::HEADER:version:reserved:reserved:filesystemName:quotaType:id:name:"
                "blockUsage:blockQuota:blockLimit:blockInDoubt:blockGrace:filesUsage:"
                "filesQuota:filesLimit:filesInDoubt:filesGrace:remarks:quota:defQuota:fid:"
                "filesetname:\n")


def canned_filesystem(backend: FakeBackend, fs: str, count: int) -> None:
    """``count`` independent filesets, one fileset snapshot and one fileset quota each."""
    names = [f"fset{i:04d}" for i in range(1, count + 1)]
    backend.outputs[("mmlsfileset", fs, "-Y")] = FILESET_HEADER + "".join(
        fileset_row(fs, n, i) for i, n in enumerate(names, start=1))
    backend.outputs[("mmlssnapshot", fs, "-Y")] = SNAPSHOT_HEADER + "".join(
        f"mmlssnapshot::0:1:::{fs}:daily:{i}:Valid:Sun Nov 15 02%3A47%3A48 2020::0:0:{n}::\n"
        for i, n in enumerate(names, start=1))
    quota_rows = "".join(
        f"mmrepquota::0:1:::{fs}:FILESET:{i}:{n}:1024:2048:4096:0:none:10:100:200:0:none:e:on:"
        "off:::\n" for i, n in enumerate(names, start=1))
    backend.outputs[("mmrepquota", "-j", fs, "-Y")] = (
        f"*** Report for FILESET quotas on {fs}\n" + QUOTA_HEADER + quota_rows)
    backend.outputs[("mmrepquota", fs, "-Y")] = (
        f"*** Report for USR GRP FILESET quotas on {fs}\n" + QUOTA_HEADER + quota_rows)
