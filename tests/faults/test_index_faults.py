"""Every catalogue change reaches the search index, whatever fails (search/index/outbox.py).

Each scenario breaks one part while merchants keep writing, then checks that every write
answered 2xx, that the index converges once the part is back (outbox empty, no image
pending) and that PostgreSQL and the vector index then agree: no difference, no failed image,
exactly one point per image and per product. The convergence times are printed.
"""

from __future__ import annotations

import io
import json
import time

import pytest
from django.db import connection
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from catalog.models import Product, ProductImage
from search.index import generations
from search.index.consistency import index_status
from search.index.documents import image_point_id, product_point_id
from search.models import IndexChange
from search.vector_index import get_vector_index, reset_vector_index
from tests.factories import jpeg_bytes, merchant_with_owner
from tests.faults.conftest import LEASE_SECONDS, free_port, outstanding, wait_until_converged

pytestmark = [
    pytest.mark.fault,
    pytest.mark.worker,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
]


class Merchant:
    """A merchant's API client that asserts every write answered 2xx."""

    def __init__(self) -> None:
        merchant, user = merchant_with_owner(name="Harbour")
        self.client = APIClient()
        token = Token.objects.get_or_create(user=user)[0].key
        self.client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        self.statuses: list[int] = []
        self._skus = 0

    def _check(self, response):
        self.statuses.append(response.status_code)
        assert response.status_code < 300, response.content
        return response

    def create(self, price: str = "40.00") -> int:
        self._skus += 1
        body = {"sku": f"SKU-{self._skus}", "title": f"Canvas bag {self._skus}", "price": price}
        return self._check(
            self.client.post("/api/v1/merchant/products/", body, format="json")
        ).json()["id"]

    def upload(self, product_id: int, shade: int) -> int:
        file = io.BytesIO(jpeg_bytes(colour=(shade % 256, (shade * 7) % 256, 90)))
        file.name = "photo.jpg"
        url = f"/api/v1/merchant/products/{product_id}/images/"
        return self._check(self.client.post(url, {"image": file}, format="multipart")).json()["id"]

    def update(self, product_id: int, **fields) -> None:
        self._check(
            self.client.patch(f"/api/v1/merchant/products/{product_id}/", fields, format="json")
        )

    def delete(self, product_id: int) -> None:
        self._check(self.client.delete(f"/api/v1/merchant/products/{product_id}/"))


def index_after_workers_stopped(workers):
    """Stop the workers (they own the local-mode store), then compare PostgreSQL and the index."""
    workers.stop_all()
    reset_vector_index()
    generations.reset()
    return index_status()


def assert_index_equals_catalogue(status) -> None:
    assert status.differences == 0, status
    assert status.image_counts["failed"] == 0
    assert status.image_counts["pending"] == 0
    assert status.image_points == ProductImage.objects.count()  # one point per image
    assert status.product_points == Product.objects.count()  # and per product
    assert status.outbox is not None and status.outbox.depth == 0


def payload_of(point_id: str, alias: str) -> dict:
    found = get_vector_index().retrieve(alias, [point_id])
    assert found, f"no point {point_id}"
    return found[0][1]


def test_writes_while_the_broker_is_down_answer_2xx_and_reach_the_index(workers, redis_server):
    workers.start()
    merchant = Merchant()
    kept, doomed, edited = (merchant.create() for _ in range(3))
    for number, product_id in enumerate((kept, doomed, edited)):
        merchant.upload(product_id, number)
    wait_until_converged(workers)

    redis_server.stop()
    added = merchant.create(price="15.00")
    merchant.upload(added, 40)
    merchant.upload(kept, 41)
    merchant.update(edited, price="12.50", in_stock=False)
    merchant.delete(doomed)
    assert outstanding() > 0  # recorded, waiting for the broker
    assert ProductImage.objects.filter(product_id=added).get().status == "pending"

    redis_server.start()
    seconds = wait_until_converged(workers)
    print(f"converged {seconds:.1f} s after the broker came back")

    status = index_after_workers_stopped(workers)
    assert_index_equals_catalogue(status)
    edited_point = payload_of(
        product_point_id(edited, generations.live_products()[1].model_key),
        generations.products_alias(),
    )
    assert (edited_point["price"], edited_point["in_stock"]) == (12.5, False)
    assert not Product.objects.filter(pk=doomed).exists()
    assert all(code < 500 for code in merchant.statuses)


def test_a_worker_killed_mid_batch_again_and_again_loses_nothing(workers):
    worker = workers.start()
    merchant = Merchant()
    for number in range(24):
        merchant.upload(merchant.create(), number)

    for _ in range(3):
        indexed_before = ProductImage.objects.filter(status="indexed").count()
        deadline = time.monotonic() + 60
        while (
            ProductImage.objects.filter(status="indexed").count() == indexed_before
            and time.monotonic() < deadline
        ):
            time.sleep(0.05)
        workers.kill(worker)  # SIGKILL: no clean-up, claims left behind
        worker = workers.start()

    seconds = wait_until_converged(workers)
    print(f"converged {seconds:.1f} s after the last SIGKILL (lease {LEASE_SECONDS} s)")
    status = index_after_workers_stopped(workers)
    assert_index_equals_catalogue(status)
    assert status.image_counts["indexed"] == 24


def test_changes_while_the_vector_store_is_unreachable_arrive_once_it_is_back(workers):
    # The worker's Qdrant is a port where nothing answers: every write to it fails.
    unreachable = workers.start(QDRANT_URL=f"http://127.0.0.1:{free_port()}", QDRANT_PATH="")
    merchant = Merchant()
    product = merchant.create()
    merchant.upload(product, 1)
    merchant.update(product, price="99.00")
    other = merchant.create()
    merchant.upload(other, 2)
    deadline = time.monotonic() + 60
    while not IndexChange.objects.exclude(last_error="").exists():
        assert time.monotonic() < deadline, workers.tail()
        time.sleep(0.2)
    assert "VectorStoreUnavailable" in IndexChange.objects.exclude(last_error="").first().last_error

    workers.stop(unreachable)
    workers.start()  # the vector store is back
    seconds = wait_until_converged(workers)
    print(f"converged {seconds:.1f} s after the vector store came back")
    status = index_after_workers_stopped(workers)
    assert_index_equals_catalogue(status)
    price = payload_of(
        image_point_id(
            ProductImage.objects.get(product_id=product).pk,
            generations.live_images()[1].model_key,
        ),
        generations.images_alias(),
    )["price"]
    assert price == 99.0


def test_two_updates_whose_tasks_run_in_the_opposite_order_end_with_the_later_values(
    workers, redis_server, fault_env
):
    merchant = Merchant()
    product = merchant.create(price="10.00")
    merchant.upload(product, 3)
    merchant.update(product, price="20.00", in_stock=True)
    merchant.update(product, price="30.00", in_stock=False)

    # No worker yet: the tasks wait in the queue. Reverse them, so the oldest runs last.
    import redis

    queue = fault_env["EMBEDDING_QUEUE"]
    broker = redis.Redis.from_url(redis_server.url)
    messages = broker.lrange(queue, 0, -1)
    kinds = [json.loads(m)["headers"]["task"] for m in messages]
    assert kinds.count("workers.tasks.apply_index_changes") == len(messages) >= 3
    broker.delete(queue)
    broker.rpush(queue, *reversed(messages))

    workers.start()
    wait_until_converged(workers)
    status = index_after_workers_stopped(workers)
    assert_index_equals_catalogue(status)
    point = payload_of(
        product_point_id(product, generations.live_products()[1].model_key),
        generations.products_alias(),
    )
    assert (point["price"], point["in_stock"]) == (30.0, False)


def test_a_worker_whose_database_connections_are_dropped_recovers(workers):
    workers.start()
    merchant = Merchant()
    for number in range(12):
        merchant.upload(merchant.create(), number)
    dropped = 0
    deadline = time.monotonic() + 60
    while outstanding() and time.monotonic() < deadline and dropped < 5:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            dropped += cursor.fetchone()[0] > 0
        time.sleep(0.5)
    assert dropped, "no worker connection was open to drop"

    seconds = wait_until_converged(workers)
    print(f"converged {seconds:.1f} s after the last dropped connection")
    status = index_after_workers_stopped(workers)
    assert_index_equals_catalogue(status)
    assert status.image_counts["indexed"] == 12
