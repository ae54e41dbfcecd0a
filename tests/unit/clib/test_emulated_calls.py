"""The C library API calls on the emulated cluster, checked against its files and state."""

from __future__ import annotations

import errno
import os

import pytest

from gpfskit.clib import clone, file, fssnap, inode, quota, stat, utils


def test_walk_matches_os_walk_top_down_and_bottom_up(mp):
    (mp / "a" / "b").mkdir(parents=True)
    (mp / "a" / "b" / "deep.txt").write_text("x")
    (mp / "a" / "dirlink").symlink_to(mp / "a" / "b")

    def normal(walk):
        return sorted((root, sorted(dirs), sorted(files)) for root, dirs, files in walk)

    def os_walk(top, **kw):
        for root, dirs, files in os.walk(top, **kw):
            if root == str(mp):
                dirs[:] = [d for d in dirs if d != ".snapshots"]
            yield root, dirs, files

    assert normal(utils.walk(str(mp))) == normal(os_walk(str(mp)))
    assert normal(utils.walk(str(mp), topdown=False)) == normal(
        (r, d, f) for r, d, f in os.walk(str(mp), topdown=False) if ".snapshots" not in r)
    pruned = [root for root, dirs, _ in utils.walk(str(mp)) if not dirs.clear()]
    assert pruned == [str(mp)]
    followed = [root for root, _, _ in utils.walk(str(mp / "a"), followlinks=True)]
    assert str(mp / "a" / "dirlink") in followed


def test_walk_reports_unreadable_directories_through_onerror(mp):
    errors = []
    assert list(utils.walk(str(mp / "missing"), onerror=errors.append)) == []
    assert [e.errno for e in errors] == [errno.ENOENT]


def test_scandir_entries_and_listdir(mp):
    (mp / "dir1").mkdir()
    (mp / "file1").write_text("12345")
    (mp / "lnk").symlink_to("file1")
    entries = {e.name: e for e in utils.scandir(str(mp))}
    assert ".snapshots" not in entries
    assert entries["dir1"].is_dir() and not entries["lnk"].is_dir()
    assert entries["lnk"].is_symlink() and entries["file1"].is_file()
    assert entries["file1"].inode() == os.lstat(mp / "file1").st_ino
    assert entries["file1"].stat().st_size == 5
    assert entries["file1"].path == str(mp / "file1")
    assert sorted(utils.listdir(str(mp))) == sorted(entries)


def test_stat_family(mp):
    target = mp / "sized"
    target.write_bytes(b"x" * 1234)
    (mp / "sized-link").symlink_to("sized")
    st = stat.stat(str(mp / "sized-link"))
    assert (st.st_size, st.st_ino) == (1234, os.stat(target).st_ino)
    assert all(isinstance(v, int) for v in st)
    assert stat.fstat(str(target)) == st
    lite = stat.lstatlite(str(mp / "sized-link"), stat.SL_SIZE)
    assert lite.st_ino == os.lstat(mp / "sized-link").st_ino
    assert stat.statlite(str(mp / "sized-link")).st_size == 1234
    fs = stat.statfs(str(mp))
    assert fs.f_type == 0x47504653 and fs.f_namelen > 0


def test_lstatlite_exact_fields_are_read_again(mp):
    target = mp / "grows"
    target.write_text("a")
    list(utils.scandir(str(mp)))       # the listing is what stat-lite may answer from
    target.write_text("abcdef")
    assert stat.lstatlite(str(target)).st_size == 1                 # nothing asked exact
    assert stat.lstatlite(str(target), stat.SL_SIZE).st_size == 6   # size asked exact


def test_flag_decoders():
    assert inode.get_flags_strings(0) == []
    assert inode.get_flags_strings(0x4000 | 0x0200) == ["EXPOSED", "IMMUTABLE"]
    assert inode.get_winflags_strings(0x0401) == ["ARCHIVE", "SPARSE_FILE"]
    assert inode.get_xperm_strings(0x10) == ["RPATTR"]
    assert inode.get_pcacheflags_strings(0x80) == ["STATE"]
    assert file.get_status_strings(0x04) == ["UNBALANCED"]
    with pytest.raises(TypeError):
        inode.get_flags_strings("IMMUTABLE")


def test_file_calls_need_a_real_fd(mp):
    with pytest.raises(OSError) as exc:
        file.get_fileset_name(987654)
    assert exc.value.errno == errno.EBADF
    with pytest.raises(TypeError):
        file.get_storage_pool("fd")
    fd = os.open("/", os.O_RDONLY)
    try:
        with pytest.raises(OSError) as exc:
            file.get_fileset_name(fd)
        assert exc.value.errno == errno.EINVAL
    finally:
        os.close(fd)
    with pytest.raises(OSError) as exc:
        file.get_winattrs(str(mp))
    assert exc.value.errno == errno.ENOSYS


def test_clones_are_not_emulated_and_say_so(mp, tmp_path):
    source = mp / "base.exr"
    source.write_bytes(b"pixels")
    for call, args in ((clone.clone_snap, (str(source),)),
                       (clone.clone_copy, (str(source), str(mp / "shot1.exr"))),
                       (clone.clone_split, (str(source),)),
                       (clone.clone_unsnap, (str(source),)),
                       (clone.declone, (str(source),))):
        with pytest.raises(OSError) as exc:
            call(*args)
        assert exc.value.errno == errno.ENOSYS, call.__name__
        assert "not emulated" in str(exc.value) and exc.value.filename == str(source)
    outside = tmp_path / "plain"
    outside.write_text("x")
    for call, args in ((clone.clone_copy, (str(source), str(outside))),
                       (clone.declone, (str(outside),))):
        with pytest.raises(OSError) as exc:
            call(*args)
        assert exc.value.errno == errno.EINVAL and "not in a GPFS file system" in str(exc.value)
    with pytest.raises(TypeError, match="dest must be a path"):
        clone.clone_copy(str(source), None)


def test_storage_pool_follows_mmchattr(mp, mm):
    target = mp / "moved.dat"
    target.write_text("data")
    assert mm("mmchattr", "-P", "sas1", str(target)).returncode == 0
    fd = os.open(target, os.O_RDONLY)
    try:
        assert file.get_storage_pool(fd) == "sas1"
    finally:
        os.close(fd)
    found = {ia.ia_inode: ia for ia in utils.inode_iterator(str(mp))}
    h = fssnap.get_fssnaphandle_by_path(str(mp))
    scan = inode.open_inodescan(h)
    ia = found[os.lstat(target).st_ino]
    assert inode.igetstoragepool(ia.ia_datapoolid, scan) == "sas1"


def test_quota_reads_limits_and_switches_enforcement(mp, mm):
    assert mm("mmsetquota", "mmfs1", "--user", "1234", "--block", "10M:20M",
              "--files", "100:200").returncode == 0
    q = quota.get_quota(str(mp), quota.Q_USR, 1234)
    assert (q["blockSoftLimit"], q["blockHardLimit"]) == (10240, 20480)
    assert (q["inodeSoftLimit"], q["inodeHardLimit"]) == (100, 200)
    assert q["quoId"] == 1234 and set(q) >= {"blockUsage", "inodeUsage", "blockGraceTime"}
    quota.quota_off(str(mp), quota.Q_GRP)
    assert "quotasEnforced:user%3Bfileset:" in mm("mmlsfs", "mmfs1", "-Q", "-Y").stdout
    quota.quota_on(str(mp), quota.Q_GRP)
    assert "quotasEnforced:user%3Bgroup%3Bfileset:" in mm("mmlsfs", "mmfs1", "-Q", "-Y").stdout
    with pytest.raises(OSError) as exc:
        quota.get_quota("/etc", quota.Q_USR, 0)
    assert exc.value.errno == errno.EINVAL


def test_a_path_with_a_nul_byte_is_einval(mp):
    for call in (stat.lstatlite, stat.stat, utils.get_fsname_by_path,
                 fssnap.get_fssnaphandle_by_path, clone.clone_unsnap):
        with pytest.raises(OSError) as exc:
            call(f"{mp}/a\0b")
        assert exc.value.errno == errno.EINVAL, call.__name__
