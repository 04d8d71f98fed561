"""The rules admin: merchant staff see and edit their merchants' rules only, name their own
products only; the preview shows a query's results without and with the rules."""

import pytest
from django.test import Client

from catalog import services as catalog_services
from catalog.models import Product
from merchandising.models import Rule
from tests.factories import ProductFactory, merchant_with_owner

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff():
    harbour, harbour_user = merchant_with_owner(name="Harbour")
    maple, _ = merchant_with_owner(name="Maple")
    own = ProductFactory(merchant=harbour, title="Harbour mug")
    other = ProductFactory(merchant=maple, title="Maple mug")
    theirs = Rule.objects.create(
        name="Maple recall", kind="hide", query="mug", product=other, merchant=maple
    )
    client = Client()
    client.force_login(harbour_user)
    return {"client": client, "harbour": harbour, "own": own, "other": other, "theirs": theirs}


def form(**fields):
    return {
        "name": "pin mug",
        "kind": "pin",
        "enabled": "on",
        "match": "exact",
        "query": "mug",
        "synonym_type": "two_way",
        "weight": "1",
        **fields,
    }


def test_merchant_staff_see_only_their_rules_and_cannot_open_anothers(staff):
    mine = Rule.objects.create(
        name="Harbour pin",
        kind="pin",
        query="mug",
        product=staff["own"],
        merchant=staff["harbour"],
        position=1,
    )
    client = staff["client"]

    listing = client.get("/admin/merchandising/rule/")
    other = client.get(f"/admin/merchandising/rule/{staff['theirs'].pk}/change/", follow=True)
    deleted = client.post(
        f"/admin/merchandising/rule/{staff['theirs'].pk}/delete/", {"post": "yes"}
    )

    assert listing.status_code == 200
    assert "Harbour pin" in listing.text and "Maple recall" not in listing.text
    assert "Maple recall" not in other.text and "doesn’t exist" in other.text
    assert deleted.status_code in (302, 404)
    assert Rule.objects.filter(pk=staff["theirs"].pk).exists()
    assert client.get(f"/admin/merchandising/rule/{mine.pk}/change/").status_code == 200


def test_merchant_staff_can_only_target_their_own_products(staff):
    client = staff["client"]

    refused = client.post(
        "/admin/merchandising/rule/add/",
        form(merchant=staff["harbour"].pk, product=staff["other"].pk, position="1"),
    )
    accepted = client.post(
        "/admin/merchandising/rule/add/",
        form(merchant=staff["harbour"].pk, product=staff["own"].pk, position="1"),
    )

    assert refused.status_code == 200  # the form again, with the error
    assert "Select a valid choice" in refused.text
    assert accepted.status_code == 302, accepted.text[:2000]
    assert Rule.objects.filter(product=staff["own"], merchant=staff["harbour"]).exists()
    assert not Rule.objects.filter(product=staff["other"], kind="pin").exists()


def test_merchant_staff_cannot_write_shop_wide_rules(staff):
    response = staff["client"].post(
        "/admin/merchandising/rule/add/", form(product=staff["own"].pk, position="1")
    )

    assert response.status_code == 200
    assert "shop-wide rules are for shop staff" in response.text
    assert not Rule.objects.filter(merchant__isnull=True).exists()


def test_the_preview_shows_results_without_and_with_the_rules(shop, generous_throttles):
    mug = Product.objects.get(sku="VE-MUG-0011")
    pin = Rule.objects.create(
        name="Mug first", kind="pin", query="leather boot", product=mug, position=1
    )
    boss = catalog_services.user_create(username="boss", password=None)
    boss.is_superuser = boss.is_staff = True
    boss.save()
    client = Client()
    client.force_login(boss)

    page = client.get("/admin/merchandising/rule/preview/", {"q": "leather boot"})

    assert page.status_code == 200
    without, with_rules = page.context["comparison"].without, page.context["comparison"].with_rules
    assert without[0].item.product_id != mug.pk
    assert with_rules[0].item.product_id == mug.pk
    assert [rule.id for rule, _ in page.context["comparison"].rules] == [str(pin.pk)]
    assert "Without rules" in page.text and "With rules" in page.text and "Mug first" in page.text
