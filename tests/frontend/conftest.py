"""Browser fixtures: Debian's Chromium driven by Playwright against a live Django server.

Building and indexing a catalogue costs seconds, and the storefront tests only read it, so
each test module shares one: the database, media folder, vector store, tiny CLIP settings
and live server are set up once per module (instead of per test, as tests/conftest.py
does), and the database is flushed when the module ends, as ``transactional_db`` would.
Catalogue writes go through the real services; in autocommit, each on_commit hook runs at
once, so the eager Celery tasks index every image (tiny CLIP, bundled MiniLM) as it lands.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.db import connections
from django.test.utils import override_settings

from catalog.models import Merchant, Product, ProductImage
from catalog.sample_data import SampleProduct, create_sample_product, generate_products
from tests.factories import merchant_with_owner

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(django_settings.BASE_DIR) / "screenshots"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
CATALOGUE_SIZE = 30
TIMEOUT_MS = 20_000


def _forget_process_state() -> None:
    from django.core.cache import cache

    from search.encoding.registry import reset_encoders
    from search.index import generations
    from search.query.service import clear_caches
    from search.vector_index import reset_vector_index

    reset_vector_index()
    generations.reset()
    reset_encoders()
    clear_caches()
    cache.clear()


@pytest.fixture(autouse=True)
def _isolated_state():
    """Stands in for tests/conftest.py's per-test reset, which would empty the module's
    shared vector store; throttle counters and cached re-rank scores still start afresh."""
    from django.core.cache import cache

    from analytics.recorder import recorder

    cache.clear()
    recorder.background = False  # a test writes recorded searches by hand (recorder.flush)
    recorder.discard()
    yield


@pytest.fixture(scope="module")
def module_env(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[Path]:
    """Database access, a media folder and a vector store for the whole module."""
    root = tmp_path_factory.mktemp("frontend")
    overrides = override_settings(
        MEDIA_ROOT=root / "media",
        STORAGES={
            **django_settings.STORAGES,
            "default": {
                "BACKEND": "django.core.files.storage.FileSystemStorage",
                "OPTIONS": {"location": str(root / "media"), "base_url": "/media/"},
            },
        },
        VECTOR_BACKEND="embedded",
        VECTOR_PATH=root / "vectors",
        ALLOWED_HOSTS=[*django_settings.ALLOWED_HOSTS, "127.0.0.1"],
    )
    with django_db_blocker.unblock(), pytest.MonkeyPatch.context() as patch:
        patch.setenv("HF_HUB_OFFLINE", "1")
        overrides.enable()
        _forget_process_state()
        try:
            yield root
        finally:
            _forget_process_state()
            overrides.disable()
            # What transactional_db does after each test: leave no rows for the next module.
            call_command("flush", interactive=False, verbosity=0)
            # An open session would keep the test database from being dropped at the end.
            connections.close_all()


@pytest.fixture(scope="module")
def module_clip(module_env, tiny_clip_dir) -> Iterator[Path]:
    """The module-wide twin of tests/fixtures/models.py's clip_settings: the tiny CLIP."""
    from search.encoding.registry import reset_encoders

    with override_settings(
        CLIP_MODEL=str(tiny_clip_dir),
        CLIP_MODEL_REVISION="",
        CLIP_QUANTIZE_INT8=False,
        EMBED_BATCH_SIZE=4,
    ):
        reset_encoders()
        yield tiny_clip_dir
        reset_encoders()


@pytest.fixture(scope="module")
def server(module_env):
    """A live server for this module (pytest-django's class, bound to 127.0.0.1, any free port)."""
    from pytest_django.live_server_helper import LiveServer

    live = LiveServer("127.0.0.1")
    yield live
    live.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator:
    """One Chromium per module: Playwright's sync mode leaves an event loop marked as running
    in this thread, which later, non-browser test modules must not inherit."""
    from playwright.sync_api import sync_playwright

    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(
            f"{CHROMIUM} is missing: the browser tests need Debian's chromium (`make browser`)."
        )
    # Playwright's sync API runs an event loop in this thread; the tests' own ORM calls are
    # still plain synchronous code, so Django's async-safety guard would be a false alarm.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(
                executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
            )
            yield chromium
            chromium.close()
            # Leaving Playwright's sync mode changes the context Django keys its connections
            # on; close this one now, or it would keep the test database from being dropped.
            connections.close_all()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


def _new_page(browser, server, **options):
    context = browser.new_context(base_url=server.url, locale="en-US", timezone_id="UTC", **options)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.js_errors = errors  # a script error fails a test even when the page looks right
    return context, page


@pytest.fixture
def page(browser, server):
    context, page = _new_page(browser, server, viewport=DESKTOP)
    yield page
    context.close()


@pytest.fixture
def phone_page(browser, server):
    context, page = _new_page(
        browser, server, viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True
    )
    yield page
    context.close()


@pytest.fixture(scope="session")
def screenshot():
    """Save a screenshot under screenshots/ at the repository root (git-ignored)."""
    SCREENSHOTS.mkdir(exist_ok=True)

    def take(page, name: str, *, full_page: bool = False) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=full_page, animations="disabled")
        return path

    return take


@dataclass
class Shop:
    merchants: list[Merchant]
    products: list[Product]
    samples: list[SampleProduct]

    def merchant_name(self, sample: SampleProduct) -> str:
        return self.products[self.samples.index(sample)].merchant.name


@pytest.fixture(scope="module")
def shop(module_clip) -> Shop:
    """30 products from the sample generator over two merchants, one drawn image each, indexed."""
    harbour, _ = merchant_with_owner(name="Harbour Outfitters")
    maple, _ = merchant_with_owner(name="Maple Home")
    samples = generate_products(CATALOGUE_SIZE, seed=7)
    products = []
    for sample in samples:
        merchant = maple if sample.category in ("mugs", "lamps", "chairs", "kettles") else harbour
        product = create_sample_product(merchant, sample, image_size=256)
        products.append(product)
    statuses = list(ProductImage.objects.values_list("status", flat=True))
    assert statuses == [ProductImage.Status.INDEXED] * CATALOGUE_SIZE  # the fixture must be sound
    return Shop(merchants=[harbour, maple], products=products, samples=samples)
