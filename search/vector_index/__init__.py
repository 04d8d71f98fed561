"""The vector index: one process-wide instance chosen by ``settings.VECTOR_BACKEND``.

``"embedded"`` (the default): the Qdrant engine in-process under ``VECTOR_PATH``; one
process owns it. ``"qdrant"``: a Qdrant server or cluster at ``QDRANT_URL`` (or qdrant-client's
local mode at ``QDRANT_PATH``, for tests).
"""

from __future__ import annotations

import atexit
import threading

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from .base import (
    NO_FILTER,
    PAYLOAD_INDEXES,
    CollectionNotFound,
    Hit,
    PointData,
    SearchFilter,
    SparseVec,
    VectorIndex,
    VectorStoreUnavailable,
)

__all__ = [
    "NO_FILTER",
    "PAYLOAD_INDEXES",
    "CollectionNotFound",
    "Hit",
    "PointData",
    "SearchFilter",
    "SparseVec",
    "VectorIndex",
    "VectorStoreUnavailable",
    "get_vector_index",
    "reset_vector_index",
]

_lock = threading.Lock()
_instance: VectorIndex | None = None
_atexit_registered = False


def get_vector_index() -> VectorIndex:
    """The process-wide vector index, created on first use from the settings."""
    global _instance, _atexit_registered
    instance = _instance
    if instance is not None:
        return instance
    with _lock:
        if _instance is None:
            _instance = _build()
            if not _atexit_registered:
                # Flush and close on a clean exit (a management command that loaded vectors),
                # so the next process starts without a write-ahead log to replay.
                atexit.register(reset_vector_index)
                _atexit_registered = True
        return _instance


def reset_vector_index() -> None:
    """Close and forget the instance (tests, or after changing the settings)."""
    global _instance
    with _lock:
        instance, _instance = _instance, None
    if instance is not None:
        instance.close()


def _build() -> VectorIndex:
    backend = settings.VECTOR_BACKEND
    if backend == "embedded":
        from .embedded import EdgeVectorIndex

        return EdgeVectorIndex(settings.VECTOR_PATH)
    if backend == "qdrant":
        from .qdrant import QdrantVectorIndex

        url = settings.QDRANT_URL or None
        path = None if url else (settings.QDRANT_PATH or None)
        if not url and not path:
            raise ImproperlyConfigured("VECTOR_BACKEND=qdrant needs QDRANT_URL (or QDRANT_PATH)")
        return QdrantVectorIndex(
            url=url,
            path=path,
            api_key=settings.QDRANT_API_KEY,
            shard_number=settings.QDRANT_SHARD_NUMBER,
            replication_factor=settings.QDRANT_REPLICATION_FACTOR,
            write_consistency=settings.QDRANT_WRITE_CONSISTENCY,
            timeout=settings.QDRANT_TIMEOUT,
        )
    raise ImproperlyConfigured(f"VECTOR_BACKEND must be 'embedded' or 'qdrant', not {backend!r}")
