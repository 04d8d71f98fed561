"""Which variant a visitor sees: stable by hash, so a visitor keeps one ranking for the whole
experiment (in every process, with no stored assignment), and independent between
experiments (the experiment's id is part of the hash).

bucket = int(sha256("<experiment id>:<visitor id>")[:8 bytes]) mod 10,000; variants own
consecutive ranges of buckets in proportion to their shares (in percent), control first.
"""

import hashlib
from collections.abc import Sequence
from typing import Protocol, TypeVar

BUCKETS = 10_000


class Shared(Protocol):
    @property
    def share(self) -> int: ...


V = TypeVar("V", bound=Shared)


def bucket(experiment_id: int, visitor_id: str) -> int:
    digest = hashlib.sha256(f"{experiment_id}:{visitor_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % BUCKETS


def assign(experiment_id: int, visitor_id: str, variants: Sequence[V]) -> V:
    """The visitor's variant; visitors without an id get the control (``variants[0]``)."""
    if not visitor_id:
        return variants[0]
    point = bucket(experiment_id, visitor_id)
    edge = 0
    for variant in variants:
        edge += variant.share * BUCKETS // 100
        if point < edge:
            return variant
    return variants[-1]  # shares that add to less than 100 leave the rest to the last
