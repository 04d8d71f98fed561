"""Searches are recorded by the server: kind, words, results, scores; photos only as a
vector and a perceptual hash. Recording never fails a search."""

import io
import uuid

import numpy as np
import pytest
from rest_framework.test import APIClient

from analytics.fingerprint import dhash, hamming
from analytics.models import SearchEvent
from analytics.recorder import recorder
from search.query import recording
from tests.factories import jpeg_bytes

pytestmark = pytest.mark.django_db


def test_a_text_search_is_recorded_with_its_results(catalogue, generous_throttles):
    client = APIClient()
    response = client.post(
        "/api/v1/search/",
        {"text": "  Leather   BOOTS ", "filters": {"price_max": 500}, "limit": 5},
        format="json",
        HTTP_X_VISITOR_ID="visitor-abc123",
    )
    assert response.status_code == 200
    body = response.json()

    assert recorder.flush() == 1

    row = SearchEvent.objects.get(search_id=uuid.UUID(body["search_id"]))
    assert row.kind == "text"
    assert row.words == "leather boots"
    assert row.filters == {"price_max": 500.0}
    assert row.product_ids == [result["product_id"] for result in body["results"]]
    assert row.best_score == max(row.scores)
    assert row.result_count == body["total"]
    assert row.took_ms == body["took_ms"]
    assert row.visitor_id == "visitor-abc123"
    assert row.query_vector is None and row.photo_hash == ""
    shown = {p.merchant_id for p in catalogue if p.pk in row.product_ids}
    assert row.merchant_ids == sorted(shown)


def test_a_photo_search_keeps_only_its_vector_and_a_perceptual_hash(catalogue, generous_throttles):
    photo = jpeg_bytes(colour=(30, 160, 90), size=(120, 90))
    upload = io.BytesIO(photo)
    upload.name = "shopper.jpg"
    response = APIClient().post(
        "/api/v1/search/", {"image": upload, "limit": 3}, format="multipart"
    )
    assert response.status_code == 200
    recorder.flush()

    row = SearchEvent.objects.get(search_id=response.json()["search_id"])
    assert row.kind == "photo"
    vector = row.vector()
    assert vector is not None and vector.dtype == np.float32
    assert np.isclose(np.linalg.norm(vector), 1.0, atol=1e-3)
    assert len(row.photo_hash) == 16
    stored = b"".join(
        bytes(value) if isinstance(value, memoryview | bytes) else str(value).encode()
        for value in SearchEvent.objects.filter(pk=row.pk).values_list().get()
    )
    assert photo[200:264] not in stored  # no run of the photo's bytes anywhere in the row


def test_the_perceptual_hash_survives_resizing_but_tells_photos_apart():
    from PIL import Image

    gradient = (
        Image.linear_gradient("L").transpose(Image.Transpose.ROTATE_90).convert("RGB")
    ).resize((400, 300))
    other = gradient.transpose(Image.Transpose.ROTATE_180)

    assert hamming(dhash(gradient), dhash(gradient.resize((131, 98)))) <= 4
    assert hamming(dhash(gradient), dhash(other)) >= 32


def test_a_failing_recorder_does_not_fail_the_search(db, generous_throttles):
    def broken(sender, **kwargs):
        raise RuntimeError("analytics is down")

    recording.search_finished.connect(broken, dispatch_uid="test-broken")
    try:
        response = APIClient().post("/api/v1/search/", {"text": "boots"}, format="json")
    finally:
        recording.search_finished.disconnect(dispatch_uid="test-broken")

    assert response.status_code == 200
    assert "search_id" in response.json()


def test_a_full_queue_drops_searches_instead_of_waiting(settings):
    from analytics.recorder import SearchRecorder

    settings.ANALYTICS_QUEUE_SIZE = 1
    small = SearchRecorder()
    small.background = False
    small.submit(lambda: SearchEvent(search_id=uuid.uuid4()))
    small.submit(lambda: SearchEvent(search_id=uuid.uuid4()))

    assert small.pending() == 1


def test_a_search_into_a_day_without_partition_creates_it(db):
    from datetime import UTC, datetime

    from analytics.partitions import partition_name, partitions_list

    far = datetime(2031, 5, 4, 12, tzinfo=UTC)
    recorder.submit(
        lambda: SearchEvent(search_id=uuid.uuid4(), created_at=far, kind="text", words="x")
    )
    recorder.flush()

    assert SearchEvent.objects.filter(created_at=far).count() == 1
    names = [name for _, name in partitions_list("analytics_searchevent")]
    assert partition_name("analytics_searchevent", far.date()) in names
