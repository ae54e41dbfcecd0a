"""Name rules shared by the emulated commands (fileset and snapshot names).

The rules of ``mmcrfileset`` (storage-scale.md §2.8): 1 to 255 bytes, unique in the
file system, not ``root``, not exactly ``new``, not starting with ``-``, and none of
``/ ? $ & * ( ) ` # | [ ] \\``. The documented list continues past what the reference quotes;
the emulator also refuses whitespace, control characters, quotes and ``;`` (shell
metacharacters an administrator would not expect in a name), and ``:`` and ``,``, which
separate list items and ``Fileset:Snapshot`` pairs on the command lines that take names.
Beyond ASCII, letters and digits of any script are allowed (``Projekt-Ü``, ``données``),
other symbols are not; the API applies the same rule (``gpfskit.api.checks``). Lengths are
counted in bytes of UTF-8, as the file system counts a directory entry's name: 200 ``é`` are
400 bytes, too long.

Snapshot names follow the same character rules and length; they may be ``root`` or ``new``
but not ``.`` or ``..`` (a snapshot is a directory under ``.snapshots``).

Each check returns the reason a name is refused, or None when it is acceptable; commands
turn the reason into their own message and exit code (22, EINVAL).
"""

from __future__ import annotations

MAX_NAME = 255          # bytes, as the file system counts a name
MAX_COMMENT = 255
MAX_PATH = 4095         # bytes of a path, PATH_MAX less its NUL

# The characters the mmcrfileset documentation lists, then the ones added here.
DOCUMENTED = "/?$&*()`#|[]\\"
EXTRA = "'\";:,"
FORBIDDEN = frozenset(DOCUMENTED + EXTRA)


def shown(name: str) -> str:
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
        if not char.isascii() and not char.isalnum():
            return f"the character {char} is not allowed (beyond ASCII, only letters and digits)"
    return None


def _length_problem(name: str) -> str | None:
    size = len(name.encode("utf-8", "surrogatepass"))
    if size > MAX_NAME:
        return f"the name is {size} bytes long; at most {MAX_NAME} are allowed"
    return None


def fileset_name_problem(name: str) -> str | None:
    """Why ``name`` cannot name a new fileset, or None."""
    if not name:
        return "the name must not be empty"
    if problem := _length_problem(name):
        return problem
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
    if problem := _length_problem(name):
        return problem
    if name.startswith("-"):
        return "the name must not begin with -"
    if name in (".", ".."):
        return "the name must not be . or .."
    return _character_problem(name)


def path_problem(path: str) -> str | None:
    """Why ``path`` cannot be a junction or mount point, or None: control characters
    (a newline would split a ``-Y`` record), a component longer than 255 bytes or a path
    longer than 4095 bytes, which the file system refuses (ENAMETOOLONG)."""
    if any(not c.isprintable() and c != " " for c in path):
        return "control characters are not allowed in a path"
    if len(path.encode("utf-8", "surrogatepass")) > MAX_PATH:
        return f"the path is longer than {MAX_PATH} bytes"
    for part in path.split("/"):
        if len(part.encode("utf-8", "surrogatepass")) > MAX_NAME:
            return f"the path component {shown(part)} is longer than {MAX_NAME} bytes"
    return None


def comment_problem(comment: str) -> str | None:
    """Why ``comment`` cannot be a fileset comment, or None (colons and spaces are fine)."""
    if len(comment) > MAX_COMMENT:
        return f"the comment is longer than {MAX_COMMENT} characters"
    if any(not c.isprintable() for c in comment):
        return "control characters are not allowed in a comment"
    return None


def fileset_message(name: str, problem: str) -> str:
    return f"Incorrect fileset name {shown(name)}: {problem}."


def snapshot_message(name: str, problem: str) -> str:
    return f"Incorrect snapshot name {shown(name)}: {problem}."
