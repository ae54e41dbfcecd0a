"""The C library API over the emulated cluster: its real files plus its SQLite state.

Everything a file system knows that a plain directory does not (which fileset and pool a
file is in, snapshots, fileset and pool ids) comes from the emulator's own modules
(``layout``, ``placement``, ``fileattrs``, ``usage``), as ``mmapplypolicy`` gets it; no mm*
command is run for an answer.
"""
