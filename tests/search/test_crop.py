"""Searching part of a shopper's photo: ``crop`` on POST /api/v1/search/."""

import io
import json

import numpy as np
import pytest
from PIL import Image
from rest_framework.test import APIClient

from catalog.intake import decode_query_image
from catalog.sample_data import draw_product, generate_products
from search.query.regions import crop_image, decode_edge_for, parse_box
from tests.factories import jpeg_bytes

pytestmark = pytest.mark.django_db

# Pillow's exif_transpose turns a stored photo upright with these; a camera stores the
# inverse of what it saw.
STORED_AS = {
    1: None,
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_90,  # shown after ROTATE_270
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_270,  # shown after ROTATE_90
}
SCENE_SIZE = (360, 240)
ITEM_AT = (210, 90, 306, 186)  # left, top, right, bottom in the upright scene
ITEM_CROP = [ITEM_AT[0] / 360, ITEM_AT[1] / 240, ITEM_AT[2] / 360, ITEM_AT[3] / 240]


def item_picture() -> Image.Image:
    """One of the catalogue's products, as the indexed_catalogue fixture drew it."""
    return Image.open(io.BytesIO(draw_product(generate_products(28, seed=11)[5], size=96)))


def scene(orientation: int) -> bytes:
    """A street-like scene holding the item, stored the way a phone stores a photo taken at
    this orientation: the pixels turned, and the EXIF tag saying how to show them upright."""
    upright = Image.new("RGB", SCENE_SIZE, (70, 110, 70))
    upright.paste((30, 30, 160), (10, 20, 140, 220))  # another object: a blue block
    upright.paste(item_picture(), ITEM_AT[:2])
    method = STORED_AS[orientation]
    stored = upright if method is None else upright.transpose(method)
    exif = Image.Exif()
    exif[0x0112] = orientation
    out = io.BytesIO()
    stored.save(out, format="JPEG", quality=95, exif=exif.tobytes())
    return out.getvalue()


def photo_search(data: bytes, **fields):
    file = io.BytesIO(data)
    file.name = "scene.jpg"
    payload = {"image": file, **fields}
    return APIClient().post("/api/v1/search/", payload, format="multipart")


@pytest.mark.parametrize("orientation", range(1, 9))
def test_a_crop_is_taken_from_the_upright_photo(orientation, settings):
    box = parse_box(ITEM_CROP)
    upright = decode_query_image(scene(orientation), min_edge=decode_edge_for(box))
    cut = crop_image(upright, box).resize((96, 96))
    item = item_picture()
    difference = np.abs(np.asarray(cut, float) - np.asarray(item, float)).mean()
    assert upright.width > upright.height  # the scene is landscape, whatever the storage
    assert difference < 12  # the item, not the grass or the blue block


@pytest.mark.parametrize("orientation", range(1, 9))
def test_searching_a_crop_finds_what_the_item_alone_finds(
    orientation, indexed_catalogue, generous_throttles
):
    item_alone = io.BytesIO()
    item_picture().save(item_alone, format="JPEG", quality=95)
    expected = photo_search(item_alone.getvalue(), limit="3").json()["results"][0]["product_id"]

    response = photo_search(scene(orientation), crop=",".join(map(str, ITEM_CROP)), limit="3")

    assert response.status_code == 200, response.json()
    assert response.json()["results"][0]["product_id"] == expected


def test_crop_in_a_json_list_string_works_too(indexed_catalogue):
    response = photo_search(scene(6), crop=json.dumps(ITEM_CROP), limit="2")
    assert response.status_code == 200
    assert response.json()["query_type"] == "photo"


BAD_CROPS = [
    ("three numbers", "0.1,0.1,0.5", "four numbers"),
    ("words", "left,top,right,bottom", "four numbers"),
    ("not finite", "0,0,nan,1", "four numbers"),
    ("outside", "0.5,0.5,1.2,0.9", "outside the photo"),
    ("negative", "-0.1,0,0.5,0.5", "outside the photo"),
    ("inverted", "0.6,0.2,0.3,0.8", "empty or inverted"),
    ("degenerate", "0.3,0.2,0.3,0.8", "empty or inverted"),
    ("a sliver", "0.1,0.1,0.11,0.9", "too small"),
]


@pytest.mark.parametrize(("case", "crop", "says"), BAD_CROPS, ids=[c[0] for c in BAD_CROPS])
def test_a_bad_crop_is_a_400_naming_crop(case, crop, says):
    response = photo_search(jpeg_bytes(size=(300, 200)), crop=crop)
    assert response.status_code == 400
    detail = response.json()["detail"]
    assert detail.startswith("crop")
    assert says in detail


def test_a_crop_of_too_few_pixels_is_a_400(db):
    # 3% of a 300-pixel photo is 9 pixels: more than the 0.02 floor, less than 16 pixels.
    response = photo_search(jpeg_bytes(size=(300, 300)), crop="0.5,0.5,0.53,0.9")
    assert response.status_code == 400
    assert "9×" in response.json()["detail"]
    assert "crop" in response.json()["detail"]


def test_crop_without_a_photo_is_a_400(db):
    response = APIClient().post(
        "/api/v1/search/", {"text": "bag", "crop": [0.1, 0.1, 0.5, 0.5]}, format="json"
    )
    assert response.status_code == 400
    assert "crop needs a photo" in response.json()["detail"]


def test_a_small_crop_is_decoded_from_a_sharper_photo(db):
    """A crop of a tenth of a large photo still has the model's input size of detail."""
    big = jpeg_bytes(size=(4000, 3000))
    box = parse_box([0.45, 0.45, 0.55, 0.55])
    plain = decode_query_image(big)
    sharp = crop_image(decode_query_image(big, min_edge=decode_edge_for(box)), box)
    assert min(crop_image(plain, box).size) < 100
    assert min(sharp.size) >= 290
