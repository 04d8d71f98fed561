"""Hostile requests, as the issue's probe sent them (issue 15). Each module covers one
finding; each test failed before the fix and answers as the API contract says now."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from tests.factories import ProductFactory, merchant_with_owner

PASSWORD = "pw-for-tests-1"  # tests.factories.UserFactory's


@pytest.fixture
def client() -> APIClient:
    return APIClient()


@pytest.fixture
def shop(db):
    return merchant_with_owner(name="Hostile Shop")  # (merchant, owner)


@pytest.fixture
def owner(shop):
    return shop[1]


@pytest.fixture
def merchant_client(owner) -> APIClient:
    api = APIClient()
    api.force_authenticate(owner)
    return api


@pytest.fixture
def product(shop):
    return ProductFactory(merchant=shop[0])


def assert_json_error(response, status: int) -> dict:
    assert response.status_code == status, response.content[:500]
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    body = response.json()
    assert isinstance(body["detail"], str) and body["detail"]
    return body


def upload(name: str, content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/octet-stream")
