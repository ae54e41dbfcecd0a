"""The bad-input battery: every command and API entry point, given names, junctions and
numbers it must refuse, answers with a clear message and a non-zero, errno-like exit code
(or ValueError/GPFSError in Python), never a traceback, and leaves the cluster's state and
tree exactly as they were.

One demo cluster with filesets, snapshots and files serves the whole module: since every
case must change nothing, each case is checked against the same dump of the state database
and the tree. Most cases go through the dispatcher in-process (argv in, output out, as the
shell shims do); the headline cases also run as real processes with raw bytes in argv.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.helpers import table_rows

from gpfskit.commands.errors import GPFSError
from gpfskit.emulator import state
from gpfskit.emulator.dispatch import commands, run_command
from gpfskit.emulator.setup import add_demo_files, init_cluster

FF = "\udcff"          # how Python hands over the byte 0xff of a non-UTF-8 argument


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("battery") / "c"
    init_cluster(root)
    add_demo_files(root)
    mp = root / "gpfs" / "mmfs1"

    def ok(*argv: str) -> None:
        result = run_command(list(argv), root=root)
        assert result.returncode == 0, result.stderr

    ok("mmcrfileset", "mmfs1", "proj", "--inode-space", "new", "-J", f"{mp}/proj")
    (mp / "proj" / "data.txt").write_text("kept\n")
    ok("mmcrfileset", "mmfs1", "dep", "--inode-space", "proj", "-J", f"{mp}/proj/dep")
    ok("mmcrfileset", "mmfs1", "unl", "--inode-space", "new")
    ok("mmcrsnapshot", "mmfs1", "snap1", "-j", "proj")
    ok("mmcrsnapshot", "mmfs1", "gsnap")
    ok("mmsetquota", "mmfs1:proj", "--block", "10G:20G", "--files", "1000:2000")
    yield root
    state.forget_connections()


def dump(root: Path) -> tuple:
    """The whole emulated cluster: every table row, and every path of the tree with its
    type and mode, and for files their size and modification time (a directory's own
    times change when an entry comes and goes again; its entries are compared instead), but
    the database's and the lock's files, which hold the journal's records."""
    tree = []
    for path in sorted(root.rglob("*")):
        if path.name.startswith(("state.db", "state.lock")):
            continue
        st_ = path.lstat()
        contents = () if path.is_dir() else (st_.st_size, st_.st_mtime_ns)
        tree.append((str(path.relative_to(root)), st_.st_mode, *contents))
    return table_rows(root), tuple(tree)


def refused(root: Path, argv: list[str], rc: int | None, text: str):
    before = dump(root)
    result = run_command(argv, root=root)
    assert result.returncode != 0, (argv, result.stdout)
    if rc is not None:
        assert result.returncode == rc, (argv, result.returncode, result.stderr)
    assert text in result.stderr, (argv, result.stderr)
    assert "Traceback" not in result.stderr + result.stdout
    assert dump(root) == before, argv
    return result


def mp_of(root: Path) -> str:
    return str(root / "gpfs" / "mmfs1")


BAD_NAMES = [
    ("a b", "whitespace"), ("a'b", "character '"), ('a"b', 'character "'),
    ("a;b", "character ;"), ("$(touch x)", "character $"), ("`id`", "character `"),
    ("..", ". or .."), (".", ". or .."), ("a/b", "character /"), ("-x", "begin with -"),
    ("", "empty"), ("a\nb", "whitespace"), ("a\tb", "whitespace"), ("a\x07b", "control"),
    ("a:b", "character :"), ("a,b", "character ,"), ("é" * 200, "400 bytes"),
    ("a" * 256, "256 bytes"), ("a|b", "character |"), ("a&b", "character &"),
    ("a*b", "character *"), ("a?b", "character ?"), ("[x]", "character ["),
    ("a\\b", "character \\"), ("€uro", "character €"), ("✓", "character ✓"),
]


@pytest.mark.parametrize(("name", "reason"), BAD_NAMES, ids=repr)
def test_bad_fileset_and_snapshot_names(cluster, name, reason):
    for argv in (["mmcrfileset", "mmfs1", name],
                 ["mmcrfileset", "mmfs1", name, "--inode-space", "new"],
                 ["mmchfileset", "mmfs1", "proj", "-j", name],
                 ["mmcrsnapshot", "mmfs1", name],
                 ["mmcrsnapshot", "mmfs1", name, "-j", "proj"]):
        if argv[0] == "mmcrsnapshot" and name and (":" in name or "," in name):
            continue  # a list separator there: a different (also refused) reading, below
        if name.startswith("-") or name == "":
            refused(cluster, argv, None, "")
        else:
            refused(cluster, argv, 22, reason)


@pytest.mark.parametrize("name", ["root", "new"])
def test_reserved_fileset_names(cluster, name):
    refused(cluster, ["mmcrfileset", "mmfs1", name], 22, "Incorrect fileset name")


def cases(root: Path) -> list[tuple[list[str], int, str]]:
    mp = mp_of(root)
    big = "9223372036854775808"
    huge = "9" * 400
    return [
        # duplicates
        (["mmcrfileset", "mmfs1", "proj"], 17, "already exists"),
        (["mmcrsnapshot", "mmfs1", "gsnap"], 17, "gsnap"),
        (["mmcrsnapshot", "mmfs1", "snap1", "-j", "proj"], 17, "snap1"),
        (["mmchfileset", "mmfs1", "dep", "-j", "proj"], 17, "already exists"),
        # missing objects
        (["mmdelfileset", "mmfs1", "nosuch"], 2, "does not exist"),
        (["mmlinkfileset", "mmfs1", "nosuch", "-J", f"{mp}/x"], 2, "does not exist"),
        (["mmdelsnapshot", "mmfs1", "nosuch"], 2, "nosuch"),
        (["mmlsfileset", "mmfs1", "nosuch"], 22, "does not exist"),
        (["mmlsfs", "nosuchfs"], 2, "not known"),
        (["mmlssnapshot", "nosuchfs"], 2, "not known"),
        (["mmsetquota", "mmfs1:nosuch", "--block", "1G"], 2, "does not exist"),
        (["mmlssnapshot", "mmfs1", "-j", "nosuch"], 2, "nosuch"),
        (["mmchfileset", "mmfs1", "nosuch", "-t", "x"], 2, "does not exist"),
        # linked, snapshotted, root
        (["mmdelfileset", "mmfs1", "proj"], 1, "linked"),
        (["mmdelfileset", "mmfs1", "proj", "-f"], 1, "linked"),
        (["mmdelfileset", "mmfs1", "root"], 1, "root fileset"),
        (["mmunlinkfileset", "mmfs1", "root"], 1, "root fileset"),
        (["mmunlinkfileset", "mmfs1", "unl"], 1, "already unlinked"),
        (["mmlinkfileset", "mmfs1", "proj", "-J", f"{mp}/again"], 1, "already linked"),
        (["mmcrsnapshot", "mmfs1", "s", "-j", "unl"], 1, "unl"),
        (["mmcrsnapshot", "mmfs1", "s", "-j", "dep"], 1, "dep"),
        # junctions
        (["mmlinkfileset", "mmfs1", "unl", "-J", f"{mp}/proj"], 17, "already exists"),
        (["mmlinkfileset", "mmfs1", "unl", "-J", f"{mp}/../outside"], 22, "not in file system"),
        (["mmlinkfileset", "mmfs1", "unl", "-J", "/etc/unl"], 22, "not in file system"),
        (["mmlinkfileset", "mmfs1", "unl", "-J", f"{mp}/nodir/unl"], 2, "does not exist"),
        (["mmlinkfileset", "mmfs1", "unl", "-J", f"{mp}/{'a' * 300}"], 22, "255 bytes"),
        (["mmlinkfileset", "mmfs1", "unl", "-J", f"{mp}/{'é' * 128}"], 22, "255 bytes"),
        (["mmlinkfileset", "mmfs1", "unl", "-J", mp + ("/" + "d" * 200) * 21], 22,
         "4095 bytes"),
        (["mmlinkfileset", "mmfs1", "unl", "-J", f"{mp}/x\ny"], 22, "control characters"),
        (["mmlinkfileset", "mmfs1", "unl", "-J", f"{mp}/x\ty"], 22, "control characters"),
        (["mmlinkfileset", "mmfs1", "unl", "-J", f"{mp}/.snapshots/unl"], 22, "snapshot"),
        (["mmlinkfileset", "mmfs1", "unl", "-J", f"{mp}/j{FF}"], 22, "not UTF-8"),
        (["mmlinkfileset", "mmfs1", "dep", "-J", f"{mp}/dep2"], 1, "already linked"),
        (["mmcrfileset", "mmfs1", "nl", "--inode-space", "new", "-J", f"{mp}/x\ny"], 22,
         "control characters"),
        (["mmcrfileset", "mmfs1", "nl", "--inode-space", "new", "-J", f"{mp}/{'a' * 256}"],
         22, "255 bytes"),
        (["mmunlinkfileset", "mmfs1", "-J", f"{mp}/nosuch"], 2, "not a fileset junction"),
        # numbers
        (["mmsetquota", "mmfs1:proj", "--files", big], 22, "larger than the maximum"),
        (["mmsetquota", "mmfs1:proj", "--files", "10:5"], 22, "greater than the hard"),
        (["mmsetquota", "mmfs1:proj", "--files", "abc"], 22, "not a number"),
        (["mmsetquota", "mmfs1:proj", "--files", "١٢"], 22, "not a number"),
        (["mmsetquota", "mmfs1:proj", "--block", "-5"], None, ""),
        (["mmsetquota", "mmfs1:proj", "--block", f"{huge}.5K"], 22, "exceeds the maximum"),
        (["mmsetquota", "mmfs1:proj", "--block", f"1G:{huge}P"], 22, "exceeds the maximum"),
        (["mmsetquota", "mmfs1:proj", "--block", "1X"], 22, "not a number"),
        (["mmsetquota", "mmfs1", "--user", huge, "--block", "1G"], 22, "Incorrect user ID"),
        (["mmsetquota", "mmfs1", "--group", big, "--block", "1G"], 22, "Incorrect group ID"),
        (["mmsetquota", "mmfs1", "--user", "nosuchuser", "--block", "1G"], 22, "nosuchuser"),
        (["mmsetquota", "mmfs1", "--grace", "user", "--block", f"{huge}days"], 22,
         "larger than the maximum"),
        (["mmsetquota", "mmfs1", "--grace", "user", "--files", "5years"], 22,
         "Incorrect grace period"),
        (["mmsetquota", "mmfs1", "--grace", "nobody", "--block", "1days"], 22, "--grace"),
        (["mmcrfileset", "mmfs1", "i", "--inode-space", "new", "--inode-limit",
          "99999999999G"], 22, "larger than the maximum"),
        (["mmcrfileset", "mmfs1", "i", "--inode-space", "new", "--inode-limit", "0"], 22,
         "inode limit"),
        (["mmcrfileset", "mmfs1", "i", "--inode-space", "new", "--inode-limit", "10:20"], 22,
         "exceeds the inode limit"),
        (["mmcrfileset", "mmfs1", "i", "--inode-limit", "100"], 1, "--inode-space new"),
        (["mmchfileset", "mmfs1", "proj", "--inode-limit", big], 22, "larger than the maximum"),
        (["mmchfileset", "mmfs1", "proj", "--inode-limit", f"{huge}K"], 22, "larger than"),
        (["mmchfileset", "mmfs1", "dep", "--inode-limit", "100000"], 1, "dependent"),
        (["mmchfileset", "mmfs1", "root", "--inode-limit", "100000"], 1, "mmchfs"),
        (["mmchfs", "mmfs1", "--inode-limit", huge], 22, "--inode-limit"),
        (["mmaddcallback", "cb1", "--command", "/bin/true", "--event", "mount",
          "--priority", "1" + "0" * 30], 22, "--priority"),
        (["mmaddcallback", "cb1", "--command", "/bin/true", "--event", "mount", "--sync",
          "--timeout", "1e400"], 22, "--timeout"),
        # comments
        (["mmchfileset", "mmfs1", "proj", "-t", "a\nb"], 22, "control characters"),
        (["mmchfileset", "mmfs1", "proj", "-t", "x" * 300], 22, "longer than"),
        (["mmcrfileset", "mmfs1", "c1", "-t", "a\rb"], 22, "control characters"),
        # non-UTF-8 bytes anywhere
        (["mmdelfileset", "mmfs1", FF], 22, "not UTF-8"),
        (["mmdelsnapshot", "mmfs1", FF], 22, "not UTF-8"),
        (["mmsetquota", f"mmfs1:{FF}", "--block", "1G"], 22, "not UTF-8"),
        (["mmchfileset", "mmfs1", FF, "-t", "x"], 22, "not UTF-8"),
        (["mmlssnapshot", "mmfs1", "-j", FF], 22, "not UTF-8"),
        (["mmlsquota", "-j", FF, "mmfs1"], 22, "not UTF-8"),
        (["mmlsfs", FF], 22, "not UTF-8"),
        (["mmcrfileset", "mmfs1", "x", "--inode-space", FF], 22, "not UTF-8"),
        (["mmcrfileset", "mmfs1", f"x{FF}"], 22, "not UTF-8"),
        (["mmcrsnapshot", "mmfs1", f"s{FF}"], 22, "not UTF-8"),
        (["mmlsfileset", "mmfs1", f"{FF}"], 22, "not UTF-8"),
        (["mmchfileset", "mmfs1", "proj", "-t", f"c{FF}"], 22, "not UTF-8"),
        (["mmcrnodeclass", f"c{FF}", "-N", "node1"], 22, "not UTF-8"),
        # usage errors
        (["mmcrfileset"], 1, "Usage:"),
        (["mmcrfileset", "mmfs1"], 1, "Usage:"),
        (["mmlsfileset", "mmfs1", "-Z"], 1, "Incorrect option"),
        (["mmcrfileset", "mmfs1", "x", "--inode-space"], 1, "requires a value"),
        (["mmchfileset", "mmfs1", "proj"], 1, "No attributes"),
        (["mmsetquota", "mmfs1:proj", "--block"], 1, "requires a value"),
        # other names
        (["mmcrnodeclass", "a b", "-N", "node1"], 22, ""),
        (["mmcrnodeclass", "$(id)", "-N", "node1"], 22, ""),
        (["mmchfs", "mmfs1", "-T", "/gpfs/x y;z"], 22, "mount point"),
        (["mmchfs", "mmfs1", "-T", "/gpfs/x\ny"], 22, "mount point"),
    ]


def test_each_case_is_refused_with_a_clear_message_and_changes_nothing(cluster):
    for argv, rc, text in cases(cluster):
        refused(cluster, argv, rc, text)


def test_a_command_name_that_is_not_emulated(cluster):
    result = run_command(["mmnosuch", "x"], root=cluster)
    assert result.returncode == 127 and "command not found" in result.stderr


# Hypothesis drives names with a forbidden character somewhere, and numbers past 2^63.

_SAFE = st.text(st.characters(whitelist_categories=("Ll", "Lu", "Nd")), max_size=20)
_FORBIDDEN = st.sampled_from([*"/?$&*()`#|[]\\'\";:, \t\n\r\x00\x1b", "\u2028", FF])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(head=_SAFE, bad=_FORBIDDEN, tail=_SAFE, which=st.integers(0, 2))
def test_any_name_with_a_forbidden_character_is_refused(cluster, head, bad, tail, which):
    name = head + bad + tail
    argv = [["mmcrfileset", "mmfs1", name], ["mmchfileset", "mmfs1", "proj", "-j", name],
            ["mmcrsnapshot", "mmfs1", name, "-j", "proj"]][which]
    if "\x00" in name:
        return  # a C argv cannot carry NUL; Python's subprocess refuses it before the command
    if argv[0] == "mmcrsnapshot" and bad in ":,":
        return  # list separators: 'a:b' names snapshot b of fileset a (refused another way)
    refused(cluster, argv, 22, "")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(number=st.integers(min_value=2**63, max_value=10**400),
       unit=st.sampled_from(["", "K", "M", "G"]), which=st.integers(0, 4))
def test_any_number_past_the_64_bit_range_is_refused(cluster, number, unit, which):
    text = f"{number}{unit}"
    argv = [["mmsetquota", "mmfs1:proj", "--files", text],
            ["mmsetquota", "mmfs1:proj", "--block", text],
            ["mmchfileset", "mmfs1", "proj", "--inode-limit", text],
            ["mmcrfileset", "mmfs1", "n", "--inode-space", "new", "--inode-limit", text],
            ["mmsetquota", "mmfs1", "--grace", "group", "--files", f"{number}days"]][which]
    refused(cluster, argv, 22, "")


# The headline cases as a shell runs them: a new process, raw bytes in argv.

def shell_cases(root: Path) -> list[list[bytes]]:
    mp = os.fsencode(mp_of(root))
    return [
        [b"mmsetquota", b"mmfs1:proj", b"--files", b"9223372036854775808"],
        [b"mmcrfileset", b"mmfs1", b"i", b"--inode-space", b"new", b"--inode-limit",
         b"99999999999G"],
        [b"mmsetquota", b"mmfs1", b"--grace", b"user", b"--block", b"9" * 30 + b"days"],
        [b"mmsetquota", b"mmfs1:proj", b"--block", b"9" * 400 + b".5K"],
        [b"mmdelfileset", b"mmfs1", b"\xff"],
        [b"mmlssnapshot", b"mmfs1", b"-j", b"\xff"],
        [b"mmlsquota", b"-j", b"\xff", b"mmfs1"],
        [b"mmlsfs", b"\xff"],
        [b"mmcrfileset", b"mmfs1", b"x", b"--inode-space", b"\xff"],
        [b"mmlinkfileset", b"mmfs1", b"unl", b"-J", mp + b"/j\xff"],
        [b"mmlinkfileset", b"mmfs1", b"unl", b"-J", mp + b"/" + b"a" * 300],
        [b"mmcrfileset", b"mmfs1", b"nl", b"--inode-space", b"new", b"-J", mp + b"/x\ny"],
        [b"mmcrsnapshot", b"mmfs1", "é".encode() * 200],
    ]


def test_from_a_shell_with_raw_bytes(cluster):
    env = {**os.environ, "GPFSKIT_CONFIG": str(cluster.parent / "config")}
    for argv in shell_cases(cluster):
        before = dump(cluster)
        done = subprocess.run([sys.executable.encode(), b"-m", b"gpfskit.cli.mm",
                               b"--root=" + os.fsencode(cluster), *argv],
                              capture_output=True, env=env, timeout=60)
        stderr = done.stderr.decode("utf-8", "replace")
        assert done.returncode == 22, (argv, done.returncode, stderr)
        assert "Traceback" not in stderr and stderr.startswith(argv[0].decode()), stderr
        assert dump(cluster) == before, argv


# A changing command that waits for the lock.

def test_a_command_waiting_for_the_lock_gives_up_with_ebusy(cluster):
    env = {**os.environ, "GPFSKIT_CONFIG": str(cluster.parent / "config-lock")}
    subprocess.run([str(Path(sys.executable).with_name("gpfskit")), "config", "set",
                    "gpfskit.emulator.lock_timeout", "0.3"], env=env, check=True)
    holder = sqlite3.connect(cluster / state.DB_NAME, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        before = dump(cluster)
        done = subprocess.run([sys.executable, "-m", "gpfskit.cli.mm", f"--root={cluster}",
                               "mmcrfileset", "mmfs1", "waiting"],
                              capture_output=True, text=True, env=env, timeout=60)
        # Reading commands do not wait: WAL lets them read while another command writes.
        reading = subprocess.run([sys.executable, "-m", "gpfskit.cli.mm", f"--root={cluster}",
                                  "mmlsfileset", "mmfs1"],
                                 capture_output=True, text=True, env=env, timeout=60)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert done.returncode == 16, done.stderr
    assert done.stderr.startswith("mmcrfileset: Waited 0.3 s for another command changing "
                                  "the cluster"), done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.splitlines()) == 1
    assert reading.returncode == 0 and "proj" in reading.stdout
    assert dump(cluster) == before


# The object API: ValueError (checked before anything runs) or GPFSError (the cluster
# refused), with the reason, and nothing changed.

def api_cases(mp: str):
    return [
        (lambda fs: fs.filesets.new("x", maxInodes=10**20), ValueError, "at most"),
        (lambda fs: fs.filesets.new("x", maxInodes=-1), ValueError, "at least"),
        (lambda fs: fs.filesets.new("a b"), ValueError, "' '"),
        (lambda fs: fs.filesets.new("$(id)"), ValueError, "'$'"),
        (lambda fs: fs.filesets.new(".."), ValueError, ".."),
        (lambda fs: fs.filesets.new(f"x{FF}"), ValueError, "may not contain"),
        (lambda fs: fs.filesets.new("é" * 200), ValueError, "400 bytes"),
        (lambda fs: fs.filesets.new("€uro"), ValueError, "'€'"),
        (lambda fs: fs.filesets.new("proj"), ValueError, "already exists"),
        (lambda fs: fs.filesets.new("root"), ValueError, "reserved"),
        (lambda fs: fs.filesets.new("x", maxInodes=1000, path=f"{mp}/x\ny"), ValueError,
         "control character"),
        (lambda fs: fs.filesets.new("x", maxInodes=1000, path=f"{mp}/{'a' * 300}"),
         ValueError, "at most 255"),
        (lambda fs: fs.filesets.new("x", maxInodes=1000, path="/etc/x"), GPFSError,
         "not in file system"),
        (lambda fs: fs.filesets.new("x", filesSoftLimit=10**20), ValueError, "up to"),
        (lambda fs: fs.filesets.new("x", blockSoftLimit="9" * 400 + "G"), ValueError,
         "largest block limit"),
        (lambda fs: fs.filesets["proj"].change(maxInodes=10**20), ValueError, "at most"),
        (lambda fs: fs.filesets["proj"].change(name="a;b"), ValueError, "';'"),
        (lambda fs: fs.filesets["proj"].change(comment="a\nb"), ValueError, "control"),
        (lambda fs: fs.filesets["nosuch"], KeyError, "nosuch"),
        (lambda fs: fs.filesets.destroy("proj"), GPFSError, "linked"),
        (lambda fs: fs.filesets.destroy("nosuch"), KeyError, "nosuch"),
        (lambda fs: fs.snapshots.new("é" * 200), ValueError, "400 bytes"),
        (lambda fs: fs.snapshots.new("gsnap"), ValueError, "already exists"),
        (lambda fs: fs.snapshots.new(f"s{FF}"), ValueError, "may not contain"),
        (lambda fs: fs.snapshots.destroy("nosuch"), ValueError, "no snapshot named"),
        (lambda fs: fs.filesets["proj"].snapshots.destroy("nosuch"), ValueError, "nosuch"),
        (lambda fs: fs.filesets["dep"].snapshots.new("s"), ValueError,
         "snapshot fileset proj"),
        (lambda fs: fs.filesets["unl"].snapshots.new("s"), GPFSError, "unl"),
    ]


@pytest.fixture
def api_fs(cluster):
    from gpfskit.api import Cluster
    from gpfskit.config import config

    config["gpfskit.cluster.backend"] = "emulated"
    config["gpfskit.emulator.root"] = str(cluster)
    return lambda: Cluster().filesystems["mmfs1"]


def test_the_api_refuses_with_the_reason_and_changes_nothing(cluster, api_fs):
    for action, error, text in api_cases(mp_of(cluster)):
        before = dump(cluster)
        with pytest.raises(error) as caught:
            action(api_fs())
        assert text in str(caught.value)
        assert dump(cluster) == before, text


def test_a_dependent_fileset_has_no_snapshots_of_its_own(cluster, api_fs):
    dep = api_fs().filesets["dep"]
    assert len(dep.snapshots) == 0 and "snap1" not in dep.snapshots
    assert "snap1" in api_fs().filesets["proj"].snapshots



# Every command, with bad words in every position and after every valued option: whatever
# it makes of them, it answers (an exit code and a message), never an exception.

SWEEP_WORDS = ["mmfs1", "proj", "root", FF, "9" * 400, "9223372036854775808", "-1", "a\nb",
               "$(id)", "..", "", "é" * 200, "1e400", "nan", "mmfs1:proj", "all", "node1",
               "x" * 5000, "¹", "١", "-Y", "--", "%", ":", ",", "'", "a b;c"]


def test_every_command_answers_any_words_without_an_exception(tmp_path):
    root = tmp_path / "sweep"
    init_cluster(root)
    mp = root / "gpfs" / "mmfs1"
    run_command(["mmcrfileset", "mmfs1", "proj", "--inode-space", "new", "-J", f"{mp}/proj"],
                root=root)
    words = [*SWEEP_WORDS, f"{mp}/{'a' * 300}", f"{mp}/proj/x\ny"]
    runs = 0
    for name, spec in sorted(commands().items()):
        argvs = [[w] for w in words] + [["mmfs1", w] for w in words] + \
            [["mmfs1", "proj", w] for w in words]
        for option in spec.valued:
            argvs += [["mmfs1", option, w] for w in words]
            argvs += [["mmfs1", "proj", option, w] for w in words]
        if name in ("mmnfs", "mmsmb"):
            argvs += [["export", sub, w, w] for sub in ("add", "list", "change", "remove")
                      for w in words]
        for argv in argvs:
            result = run_command([name, *argv], root=root)
            assert "Traceback" not in result.stderr
            if result.returncode:
                assert result.stderr.strip(), (name, argv)
            runs += 1
    assert runs > 5000
    state.forget_connections()


def test_the_api_gets_the_lock_refusal_as_a_gpfs_error(cluster, api_fs):
    from gpfskit.config import config

    config["gpfskit.emulator.lock_timeout"] = 0.2
    holder = sqlite3.connect(cluster / state.DB_NAME, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        before = dump(cluster)
        with pytest.raises(GPFSError) as caught:
            api_fs().filesets.new("waiting")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert caught.value.returncode == 16 and "Waited 0.2 s" in str(caught.value)
    assert dump(cluster) == before


def test_a_file_operation_the_host_refuses_is_a_message_with_its_errno(tmp_path):
    root = tmp_path / "host"
    init_cluster(root)
    parking = root / "filesystems" / "mmfs1" / "filesets"
    parking.parent.mkdir(parents=True, exist_ok=True)
    parking.write_text("in the way\n")          # where new filesets' directories must go
    before = dump(root)
    result = run_command(["mmcrfileset", "mmfs1", "blocked"], root=root)
    assert result.returncode in (17, 20), result.stderr       # EEXIST / ENOTDIR
    assert str(parking) in result.stderr and "Traceback" not in result.stderr
    assert result.stderr.endswith("Command failed. Examine previous error messages to "
                                  "determine cause.\n")
    assert dump(root) == before
    state.forget_connections()
