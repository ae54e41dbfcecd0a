"""Objects built from a listing that changed while they were built are not kept as current.

The collection (or quota) notes the Loader's version before it reads; a changing command
that lands between the read and the build moves the version on, so the next access builds
again from the new listing instead of serving members made from the old one.
"""

from __future__ import annotations

from arcapix.fs.gpfs import Filesystem
from gpfskit.api import listings
from gpfskit.commands import run


def _change_after_the_first_read(monkeypatch, name, argv):
    """Make ``listings.<name>`` run ``argv`` (once) right after it read its listing."""
    read = getattr(listings, name)
    ran: list[object] = []

    def read_then_change(*args, **kwargs):
        listing = read(*args, **kwargs)
        if not ran:
            ran.append(run(argv))
        return listing

    monkeypatch.setattr(listings, name, read_then_change)
    return ran


def test_collection_built_during_a_change_is_built_again(emulator_root, monkeypatch):
    fs = Filesystem("mmfs1")
    ran = _change_after_the_first_read(monkeypatch, "filesets", ["mmcrfileset", "mmfs1", "late"])
    assert "late" not in fs.filesets  # built from the listing read before the change
    assert ran
    assert "late" in fs.filesets and fs.filesets["late"].status == "Unlinked"


def test_quota_read_during_a_change_is_read_again(emulator_root, monkeypatch):
    fs = Filesystem("mmfs1")
    run(["mmsetquota", "mmfs1:root", "--files", "10:20"])
    quota = fs.quotas.fileset["root"]
    assert quota.filesHardLimit == 20
    ran = _change_after_the_first_read(monkeypatch, "quotas",
                                       ["mmsetquota", "mmfs1:root", "--files", "30:40"])
    fs.refresh()
    assert quota.filesHardLimit == 20  # read before the change landed
    assert ran
    assert quota.filesHardLimit == 40
