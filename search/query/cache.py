"""A bounded, thread-safe, in-process cache of query embeddings.

Shoppers repeat queries ("black dress", "sneakers"); encoding one costs milliseconds of CPU
that a dictionary lookup does not.
"""

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable

import numpy as np


class EmbeddingCache:
    def __init__(self, max_entries: int) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[Hashable, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get_or_compute(self, key: Hashable, compute: Callable[[], np.ndarray]) -> np.ndarray:
        with self._lock:
            cached = self._entries.get(key)
            if cached is not None:
                self._entries.move_to_end(key)
                self.hits += 1
                return cached
            self.misses += 1
        value = compute()  # outside the lock: encoding may take a while
        value.setflags(write=False)  # shared between requests: nobody may change it
        with self._lock:
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
        return value

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self.hits = self.misses = 0

    def __len__(self) -> int:
        return len(self._entries)
