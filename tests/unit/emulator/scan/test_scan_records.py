"""File-list records: exact format, ESCAPE, and the writer/reader round trip."""

from __future__ import annotations

import io
from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gpfskit.emulator.scan import (
    HAVE_C_EXTENSION,
    _pywalk,
    escape_paths,
    parse_records,
    records,
    scan,
    unescape,
    write_records,
)

WRITERS = [pytest.param(True, id="c", marks=pytest.mark.skipif(
    not HAVE_C_EXTENSION, reason="C extension not built")), pytest.param(False, id="python")]


@pytest.fixture(params=WRITERS)
def writer(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch):
    if not request.param:
        monkeypatch.setattr(records, "_walk", None)
    return records


def batch(inodes, gens, paths) -> pa.RecordBatch:
    return pa.record_batch({
        "INODE": pa.array(inodes, pa.int64()),
        "GENERATION": pa.array(gens, pa.int64()),
        "PATH_NAME": pa.array(paths, pa.binary()),
    })


def test_exact_spacing_of_the_reference(writer) -> None:
    out = io.BytesIO()
    b = batch([48900, 72733306044], [1741777473, 1910420955],
              [b"/filesystem/file1", b"/work/bob/a"])
    assert writer.write_records(out, b.slice(0, 1)) == 1
    assert out.getvalue() == b"48900 1741777473 0   -- /filesystem/file1\n"
    assert bytes(writer.format_records(b.slice(1, 1))) == (
        b"72733306044 1910420955 0   -- /work/bob/a\n")
    text = writer.format_records(b, show=pa.array([None, "1000:64451:128"]), snap_id=7)
    assert bytes(text) == (b"48900 1741777473 7   -- /filesystem/file1\n"
                           b"72733306044 1910420955 7  1000:64451:128 -- /work/bob/a\n")


def test_escape_modes(writer) -> None:
    path = b"/gpfs/fs1/a b/100%/x+y@z#1/caf\xc3\xa9/new\nline/back\\slash/~_-.ok"
    b = batch([1], [2], [path])
    pct = bytes(writer.format_records(b, escape="%"))
    assert pct == (b"1 2 0   -- %2Fgpfs%2Ffs1%2Fa%20b%2F100%25%2Fx%2By%40z%231%2Fcaf%C3%A9"
                   b"%2Fnew%0Aline%2Fback%5Cslash%2F~_-.ok\n")
    keep = bytes(writer.format_records(b, escape="%/+@#"))
    assert keep == (b"1 2 0   -- /gpfs/fs1/a%20b/100%25/x+y@z#1/caf%C3%A9"
                    b"/new%0Aline/back%5Cslash/~_-.ok\n")
    plain = bytes(writer.format_records(b))
    assert plain == (b"1 2 0   -- /gpfs/fs1/a b/100%/x+y@z#1/caf\xc3\xa9"
                     b"/new\\nline/back\\\\slash/~_-.ok\n")
    shown = bytes(writer.format_records(b, escape="%", show=["a b:c"]))
    assert shown.startswith(b"1 2 0  a%20b%3Ac -- %2Fgpfs")
    with pytest.raises(ValueError):
        writer.format_records(b, escape="/")


def test_reader_splits_on_the_first_separator() -> None:
    lines = [b"48900 1741777473 0   -- /filesystem/a -- b\n",
             b"72733306044 1910420955 0  1000:64451:128 -- /work/bob/a\n"]
    got = list(parse_records(lines))
    assert got[0] == (48900, 1741777473, 0, b"", b"/filesystem/a -- b")
    assert got[1] == (72733306044, 1910420955, 0, b"1000:64451:128", b"/work/bob/a")
    as_text = list(parse_records(["1 2 3  show me -- /p a/t\\nx\n"]))
    assert as_text == [(1, 2, 3, "show me", "/p a/t\nx")]
    raw = list(parse_records(["1 2 3  -- /p\\nx"], decode=False))
    assert raw[0].path == "/p\\nx"
    with pytest.raises(ValueError):
        list(parse_records([b"no separator here\n"]))


paths = st.lists(st.binary(min_size=1, max_size=40).filter(lambda p: b"\x00" not in p),
                 min_size=1, max_size=20)
# unescaped SHOW text must not contain the separator (nor end a "--" run next to it)
shows = st.one_of(st.none(), st.text(max_size=12).filter(lambda s: "--" not in s))


@settings(max_examples=60, deadline=None)
@given(paths=paths, show=shows, escape=st.sampled_from([None, "%", "%/+@#"]))
def test_round_trip(paths: list[bytes], show: str | None, escape: str | None) -> None:
    b = batch(list(range(len(paths))), [2**32 - 1] * len(paths), paths)
    show_col = None if show is None else pa.array([show] * len(paths))
    texts = []
    for c_writer in ([True, False] if HAVE_C_EXTENSION else [False]):
        saved = records._walk
        try:
            if not c_writer:
                records._walk = None
            texts.append(bytes(records.format_records(b, show=show_col, escape=escape)))
        finally:
            records._walk = saved
    assert len(set(texts)) == 1  # C and Python write the same bytes
    text = texts[0]
    if escape is not None or not any(b"\n" in p or b"\\" in p for p in paths):
        assert text.count(b"\n") == len(paths)
    lines = text.split(b"\n")[:-1] if escape is not None else _split_lines(text)
    got = list(parse_records(lines, escape=escape))
    assert [r.path for r in got] == paths
    assert [r.inode for r in got] == list(range(len(paths)))
    assert all(r.gen == 2**32 - 1 and r.snapid == 0 for r in got)
    assert [r.show for r in got] == [(show or "").encode()] * len(paths)


def _split_lines(text: bytes) -> list[bytes]:
    # a newline inside a path is written as "\n" (two bytes), so records split on b"\n"
    return text.split(b"\n")[:-1]


@pytest.mark.parametrize("escape", [None, "%", "%/"])
def test_escape_paths_c_and_numpy_agree(escape: str | None) -> None:
    values = [b"/a b/c", None, b"", b"\xff\n\\%~", b"plain"]
    arr = pa.array(values, pa.binary()).slice(0)
    got = escape_paths(arr, escape)
    table, mode = records.escape_table(escape)
    data, offsets, _ = records._binary_parts(arr, len(arr))
    py = _pywalk.escape(data, offsets, table, mode)
    if py is None:
        assert got.to_pylist() == arr.to_pylist()
    else:
        blob, offs = py
        blob = bytes(blob)
        expected = [None if v is None else blob[offs[i]:offs[i + 1]]
                    for i, v in enumerate(values)]
        assert got.to_pylist() == expected
    assert [unescape(v, escape) if v is not None else None for v in got.to_pylist()] == values


def test_records_from_a_scan(tmp_path: Path) -> None:
    (tmp_path / "a file").write_text("x")
    (tmp_path / "b").write_text("y")
    out = io.BytesIO()
    s = scan(tmp_path, visible_root="/gpfs/fs1", columns=[])
    for b in s:
        write_records(out, b, escape="%/")
    got = sorted(parse_records(out.getvalue().splitlines(), escape="%/"))
    assert sorted(r.path for r in got) == [b"/gpfs/fs1/a file", b"/gpfs/fs1/b"]
    assert all(r.inode > 0 and 0 <= r.gen < 2**32 for r in got)
    assert b"/gpfs/fs1/a%20file" in out.getvalue()
