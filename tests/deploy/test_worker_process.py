"""A separate Celery worker process, as deployed: it consumes only the embedding queue from the
real Redis and indexes an upload into the Qdrant (server) backend."""

import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import connection
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from catalog.models import ProductImage
from config.celery import app as celery_app
from search.index import generations
from search.index import sync as indexing
from search.vector_index import get_vector_index, reset_vector_index
from tests.factories import ProductFactory, jpeg_bytes, merchant_with_owner

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def embedding_worker(clip_settings, settings, tmp_path):
    settings.VECTOR_BACKEND = "qdrant"
    settings.QDRANT_URL = ""
    settings.QDRANT_PATH = str(tmp_path / "qdrant")
    settings.CELERY_TASK_ALWAYS_EAGER = False
    celery_app.conf.task_always_eager = False
    celery_app.conf.broker_url = django_settings.CELERY_BROKER_URL
    with celery_app.connection_for_write() as conn:
        conn.default_channel.client.flushdb()
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        "REDIS_URL": django_settings.CELERY_BROKER_URL,
        "CELERY_BROKER_URL": django_settings.CELERY_BROKER_URL,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "VECTOR_BACKEND": "qdrant",
        "QDRANT_PATH": settings.QDRANT_PATH,
        "QDRANT_URL": "",
        "CLIP_MODEL": settings.CLIP_MODEL,
        "CLIP_MODEL_REVISION": "",
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "HF_HUB_OFFLINE": "1",
        "LOG_LEVEL": "INFO",
    }
    log = open(tmp_path / "worker.log", "w+")  # noqa: SIM115 (kept open for the process)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "-Q",
            django_settings.EMBEDDING_QUEUE,
            "--pool",
            "solo",
            "--concurrency",
            "1",
            "--without-gossip",
            "--without-mingle",
            "-n",
            "embeddings@%h",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    yield process
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
    celery_app.conf.task_always_eager = True
    log.seek(0)
    print(log.read()[-4000:])
    log.close()


def test_worker_process_indexes_an_upload_into_qdrant(embedding_worker, settings):
    merchant, user = merchant_with_owner(name="Harbour")
    product = ProductFactory(merchant=merchant, price="42.00", category="bags")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")
    file = io.BytesIO(jpeg_bytes())
    file.name = "bag.jpg"
    response = client.post(
        f"/api/v1/merchant/products/{product.pk}/images/", {"image": file}, format="multipart"
    )
    assert response.status_code == 201
    image = ProductImage.objects.get(pk=response.json()["id"])

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and embedding_worker.poll() is None:
        image.refresh_from_db()
        if image.status == "indexed":
            break
        time.sleep(0.3)
    assert image.status == "indexed", "the worker did not index the upload in time"

    # The store belongs to one process at a time in local mode: stop the worker, then look.
    embedding_worker.send_signal(signal.SIGTERM)
    embedding_worker.wait(timeout=30)
    reset_vector_index()
    generations.reset()
    collection, encoder = generations.live_images()
    found = get_vector_index().retrieve(
        collection, [indexing.image_point_id(image.pk, encoder.model_key)]
    )
    assert len(found) == 1
    payload = found[0][1]
    assert (payload["product_id"], payload["image_id"], payload["price"], payload["category"]) == (
        product.pk,
        image.pk,
        42.0,
        "bags",
    )
