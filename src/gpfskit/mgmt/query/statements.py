"""Statements kept by query shape (:attr:`CollectionQuery.shape`).

Building a SELECT and its SQLAlchemy cache key costs about five times executing it: a
statement built once per shape, then run with each request's own values, skips both
(SQLAlchemy remembers the key on the statement object). The shapes are few (a client's
queries differ in their values far more than in their form); the least recently used go
first past ``size``.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any


class StatementCache:
    def __init__(self, size: int = 512) -> None:
        self.size = size
        self._items: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, build: Callable[[], Any]) -> Any:
        """The statement kept for ``key``, built with ``build()`` the first time."""
        with self._lock:
            statement = self._items.get(key)
            if statement is not None:
                self._items.move_to_end(key)
                return statement
        statement = build()
        with self._lock:
            self._items[key] = statement
            if len(self._items) > self.size:
                self._items.popitem(last=False)
        return statement
