"""``arcapix.fs.gpfs.callbackable``: re-exports of ``gpfskit.api.callbacks``."""

from gpfskit.api.callbacks import (
    Callback,
    Callbacks,
    EventCallbacks,
    callbackable,
)

__all__ = ["Callback", "Callbacks", "EventCallbacks", "callbackable"]
