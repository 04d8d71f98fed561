"""Shared fixtures. Each test gets its own media folder and vector store directory, and
starts with no process-wide state (vector index handle, encoders, caches) from another test."""

import pytest

pytest_plugins = ["tests.fixtures.models", "tests.fixtures.s3", "tests.fixtures.vectors"]


@pytest.fixture(autouse=True)
def _isolated_state(settings, tmp_path):
    from django.core.cache import cache

    from analytics.recorder import recorder
    from search.index import generations
    from search.query.service import clear_caches
    from search.vector_index import reset_vector_index

    settings.MEDIA_ROOT = tmp_path / "media"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "media"), "base_url": "/media/"},
        },
    }
    settings.VECTOR_BACKEND = "embedded"
    # fp32 unless a test asks for another precision: auto would follow the CPU a test runs on.
    settings.CLIP_PRECISION = "fp32"
    settings.TEXT_PRECISION = "fp32"
    # torch unless a test asks for ONNX Runtime, whose exports then go to the test's own folder.
    settings.TEXT_RUNTIME = "torch"
    settings.ONNX_CACHE_DIR = tmp_path / "onnx"
    settings.VECTOR_PATH = tmp_path / "vectors"
    reset_vector_index()
    generations.reset()
    clear_caches()
    cache.clear()
    # Searches are recorded by a background thread in production; a test flushes by hand,
    # inside its own transaction (analytics/recorder.py).
    recorder.background = False
    recorder.discard()
    yield
    reset_vector_index()
    generations.reset()
    clear_caches()
