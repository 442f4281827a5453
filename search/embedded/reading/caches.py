"""A least-recently-used cache bounded in bytes, shared by threads.

Caches in a server must be bounded by what they hold, not by how many entries:
one cached term of a common word is megabytes, one of a rare word a few bytes.
Each cache belongs to one index snapshot and goes with it.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

V = TypeVar("V")


class ByteLRU(Generic[V]):
    """``get_or_make(key, make)``: the cached value or ``make()``'s, kept while the total ``cost`` fits."""

    def __init__(self, max_bytes: int, cost: Callable[[V], int]) -> None:
        self.max_bytes = max_bytes
        self.cost = cost
        self.bytes = 0
        self._lock = threading.Lock()
        self._items: OrderedDict[Hashable, V] = OrderedDict()

    def get_or_make(self, key: Hashable, make: Callable[[], V]) -> V:
        with self._lock:
            hit = self._items.get(key)
            if hit is not None:
                self._items.move_to_end(key)
                return hit
        value = make()  # outside the lock: other threads keep reading meanwhile
        cost = self.cost(value)
        if cost > self.max_bytes:
            return value  # larger than the whole cache: used once, not kept
        with self._lock:
            if key not in self._items:
                self._items[key] = value
                self.bytes += cost
            while self.bytes > self.max_bytes:
                _, old = self._items.popitem(last=False)
                self.bytes -= self.cost(old)
        return value

    def peek(self, key: Hashable) -> V | None:
        """The cached value, or None; never makes one."""
        with self._lock:
            return self._items.get(key)

    def __len__(self) -> int:
        return len(self._items)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self.bytes = 0


__all__ = ["ByteLRU"]
