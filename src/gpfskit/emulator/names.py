"""Name rules shared by the emulated commands (fileset and snapshot names).

The rules of ``mmcrfileset`` (storage-scale.md §2.8): 1 to 255 characters, unique in the
file system, not ``root``, not exactly ``new``, not starting with ``-``, and none of
``/ ? $ & * ( ) ` # | [ ] \\``. The documented list continues past what the reference quotes;
the emulator also refuses whitespace, control characters, quotes and ``;`` (shell
metacharacters an administrator would not expect in a name), and ``:`` and ``,``, which
separate list items and ``Fileset:Snapshot`` pairs on the command lines that take names.

Snapshot names follow the same character rules and length; they may be ``root`` or ``new``
but not ``.`` or ``..`` (a snapshot is a directory under ``.snapshots``).

Each check returns the reason a name is refused, or None when it is acceptable; commands
turn the reason into their own message and exit code (22, EINVAL).
"""

from __future__ import annotations

MAX_NAME = 255
MAX_COMMENT = 255

# The characters the mmcrfileset documentation lists, then the ones added here.
DOCUMENTED = "/?$&*()`#|[]\\"
EXTRA = "'\";:,"
FORBIDDEN = frozenset(DOCUMENTED + EXTRA)


def _shown(name: str) -> str:
    """The name as messages echo it: control characters escaped, long names shortened."""
    text = "".join(c if c.isprintable() else repr(c)[1:-1] for c in name)
    return text if len(text) <= 40 else text[:37] + "..."


def _character_problem(name: str) -> str | None:
    for char in name:
        if char in FORBIDDEN:
            return f"the character {char} is not allowed"
        if char.isspace():
            return "whitespace is not allowed"
        if not char.isprintable():
            return "control characters are not allowed"
    return None


def fileset_name_problem(name: str) -> str | None:
    """Why ``name`` cannot name a new fileset, or None."""
    if not name:
        return "the name must not be empty"
    if len(name) > MAX_NAME:
        return f"the name is longer than {MAX_NAME} characters"
    if name == "root":
        return "root is reserved for the root fileset"
    if name == "new":
        return "new is a keyword of --inode-space"
    if name.startswith("-"):
        return "the name must not begin with -"
    if name in (".", ".."):
        return "the name must not be . or .."
    return _character_problem(name)


def snapshot_name_problem(name: str) -> str | None:
    """Why ``name`` cannot name a new snapshot, or None."""
    if not name:
        return "the name must not be empty"
    if len(name) > MAX_NAME:
        return f"the name is longer than {MAX_NAME} characters"
    if name.startswith("-"):
        return "the name must not begin with -"
    if name in (".", ".."):
        return "the name must not be . or .."
    return _character_problem(name)


def comment_problem(comment: str) -> str | None:
    """Why ``comment`` cannot be a fileset comment, or None (colons and spaces are fine)."""
    if len(comment) > MAX_COMMENT:
        return f"the comment is longer than {MAX_COMMENT} characters"
    if any(not c.isprintable() for c in comment):
        return "control characters are not allowed in a comment"
    return None


def fileset_message(name: str, problem: str) -> str:
    return f"Incorrect fileset name {_shown(name)}: {problem}."


def snapshot_message(name: str, problem: str) -> str:
    return f"Incorrect snapshot name {_shown(name)}: {problem}."
