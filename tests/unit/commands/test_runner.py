import logging
import threading

import pytest

from gpfskit.commands import (
    GPFSError,
    GPFSExecuteException,
    dry_run,
    generation,
    getCmdCache,
    getDryRun,
    run,
    setDryRun,
)
from gpfskit.commands.backends import LocalBackend
from gpfskit.commands.catalog import is_read_only


def test_read_only_classification():
    assert is_read_only(["mmlsfileset", "mmfs1", "-Y"])
    assert not is_read_only(["mmdelsnapshot", "mmfs1", "s"])
    assert is_read_only(["mmnfs", "export", "list"])
    assert not is_read_only(["mmnfs", "export", "add", "/x"])
    assert is_read_only(["mmapplypolicy", "mmfs1", "-I", "test"])
    assert not is_read_only(["mmapplypolicy", "mmfs1"])
    assert not is_read_only(["mmsomethingnew"])  # unknown: the safe side


def test_runs_emulated_and_logs_one_record(emulator_root, caplog):
    with caplog.at_level(logging.DEBUG, logger="gpfskit.commands"):
        result = run(["mmlscluster", "-Y"])
    assert result.returncode == 0 and "democluster" in result.stdout
    records = [r for r in caplog.records if r.name == "gpfskit.commands"]
    assert len(records) == 1
    assert records[0].argv == ["mmlscluster", "-Y"] and records[0].returncode == 0


def test_failure_raises_with_message(emulator_root):
    with pytest.raises(GPFSExecuteException) as info:
        run(["mmgetstate", "-N", "nosuch"])
    exc = info.value
    assert isinstance(exc, GPFSError)
    assert exc.argv == ["mmgetstate", "-N", "nosuch"] and exc.returncode == 22
    assert "Incorrect node nosuch" in str(exc)
    assert "Command failed" not in exc.message
    assert run(["mmgetstate", "-N", "nosuch"], check=False).returncode == 22


def test_strings_are_refused():
    with pytest.raises(TypeError):
        run("mmlscluster -Y")
    with pytest.raises(TypeError):
        run(["mmlsfileset", 3])


def test_dry_run_records_changing_runs_read_only(emulator_root):
    setDryRun(True)
    assert getDryRun()
    before = generation()
    result = run(["mmcrsnapshot", "mmfs1", "snap one"])
    assert result.recorded and result.returncode == 0
    assert run(["mmlscluster", "-Y"]).stdout  # read-only still runs
    assert getCmdCache() == ["mmcrsnapshot mmfs1 'snap one'"]
    assert generation() == before
    setDryRun(False)
    assert getCmdCache() == ["mmcrsnapshot mmfs1 'snap one'"]
    setDryRun(True)
    assert getCmdCache() == []


def test_dry_run_context_manager_and_threads(emulator_root):
    seen = {}

    def other_thread():
        seen["dry"] = getDryRun()
        with dry_run(False, thread_only=True):
            seen["override"] = getDryRun()

    with dry_run() as commands:
        run(["mmshutdown", "-a"])
        thread = threading.Thread(target=other_thread)
        thread.start()
        thread.join()
        assert getDryRun()
    assert commands == ["mmshutdown -a"]
    assert seen == {"dry": True, "override": False}   # process-wide, unless overridden
    assert not getDryRun()
    with dry_run(thread_only=True) as mine:
        run(["mmshutdown", "-a"])
        thread = threading.Thread(target=other_thread)
        thread.start()
        thread.join()
    assert mine == ["mmshutdown -a"] and seen["dry"] is False


def test_local_backend_runs_real_subprocess(tmp_path):
    script = tmp_path / "mmfake"
    script.write_text("#!/bin/sh\necho \"args:$#:$1\"; echo oops >&2; exit 3\n")
    script.chmod(0o755)
    backend = LocalBackend(str(tmp_path))
    with pytest.raises(GPFSExecuteException) as info:
        run(["mmfake", "a b; rm -rf /"], backend=backend)
    assert info.value.stdout == "args:1:a b; rm -rf /\n"
    assert info.value.returncode == 3 and "oops" in str(info.value)
    missing = LocalBackend(str(tmp_path / "none"))
    assert run(["mmnothere"], backend=missing, check=False).returncode == 127


def test_timeout(tmp_path):
    script = tmp_path / "mmslow"
    script.write_text("#!/bin/sh\nsleep 5\n")
    script.chmod(0o755)
    result = run(["mmslow"], backend=LocalBackend(str(tmp_path)), timeout=0.2, check=False)
    assert result.returncode == 124 and "timed out" in result.stderr
