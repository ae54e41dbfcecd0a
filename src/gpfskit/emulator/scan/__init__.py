"""The metadata scan behind the emulated ``mmapplypolicy``.

``scan(tree, ...)`` walks a tree in parallel and streams pyarrow RecordBatches whose columns
are policy attributes (PATH_NAME, FILE_SIZE, FILESET_NAME, ...); ``write_records`` writes the
file-list records handed to EXTERNAL LIST/POOL scripts and ``parse_records`` reads them back.

The listing itself is a small C extension (``_walk``: getdents64 + statx with the GIL
released) with a pure-Python twin (``_pywalk``) used when the extension is not built.
``pip install -e .`` compiles it in place (``setup.py``); run it again after editing
``_walk.c``. ``HAVE_C_EXTENSION`` tells which lister is in use.

The walk (``walk``) needs neither NumPy nor pyarrow; the batches (``scanner``, ``columns``)
and the records (``records``) do. Names are imported from their module on first use, so
importing this package loads none of them.

Typical use (what the emulated ``mmapplypolicy`` does)::

    s = scan(tree, visible_root="/gpfs/fs1", junctions={"": "root", "proj": "proj"},
             independent={"proj"}, columns={"FILE_SIZE", "USER_ID", "MODIFICATION_TIME"})
    with open(prefix + ".list.big", "wb") as out:
        for batch in s:
            write_records(out, batch.filter(pc.greater(batch["FILE_SIZE"], 2**20)))
    print(f"{s.stats.files} files, {s.stats.directories} directories, "
          f"{s.stats.others} other objects, {s.stats.problems} 'skipped' files and/or errors.")
"""

from __future__ import annotations

from gpfskit import lazy

_EXPORTS = {
    "ALL_COLUMNS": "columns",
    "EXTRA_COLUMNS": "columns",
    "REQUIRED_COLUMNS": "columns",
    "TYPES": "columns",
    "HAVE_C_EXTENSION": "walk",
    "MAX_PREFILTER_CONJUNCTIONS": "walk",
    "MAX_PREFILTER_TERMS": "walk",
    "PREFILTER_ATTRIBUTES": "walk",
    "SNAPSHOTS_DIR": "walk",
    "Prefilter": "walk",
    "ScanError": "walk",
    "ScanStats": "walk",
    "Walk": "walk",
    "directory_hash": "walk",
    "subtree_junctions": "walk",
    "Record": "records",
    "escape_paths": "records",
    "parse_records": "records",
    "unescape": "records",
    "write_records": "records",
    "Scan": "scanner",
    "scan": "scanner",
}

__all__ = sorted(_EXPORTS)

__getattr__, __dir__ = lazy.exports(__name__, _EXPORTS)
