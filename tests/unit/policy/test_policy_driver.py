"""The list driver, run as mmapplypolicy runs it (the work directory's wrapper script, as real
subprocesses, several buckets at once) on generated file lists: map-reduce semantics, list
processing, failures and time-outs."""

from __future__ import annotations

import os
import subprocess
import time
from collections import Counter

import pytest
from policy_fakes import make_records, record_line

from gpfskit.language import EvalContext, show_text
from gpfskit.policy.processing import ListProcessingRule, MapReduceRule
from gpfskit.policy.workspace import Workspace, merge_partials, parse_opts

RECORDS = make_records(90)


def bucket_files(tmp_path, rule, buckets):
    node = rule.to_ast()
    paths = []
    for number, records in enumerate(buckets):
        path = tmp_path / f"bucket.{number}"
        path.write_text("".join(record_line(r, show_text(node, r, EvalContext(0)))
                                for r in records), errors="surrogateescape")
        paths.append(str(path))
    return paths


def drive(tmp_path, rule, buckets=None, timeout=None, expect_ok=True):
    """Register ``rule``, run the driver on each bucket at once; (workspace, exit codes)."""
    if buckets is None:
        buckets = [RECORDS[0::3], RECORDS[1::3], RECORDS[2::3]]
    workspace = Workspace.create(str(tmp_path / "work"))
    rule.prepare(workspace, timeout)
    opts = workspace.opts(rule.id)
    test = subprocess.run([workspace.wrapper, "TEST", "/gpfs/mmfs1", opts], check=False)
    assert test.returncode == 0
    procs = [subprocess.Popen([workspace.wrapper, "LIST", path, opts],
                              stderr=subprocess.PIPE)
             for path in bucket_files(tmp_path, rule, buckets)]
    codes = [p.wait(timeout=60) for p in procs]
    for p in procs:
        p.stderr.close()
    if expect_ok:
        assert codes == [0] * len(codes), workspace.problems(rule.id)
    return workspace, codes


def result_of(tmp_path, rule, buckets=None):
    workspace, _ = drive(tmp_path, rule, buckets)
    try:
        return rule.finish(workspace)
    finally:
        workspace.cleanup()


def test_histogram_with_lambdas_and_a_closure(tmp_path):
    unit = 1024

    def add(acc, key):
        acc[key] = acc.get(key, 0) + 1
        return acc

    rule = MapReduceRule("hist", lambda f: f.size // unit, reducefn=lambda a, b: a + b,
                         combinefn=add, initial=Counter())
    result = result_of(tmp_path, rule)
    assert result == Counter(r["FILE_SIZE"] // unit for r in RECORDS)


def test_initial_is_copied_per_worker(tmp_path):
    initial = {"files": 0, "workers": []}

    def combine(acc, size):
        acc["files"] += 1
        if not acc["workers"]:
            acc["workers"].append(os.getpid())
        return acc

    def reduce(a, b):
        return {"files": a["files"] + b["files"], "workers": a["workers"] + b["workers"]}

    rule = MapReduceRule("count", lambda f: f.size, reducefn=reduce, combinefn=combine,
                         initial=initial)
    result = result_of(tmp_path, rule)
    assert result["files"] == len(RECORDS)
    assert len(result["workers"]) == 3 and len(set(result["workers"])) == 3
    assert initial == {"files": 0, "workers": []}
    assert rule.empty_result() == initial and rule.empty_result() is not initial


def test_map_only_concatenates_in_inode_order(tmp_path):
    buckets = [RECORDS[40:], RECORDS[:40]]
    rule = MapReduceRule("names", lambda f: (f.inode, f.name))
    result = result_of(tmp_path, rule, buckets)
    assert result == sorted((r["INODE"], r["NAME"]) for r in RECORDS)


def test_map_only_with_sort_and_output(tmp_path):
    rule = MapReduceRule("big", lambda f: f.size, output=lambda sizes: sizes[:5], sort="-size")
    assert result_of(tmp_path, rule) == sorted((r["FILE_SIZE"] for r in RECORDS),
                                               reverse=True)[:5]


def test_reducefn_alone_folds_in_the_workers_too(tmp_path):
    rule = MapReduceRule("total", lambda f: f.size, reducefn=lambda a, b: a + b)
    assert result_of(tmp_path, rule) == sum(r["FILE_SIZE"] for r in RECORDS)
    assert rule.empty_result() is None


def test_combinefn_alone_adds_the_partials(tmp_path):
    rule = MapReduceRule("paths", lambda f: f.path, combinefn=lambda acc, p: [*acc, p],
                         initial=[])
    assert sorted(result_of(tmp_path, rule)) == sorted(r["PATH_NAME"] for r in RECORDS)
    bad = MapReduceRule("d", lambda f: f.size, combinefn=lambda acc, s: {**acc, s: 1},
                        initial={})
    with pytest.raises(TypeError, match="give the MapReduceRule a reducefn"):
        result_of(tmp_path, bad)


class Scaler:
    def __init__(self, factor):
        self.factor = factor

    def scale(self, f):
        return f.size * self.factor


def test_bound_methods_and_file_objects_travel(tmp_path):
    rule = MapReduceRule("scaled", Scaler(3).scale, reducefn=max)
    assert result_of(tmp_path, rule) == 3 * max(r["FILE_SIZE"] for r in RECORDS)
    keep = MapReduceRule("files", lambda f: f, output=lambda files: files[:3])
    files = result_of(tmp_path, keep)
    first = min(RECORDS, key=lambda r: r["INODE"])
    assert files[0].path == first["PATH_NAME"] and files[0].userid == first["USER_ID"]


def test_show_attributes_limit_what_files_carry(tmp_path):
    rule = MapReduceRule("sizes", lambda f: (f.size, f.get("userid")), reducefn=None)
    rule.show_attributes("FILE_SIZE")
    result = result_of(tmp_path, rule)
    assert {r[1] for r in result} == {None}


def test_list_processing_gathers_every_bucket(tmp_path):
    calls = []

    def processor(files):
        calls.append(1)
        return [(f.inode, f.userid, f.accesstime.year) for f in files]

    rule = ListProcessingRule("all", processor)
    result = result_of(tmp_path, rule)
    assert calls == [1]
    assert [r[0] for r in result] == sorted(r["INODE"] for r in RECORDS)
    assert Counter(r[1] for r in result) == Counter(r["USER_ID"] for r in RECORDS)
    assert rule.empty_result() == []


def test_a_failing_function_reports_its_traceback(tmp_path):
    def explode(f):
        if f.size > 50_000:
            raise ValueError(f"too big: {f.name}")
        return 1

    rule = MapReduceRule("bad", explode, reducefn=lambda a, b: a + b)
    workspace, codes = drive(tmp_path, rule, expect_ok=False)
    try:
        assert 1 in codes
        message, details = workspace.problems(rule.id)[0]
        assert message == "a processing function failed"
        assert "Traceback (most recent call last)" in details
        assert "in explode" in details and "ValueError: too big" in details
        assert 'raise ValueError(f"too big: {f.name}")' in details
    finally:
        workspace.cleanup()
    assert not (tmp_path / "work").exists()


def test_a_hanging_function_is_stopped(tmp_path):
    rule = MapReduceRule("slow", lambda f: time.sleep(60), reducefn=None)
    start = time.monotonic()
    workspace, codes = drive(tmp_path, rule, buckets=[RECORDS[:2]], timeout=1,
                             expect_ok=False)
    try:
        assert time.monotonic() - start < 30
        assert codes == [1]
        message, details = workspace.problems(rule.id)[0]
        assert "did not finish" in message
        assert "after 1 seconds" in details and "<lambda>" in details
    finally:
        workspace.cleanup()


def test_driver_protocol_answers(tmp_path):
    rule = MapReduceRule("p", len)
    workspace = Workspace.create(str(tmp_path / "w"))
    try:
        rule.prepare(workspace)
        run = [workspace.wrapper]
        opts = workspace.opts(rule.id)

        def code(*args):
            return subprocess.run(run + list(args), check=False,
                                  capture_output=True).returncode

        assert code("TEST", "/gpfs/mmfs1", opts) == 0
        assert code("TEST", "/gpfs/mmfs1", workspace.opts("unknown")) == 1
        assert code("REDO", "/x", opts) == 0
        assert code("LIST") == 2
        assert code("LIST", "/x", "one-word") == 2
        assert code("LIST", str(tmp_path / "missing"), opts) == 1
        words = opts.split()
        assert parse_opts(words) == parse_opts([opts]) == (workspace.path, "p")
    finally:
        workspace.cleanup()


def test_odd_rule_ids_and_work_paths(tmp_path):
    rule = MapReduceRule("it's a/b c", lambda f: 1, reducefn=lambda a, b: a + b)
    base = tmp_path / "dir with space"
    workspace, _ = drive(base, rule, buckets=[RECORDS[:4], RECORDS[4:9]])
    try:
        assert rule.finish(workspace) == 9
    finally:
        workspace.cleanup()


def test_merge_partials_without_any():
    assert merge_partials(MapReduceRule("m", len)._functions(), []) == []
