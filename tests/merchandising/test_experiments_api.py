"""Staff API for experiments and the shop's search settings: create, list, start, end,
results; 400s naming the field; shop staff only (merchant staff get 403)."""

import pytest
from django.contrib.auth.models import Permission
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from merchandising.experiments import hooks
from merchandising.models import Experiment, SearchSettings
from search.models import IndexGeneration
from tests.factories import UserFactory, merchant_with_owner

pytestmark = pytest.mark.django_db

URL = "/api/v1/merchandising/experiments/"


def client_for(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")
    return client


@pytest.fixture
def staff():
    user = UserFactory(is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="manage_experiments"))
    return client_for(user)


@pytest.fixture(autouse=True)
def _fresh_settings():
    hooks.forget()
    yield
    hooks.forget()


def body(**changes) -> dict:
    return {
        "name": "RRF k 30 vs 10",
        "metric": "ctr",
        "variants": [
            {"name": "control", "share": 50},
            {"name": "k30", "share": 50, "rrf_k": 30, "weight_keywords": 2.0, "rerank": "off"},
        ],
        **changes,
    }


def test_shop_staff_create_list_start_and_end_an_experiment_applying_the_winner(staff):
    created = staff.post(URL, body(), format="json")
    assert created.status_code == 201, created.content
    experiment = created.json()
    assert experiment["status"] == "draft"
    assert [v["name"] for v in experiment["variants"]] == ["control", "k30"]
    assert [v["control"] for v in experiment["variants"]] == [True, False]
    assert staff.get(URL).json()["count"] == 1

    started = staff.post(f"{URL}{experiment['id']}/start/")
    assert (started.status_code, started.json()["status"]) == (200, "running")
    assert started.json()["started_at"] is not None

    ended = staff.post(f"{URL}{experiment['id']}/end/", {"winner": "k30"}, format="json")
    assert (ended.status_code, ended.json()["status"], ended.json()["winner"]) == (
        200,
        "ended",
        "k30",
    )
    shop = SearchSettings.objects.get(pk=1)
    assert (shop.rrf_k, shop.weight_keywords, shop.rerank) == (30, 2.0, "off")
    assert shop.weight_image is None  # what the winner left empty stays the shop's
    settings = staff.get("/api/v1/merchandising/search-settings/").json()
    assert (settings["rrf_k"], settings["weight_keywords"]) == (30, 2.0)


def test_ending_without_a_significant_winner_leaves_the_shops_settings_alone(staff):
    experiment = staff.post(URL, body(), format="json").json()
    staff.post(f"{URL}{experiment['id']}/start/")

    ended = staff.post(f"{URL}{experiment['id']}/end/", {}, format="json")

    assert (ended.json()["status"], ended.json()["winner"]) == ("ended", None)
    assert not SearchSettings.objects.filter(rrf_k__isnull=False).exists()


def test_only_one_experiment_runs_at_a_time_and_only_drafts_start(staff):
    first = staff.post(URL, body(), format="json").json()
    second = staff.post(URL, body(name="another"), format="json").json()
    staff.post(f"{URL}{first['id']}/start/")

    refused = staff.post(f"{URL}{second['id']}/start/")
    again = staff.post(f"{URL}{first['id']}/start/")

    assert refused.status_code == 400 and "status" in refused.json()["detail"]
    assert again.status_code == 400 and "status" in again.json()["detail"]
    assert Experiment.objects.filter(status="running").count() == 1


def _variants(*variants):
    return {"variants": list(variants)}


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"name": ""}, "name"),
        ({"metric": "revenue"}, "metric"),
        (_variants({"name": "only", "share": 100}), "variants"),
        (_variants({"name": "a", "share": 50}, {"name": "b", "share": 40}), "variants"),
        (_variants({"name": "a", "share": 50}, {"name": "a", "share": 50}), "variants"),
        (_variants({"name": "a", "share": 0}, {"name": "b", "share": 100}), "variants.0.share"),
        (_variants({"name": "a b", "share": 50}, {"name": "b", "share": 50}), "variants.0.name"),
        (
            _variants({"name": "a", "share": 50}, {"name": "b", "share": 50, "rrf_k": 0}),
            "variants.1.rrf_k",
        ),
        (
            _variants({"name": "a", "share": 50}, {"name": "b", "share": 50, "weight_text": 11}),
            "variants.1.weight_text",
        ),
        (
            _variants(
                {"name": "a", "share": 50},
                {
                    "name": "b",
                    "share": 50,
                    "weight_image": 0,
                    "weight_text": 0,
                    "weight_keywords": 0,
                },
            ),
            "variants.1.weight_image",
        ),
        (
            _variants({"name": "a", "share": 50}, {"name": "b", "share": 50, "rerank": "maybe"}),
            "variants.1.rerank",
        ),
        (
            _variants(
                {"name": "a", "share": 50}, {"name": "b", "share": 50, "image_collection": "nope"}
            ),
            "variants.1.image_collection",
        ),
        (
            _variants({"name": "a", "share": 50}, {"name": "b", "share": 50, "colour": "red"}),
            "variants.1.colour",
        ),
        ({"owner": "me"}, "owner"),
    ],
)
def test_bad_input_is_a_400_naming_the_field_and_leaves_nothing(staff, changes, field):
    response = staff.post(URL, body(**changes), format="json")

    assert response.status_code == 400
    assert response.json()["detail"].startswith(f"{field}:")
    assert not Experiment.objects.exists()


def test_a_variant_may_query_a_built_image_collection(staff):
    IndexGeneration.objects.create(
        kind=IndexGeneration.Kind.IMAGES,
        collection="vs_images_candidate",
        model_name="org/clip-shop",
        model_revision="abc",
        model_key="candidate",
        dim=512,
    )
    variants = _variants(
        {"name": "live", "share": 50},
        {"name": "candidate", "share": 50, "image_collection": "vs_images_candidate"},
    )

    assert staff.post(URL, body(**variants), format="json").status_code == 201


@pytest.mark.parametrize(
    ("changes", "field"),
    [({"rrf_k": 5000}, "rrf_k"), ({"weight_image": -1}, "weight_image"), ({"x": 1}, "x")],
)
def test_search_settings_refuse_bad_values_by_field(staff, changes, field):
    response = staff.patch("/api/v1/merchandising/search-settings/", changes, format="json")

    assert response.status_code == 400 and response.json()["detail"].startswith(f"{field}:")


def test_merchant_staff_and_anonymous_callers_cannot_see_or_touch_experiments(staff):
    experiment = staff.post(URL, body(), format="json").json()
    _, owner = merchant_with_owner(name="Harbour")
    merchant = client_for(owner)

    codes = [
        merchant.get(URL).status_code,
        merchant.post(URL, body(), format="json").status_code,
        merchant.get(f"{URL}{experiment['id']}/").status_code,
        merchant.post(f"{URL}{experiment['id']}/start/").status_code,
        merchant.get(f"{URL}{experiment['id']}/results/").status_code,
        merchant.patch(
            "/api/v1/merchandising/search-settings/", {"rrf_k": 3}, format="json"
        ).status_code,
        APIClient().get(URL).status_code,
    ]

    assert codes[:6] == [403] * 6
    assert codes[6] in (401, 403)
    assert Experiment.objects.get().status == "draft"
    assert Experiment.objects.count() == 1


def test_a_drafts_results_say_there_is_no_traffic_yet(staff):
    experiment = staff.post(URL, body(), format="json").json()

    results = staff.get(f"{URL}{experiment['id']}/results/").json()

    assert results["verdict"] is None and results["variants"] == []
    assert staff.get(f"{URL}999999/results/").status_code == 404


@pytest.mark.parametrize(
    ("path", "payload"),
    [
        (URL, {"name": "x", "variants": "control"}),
        (URL, {"name": "x", "variants": ["control", "b"]}),
        (URL, {"name": ["x"], "variants": [{"name": 1, "share": "half"}] * 2}),
        (URL, ["not", "an", "object"]),
        (URL, {"name": "x", "variants": [{"name": "a", "share": 50, "rules": "perhaps"}] * 2}),
        ("/api/v1/merchandising/search-settings/", {"rerank": None}),
        ("/api/v1/merchandising/search-settings/", {"image_collection": "a\x00b"}),
    ],
)
def test_malformed_bodies_are_400s_never_500s(staff, path, payload):
    send = staff.patch if "settings" in path else staff.post

    response = send(path, payload, format="json")

    assert response.status_code == 400
    assert response.json()["detail"]


def test_ending_names_an_unknown_winner_by_field(staff):
    experiment = staff.post(URL, body(), format="json").json()
    staff.post(f"{URL}{experiment['id']}/start/")

    unknown = staff.post(f"{URL}{experiment['id']}/end/", {"winner": "zeta"}, format="json")
    odd = staff.post(f"{URL}{experiment['id']}/end/", {"winner": ["k30"]}, format="json")

    assert unknown.status_code == 400 and unknown.json()["detail"].startswith("winner:")
    assert odd.status_code == 400 and odd.json()["detail"].startswith("winner:")
    assert Experiment.objects.get().status == "running"
