import uuid

import factory
from django.utils import timezone

from analytics.models import InteractionEvent, SearchEvent


class SearchEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SearchEvent

    search_id = factory.LazyFunction(uuid.uuid4)
    created_at = factory.LazyFunction(timezone.now)
    kind = "text"
    words = "boots"
    product_ids = factory.LazyFunction(list)
    scores = factory.LazyFunction(list)
    merchant_ids = factory.LazyFunction(list)
    result_count = factory.LazyAttribute(lambda row: len(row.product_ids))
    best_score = factory.LazyAttribute(lambda row: max(row.scores) if row.scores else None)
    took_ms = 12.0


class ClickFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = InteractionEvent

    event_id = factory.LazyFunction(uuid.uuid4)
    created_at = factory.LazyFunction(timezone.now)
    kind = "click"
    product_id = 0
    position = 1
    visitor_id = factory.Sequence(lambda n: f"visitor-{n:04d}")
