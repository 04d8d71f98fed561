"""The experiments admin: shop staff write drafts with their variants, start and end them
from the results page, which shows the table and a clear verdict; merchant staff see none."""

import pytest
from django.test import Client
from django.urls import reverse

from merchandising.experiments import hooks
from merchandising.models import Experiment, SearchSettings, Variant
from tests.factories import UserFactory, merchant_with_owner

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_settings():
    hooks.forget()
    yield
    hooks.forget()


@pytest.fixture
def admin_client():
    client = Client()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def variant_form(*variants: dict) -> dict:
    data = {
        "variants-TOTAL_FORMS": str(len(variants)),
        "variants-INITIAL_FORMS": "0",
        "variants-MIN_NUM_FORMS": "2",
        "variants-MAX_NUM_FORMS": "1000",
    }
    for index, variant in enumerate(variants):
        fields = {"rerank": "request", "rules": "on", **variant}
        data.update({f"variants-{index}-{name}": value for name, value in fields.items()})
    return data


def experiment_form(*variants: dict) -> dict:
    return {"name": "Keywords heavier", "metric": "ctr", **variant_form(*variants)}


def test_shop_staff_add_an_experiment_with_its_variants(admin_client):
    response = admin_client.post(
        reverse("admin:merchandising_experiment_add"),
        experiment_form(
            {"name": "control", "share": "50"}, {"name": "b", "share": "50", "weight_keywords": "3"}
        ),
    )

    assert response.status_code == 302, response.content.decode()[:3000]
    experiment = Experiment.objects.get()
    assert [(v.name, v.position, v.weight_keywords) for v in experiment.variants.all()] == [
        ("control", 0, None),
        ("b", 1, 3.0),
    ]


@pytest.mark.parametrize(
    ("variants", "message"),
    [
        (({"name": "a", "share": "50"}, {"name": "b", "share": "40"}), "add up to 90"),
        (({"name": "a", "share": "50"}, {"name": "b", "share": "50", "rrf_k": "0"}), "RRF k"),
    ],
)
def test_the_admin_form_refuses_bad_variants_and_saves_nothing(admin_client, variants, message):
    response = admin_client.post(
        reverse("admin:merchandising_experiment_add"), experiment_form(*variants)
    )

    assert response.status_code == 200 and message in response.content.decode()
    assert not Experiment.objects.exists()


def draft() -> Experiment:
    experiment = Experiment.objects.create(name="RRF k", metric="ctr")
    Variant.objects.create(experiment=experiment, name="control", share=50, position=0)
    Variant.objects.create(experiment=experiment, name="k30", share=50, position=1, rrf_k=30)
    return experiment


def test_the_results_page_starts_shows_not_yet_significant_and_ends_applying_the_winner(
    admin_client,
):
    experiment = draft()
    url = reverse("admin:merchandising_experiment_results", args=[experiment.pk])

    assert "Start experiment" in admin_client.get(url).content.decode()
    admin_client.post(url, {"action": "start"})
    page = admin_client.get(url).content.decode()
    admin_client.post(url, {"action": "end", "winner": "k30", "apply": "on"})

    assert "Not yet significant" in page and "End experiment" in page
    assert "k30" in page and "Detectable effect" in page
    experiment.refresh_from_db()
    assert (experiment.status, experiment.winner.name) == ("ended", "k30")
    assert SearchSettings.objects.get(pk=1).rrf_k == 30


def test_merchant_staff_see_no_experiments_in_the_admin():
    experiment = draft()
    _, owner = merchant_with_owner(name="Harbour")
    client = Client()
    client.force_login(owner)

    codes = [
        client.get(reverse("admin:merchandising_experiment_changelist")).status_code,
        client.get(
            reverse("admin:merchandising_experiment_results", args=[experiment.pk])
        ).status_code,
        client.post(
            reverse("admin:merchandising_experiment_results", args=[experiment.pk]),
            {"action": "start"},
        ).status_code,
        client.get(reverse("admin:merchandising_searchsettings_changelist")).status_code,
    ]

    assert codes == [403, 403, 403, 403]
    assert Experiment.objects.get().status == "draft"


def test_the_search_settings_page_edits_the_one_row(admin_client):
    listing = admin_client.get(reverse("admin:merchandising_searchsettings_changelist"))
    response = admin_client.post(
        listing["Location"], {"rrf_k": "25", "rerank": "request", "rules": "on"}
    )

    assert response.status_code == 302
    assert SearchSettings.objects.get().rrf_k == 25
