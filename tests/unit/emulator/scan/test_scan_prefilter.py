"""The scan prefilter: rows only for entries that pass it, nothing else changes."""

from __future__ import annotations

import operator

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
    [[("FILE_SIZE", "<>", 0), ("FILE_SIZE", "<", 2**70)]],  # beyond int64: compared as float
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
                   st.integers(1_000_000_000, 2_000_000_000))
terms = st.tuples(attributes, st.sampled_from(sorted(OPS)), values)
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
    ([[("FILE_SIZE", ">", 0)]] * (MAX_PREFILTER_CONJUNCTIONS + 1), "at most"),
    ([[("FILE_SIZE", ">", 0)] * (MAX_PREFILTER_TERMS + 1)], "at most"),
])
def test_bad_prefilters_are_refused(awkward_tree: Tree, prefilter, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        scan(awkward_tree.root, prefilter=prefilter)
