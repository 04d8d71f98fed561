"""The generated Python client (clients/python): it is what docs/openapi.yaml generates now, and
it works end to end against a live server, used the way an integrator would."""

from __future__ import annotations

import importlib.util
import io
import json
import shutil
import sys
import time
from pathlib import Path

import pytest
from django.core.management import call_command

from tests.factories import jpeg_bytes

ROOT = Path(__file__).resolve().parents[2]
INDEXING_TIMEOUT = 60


def _generator_script():
    spec = importlib.util.spec_from_file_location(
        "clients_generate", ROOT / "clients" / "generate.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_committed_client_is_what_the_schema_generates(tmp_path):
    generate = _generator_script()
    # Given the client the committed schema generates now (the pinned generator and ruff)
    fresh = generate.generate(tmp_path)
    # Then the committed package is the same, file for file, and has every operation
    assert generate.differences(generate.CLIENT / generate.PACKAGE, fresh) == [], (
        "clients/python is out of date: run `make client`"
    )
    assert generate.missing_operations(fresh) == []


def test_a_hand_edit_of_the_client_counts_as_stale(tmp_path):
    generate = _generator_script()
    # Given a committed package with one file edited and one added by hand (a copy), and the
    # package the schema generates (the real committed one stands in for it)
    edited = tmp_path / "edited"
    shutil.copytree(generate.CLIENT / generate.PACKAGE, edited)
    (edited / "client.py").write_text((edited / "client.py").read_text() + "# edited\n")
    (edited / "extra.py").write_text("")
    # Then the comparison names both
    assert generate.differences(edited, generate.CLIENT / generate.PACKAGE) == [
        "client.py: differs",
        "extra.py: no longer generated",
    ]


def _onboard(monkeypatch) -> None:
    """What an operator does (README, "Using it"): the merchant and its owner's password."""
    monkeypatch.setattr(sys, "stdin", io.StringIO("s3cret-password\n"))
    call_command("create_merchant", "Harbour Outfitters", owner="ana", password_stdin=True)


def _wait_until_indexed(client, product_id: int, image_id: int):
    from visual_search_client.api.v1 import merchant_product_images_retrieve
    from visual_search_client.models import ImageStatusEnum

    deadline = time.monotonic() + INDEXING_TIMEOUT
    while True:
        image = merchant_product_images_retrieve.sync(product_id, image_id, client=client)
        if image.status != ImageStatusEnum.PENDING or time.monotonic() > deadline:
            return image
        time.sleep(0.2)


@pytest.mark.slow
def test_onboard_upload_wait_and_search_through_the_client(live_server, clip_settings, monkeypatch):
    from visual_search_client import AuthenticatedClient, Client
    from visual_search_client.api.v1 import (
        auth_token_create,
        merchant_product_images_create,
        merchant_products_bulk_upsert,
        merchant_products_create,
        search,
    )
    from visual_search_client.models import (
        BulkRowStatusEnum,
        ImageStatusEnum,
        ProductImageUploadRequest,
        ProductInputRequest,
        SearchInputRequest,
        SearchPhotoInputRequest,
        TokenInputRequest,
    )
    from visual_search_client.types import File

    # Given a merchant onboarded by the operator, and a token asked for through the client
    _onboard(monkeypatch)
    anonymous = Client(base_url=live_server.url, raise_on_unexpected_status=True)
    token = auth_token_create.sync(
        client=anonymous, body=TokenInputRequest(username="ana", password="s3cret-password")
    ).token
    merchant = AuthenticatedClient(
        base_url=live_server.url, token=token, prefix="Token", raise_on_unexpected_status=True
    )

    # When it adds a product one call at a time and another through the bulk upsert (JSON lines)
    jacket = merchant_products_create.sync(
        client=merchant,
        body=ProductInputRequest(
            sku="JKT-1",
            title="Red leather jacket",
            price="199.00",
            brand="Acme",
            category="jackets",
        ),
    )
    feed = json.dumps(
        {"sku": "MUG-7", "title": "Blue ceramic mug", "price": "12.50", "category": "mugs"}
    )
    bulk = merchant_products_bulk_upsert.sync(
        client=merchant, body=File(payload=io.BytesIO(feed.encode()), file_name="feed.jsonl")
    )
    assert [row.status for row in bulk.results] == [BulkRowStatusEnum.CREATED]
    mug_id = bulk.results[0].id

    # And uploads an image for each, then waits until both are indexed
    jacket_photo, mug_photo = jpeg_bytes((200, 30, 40)), jpeg_bytes((30, 60, 210))
    uploaded = {}
    for product_id, photo in ((jacket.id, jacket_photo), (mug_id, mug_photo)):
        upload = ProductImageUploadRequest(
            image=File(payload=io.BytesIO(photo), file_name="photo.jpg", mime_type="image/jpeg")
        )
        uploaded[product_id] = merchant_product_images_create.sync(
            product_id, client=merchant, body=upload
        )
    statuses = [
        _wait_until_indexed(merchant, product_id, image.id).status
        for product_id, image in uploaded.items()
    ]
    assert statuses == [ImageStatusEnum.INDEXED, ImageStatusEnum.INDEXED]

    # Then a shopper finds the mug by words and the jacket by its photo
    by_words = search.sync(client=anonymous, body=SearchInputRequest(text="blue ceramic mug"))
    by_photo = search.sync(
        client=anonymous,
        body=SearchPhotoInputRequest(
            image=File(payload=io.BytesIO(jacket_photo), file_name="q.jpg", mime_type="image/jpeg")
        ),
    )
    assert by_words.results[0].product_id == mug_id
    assert by_words.results[0].title == "Blue ceramic mug"
    assert by_photo.results[0].product_id == jacket.id
    assert by_photo.query_type == "photo"
