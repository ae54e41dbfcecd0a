"""Configuration directives: one JSON file per dotted name under a configuration directory.

``config['arcapix.auth.server.url']`` reads ``<dir>/arcapix/auth/server/url``. The directory is
``$GPFSKIT_CONFIG`` or ``$ARCAPIX_CONFIG`` when set, otherwise ``/etc/gpfskit`` for root and
``$XDG_CONFIG_HOME/gpfskit`` (``~/.config/gpfskit``) for everyone else. The directory is looked
up on every access, so tests and tools can move it by changing the environment.

Every directive gpfskit knows is declared once, in ``DIRECTIVES``, with its default, type and a
one-line description; unknown directives can still be stored and read (other tools share the
store), they simply have no default.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator, MutableMapping
from pathlib import Path

TYPE_CHECKING = False   # True for mypy only: a command from a shell does not load typing
if TYPE_CHECKING:
    from typing import Any

_NAME = re.compile(r"^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)+$")


class ConfigError(ValueError):
    """A directive could not be read or written."""


class Directive:
    """A directive gpfskit knows: its default (a value, or a function giving it), type and
    description. A plain class: every command reads the configuration, and a dataclass would
    make each one load ``dataclasses`` (and ``inspect``) first."""

    __slots__ = ("choices", "default", "description", "name", "positive", "type")

    def __init__(self, name: str, default: Any, type: type | tuple[type, ...],
                 description: str, *, choices: tuple[Any, ...] = (),
                 positive: bool = False) -> None:
        self.name = name
        self.default = default
        self.type = type
        self.description = description
        self.choices = choices      # the only values allowed, when not empty
        self.positive = positive    # a number that must be > 0

    def problem(self, value: Any) -> str | None:
        """Why ``value`` cannot be this directive's value, or None."""
        if isinstance(value, bool) and bool not in _types(self.type):
            return f"{self.name} takes {_type_names(self.type)}, not {json.dumps(value)}"
        if not isinstance(value, self.type):
            return f"{self.name} takes {_type_names(self.type)}, not {type(value).__name__}"
        if self.choices and value not in self.choices:
            return (f"{self.name} must be one of {', '.join(map(repr, self.choices))}, "
                    f"not {value!r}")
        if self.positive and value is not None and not value > 0:
            return f"{self.name} must be a number greater than 0, not {value!r}"
        return None


def _default_emulator_root() -> str:
    if os.geteuid() == 0:
        return "/var/lib/gpfskit/emulator"
    data = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local/share")
    return os.path.join(data, "gpfskit", "emulator")


def _default_command_log() -> str:
    """A private configuration (``$GPFSKIT_CONFIG``) keeps its command log with it, as a
    hidden file that is no directive; otherwise the system's or the user's log directory."""
    for var in ("GPFSKIT_CONFIG", "ARCAPIX_CONFIG"):
        value = os.environ.get(var)
        if value:
            return os.path.join(value, ".commands.log")
    if os.geteuid() == 0:
        return "/var/log/gpfskit/commands.log"
    state = os.environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"),
                                                             ".local/state")
    return os.path.join(state, "gpfskit", "commands.log")


def _default_management_db() -> str:
    return os.path.join(os.path.dirname(_default_emulator_root()), "management.db")


def _default_service_url() -> str:
    scheme = "https" if config["gpfskit.management.tls.certificate"] else "http"
    return f"{scheme}://{config['gpfskit.management.host']}:{config['gpfskit.management.port']}"


def _default_backend() -> str:
    return "scale" if os.path.exists("/usr/lpp/mmfs/bin/mmlscluster") else "emulated"


DIRECTIVES: dict[str, Directive] = {
    d.name: d
    for d in [
        Directive("gpfskit.cluster.backend", _default_backend, str,
                  "which cluster the commands reach: 'scale' (real commands) or 'emulated'",
                  choices=("scale", "emulated")),
        Directive("gpfskit.cluster.remote_node", None, (str, type(None)),
                  "run admin commands on this node through the remote shell (None = locally)"),
        Directive("gpfskit.commands.path", "/usr/lpp/mmfs/bin", str,
                  "directory holding the real Storage Scale commands"),
        Directive("gpfskit.commands.sudo", False, bool,
                  "prefix real commands with sudo (for non-root administrators)"),
        Directive("gpfskit.commands.timeout", 3600.0, (int, float),
                  "seconds before a running admin command is stopped", positive=True),
        Directive("gpfskit.commands.remote_shell", "/usr/bin/ssh", str,
                  "remote shell used to reach gpfskit.cluster.remote_node"),
        Directive("gpfskit.clib.library", "/usr/lpp/mmfs/lib/libgpfs.so", str,
                  "the Storage Scale C library the C library API binds on a real cluster"),
        Directive("gpfskit.emulator.root", _default_emulator_root, str,
                  "directory holding the emulated cluster's state and file systems"),
        Directive("gpfskit.emulator.clusters", [], list,
                  "emulated clusters made or used here (gpfskit emulator list)"),
        Directive("gpfskit.emulator.lock_timeout", 60.0, (int, float),
                  "seconds a changing emulated command waits for another one to finish",
                  positive=True),
        Directive("gpfskit.emulator.node", None, (str, type(None)),
                  "the node this process acts as on the emulated cluster (None = first node)"),
        Directive("gpfskit.log.commands", _default_command_log, (str, type(None)),
                  "file recording every command that changes the cluster, rotated at 10 MiB "
                  "(None = no log)"),
        Directive("gpfskit.log.level", "info", str,
                  "'info' logs the commands that change the cluster, 'debug' every command",
                  choices=("info", "debug")),
        Directive("gpfskit.policy.tmpdir", None, (str, type(None)),
                  "work directory for policy runs (None = <mount point>/.policytmp)"),
        Directive("gpfskit.callbacks.dir", None, (str, type(None)),
                  "where persistent Python event handlers are stored (None = per backend default)"),
        Directive("arcapix.auth.server.url", lambda: config["arcapix.management.server.url"],
                  str, "base URL of the OAuth2 token server (default: this service's URL)"),
        Directive("arcapix.management.server.url", _default_service_url, str,
                  "base URL of the management service, read by scripts (default: from "
                  "gpfskit.management.host/port, https when a certificate is set)"),
        Directive("arcapix.management.database.path", _default_management_db, str,
                  "SQLite database of the management service"),
        Directive("arcapix.management.database.url", None, (str, type(None)),
                  "SQLAlchemy URL of the management database, e.g. "
                  "postgresql+psycopg://postgres@127.0.0.1:5432/gpfskit (None = the SQLite "
                  "file at arcapix.management.database.path)"),
        Directive("arcapix.management.filesets.exclude", ["root"], list,
                  "filesets (shell-style patterns) the management service never turns into "
                  "spaces"),
        Directive("gpfskit.management.host", "127.0.0.1", str,
                  "address `gpfskit serve` listens on"),
        Directive("gpfskit.management.port", 5101, int, "port `gpfskit serve` listens on"),
        Directive("gpfskit.management.tls.certificate", None, (str, type(None)),
                  "PEM certificate: `gpfskit serve` speaks https itself (None = plain http)"),
        Directive("gpfskit.management.tls.key", None, (str, type(None)),
                  "PEM private key of gpfskit.management.tls.certificate"),
        Directive("gpfskit.management.tokens.expiry", 86400, int,
                  "seconds an access token stays valid"),
        Directive("gpfskit.management.pam", False, bool,
                  "also accept system accounts through PAM (needs python-pam)"),
        Directive("gpfskit.management.jobs.storage", "sqlite", str,
                  "job queue storage: 'sqlite' (one node) or 'redis' (several nodes)"),
        Directive("gpfskit.management.jobs.path", None, (str, type(None)),
                  "SQLite job queue file (None = jobs.db beside the management database)"),
        Directive("gpfskit.management.jobs.redis_url", "redis://127.0.0.1:6379/0", str,
                  "Redis server of the job queue when gpfskit.management.jobs.storage is redis"),
        Directive("gpfskit.management.jobs.name", "gpfskit", str,
                  "name of the job queue (processes sharing it must agree)"),
        Directive("gpfskit.management.jobs.workers", 2, int,
                  "worker threads inside `gpfskit serve` (0 = run `gpfskit worker` instead)"),
        Directive("gpfskit.management.jobs.pending_grace", 30, (int, float),
                  "seconds a job may stay PENDING with no task in the queue before the "
                  "recovery sweep queues it again"),
        Directive("gpfskit.management.plugins", [], list,
                  "modules imported on start that add resources or tasks to the service"),
        Directive("arcapix.management.templates.store", None, (str, type(None)),
                  "directory templates are captured into (None = per backend default)"),
        Directive("arcapix.management.quota.soft_percent", 90, (int, float),
                  "a space's soft block limit, in percent of its size (the hard limit)"),
        Directive("arcapix.management.nfs.exports_dir", None, (str, type(None)),
                  "exports.d-style directory of managed NFS share fragments "
                  "(None = per backend default)"),
        Directive("arcapix.management.smb.include_dir", None, (str, type(None)),
                  "Samba include directory of managed SMB share fragments "
                  "(None = per backend default)"),
    ]
}


def config_dir() -> Path:
    for var in ("GPFSKIT_CONFIG", "ARCAPIX_CONFIG"):
        value = os.environ.get(var)
        if value:
            return Path(value)
    if os.geteuid() == 0:
        return Path("/etc/gpfskit")
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(base) / "gpfskit"


def _check_name(name: str) -> str:
    if not isinstance(name, str) or not _NAME.match(name):
        raise ConfigError(
            f"invalid directive name {name!r}: use dotted words of letters, digits, '-' and '_'"
        )
    return name


class Config(MutableMapping[str, "Any"]):
    """The directive store. Reads fall back to the declared default; writes are atomic."""

    def path(self, name: str) -> Path:
        return config_dir().joinpath(*_check_name(name).split("."))

    def __getitem__(self, name: str) -> Any:
        path = self.path(name)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            directive = DIRECTIVES.get(name)
            if directive is None:
                raise KeyError(name) from None
            default = directive.default
            return default() if callable(default) else default
        except IsADirectoryError:
            raise KeyError(name) from None
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{path}: invalid JSON ({exc.msg} at line {exc.lineno}, "
                              f"column {exc.colno})") from None
        problem = DIRECTIVES[name].problem(value) if name in DIRECTIVES else None
        if problem:
            raise ConfigError(f"{path}: {problem} (fix it with: gpfskit config set {name} "
                              "VALUE, or gpfskit config unset it)")
        return value

    def __setitem__(self, name: str, value: Any) -> None:
        directive = DIRECTIVES.get(name)
        problem = directive.problem(value) if directive is not None else None
        if problem:
            raise ConfigError(problem)
        try:
            text = json.dumps(value, indent=None)
        except TypeError as exc:
            raise ConfigError(f"{name}: value is not JSON-serialisable ({exc})") from None
        path = self.path(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        import tempfile  # only writers need it; every command reads the configuration

        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text + "\n")
            os.replace(tmp, path)
        except BaseException:
            os.unlink(tmp)
            raise

    def __delitem__(self, name: str) -> None:
        try:
            self.path(name).unlink()
        except FileNotFoundError:
            raise KeyError(name) from None

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and (name in DIRECTIVES or self.path(name).is_file())

    def stored(self) -> list[str]:
        """Names of the directives that have a file in the store."""
        root = config_dir()
        if not root.is_dir():
            return []
        return sorted(
            ".".join(p.relative_to(root).parts)
            for p in root.rglob("*")
            if p.is_file() and not p.name.startswith(".")
        )

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(set(DIRECTIVES) | set(self.stored())))

    def __len__(self) -> int:
        return len(set(DIRECTIVES) | set(self.stored()))


def _types(types: type | tuple[type, ...]) -> tuple[type, ...]:
    return types if isinstance(types, tuple) else (types,)


def _type_names(types: type | tuple[type, ...]) -> str:
    types = _types(types)
    names = {"NoneType": "null", "str": "a string", "bool": "true/false", "int": "an integer",
             "float": "a number", "list": "a list"}
    return " or ".join(names.get(t.__name__, t.__name__) for t in types)


def parse_value(name: str, text: str) -> Any:
    """Turn command-line text into a directive value: JSON when it parses, else a string."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        value = text
    directive = DIRECTIVES.get(name)
    if directive is not None and not isinstance(value, directive.type) and isinstance(
        text, str
    ) and str in _types(directive.type):
        value = text
    return value


config = Config()
