"""The click model end to end: recorded searches and clicks -> fit_click_model -> a
click-model rule moves the product shoppers click more than its place explains, only with
MERCHANDISING_CLICK_MODEL on, and only for the query it learned."""

import uuid

import numpy as np
import pytest
from django.core.management import call_command
from django.utils import timezone
from rest_framework.test import APIClient

from analytics.models import InteractionEvent, SearchEvent
from merchandising.models import ClickBoost, ClickModelRun, Rule

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("generous_throttles")]

EXAMINATION = np.array([1.0, 0.6, 0.45, 0.35, 0.3, 0.25, 0.2, 0.18, 0.16, 0.15])


def search(**body):
    response = APIClient().post("/api/v1/search/", body, format="json")
    assert response.status_code == 200, response.content
    return response.json()


def ids(body):
    return [row["product_id"] for row in body["results"]]


def record_sessions(words: str, shown: list[int], liked: int, sessions: int, seed: int) -> None:
    """Searches for `words` showing `shown` (a third of them shuffled, as rankings change),
    and clicks with P = examination(place) x attractiveness: 0.6 for `liked`, 0.1 for others."""
    rng = np.random.default_rng(seed)
    now = timezone.now()
    searches, clicks = [], []
    for _ in range(sessions):
        order = list(rng.permutation(shown)) if rng.random() < 0.33 else list(shown)
        search_id = uuid.uuid4()
        searches.append(
            SearchEvent(
                search_id=search_id,
                created_at=now,
                kind="text",
                words=words,
                product_ids=[int(p) for p in order],
            )
        )
        for place, product_id in enumerate(order):
            appeal = 0.6 if product_id == liked else 0.1
            if rng.random() < EXAMINATION[place] * appeal:
                clicks.append(
                    InteractionEvent(
                        event_id=uuid.uuid4(),
                        created_at=now,
                        kind="click",
                        search_id=search_id,
                        product_id=int(product_id),
                        position=place + 1,
                    )
                )
    SearchEvent.objects.bulk_create(searches)
    InteractionEvent.objects.bulk_create(clicks)


def test_the_learned_boost_moves_the_product_clicked_beyond_its_place(shop, settings):
    before = ids(search(text="leather boot", limit=10))
    other_before = ids(search(text="linen dress", limit=10))
    liked = before[7]
    record_sessions("leather boots", before, liked=liked, sessions=400, seed=7)
    call_command("fit_click_model", stdout=open("/dev/null", "w"))  # noqa: SIM115
    rule = Rule.objects.create(name="learned", kind="click_model", match="any", weight=8)

    settings.MERCHANDISING_CLICK_MODEL = False
    off = search(text="leather boot", limit=10)
    settings.MERCHANDISING_CLICK_MODEL = True
    on = search(text="leather boot", limit=10)
    other = search(text="linen dress", limit=10)

    learned = ClickBoost.objects.get(product_id=liked)
    assert learned.words == "boot leather" and learned.boost == 1.0
    assert ClickModelRun.objects.get().examination[1] < 0.8  # position bias was found
    assert ids(off) == before and off["rules"] == []
    assert ids(on).index(liked) < 7
    assert on["results"][ids(on).index(liked)]["rules"] == [str(rule.pk)]
    assert on["rules"] == [{"id": str(rule.pk), "kind": "click_model", "name": "learned"}]
    assert ids(other) == other_before and other["rules"] == []


def test_the_top_product_clicked_for_its_place_alone_earns_nothing(shop):
    shown = ids(search(text="leather boot", limit=10))
    record_sessions("leather boot", shown, liked=shown[7], sessions=400, seed=8)

    call_command("fit_click_model", stdout=open("/dev/null", "w"))  # noqa: SIM115

    boosts = dict(ClickBoost.objects.values_list("product_id", "boost"))
    assert shown[0] not in boosts  # the most clicks, all explained by the first place
    assert max(boosts, key=boosts.__getitem__) == shown[7]
    assert sorted(boosts.values())[-2:-1] < [0.5]  # the rest is noise, if anything


def test_too_few_impressions_earn_no_boost(shop):
    shown = ids(search(text="leather boot", limit=10))
    record_sessions("leather boot", shown, liked=shown[7], sessions=400, seed=9)

    call_command(
        "fit_click_model",
        "--min-impressions",
        "1000",
        stdout=open("/dev/null", "w"),  # noqa: SIM115
    )

    run = ClickModelRun.objects.get()
    assert run.searches == 400 and run.boosts == 0
    assert not ClickBoost.objects.exists()


def test_a_click_model_rule_needs_a_weight_in_range(shop):
    from django.core.exceptions import ValidationError

    rule = Rule(name="learned", kind="click_model", match="any", weight=0)
    with pytest.raises(ValidationError) as raised:
        rule.full_clean()
    assert "weight" in raised.value.message_dict
