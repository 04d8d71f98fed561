"""Images by URL: fetched by the worker task with size, type and time limits, and never from
private, loopback, link-local or reserved addresses (SSRF), redirects included."""

from datetime import timedelta

import pytest
from django.utils import timezone

from catalog import remote
from catalog.models import ProductImage, ProductImageFetch
from tests.catalog.test_merchant_api import client_for
from tests.factories import ProductFactory, jpeg_bytes, merchant_with_owner
from tests.loopback import Answer, LoopbackServer
from workers import tasks

pytestmark = pytest.mark.django_db

JPEG = {"Content-Type": "image/jpeg"}


@pytest.fixture
def shop(django_capture_on_commit_callbacks):
    merchant, user = merchant_with_owner(name="Url Shop")
    return ProductFactory(merchant=merchant), Client(
        client_for(user), django_capture_on_commit_callbacks
    )


class Client:
    """The merchant's API client, running what is queued after commit (the worker, eager)."""

    def __init__(self, client, on_commit):
        self.client, self.on_commit = client, on_commit

    def post(self, *args, **kwargs):
        with self.on_commit(execute=True):
            return self.client.post(*args, **kwargs)

    def get(self, *args, **kwargs):
        return self.client.get(*args, **kwargs)


@pytest.fixture
def server():
    with LoopbackServer() as running:
        yield running


@pytest.fixture
def loopback_allowed(settings):
    """The image server in these tests is on 127.0.0.1: exempt that one address (the
    operator's IMAGE_FETCH_ALLOWED_NETWORKS), the check itself unchanged."""
    settings.IMAGE_FETCH_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    settings.IMAGE_FETCH_TIMEOUT_SECONDS = 1.0
    settings.IMAGE_FETCH_MAX_BYTES = 50_000
    return settings


def fetch(client, product, url):
    """Ask for the URL; then, as a merchant polls, the fetch as it stands after the worker."""
    path = f"/api/v1/merchant/products/{product.pk}/image-fetches/"
    response = client.post(path, {"url": url}, format="json")
    if response.status_code != 202:
        return response
    return client.get(f"{path}{response.json()['id']}/")


def test_an_image_url_is_fetched_and_taken_in(shop, server, loopback_allowed, clip_settings):
    # Given an image on a reachable server
    product, client = shop
    server.answer("/shoe.jpg", Answer(body=jpeg_bytes(), headers=JPEG))
    # When the merchant adds it by URL (the worker runs inline here)
    response = fetch(client, product, server.url("/shoe.jpg"))
    # Then the fetch is done and the product has the image
    body = response.json()
    assert body["status"] == "done"
    assert body["image"]["id"] == ProductImage.objects.get(product=product).pk
    # ... and the same URL again leaves one image, the fetch pointing at it
    again = fetch(client, product, server.url("/shoe.jpg")).json()
    assert again["status"] == "done"
    assert again["image"]["id"] == body["image"]["id"]
    assert ProductImage.objects.filter(product=product).count() == 1


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        (Answer(body=b"x" * 60_000, headers=JPEG), "larger than the 50,000 byte limit"),
        (
            Answer(body=b"x" * 60_000, headers=JPEG, drip_bytes=8192),
            "larger than the 50,000 byte limit",
        ),
        (
            Answer(body=jpeg_bytes(), headers=JPEG, drip_bytes=32, drip_seconds=0.25),
            "took longer than 1.0 s",
        ),
        (Answer(body=b"<html>", headers={"Content-Type": "text/html"}), "text/html"),
        (Answer(body=b"<html>not an image", headers=JPEG), "image"),
        (Answer(status=404, body=b"gone"), "answered 404"),
    ],
    ids=[
        "declared-too-big",
        "streamed-too-big",
        "slow",
        "not-an-image-type",
        "not-image-bytes",
        "404",
    ],
)
def test_bad_answers_fail_the_fetch_with_a_reason(shop, server, loopback_allowed, answer, reason):
    product, client = shop
    server.answer("/img", answer)
    response = fetch(client, product, server.url("/img")).json()
    assert response["status"] == "failed"
    assert reason in response["failure_reason"]
    assert not ProductImage.objects.filter(product=product).exists()


def test_a_failing_server_is_retried_then_succeeds(shop, server, loopback_allowed, clip_settings):
    product, client = shop
    server.answer(
        "/flaky.jpg", Answer(status=503, body=b"busy"), Answer(body=jpeg_bytes(), headers=JPEG)
    )
    response = fetch(client, product, server.url("/flaky.jpg")).json()
    assert response["status"] == "done"
    assert response["attempts"] == 2


def test_a_redirect_to_a_private_address_is_refused(shop, server, loopback_allowed):
    # Given an allowed server that redirects to the cloud metadata address
    product, client = shop
    server.answer(
        "/moved", Answer(status=302, headers={"Location": "http://169.254.169.254/latest/"})
    )
    # When the merchant gives the allowed URL
    response = fetch(client, product, server.url("/moved")).json()
    # Then the redirect's target is refused before any connection
    assert response["status"] == "failed"
    assert "169.254.169.254" in response["failure_reason"]
    assert "only public addresses" in response["failure_reason"]


def test_loopback_is_refused_without_the_exemption(shop, server):
    # Given the default settings (no exempt networks) and a server on 127.0.0.1
    product, client = shop
    server.answer("/shoe.jpg", Answer(body=jpeg_bytes(), headers=JPEG))
    # When the merchant gives its URL by name
    response = fetch(client, product, f"http://localhost:{server.port}/shoe.jpg").json()
    # Then the fetch fails without a request reaching the server
    assert response["status"] == "failed"
    assert "only public addresses" in response["failure_reason"]
    assert server.received == []


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/a.jpg",
        "http://10.1.2.3/a.jpg",
        "http://192.168.0.10/a.jpg",
        "http://172.16.5.4/a.jpg",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/a.jpg",
        "http://[::ffff:10.0.0.1]/a.jpg",
        "http://[fe80::1]/a.jpg",
        "http://0.0.0.0/a.jpg",
        "http://100.64.0.1/a.jpg",
        "http://224.0.0.1/a.jpg",
        "http://240.0.0.1/a.jpg",
    ],
)
def test_private_and_reserved_addresses_are_refused(url):
    with pytest.raises(remote.FetchRefused, match="only public addresses"):
        remote.check_url(url)


def test_a_private_address_is_refused_at_once_by_the_api(shop):
    product, client = shop
    response = fetch(client, product, "http://169.254.169.254/latest/meta-data/")
    assert response.status_code == 400
    assert response.json()["detail"].startswith("url:")
    assert not ProductImageFetch.objects.exists()


@pytest.mark.parametrize(
    ("url", "message"),
    [("ftp://example.com/a.jpg", "url:"), ("file:///etc/passwd", "url:")],
)
def test_other_schemes_are_refused(shop, url, message):
    product, client = shop
    response = fetch(client, product, url)
    assert response.status_code == 400
    assert message in response.json()["detail"]


def test_a_name_resolving_to_a_private_address_is_refused(monkeypatch):
    # Given a public-looking name that resolves to an internal address (DNS pointing inside)
    def resolve(host, port, **kwargs):
        return [(2, 1, 6, "", ("10.0.0.7", port))]

    monkeypatch.setattr(remote.socket, "getaddrinfo", resolve)
    # Then the fetch refuses it before connecting
    with pytest.raises(remote.FetchRefused, match="10.0.0.7"):
        remote.fetch_image("https://images.example.com/a.jpg")


def test_a_fetch_whose_task_was_lost_is_swept_up(shop, server, loopback_allowed, settings):
    # Given a fetch left pending (its task was lost) for longer than the sweep waits
    product, _ = shop
    server.answer("/late.jpg", Answer(body=jpeg_bytes(colour=(1, 2, 3)), headers=JPEG))
    fetch_row = ProductImageFetch.objects.create(product=product, url=server.url("/late.jpg"))
    ProductImageFetch.objects.filter(pk=fetch_row.pk).update(
        updated_at=timezone.now() - timedelta(seconds=settings.SWEEP_PENDING_AFTER_SECONDS + 1)
    )
    # When the sweep runs (the worker inline)
    swept = tasks.sweep_feed_work()
    # Then the fetch is done
    fetch_row.refresh_from_db()
    assert swept["fetches"] == 1
    assert fetch_row.status == "done"
