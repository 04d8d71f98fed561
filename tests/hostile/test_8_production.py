"""Finding 8: /metrics public in production, no Content-Security-Policy, the demo login
created in production, API tokens that never expire."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from config.checks import metrics_need_a_token
from tests.hostile.conftest import PASSWORD, assert_json_error

pytestmark = pytest.mark.django_db


@pytest.fixture
def production(settings):
    settings.PRODUCTION = True
    settings.METRICS_ENABLED = True
    settings.METRICS_TOKEN = ""
    return settings


def test_production_without_a_metrics_token_fails_its_system_check(production):
    assert [error.id for error in metrics_need_a_token()] == ["project.E001"]
    production.METRICS_TOKEN = "s3cret-scrape-token"
    assert metrics_need_a_token() == []


def test_production_without_a_metrics_token_does_not_serve_metrics(production, client):
    response = client.get("/metrics")
    assert "METRICS_TOKEN" in assert_json_error(response, 403)["detail"]


def test_production_with_a_token_serves_metrics_to_its_holder_only(production, client):
    production.METRICS_TOKEN = "s3cret-scrape-token"
    assert client.get("/metrics").status_code == 401
    assert (
        client.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret-scrape-token").status_code == 200
    )


@pytest.mark.parametrize(
    "path", ["/", "/admin/login/", "/api/docs/", "/api/v1/products/1/similar/"]
)
def test_every_page_carries_a_content_security_policy(client, path):
    policy = client.get(path)["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "object-src 'none'" in policy
    assert "frame-ancestors 'none'" in policy


def test_the_api_docs_load_nothing_from_another_host(client):
    page = client.get("/api/docs/").content.decode()
    assert "cdn" not in page.lower() and "<script>" not in page


def test_load_demo_catalog_refuses_to_run_in_production(production):
    from django.contrib.auth.models import User

    with pytest.raises(CommandError, match="production"):
        call_command("load_demo_catalog", products=1)
    assert not User.objects.filter(username="demo").exists()


def test_an_expired_token_is_refused_and_a_new_one_is_issued(settings, owner):
    settings.API_TOKEN_TTL = 3600
    old = Token.objects.create(user=owner)
    Token.objects.filter(pk=old.pk).update(created=timezone.now() - timedelta(hours=2))
    api = APIClient()
    refused = api.get("/api/v1/merchant/products/", HTTP_AUTHORIZATION=f"Token {old.key}")
    assert "expired" in assert_json_error(refused, 401)["detail"]
    issued = api.post(
        "/api/v1/auth/token/", {"username": owner.username, "password": PASSWORD}, format="json"
    )
    assert issued.status_code == 200
    new = issued.json()["token"]
    assert new != old.key and issued.json()["expires_at"]
    ok = api.get("/api/v1/merchant/products/", HTTP_AUTHORIZATION=f"Token {new}")
    assert ok.status_code == 200


def test_a_token_can_be_rotated(owner):
    api = APIClient()
    credentials = {"username": owner.username, "password": PASSWORD}
    first = api.post("/api/v1/auth/token/", credentials, format="json").json()["token"]
    again = api.post("/api/v1/auth/token/", credentials, format="json").json()["token"]
    assert again == first
    rotated = api.post("/api/v1/auth/token/", {**credentials, "rotate": True}, format="json")
    assert rotated.json()["token"] != first
    gone = api.get("/api/v1/merchant/products/", HTTP_AUTHORIZATION=f"Token {first}")
    assert gone.status_code == 401
