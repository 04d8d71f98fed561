"""Finding 2: a 38-byte lossless WebP declaring 16 megapixels and more was decoded in full."""

import io
import threading

import pytest
from PIL import Image

from catalog.intake import ImageRejected, decode_query_image
from search.api import uploads
from tests.hostile.conftest import assert_json_error, upload

pytestmark = pytest.mark.django_db


def lossless_webp(size: tuple[int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (10, 20, 30)).save(buffer, format="WEBP", lossless=True, method=0)
    return buffer.getvalue()


def png(size: tuple[int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 10, 10)).save(buffer, format="PNG")
    return buffer.getvalue()


def photo_search(client, data: bytes):
    return client.post(
        "/api/v1/search/",
        {"image": upload("photo.webp", data)},
        format="multipart",
    )


def test_a_tiny_webp_declaring_too_many_pixels_is_refused_before_decoding(client):
    # given a lossless WebP of a few bytes that decodes to 16383×1100 (18 MP, under the
    # merchant cap of 40 MP)
    data = lossless_webp((16383, 1100))
    assert len(data) < 1000
    # when a shopper searches with it
    response = photo_search(client, data)
    # then it is refused for its pixels, naming the photo budget
    body = assert_json_error(response, 400)
    assert "16383×1100 pixels is more than the 16 megapixel limit" in body["detail"]
    assert body["errors"]["image"]


def test_the_photo_budget_comes_from_settings(settings):
    settings.MAX_QUERY_IMAGE_PIXELS = 1_000_000
    with pytest.raises(ImageRejected) as refused:
        decode_query_image(png((1001, 1000)))
    assert refused.value.rule == "pixels"
    assert decode_query_image(png((1000, 1000))).size == (1000, 1000)


@pytest.mark.parametrize("encode", [png, lossless_webp], ids=["png", "webp"])
def test_a_large_photo_of_any_format_is_brought_down_to_what_clip_needs(encode):
    # given a 4000×3000 photo in a format without reduced-size decoding
    image = decode_query_image(encode((4000, 3000)))
    # then the search works on a copy whose short side is still at least 512 pixels
    assert image.mode == "RGB"
    assert 512 <= min(image.size) < 1000
    assert image.size[0] * 3 == image.size[1] * 4


def test_when_every_decode_slot_is_busy_a_photo_search_answers_503_with_retry_after(
    client, settings, monkeypatch
):
    # given a process that decodes at most one photo at a time, and one decode under way
    settings.QUERY_IMAGE_DECODES = 1
    monkeypatch.setattr(uploads, "DECODE_WAIT_SECONDS", 0.05)
    semaphore = uploads.decode_slots.semaphore()
    assert semaphore.acquire(blocking=False)
    try:
        # when another photo search arrives
        response = photo_search(client, png((64, 48)))
    finally:
        semaphore.release()
    # then it is told to come back shortly, rather than adding its memory to the first one's
    body = assert_json_error(response, 503)
    assert int(response["Retry-After"]) > 0
    assert "photo" in body["detail"]


def test_a_photo_search_waits_for_a_slot_that_frees_up(client, settings, clip_settings):
    # given one slot, busy for a moment
    settings.QUERY_IMAGE_DECODES = 1
    semaphore = uploads.decode_slots.semaphore()
    semaphore.acquire()
    threading.Timer(0.2, semaphore.release).start()
    # when a photo search comes meanwhile
    response = photo_search(client, png((64, 48)))
    # then it is answered once the slot is free
    assert response.status_code == 200, response.content[:300]
    assert response.json()["query_type"] == "photo"
