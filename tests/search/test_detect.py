"""Detection: POST /api/v1/search/detect/ and "look": true, with a tiny random detector."""

import io
import json

import numpy as np
import pytest
from rest_framework.test import APIClient

from search.encoding.detector import WHOLE_PHOTO_SHARE, suppress
from search.encoding.registry import get_detector
from tests.factories import MerchantFactory, ProductFactory, jpeg_bytes
from tests.fixtures.models import TINY_DETECTOR_LABELS

pytestmark = pytest.mark.django_db


def upload(path: str, data: bytes, **fields):
    file = io.BytesIO(data)
    file.name = "scene.jpg"
    payload = {"image": file}
    for key, value in fields.items():
        payload[key] = json.dumps(value) if isinstance(value, dict) else value
    return APIClient().post(path, payload, format="multipart")


def detect(data: bytes):
    return upload("/api/v1/search/detect/", data)


def look(data: bytes, **fields):
    return upload("/api/v1/search/", data, look="true", **fields)


def test_detect_answers_boxes_inside_the_photo(detector_settings):
    response = detect(jpeg_bytes(size=(320, 240)))
    body = response.json()
    assert response.status_code == 200
    assert 1 <= len(body["boxes"]) <= 4
    for found in body["boxes"]:
        x0, y0, x1, y1 = found["box"]
        assert 0 <= x0 < x1 <= 1 and 0 <= y0 < y1 <= 1
        assert (x1 - x0) * (y1 - y0) < WHOLE_PHOTO_SHARE
        assert found["label"] in TINY_DETECTOR_LABELS.values()
    scores = [found["score"] for found in body["boxes"]]
    assert scores == sorted(scores, reverse=True)
    assert body["model"] == detector_settings.DETECTOR_MODEL.rsplit("/", 1)[-1]  # no path


def test_detect_honours_the_box_limit_and_threshold(detector_settings):
    detector_settings.DETECT_MAX_BOXES = 1
    assert len(detect(jpeg_bytes(size=(320, 240))).json()["boxes"]) == 1
    detector_settings.DETECT_SCORE_THRESHOLD = 1.01
    assert detect(jpeg_bytes(size=(320, 240))).json()["boxes"] == []


def test_detection_switched_off_is_a_503_naming_the_setting(settings):
    settings.DETECTOR_ENABLED = False
    response = detect(jpeg_bytes())
    assert response.status_code == 503
    assert "DETECTOR_ENABLED=false" in response.json()["detail"]


def test_a_missing_detector_fails_fast_naming_the_setting_and_is_remembered(
    settings, tmp_path, monkeypatch
):
    from search.encoding import detector as detector_module
    from search.encoding.registry import reset_encoders

    settings.DETECTOR_ENABLED = True
    settings.DETECTOR_MODEL = str(tmp_path / "no-such-model")
    reset_encoders()
    first = detect(jpeg_bytes())
    loads = []
    monkeypatch.setattr(detector_module, "_load_parts", lambda *a: loads.append(a))
    second = detect(jpeg_bytes())
    assert first.status_code == second.status_code == 503
    assert "DETECTOR_MODEL directory" in first.json()["detail"]
    assert second.json()["detail"] == first.json()["detail"]
    assert loads == []  # the failure was remembered, not retried on every request
    reset_encoders()


def test_a_directory_that_is_not_a_detector_is_a_503_naming_the_setting(settings, tiny_clip_dir):
    from search.encoding.registry import reset_encoders

    settings.DETECTOR_MODEL = str(tiny_clip_dir)
    reset_encoders()
    response = detect(jpeg_bytes())
    assert response.status_code == 503
    assert "DETECTOR_MODEL directory" in response.json()["detail"]
    reset_encoders()


@pytest.fixture
def owlv2_settings(settings, tiny_owlv2_dir):
    """The tiny open-vocabulary detector, every box kept, the vocabulary read afresh."""
    from search.encoding.registry import reset_encoders
    from search.query.vocabulary import clear_vocabularies

    settings.DETECTOR_ENABLED = True
    settings.DETECTOR_MODEL = str(tiny_owlv2_dir)
    settings.DETECTOR_MODEL_REVISION = ""
    settings.DETECTOR_DEVICE = "cpu"
    settings.DETECTOR_PROMPTS = ""
    settings.DETECT_SCORE_THRESHOLD = 0.0
    settings.DETECT_MAX_BOXES = 6
    settings.SEARCH_VOCABULARY_TTL = 0
    settings.SEARCH_VOCABULARY_BACKGROUND = False  # the test's rows are in its transaction
    reset_encoders()
    clear_vocabularies()
    yield settings
    reset_encoders()
    clear_vocabularies()


def test_an_open_vocabulary_detector_looks_for_the_shops_largest_categories(owlv2_settings):
    merchant = MerchantFactory()
    for category, count in (("floor lamp", 3), ("armchair", 2), ("rug", 1)):
        ProductFactory.create_batch(count, merchant=merchant, category=category)
    owlv2_settings.DETECT_MAX_PROMPTS = 2
    response = detect(jpeg_bytes(size=(320, 240)))
    assert response.status_code == 200, response.content
    labels = {found["label"] for found in response.json()["boxes"]}
    assert labels and labels <= {"floor lamp", "armchair"}  # "rug" is the third largest


def test_detector_prompts_win_over_the_category_names(owlv2_settings):
    ProductFactory.create_batch(2, category="floor lamp")
    owlv2_settings.DETECTOR_PROMPTS = "handbag, sneaker"
    response = detect(jpeg_bytes(size=(320, 240)))
    assert response.status_code == 200, response.content
    labels = {found["label"] for found in response.json()["boxes"]}
    assert labels and labels <= {"handbag", "sneaker"}


def test_an_open_vocabulary_detector_without_words_is_a_503_naming_the_setting(
    owlv2_settings,
):
    ProductFactory.create_batch(2, category="")
    response = detect(jpeg_bytes(size=(320, 240)))
    assert response.status_code == 503
    assert "DETECTOR_PROMPTS" in response.json()["detail"]


def test_detect_without_a_photo_is_a_400(detector_settings):
    response = APIClient().post("/api/v1/search/detect/", {}, format="multipart")
    assert response.status_code == 400
    assert "image" in response.json()["detail"]


def test_detect_refuses_what_is_not_a_photo(detector_settings):
    response = detect(b"%PDF-1.4 not a photo")
    assert response.status_code == 400
    assert "PDF" in response.json()["detail"]


def test_suppression_keeps_one_box_per_item_across_labels():
    boxes = np.array(
        [[0.1, 0.1, 0.5, 0.5], [0.12, 0.1, 0.5, 0.52], [0.6, 0.6, 0.9, 0.9]], dtype=np.float32
    )
    scores = np.array([0.7, 0.9, 0.8], dtype=np.float32)
    assert suppress(boxes, scores, 0.5, keep_at_most=5) == [1, 2]
    assert suppress(boxes, scores, 0.5, keep_at_most=1) == [1]


# --- shop the look ----------------------------------------------------------------------------


def test_look_answers_one_group_per_detected_item(
    indexed_catalogue, detector_settings, generous_throttles
):
    photo = jpeg_bytes(size=(320, 240))
    boxes = detect(photo).json()["boxes"]
    response = look(photo, limit="3")
    body = response.json()
    assert response.status_code == 200, body
    assert body["query_type"] == "look"
    assert [g["box"] for g in body["groups"]] == [b["box"] for b in boxes]
    assert all(1 <= len(g["results"]) <= 3 for g in body["groups"])
    assert list(body["stages"]) == ["decode", "detect", "search"]


def test_look_groups_honour_filters_and_text(
    indexed_catalogue, detector_settings, generous_throttles
):
    category = indexed_catalogue[0].category
    body = look(
        jpeg_bytes(size=(320, 240)), text="leather", filters={"category": [category]}
    ).json()
    assert body["groups"]
    for group in body["groups"]:
        assert group["results"]
        assert {r["category"] for r in group["results"]} == {category}
        assert group["total"] == sum(1 for p in indexed_catalogue if p.category == category)
    # The look's facets are those of its filters, as a plain search's are: the category facet
    # counted without its own filter (disjunctive), the others within the category.
    assert body["facets"]["category"][category] == sum(
        1 for p in indexed_catalogue if p.category == category
    )
    assert sum(body["facets"]["category"].values()) == len(indexed_catalogue)
    assert sum(band["count"] for band in body["facets"]["price"]) == sum(
        1 for p in indexed_catalogue if p.category == category
    )


def test_look_without_items_says_so(indexed_catalogue, detector_settings):
    detector_settings.DETECT_SCORE_THRESHOLD = 1.01
    body = look(jpeg_bytes(size=(320, 240))).json()
    assert body["groups"] == []
    assert "No separate items" in body["notices"][0]
    assert sum(body["facets"]["category"].values()) == len(indexed_catalogue)


def test_look_without_a_detector_is_a_503(indexed_catalogue, settings):
    settings.DETECTOR_ENABLED = False
    response = look(jpeg_bytes())
    assert response.status_code == 503
    assert response.json()["detail"].startswith("Shop the look is not available")


@pytest.mark.parametrize(
    ("fields", "field"),
    [({"crop": "0.1,0.1,0.5,0.5"}, "look"), ({"rerank": "true"}, "rerank")],
)
def test_look_with_crop_or_rerank_is_a_400(detector_settings, fields, field):
    response = look(jpeg_bytes(), **fields)
    assert response.status_code == 400
    assert field in response.json()["detail"]


def test_look_without_a_photo_is_a_400(db):
    response = APIClient().post("/api/v1/search/", {"text": "x", "look": True}, format="json")
    assert response.status_code == 400
    assert "look needs a photo" in response.json()["detail"]


def test_look_and_detect_leave_no_file_behind(
    indexed_catalogue, detector_settings, tmp_path, monkeypatch, caplog
):
    import tempfile

    spool = tmp_path / "spool"
    spool.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(spool))
    detector_settings.FILE_UPLOAD_TEMP_DIR = str(spool)
    detector_settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 10
    media_before = sorted(p.name for p in (tmp_path / "media").rglob("*"))
    photo = jpeg_bytes(size=(256, 256))
    caplog.set_level("DEBUG")
    assert look(photo).status_code == 200
    assert detect(photo).status_code == 200
    assert sorted(p.name for p in (tmp_path / "media").rglob("*")) == media_before
    assert list(spool.iterdir()) == []
    assert "scene.jpg" not in caplog.text


def test_the_detector_is_one_object_per_process(detector_settings):
    assert get_detector() is get_detector()
