"""The rollup counts searches, clicks, carts and purchases per day, kind and words, for the
shop and per merchant; retention drops whole partitions."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from analytics import partitions
from analytics.models import DailyQueryStats, SearchEvent
from analytics.rollups import rollup_run
from analytics.tasks import maintain_partitions
from tests.analytics.conftest import event, post_events
from tests.analytics.factories import SearchEventFactory
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db


def test_the_rollup_counts_what_shoppers_did_after_each_search(events_unthrottled, settings):
    settings.ANALYTICS_LOW_SCORE_TEXT = 0.3
    mine, theirs = ProductFactory(), ProductFactory()
    shown = [mine.pk, theirs.pk]
    merchants = sorted([mine.merchant_id, theirs.merchant_id])
    boots = [
        SearchEventFactory(
            words="boots", product_ids=shown, scores=[0.8, 0.5], merchant_ids=merchants, took_ms=t
        )
        for t in (10.0, 30.0, 20.0)
    ]
    SearchEventFactory(words="boots", product_ids=[], scores=[], took_ms=5.0)  # nothing found
    SearchEventFactory(
        words="red hat", product_ids=[theirs.pk], scores=[0.2], merchant_ids=[theirs.merchant_id]
    )
    post_events(
        event("click", mine.pk, str(boots[0].search_id), position=1),
        event("click", theirs.pk, str(boots[0].search_id), position=2),
        event("click", theirs.pk, str(boots[1].search_id), position=2),
        event("add_to_cart", mine.pk, str(boots[0].search_id)),
        event("purchase", mine.pk, str(boots[0].search_id), quantity=2, price="10.00"),
        event("add_to_cart", mine.pk),  # not from a search: no search's figures change
    )

    run = rollup_run()

    shop = DailyQueryStats.objects.get(merchant_id=None, words="boots")
    assert (shop.searches, shop.zero_results, shop.low_score) == (4, 1, 0)
    assert (shop.clicks, shop.clicked_searches, shop.click_position_sum) == (3, 2, 5)
    assert (shop.add_to_carts, shop.purchases, shop.purchased_searches) == (1, 2, 1)
    assert str(shop.revenue) == "20.00"
    assert (shop.took_ms_sum, shop.took_ms_max) == (65.0, 30.0)
    assert shop.scored == 3 and shop.best_score_sum == pytest.approx(2.4)
    mine_row = DailyQueryStats.objects.get(merchant_id=mine.merchant_id, words="boots")
    assert (mine_row.searches, mine_row.clicks, mine_row.purchases) == (3, 1, 2)
    theirs_row = DailyQueryStats.objects.get(merchant_id=theirs.merchant_id, words="boots")
    assert (theirs_row.searches, theirs_row.clicks, theirs_row.add_to_carts) == (3, 2, 0)
    assert DailyQueryStats.objects.get(merchant_id=None, words="red hat").low_score == 1
    assert run.rows == DailyQueryStats.objects.count() == 5

    # Run again: the same figures, not twice them.
    rollup_run()
    assert DailyQueryStats.objects.get(merchant_id=None, words="boots").searches == 4


def test_retention_drops_old_days_and_creates_the_coming_ones(settings):
    settings.ANALYTICS_RETENTION_DAYS = 30
    today = timezone.now().date()
    old_day = today - timedelta(days=31)
    partitions.partitions_ensure(start=old_day, days=1)
    old = SearchEventFactory(created_at=datetime.combine(old_day, datetime.min.time(), tzinfo=UTC))
    recent = SearchEventFactory()

    result = maintain_partitions()

    assert partitions.partition_name("analytics_searchevent", old_day) in result["dropped"]
    assert not SearchEvent.objects.filter(search_id=old.search_id).exists()
    assert SearchEvent.objects.filter(search_id=recent.search_id).exists()
    days = [day for day, _ in partitions.partitions_list("analytics_searchevent")]
    assert today + timedelta(days=7) in days
    assert uuid.UUID(str(recent.search_id))
