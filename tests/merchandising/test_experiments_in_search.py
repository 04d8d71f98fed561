"""A running experiment really changes the searches of the visitors in each variant, says so
in the response and the recorded search, and its results page counts what followed; the
shop's search settings apply to every search."""

import pytest
from rest_framework.test import APIClient

from analytics.recorder import recorder
from catalog.models import Product
from merchandising.experiments import hooks, selectors
from merchandising.experiments.assignment import assign
from merchandising.models import Experiment, Rule, SearchSettings, Variant
from search.query.service import search as run_query
from search.query.types import SearchQuery
from tests.analytics.conftest import event, events_unthrottled, post_events  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("generous_throttles")]


@pytest.fixture(autouse=True)
def _fresh_settings(settings):
    settings.MERCHANDISING_RULES_REFRESH_MS = 0
    hooks.forget()
    yield
    hooks.forget()


def running(*variants: dict) -> Experiment:
    experiment = Experiment.objects.create(name="test", status="running")
    experiment.started_at = experiment.created_at
    experiment.save(update_fields=["started_at"])
    for position, fields in enumerate(variants):
        Variant.objects.create(experiment=experiment, position=position, **fields)
    return experiment


def visitor_in(experiment: Experiment, name: str) -> str:
    variants = list(experiment.variants.order_by("position"))
    return next(
        visitor
        for visitor in (f"visitor-{n:05d}" for n in range(10_000))
        if assign(experiment.pk, visitor, variants).name == name
    )


def search(visitor: str = "", **body):
    headers = {"HTTP_X_VISITOR_ID": visitor} if visitor else {}
    response = APIClient().post("/api/v1/search/", body, format="json", **headers)
    assert response.status_code == 200, response.content
    return response.json()


def ids(body) -> list[int]:
    return [row["product_id"] for row in body["results"]]


def test_each_variant_searches_with_its_own_fusion_weights(shop):
    experiment = running(
        {"name": "control", "share": 50},
        {"name": "keywords", "share": 50, "weight_text": 0.0, "weight_image": 0.0},
    )
    control, keywords = visitor_in(experiment, "control"), visitor_in(experiment, "keywords")

    as_control = search(control, text="linen dress", limit=10)
    as_keywords = search(keywords, text="linen dress", limit=10)

    assert as_keywords["experiment"] == {"id": experiment.pk, "name": "test", "variant": "keywords"}
    assert as_control["experiment"]["variant"] == "control"
    assert as_keywords["legs"] == ["keywords"]
    assert ids(as_keywords) != ids(as_control)
    # The variant is the same search as asking for its weights outright.
    explicit = search(text="linen dress", limit=10, weights={"text": 0, "image": 0})
    assert ids(as_keywords) == ids(explicit)
    assert ids(as_control) == ids(search(text="linen dress", limit=10))


def test_a_variants_rrf_k_changes_the_fused_scores(shop):
    experiment = running(
        {"name": "control", "share": 50}, {"name": "k60", "share": 50, "rrf_k": 60}
    )

    body = search(visitor_in(experiment, "k60"), text="leather boot", limit=8)
    plain = run_query(SearchQuery(text="leather boot", limit=8))
    k60 = run_query(SearchQuery(text="leather boot", limit=8, rrf_k=60))

    scores = [row["score"] for row in body["results"]]
    assert scores == [item.score for item in k60.items]
    assert scores != [item.score for item in plain.items]


def test_a_variant_without_rules_shows_what_a_rule_hides(shop):
    boot = Product.objects.get(pk=ids(search(text="leather boot"))[0])
    Rule.objects.create(name="recall", kind="hide", query="leather boot", product=boot)
    experiment = running(
        {"name": "control", "share": 50}, {"name": "no-rules", "share": 50, "rules": False}
    )

    with_rules = search(visitor_in(experiment, "control"), text="leather boot")
    without = search(visitor_in(experiment, "no-rules"), text="leather boot")

    assert boot.pk not in ids(with_rules) and [r["kind"] for r in with_rules["rules"]] == ["hide"]
    assert boot.pk in ids(without) and without["rules"] == []


def test_a_visitor_without_an_id_gets_the_control_and_is_not_counted(shop):
    experiment = running(
        {"name": "control", "share": 1}, {"name": "keywords", "share": 99, "weight_text": 0.0}
    )

    anonymous = search(text="linen dress", limit=10)
    as_control = search(visitor_in(experiment, "control"), text="linen dress", limit=10)
    recorder.flush()

    assert anonymous["experiment"] is None
    assert ids(anonymous) == ids(as_control)
    counted = selectors.experiment_results(experiment=experiment).variants
    assert [v.searches for v in counted] == [1, 0]


def test_the_shops_search_settings_apply_to_every_search_and_a_request_may_override(shop):
    before = search(text="linen dress", limit=10)
    SearchSettings.objects.create(pk=1, weight_text=0.0, weight_image=0.0)
    hooks.forget()

    after = search(text="linen dress", limit=10)
    asked = search(text="linen dress", limit=10, weights={"text": 1, "image": 1})

    assert after["legs"] == ["keywords"] and ids(after) != ids(before)
    assert ids(asked) == ids(before)  # the request's own weights win


@pytest.mark.usefixtures("events_unthrottled")
def test_the_results_count_each_variants_searches_clicks_and_carts(shop):
    experiment = running({"name": "control", "share": 50}, {"name": "b", "share": 50})
    control, b = visitor_in(experiment, "control"), visitor_in(experiment, "b")
    searches = {
        "control": [search(control, text="linen dress") for _ in range(3)],
        "b": [search(b, text="linen dress") for _ in range(2)],
    }
    recorder.flush()
    first = searches["control"][0]
    post_events(
        event("click", ids(first)[2], first["search_id"], position=3),
        event("click", ids(first)[0], first["search_id"], position=1),
        event("add_to_cart", ids(first)[0], first["search_id"]),
        event("click", ids(searches["b"][1])[0], searches["b"][1]["search_id"], position=1),
    )

    results = selectors.experiment_results(experiment=experiment)

    control_stats, b_stats = results.variants
    assert (control_stats.searches, b_stats.searches) == (3, 2)
    assert control_stats.rates["ctr"].successes == 1 and b_stats.rates["ctr"].successes == 1
    assert control_stats.rates["add_to_cart"].successes == 1
    assert control_stats.click_position.value == 2.0  # clicks at 3 and 1
    assert results.verdict.text.startswith("Not yet significant")
