"""The bit flags of libgpfs structures and their decoders (names as gpfs.h spells them).

``iattr.ia_flags`` (GPFS_IAFLAG_*), ``ia_winflags`` (GPFS_IWINATTR_*), ``ia_xperm``
(GPFS_IAXPERM_*), ``ia_pcacheflags`` (GPFS_ICAFLAG_*), ``direntx.d_type`` (GPFS_DE_*),
``direntx.d_flags`` (GPFS_DEFLAG_*), replication status (GPFS_REPLICATION_*) and the Windows
attributes (WA_*). A decoder returns the names of the bits set, in bit order, without the
prefix: ``get_flags_strings(0x4000 | 0x100000) == ['IMMUTABLE', 'APPENDONLY']``.
"""

from __future__ import annotations

from collections.abc import Mapping

IAFLAGS: Mapping[str, int] = {
    "SNAPDIR": 0x0001, "USRQUOTA": 0x0002, "GRPQUOTA": 0x0004, "ERROR": 0x0008,
    "FILESETQUOTA": 0x0010, "COMANAGED": 0x0020, "ILLPLACED": 0x0040, "REPLMETA": 0x0080,
    "REPLDATA": 0x0100, "EXPOSED": 0x0200, "ILLREPLICATED": 0x0400, "UNBALANCED": 0x0800,
    "DATAUPDATEMISS": 0x1000, "METAUPDATEMISS": 0x2000, "IMMUTABLE": 0x4000,
    "INDEFRETENTION": 0x8000, "SECUREDELETE": 0x10000, "TRUNCMANAGED": 0x20000,
    "READMANAGED": 0x40000, "WRITEMANAGED": 0x80000, "APPENDONLY": 0x100000,
    "DELETIONPREVENTED": 0x200000, "COMPRESSED": 0x400000, "ENCRYPTED": 0x800000,
}
WINFLAGS: Mapping[str, int] = {
    "ARCHIVE": 0x0001, "HIDDEN": 0x0002, "NOTINDEXED": 0x0004, "OFFLINE": 0x0008,
    "READONLY": 0x0010, "REPARSE_POINT": 0x0020, "SYSTEM": 0x0040, "TEMPORARY": 0x0080,
    "COMPRESSED": 0x0100, "ENCRYPTED": 0x0200, "SPARSE_FILE": 0x0400,
}
XPERM: Mapping[str, int] = {
    "ACL": 0x0001, "XATTR": 0x0002, "DMATTR": 0x0004, "DOSATTR": 0x0008, "RPATTR": 0x0010,
}
PCACHEFLAGS: Mapping[str, int] = {
    "CACHED": 0x0001, "CREATE": 0x0002, "DIRTY": 0x0004, "LINK": 0x0008, "SETATTR": 0x0010,
    "LOCAL": 0x0020, "APPEND": 0x0040, "STATE": 0x0080,
}
DEFLAGS: Mapping[str, int] = {"JUNCTION": 0x01, "IJUNCTION": 0x02, "ORPHAN": 0x04,
                              "CLONE": 0x08}
REPLICATION_STATUS: Mapping[str, int] = {
    "EXPOSED": 0x01, "ILLREPLICATE": 0x02, "UNBALANCED": 0x04, "DATAUPDATEMISS": 0x08,
    "METAUPDATEMISS": 0x10, "ILLPLACED": 0x20,
}
#: direntx.d_type values.
DE_TYPES: Mapping[int, str] = {0: "OTHER", 1: "FIFO", 2: "CHR", 4: "DIR", 6: "BLK", 8: "REG",
                               10: "LNK", 12: "SOCK", 16: "DEL"}
DE_OTHER, DE_FIFO, DE_CHR, DE_DIR, DE_BLK, DE_REG, DE_LNK, DE_SOCK, DE_DEL = (
    0, 1, 2, 4, 6, 8, 10, 12, 16)


def names_of(value: int, table: Mapping[str, int]) -> list[str]:
    """The names in ``table`` whose bits are set in ``value``, in bit order."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"flags must be an int, not {type(value).__name__}")
    return [name for name, bit in sorted(table.items(), key=lambda kv: kv[1]) if value & bit]


def type_name(d_type: int) -> str:
    """``REG``, ``DIR``, ... for a direntx ``d_type``."""
    if isinstance(d_type, bool) or not isinstance(d_type, int):
        raise TypeError(f"d_type must be an int, not {type(d_type).__name__}")
    return DE_TYPES.get(d_type, "OTHER")
