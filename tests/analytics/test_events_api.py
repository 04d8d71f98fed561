"""POST /api/v1/events/: batches, idempotent by event id, 4xx naming the field, throttled."""

import uuid

import pytest
from rest_framework.test import APIClient

from analytics.models import InteractionEvent
from tests.analytics.conftest import event, post_events
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db


def test_a_batch_is_recorded_once_however_often_it_is_sent(events_unthrottled):
    product = ProductFactory()
    search_id = str(uuid.uuid4())
    batch = [
        event("click", product.pk, search_id, position=2),
        event("add_to_cart", product.pk, search_id),
        event("purchase", product.pk, search_id, quantity=2, price="19.50"),
    ]

    first = post_events(*batch)
    again = post_events(*batch)

    assert first.status_code == 202 and first.json() == {"accepted": 3, "duplicates": 0}
    assert again.status_code == 202 and again.json() == {"accepted": 0, "duplicates": 3}
    rows = InteractionEvent.objects.order_by("kind")
    assert [(row.kind, row.merchant_id, row.position) for row in rows] == [
        ("add_to_cart", product.merchant_id, None),
        ("click", product.merchant_id, 2),
        ("purchase", product.merchant_id, None),
    ]
    assert str(rows[2].price) == "19.50" and rows[2].quantity == 2


BAD_BATCHES = [
    ("no events", {"events": []}, "events"),
    ("not a list", {"events": "click"}, "events"),
    ("unknown kind", {"events": [event("view", 1)]}, "kind"),
    ("click without position", {"events": [event("click", 1)]}, "position"),
    ("position 0", {"events": [event("click", 1, position=0)]}, "position"),
    ("event id not a uuid", {"events": [{**event("click", 1, position=1), "id": "7"}]}, "id"),
    ("negative price", {"events": [event("purchase", 1, price="-1")]}, "price"),
    (
        "visitor id with an email",
        {"events": [event("click", 1, position=1, visitor_id="a@b.c")]},
        "visitor_id",
    ),
    ("too many", {"events": [event("click", 1, position=1)] * 101}, "events"),
    ("not an object", [1, 2], "body"),
]


@pytest.mark.parametrize(("case", "body", "field"), BAD_BATCHES, ids=[c[0] for c in BAD_BATCHES])
def test_bad_batches_are_refused_naming_the_field(events_unthrottled, case, body, field):
    response = APIClient().post("/api/v1/events/", body, format="json")

    assert response.status_code == 400
    assert field in response.json()["detail"]
    assert not InteractionEvent.objects.exists()


def test_events_are_throttled_per_client(settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "analytics_events": "2/min",
        },
    }
    product = ProductFactory()
    codes = [post_events(event("add_to_cart", product.pk)).status_code for _ in range(3)]

    assert codes == [202, 202, 429]
