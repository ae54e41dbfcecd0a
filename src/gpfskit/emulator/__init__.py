"""The emulated cluster: the mm* admin commands answered in-process over a real directory tree.

It knows argv in, (stdout, stderr, exit code) out, plus real files on disk; it never imports the
object API or the management service.
"""
