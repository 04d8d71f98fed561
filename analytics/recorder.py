"""Recording searches off the request path: a bounded in-process queue, written in bulk.

The request thread only builds a small row and puts it on the queue (bench/analytics.py
measures what that adds to a search); a daemon thread per process writes what has gathered
every ANALYTICS_FLUSH_SECONDS in one INSERT. A full queue, or a failed write, drops searches
and counts them (``visual_search_analytics_events_total{outcome="dropped"}``): a search is
never failed or slowed by its own recording. Searches still queued when a process is killed
are lost; that is the price of staying off the request path, and /metrics shows the drops.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
from collections.abc import Callable

from django.conf import settings
from django.db import DatabaseError, close_old_connections, connection, transaction
from PIL import Image

from analytics import partitions
from analytics.fingerprint import dhash
from analytics.metrics import EVENTS
from analytics.models import SearchEvent
from catalog.models import Merchant

logger = logging.getLogger(__name__)

FLUSH_BATCH = 2000
# Photos waiting for their perceptual hash in the queue (a decoded photo is a few MB): past
# this many, the request thread hashes its own photo rather than hold more of them.
MAX_PENDING_PHOTOS = 32


class SearchRecorder:
    def __init__(self) -> None:
        self._queue: queue.Queue[SearchEvent] = queue.Queue(maxsize=settings.ANALYTICS_QUEUE_SIZE)
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._pid = 0
        self._flush_lock = threading.Lock()
        self._photos: dict[int, Image.Image] = {}
        self._pending_photos = 0
        # Tests and benches switch the thread off and flush by hand.
        self.background = True

    def submit(self, build: Callable[[], SearchEvent]) -> None:
        try:
            row = build()
            self._queue.put_nowait(row)
        except queue.Full:
            self._forget_photo(row)
            EVENTS.labels(kind="search", outcome="dropped").inc()
            return
        self._ensure_thread()

    def attach_photo(self, row: SearchEvent, photo: Image.Image) -> None:
        """Hash ``photo`` for ``row`` in the flush, or now when enough photos are waiting."""
        with self._lock:
            defer = self._pending_photos < MAX_PENDING_PHOTOS
            if defer:
                self._pending_photos += 1
        if defer:
            self._photos[id(row)] = photo
        else:
            row.photo_hash = dhash(photo)

    def _forget_photo(self, row: SearchEvent) -> Image.Image | None:
        photo = self._photos.pop(id(row), None)
        if photo is not None:
            with self._lock:
                self._pending_photos -= 1
        return photo

    def _hash_photos(self, rows: list[SearchEvent]) -> None:
        for row in rows:
            photo = self._forget_photo(row)
            if photo is not None:
                row.photo_hash = dhash(photo)

    def pending(self) -> int:
        return self._queue.qsize()

    def discard(self) -> None:
        while True:
            try:
                self._queue.get_nowait()
            except queue.Empty:
                break
        with self._lock:
            self._photos.clear()
            self._pending_photos = 0

    def flush(self) -> int:
        """Write every queued search now, in batches; returns how many were written."""
        written = 0
        with self._flush_lock:
            while True:
                rows: list[SearchEvent] = []
                while len(rows) < FLUSH_BATCH:
                    try:
                        rows.append(self._queue.get_nowait())
                    except queue.Empty:
                        break
                if not rows:
                    return written
                self._hash_photos(rows)
                try:
                    _insert(rows)
                except DatabaseError:
                    logger.exception("writing %d search events failed; dropped", len(rows))
                    EVENTS.labels(kind="search", outcome="dropped").inc(len(rows))
                    continue
                EVENTS.labels(kind="search", outcome="accepted").inc(len(rows))
                written += len(rows)

    def _ensure_thread(self) -> None:
        if not self.background:
            return
        # After a fork (gunicorn, Celery) the parent's thread does not exist in the child.
        if self._thread is not None and self._pid == os.getpid() and self._thread.is_alive():
            return
        with self._lock:
            if self._thread is not None and self._pid == os.getpid() and self._thread.is_alive():
                return
            self._pid = os.getpid()
            self._thread = threading.Thread(
                target=self._run, name="analytics-recorder", daemon=True
            )
            self._thread.start()

    def _run(self) -> None:
        stop = threading.Event()
        while not stop.wait(settings.ANALYTICS_FLUSH_SECONDS):
            if self._queue.empty():
                continue
            try:
                close_old_connections()
                self.flush()
            except Exception:  # the thread must outlive any one bad write
                logger.exception("search analytics flush failed")
            finally:
                # No idle connection is held between flushes.
                connection.close()


def _add_filtered_merchants(rows: list[SearchEvent]) -> None:
    """A search narrowed to one merchant belongs to that merchant's figures even when it
    found nothing (the filter names it by slug; one query per flush resolves them)."""
    slugs = {row.filters["merchant"] for row in rows if row.filters.get("merchant")}
    if not slugs:
        return
    ids = dict(Merchant.objects.filter(slug__in=slugs).values_list("slug", "pk"))
    for row in rows:
        merchant_id = ids.get(row.filters.get("merchant") or "")
        if merchant_id is not None and merchant_id not in row.merchant_ids:
            row.merchant_ids = sorted([*row.merchant_ids, merchant_id])


def _insert(rows: list[SearchEvent]) -> None:
    _add_filtered_merchants(rows)
    try:
        with transaction.atomic():
            SearchEvent.objects.bulk_create(rows)
    except DatabaseError as exc:
        # No partition for the day yet (beat late or down): create it and try once more.
        if "no partition" not in str(exc):
            raise
        days = sorted({row.created_at.date() for row in rows})
        partitions.partitions_ensure(start=days[0], days=(days[-1] - days[0]).days + 1)
        SearchEvent.objects.bulk_create(rows)


recorder = SearchRecorder()
