"""AI-written drafts of a product's copy, against the loopback chat server: a good answer is
returned (and not applied), a slow one is a 504, a malformed one a 502, no model a 503. The
admin's action keeps drafts for the merchant to accept (the parts they choose) or discard; a
tiny local VLM drafts through the same path."""

import json

import pytest
from django.test import Client
from rest_framework.test import APIClient

from catalog import services
from catalog.models import ProductDraft
from catalog.sample_data import SWATCH_COLOURS, draw_product
from catalog.sample_data import generate_products as sample_products
from search.rerankers import cascade
from tests.factories import merchant_with_owner
from tests.search.chat_server import Answer, ChatServer, Delay, Status, always
from tests.search.tiny_vlm import tiny_llava

pytestmark = pytest.mark.django_db

GOOD = {
    "title": "Red leather jacket",
    "description": "A red jacket with a centre zip and long sleeves.",
    "attributes": {"colour": "red", "material": "leather", "sleeves": 2},
}


@pytest.fixture
def shop(settings, monkeypatch):
    monkeypatch.setattr(cascade, "_instances", {})
    merchant, owner = merchant_with_owner(name="Drafts")
    sample = sample_products(1, seed=3, colours=SWATCH_COLOURS)[0]
    product = services.product_create(
        merchant=merchant, sku="D-1", title="Item 1", price="10", category="jackets"
    )
    services.product_image_create(product=product, data=draw_product(sample, size=128))
    client = APIClient()
    client.force_authenticate(owner)
    return product, client


@pytest.fixture
def chat(settings):
    with ChatServer(always(Answer(json.dumps(GOOD)))) as server:
        settings.RERANK_API_BASE = server.base_url
        settings.RERANK_MODEL = "test-vlm"
        yield server


def draft_url(product) -> str:
    return f"/api/v1/merchant/products/{product.pk}/draft/"


def test_a_good_answer_is_a_draft_for_the_merchant_not_a_change(shop, chat):
    product, client = shop
    response = client.post(draft_url(product))
    assert response.status_code == 200, response.content
    body = response.json()
    assert body == {
        "id": body["id"],
        "title": GOOD["title"],
        "description": GOOD["description"],
        "attributes": {"colour": "red", "material": "leather", "sleeves": "2"},
        "model": "test-vlm",
    }
    (request,) = chat.requests
    assert len(request.images) == 1 and "jackets" in request.text
    product.refresh_from_db()
    assert (product.title, product.description) == ("Item 1", "")


@pytest.mark.parametrize(
    ("action", "status", "words"),
    [
        (Delay(3.0, Answer(json.dumps(GOOD))), 504, "in time"),
        (Answer("Sure! Here is a lovely jacket."), 502, "JSON"),
        (Answer(json.dumps({"description": "no title"})), 502, "title"),
        (Status(500), 502, "endpoint failed"),
    ],
    ids=["slow", "malformed", "no-title", "server-error"],
)
def test_a_slow_or_malformed_answer_is_a_clear_error(shop, chat, settings, action, status, words):
    settings.ENRICHMENT_DRAFT_TIMEOUT_MS = 500
    chat.behaviour = always(action)
    product, client = shop
    response = client.post(draft_url(product))
    assert response.status_code == status
    assert words in response.json()["detail"]


def test_without_a_model_the_answer_names_the_settings(shop, settings):
    settings.RERANK_API_BASE = ""
    settings.RERANK_LOCAL_MODEL = ""
    product, client = shop
    response = client.post(draft_url(product))
    assert response.status_code == 503
    assert "RERANK_API_BASE" in response.json()["detail"]


def test_another_merchants_product_is_a_404(shop, chat):
    product, _ = shop
    client = APIClient()
    client.force_authenticate(merchant_with_owner(name="Else")[1])
    assert client.post(draft_url(product)).status_code == 404


def test_the_api_keeps_the_draft_for_review_in_the_admin(shop, chat):
    product, client = shop
    drafted = client.post(draft_url(product)).json()
    kept = ProductDraft.objects.get(pk=drafted["id"])
    assert (kept.product_id, kept.status, kept.title) == (
        product.pk,
        ProductDraft.Status.PENDING,
        GOOD["title"],
    )


# --- The admin: an action drafts, the merchant accepts or discards on the product page ------


def changelist_action(client, product):
    return client.post(
        "/admin/catalog/product/",
        {"action": "draft_with_ai", "_selected_action": [product.pk]},
        follow=True,
    )


def test_the_admin_action_drafts_and_the_merchant_accepts_what_they_choose(shop, chat, client):
    product, api = shop
    owner = product.merchant.memberships.get().user
    client.force_login(owner)

    page = changelist_action(client, product)

    assert "1 draft(s) written" in page.content.decode()
    product.refresh_from_db()
    assert product.title == "Item 1"  # nothing applied yet
    (draft,) = ProductDraft.objects.filter(product=product)
    change = client.get(f"/admin/catalog/product/{product.pk}/change/").content.decode()
    assert GOOD["description"] in change
    accept = f"/admin/catalog/product/{product.pk}/drafts/{draft.pk}/accept/"
    assert accept in change

    # The merchant takes the title and the attributes, not the description.
    client.post(accept, {f"draft-{draft.pk}-parts": ["title", "attributes"]})

    product.refresh_from_db()
    draft.refresh_from_db()
    assert product.title == GOOD["title"]
    assert product.description == ""
    assert product.attributes == {"colour": "red", "material": "leather", "sleeves": "2"}
    assert (draft.status, draft.reviewed_by_id) == (ProductDraft.Status.ACCEPTED, owner.pk)
    # Accepted once: a second accept changes nothing.
    client.post(accept, {f"draft-{draft.pk}-parts": ["description"]})
    product.refresh_from_db()
    assert product.description == ""


def test_a_discarded_draft_changes_nothing_and_another_merchant_cannot_touch_it(shop, chat, client):
    product, _ = shop
    owner = product.merchant.memberships.get().user
    client.force_login(owner)
    changelist_action(client, product)
    (draft,) = ProductDraft.objects.filter(product=product)
    stranger = merchant_with_owner(name="Stranger")[1]
    other = Client()
    other.force_login(stranger)

    refused = other.post(
        f"/admin/catalog/product/{product.pk}/drafts/{draft.pk}/accept/",
        {f"draft-{draft.pk}-parts": ["title"]},
    )
    client.post(f"/admin/catalog/product/{product.pk}/drafts/{draft.pk}/discard/")

    assert refused.status_code == 404
    product.refresh_from_db()
    draft.refresh_from_db()
    assert (product.title, draft.status) == ("Item 1", ProductDraft.Status.DISCARDED)


def test_the_admin_action_names_the_models_failure(shop, chat, client, settings):
    settings.ENRICHMENT_DRAFT_TIMEOUT_MS = 500
    chat.behaviour = always(Delay(3.0, Answer(json.dumps(GOOD))))
    product, _ = shop
    client.force_login(product.merchant.memberships.get().user)

    page = changelist_action(client, product)

    assert "did not answer in time" in page.content.decode()
    assert not ProductDraft.objects.exists()


# --- The local transformers VLM back end, with a tiny model that answers a draft ----------


@pytest.fixture(scope="module")
def drafting_vlm_dir(tmp_path_factory):
    return tiny_llava(
        tmp_path_factory.mktemp("vlm") / "tiny-llava-drafter",
        answer=['{"title": "Red leather jacket",', ' "description": "A red jacket."', "}"],
    )


def test_a_local_vlm_drafts_the_copy(shop, settings, drafting_vlm_dir):
    settings.RERANK_API_BASE = ""
    settings.RERANK_LOCAL_MODEL = str(drafting_vlm_dir)
    settings.ENRICHMENT_DRAFT_TIMEOUT_MS = 120_000  # loading and generating on a shared CPU
    product, client = shop

    response = client.post(draft_url(product))

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["title"], body["description"], body["attributes"], body["model"]) == (
        "Red leather jacket",
        "A red jacket.",
        {},
        "tiny-llava-drafter",
    )


def test_a_local_vlm_out_of_time_is_a_504(shop, settings, drafting_vlm_dir):
    settings.RERANK_API_BASE = ""
    settings.RERANK_LOCAL_MODEL = str(drafting_vlm_dir)
    settings.ENRICHMENT_DRAFT_TIMEOUT_MS = 1
    product, client = shop

    response = client.post(draft_url(product))

    assert response.status_code == 504
