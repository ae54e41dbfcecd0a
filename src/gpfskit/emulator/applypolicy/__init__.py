"""The emulated ``mmapplypolicy``: scan, evaluate, choose and act (reference §4 and §5).

* ``options``   the synopsis and the validation of every option;
* ``targets``   what is scanned: a file system, a directory in one, a snapshot;
* ``checks``    policy syntax errors (line, column) and name checks, shared with mmchpolicy;
* ``phases``    phase 1: the streaming scan and the vectorised rule evaluation;
* ``prefilter`` the rules' simple comparisons, checked by the scan before it builds a row;
* ``choosing``  phase 2: weight order, THRESHOLD, LIMIT, group pools;
* ``execution`` phase 3: work lists, interface scripts, migrations, deletions;
* ``messages``  the lines printed;
* ``job``       one run, tying the phases together.

Options and what they do here: ``-P`` rules (default: the installed policy's management
rules); ``-I yes|defer|test|prepare`` (``prepare`` = ``defer``); ``-L 0..6``; ``-M`` macro
definitions; ``-D`` CURRENT_TIMESTAMP; ``-S`` snapshot; ``--scope``; ``--choice-algorithm``;
``-f`` list prefix; ``-s`` work directory (default /tmp; ``-g`` takes its place when
given: the job's temporary files, lists and script buckets go there); ``-B`` files per
script call; ``-m`` concurrent script calls and action workers; ``-n`` scan threads
(capped by the CPUs); ``-e`` re-evaluate before acting; ``--single-instance``;
``--maxdepth``. ``-N`` is checked (node names) and ``--qos`` (class names) too; ``-a``,
``-A``, ``-q`` and the sort options are validated and tune nothing on one node.
``-i``/``-r`` (file lists of earlier runs) are refused.
"""

from gpfskit.emulator.applypolicy.job import run
from gpfskit.emulator.applypolicy.options import FLAGS, USAGE, VALUED

__all__ = ["FLAGS", "USAGE", "VALUED", "run"]
