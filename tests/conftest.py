"""Shared fixtures. Each test gets its own media folder and vector store directory."""

import pytest

pytest_plugins = ["tests.fixtures.models", "tests.fixtures.s3", "tests.fixtures.vectors"]


@pytest.fixture(autouse=True)
def _isolated_files(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "media"), "base_url": "/media/"},
        },
    }
    settings.VECTOR_PATH = tmp_path / "vectors"
