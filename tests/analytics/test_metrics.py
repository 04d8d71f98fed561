"""/metrics: analytics events accepted, duplicate and dropped, and the rollup's lag."""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from analytics.models import SearchEvent
from analytics.recorder import SearchRecorder
from analytics.rollups import rollup_run
from tests.analytics.conftest import event, post_events
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db


def samples(client) -> dict[tuple[str, tuple], float]:
    text = client.get("/metrics").content.decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def counter(found, kind: str, outcome: str) -> float:
    key = ("visual_search_analytics_events_total", (("kind", kind), ("outcome", outcome)))
    return found.get(key, 0.0)


def test_metrics_count_events_and_show_the_rollup_lag(client, settings, events_unthrottled):
    settings.METRICS_ENABLED, settings.METRICS_TOKEN = True, ""
    settings.ANALYTICS_QUEUE_SIZE = 1
    before = samples(client)
    product = ProductFactory()
    click = event("click", product.pk, str(uuid.uuid4()), position=1)
    post_events(click, event("add_to_cart", product.pk))
    post_events(click)  # a retry
    full = SearchRecorder()
    full.background = False
    for _ in range(3):  # one fits in the queue, two are dropped
        full.submit(lambda: SearchEvent(search_id=uuid.uuid4(), created_at=timezone.now()))
    rollup_run(now=timezone.now() - timedelta(seconds=90))

    after = samples(client)

    assert counter(after, "click", "accepted") - counter(before, "click", "accepted") == 1
    assert (
        counter(after, "add_to_cart", "accepted") - counter(before, "add_to_cart", "accepted") == 1
    )
    assert counter(after, "click", "duplicate") - counter(before, "click", "duplicate") == 1
    assert counter(after, "search", "dropped") - counter(before, "search", "dropped") == 2
    lag = after[("visual_search_analytics_rollup_lag_seconds", ())]
    assert 90 <= lag < 600
