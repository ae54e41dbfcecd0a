"""Names the policy language knows: file attributes and SQL functions.

The parser rejects names not listed here, so typos are reported with a position instead of
surfacing as NULLs during a scan.
"""

from __future__ import annotations

__all__ = [
    "ATTRIBUTES",
    "FUNCTIONS",
    "INTEGER_ATTRIBUTES",
    "RECORD_FUNCTIONS",
    "SIDE_EFFECT_FUNCTIONS",
    "STRING_ATTRIBUTES",
    "TIMESTAMP_ATTRIBUTES",
    "XATTRS_KEY",
    "arity_ok",
]

#: Attributes holding timestamps (floats, seconds since the Unix epoch, in records/batches).
TIMESTAMP_ATTRIBUTES = frozenset(
    {"ACCESS_TIME", "MODIFICATION_TIME", "CHANGE_TIME", "CREATION_TIME", "EXPIRATION_TIME"}
)

#: Attributes holding text.  PATH_NAME and NAME may also arrive as bytes (decoded with
#: UTF-8/surrogateescape).
STRING_ATTRIBUTES = frozenset(
    {
        "PATH_NAME",
        "NAME",
        "MODE",
        "FILESET_NAME",
        "POOL_NAME",
        "MISC_ATTRIBUTES",
        "USER_NAME",
        "GROUP_NAME",
    }
)

#: Numeric attributes (integers, or NULL where not applicable such as CLONE_PARENT_INODE).
INTEGER_ATTRIBUTES = frozenset(
    {
        "FILE_SIZE",
        "KB_ALLOCATED",
        "USER_ID",
        "GROUP_ID",
        "NLINK",
        "INODE",
        "GENERATION",
        "BLOCKSIZE",
        "DEVICE_ID",
        "RDEVICE_ID",
        "MODIFICATION_SNAPID",
        "FILE_HEAT",
        "DIRECTORY_HASH",
        "CLONE_DEPTH",
        "CLONE_IS_PARENT",
        "CLONE_PARENT_FILESETID",
        "CLONE_PARENT_FILESET_ID",
        "CLONE_PARENT_INODE",
        "CLONE_PARENT_IS_SNAP",
        "CLONE_PARENT_SNAP_ID",
    }
)

ATTRIBUTES = TIMESTAMP_ATTRIBUTES | STRING_ATTRIBUTES | INTEGER_ATTRIBUTES

#: Record key (and batch column) carrying a file's extended attributes: a mapping of
#: name -> bytes/str, or a callable ``name -> bytes | None``.
XATTRS_KEY = "XATTRS"

_MANY = 255

#: Function name -> (minimum, maximum) number of arguments.
FUNCTIONS: dict[str, tuple[int, int]] = {
    # date / time
    "DATE": (1, 1),
    "DAY": (1, 1),
    "DAYOFWEEK": (1, 1),
    "DAYOFYEAR": (1, 1),
    "DAYS": (1, 1),
    "DAYSINMONTH": (1, 1),
    "DAYSINYEAR": (1, 1),
    "HOUR": (1, 1),
    "MINUTE": (1, 1),
    "MONTH": (1, 1),
    "QUARTER": (1, 1),
    "SECOND": (1, 1),
    "TIMESTAMP": (1, 1),
    "WEEK": (1, 1),
    "YEAR": (1, 1),
    # string
    "CHAR": (1, 2),
    "CONCAT": (2, _MANY),
    "HEX": (1, 1),
    "LENGTH": (1, 1),
    "LOWER": (1, 1),
    "UPPER": (1, 1),
    "SUBSTR": (2, 3),
    "SUBSTRING": (2, 3),
    "VARCHAR": (1, 1),
    "REGEX": (2, 2),
    "REGEXREPLACE": (3, 3),
    # numeric
    "INT": (1, 1),
    "INTEGER": (1, 1),
    "MOD": (2, 2),
    "FLOOR": (1, 1),
    "CEIL": (1, 1),
    "CEILING": (1, 1),
    "ABS": (1, 1),
    "ROUND": (1, 2),
    # extended attributes
    "XATTR": (1, 3),
    "XATTR_FLOAT": (1, 4),
    "XATTR_INTEGER": (1, 4),
    "GETXATTRS": (0, 2),
    "SETXATTR": (2, 2),
    "SETBGF": (0, 4),
    "SETWAD": (0, 4),
    "SETWADFG": (0, 4),
    # miscellaneous
    "SNAP_ID": (1, 1),
    "GETENV": (1, 1),
    "GETMMCONFIG": (1, 1),
}

#: Functions whose value depends on the file beyond its ordinary attributes (xattrs).
RECORD_FUNCTIONS = frozenset(
    {
        "XATTR",
        "XATTR_FLOAT",
        "XATTR_INTEGER",
        "GETXATTRS",
        "SETXATTR",
        "SETBGF",
        "SETWAD",
        "SETWADFG",
    }
)

#: Functions evaluated for their side effect (used in ACTION clauses); they return TRUE.
SIDE_EFFECT_FUNCTIONS = frozenset({"SETXATTR", "SETBGF", "SETWAD", "SETWADFG"})


def arity_ok(name: str, nargs: int) -> bool:
    low, high = FUNCTIONS[name]
    return low <= nargs <= high
