"""The scan against an os.walk + os.lstat oracle, and the C lister against its Python twin."""

from __future__ import annotations

import grp
import os
import pwd
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pyarrow as pa
import pytest
from scan_tree_helpers import (
    IMPLEMENTATIONS,
    INDEPENDENT,
    JUNCTIONS,
    VISIBLE,
    Tree,
    build_tree,
    oracle,
    rows_by_path,
)

from gpfskit.emulator.scan import (
    ALL_COLUMNS,
    EXTRA_COLUMNS,
    HAVE_C_EXTENSION,
    TYPES,
    _pywalk,
    scan,
    subtree_junctions,
)

TIMES = ("ACCESS_TIME", "MODIFICATION_TIME", "CHANGE_TIME")


def assert_matches_oracle(got: dict[bytes, dict], want: dict[bytes, dict]) -> None:
    assert sorted(got) == sorted(want)
    for path, expected in want.items():
        row = got[path]
        for key, value in expected.items():
            if key in TIMES:
                assert row[key] == pytest.approx(value, abs=1e-6), (path, key)
            else:
                assert row[key] == value, (path, key)


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
@pytest.mark.parametrize("directories_plus", [False, True])
@pytest.mark.parametrize(("workers", "batch_rows"), [(2, 65536), (2, 7), (1, 64)])
def test_matches_oracle(awkward_tree: Tree, implementation: str, directories_plus: bool,
                        workers: int, batch_rows: int) -> None:
    s = scan(awkward_tree.root, visible_root=VISIBLE, junctions=JUNCTIONS,
             independent=INDEPENDENT, directories_plus=directories_plus, workers=workers,
             batch_rows=batch_rows, implementation=implementation)
    batches = list(s)
    assert all(b.num_rows <= batch_rows for b in batches)
    assert all(b.schema == s.schema for b in batches)
    got = rows_by_path(batches)
    want = oracle(awkward_tree.root, junctions=JUNCTIONS, independent=INDEPENDENT,
                  directories_plus=directories_plus)
    assert_matches_oracle(got, want)
    every = oracle(awkward_tree.root, junctions=JUNCTIONS, independent=INDEPENDENT,
                   directories_plus=True)
    kinds = [row["MISC_ATTRIBUTES"][0] for row in every.values()]
    assert s.stats.files == kinds.count("F")
    assert s.stats.directories == kinds.count("D")
    assert s.stats.others == kinds.count("L") + kinds.count("O")
    assert s.stats.problems == 0
    assert s.stats.rows == len(want)


@pytest.mark.skipif(not HAVE_C_EXTENSION, reason="C lister not built")
@pytest.mark.parametrize("directories_plus", [False, True])
def test_c_and_python_listers_agree_on_every_column(awkward_tree: Tree,
                                                     directories_plus: bool) -> None:
    for path in (b"plain.txt", b"home/bob/plain.txt"):
        os.setxattr(os.path.join(os.fsencode(awkward_tree.root), path), b"user.gpfskit.pool",
                    b"sata1")
    os.setxattr(os.path.join(os.fsencode(awkward_tree.root), b"with space"), b"user.other",
                b"\x00\xffbin" * 100)
    results = []
    for implementation in ("c", "python"):
        s = scan(awkward_tree.root, visible_root=VISIBLE, junctions=JUNCTIONS,
                 independent=INDEPENDENT, directories_plus=directories_plus,
                 columns=[*ALL_COLUMNS, *EXTRA_COLUMNS], batch_rows=5,
                 xattrs={"POOL_NAME": "user.gpfskit.pool", "OTHER": "user.other"},
                 implementation=implementation)
        results.append((rows_by_path(s), s.stats.files, s.stats.directories, s.stats.others))
    assert results[0] == results[1]
    rows = results[0][0]
    assert rows[VISIBLE.encode() + b"/plain.txt"]["POOL_NAME"] == "sata1"
    assert rows[VISIBLE.encode() + b"/home/hardlink"]["POOL_NAME"] == "sata1"  # same inode
    assert rows[VISIBLE.encode() + b"/with space"]["OTHER"] == b"\x00\xffbin" * 100
    assert rows[VISIBLE.encode() + b"/many/f0001"]["POOL_NAME"] is None
    plain = os.lstat(os.path.join(os.fsencode(awkward_tree.root), b"plain.txt"))
    assert rows[VISIBLE.encode() + b"/plain.txt"]["MODE_BITS"] == plain.st_mode
    assert rows[VISIBLE.encode() + b"/plain.txt"]["FLAG_BITS"] == 0
    assert rows[VISIBLE.encode() + b"/many/f0001"]["USER_NAME"] == pwd.getpwuid(os.getuid())[0]
    assert rows[VISIBLE.encode() + b"/many/f0001"]["GROUP_NAME"] == grp.getgrgid(os.getgid())[0]


def test_generation_is_stable_and_shared_by_hard_links(awkward_tree: Tree) -> None:
    first = rows_by_path(scan(awkward_tree.root, visible_root=VISIBLE))
    second = rows_by_path(scan(awkward_tree.root, visible_root=VISIBLE))
    assert {p: r["GENERATION"] for p, r in first.items()} == {
        p: r["GENERATION"] for p, r in second.items()}
    v = VISIBLE.encode()
    links = [first[v + b"/plain.txt"], first[v + b"/home/hardlink"],
             first[v + b"/proj/sub/hardlink2"]]
    assert len({(r["INODE"], r["GENERATION"]) for r in links}) == 1
    assert all(0 <= r["GENERATION"] < 2**32 for r in first.values())
    assert len({r["GENERATION"] for r in first.values()}) > len(first) * 0.9
    for row in first.values():
        assert row["CREATION_TIME"] <= row["CHANGE_TIME"] + 1e-6


def test_awkward_names_and_exact_values(awkward_tree: Tree) -> None:
    rows = rows_by_path(scan(awkward_tree.root, visible_root=VISIBLE + "/"))
    v = VISIBLE.encode()
    assert rows[v + b"/new\nline"]["NAME"] == b"new\nline"
    assert rows[v + b"/\xff\xfe not utf-8"]["NAME"] == b"\xff\xfe not utf-8"
    assert rows[v + b"/dir with\nnewline/inner"]["FILE_SIZE"] == 1
    spaced = rows[v + b"/with space"]
    assert spaced["MODIFICATION_TIME"] == pytest.approx(1_500_000_000.987654321, abs=1e-6)
    assert spaced["ACCESS_TIME"] == pytest.approx(1_600_000_000.123456789, abs=1e-6)
    assert rows[v + b"/plain.txt"]["MODE"] == "-rwsr-xr-x"
    assert rows[v + b"/plain.txt"]["NLINK"] == 3
    assert v + b"/link-to-dir" not in rows and v + b"/fifo" not in rows  # files only
    assert not any(b"/link-to-dir/" in p for p in rows)  # symlinks are not followed
    assert rows[v + b"/home/.snapshots/visible"]["FILESET_NAME"] == "root"
    # without independent filesets only the root's .snapshots is hidden
    assert not any(p.startswith(v + b"/.snapshots") for p in rows)
    assert v + b"/proj/.snapshots/snap1/copy" in rows


def test_directories_plus_kinds_and_junction_rows(awkward_tree: Tree) -> None:
    rows = rows_by_path(scan(awkward_tree.root, visible_root=VISIBLE, junctions=JUNCTIONS,
                             independent=INDEPENDENT, directories_plus=True,
                             columns=["MISC_ATTRIBUTES", "FILESET_NAME", "MODE", "KIND"]))
    v = VISIBLE.encode()
    assert rows[v]["MISC_ATTRIBUTES"] == "D" and rows[v]["FILESET_NAME"] == "root"
    assert rows[v + b"/link-to-dir"]["MISC_ATTRIBUTES"] == "L"
    assert rows[v + b"/link-to-dir"]["MODE"].startswith("l")
    assert rows[v + b"/dangling"]["KIND"] == 2
    assert rows[v + b"/fifo"]["MISC_ATTRIBUTES"] == "O"
    assert rows[v + b"/fifo"]["MODE"].startswith("p")
    assert rows[v + b"/home/bob"]["MODE"] == "drwxrwsr-t"
    # a junction directory belongs to the fileset it is the root of
    assert rows[v + b"/proj"]["FILESET_NAME"] == "proj"
    assert rows[v + b"/proj/sub"]["FILESET_NAME"] == "projsub"
    assert rows[v + b"/proj/sub/deep/deeper"]["FILESET_NAME"] == "projsub"
    assert rows[v + b"/home"]["FILESET_NAME"] == "root"
    assert rows[v + b"/home/alice"]["FILESET_NAME"] == "alice"
    assert rows[v + b"/home/.snapshots"]["MISC_ATTRIBUTES"] == "D"
    assert v + b"/.snapshots" not in rows and v + b"/proj/.snapshots" not in rows


def test_columns_subset_and_schema(awkward_tree: Tree) -> None:
    s = scan(awkward_tree.root, columns=["file_size"])
    assert set(s.schema.names) == {"PATH_NAME", "INODE", "GENERATION", "FILE_SIZE"}
    batches = list(s)
    assert batches and all(b.schema == s.schema for b in batches)
    assert s.schema.field("PATH_NAME").type == pa.binary()
    full = scan(awkward_tree.root)
    assert full.schema.names == list(ALL_COLUMNS)
    assert all(full.schema.field(n).type == TYPES[n] for n in ALL_COLUMNS)
    with pytest.raises(ValueError, match="NOT_A_COLUMN"):
        scan(awkward_tree.root, columns=["NOT_A_COLUMN"])


def test_without_root_fileset_and_default_visible_root(awkward_tree: Tree) -> None:
    rows = rows_by_path(scan(awkward_tree.root, junctions={"proj": "proj"},
                             columns=["FILESET_NAME"]))
    root = os.fsencode(awkward_tree.root)
    assert rows[root + b"/plain.txt"]["FILESET_NAME"] is None
    assert rows[root + b"/proj/README"]["FILESET_NAME"] == "proj"


def test_skip_dirs_hides_directories(awkward_tree: Tree) -> None:
    rows = rows_by_path(scan(awkward_tree.root, visible_root=VISIBLE,
                             skip_dirs=["many", "home/bob"], directories_plus=True))
    v = VISIBLE.encode()
    assert not any(p.startswith(v + b"/many") or p.startswith(v + b"/home/bob") for p in rows)
    assert v + b"/home/alice" in rows


def test_subtree_junctions() -> None:
    assert subtree_junctions(JUNCTIONS, "") == JUNCTIONS
    assert subtree_junctions(JUNCTIONS, "proj") == {"": "proj", "sub": "projsub"}
    assert subtree_junctions(JUNCTIONS, "proj/sub/deep") == {"": "projsub"}
    assert subtree_junctions(JUNCTIONS, "/home/") == {"": "root", "alice": "alice"}


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
def test_scanning_a_snapshot(tmp_path: Path, implementation: str) -> None:
    fs = tmp_path / "fs"
    tree = build_tree(fs)
    snap = fs / ".snapshots" / "nightly"
    shutil.copytree(fs / "proj", snap / "proj", symlinks=True)
    shutil.copytree(fs / "many", snap / "many", symlinks=True)
    visible = VISIBLE + "/.snapshots/nightly"
    s = scan(snap, visible_root=visible, junctions=JUNCTIONS, independent=INDEPENDENT,
             implementation=implementation)
    rows = rows_by_path(s)
    want = oracle(snap, visible=visible, junctions=JUNCTIONS, independent=INDEPENDENT)
    assert_matches_oracle(rows, want)
    # many/* and the 4 proj files; the copy of proj/.snapshots stays hidden (independent)
    assert len(rows) == tree.many + 4
    assert rows[visible.encode() + b"/proj/sub/code.py"]["FILESET_NAME"] == "projsub"
    # a fileset snapshot: the fileset's junction is the scan root
    fileset_snap = fs / "proj" / ".snapshots" / "snap1"
    rows = rows_by_path(scan(fileset_snap, visible_root="/gpfs/fs1/proj/.snapshots/snap1",
                             junctions=subtree_junctions(JUNCTIONS, "proj"),
                             implementation=implementation))
    assert rows[b"/gpfs/fs1/proj/.snapshots/snap1/copy"]["FILESET_NAME"] == "proj"


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
def test_large_directory_is_split_across_bounded_batches(tmp_path: Path,
                                                         implementation: str) -> None:
    big = tmp_path / "big"
    big.mkdir()
    for k in range(2500):
        os.mknod(big / f"f{k:05d}")
    s = scan(tmp_path, batch_rows=100, implementation=implementation, columns=["NAME"])
    sizes = [b.num_rows for b in s]
    assert max(sizes) <= 100 and sum(sizes) == 2500
    names = sorted(n for b in scan(tmp_path, batch_rows=100, implementation=implementation,
                                   columns=["NAME"]) for n in b.column("NAME").to_pylist())
    assert names == sorted(os.fsencode(f"f{k:05d}") for k in range(2500))


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
def test_vanished_directories_are_counted_not_fatal(tmp_path: Path, implementation: str,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    tree = tmp_path / "t"
    for d in ("a", "b", "c"):
        (tree / d / "inner").mkdir(parents=True)
        (tree / d / "inner" / "file").write_text("x")
        (tree / d / "file").write_text("x")
    s = scan(tree, implementation=implementation, workers=1)
    real = s._list_dirs
    removed: list[bytes] = []

    def list_dirs(root, prefix, dirs, *args):
        # b/inner was found (it is on the frontier) and vanishes before it is listed
        if b"b/inner" in dirs and not removed:
            shutil.rmtree(tree / "b" / "inner")
            removed.append(b"b/inner")
        return real(root, prefix, dirs, *args)

    monkeypatch.setattr(s, "_list_dirs", list_dirs)
    rows = rows_by_path(s)
    assert removed
    assert os.fsencode(tree / "b" / "inner" / "file") not in rows
    assert os.fsencode(tree / "a" / "inner" / "file") in rows
    assert s.stats.errors == 1 and s.stats.skipped == 0
    (sample,) = s.stats.error_samples
    assert sample.path == os.fsencode(tree / "b" / "inner") and sample.op == "open"


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
def test_lister_reports_missing_dirs_and_entries(tmp_path: Path, implementation: str,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "ok").mkdir()
    (tmp_path / "ok" / "f").write_text("x")
    lister = scan(tmp_path, implementation=implementation)._list_dirs
    result = lister(os.fsencode(tmp_path), b"/v", [b"gone", b"ok"], [0, 0], None, 100, 0, [])
    assert result["n"] == 1 and result["counts"] == (1, 0, 0, 1, 0)
    assert result["errors"][0][:2] == (b"gone", 2)
    if implementation == "python":  # an entry vanishing between readdir and stat
        real_stat = _pywalk._Rows.stat

        def stat(self, fd, name):
            return -2 if name == b"f" else real_stat(self, fd, name)  # -ENOENT

        monkeypatch.setattr(_pywalk._Rows, "stat", stat)
        result = lister(os.fsencode(tmp_path), b"/v", [b"ok"], [0], None, 100, 0, [])
        assert result["n"] == 0 and result["counts"][3] == 1
        assert result["errors"] == [(b"ok/f", 2, "t")]


_UNREADABLE_SCRIPT = """
import json, sys
from gpfskit.emulator.scan import scan
s = scan(sys.argv[1], implementation=sys.argv[2])
rows = sorted(p.decode() for b in s for p in b.column("PATH_NAME").to_pylist())
print(json.dumps({"rows": rows, "skipped": s.stats.skipped, "errors": s.stats.errors}))
"""


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
def test_unreadable_directory_is_skipped(tmp_path: Path, implementation: str) -> None:
    tree = tmp_path / "t"
    (tree / "locked").mkdir(parents=True)
    (tree / "locked" / "secret").write_text("x")
    (tree / "open.txt").write_text("x")
    (tree / "locked").chmod(0)
    command = [sys.executable, "-c", _UNREADABLE_SCRIPT, str(tree), implementation]
    if os.geteuid() == 0:
        # root reads everything: drop the capabilities that bypass permission checks
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("running as root without setpriv: cannot make a directory unreadable")
        command = [setpriv, "--bounding-set=-dac_override,-dac_read_search", "--", *command]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=60)
    finally:
        (tree / "locked").chmod(0o755)
    if done.returncode != 0 and "setpriv" in done.stderr:
        pytest.skip(f"setpriv refused here: {done.stderr.strip()}")
    assert done.returncode == 0, done.stderr
    import json

    result = json.loads(done.stdout)
    assert result == {"rows": [str(tree / "open.txt")], "skipped": 1, "errors": 0}


def test_progress_hook_gets_final_counts(awkward_tree: Tree) -> None:
    calls: list[tuple[int, int, int]] = []
    s = scan(awkward_tree.root, progress=lambda *c: calls.append(c), progress_interval=0.0)
    list(s)
    assert calls and calls[-1] == (s.stats.files, s.stats.directories, 0)
    assert all(isinstance(v, int) for c in calls for v in c)


def test_abandoned_scan_stops_its_workers(tmp_path: Path) -> None:
    for d in range(40):
        (tmp_path / f"d{d}").mkdir()
        for f in range(30):
            os.mknod(tmp_path / f"d{d}" / f"f{f}")
    before = threading.active_count()
    s = scan(tmp_path, batch_rows=10)
    for _ in s:
        break
    s.close()
    assert all(not t.is_alive() for t in s._threads)
    assert threading.active_count() <= before
    with pytest.raises(RuntimeError):
        iter(s)


def test_root_must_be_a_directory(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(NotADirectoryError):
        list(scan(tmp_path / "file"))
    with pytest.raises(ValueError):
        scan(tmp_path, implementation="fortran")


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
def test_owner_names(tmp_path: Path, implementation: str) -> None:
    if os.geteuid() != 0:
        pytest.skip("chown to other users needs root")
    owners = {"mine": (os.getuid(), os.getgid()), "nobody": (65534, 65534),
              "unknown": (54321, 54321)}
    for name, (uid, gid) in owners.items():
        (tmp_path / name).write_text("x")
        os.chown(tmp_path / name, uid, gid)
    rows = rows_by_path(scan(tmp_path, columns=["USER_NAME", "GROUP_NAME", "USER_ID"],
                             implementation=implementation))
    by_name = {os.path.basename(p): r for p, r in rows.items()}
    assert by_name[b"mine"]["USER_NAME"] == pwd.getpwuid(os.getuid()).pw_name
    assert by_name[b"nobody"]["USER_NAME"] == pwd.getpwuid(65534).pw_name
    assert by_name[b"nobody"]["GROUP_NAME"] == grp.getgrgid(65534).gr_name
    assert by_name[b"unknown"]["USER_NAME"] is None
    assert by_name[b"unknown"]["USER_ID"] == 54321


def test_python_lister_without_statx(awkward_tree: Tree, monkeypatch: pytest.MonkeyPatch) -> None:
    # libc or kernel without statx: lstat, and the birth time taken from the change time
    monkeypatch.setattr(_pywalk, "_use_statx", False)
    rows = rows_by_path(scan(awkward_tree.root, visible_root=VISIBLE, junctions=JUNCTIONS,
                             independent=INDEPENDENT, directories_plus=True,
                             implementation="python"))
    assert_matches_oracle(rows, oracle(awkward_tree.root, junctions=JUNCTIONS,
                                       independent=INDEPENDENT, directories_plus=True))
    assert all(r["CREATION_TIME"] == r["CHANGE_TIME"] for r in rows.values())


def test_directory_hash_groups_directories_deeper_is_larger(awkward_tree: Tree) -> None:
    rows = rows_by_path(scan(awkward_tree.root, visible_root=VISIBLE,
                             columns=["DIRECTORY_HASH"]))
    by_dir: dict[bytes, set[int]] = {}
    for path, row in rows.items():
        by_dir.setdefault(os.path.dirname(path), set()).add(row["DIRECTORY_HASH"])
    assert all(len(hashes) == 1 for hashes in by_dir.values())
    v = VISIBLE.encode()
    (top,) = by_dir[v]
    (home,) = by_dir[v + b"/home"]
    (deeper,) = by_dir[v + b"/proj/sub/deep/deeper"]
    assert top < home < deeper
    assert len({h for hs in by_dir.values() for h in hs}) == len(by_dir)


def test_max_depth(awkward_tree: Tree) -> None:
    v = VISIBLE.encode()
    top = rows_by_path(scan(awkward_tree.root, visible_root=VISIBLE, max_depth=0,
                            directories_plus=True))
    assert v + b"/home" in top and v + b"/home/hardlink" not in top
    two = rows_by_path(scan(awkward_tree.root, visible_root=VISIBLE, max_depth=2))
    assert v + b"/home/alice/docs" not in two  # a directory: files only here
    assert v + b"/home/alice/docs/report.pdf" not in two
    assert v + b"/proj/sub/code.py" in two and v + b"/proj/sub/deep/deeper/leaf" not in two


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
def test_a_scan_without_paths_lists_the_same_entries(awkward_tree: Tree,
                                                      implementation: str) -> None:
    def listed(**kw) -> tuple[list[str], list[tuple[int, bytes]]]:
        batches = list(scan(awkward_tree.root, visible_root=VISIBLE, directories_plus=True,
                            columns=["INODE", "NAME"], implementation=implementation, **kw))
        rows = [(r["INODE"], r["NAME"]) for b in batches for r in b.to_pylist()]
        return batches[0].schema.names, sorted(rows)

    names, rows = listed(paths=False)
    assert "PATH_NAME" not in names and "NAME" in names
    assert rows == listed()[1]
    with pytest.raises(ValueError, match="no PATH_NAME"):
        scan(awkward_tree.root, columns=["PATH_NAME"], paths=False)
