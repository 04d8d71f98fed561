"""Uploads that arrive one by one are embedded in batches: a worker claims up to
EMBED_BATCH_SIZE images from the outbox, waiting a little for more, and two workers never take
the same image. Real PostgreSQL connections per thread (row locks, SKIP LOCKED)."""

import threading

import pytest
from django.db import connection

from catalog import services
from catalog.models import ProductImage
from search.index import outbox
from search.models import IndexChange
from tests.factories import MerchantFactory, jpeg_bytes

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def uploads(clip_settings, monkeypatch):
    """Image uploads whose fast-path task never runs: their work waits in the outbox for the
    workers of the test."""
    from workers.receivers import FAST_PATH

    monkeypatch.setattr(FAST_PATH, "allows", lambda: False)
    clip_settings.EMBED_BATCH_SIZE = 4
    product = services.product_create(
        merchant=MerchantFactory(), sku="BATCH-1", title="Batch lamp", price="20.00"
    )
    count = iter(range(1000))

    def upload() -> int:
        colour = (next(count) * 23 % 256, 60, 120)
        return services.product_image_create(product=product, data=jpeg_bytes(colour=colour)).pk

    return upload


@pytest.fixture
def batches(monkeypatch):
    """Every batch of image work applied, in order: (thread name, image ids)."""
    applied: list[tuple[str, list[int]]] = []
    lock = threading.Lock()
    apply = outbox.apply

    def recording(kind, entity_ids):
        with lock:
            applied.append((threading.current_thread().name, list(entity_ids)))
        apply(kind, entity_ids)

    monkeypatch.setattr(outbox, "apply", recording)
    return applied


def _worker(errors: list[BaseException], **kwargs) -> None:
    try:
        while outbox.process(outbox.Kind.IMAGE, limit=4, fill=True, **kwargs):
            pass
    except BaseException as exc:  # noqa: BLE001 - reported by the test
        errors.append(exc)
    finally:
        connection.close()


def test_two_workers_never_take_the_same_image(uploads, batches):
    # given a burst of uploads waiting in the outbox
    image_ids = sorted(uploads() for _ in range(10))

    # when two workers take batches at the same time, each waiting a little to fill them
    errors: list[BaseException] = []
    workers = [
        threading.Thread(target=_worker, args=(errors,), kwargs={"wait": 0.2}, name=f"w{n}")
        for n in range(2)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(120)

    # then every image was embedded once, in batches of at most EMBED_BATCH_SIZE
    assert errors == []
    taken = [image_id for _, ids in batches for image_id in ids]
    assert sorted(taken) == image_ids
    assert max(len(ids) for _, ids in batches) == 4
    assert not IndexChange.objects.filter(kind=outbox.Kind.IMAGE).exists()
    statuses = set(ProductImage.objects.values_list("status", flat=True))
    assert statuses == {ProductImage.Status.INDEXED}


def test_a_burst_arriving_one_by_one_is_embedded_as_one_batch(uploads, batches):
    # given one upload, and a worker that takes its work with a batch wait
    first = uploads()
    errors: list[BaseException] = []
    worker = threading.Thread(target=lambda: _one_batch(errors, first), name="worker", daemon=True)
    worker.start()

    # when three more uploads arrive while it waits
    later = [uploads() for _ in range(3)]
    worker.join(60)

    # then the four images went to the model together, the first one's own task's batch
    assert errors == []
    assert batches[0] == ("worker", [first, *later])
    assert not IndexChange.objects.filter(kind=outbox.Kind.IMAGE).exists()


def _one_batch(errors: list[BaseException], image_id: int) -> None:
    try:
        # The wait only runs out if fewer than four arrive: a full batch goes at once.
        outbox.process(outbox.Kind.IMAGE, entity_ids=[image_id], limit=4, fill=True, wait=30)
    except BaseException as exc:  # noqa: BLE001 - reported by the test
        errors.append(exc)
    finally:
        connection.close()


def test_a_lone_upload_goes_through_after_the_wait(uploads, batches):
    # given one upload, when a worker takes its work with a batch wait
    image_id = uploads()
    applied = outbox.process(outbox.Kind.IMAGE, entity_ids=[image_id], limit=4, fill=True, wait=0.1)

    # then it is embedded alone once the wait is over
    assert applied == 1
    assert batches == [("MainThread", [image_id])]
    assert ProductImage.objects.get(pk=image_id).status == ProductImage.Status.INDEXED
