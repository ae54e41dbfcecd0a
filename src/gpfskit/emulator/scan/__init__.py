"""The metadata scan behind the emulated ``mmapplypolicy``.

``scan(tree, ...)`` walks a tree in parallel and streams pyarrow RecordBatches whose columns
are policy attributes (PATH_NAME, FILE_SIZE, FILESET_NAME, ...); ``write_records`` writes the
file-list records handed to EXTERNAL LIST/POOL scripts and ``parse_records`` reads them back.

The listing itself is a small C extension (``_walk``: getdents64 + statx with the GIL
released) with a pure-Python twin (``_pywalk``) used when the extension is not built.
``pip install -e .`` compiles it in place (``setup.py``); run it again after editing
``_walk.c``. ``HAVE_C_EXTENSION`` tells which lister is in use.

Typical use (what the emulated ``mmapplypolicy`` does)::

    s = scan(tree, visible_root="/gpfs/fs1", junctions={"": "root", "proj": "proj"},
             independent={"proj"}, columns={"FILE_SIZE", "USER_ID", "MODIFICATION_TIME"})
    with open(prefix + ".list.big", "wb") as out:
        for batch in s:
            write_records(out, batch.filter(pc.greater(batch["FILE_SIZE"], 2**20)))
    print(f"{s.stats.files} files, {s.stats.directories} directories, "
          f"{s.stats.others} other objects, {s.stats.problems} 'skipped' files and/or errors.")
"""

from gpfskit.emulator.scan._pywalk import MAX_PREFILTER_CONJUNCTIONS, MAX_PREFILTER_TERMS
from gpfskit.emulator.scan.columns import (
    ALL_COLUMNS,
    EXTRA_COLUMNS,
    PREFILTER_ATTRIBUTES,
    REQUIRED_COLUMNS,
    TYPES,
)
from gpfskit.emulator.scan.records import (
    Record,
    escape_paths,
    parse_records,
    unescape,
    write_records,
)
from gpfskit.emulator.scan.scanner import (
    HAVE_C_EXTENSION,
    SNAPSHOTS_DIR,
    Prefilter,
    Scan,
    ScanError,
    ScanStats,
    directory_hash,
    scan,
    subtree_junctions,
)

__all__ = [
    "ALL_COLUMNS",
    "EXTRA_COLUMNS",
    "HAVE_C_EXTENSION",
    "MAX_PREFILTER_CONJUNCTIONS",
    "MAX_PREFILTER_TERMS",
    "PREFILTER_ATTRIBUTES",
    "REQUIRED_COLUMNS",
    "SNAPSHOTS_DIR",
    "TYPES",
    "Prefilter",
    "Record",
    "Scan",
    "ScanError",
    "ScanStats",
    "directory_hash",
    "escape_paths",
    "parse_records",
    "scan",
    "subtree_junctions",
    "unescape",
    "write_records",
]
