"""The indexing pipeline with a real Celery worker consuming from the real Redis.

The worker runs in a thread of the test process (celery.contrib.testing), because the vector
store backends used in tests belong to one process, like SQLite files.
"""

import io
import threading
import time

import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings as django_settings
from django.core.files.storage import default_storage
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from catalog.models import ProductImage
from config.celery import app as celery_app
from search.index import generations
from search.index import sync as indexing
from search.vector_index import get_vector_index
from tests.factories import ProductFactory, jpeg_bytes, merchant_with_owner

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def worker(clip_settings, settings):
    """A real worker on the default and embedding queues, against the broker in settings."""
    settings.CELERY_TASK_ALWAYS_EAGER = False
    celery_app.conf.task_always_eager = False
    celery_app.conf.broker_url = django_settings.CELERY_BROKER_URL
    # Quick retries in tests: the outbox's back-off (2 s, 4 s, ...) decides when work is due.
    settings.INDEX_OUTBOX_MAX_BACKOFF_SECONDS = 0.5
    with celery_app.connection_for_write() as connection:
        connection.default_channel.client.flushdb()
    with start_worker(
        celery_app,
        pool="threads",
        concurrency=1,
        perform_ping_check=False,
        queues=["default", django_settings.EMBEDDING_QUEUE],
        shutdown_timeout=30,
    ) as running:
        yield running
    celery_app.conf.task_always_eager = True


def wait_for(condition, timeout=60.0, interval=0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError("condition not met in time")


def image_point(image: ProductImage):
    collection, encoder = generations.live_images()
    found = get_vector_index().retrieve(
        collection, [indexing.image_point_id(image.pk, encoder.model_key)]
    )
    return found[0][1] if found else None


@pytest.fixture
def merchant_client():
    merchant, user = merchant_with_owner(name="Harbour")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")
    return merchant, client


def upload(client, product, data):
    file = io.BytesIO(data)
    file.name = "photo.jpg"
    response = client.post(
        f"/api/v1/merchant/products/{product.pk}/images/", {"image": file}, format="multipart"
    )
    assert response.status_code == 201, response.content
    return ProductImage.objects.get(pk=response.json()["id"])


def status_of(image: ProductImage) -> str:
    image.refresh_from_db()
    return image.status


def test_upload_is_indexed_and_follows_the_catalogue(worker, merchant_client):
    merchant, client = merchant_client
    product = ProductFactory(merchant=merchant, price="80.00", category="jackets", brand="Acme")

    # Upload through the API: the worker embeds it and writes the point.
    image = upload(client, product, jpeg_bytes())
    wait_for(lambda: status_of(image) == "indexed")
    payload = image_point(image)
    assert payload["product_id"] == product.pk
    assert payload["image_id"] == image.pk
    assert payload["merchant"] == merchant.slug
    assert (
        payload["price"],
        payload["category"],
        payload["brand"],
        payload["in_stock"],
        payload["active"],
    ) == (80.0, "jackets", "Acme", True, True)
    assert payload["model_revision"] == image.model_revision

    # A price change reaches the payload without re-embedding.
    embedded_at = image.indexed_at
    assert (
        client.patch(
            f"/api/v1/merchant/products/{product.pk}/",
            {"price": "59.00", "in_stock": False},
            format="json",
        ).status_code
        == 200
    )
    wait_for(lambda: image_point(image)["price"] == 59.0)
    assert image_point(image)["in_stock"] is False
    image.refresh_from_db()
    assert image.indexed_at == embedded_at

    # Deleting the image removes its point.
    assert (
        client.delete(f"/api/v1/merchant/products/{product.pk}/images/{image.pk}/").status_code
        == 204
    )
    wait_for(lambda: image_point(image) is None)


def test_product_delete_removes_its_points(worker, merchant_client):
    merchant, client = merchant_client
    product = ProductFactory(merchant=merchant)
    image = upload(client, product, jpeg_bytes())
    wait_for(lambda: status_of(image) == "indexed")
    assert client.delete(f"/api/v1/merchant/products/{product.pk}/").status_code == 204
    wait_for(lambda: image_point(image) is None)


def test_the_same_work_twice_leaves_one_point(worker, merchant_client, monkeypatch):
    from search.index import outbox
    from search.vector_index.base import SearchFilter
    from workers.tasks import apply_index_changes

    merchant, client = merchant_client
    image = upload(client, ProductFactory(merchant=merchant), jpeg_bytes())
    wait_for(lambda: status_of(image) == "indexed")
    runs = []
    real_index_images = indexing.index_images
    monkeypatch.setattr(
        indexing, "index_images", lambda *a, **kw: runs.append(1) or real_index_images(*a, **kw)
    )

    # At least once: work whose completion was lost (its worker died after the upsert) is
    # recorded and applied again.
    for _ in range(2):
        outbox.record(outbox.Kind.IMAGE, [image.pk])
        apply_index_changes.delay(kind=outbox.Kind.IMAGE, entity_ids=[image.pk])
        wait_for(lambda: not outbox.status().depth)
    wait_for(lambda: len(runs) == 2)
    time.sleep(0.3)  # let the second upsert land
    collection, _ = generations.live_images()
    assert get_vector_index().count(collection, SearchFilter()) == 1


def test_storage_read_failing_twice_then_succeeding_ends_indexed(
    worker, merchant_client, monkeypatch
):
    merchant, client = merchant_client
    product = ProductFactory(merchant=merchant)
    failures = {"left": 2}
    lock = threading.Lock()
    default_storage.exists("")  # make sure the lazy storage is set up
    storage_class = type(default_storage._wrapped)
    real_open = storage_class.open

    def flaky_open(self, name, mode="rb"):
        if "r" in mode:
            with lock:
                if failures["left"] > 0:
                    failures["left"] -= 1
                    raise OSError("storage is briefly unreachable")
        return real_open(self, name, mode)

    monkeypatch.setattr(storage_class, "open", flaky_open)
    image = upload(client, product, jpeg_bytes())
    wait_for(lambda: status_of(image) == "indexed")
    assert failures["left"] == 0


def test_an_unreadable_file_ends_failed_with_a_reason(worker, merchant_client):
    merchant, client = merchant_client
    product = ProductFactory(merchant=merchant)
    image = upload(client, product, jpeg_bytes())
    wait_for(lambda: status_of(image) == "indexed")
    # The stored bytes get damaged (a bad copy, a disk fault): re-indexing cannot decode them.
    with default_storage.open(image.file.name, "wb") as handle:
        handle.write(b"\x00garbage, not an image")
    from search.models import ImageEmbedding

    ImageEmbedding.objects.filter(image=image).delete()
    from catalog import services

    services.products_reindex_request(product_ids=[product.pk])
    wait_for(lambda: status_of(image) == "failed")
    image.refresh_from_db()
    assert "could not be decoded" in image.failure_reason
