"""Where a command runs: the real commands, a remote node, or the in-process emulator.

Each backend takes an argv list and returns (stdout, stderr, exit code). None of them ever
builds a shell string locally; the remote backend quotes each argument for the remote shell.
"""

from __future__ import annotations

import os
import shlex
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from gpfskit.config import config


@dataclass(frozen=True)
class Outcome:
    stdout: str
    stderr: str
    returncode: int


class Backend(Protocol):
    def execute(self, argv: Sequence[str], timeout: float | None) -> Outcome: ...


def _timed_out(argv: Sequence[str], timeout: float | None) -> Outcome:
    return Outcome("", f"{argv[0]}: timed out after {timeout} seconds", 124)


@dataclass(frozen=True)
class LocalBackend:
    """The real Storage Scale commands on this node."""

    command_path: str = "/usr/lpp/mmfs/bin"
    sudo: bool = False

    def execute(self, argv: Sequence[str], timeout: float | None) -> Outcome:
        env = dict(os.environ)
        env["PATH"] = f"{self.command_path}:{env.get('PATH', '/usr/bin:/bin')}"
        full = (["sudo", "-n"] if self.sudo else []) + list(argv)
        try:
            done = subprocess.run(full, capture_output=True, text=True, env=env,
                                  timeout=timeout, errors="surrogateescape", check=False)
        except subprocess.TimeoutExpired:
            return _timed_out(argv, timeout)
        except FileNotFoundError:
            return Outcome("", f"{argv[0]}: command not found", 127)
        return Outcome(done.stdout, done.stderr, done.returncode)


@dataclass(frozen=True)
class RemoteBackend:
    """The real commands on another node, reached through the cluster's remote shell."""

    node: str
    remote_shell: str = "/usr/bin/ssh"
    command_path: str = "/usr/lpp/mmfs/bin"

    def execute(self, argv: Sequence[str], timeout: float | None) -> Outcome:
        remote = shlex.join([f"{self.command_path}/{argv[0]}", *argv[1:]])
        full = [self.remote_shell, "-o", "BatchMode=yes", self.node, remote]
        try:
            done = subprocess.run(full, capture_output=True, text=True, timeout=timeout,
                                  errors="surrogateescape", check=False)
        except subprocess.TimeoutExpired:
            return _timed_out(argv, timeout)
        return Outcome(done.stdout, done.stderr, done.returncode)


@dataclass(frozen=True)
class EmulatorBackend:
    """The emulated cluster, answered in this process."""

    root: str
    node: str | None = None
    lock_wait: float | None = None

    def execute(self, argv: Sequence[str], timeout: float | None) -> Outcome:
        from gpfskit.emulator.dispatch import run_command

        result = run_command(argv, root=self.root, node=self.node, lock_wait=self.lock_wait)
        return Outcome(result.stdout, result.stderr, result.returncode)


def configured_backend() -> Backend:
    """The backend the configuration directives select, read afresh on every call."""
    kind = config["gpfskit.cluster.backend"]
    if kind == "emulated":
        return EmulatorBackend(config["gpfskit.emulator.root"], config["gpfskit.emulator.node"],
                               config["gpfskit.emulator.lock_timeout"])
    if kind != "scale":
        from gpfskit.commands.errors import GPFSError

        raise GPFSError(f"gpfskit.cluster.backend is {kind!r}: expected 'scale' or 'emulated'")
    node = config["gpfskit.cluster.remote_node"]
    if node:
        return RemoteBackend(node, config["gpfskit.commands.remote_shell"],
                             config["gpfskit.commands.path"])
    return LocalBackend(config["gpfskit.commands.path"], config["gpfskit.commands.sudo"])
