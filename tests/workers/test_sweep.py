"""The periodic sweep re-queues images left pending too long or built with an older model."""

from datetime import timedelta

import pytest
from django.utils import timezone

from catalog import services
from catalog.models import ProductImage
from search.index import generations
from tests.factories import ProductFactory, jpeg_bytes
from workers.tasks import sweep_unindexed

pytestmark = pytest.mark.django_db


def test_sweep_indexes_stale_pending_and_old_model_images(clip_settings, settings):
    settings.SWEEP_PENDING_AFTER_SECONDS = 600
    product = ProductFactory()
    forgotten, recent, outdated = (
        services.product_image_create(product=product, data=jpeg_bytes(colour=(c, 10, 10)))
        for c in (30, 120, 220)
    )
    long_ago = timezone.now() - timedelta(hours=1)
    ProductImage.objects.filter(pk=forgotten.pk).update(updated_at=long_ago)  # its task was lost
    ProductImage.objects.filter(pk=outdated.pk).update(
        status="indexed", model_revision="clip-older-0000", updated_at=long_ago
    )

    queued = sweep_unindexed()  # eager in tests: the queued tasks run inline

    _, encoder = generations.live_images()
    states = {
        image.pk: (image.status, image.model_revision) for image in ProductImage.objects.all()
    }
    assert queued == 2
    assert states[forgotten.pk] == ("indexed", encoder.model_key)
    assert states[outdated.pk] == ("indexed", encoder.model_key)
    # The recent one was not queued by the sweep (its own task may still be on its way), but
    # its outbox row is due work of the same kind: the batch took it along.
    assert states[recent.pk] == ("indexed", encoder.model_key)
