"""The emulated cluster's configuration, kept in SQLite (WAL) under the emulator root.

Every command runs in one transaction: read-only commands in a deferred one, changing
commands in ``BEGIN IMMEDIATE``, which takes the database's write lock up front. Changing
commands also hold the cluster's command lock (``lockfile.CommandLock``: an ``flock`` on
``<root>/state.lock``, which the kernel releases when the process dies, however it dies) for
their whole run, while they change files on disk too, so two processes changing the same
cluster are serialised and neither loses the other's update. A command that changes the disk
records its intent first (in the lock file, journal.py), so a kill at any point can be rolled
back or forward.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from gpfskit.emulator import lockfile

SCHEMA_VERSION = 5

# The intents of the jobs that run without the command lock (``journal.running_job``); other
# changing commands record theirs in the lock file (``write_lock_record``). Acting and
# committed rows are what a command of an older gpfskit left when it was killed.
INTENTS = """
CREATE TABLE IF NOT EXISTS intents (
    id INTEGER PRIMARY KEY, command TEXT NOT NULL, argv TEXT NOT NULL,  -- argv: JSON list
    pid INTEGER NOT NULL, started REAL NOT NULL,
    phase TEXT NOT NULL,                       -- acting | committed | running (a job)
    steps TEXT NOT NULL                        -- JSON: the steps, in order (steps.py)
);
"""

# The token of the last intent whose command's state is committed (journal.py): a row
# there from the start, so that each commit only updates it.
INTENT_TOKEN = "INSERT OR IGNORE INTO meta VALUES ('intent_token', '');"

SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE cluster (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    name TEXT NOT NULL, cluster_id TEXT NOT NULL, uid_domain TEXT NOT NULL,
    rsh_path TEXT NOT NULL, rcp_path TEXT NOT NULL, repository_type TEXT NOT NULL,
    primary_server TEXT, secondary_server TEXT, manager_node TEXT
);
CREATE TABLE nodes (
    number INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, ip TEXT NOT NULL,
    admin_name TEXT NOT NULL,
    designation TEXT NOT NULL DEFAULT '',      -- quorumManager | quorum | manager | ''
    roles TEXT NOT NULL DEFAULT '',
    state TEXT NOT NULL DEFAULT 'active'       -- active | down | arbitrating
);
CREATE TABLE nodeclasses (name TEXT PRIMARY KEY);
CREATE TABLE nodeclass_members (
    class TEXT NOT NULL REFERENCES nodeclasses(name) ON DELETE CASCADE,
    node TEXT NOT NULL, PRIMARY KEY (class, node)
);
CREATE TABLE filesystems (
    name TEXT PRIMARY KEY,
    mountpoint TEXT NOT NULL,                  -- the configured default mount point (-T)
    mounted_at TEXT,                           -- where the tree is reachable now; NULL = offline
    block_size INTEGER NOT NULL, inode_size INTEGER NOT NULL, min_fragment INTEGER NOT NULL,
    max_inodes INTEGER NOT NULL, alloc_inodes INTEGER NOT NULL,
    automount TEXT NOT NULL DEFAULT 'yes', mount_options TEXT NOT NULL DEFAULT 'none',
    quotas_enforced TEXT NOT NULL DEFAULT 'user;group;fileset',
    perfileset_quota INTEGER NOT NULL DEFAULT 0, filesetdf INTEGER NOT NULL DEFAULT 0,
    created REAL NOT NULL, version TEXT NOT NULL, manager_node TEXT,
    attrs TEXT NOT NULL DEFAULT '{}'           -- JSON: other mmlsfs fields, by fieldName
);
CREATE TABLE mounts (
    fs TEXT NOT NULL REFERENCES filesystems(name) ON DELETE CASCADE,
    node TEXT NOT NULL, mode TEXT NOT NULL DEFAULT 'RW', PRIMARY KEY (fs, node)
);
CREATE TABLE pools (
    fs TEXT NOT NULL REFERENCES filesystems(name) ON DELETE CASCADE,
    name TEXT NOT NULL, id INTEGER NOT NULL, block_size INTEGER NOT NULL,
    write_affinity_depth INTEGER NOT NULL DEFAULT 0,
    block_group_factor INTEGER NOT NULL DEFAULT 1,
    PRIMARY KEY (fs, name)
);
CREATE TABLE nsds (
    name TEXT PRIMARY KEY, fs TEXT, pool TEXT, size_kb INTEGER NOT NULL,
    failure_group INTEGER NOT NULL DEFAULT 1, metadata INTEGER NOT NULL, data INTEGER NOT NULL,
    status TEXT NOT NULL DEFAULT 'ready', availability TEXT NOT NULL DEFAULT 'up',
    disk_id INTEGER NOT NULL, volume_id TEXT NOT NULL, servers TEXT NOT NULL DEFAULT '',
    remarks TEXT NOT NULL DEFAULT ''
);
CREATE TABLE filesets (
    fs TEXT NOT NULL REFERENCES filesystems(name) ON DELETE CASCADE,
    id INTEGER NOT NULL, name TEXT NOT NULL, root_inode INTEGER NOT NULL,
    status TEXT NOT NULL,                      -- Linked | Unlinked | Deleted
    junction TEXT,                             -- path relative to the fs root ('' = root)
    parent_id INTEGER, created REAL NOT NULL, comment TEXT NOT NULL DEFAULT '',
    inode_space INTEGER NOT NULL, is_inode_space_owner INTEGER NOT NULL,
    max_inodes INTEGER NOT NULL DEFAULT 0, alloc_inodes INTEGER NOT NULL DEFAULT 0,
    perm_change TEXT NOT NULL DEFAULT 'chmodAndSetacl',
    perm_inherit TEXT NOT NULL DEFAULT 'inheritAclOnly',
    afm TEXT NOT NULL DEFAULT '{}',            -- JSON: afm* attributes of cache filesets
    PRIMARY KEY (fs, id), UNIQUE (fs, name)
);
CREATE TABLE snapshots (
    fs TEXT NOT NULL REFERENCES filesystems(name) ON DELETE CASCADE,
    snap_id INTEGER NOT NULL, name TEXT NOT NULL,
    fileset TEXT,                              -- NULL = global snapshot
    status TEXT NOT NULL DEFAULT 'Valid', created REAL NOT NULL, expiration REAL,
    PRIMARY KEY (fs, snap_id)
);
CREATE UNIQUE INDEX snapshots_name ON snapshots (fs, ifnull(fileset, ''), name);
CREATE TABLE quotas (
    fs TEXT NOT NULL REFERENCES filesystems(name) ON DELETE CASCADE,
    type TEXT NOT NULL,                        -- USR | GRP | FILESET
    id INTEGER NOT NULL,                       -- uid, gid or fileset id
    fileset TEXT NOT NULL DEFAULT '',          -- scope of a per-fileset USR/GRP quota
    block_soft INTEGER NOT NULL DEFAULT 0, block_hard INTEGER NOT NULL DEFAULT 0,   -- KiB
    files_soft INTEGER NOT NULL DEFAULT 0, files_hard INTEGER NOT NULL DEFAULT 0,
    block_over_since REAL, files_over_since REAL,   -- when usage went over the soft limit
    PRIMARY KEY (fs, type, id, fileset)
);
CREATE TABLE grace_periods (
    fs TEXT NOT NULL REFERENCES filesystems(name) ON DELETE CASCADE,
    type TEXT NOT NULL, block_seconds INTEGER NOT NULL DEFAULT 604800,
    files_seconds INTEGER NOT NULL DEFAULT 604800, PRIMARY KEY (fs, type)
);
CREATE TABLE policies (
    fs TEXT PRIMARY KEY REFERENCES filesystems(name) ON DELETE CASCADE,
    text TEXT NOT NULL, name TEXT NOT NULL, installed_by TEXT NOT NULL,
    installed_node TEXT NOT NULL, installed_at REAL NOT NULL
);
CREATE TABLE placement_history (   -- every placement ever installed: files keep the one
    fs TEXT NOT NULL REFERENCES filesystems(name) ON DELETE CASCADE,  -- of their creation
    since REAL NOT NULL, text TEXT NOT NULL
);
CREATE TABLE callbacks (
    identifier TEXT PRIMARY KEY, command TEXT NOT NULL, events TEXT NOT NULL,
    priority INTEGER, sync INTEGER NOT NULL DEFAULT 0, timeout INTEGER,
    onerror TEXT, nodes TEXT, parms TEXT NOT NULL DEFAULT '[]', created REAL NOT NULL
);
CREATE TABLE nfs_exports (
    path TEXT NOT NULL, client TEXT NOT NULL, position INTEGER NOT NULL,
    options TEXT NOT NULL DEFAULT '{}', PRIMARY KEY (path, client)
);
CREATE TABLE smb_exports (
    name TEXT PRIMARY KEY, path TEXT NOT NULL, options TEXT NOT NULL DEFAULT '{}'
);
""" + INTENTS + INTENT_TOKEN

DB_NAME = "state.db"
_local = threading.local()


class NoCluster(Exception):
    """The emulator root holds no cluster (``gpfskit emulator init`` makes one)."""


# Steps that bring a cluster made by an older gpfskit up to SCHEMA_VERSION, by version.
UPGRADES = {
    2: ["ALTER TABLE pools ADD COLUMN write_affinity_depth INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE pools ADD COLUMN block_group_factor INTEGER NOT NULL DEFAULT 1"],
    3: [INTENTS],
    4: ["CREATE TABLE IF NOT EXISTS placement_history (fs TEXT NOT NULL REFERENCES "
        "filesystems(name) ON DELETE CASCADE, since REAL NOT NULL, text TEXT NOT NULL)"],
    5: [INTENT_TOKEN],
}


def _upgrade(db: sqlite3.Connection) -> None:
    row = db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    version = int(row[0]) if row else SCHEMA_VERSION
    if version >= SCHEMA_VERSION:
        return
    db.execute("BEGIN IMMEDIATE")
    try:
        version = int(db.execute(
            "SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0])
        for step in range(version + 1, SCHEMA_VERSION + 1):
            for statement in UPGRADES[step]:
                db.execute(statement)
        db.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'",
                   (str(SCHEMA_VERSION),))
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


def _connect(path: str | os.PathLike[str]) -> sqlite3.Connection:
    """A connection in autocommit mode (``transaction`` opens each transaction). The WAL
    mode is the database's own, set once by ``create``; the other settings are the
    connection's."""
    db = sqlite3.connect(path, isolation_level=None, timeout=120.0, check_same_thread=False)
    db.row_factory = sqlite3.Row
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("PRAGMA foreign_keys=ON")
    return db


def open_private(root: Path) -> sqlite3.Connection:
    """A new connection of the caller's own (closed by the caller), for a write beside this
    thread's transaction."""
    return _connect(os.path.join(root, DB_NAME))


def connection(root: str | os.PathLike[str]) -> sqlite3.Connection:
    """This thread's connection to the cluster under ``root`` (opened once, then reused)."""
    path = os.path.normpath(os.path.join(root, DB_NAME))
    cache = getattr(_local, "connections", None)
    if cache is None:
        cache = _local.connections = {}
    db = cache.get(path)
    if db is None:
        if not os.path.isfile(path):
            raise NoCluster(f"no emulated cluster at {root} (run: gpfskit emulator init --demo)")
        db = cache[path] = _connect(path)
        _upgrade(db)
    return db


def has_intents(db: sqlite3.Connection) -> bool:
    """Whether any command's intent is recorded (journal.py; one indexed look-up)."""
    return db.execute("SELECT 1 FROM intents LIMIT 1").fetchone() is not None


def left_to_settle(db: sqlite3.Connection, lock: int) -> bool:
    """Whether a killed command may have left an intent (journal.py): a line in the command
    lock file (``lock``), or a row of a job's in ``intents`` when the file's jobs mark says
    one may be there. One read of the lock file, and rarely a look-up."""
    intent, jobs = lockfile.peek(lock)
    return intent or (jobs and has_intents(db))


def forget_connections() -> None:
    """Close this thread's cached connections and lock files (tests that delete roots call
    this)."""
    for db in getattr(_local, "connections", {}).values():
        db.close()
    _local.connections = {}
    lockfile.forget()


def create(root: Path) -> sqlite3.Connection:
    """Create an empty state database under ``root``."""
    root.mkdir(parents=True, exist_ok=True)
    path = root / DB_NAME
    if path.exists():
        raise FileExistsError(f"{root} already holds an emulated cluster")
    lockfile.create(root / lockfile.LOCK_NAME)   # the command lock, there from the start
    db = _connect(path)
    db.execute("PRAGMA journal_mode=WAL")        # kept in the file: set once
    db.executescript(SCHEMA)
    db.execute("INSERT INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
    db.close()
    return connection(root)


def set_lock_wait(db: sqlite3.Connection, seconds: float) -> None:
    """How long a command waits for another one's write lock before giving up."""
    db.execute(f"PRAGMA busy_timeout = {max(int(seconds * 1000), 0)}")


@contextmanager
def transaction(db: sqlite3.Connection, *, write: bool) -> Iterator[sqlite3.Connection]:
    """One command's transaction; ``write`` takes the write lock before anything is read."""
    db.execute("BEGIN IMMEDIATE" if write else "BEGIN")
    try:
        yield db
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")
