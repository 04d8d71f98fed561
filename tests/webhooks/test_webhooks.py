"""Webhooks: merchants register endpoints; indexing news reaches them signed, and a receiver
that fails is tried again with back-off, every attempt in the delivery log."""

import hashlib
import hmac
import json

import pytest

from catalog import services as catalog_services
from tests.catalog.test_merchant_api import client_for, upload
from tests.factories import ProductFactory, jpeg_bytes, merchant_with_owner
from tests.loopback import Answer, LoopbackServer
from webhooks import signing
from webhooks.models import WebhookDelivery
from workers import tasks

pytestmark = pytest.mark.django_db


@pytest.fixture
def receiver(settings):
    """A merchant's receiver on 127.0.0.1, exempt from the public-address rule for this test
    only (WEBHOOK_ALLOWED_NETWORKS), as an operator would exempt an internal receiver."""
    settings.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    settings.WEBHOOK_TIMEOUT_SECONDS = 2.0
    with LoopbackServer() as server:
        yield server


@pytest.fixture
def shop():
    merchant, user = merchant_with_owner(name="Hook Shop")
    return merchant, client_for(user)


def register(client, url, events=None):
    body = {"url": url} if events is None else {"url": url, "events": events}
    return client.post("/api/v1/merchant/webhooks/", body, format="json")


def test_an_indexed_upload_is_announced_signed(
    shop, receiver, clip_settings, django_capture_on_commit_callbacks
):
    # Given a merchant with an endpoint for image.indexed
    merchant, client = shop
    receiver.answer("/hook", Answer(status=204))
    created = register(client, receiver.url("/hook"), ["image.indexed"]).json()
    product = ProductFactory(merchant=merchant)
    # When an image is uploaded and the worker indexes it
    with django_capture_on_commit_callbacks(execute=True):
        image_id = upload(client, product.pk, jpeg_bytes()).json()["id"]
    # Then the receiver got one signed delivery naming the image
    assert len(receiver.received) == 1
    request = receiver.received[0]
    payload = json.loads(request.body)
    assert payload["event"] == "image.indexed"
    assert payload["data"]["image_id"] == image_id
    assert payload["data"]["sku"] == product.sku
    assert payload["data"]["status"] == "indexed"
    timestamp = request.headers[signing.TIMESTAMP_HEADER]
    expected = hmac.new(
        created["secret"].encode(), f"{timestamp}.".encode() + request.body, hashlib.sha256
    ).hexdigest()
    assert request.headers[signing.SIGNATURE_HEADER] == f"v1={expected}"
    assert signing.verify(
        secret=created["secret"],
        timestamp=timestamp,
        signature_header=request.headers[signing.SIGNATURE_HEADER],
        body=request.body,
    )
    assert not signing.verify(
        secret="another-secret",
        timestamp=timestamp,
        signature_header=request.headers[signing.SIGNATURE_HEADER],
        body=request.body,
    )
    # ... and the delivery log says delivered
    log = client.get(f"/api/v1/merchant/webhooks/{created['id']}/deliveries/").json()
    assert [(row["status"], row["response_status"]) for row in log["results"]] == [
        ("delivered", 204)
    ]


def test_a_500_is_retried_until_the_receiver_takes_it(
    shop, receiver, django_capture_on_commit_callbacks
):
    # Given a receiver that fails once, then answers 200
    merchant, client = shop
    receiver.answer("/hook", Answer(status=500), Answer(status=200))
    register(client, receiver.url("/hook"))
    product = ProductFactory(merchant=merchant)
    # When indexing of the product's image fails
    image = catalog_services.product_image_create(product=product, data=jpeg_bytes())
    with django_capture_on_commit_callbacks(execute=True):
        catalog_services.product_image_mark_failed(image_id=image.pk, reason="unreadable")
    # Then the delivery was tried twice, the same signed body each time, and is delivered
    delivery = WebhookDelivery.objects.get()
    assert (delivery.event, delivery.status, delivery.attempts) == ("image.failed", "delivered", 2)
    assert [r.body for r in receiver.received] == [receiver.received[0].body] * 2
    assert json.loads(receiver.received[0].body)["data"]["failure_reason"] == "unreadable"


def test_a_receiver_that_keeps_failing_is_given_up_on(
    shop, receiver, monkeypatch, django_capture_on_commit_callbacks
):
    merchant, client = shop
    monkeypatch.setattr(tasks.deliver_webhook, "max_retries", 2)
    receiver.answer("/hook", Answer(status=503))
    register(client, receiver.url("/hook"), ["product.indexed"])
    product = ProductFactory(merchant=merchant)
    with django_capture_on_commit_callbacks(execute=True):
        catalog_services.products_mark_indexed(product_ids=[product.pk])
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.response_status) == ("failed", 3, 503)
    assert len(receiver.received) == 3


def test_retries_back_off_exponentially():
    delays = [tasks.backoff_seconds(n, base=30.0) for n in range(9)]
    assert delays[:4] == [30.0, 60.0, 120.0, 240.0]
    assert delays[-1] == 3600.0


def test_only_subscribed_events_are_sent(shop, receiver, django_capture_on_commit_callbacks):
    merchant, client = shop
    receiver.answer("/hook", Answer(status=200))
    register(client, receiver.url("/hook"), ["image.failed"])
    product = ProductFactory(merchant=merchant)
    with django_capture_on_commit_callbacks(execute=True):
        catalog_services.products_mark_indexed(product_ids=[product.pk])
    assert receiver.received == []
    assert not WebhookDelivery.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "http://169.254.169.254/hook"}, "url"),
        ({"url": "http://10.0.0.2/hook"}, "url"),
        ({"url": "not a url"}, "url"),
        ({"url": "https://example.com/hook", "events": ["order.paid"]}, "events"),
    ],
)
def test_bad_endpoints_are_refused_naming_the_field(shop, body, field):
    _, client = shop
    response = client.post("/api/v1/merchant/webhooks/", body, format="json")
    assert response.status_code == 400
    assert response.json()["detail"].startswith(field)


def test_another_merchants_endpoint_is_a_404(shop):
    _, client = shop
    other, other_user = merchant_with_owner(name="Other")
    theirs = register(client_for(other_user), "https://example.com/hook").json()
    assert client.get(f"/api/v1/merchant/webhooks/{theirs['id']}/").status_code == 404
    assert client.delete(f"/api/v1/merchant/webhooks/{theirs['id']}/").status_code == 404
    assert "secret" not in client_for(other_user).get("/api/v1/merchant/webhooks/").json()[0]


def test_the_delivery_log_is_in_the_admin(admin_client, shop, receiver):
    merchant, client = shop
    endpoint_id = register(client, receiver.url("/hook")).json()["id"]
    WebhookDelivery.objects.create(
        endpoint_id=endpoint_id,
        event="image.failed",
        payload={"event": "image.failed"},
        status="failed",
        attempts=9,
        last_error="gave up: answered 500",
    )
    page = admin_client.get("/admin/webhooks/webhookdelivery/")
    assert page.status_code == 200
    assert "gave up: answered 500" in page.content.decode()
    assert (
        admin_client.get(f"/admin/webhooks/webhookendpoint/{endpoint_id}/change/").status_code
        == 200
    )
