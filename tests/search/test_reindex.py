"""`reindex`, `index_status` and `reconcile`: rebuilds from PostgreSQL, blue/green model switch."""

import io
import threading

import pytest
from django.core.management import call_command
from django.db import connection
from rest_framework.test import APIClient

from catalog.models import ProductImage
from search.index import generations
from search.models import ImageEmbedding
from tests.fixtures.models import build_tiny_clip


@pytest.fixture(scope="session")
def other_tiny_clip_dir(tmp_path_factory):
    return build_tiny_clip(tmp_path_factory.mktemp("tiny-clip-b"), seed=1)


def image_only_search(limit=10):
    return APIClient().post(
        "/api/v1/search/",
        {"text": "red jacket", "limit": limit, "weights": {"image": 1, "text": 0, "keywords": 0}},
        format="json",
    )


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("generous_throttles")  # the loop searches as fast as it can
def test_searches_answer_in_full_while_reindex_switches_model(
    indexed_catalogue, other_tiny_clip_dir
):
    before, old_encoder = generations.live_images()
    errors: list[BaseException] = []

    def rebuild():
        try:
            call_command(
                "reindex",
                "--model",
                str(other_tiny_clip_dir),
                "--force",  # two random models: the gate (test_finetune_and_gate.py) may refuse
                "--skip-products",
                "--batch-size",
                "4",
                stdout=io.StringIO(),
                stderr=io.StringIO(),
            )
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)
        finally:
            connection.close()

    worker = threading.Thread(target=rebuild)
    worker.start()
    answers = []
    while worker.is_alive():
        response = image_only_search()
        answers.append((response.status_code, len(response.json().get("results", []))))
    worker.join()
    answers.append((image_only_search().status_code, len(image_only_search().json()["results"])))

    assert errors == []
    assert len(answers) > 1
    assert set(answers) == {(200, 10)}
    after, new_encoder = generations.live_images()
    assert after != before
    assert new_encoder.model_key != old_encoder.model_key
    assert set(ProductImage.objects.values_list("model_revision", flat=True)) == {
        new_encoder.model_key
    }
    # The old collection stays for a rollback; both models' embeddings are kept.
    assert (
        ImageEmbedding.objects.filter(model_key=old_encoder.model_key).count()
        == ProductImage.objects.count()
    )
    assert (
        ImageEmbedding.objects.filter(model_key=new_encoder.model_key).count()
        == ProductImage.objects.count()
    )


@pytest.mark.django_db
def test_reindex_with_the_live_model_reuses_stored_embeddings(indexed_catalogue, monkeypatch):
    _, encoder = generations.live_images()
    monkeypatch.setattr(
        type(encoder), "encode_image_stream", lambda *a, **kw: pytest.fail("the model ran")
    )
    out = io.StringIO()
    call_command("reindex", "--merchant", "harbour", stdout=out, stderr=io.StringIO())
    harbour_images = ProductImage.objects.filter(product__merchant__slug="harbour").count()
    assert f"0 embedded, {harbour_images} from stored embeddings" in out.getvalue()


@pytest.mark.django_db
def test_reindex_resumes_where_a_rebuild_stopped(indexed_catalogue, other_tiny_clip_dir):
    from search.index import reindex

    calls = {"n": 0}
    real = reindex.indexing.index_images

    def stop_after_two_batches(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] > 2:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    reindex.indexing.index_images = stop_after_two_batches
    try:
        with pytest.raises(KeyboardInterrupt):
            reindex.reindex_images(model_name=str(other_tiny_clip_dir), batch_size=4)
    finally:
        reindex.indexing.index_images = real
    report = reindex.reindex_images(model_name=str(other_tiny_clip_dir), batch_size=4)
    assert report.skipped == 8
    assert report.embedded == ProductImage.objects.count() - 8
    assert report.switched


@pytest.mark.django_db
def test_index_status_and_reconcile_repair_differences(indexed_catalogue):
    from search.index import sync as indexing
    from search.vector_index import get_vector_index

    collection, encoder = generations.live_images()
    lost, orphan = ProductImage.objects.order_by("id")[:2]
    index = get_vector_index()
    index.delete_points(collection, ids=[indexing.image_point_id(lost.pk, encoder.model_key)])
    ProductImage.objects.filter(pk=orphan.pk).delete()  # behind the services' back: its point stays

    status = io.StringIO()
    call_command("index_status", stdout=status)
    text = status.getvalue()
    assert "images indexed in PostgreSQL but missing from the vector index: 1" in text
    assert "image points without an image: 1" in text

    out = io.StringIO()
    call_command("reconcile", stdout=out, stderr=io.StringIO())
    status = io.StringIO()
    call_command("index_status", stdout=status)
    assert "images indexed in PostgreSQL but missing from the vector index: 0" in status.getvalue()
    assert "image points without an image: 0" in status.getvalue()
    assert "agree" in status.getvalue()
