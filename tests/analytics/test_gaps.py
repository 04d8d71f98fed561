"""Demand gaps: poor photo searches from categories the catalogue lacks form clusters, ranked
by size, each shown through catalogue images and products, never the shopper's photo."""

import csv
import io
from datetime import timedelta

import numpy as np
import pytest
from django.test import Client
from django.utils import timezone

from analytics.gaps import demand_gaps
from analytics.models import SearchEvent
from search.query.nearest import live_image_model
from tests.analytics.factories import SearchEventFactory
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

SIZES = (12, 8, 5)
DASHBOARD = "/admin/analytics/dailyquerystats/"


def photo_searches(centre: np.ndarray, count: int, rng, model: str, *, spread=0.04, score=0.3):
    for _ in range(count):
        vector = centre + rng.normal(0, spread, centre.shape)
        vector /= np.linalg.norm(vector)
        SearchEventFactory(
            kind="photo",
            words="",
            model=model,
            best_score=score,
            query_vector=vector.astype(np.float32).tobytes(),
            photo_hash="0123456789abcdef",
        )


def test_poor_photo_searches_cluster_into_demand_gaps_ranked_by_size(catalogue, settings):
    settings.ANALYTICS_LOW_SCORE_PHOTO = 0.6
    model = live_image_model()
    rng = np.random.default_rng(5)
    dim = 16  # the tiny CLIP's
    centres = rng.normal(size=(len(SIZES), dim))
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    for centre, size in zip(centres, SIZES, strict=True):
        photo_searches(centre, size, rng, model)
    # one-off photos (noise), a good match (not a gap) and another model's vectors (not comparable)
    for _ in range(4):
        photo_searches(rng.normal(size=dim), 1, rng, model, spread=0)
    photo_searches(centres[0], 6, rng, model, score=0.9)
    photo_searches(centres[1], 6, rng, "some-other-clip@v1")

    gaps = demand_gaps(merchant=None, since=timezone.now() - timedelta(days=1), min_cluster_size=4)

    assert [gap.size for gap in gaps] == list(SIZES)
    catalogue_ids = {product.pk for product in catalogue}
    for gap, centre in zip(gaps, centres, strict=True):
        assert gap.cohesion > 0.9
        # each gap is the group drawn around its centre, not a mix
        medoid = SearchEvent.objects.get(search_id=gap.medoid_search_id).vector()
        assert float(medoid @ centre) > 0.95
        assert gap.nearest and {item.product_id for item in gap.nearest} <= catalogue_ids
        assert gap.thumbnail_url and "/media/products/" in gap.thumbnail_url
        assert len(gap.words) == 3
        assert gap.words[0][1] >= gap.words[-1][1]

    # and the dashboard lists them, largest first, in its page and its CSV
    admin = UserFactory(is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(admin)
    page = client.get(DASHBOARD)
    assert [gap["size"] for gap in page.context["gaps"]] == list(SIZES)
    assert page.context["gaps"][0]["thumbnail_url"] in page.content.decode()
    export = client.get(DASHBOARD, {"export": "gaps"})
    rows = list(csv.DictReader(io.StringIO(export.content.decode())))
    assert [row["size"] for row in rows] == [str(size) for size in SIZES]


def test_merchant_staff_see_their_closest_products_only(catalogue, settings):
    model = live_image_model()
    rng = np.random.default_rng(9)
    centre = rng.normal(size=16)
    centre /= np.linalg.norm(centre)
    merchant = catalogue[0].merchant
    for _ in range(6):
        vector = centre + rng.normal(0, 0.03, 16)
        SearchEventFactory(
            kind="photo",
            model=model,
            best_score=0.2,
            merchant_ids=[merchant.pk],
            query_vector=(vector / np.linalg.norm(vector)).astype(np.float32).tobytes(),
        )

    gaps = demand_gaps(
        merchant=merchant, since=timezone.now() - timedelta(days=1), min_cluster_size=4
    )

    assert [gap.size for gap in gaps] == [6]
    assert {item.product.merchant_id for item in gaps[0].nearest} == {merchant.pk}
