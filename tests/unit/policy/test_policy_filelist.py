"""The file-list parser and the file-attribute objects it hands out."""

from __future__ import annotations

import copy
import io
import pickle
from datetime import datetime

import pytest
from policy_fakes import make_records, record_line

from gpfskit.language import EvalContext, parse_rule, show_text
from gpfskit.policy.attributes import (
    DEFAULT_SHOW,
    DetachedFileAttributes,
    FileAttributes,
    canonical,
    detached,
)
from gpfskit.policy.filelist import FileList, Layout, order_of, unescape
from gpfskit.policy.processing import ListProcessingRule

LAYOUT = Layout(("FILE_SIZE", "ACCESS_TIME", "POOL_NAME", "MODE"), custom=True)
DATA = (
    b"10 5 0  100|2024-01-02 03:04:05|system|-rw-r--r--|owner=bob count=3 -- /a b -- c\n"
    b"7 6 0   -- /x\\ny\n"
    b"8 6 2  5|2024-01-02 03:04:05.5|data|drwx|k=v w -- /dir/f\n"
)


def rows(data: bytes = DATA, layout: Layout = LAYOUT, sort=None) -> list[FileAttributes]:
    files = FileList(data, layout)
    return list(files.files(files.order(sort)))


def test_record_fields_and_show_fields():
    f, g, h = rows(sort=False)
    assert (f.inode, f.generation, f.snapid) == (10, 5, 0)
    assert f.path == f.pathname == "/a b -- c" and f.name == "a b -- c"
    assert f.filesize == f.FILE_SIZE == f.size == f["file_size"] == f["FileSize"] == 100
    assert f.accesstime == f.ACCESS_TIME == datetime(2024, 1, 2, 3, 4, 5)
    assert f.poolname == f.pool == "system" and f.mode == "-rw-r--r--"
    assert h.accesstime == datetime(2024, 1, 2, 3, 4, 5, 500000) and h.snapid == 2
    assert g.path == "/x\ny" and g.name == "x\ny"  # escaped newline undone


def test_null_show_gives_none():
    g = rows(sort=False)[1]
    assert g.filesize is None and g.accesstime is None and g.poolname is None
    assert g.get("owner") is None


def test_custom_key_value_pairs_become_attributes():
    f, _, h = rows(sort=False)
    assert f.owner == "bob" and f["owner"] == "bob" and f.count == 3
    assert h.k == "v w"
    with pytest.raises(AttributeError):
        _ = f.colour
    with pytest.raises(KeyError):
        f["colour"]


def test_missing_show_attribute_says_so():
    f = rows(sort=False)[0]
    with pytest.raises(AttributeError, match="USER_ID is not in this rule's SHOW"):
        _ = f.userid
    assert "userid" not in f and "filesize" in f and "owner" in f
    assert f.get("userid", -1) == -1


def test_sorted_by_inode_by_default_and_by_sort_key():
    assert [f.inode for f in rows()] == [7, 8, 10]
    assert [f.inode for f in rows(sort=False)] == [10, 7, 8]
    assert [f.inode for f in rows(sort="size")] == [8, 10, 7]  # None last
    assert [f.inode for f in rows(sort="-inode")] == [10, 8, 7]
    assert [f.inode for f in rows(sort=lambda f: f.name)] == [10, 8, 7]
    with pytest.raises(ValueError, match="cannot sort by"):
        rows(sort="userid")
    assert order_of([3, None, 1]) == [2, 0, 1]


def test_as_dict_keys_and_equality():
    f = rows()[-1]
    values = f.as_dict()
    assert values["inode"] == 10 and values["filesize"] == 100 and values["owner"] == "bob"
    assert set(values) >= {"pathname", "name", "accesstime", "poolname", "mode", "snapid"}
    assert list(f) == f.keys() == list(values)
    assert len(f) == len(values) and bool(f)
    again = rows()[-1]
    assert f == again and hash(f) == hash(again) and f != rows()[0]
    assert repr(f) == "<FileAttributes '/a b -- c' inode=10>"


def test_pickling_detaches():
    f = rows()[-1]
    g = pickle.loads(pickle.dumps(f))
    assert isinstance(g, DetachedFileAttributes) and isinstance(g, FileAttributes)
    assert g == f and g.FILE_SIZE == 100 and g.owner == "bob" and g["pool"] == "system"
    assert g.as_dict() == f.as_dict()
    assert copy.deepcopy(f) is f
    d = detached({"FILE_SIZE": 3, "path": "/p", "custom": "x"})
    assert d.size == 3 and d.pathname == "/p" and d.custom == "x"
    with pytest.raises(AttributeError):
        _ = d.userid


def test_default_show_through_the_language():
    """The SHOW text a processing rule asks for, evaluated by the reference evaluator,
    reads back as the record's values."""
    rule = ListProcessingRule("l", len)
    node = rule.to_ast()
    records = make_records(5)
    lines = "".join(record_line(r, show_text(node, r, EvalContext(0))) for r in records)
    files = list(FileList(lines.encode(), rule.layout).files())
    for record, f in zip(records, files):
        for name in (*DEFAULT_SHOW, "INODE", "GENERATION", "PATH_NAME", "NAME"):
            value = getattr(f, name)
            expected = record[name]
            if name.endswith("_TIME"):
                assert value == datetime.fromtimestamp(expected)
            else:
                assert value == expected, name


def test_chunks_and_stream_agree_with_one_list():
    records = make_records(300)
    layout = Layout(("FILE_SIZE", "USER_ID"))
    node = parse_rule("RULE LIST 'x' SHOW(VARCHAR(FILE_SIZE) || '|' || VARCHAR(USER_ID))")
    data = "".join(record_line(r, show_text(node, r, EvalContext(0))) for r in records).encode()
    whole = [(f.inode, f.path, f.size, f.user) for f in FileList(data, layout).files()]
    assert [r["PATH_NAME"] for r in records] == [w[1] for w in whole]
    chunked = [(f.inode, f.path, f.size, f.user)
               for c in FileList.chunks(data, layout, size=700) for f in c.files()]
    streamed = [(f.inode, f.path, f.size, f.user)
                for c in FileList.stream(io.BytesIO(data), layout, size=333) for f in c.files()]
    assert whole == chunked == streamed
    assert len(list(FileList.chunks(data, layout, size=700))) > 5


def test_release_frees_only_unused_chunks():
    files = FileList(DATA, LAYOUT)
    kept = next(iter(files.files()))
    assert kept.size == 100
    assert files.release() is False  # a row is still referenced
    assert kept.size == 100
    del kept
    assert files.release() is True


def test_lists_without_show_and_empty_lists():
    data = b"48900 1741777473 0   -- /filesystem/file1\n12 3 0   -- /a -- b"
    files = FileList(data, Layout())
    f, g = files.files(files.order(None))
    assert (f.inode, f.path) == (12, "/a -- b") and g.name == "file1"
    with pytest.raises(AttributeError, match="FILE_SIZE is not in this rule's SHOW"):
        _ = f.size
    empty = FileList(b"", Layout(("FILE_SIZE",)))
    assert len(empty) == 0 and list(empty.files()) == []
    assert list(FileList.from_files([], Layout()).files()) == []


def test_from_files_concatenates(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.write_bytes(b"2 0 0  7 -- /a")  # no final newline
    b.write_bytes(b"1 0 0  9 -- /b\n")
    files = FileList.from_files([str(a), str(b)], Layout(("FILE_SIZE",)))
    assert [(f.path, f.size) for f in files.files(files.order(None))] == [("/b", 9), ("/a", 7)]


def test_show_text_with_spaces_and_odd_values():
    layout = Layout(("FILESET_NAME", "FILE_HEAT", "KB_ALLOCATED"))
    data = b"1 0 0  my set|1.5|x -- /p\n"
    f = next(FileList(data, layout).files())
    assert f.filesetname == "my set" and f.file_heat == 1.5 and f.kballocated is None


def test_percent_escaping():
    layout = Layout(("POOL_NAME",), escape="%")
    f = next(FileList(b"1 0 0  sys%7Ctem -- /a%20b%0Ac\n", layout).files())
    assert f.path == "/a b\nc" and f.pool == "sys|tem"
    assert unescape(b"a\\\\b\\nc", None) == b"a\\b\nc"


def test_non_utf8_paths_survive():
    f = next(FileList(b"1 0 0   -- /caf\xe9\n", Layout()).files())
    assert f.path == "/caf\udce9" and f.path.encode("utf-8", "surrogateescape") == b"/caf\xe9"


def test_attribute_names():
    assert canonical("FileSize") == "FILE_SIZE" and canonical("creation") == "CREATION_TIME"
    assert canonical("path") == "PATH_NAME" and canonical("nope") is None
    with pytest.raises(ValueError):
        Layout(("PATH_NAME",))
    with pytest.raises(TypeError):
        _ = rows()[0][0]


def test_streamed_chunks_carry_the_attributes_earlier_rows_read():
    records = make_records(200)
    layout = Layout(("FILE_SIZE", "USER_ID", "ACCESS_TIME"))
    node = parse_rule("RULE LIST 'x' SHOW(VARCHAR(FILE_SIZE) || '|' || VARCHAR(USER_ID) || "
                      "'|' || VARCHAR(ACCESS_TIME))")
    data = "".join(record_line(r, show_text(node, r, EvalContext(0))) for r in records).encode()
    chunks = list(FileList.stream(io.BytesIO(data), layout, size=2000))
    assert len(chunks) > 3
    seen = []
    for number, chunk in enumerate(chunks):
        rows_ = list(chunk.files())
        if number == 0:
            assert all(tuple.__len__(r) == 1 for r in rows_)
            seen.extend((r.size, r.path) for r in rows_)
            continue
        # row number, FILE_SIZE and PATH_NAME (then all: as_dict below reads everything)
        assert all(tuple.__len__(r) == (3 if number == 1 else 9) for r in rows_)
        seen.extend((r.FILE_SIZE, r["pathname"]) for r in rows_)
        f = rows_[0]
        assert f.userid == f.as_dict()["userid"] and pickle.loads(pickle.dumps(f)) == f
        reordered = list(chunk.files([1, 0]))
        assert reordered[0].path == rows_[1].path and reordered[1].size == rows_[0].size
    assert seen == [(r["FILE_SIZE"], r["PATH_NAME"]) for r in records]
