"""The outbox of index work: every catalogue change reaches the vector index, whatever fails.

Why an outbox and not only tasks: a task enqueued after commit is lost when the broker is
down at that moment, when its worker dies before acknowledging, or when the vector store
refuses it and retries run out. Here the change itself writes a row (``IndexChange``) in the
same PostgreSQL transaction, through the catalogue's change signals, which its services send
inside their transactions. A task enqueued after commit is only the fast path; a relay (Celery
beat, every ``INDEX_RELAY_INTERVAL_SECONDS``) picks up whatever the fast path missed. A row is
deleted only after the vector store acknowledged the write.

The pattern is Saleor's ``search_index_dirty`` flag with a batch task, keyed per entity: a
row names a product or an image, not a change, so a burst of edits is one piece of work, and
the work reads the entity's row when it runs. Hence:

- at least once: a row stays until its work succeeded; a worker killed mid-batch leaves its
  rows claimed until the lease (``INDEX_OUTBOX_LEASE_SECONDS``) runs out, then the relay
  takes them again; points have deterministic ids, so doing work twice leaves one point;
- latest wins: work applies the state the row has when it runs; a change committed while the
  work ran bumps ``version``, so the row is not deleted and the work runs again;
- deletes are not lost: a deleted product's or image's row outlives it (the tombstone), and
  its work removes the points.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Case, Min, Q, When
from django.utils import timezone

from catalog import selectors as catalog_selectors
from config.metrics import INDEXING_OUTCOMES
from search.encoding.base import ModelUnavailable
from search.index import sync
from search.index.chunks import iter_chunks
from search.models import IndexChange

logger = logging.getLogger(__name__)

Kind = IndexChange.Kind
_RECORD_CHUNK = 500


# --- Recording (inside the catalogue change's transaction) ---------------------------------------


def record(kind: str, entity_ids: Iterable[int]) -> None:
    """Note that these products or images must be brought in line with PostgreSQL.

    One statement per 500 ids: a new row, or a version bump of the existing one that also
    makes it due now (a retry waiting out its back-off is taken at once: something changed).
    """
    ids = sorted({int(i) for i in entity_ids})
    if not ids:
        return
    table = connection.ops.quote_name(IndexChange._meta.db_table)
    now = timezone.now()
    for chunk in iter_chunks(ids, _RECORD_CHUNK):
        rows = ", ".join(["(%s, %s, 1, %s, %s, %s, '', 0, '')"] * len(chunk))
        params: list[Any] = []
        for entity_id in chunk:
            params += [kind, entity_id, now, now, now]
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} (kind, entity_id, version, created_at, updated_at, "  # noqa: S608 - the table name is ours, values are parameters
                f"available_at, claim_token, attempts, last_error) VALUES {rows} "
                f"ON CONFLICT (kind, entity_id) DO UPDATE SET version = {table}.version + 1, "
                "updated_at = EXCLUDED.updated_at, available_at = EXCLUDED.available_at",
                params,
            )


# --- Claiming and applying (workers) --------------------------------------------------------------


@dataclass
class Claim:
    kind: str
    token: str
    versions: dict[int, tuple[int, int]]  # entity id -> (row id, version seen)

    @property
    def entity_ids(self) -> list[int]:
        return sorted(self.versions)


@dataclass
class RelayReport:
    applied: dict[str, int] = field(default_factory=lambda: {Kind.PRODUCT: 0, Kind.IMAGE: 0})
    failed: int = 0


def claim(
    kind: str,
    *,
    entity_ids: Iterable[int] | None = None,
    limit: int,
    fill: bool = False,
    token: str | None = None,
) -> Claim | None:
    """Lease up to ``limit`` due, unclaimed rows of one kind: the named ones (and with
    ``fill``, the oldest others after them, up to ``limit``), or the oldest.

    ``fill`` batches what arrives one by one: a burst of single uploads, each with its own
    fast-path task, is embedded in batches by the first tasks; the later ones find their
    rows done and return.

    Two workers never hold the same row: the rows are locked while being leased
    (``SKIP LOCKED`` where the database has it) and a leased row is skipped until its lease
    runs out, which it does only when its worker died. ``token`` extends an earlier claim
    (``top_up``) instead of starting a new one.
    """
    now = timezone.now()
    due = IndexChange.objects.filter(kind=kind, available_at__lte=now).filter(
        Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)
    )
    order: list[Any] = ["id"]
    if entity_ids is not None:
        named = list(entity_ids)
        if fill:
            order = [Case(When(entity_id__in=named, then=0), default=1), "id"]
        else:
            due = due.filter(entity_id__in=named)
    token = token or uuid.uuid4().hex
    with transaction.atomic():
        if connection.features.has_select_for_update_skip_locked:
            due = due.select_for_update(skip_locked=True)
        rows = list(due.order_by(*order).only("id", "entity_id", "version")[:limit])
        if not rows:
            return None
        lease = timedelta(seconds=settings.INDEX_OUTBOX_LEASE_SECONDS)
        IndexChange.objects.filter(pk__in=[row.pk for row in rows]).update(
            claimed_until=now + lease, claim_token=token
        )
    return Claim(kind, token, {row.entity_id: (row.pk, row.version) for row in rows})


def top_up(claimed: Claim, *, limit: int, wait: float) -> Claim:
    """Wait up to ``wait`` seconds for more due work of the claim's kind, adding it to the
    claim until it holds ``limit`` rows.

    Uploads arrive one by one, each with its own fast-path task: without a wait the first
    task finds only its own image and the model runs at batch 1. A short wait lets the rows
    of the uploads right behind it commit, so a burst is embedded at the batch speed
    (bench/ingest.py) while a lone upload waits only ``wait`` longer.
    """
    deadline = time.monotonic() + wait
    step = max(0.01, min(0.05, wait / 5))
    while len(claimed.versions) < limit:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        time.sleep(min(step, left))
        more = claim(claimed.kind, limit=limit - len(claimed.versions), token=claimed.token)
        if more is not None:
            claimed.versions.update(more.versions)
    return claimed


def complete(claim: Claim) -> int:
    """Delete the rows whose work is done; rows changed meanwhile stay, due at once.
    Returns how many stayed."""
    unchanged = Q(pk__in=[])
    for row_id, version in claim.versions.values():
        unchanged |= Q(pk=row_id, version=version)
    IndexChange.objects.filter(unchanged, claim_token=claim.token).delete()
    return IndexChange.objects.filter(
        pk__in=[row_id for row_id, _ in claim.versions.values()], claim_token=claim.token
    ).update(claimed_until=None, claim_token="", attempts=0, last_error="")


class RetryLater(Exception):
    """Work given back to the outbox after a failure; due again in ``delay`` seconds. The
    failure is the ``__cause__``."""

    def __init__(self, kind: str, entity_ids: list[int], delay: float) -> None:
        super().__init__(f"{kind} work {entity_ids} failed; due again in {delay:.0f} s")
        self.delay = delay


def release(claim: Claim, *, error: BaseException, retry_in: float | None = None) -> float:
    """Give the rows back after a failure, due again after a back-off that grows per attempt;
    returns the back-off in seconds."""
    row_ids = [row_id for row_id, _ in claim.versions.values()]
    attempts = (
        IndexChange.objects.filter(pk__in=row_ids).aggregate(n=Min("attempts"))["n"] or 0
    ) + 1
    cap = settings.INDEX_OUTBOX_MAX_BACKOFF_SECONDS
    delay = min(cap, retry_in if retry_in is not None else 2.0**attempts)
    IndexChange.objects.filter(pk__in=row_ids, claim_token=claim.token).update(
        claimed_until=None,
        claim_token="",
        attempts=attempts,
        available_at=timezone.now() + timedelta(seconds=delay),
        last_error=f"{type(error).__name__}: {error}"[:1000],
    )
    return delay


def apply(kind: str, entity_ids: list[int]) -> None:
    """Bring the points of these products or images in line with their rows now (or delete
    them when the row is gone). Raises what the vector store, storage or the model raise."""
    if kind == Kind.IMAGE:
        present = catalog_selectors.product_image_ids_existing(image_ids=entity_ids)
        if present:
            report = sync.index_images(sorted(present))
            INDEXING_OUTCOMES.labels(outcome="indexed").inc(
                len(report.indexed) + len(report.reused)
            )
            INDEXING_OUTCOMES.labels(outcome="failed").inc(len(report.failed))
        for image_id in sorted(set(entity_ids) - present):
            sync.delete_image_points(image_id=image_id)
        return
    present = catalog_selectors.product_ids_existing(product_ids=entity_ids)
    if present:
        sync.index_products(sorted(present))
        for product_id in sorted(present):
            sync.sync_product_payload(product_id=product_id)
    for product_id in sorted(set(entity_ids) - present):
        sync.delete_product_points(product_id=product_id)


def process(
    kind: str,
    *,
    entity_ids: Iterable[int] | None = None,
    limit: int,
    fill: bool = False,
    wait: float = 0.0,
) -> int:
    """Claim, apply and complete one batch; returns how many entities were applied (0 when
    nothing was due). With ``wait``, a batch short of ``limit`` waits that many seconds at
    most for more work to fill it (``top_up``). A failure gives the batch back with a
    back-off and raises RetryLater from it."""
    claimed = claim(kind, entity_ids=entity_ids, limit=limit, fill=fill)
    if claimed is None:
        return 0
    if wait > 0:
        claimed = top_up(claimed, limit=limit, wait=wait)
    try:
        apply(kind, claimed.entity_ids)
    except ModelUnavailable as exc:
        # Not the entity's fault and not a hiccup: look again in a minute, not in a second.
        delay = release(claimed, error=exc, retry_in=60)
        raise RetryLater(kind, claimed.entity_ids, delay) from exc
    except Exception as exc:
        delay = release(claimed, error=exc)
        raise RetryLater(kind, claimed.entity_ids, delay) from exc
    complete(claimed)
    return len(claimed.versions)


def batch_size(kind: str) -> int:
    return settings.EMBED_BATCH_SIZE if kind == Kind.IMAGE else 256


def batch_wait(kind: str) -> float:
    """Seconds a short batch of this kind waits to fill: images only (the model batches)."""
    return settings.EMBED_BATCH_WAIT_MS / 1000 if kind == Kind.IMAGE else 0.0


def relay(*, seconds: float) -> RelayReport:
    """Apply due work of every kind, batch after batch, for about ``seconds``. A failing
    batch is given back (with its back-off) and the relay goes on with the others."""
    report = RelayReport()
    stop_at = time.monotonic() + seconds
    for kind in (Kind.PRODUCT, Kind.IMAGE):
        while time.monotonic() < stop_at:
            try:
                applied = process(kind, limit=batch_size(kind))
            except Exception:
                logger.warning("index work on %ss failed; retried later", kind, exc_info=True)
                report.failed += 1
                break
            if not applied:
                break
            report.applied[kind] += applied
    return report


# --- Status --------------------------------------------------------------------------------------


@dataclass
class OutboxStatus:
    depth: int
    oldest_age_seconds: float
    failing: int  # rows whose last attempt failed


def status() -> OutboxStatus:
    stats = IndexChange.objects.aggregate(oldest=Min("created_at"))
    depth = IndexChange.objects.count()
    oldest = stats["oldest"]
    age = (timezone.now() - oldest).total_seconds() if oldest else 0.0
    failing = IndexChange.objects.exclude(last_error="").count()
    return OutboxStatus(depth=depth, oldest_age_seconds=max(0.0, age), failing=failing)


class OutboxCollector:
    """``/metrics``: outstanding index work and the age of the oldest, read at scrape time."""

    FAMILIES = (
        ("depth", "Products and images whose index work is outstanding (the outbox)."),
        (
            "oldest_age_seconds",
            "Age of the oldest outstanding change: how far the index lags the catalogue.",
        ),
        ("failing", "Outstanding work whose last attempt failed (waiting out a back-off)."),
    )

    def describe(self) -> Iterable[Any]:
        # Names only: registering a collector must not query the database.
        return [self._family(name, text) for name, text in self.FAMILIES]

    def collect(self) -> Iterable[Any]:
        try:
            current = status()
        except Exception as exc:  # noqa: BLE001 - a scrape answers whatever the database does
            logger.warning("metrics: cannot read the index outbox: %s", exc)
            return
        for name, text in self.FAMILIES:
            family = self._family(name, text)
            family.add_metric([], float(getattr(current, name)))
            yield family

    @staticmethod
    def _family(name: str, text: str) -> Any:
        from prometheus_client.core import GaugeMetricFamily

        return GaugeMetricFamily(f"visual_search_index_outbox_{name}", text, labels=[])


COLLECTOR = OutboxCollector()


# --- The catalogue's change signals, recorded in the change's own transaction --------------------


def connect_catalog_signals() -> None:
    from catalog import signals
    from catalog.services import INDEXED_PRODUCT_FIELDS, TEXT_PRODUCT_FIELDS

    def product_changed(sender, product_id: int, changed_fields: frozenset, **kwargs) -> None:
        if changed_fields & (TEXT_PRODUCT_FIELDS | INDEXED_PRODUCT_FIELDS):
            record(Kind.PRODUCT, [product_id])

    def product_deleted(sender, product_id: int, **kwargs) -> None:
        record(Kind.PRODUCT, [product_id])

    def image_changed(sender, image_id: int, **kwargs) -> None:
        record(Kind.IMAGE, [image_id])

    def images_reindex_requested(sender, image_ids: list[int], **kwargs) -> None:
        record(Kind.IMAGE, image_ids)

    # weak=False: these receivers are closures of this call; held weakly (the default) they
    # died at the next garbage collection, and the web process (config.wsgi) recorded no index
    # work for uploads at all (found by bench/ingest.py).
    uid = "search.index.outbox"
    signals.product_changed.connect(
        product_changed, weak=False, dispatch_uid=f"{uid}.product_changed"
    )
    signals.product_deleted.connect(
        product_deleted, weak=False, dispatch_uid=f"{uid}.product_deleted"
    )
    signals.image_added.connect(image_changed, weak=False, dispatch_uid=f"{uid}.image_added")
    signals.image_deleted.connect(image_changed, weak=False, dispatch_uid=f"{uid}.image_deleted")
    signals.images_reindex_requested.connect(
        images_reindex_requested, weak=False, dispatch_uid=f"{uid}.images_reindex_requested"
    )
