"""Catalogue images in S3: stored through Django's default storage, served by presigned URL."""

from __future__ import annotations

import io
import urllib.error
import urllib.request
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from PIL import Image

from catalog.intake import NormalisedImage, normalise_merchant_image

# Straight to loopback, whatever proxy the environment names.
_direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def fetch(url: str) -> bytes:
    with _direct.open(url, timeout=10) as response:
        return response.read()


@pytest.fixture
def product_photo() -> NormalisedImage:
    buffer = io.BytesIO()
    Image.linear_gradient("L").resize((48, 32)).convert("RGB").save(buffer, "JPEG")
    return normalise_merchant_image(buffer.getvalue())


def stored_name(image: NormalisedImage) -> str:
    return f"products/7/{image.sha256[:2]}/{image.sha256}.{image.extension}"


def keys(s3_storage) -> list[str]:
    listed = s3_storage.client.list_objects_v2(Bucket=s3_storage.bucket)
    return [item["Key"] for item in listed.get("Contents", [])]


def test_an_image_saved_through_default_storage_lands_in_the_bucket(
    s3_storage, product_photo
) -> None:
    # given the default storage pointed at an empty bucket
    assert keys(s3_storage) == []
    # when a normalised image is saved through it
    name = default_storage.save(stored_name(product_photo), ContentFile(product_photo.content))
    # then the bucket holds exactly those bytes under that name, typed as an image
    assert name == stored_name(product_photo)
    assert keys(s3_storage) == [name]
    stored = s3_storage.client.get_object(Bucket=s3_storage.bucket, Key=name)
    assert stored["Body"].read() == product_photo.content
    assert stored["ContentType"] == product_photo.content_type


def test_the_url_is_presigned_and_serves_the_same_bytes(s3_storage, product_photo) -> None:
    # given an image saved in the private bucket
    name = default_storage.save(stored_name(product_photo), ContentFile(product_photo.content))
    # when its URL is asked for
    url = default_storage.url(name)
    # then it is a signed, expiring URL on the S3 endpoint that returns the stored bytes
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    assert f"{parts.scheme}://{parts.netloc}" == s3_storage.endpoint_url
    assert parts.path == f"/{s3_storage.bucket}/{name}"
    assert query["X-Amz-Signature"][0]
    assert query["X-Amz-Expires"] == ["300"]
    assert fetch(url) == product_photo.content


def test_saving_the_same_name_twice_keeps_both_files(s3_storage, product_photo) -> None:
    # given an image already stored under a name
    first = default_storage.save(stored_name(product_photo), ContentFile(product_photo.content))
    # when something else is saved under the same name
    second = default_storage.save(stored_name(product_photo), ContentFile(b"other bytes"))
    # then the first is not overwritten: the second gets a name of its own
    assert second != first
    assert sorted(keys(s3_storage)) == sorted([first, second])
    assert fetch(default_storage.url(first)) == product_photo.content


def test_deleting_removes_the_object_and_its_url_stops_working(s3_storage, product_photo) -> None:
    # given an image saved in the bucket, and its URL
    name = default_storage.save(stored_name(product_photo), ContentFile(product_photo.content))
    url = default_storage.url(name)
    # when it is deleted
    default_storage.delete(name)
    # then the bucket is empty, the storage no longer finds it and the URL answers 404
    assert keys(s3_storage) == []
    assert not default_storage.exists(name)
    with pytest.raises(urllib.error.HTTPError) as failed:
        fetch(url)
    assert failed.value.code == 404
