"""``arcapix.fs.gpfs.policydriver``: re-exports of the list driver (``gpfskit.policy.driver``)
and the file-attribute objects it hands to processing functions."""

from gpfskit.policy.attributes import DetachedFileAttributes, FileAttributes
from gpfskit.policy.driver import main
from gpfskit.policy.filelist import FileList, Layout

__all__ = ["DetachedFileAttributes", "FileAttributes", "FileList", "Layout", "main"]
