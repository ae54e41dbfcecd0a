"""The real-cluster binding against a fake libgpfs.so built here from C (fake_libgpfs.c).

The fake declares the gpfs.h structures in C and fills every field with a distinct value,
so a field at the wrong offset or of the wrong width in the ctypes layer shows up; it also
records the arguments it was called with (``fake_last``).
"""

from __future__ import annotations

import ctypes
import errno
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from gpfskit.clib import backend, clone, fssnap, ifile, inode, libgpfs, quota, stat, utils
from gpfskit.clib import file as gfile

SOURCE = Path(__file__).with_name("fake_libgpfs.c")


@pytest.fixture(scope="module")
def fake_library(tmp_path_factory: pytest.TempPathFactory) -> Path:
    compiler = shutil.which("gcc") or shutil.which("cc")
    if compiler is None:
        pytest.skip("no C compiler (gcc/cc) to build the fake libgpfs.so")
    out = tmp_path_factory.mktemp("fakegpfs") / "libgpfs.so"
    done = subprocess.run([compiler, "-shared", "-fPIC", "-O1", "-o", str(out), str(SOURCE)],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return out


@pytest.fixture
def fake(fake_library: Path) -> ctypes.CDLL:
    from gpfskit.config import config

    config["gpfskit.cluster.backend"] = "scale"
    config["gpfskit.clib.library"] = str(fake_library)
    backend._backend.cache_clear()
    lib = ctypes.CDLL(str(fake_library))
    lib.fake_last.restype = ctypes.c_char_p
    lib.fake_sizeof.argtypes = [ctypes.c_char_p]
    yield lib
    backend._backend.cache_clear()


def last(lib: ctypes.CDLL) -> str:
    return lib.fake_last().decode()


def test_structure_sizes_match_c(fake):
    for cls in (libgpfs.gpfs_iattr64, libgpfs.gpfs_quotaInfo, libgpfs.stat64,
                libgpfs.statfs64, libgpfs.gpfs_winattr, libgpfs.gpfsGetReplication):
        assert ctypes.sizeof(cls) == fake.fake_sizeof(cls.__name__.encode()), cls.__name__


def test_handles_marshal_names_and_ids(fake):
    h = fssnap.get_fssnaphandle_by_name("fs1", "snapA")
    assert last(fake) == "by_name fs1 snapA"
    assert fssnap.get_fsname_from_fssnaphandle(h) == "fs1"
    assert fssnap.get_snapname_from_fssnaphandle(h) == "snapA"
    assert fssnap.get_pathname_from_fssnaphandle(h) == "/gpfs/fs1/.snapshots/snapA"
    live = fssnap.get_fssnaphandle_by_name("fs1")
    assert last(fake) == "by_name fs1 (null)"
    assert fssnap.get_snapname_from_fssnaphandle(live) == ""
    scoped = fssnap.get_fssnaphandle_by_name("fs1", None, "projects")
    assert last(fake) == "fset_by_name fs1 projects (null)"
    sid = fssnap.get_fssnapid_from_fssnaphandle(h)
    again = fssnap.get_fssnaphandle_by_fssnapid(sid)  # all 48 opaque bytes went and came back
    assert fssnap.get_pathname_from_fssnaphandle(again) == "/gpfs/fs1/.snapshots/snapA"
    lid = fssnap.get_fssnapid_from_fssnaphandle(live)
    assert fssnap.cmp_fssnapid(sid, sid) == 0
    assert fssnap.cmp_fssnapid(lid, sid) == -1 and fssnap.cmp_fssnapid(sid, lid) == 1
    frees = fake.fake_frees()
    for handle in (h, live, scoped, again):
        fssnap.free_fssnaphandle(handle)
    assert fake.fake_frees() == frees + 4
    with pytest.raises(OSError) as exc:
        fssnap.get_fsname_from_fssnaphandle(h)
    assert exc.value.errno == errno.EBADF
    by_path = fssnap.get_fssnaphandle_by_path("/gpfs/fs0/some/dir")
    assert last(fake) == "by_path /gpfs/fs0/some/dir"
    assert utils.get_fsname_by_path("/gpfs/fs0/x") == "fs0"
    fssnap.free_fssnaphandle(by_path)


def test_library_errno_becomes_oserror(fake):
    with pytest.raises(OSError) as exc:
        fssnap.get_fssnaphandle_by_name("nofs")
    assert exc.value.errno == errno.ENOENT
    with pytest.raises(OSError) as exc:
        fssnap.get_fssnaphandle_by_name("fs1", "eperm")
    assert exc.value.errno == errno.EPERM
    with pytest.raises(OSError) as exc:
        stat.stat("/home/not-gpfs")
    assert exc.value.errno == errno.EINVAL and exc.value.filename == "/home/not-gpfs"


def test_every_iattr_field_is_read_at_its_place(fake):
    h = fssnap.get_fssnaphandle_by_name("fs1")
    prev = fssnap.get_fssnapid_from_fssnaphandle(fssnap.get_fssnaphandle_by_name("fs1", "s0"))
    scan = inode.open_inodescan(h, prev, 3)
    assert last(fake) == "open_inodescan64 /gpfs/fs1 prev=fs1:s0 max=3"
    rows = list(iter(lambda: inode.next_inode(scan), None))
    assert [r.ia_inode for r in rows] == [1, 2, 3]
    a = rows[1]
    assert a == inode.iattr(
        ia_mode=0o100644, ia_uid=1002, ia_gid=2002, ia_inode=2, ia_gen=2**32 + 2, ia_nlink=2,
        ia_size=2**40 + 2, ia_blocks=16, ia_atime=1700000002.25, ia_mtime=1700000102.5,
        ia_ctime=1700000202.75, ia_createtime=1600000002.125, ia_winflags=0x2,
        ia_flags=0x4000 | 0x100000, ia_repl_data=1, ia_repl_data_max=2, ia_repl_meta=3,
        ia_repl_meta_max=4, ia_blocksize=4 << 20, ia_xperm=3, ia_dev=0x10, ia_rdev=0x20,
        ia_pcacheflags=5, ia_modsnapid=2**33 + 2, ia_filesetid=7, ia_datapoolid=65537,
        ia_inode_space_mask=0xF0F0F0F0F0F0F0F0)
    assert all(isinstance(getattr(a, f), float) for f in a._fields if f.endswith("time"))
    assert inode.get_flags_strings(a.ia_flags) == ["IMMUTABLE", "APPENDONLY"]
    assert inode.get_winflags_strings(a.ia_winflags) == ["HIDDEN"]
    assert inode.get_xperm_strings(a.ia_xperm) == ["ACL", "XATTR"]
    assert inode.get_pcacheflags_strings(a.ia_pcacheflags) == ["CACHED", "DIRTY"]
    inode.seek_inode(scan, 2)
    assert inode.next_inode(scan, 3).ia_inode == 2
    assert inode.next_inode(scan, 3) is None          # termIno reached
    assert inode.stat_inode(scan, 3).ia_size == 2**40 + 3
    assert inode.stat_inode(scan, 50) is None
    assert inode.igetfilesetname(a.ia_filesetid, scan) == "fset-7"
    assert inode.igetstoragepool(a.ia_datapoolid, scan) == "pool-65537"
    with pytest.raises(OSError) as exc:
        inode.igetfilesetname(99, scan)
    assert exc.value.errno == errno.ENOENT
    with pytest.raises(OSError) as exc:
        inode.seek_inode(scan, 5000)
    assert exc.value.errno == errno.EINVAL
    closes = fake.fake_closes()
    inode.close_inodescan(scan)
    assert fake.fake_closes() == closes + 1
    with pytest.raises(OSError) as exc:
        inode.next_inode(scan)
    assert exc.value.errno == errno.EBADF


def test_ifile_reads_and_lists(fake):
    h = fssnap.get_fssnaphandle_by_name("fs1")
    f = ifile.iopen(h, 2)
    assert last(fake) == "iopen64 2 0"
    assert ifile.iread(f, 5) == b"fake "
    assert ifile.iread(f, 100, 5) == b"file contents\n"
    ifile.iclose(f)
    d = ifile.iopen(h, 1)
    entries = list(iter(lambda: ifile.ireaddir(d), None))
    assert [e.d_name for e in entries] == [".", "..", "a-long-name-for-an-entry.txt"]
    e = entries[2]
    assert (e.d_type, e.d_ino, e.d_gen, e.d_flags) == (8, 2**33 + 2, 79, 2)
    assert ifile.get_type_string(e.d_type) == "REG"
    assert ifile.get_flags_strings(e.d_flags) == ["IJUNCTION"]
    with pytest.raises(OSError) as exc:
        ifile.iread(d, 10)
    assert exc.value.errno == errno.EISDIR
    with pytest.raises(OSError) as exc:
        ifile.iopen(h, 9)
    assert exc.value.errno == errno.ENOENT


def test_stat_statfs_and_lite_masks(fake):
    st = stat.stat("/gpfs/fs1/f")
    assert last(fake) == "stat /gpfs/fs1/f"
    assert st == stat.stat_result(st_mode=0o100640, st_ino=2**32 + 1 + 2**33, st_dev=0x1234,
                                  st_nlink=3, st_uid=1001, st_gid=1002, st_size=2**41 + 5,
                                  st_atime=1700000001, st_mtime=1700000002,
                                  st_ctime=1700000003, st_rdev=0x55, st_blksize=1 << 20,
                                  st_blocks=4096)
    stat.lstatlite("/gpfs/fs1/f", stat.SL_SIZE | stat.SL_MTIME)
    assert last(fake) == f"lstatlite mask={stat.SL_SIZE | stat.SL_MTIME} /gpfs/fs1/f"
    stat.statlite("/gpfs/fs1/g")
    assert last(fake) == "statlite mask=0 /gpfs/fs1/g"
    sf = stat.statfs("/gpfs/fs1")
    assert sf == stat.statfs_result(0x47504653, 1 << 22, 2**35, 1000, 900, 2**33, 12345, 255)


def test_fcntl_quota_winattrs_and_fileset_id(fake, tmp_path):
    fd = os.open(tmp_path, os.O_RDONLY)
    try:
        assert gfile.get_fileset_name(fd) == "fset-from-fd"
        header, op = ctypes.sizeof(libgpfs.gpfsFcntlHeader), ctypes.sizeof(libgpfs.gpfsGetName)
        assert last(fake) == f"fcntl {fd} total={header + op} version=1 len={op} type=1009"
        assert gfile.get_storage_pool(fd) == "pool-from-fd"
        assert gfile.get_snapshot_name(fd) == "snap-from-fd"
        assert gfile.get_replication(fd) == {
            "metadataReplicas": 1, "maxMetadataReplicas": 2, "dataReplicas": 3,
            "maxDataReplicas": 4, "status": 0x21, "pool": "pool-from-fd"}
        assert gfile.get_status_strings(0x21) == ["EXPOSED", "ILLPLACED"]
    finally:
        os.close(fd)
    with pytest.raises(OSError) as exc:
        gfile.get_fileset_name(-1)
    assert exc.value.errno == errno.EBADF
    q = quota.get_quota("/gpfs/fs1", quota.Q_GRP, 42)
    assert last(fake) == f"quotactl /gpfs/fs1 cmd={(3 << 8) | 1} id=42"
    assert q == {"blockUsage": 2**34, "blockHardLimit": 2, "blockSoftLimit": 3,
                 "blockInDoubt": 4, "inodeUsage": 5, "inodeHardLimit": 6, "inodeSoftLimit": 7,
                 "inodeInDoubt": 8, "quoId": 42, "blockGraceTime": 10, "inodeGraceTime": 11}
    quota.quota_on("/gpfs/fs1", quota.Q_FSET)
    assert last(fake) == f"quotactl /gpfs/fs1 cmd={(1 << 8) | 2} id=0"
    assert gfile.get_winattrs("/gpfs/fs1/f") == gfile.WA_ARCHIVE | gfile.WA_SYSTEM
    gfile.set_winattrs("/gpfs/fs1/f", gfile.WA_HIDDEN)
    assert last(fake) == f"set_winattrs /gpfs/fs1/f flags=1 attrs={gfile.WA_HIDDEN}"
    assert utils.getfilesetid("/gpfs/fs1", "abcde") == 5
    assert utils.get_path_in_snapshot("/gpfs/fs0/data/x", "s1") == "/gpfs/fs0/.snapshots/s1/data/x"


def test_clone_calls_pass_paths_or_descriptors_limits_and_offset(fake, tmp_path):
    clone.clone_snap("/gpfs/fs1/base")
    assert last(fake) == "clone_snap /gpfs/fs1/base (null)"
    clone.clone_snap("/gpfs/fs1/base", "/gpfs/fs1/base.parent")
    assert last(fake) == "clone_snap /gpfs/fs1/base /gpfs/fs1/base.parent"
    clone.clone_copy("/gpfs/fs1/base.parent", "/gpfs/fs1/shot1")
    assert last(fake) == "clone_copy /gpfs/fs1/base.parent /gpfs/fs1/shot1"
    with pytest.raises(OSError) as exc:
        clone.clone_copy("/gpfs/fs1/not-a-parent", "/gpfs/fs1/x")
    assert exc.value.errno == errno.EINVAL and exc.value.filename == "/gpfs/fs1/not-a-parent"
    open_fds = set(os.listdir("/proc/self/fd"))
    child, parent = tmp_path / "shot1", tmp_path / "base.parent"
    child.write_bytes(b"frame")
    parent.write_bytes(b"frame")
    parent.chmod(0o444)
    clone.clone_split(child, clone.GPFS_CLONE_PARENT_ONLY)
    assert last(fake) == f"clone_split {child} rw anc=1"
    clone.clone_unsnap(str(parent))
    assert last(fake) == f"clone_unsnap {parent} ro"
    assert clone.declone(str(child), blocks=2, offset=5 << 20) == 7 << 20
    assert last(fake) == f"declone {child} rw anc=0 blocks=2 offset={5 << 20}"
    assert clone.declone(str(child), 1, (3 << 30) - (1 << 20), clone.GPFS_CLONE_ALL) == -1
    assert clone.declone(str(child)) == -1
    assert last(fake) == f"declone {child} rw anc=0 blocks=-1 offset=0"
    with pytest.raises(OSError) as exc:
        clone.clone_unsnap(child)
    assert exc.value.errno == errno.EINVAL and exc.value.filename == str(child)
    with pytest.raises(FileNotFoundError):
        clone.clone_unsnap(str(tmp_path / "gone"))
    assert set(os.listdir("/proc/self/fd")) == open_fds


@pytest.mark.parametrize("call, args, error, message", [
    (clone.clone_copy, ("/gpfs/fs1/a", None), TypeError, "dest must be a path, not NoneType"),
    (clone.clone_unsnap, (None,), TypeError, "pathname must be a path"),
    (clone.clone_snap, (7,), TypeError, "source must be a path, not int"),
    (clone.declone, ("/gpfs/fs1/a", "all"), TypeError, "blocks must be an int, not str"),
    (clone.declone, ("/gpfs/fs1/a", -1, 2**70), ValueError, "offset 1180591620717411303424 "
                                                            "does not fit in 64 bits"),
    (clone.clone_split, ("/gpfs/fs1/a", 2), ValueError, "ancestor_limit must be GPFS_CLONE_ALL"),
    (clone.clone_split, ("/gpfs/fs1/a", True), TypeError, "ancestor_limit must be an int"),
])
def test_clone_calls_refuse_bad_arguments_before_the_library(fake, call, args, error, message):
    before = last(fake)
    with pytest.raises(error, match=message):
        call(*args)
    assert last(fake) == before


def test_a_missing_library_is_enosys(fake, tmp_path):
    from gpfskit.config import config

    config["gpfskit.clib.library"] = str(tmp_path / "nowhere" / "libgpfs.so")
    with pytest.raises(OSError) as exc:
        fssnap.get_fssnaphandle_by_name("fs1")
    assert exc.value.errno == errno.ENOSYS and "nowhere" in str(exc.value)


def test_a_path_with_a_nul_byte_is_einval_not_cut_short(fake):
    before = last(fake)
    for call in (lambda: stat.lstatlite("/gpfs/fs1/a\0b"),
                 lambda: clone.clone_snap("/gpfs/fs1/a\0b"),
                 lambda: quota.get_quota("/gpfs/fs1\0/x", quota.Q_USR, 0)):
        with pytest.raises(OSError) as exc:
            call()
        assert exc.value.errno == errno.EINVAL and "invalid path" in str(exc.value)
    assert last(fake) == before
