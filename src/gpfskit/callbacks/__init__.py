"""Persistent Python event handlers: where they are stored and the driver that runs them.

A handler added through the API (``Cluster().callbacks.new(fn, 'mount')``,
``Filesystem(...).onMount.new(fn)``) is saved with cloudpickle in the callbacks directory
(``store``) and registered with ``mmaddcallback`` whose ``--command`` is the driver wrapper
in that directory and whose ``--parms`` start with the handler file. When the event happens the
cluster runs the wrapper, which runs ``python -m gpfskit.callbacks.driver`` (``driver``): it
checks the file, loads it, applies the object's scope filter and calls the handler.
"""
