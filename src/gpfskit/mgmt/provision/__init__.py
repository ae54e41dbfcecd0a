"""Provisioning: the domain operations behind templates, spaces, snapshots, profiles and
exposers, in plain Python over :mod:`gpfskit.api` and :mod:`gpfskit.policy`.

* :mod:`.profiles` - pools, ILM steps and placement controls in the placement policy,
  ``ensure_default_placement_rules`` (``adminctl policy install default``);
* :mod:`.templates` - capturing a model tree into the template store, laying it out;
* :mod:`.spaces` - creating, resizing and deleting spaces, with an undo log;
* :mod:`.snapshots` - space (fileset) and file-system snapshots;
* :mod:`.exposers` - NFS exports and SMB shares with their configuration fragments;
* :mod:`.undo` - the undo log that rolls a half-done operation back;
* :mod:`.names`, :mod:`.errors` - input checks and the errors operations raise.

Every operation is safe under the Runner's dry run: it then changes nothing (no command runs,
no file is written) and its result carries the admin commands it would have run, in order.
"""
