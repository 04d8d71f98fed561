"""Onboarding command, health probes and production settings."""

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from catalog.models import Merchant, MerchantMembership

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.django_db
def test_create_merchant_prints_a_working_token(monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("s3cret-Passw0rd\n"))
    out = io.StringIO()
    call_command(
        "create_merchant",
        "Harbour Outfitters",
        "--owner",
        "ana",
        "--password-stdin",
        stdout=out,
        stderr=io.StringIO(),
    )
    token = out.getvalue().strip()
    merchant = Merchant.objects.get(slug="harbour-outfitters")
    membership = MerchantMembership.objects.get(merchant=merchant)
    assert membership.user.username == "ana"
    assert membership.role == "owner"
    assert membership.user.check_password("s3cret-Passw0rd")
    assert Token.objects.get(key=token).user == membership.user
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get("/api/v1/merchant/products/").status_code == 200


@pytest.mark.django_db
def test_create_merchant_refuses_a_taken_slug():
    call_command(
        "create_merchant", "Shop", "--owner", "a", stdout=io.StringIO(), stderr=io.StringIO()
    )
    with pytest.raises(CommandError, match="slug"):
        call_command(
            "create_merchant", "Shop", "--owner", "b", stdout=io.StringIO(), stderr=io.StringIO()
        )


@pytest.mark.django_db
def test_healthz_and_readyz(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert "database" in ready.json()["checks"]


@pytest.mark.django_db
def test_readyz_answers_503_with_reason_when_a_dependency_fails(client, monkeypatch):
    from config import health

    def broken():
        raise ConnectionError("connection refused")

    monkeypatch.setitem(health.READINESS_CHECKS, "vector_store", broken)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert "connection refused" in response.json()["failures"]["vector_store"]


def _manage(*args, env_extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env.update(env_extra)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_refuses_to_start_without_a_secret_key():
    result = _manage(
        "check", env_extra={"DJANGO_ENV": "production", "DJANGO_ALLOWED_HOSTS": "shop.example"}
    )
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


def test_production_passes_check_deploy_without_warnings():
    result = _manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        env_extra={
            "DJANGO_ENV": "production",
            "DJANGO_SECRET_KEY": "x" * 20 + "-a-long-random-production-secret-" + "y" * 20,
            "DJANGO_ALLOWED_HOSTS": "shop.example",
            "METRICS_TOKEN": "a-scrape-token",  # without one, project.E001 (tests/hostile)
        },
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
