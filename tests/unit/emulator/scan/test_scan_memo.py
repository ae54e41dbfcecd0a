"""The scan's xattr memo: values of unchanged entries come from it, changed ones are read.

Each test builds a small tree, lets the memo's slack pass (so the files are old enough to be
trusted), runs a scan that saves a memo, changes the tree the ways files change (an
attribute set or removed, a file or directory moved in, a hard link, a new file) and checks
that the next scan, taking what it can from the memo, shows exactly what a scan without a
memo shows, with both listers.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import numpy as np
import pytest

from gpfskit.emulator.scan import memo as memo_module
from gpfskit.emulator.scan import scan
from gpfskit.emulator.scan.memo import XattrMemo
from gpfskit.emulator.scan.walk import HAVE_C_EXTENSION

POOL = "user.gpfskit.pool"
IMPLEMENTATIONS = ["python"] + (["c"] if HAVE_C_EXTENSION else [])
SLACK_NS = 50_000_000     # a few clock ticks: the tests wait this long, not a second


@pytest.fixture(autouse=True)
def short_slack(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(memo_module, "SLACK_NS", SLACK_NS)


def settle() -> None:
    """Let the tree's change times fall out of the slack of the next scan."""
    time.sleep(2 * SLACK_NS / 1e9)


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    top = tmp_path / "fs"
    for d in ("a", "a/deep", "b", "c"):
        (top / d).mkdir(parents=True)
    for i, rel in enumerate(["a/one", "a/deep/two", "b/three", "b/four", "c/five", "top"]):
        (top / rel).write_bytes(b"x" * i)
    os.setxattr(top / "a" / "one", POOL, b"sata1")
    os.setxattr(top / "b" / "three", POOL, b"ssd")
    os.setxattr(top / "a" / "deep", POOL, b"dirpool")
    settle()
    return top


def pools(top: Path, memo: XattrMemo | None, implementation: str, **kw) -> tuple[dict, object]:
    """PATH_NAME -> recorded pool of every entry, and the scan's stats."""
    run = scan(top, columns=["INODE"], directories_plus=True, xattrs={"POOL": POOL},
               xattr_memo=memo, implementation=implementation, **kw)
    out = {}
    for batch in run:
        for path, value in zip(batch.column("PATH_NAME").to_pylist(),
                               batch.column("POOL").to_pylist(), strict=True):
            out[path] = value
    return out, run.stats


def new_memo(tmp_path: Path) -> XattrMemo:
    return XattrMemo(tmp_path / "memo" / "test", [POOL.encode()])


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
def test_an_unchanged_tree_is_answered_from_the_memo(tree, tmp_path, implementation):
    expected, _ = pools(tree, None, implementation)
    first, stats = pools(tree, new_memo(tmp_path), implementation)
    assert first == expected and stats.remembered == 0
    assert (tmp_path / "memo" / "test").is_file()
    second, stats = pools(tree, new_memo(tmp_path), implementation)
    assert second == expected
    assert stats.remembered == len(expected) - 1      # every entry but the root itself
    assert expected[os.fsencode(tree / "a" / "one")] == b"sata1"


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
def test_every_kind_of_change_is_read_again(tree, tmp_path, implementation):
    pools(tree, new_memo(tmp_path), implementation)
    outside = tmp_path / "outside"
    (outside / "sub").mkdir(parents=True)
    (outside / "moved-file").write_bytes(b"m")
    os.setxattr(outside / "moved-file", POOL, b"from-outside")
    (outside / "sub" / "inner").write_bytes(b"i")
    os.setxattr(outside / "sub" / "inner", POOL, b"inner-pool")
    settle()        # the moved entries are old: only the move itself tells
    os.setxattr(tree / "a" / "one", POOL, b"changed")          # an attribute set
    os.removexattr(tree / "b" / "three", POOL)                 # ... and removed
    os.setxattr(tree / "c" / "five", POOL, b"new-here")        # ... and added
    os.rename(outside / "moved-file", tree / "c" / "moved-file")
    os.rename(outside / "sub", tree / "a" / "sub")             # a directory with old files
    os.link(tree / "c" / "five", tree / "b" / "hardlink")
    (tree / "b" / "created").write_bytes(b"n")
    os.setxattr(tree / "b" / "created", POOL, b"fresh")
    shutil.rmtree(tree / "a" / "deep")
    expected, _ = pools(tree, None, implementation)
    got, stats = pools(tree, new_memo(tmp_path), implementation)
    assert got == expected
    assert got[os.fsencode(tree / "a" / "one")] == b"changed"
    assert got[os.fsencode(tree / "b" / "three")] is None
    assert got[os.fsencode(tree / "c" / "moved-file")] == b"from-outside"
    assert got[os.fsencode(tree / "a" / "sub" / "inner")] == b"inner-pool"
    assert got[os.fsencode(tree / "b" / "hardlink")] == b"new-here"
    assert stats.remembered > 0           # the untouched ones: b/four, top, ...


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
def test_directories_with_hidden_entries_are_not_vouched_for(tree, tmp_path, implementation):
    os.setxattr(tree / "b", POOL, b"bpool")
    settle()
    first, _ = pools(tree, new_memo(tmp_path), implementation, skip_dirs=["b"])
    assert os.fsencode(tree / "b") not in first       # b was never read
    got, stats = pools(tree, new_memo(tmp_path), implementation)
    expected, _ = pools(tree, None, implementation)
    assert got == expected
    assert got[os.fsencode(tree / "b")] == b"bpool"
    assert got[os.fsencode(tree / "b" / "three")] == b"ssd"
    assert 0 < stats.remembered < len(expected) - 1   # a/ and c/, not the root's entries


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
def test_a_scan_cut_short_saves_nothing(tree, tmp_path, implementation):
    run = scan(tree, columns=["INODE"], directories_plus=True, xattrs={"POOL": POOL},
               xattr_memo=new_memo(tmp_path), implementation=implementation, batch_rows=1)
    next(iter(run))
    run.close()
    assert not (tmp_path / "memo" / "test").exists()


def test_a_memo_of_no_use_is_ignored(tree, tmp_path):
    """Malformed, another device, other attributes, a clock that went back: all ignored."""
    expected, _ = pools(tree, None, IMPLEMENTATIONS[-1])
    path = tmp_path / "memo" / "test"
    pools(tree, new_memo(tmp_path), IMPLEMENTATIONS[-1])
    good = path.read_bytes()
    with np.load(path) as data:
        arrays = dict(data)

    def save(**changes: object) -> None:
        with open(path, "wb") as f:
            np.savez(f, **{**arrays, **changes})

    for broken in (lambda: path.write_bytes(b"not a memo"),
                   lambda: path.write_bytes(good[: len(good) // 2]),
                   lambda: save(dev=np.array(arrays["dev"] + 1)),
                   lambda: save(before=np.array(time.time_ns() + 10**12)),
                   lambda: save(uid=np.array(os.geteuid() + 1)),
                   lambda: save(offsets0=arrays["offsets0"][::-1].copy()),
                   lambda: save(dirs=arrays["dirs"][::-1].copy())):
        broken()
        got, stats = pools(tree, new_memo(tmp_path), IMPLEMENTATIONS[-1])
        assert got == expected and stats.remembered == 0
    other = XattrMemo(path, [b"user.other"])
    assert other._load() is None


def test_the_memo_must_match_the_scan(tree, tmp_path):
    with pytest.raises(ValueError, match="xattr_memo"):
        scan(tree, xattrs={"POOL": POOL}, xattr_memo=new_memo(tmp_path))  # files only
    with pytest.raises(ValueError, match="xattr_memo"):
        scan(tree, directories_plus=True, xattrs={"POOL": "user.other"},
             xattr_memo=new_memo(tmp_path))


@pytest.mark.skipif(not HAVE_C_EXTENSION, reason="the C lister is not built")
def test_both_listers_answer_alike_from_one_memo(tree, tmp_path):
    from gpfskit.emulator.scan import _pywalk, _walk

    pools(tree, new_memo(tmp_path), "c")
    os.setxattr(tree / "a" / "one", POOL, b"changed")
    arg = new_memo(tmp_path).begin(tree)
    dirs = [b"", b"a", b"a/deep", b"b", b"c"]
    call = (os.fsencode(tree), b"/fs", dirs, [0] * len(dirs), None, 1000, 1, [POOL.encode()],
            ["ino"], None, arg)
    fast, slow = _walk.list_dirs(*call), _pywalk.list_dirs(*call)
    assert fast["remembered"] == slow["remembered"] > 0
    assert fast["listed"] == slow["listed"]
    assert [bytes(x) for x in fast["columns"]["xattrs"][0]] == [
        bytes(x) if not isinstance(x, np.ndarray) else x.tobytes()
        for x in slow["columns"]["xattrs"][0]]
    with pytest.raises(ValueError, match="one longer"):
        _walk.list_dirs(*call[:-1], (arg[0], arg[1], arg[2], [(arg[3][0][0], b"", b"")]))
    with pytest.raises(TypeError, match="memo must be"):
        _walk.list_dirs(*call[:-1], (1, 2))


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
def test_directories_split_across_lister_calls_are_vouched_for(tree, tmp_path,
                                                                implementation):
    for i in range(12):
        (tree / "c" / f"many{i}").write_bytes(b"m")
        os.setxattr(tree / "c" / f"many{i}", POOL, b"p%d" % i)
    settle()
    expected, _ = pools(tree, None, implementation)
    pools(tree, new_memo(tmp_path), implementation, batch_rows=4, workers=1)
    got, stats = pools(tree, new_memo(tmp_path), implementation, batch_rows=4, workers=1)
    assert got == expected and stats.remembered == len(expected) - 1


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
def test_a_directory_replaced_between_the_parts_of_its_listing(tree, tmp_path,
                                                                implementation):
    """The C lister reopens a split directory by path: if another directory took that
    path meanwhile, neither may be vouched for."""
    for d in ("d", "other"):
        (tree / d).mkdir()
        for i in range(10):
            (tree / d / f"{d}{i}").write_bytes(b"x")
            os.setxattr(tree / d / f"{d}{i}", POOL, f"{d}-{i}".encode())
    settle()
    run = scan(tree, columns=["INODE"], directories_plus=True, xattrs={"POOL": POOL},
               xattr_memo=new_memo(tmp_path), implementation=implementation, batch_rows=4,
               workers=1)
    lister, swapped = run._list_dirs, []

    def swap_after_a_split(*args):
        result = lister(*args)
        dirs = args[2]
        if result["resume"] and dirs[result["consumed"]] == b"d" and not swapped:  # d half
            os.rename(tree / "d", tree / "d.tmp")
            os.rename(tree / "other", tree / "d")
            os.rename(tree / "d.tmp", tree / "other")
            swapped.append(True)
        return result

    run._list_dirs = swap_after_a_split
    for _ in run:
        pass
    assert swapped and run.stats.problems == 0
    expected, _ = pools(tree, None, implementation)
    got, _ = pools(tree, new_memo(tmp_path), implementation)
    assert got == expected


def test_only_rows_of_the_memos_device_are_learnt(tree, tmp_path):
    import pyarrow as pa

    memo = new_memo(tmp_path)
    memo.begin(tree)
    dev = os.stat(tree).st_dev
    batch = pa.RecordBatch.from_pydict({
        "INODE": pa.array([5, 6], pa.int64()), "DEVICE_ID": pa.array([dev, dev + 1]),
        "POOL": pa.array([b"here", b"elsewhere"], pa.binary())})
    memo.learn(batch, ["POOL"])
    memo.save()
    _, _, _, values = memo.begin(tree)
    inos, offsets, blob = values[0]
    assert inos.tolist() == [5] and offsets.tolist() == [0, 4] and blob == b"here"


def test_a_failed_read_is_not_remembered_as_none(tree, tmp_path, monkeypatch):
    """(The Python lister: a read error other than the attribute's absence keeps the
    directory out of the memo; the C lister does the same in read_xattr.)"""
    real_getxattr = os.getxattr
    broken = os.fsencode(tree / "b" / "three")

    def failing(path, *args, **kw):
        if os.fsencode(path) == broken:
            raise OSError(5, "Input/output error")
        return real_getxattr(path, *args, **kw)

    monkeypatch.setattr(os, "getxattr", failing)
    first, _ = pools(tree, new_memo(tmp_path), "python")
    assert first[broken] is None
    monkeypatch.setattr(os, "getxattr", real_getxattr)
    got, stats = pools(tree, new_memo(tmp_path), "python")
    assert got[broken] == b"ssd"
    assert 0 < stats.remembered < len(got) - 1


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
def test_one_memo_object_used_for_two_scans(tree, tmp_path, implementation):
    memo = new_memo(tmp_path)
    pools(tree, memo, implementation)
    os.setxattr(tree / "a" / "one", POOL, b"second")
    settle()                   # old enough to be taken from the memo by the third scan
    pools(tree, memo, implementation)              # learns afresh, not on top of the first
    got, _ = pools(tree, new_memo(tmp_path), implementation)
    assert got[os.fsencode(tree / "a" / "one")] == b"second"


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a file away needs root")
def test_a_memo_file_of_another_owner_is_ignored(tree, tmp_path):
    pools(tree, new_memo(tmp_path), IMPLEMENTATIONS[-1])
    os.chown(tmp_path / "memo" / "test", 12345, 12345)
    _, stats = pools(tree, new_memo(tmp_path), IMPLEMENTATIONS[-1])
    assert stats.remembered == 0


def test_no_memo_is_kept_on_a_network_file_system(tree, tmp_path, monkeypatch):
    assert memo_module.clock_is_local(tree)
    pools(tree, new_memo(tmp_path), IMPLEMENTATIONS[-1])
    saved = (tmp_path / "memo" / "test").read_bytes()
    monkeypatch.setattr(memo_module, "clock_is_local", lambda path: False)
    _, stats = pools(tree, new_memo(tmp_path), IMPLEMENTATIONS[-1])
    assert stats.remembered == 0                          # the memo there is not used ...
    assert (tmp_path / "memo" / "test").read_bytes() == saved   # ... nor replaced


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
def test_a_memo_scan_of_an_xattr_named_like_a_column(tree, tmp_path, implementation):
    def scanned() -> tuple[dict, int]:
        run = scan(tree, columns=["INODE"], directories_plus=True,
                   xattrs={"POOL_NAME": POOL}, xattr_memo=new_memo(tmp_path),
                   implementation=implementation)
        rows = {r["PATH_NAME"]: r["POOL_NAME"] for b in run for r in b.to_pylist()}
        return rows, run.stats.remembered

    first, _ = scanned()
    second, remembered = scanned()
    assert first == second and remembered == len(second) - 1
    assert second[os.fsencode(tree / "a" / "one")] == "sata1"     # POOL_NAME is text
    with pytest.raises(ValueError, match="more than case"):
        scan(tree, xattrs={"pool": POOL, "POOL": "user.other"})
