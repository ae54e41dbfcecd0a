"""Plain helper functions shared by tests in several directories (fixtures live in conftest.py)."""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="changes file owners")

# The mmlsfileset -Y header line of a real cluster (storage-scale.md), without its newline.
MMLSFILESET_HEADER = (
    "mmlsfileset::HEADER:version:reserved:reserved:filesystemName:filesetName:id:rootInode:"
    "status:path:parentId:created:inodes:dataInKB:comment:filesetMode:afmTarget:afmState:"
    "afmMode:afmFileLookupRefreshInterval:afmFileOpenRefreshInterval:"
    "afmDirLookupRefreshInterval:afmDirOpenRefreshInterval:afmAsyncDelay:afmNeedsRecovery:"
    "afmExpirationTimeout:afmRPO:afmLastPSnapId:inodeSpace:isInodeSpaceOwner:maxInodes:"
    "allocInodes:inodeSpaceMask:afmShowHomeSnapshots:afmNumReadThreads:reserved:"
    "afmReadBufferSize:afmWriteBufferSize:afmReadSparseThreshold:afmParallelReadChunkSize:"
    "afmParallelReadThreshold:snapId:afmNumFlushThreads:afmPrefetchThreshold:"
    "afmEnableAutoEviction:permChangeFlag:afmParallelWriteThreshold:freeInodes:"
    "afmNeedsResync:afmParallelWriteChunkSize:afmNumWriteThreads:afmPrimaryID:afmDRState:"
    "afmAssociatedPrimaryId:afmDIO:afmGatewayNode:afmIOFlags:afmVerifyDmapi:afmSkipHomeACL:"
    "afmSkipHomeMtimeNsec:afmForceCtimeChange:afmSkipResyncRecovery:afmSkipConflictQDrop:"
    "afmRefreshAsync:afmParallelMounts:afmRefreshOnce:afmSkipHomeCtimeNsec:afmReaddirOnce:"
    "afmResyncVer2:afmSnapUncachedRead:afmFastCreate:afmObjectXattr:afmObjectVHB:"
    "afmObjectNoDirectoryObj:afmSkipHomeRefresh:afmObjectGCS:afmObjectUserKeys:"
    "afmWriteOnClose:afmObjectSSL:afmObjectACL:afmMUPromoted:afmMUAutoRemove:"
    "afmObjFastReaddir:afmObjectBlkIO:preventSnapshotRestore:permInheritFlag:afmIOFlags2:"
    "afmRemoteUpdate:falStatus:"
)


def ok(result):
    """``result`` of an emulated command, after checking that it succeeded."""
    assert result.returncode == 0, result.stderr
    return result


def table_rows(root: Path) -> dict[str, list[tuple]]:
    """Every table's rows in the emulator database under ``root``, sorted, but the journal's
    token of the last committed intent (which any command that changed the disk moves on,
    even one undone by the next)."""
    db = sqlite3.connect(root / "state.db")
    try:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        rows = {t: sorted(map(tuple, db.execute(f"SELECT * FROM {t}"))) for t in tables}
    finally:
        db.close()
    rows["meta"] = [r for r in rows["meta"] if r[0] != "intent_token"]
    return rows


def cluster_files(root: Path) -> list[str]:
    """Every path under ``root`` (relative), except the database and its lock file."""
    return sorted(str(p.relative_to(root)) for p in root.rglob("*")
                  if not p.name.startswith(("state.db", "state.lock")))


def fileset_and_snapshot_state(mm, root: Path) -> tuple:
    """The mmfs1 fileset and snapshot listings and the files on disk: what a refused fileset
    or snapshot command must leave alone."""
    return (mm("mmlsfileset", "mmfs1", "-Y").stdout, mm("mmlssnapshot", "mmfs1", "-Y").stdout,
            cluster_files(root))


def assert_refused_unchanged(mm, argv: Sequence[str], rc: int, text: str,
                             unchanged: Callable[[], object]):
    """Run ``argv``; it must fail with ``rc`` and ``text`` on stderr and leave what
    ``unchanged()`` returns as it was before. Returns the command's Result."""
    before = unchanged()
    result = mm(*argv)
    assert result.returncode == rc, (result.returncode, result.stdout, result.stderr)
    assert text in result.stderr, result.stderr
    assert unchanged() == before
    return result


def assert_refused(mm, root: Path, argv: Sequence[str], rc: int, text: str):
    """A refused command that leaves every database table as it was."""
    return assert_refused_unchanged(mm, argv, rc, text, lambda: table_rows(root))


def wait_for(predicate: Callable[[], object], timeout: float = 15.0, interval: float = 0.05):
    """Poll until ``predicate()`` is truthy (asynchronous callbacks), at most ``timeout`` s;
    returns its last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)
