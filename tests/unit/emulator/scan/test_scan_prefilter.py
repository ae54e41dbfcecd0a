"""The scan prefilter: rows only for entries that pass it, nothing else changes."""

from __future__ import annotations

import operator
import os
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scan_tree_helpers import (
    IMPLEMENTATIONS,
    INDEPENDENT,
    JUNCTIONS,
    VISIBLE,
    Tree,
    oracle,
    rows_by_path,
)

from gpfskit.emulator.scan import (
    ALL_COLUMNS,
    HAVE_C_EXTENSION,
    MAX_PREFILTER_CONJUNCTIONS,
    MAX_PREFILTER_TERMS,
    PREFILTER_ATTRIBUTES,
    scan,
)

IMPLEMENTATIONS_AVAILABLE = ["c", "python"] if HAVE_C_EXTENSION else ["python"]
OPS = {"=": operator.eq, "<>": operator.ne, "<": operator.lt, "<=": operator.le,
       ">": operator.gt, ">=": operator.ge}


def passes(row: dict, prefilter) -> bool:
    return any(all(OPS[op](row[attribute], value) for attribute, op, value in conjunction)
               for conjunction in prefilter)


def scanned(tree: Tree, prefilter=None, **kwargs):
    s = scan(tree.root, visible_root=VISIBLE, junctions=JUNCTIONS, independent=INDEPENDENT,
             prefilter=prefilter, **kwargs)
    return rows_by_path(s), s.stats


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
@pytest.mark.parametrize("directories_plus", [False, True])
@pytest.mark.parametrize("prefilter", [
    [[("FILE_SIZE", ">", 1000)]],
    [[("FILE_SIZE", ">=", 2000), ("FILE_SIZE", "<=", 5000)], [("NLINK", "=", 3)]],
    [[("FILE_SIZE", ">", 999.5)]],                       # an int column against a float
    [[("MODIFICATION_TIME", "<", 1_550_000_000)]],       # a time against a number
    [[("FILE_SIZE", "<>", 0), ("FILE_SIZE", "<", 2**70)]],  # beyond int64: always true
    [[("FILE_SIZE", ">", 2**70)], [("INODE", ">", -2**64), ("NLINK", ">", 1)]],
    [],                                                  # no conjunction: no rows
])
def test_rows_are_the_oracle_rows_that_pass(awkward_tree: Tree, implementation: str,
                                            directories_plus: bool, prefilter) -> None:
    got, stats = scanned(awkward_tree, prefilter, directories_plus=directories_plus,
                         batch_rows=7, implementation=implementation)
    everything = oracle(awkward_tree.root, junctions=JUNCTIONS, independent=INDEPENDENT,
                        directories_plus=directories_plus)
    want = {path: row for path, row in everything.items() if passes(row, prefilter)}
    assert sorted(got) == sorted(want)
    _, unfiltered = scanned(awkward_tree, None, directories_plus=directories_plus,
                            implementation=implementation)
    # every entry is still counted and every directory walked
    assert (stats.files, stats.directories, stats.others) == (
        unfiltered.files, unfiltered.directories, unfiltered.others)
    assert stats.rows == len(want)


@pytest.mark.skipif(not HAVE_C_EXTENSION, reason="C lister not built")
def test_c_and_python_listers_agree_with_a_prefilter(awkward_tree: Tree) -> None:
    prefilter = [[("GENERATION", ">", 2**31), ("KB_ALLOCATED", ">=", 0)],
                 [("CREATION_TIME", ">", 0.0), ("INODE", "<>", 0), ("FILE_SIZE", "<", 3)]]
    results = [scanned(awkward_tree, prefilter, columns=ALL_COLUMNS, directories_plus=True,
                       batch_rows=5, implementation=implementation)
               for implementation in ("c", "python")]
    assert results[0][0] == results[1][0]
    assert results[0][0]


attributes = st.sampled_from(sorted(PREFILTER_ATTRIBUTES))
values = st.one_of(st.integers(-10, 10**6), st.floats(-1e10, 2e9, allow_nan=False),
                   st.integers(1_000_000_000, 2_000_000_000), st.integers(-2**70, 2**70))
terms = st.tuples(attributes, st.sampled_from(sorted(OPS)), values).filter(
    lambda t: not (t[0].endswith("_TIME") and abs(t[2]) > 2**53))
prefilters = st.lists(st.lists(terms, min_size=1, max_size=3), max_size=3)


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(prefilter=prefilters)
def test_prefiltered_scan_is_the_full_scan_filtered(awkward_tree: Tree, prefilter) -> None:
    full, _ = scanned(awkward_tree, None, columns=ALL_COLUMNS, directories_plus=True)
    got, _ = scanned(awkward_tree, prefilter, columns=ALL_COLUMNS, directories_plus=True)
    assert got == {path: row for path, row in full.items() if passes(row, prefilter)}


@pytest.mark.parametrize(("prefilter", "message"), [
    ([[("PATH_NAME", "=", 1)]], "'PATH_NAME' is not one of"),
    ([[("FILE_SIZE", "==", 1)]], "unknown operator '=='"),
    ([[("FILE_SIZE", "=", "1")]], "'1' is not a number"),
    ([[("FILE_SIZE", "=", True)]], "True is not a number"),
    ([[("FILE_SIZE", ">", float("nan"))]], "nan is not finite"),
    ([[("FILE_SIZE", ">", 2.0**53)]], "FILE_SIZE is an integer"),
    ([[("ACCESS_TIME", ">", 2**53 + 1)]], "ACCESS_TIME is float64 seconds"),
    ([[("FILE_SIZE", ">", 0)]] * (MAX_PREFILTER_CONJUNCTIONS + 1), "at most"),
    ([[("FILE_SIZE", ">", 0)] * (MAX_PREFILTER_TERMS + 1)], "at most"),
])
def test_bad_prefilters_are_refused(awkward_tree: Tree, prefilter, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        scan(awkward_tree.root, prefilter=prefilter)


def test_comparisons_are_exact_at_the_ends_of_int64(tmp_path_factory):
    """Sizes near 2**63 (sparse files on tmpfs): no rounding through float64."""
    base = Path("/dev/shm")
    if not base.is_dir():
        pytest.skip("no tmpfs at /dev/shm")
    tree = Path(tempfile.mkdtemp(dir=base))
    try:
        sizes = {"max": 2**63 - 1, "exact": 2**53, "odd": 2**53 + 1}
        for name, size in sizes.items():
            try:
                os.truncate(_touch(tree / name), size)
            except OSError:
                pytest.skip("tmpfs refuses files this large")
        for prefilter, want in [
            ([[("FILE_SIZE", "<", 2**63)]], {"max", "exact", "odd"}),
            ([[("FILE_SIZE", ">", 2**63 - 2)]], {"max"}),
            ([[("FILE_SIZE", "=", 2**53 + 1)]], {"odd"}),
            ([[("FILE_SIZE", "<>", 2**53)]], {"max", "odd"}),
            ([[("FILE_SIZE", ">", 9.0e15)]], {"max", "exact", "odd"}),
        ]:
            for implementation in IMPLEMENTATIONS_AVAILABLE:
                rows = rows_by_path(scan(tree, prefilter=prefilter,
                                         implementation=implementation))
                assert {os.path.basename(p).decode() for p in rows} == want, prefilter
    finally:
        shutil.rmtree(tree)


def _touch(path: Path) -> Path:
    path.touch()
    return path
