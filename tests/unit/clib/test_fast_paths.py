"""The C paths of the emulated C library API: the walk's listing thread, the scan's records.

Each is checked against what the file system says (``os.lstat``) and against its pure-Python
twin, which is what runs where the extension is not built.
"""

from __future__ import annotations

import errno
import gc
import os
import stat as statmod
import threading

import numpy as np
import pytest

from gpfskit.clib import fssnap, inode, listing, stat, utils
from gpfskit.clib.emulated import iscan
from gpfskit.clib.types import iattr, stat_result
from gpfskit.emulator.scan import _pywalk

_walk = pytest.importorskip("gpfskit.emulator.scan._walk")


def _tree(mp):
    """Files, subdirectories, hard and symbolic links, a FIFO, a name that is not UTF-8 and
    times before 1970 and at the last nanosecond of a second."""
    (mp / "a" / "b").mkdir(parents=True)
    for i in range(40):
        (mp / "a" / f"f{i}").write_text("x" * i)
    os.link(mp / "a" / "f3", mp / "a" / "b" / "hard")
    (mp / "a" / "to-b").symlink_to(mp / "a" / "b")
    (mp / "a" / "dangling").symlink_to("nowhere")
    os.mkfifo(mp / "a" / "fifo")
    os.utime(mp / "a" / "f1", ns=(-315_619_199_300_000_000, -315_619_199_300_000_000))
    os.utime(mp / "a" / "f2", ns=(1_577_836_800_999_999_999, 1_577_836_800_999_999_999))
    with open(os.path.join(os.fsencode(mp / "a"), b"caf\xe9"), "w") as f:
        f.write("x")


def test_walk_with_lstatlite_gives_each_entry_its_own_attributes(mp):
    _tree(mp)
    seen = 0
    for root, dirs, files in utils.walk(str(mp)):
        for name in dirs + files:
            path = os.path.join(root, name)
            lite, real = stat.lstatlite(path), os.lstat(path)
            assert (lite.st_ino, lite.st_mode, lite.st_size, lite.st_nlink, lite.st_uid,
                    lite.st_blocks) == (real.st_ino, real.st_mode, real.st_size, real.st_nlink,
                                        real.st_uid, real.st_blocks)
            assert lite.st_mtime == int(real.st_mtime)    # as the float seconds truncate
            assert type(lite) is stat_result
            seen += 1
    assert seen == sum(len([n for n in d + f if n != ".snapshots"]) for _, d, f in os.walk(mp))
    # Answers come from the directory handed out last only: an earlier one reads the inode.
    assert listing.cached_stat(str(mp / "a" / "f1")) is None


def test_listing_thread_and_its_twin_agree(mp):
    _tree(mp)
    directory = str(mp / "a")
    fast = listing.list_dir(directory, ("f5",))
    slow = listing._take(listing._OnTheSpot(directory, ("f5",)), directory)
    assert fast.names == slow.names and list(fast.kinds) == list(slow.kinds)
    assert fast.stats == slow.stats and fast.paths == slow.paths
    assert (fast.dirs, fast.others) == (slow.dirs, slow.others)
    assert "f5" not in fast.names and os.fsdecode(b"caf\xe9") in fast.names
    kinds = dict(zip(fast.names, fast.kinds))
    assert (kinds["b"], kinds["to-b"], kinds["fifo"], kinds["f0"]) == (
        listing.KIND_DIR, listing.KIND_LINK, listing.KIND_OTHER, listing.KIND_FILE)


def test_listing_errors_name_the_directory(mp):
    (mp / "plain").write_text("x")
    for path, code in ((mp / "missing", errno.ENOENT), (mp / "plain", errno.ENOTDIR)):
        with pytest.raises(OSError) as exc:
            listing.list_dir(str(path))
        assert (exc.value.errno, exc.value.filename) == (code, str(path))
    pending = _walk.list_ahead(os.fsencode(mp), ())
    pending.result(stat_result, b"/")
    with pytest.raises(RuntimeError):
        pending.result(stat_result, b"/")


def test_an_abandoned_walk_and_a_forked_child_keep_working(mp):
    _tree(mp)
    walk = utils.walk(str(mp))
    next(walk)
    del walk                           # listings still queued are dropped by the thread
    for _ in range(50):
        _walk.list_ahead(os.fsencode(mp / "a"), ())
    expected = sum(len(d) + len(f) for _, d, f in utils.walk(str(mp)))
    pid = os.fork()
    if pid == 0:                       # the child has no listing thread until it lists
        n = sum(len(d) + len(f) for _, d, f in utils.walk(str(mp)))
        os._exit(0 if n == expected else 1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0


def test_walks_in_several_threads_at_once_each_see_the_whole_tree(mp):
    """A caller that would wait lists queued directories itself, whichever walk queued
    them: each walk still gets every listing, once."""
    _tree(mp)
    for i in range(30):
        (mp / "a" / f"wide{i}").mkdir()

    def entries() -> list:
        return sorted((top, sorted(dirs), sorted(files)) for top, dirs, files
                      in utils.walk(str(mp)))

    expected = entries()
    found: list = []
    threads = [threading.Thread(target=lambda: found.append(entries())) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert found == [expected] * 6


def _scan_all(handle, term=0):
    scan = inode.open_inodescan(handle)
    rows = []
    while (ia := inode.next_inode(scan, term)) is not None:
        rows.append(ia)
    return scan, rows


def test_inode_scan_is_in_inode_order_with_hard_links_once(mp):
    _tree(mp)
    handle = fssnap.get_fssnaphandle_by_path(str(mp))
    scan, rows = _scan_all(handle)
    numbers = [ia.ia_inode for ia in rows]
    assert numbers == sorted(set(numbers))
    on_disk = {os.lstat(os.path.join(r, n)).st_ino for r, d, f in os.walk(mp)
               for n in d + f if ".snapshots" not in (r + "/" + n).split("/")}
    assert set(numbers) == on_disk | {os.lstat(mp).st_ino}
    modes = {ia.ia_inode: ia.ia_mode for ia in rows}
    assert statmod.S_ISFIFO(modes[os.lstat(mp / "a" / "fifo").st_ino])
    assert all(type(ia) is iattr and isinstance(ia.ia_mtime, float) for ia in rows)
    # termIno stops before an inode and leaves the scan there; seek goes back.
    middle = numbers[len(numbers) // 2]
    inode.seek_inode(scan, 0)
    assert inode.next_inode(scan, middle) is not None
    while inode.next_inode(scan, middle) is not None:
        pass
    assert inode.next_inode(scan).ia_inode == middle
    assert inode.stat_inode(scan, middle) == rows[len(numbers) // 2]
    inode.close_inodescan(scan)
    with pytest.raises(OSError) as exc:
        inode.next_inode(scan)
    assert exc.value.errno == errno.EBADF


def test_scan_pools_follow_each_move_between_pools(mp, mm):
    target = mp / "moving.dat"
    target.write_text("data")
    ino = os.lstat(target).st_ino
    handle = fssnap.get_fssnaphandle_by_path(str(mp))
    for pool in ("sas1", "system", "sas1"):
        assert mm("mmchattr", "-P", pool, str(target)).returncode == 0
        scan, rows = _scan_all(handle)
        found = next(ia for ia in rows if ia.ia_inode == ino)
        assert inode.igetstoragepool(found.ia_datapoolid, scan) == pool
        by_iterator = {ia.ia_inode: ia for ia in utils.inode_iterator(str(mp))}
        assert by_iterator[ino] == found
    os.rename(target, mp / "renamed.dat")      # the pool goes with the file
    _, rows = _scan_all(handle)
    assert next(ia for ia in rows if ia.ia_inode == ino).ia_datapoolid == found.ia_datapoolid


def test_records_and_their_twin_agree():
    columns = [np.arange(5, dtype=np.int64) * (k + 1) for k in range(26)]
    columns.append(np.array([0.0, -0.0, 1.5, 1.5, 1e18]))
    fast, slow = iscan.Records(iattr, columns), _pywalk.Records(iattr, columns)
    assert fast is not slow and type(fast) is _walk.Records
    assert list(fast) == list(slow) and fast.next() is None
    fast.pos = slow.pos = 2
    assert fast.next() == slow.next() and fast.pos == 3
    assert fast.at(4) == slow.at(4) and len(fast) == 5
    assert [str(r.ia_inode_space_mask) for r in _pywalk.Records(iattr, columns)] == [
        str(r.ia_inode_space_mask) for r in _walk.Records(iattr, columns)]
    with pytest.raises(IndexError):
        fast.at(5)
    with pytest.raises(TypeError):
        _walk.Records(iattr, [np.zeros(3, np.int32)] * 27)
    with pytest.raises(ValueError):
        _walk.Records(iattr, [np.zeros(3, np.int64)] * 26 + [np.zeros(2)])


@pytest.mark.parametrize("make", [_walk.Records, _pywalk.Records])
def test_records_take_constants_and_stop_at_a_term(make):
    """A 0-d column is the same value in every record; next(term) stops, staying put, at
    the first record whose stop column reaches the term (next_inode's termIno)."""
    columns = [np.array(7, np.int64)] * 26 + [np.array(0.5)]
    columns[3] = np.array([3, 5, 9], np.int64)
    records = make(iattr, columns, 3)
    assert len(records) == 3
    first = records.next()
    assert (first.ia_inode, first.ia_mode, first.ia_inode_space_mask) == (3, 7, 0.5)
    assert records.next(5) is None and records.pos == 1
    assert records.next(6).ia_inode == 5 and records.next(0).ia_inode == 9
    assert records.next(1) is None and records.next() is None
    assert records.next(2**64) is None                   # at the end whatever the term
    records.pos = 0
    assert records.next(2**64).ia_inode == 3             # above every inode: no stop
    assert records.next(-1) is None and records.pos == 1  # below every inode: stop
    with pytest.raises(TypeError):
        records.next(5.0)
    assert [r.ia_inode for r in make(iattr, columns)] == [3, 5, 9]
    assert make(iattr, columns).at(2) == iattr(*([7] * 3 + [9] + [7] * 22 + [0.5]))
    assert len(make(iattr, [np.array(1, np.int64)] * 27)) == 1      # constants only: one
    with pytest.raises(ValueError, match="stop"):
        make(iattr, columns, 27)
    with pytest.raises(ValueError, match="stop"):
        make(iattr, columns, 26)                          # a float column
    with pytest.raises(ValueError, match="differ"):
        make(iattr, [*columns[:3], np.zeros(2, np.int64), np.zeros(3, np.int64),
                     *columns[5:]])


def test_records_are_not_tracked_by_the_cyclic_gc():
    """Ints and floats only: a kept million of them must not slow every collection."""
    columns = [np.arange(3, dtype=np.int64)] * 26 + [np.zeros(3)]
    record = _walk.Records(iattr, columns).next()
    assert isinstance(record, iattr) and not gc.is_tracked(record)
    assert record == iattr(*([0] * 26 + [0.0]))
    del record
    gc.collect()


class TwinIattr(_pywalk.Row):
    """``iattr`` as it is where the extension is not built: on the twin's Row."""

    __slots__ = ()
    _fields = iattr._fields
    __repr__ = iattr.__repr__


for _k, _name in enumerate(iattr._fields):
    setattr(TwinIattr, _name, _pywalk.Field(_k, _name))


ROWS = [pytest.param((_walk.Records, iattr), id="C"),
        pytest.param((_pywalk.Records, TwinIattr), id="twin")]


def _columns(n=5):
    columns = [np.arange(n, dtype=np.int64) * (k + 1) for k in range(26)]
    return [*columns, np.arange(n) + 0.5]


@pytest.mark.parametrize("kind", ROWS)
def test_a_record_reads_and_compares_as_a_named_tuple(kind):
    """Made from values, by position or by name, or read from columns: fields, indexing,
    unpacking, equality with the tuple of its values, hashing and pickling all agree."""
    import pickle

    make, cls = kind
    values = (*range(26), 0.5)
    by_position = cls(*values)
    by_name = cls(*values[:20], **dict(zip(iattr._fields[20:], values[20:], strict=True)))
    read = make(cls, [np.array([v]) for v in values]).next()
    for record in (by_position, by_name, read):
        assert record == values and tuple(record) == values and len(record) == 27
        assert (record.ia_inode, record[3], record[-1], record[1:3]) == (3, 3, 0.5, (1, 2))
        assert hash(record) == hash(values) and record == by_position
        assert type(record.ia_size) is int and type(record.ia_inode_space_mask) is float
        assert pickle.loads(pickle.dumps(record)) == record
        mode, *_, mask = record
        assert (mode, mask) == (0, 0.5)
    assert repr(read).startswith("iattr(ia_mode=0, ia_uid=1,")
    assert read != cls(*values[:26], 1.5) and read < cls(*values[:26], 1.5)
    with pytest.raises(AttributeError, match="read-only"):
        read.ia_size = 1
    with pytest.raises(IndexError):
        read[27]
    with pytest.raises(TypeError, match="27 values"):
        cls(*values[:26])
    with pytest.raises(TypeError, match="missing"):
        cls(*values[:26], ia_nosuch=1)


def test_iattr_has_the_named_tuple_helpers():
    ia = iattr(*range(26), 0.5)
    assert ia._asdict()["ia_size"] == 6 and list(ia._asdict()) == list(iattr._fields)
    changed = ia._replace(ia_size=99)
    assert changed.ia_size == 99 and changed.ia_inode == 3 and ia.ia_size == 6
    with pytest.raises(ValueError, match="ia_nosuch"):
        ia._replace(ia_nosuch=1)


@pytest.mark.parametrize("kind", ROWS)
def test_records_read_through_an_order(kind):
    """With an order, record i reads the columns at order[i], and the stop column too."""
    make, cls = kind
    columns = _columns()
    records = make(cls, columns, 3, np.array([4, 0, 2], np.int64))
    assert len(records) == 3
    assert [r.ia_inode for r in records] == [16, 0, 8]
    records.pos = 0
    assert records.next(16) is None and records.next(17).ia_uid == 8
    assert records.at(2) == (*(int(c[2]) for c in columns[:26]), 2.5)
    assert [r.ia_inode for r in make(cls, columns, 3, np.zeros(0, np.int64))] == []
    with pytest.raises(ValueError, match="row"):
        make(cls, columns, 3, np.array([0, 5], np.int64))
    with pytest.raises(ValueError, match="row"):
        make(cls, columns, 3, np.array([-1], np.int64))
    with pytest.raises(TypeError, match="order"):
        make(cls, columns, 3, np.array([0.0]))


@pytest.mark.parametrize("kind", ROWS)
def test_kept_records_keep_their_values(kind):
    """The records a script holds are never refilled, however it holds them, while those
    it lets go may be: every kept record still reads its own row at the end."""
    make, cls = kind
    columns = _columns(1000)
    kept, expected = [], []
    for i, ia in enumerate(make(cls, columns)):
        if i % 7 == 0:
            kept.append(ia)
            expected.append(ia.ia_inode)
        assert ia.ia_size == 7 * i                      # the loop variable's own row
    by_inode = {ia.ia_inode: ia for ia in make(cls, columns)}
    records = make(cls, columns)
    pair = (records.next(), records.next())
    assert [r.ia_inode for r in pair] == [0, 4]
    latest = None
    while (ia := records.next()) is not None:
        latest = ia
    assert [r.ia_inode for r in pair] == [0, 4] and latest.ia_inode == 3996
    assert [ia.ia_inode for ia in kept] == expected
    assert all(k == ia.ia_inode for k, ia in by_inode.items())
