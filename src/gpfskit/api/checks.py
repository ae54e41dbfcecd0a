"""Up-front checks of user input, so obviously bad values never reach a command.

The commands themselves refuse bad names too (and their refusal surfaces as
``GPFSExecuteException``), but a ``ValueError`` before anything runs is clearer and guarantees
that nothing was half done.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from typing import Any

MAX_NAME = 255          # bytes of UTF-8, as the file system counts a name
MAX_NUMBER = 2**63 - 1  # the commands' counters are signed 64-bit

# Names of filesets, snapshots, node classes, pools...: letters, digits and a few marks;
# beyond ASCII, letters and digits of any script (the emulated commands' rule too).
_NAME = re.compile(r"^[A-Za-z0-9_.@+-]+$")
# Node and device names: host-name characters.
_HOST = re.compile(r"^[A-Za-z0-9_.-]+$")


def _name_char(char: str) -> bool:
    return bool(_NAME.match(char)) or (not char.isascii() and char.isalnum())


def name(value: Any, kind: str, *, reserved: Iterable[str] = ()) -> str:
    """A valid object name, or ValueError saying what is wrong with it."""
    if not isinstance(value, str):
        raise TypeError(f"{kind} name must be a string, not {type(value).__name__}")
    if not value:
        raise ValueError(f"{kind} name must not be empty")
    bad = sorted({c for c in value if not _name_char(c)})
    if bad:
        shown = ", ".join(repr(c) for c in bad)
        raise ValueError(f"invalid {kind} name {value!r}: it may not contain {shown} "
                         "(use letters, digits, '_', '-', '.', '+' or '@')")
    size = len(value.encode("utf-8"))
    if size > MAX_NAME:
        raise ValueError(f"{kind} name is {size} bytes long (in UTF-8); at most {MAX_NAME} "
                         "are allowed")
    if value.startswith("-") or value in (".", ".."):
        raise ValueError(f"invalid {kind} name {value!r}")
    if value in set(reserved):
        raise ValueError(f"{value!r} is a reserved name and cannot be used for a {kind}")
    return value


def host(value: Any, kind: str = "node") -> str:
    """A node (host) name."""
    if not isinstance(value, str):
        raise TypeError(f"{kind} name must be a string, not {type(value).__name__}")
    if not value or len(value) > MAX_NAME or not _HOST.match(value) or value.startswith("-"):
        raise ValueError(f"invalid {kind} name {value!r}")
    return value


def device(value: Any) -> str:
    """A file system device name (``fs1`` or ``/dev/fs1``), returned without ``/dev/``."""
    if not isinstance(value, str):
        raise TypeError(f"file system name must be a string, not {type(value).__name__}")
    short = value.removeprefix("/dev/")
    if not short or len(short) > MAX_NAME or not _HOST.match(short) or short.startswith("-"):
        raise ValueError(f"invalid file system name {value!r}")
    return short


def path(value: Any, what: str = "path") -> str:
    """An absolute path with no NUL or newline."""
    if isinstance(value, os.PathLike):
        value = os.fspath(value)
    if not isinstance(value, str):
        raise TypeError(f"{what} must be a string, not {type(value).__name__}")
    if not value.startswith("/"):
        raise ValueError(f"{what} must be an absolute path, not {value!r}")
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise ValueError(f"{what} {value!r} contains a control character")
    try:
        size = len(os.fsencode(value))
    except UnicodeError:
        raise ValueError(f"{what} {value!r} is not valid text") from None
    if size > 4095:
        raise ValueError(f"{what} is {size} bytes long; at most 4095 are allowed")
    longest = max(len(os.fsencode(part)) for part in value.split("/"))
    if longest > MAX_NAME:
        raise ValueError(f"{what} has a component of {longest} bytes; at most {MAX_NAME} "
                         "are allowed")
    return value


def local_path(value: Any, what: str = "path") -> str:
    """A path on this node, absolute or relative to the current directory (as the mm*
    commands resolve a relative path), made absolute."""
    if isinstance(value, os.PathLike):
        value = os.fspath(value)
    if isinstance(value, str) and value and not value.startswith("/"):
        value = os.path.abspath(value)
    return path(value, what)


def text(value: Any, what: str, *, max_len: int = MAX_NAME) -> str:
    """Free text such as a comment: any printable characters, shorter than ``max_len``."""
    if not isinstance(value, str):
        raise TypeError(f"{what} must be a string, not {type(value).__name__}")
    if len(value) > max_len:
        raise ValueError(f"{what} is {len(value)} characters long; at most {max_len} allowed")
    if any(ord(c) < 32 for c in value):
        raise ValueError(f"{what} {value!r} contains a control character")
    return value


#: Storage Scale's limit on a fileset comment.
MAX_COMMENT = 255


def comment(value: Any) -> str:
    """A fileset comment from any object (scripts pass a ``uuid.UUID``): its ``str()``;
    None is no comment."""
    return text("" if value is None else str(value), "comment", max_len=MAX_COMMENT)


def count(value: Any, what: str, *, minimum: int = 0, maximum: int = MAX_NUMBER) -> int:
    """A whole number from ``minimum`` to ``maximum``; a string of digits (read from a
    configuration file) counts as the number it writes."""
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{what} must be a whole number, not {value!r}")
    if value < minimum:
        raise ValueError(f"{what} must be at least {minimum}, not {value}")
    if value > maximum:
        raise ValueError(f"{what} must be at most {maximum}, not {value}")
    return value


def choice(value: Any, what: str, allowed: Iterable[str]) -> str:
    options = list(allowed)
    if value not in options:
        raise ValueError(f"{what} must be one of {', '.join(map(repr, options))}, "
                         f"not {value!r}")
    return value


def no_unknown(kwargs: dict[str, Any], where: str) -> None:
    """TypeError naming the keyword arguments ``where`` does not understand."""
    if kwargs:
        raise TypeError(f"{where} got unexpected keyword argument(s): "
                        f"{', '.join(sorted(kwargs))}")
