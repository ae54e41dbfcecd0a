"""The list driver: the EXTERNAL LIST script behind ListProcessingRule and MapReduceRule.

``mmapplypolicy`` calls it (through the ``driver`` wrapper in the run's work directory) as
an EXTERNAL LIST script, following the product's script protocol::

    driver TEST <file system or directory> '<work dir> <rule id>'
    driver LIST <file list> '<work dir> <rule id>'

``TEST`` answers 0 when this node can reach the work directory and the rule's spec (so the
node may be used), 1 otherwise. ``LIST`` handles one bucket of at most ``-B`` records:

* list processing: the file list is copied into the work directory, and the calling process
  later hands every gathered record to the rule's ``processor`` in a single call;
* map-reduce: the records are parsed (:mod:`gpfskit.policy.filelist`), ``mapfn`` runs on
  each file and ``combinefn`` (or ``reducefn``) folds the mapped values into an accumulator
  started from a copy of ``initial``; the partial result is written back for the calling
  process to reduce. Buckets run in parallel, up to ``-m`` per node.

Any exception (a user function failing included) is written with its traceback to an error
file in the work directory, and the driver exits 1; the calling process raises it. Other
operations are acknowledged and ignored. Run ``python -m gpfskit.policy.driver``.
"""

from __future__ import annotations

import os
import sys

from gpfskit.policy.workspace import parse_opts, process_bucket, read_spec

USAGE = "usage: driver {TEST|LIST} <target or file list> '<work dir> <rule id>'"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else list(argv)
    if len(args) < 2:
        sys.stderr.write(USAGE + "\n")
        return 2
    operation = args[0].upper()
    if operation not in ("TEST", "LIST"):
        return 0
    try:
        workdir, rule_id = parse_opts(args[2:])
    except ValueError as exc:
        sys.stderr.write(f"driver: {exc}\n{USAGE}\n")
        return 2
    if operation == "TEST":
        try:
            read_spec(workdir, rule_id)
        except (OSError, ValueError) as exc:
            sys.stderr.write(f"driver: rule {rule_id!r} is not reachable here: {exc}\n")
            return 1
        return 0
    if not os.path.isfile(args[1]):
        sys.stderr.write(f"driver: no such file list: {args[1]}\n")
        return 1
    return process_bucket(workdir, rule_id, args[1])


if __name__ == "__main__":
    sys.exit(main())
