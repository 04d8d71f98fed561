"""Merchandising rules in a real browser: the rule editor (with the click-model kind) and the
preview of a query without and with the rules, at desktop and phone widths."""

import pytest
from playwright.sync_api import expect

from catalog import services
from merchandising.models import Rule

pytestmark = [pytest.mark.browser, pytest.mark.django_db]

PASSWORD = "shop-staff-pass-5521"
expect.set_options(timeout=20_000)


@pytest.fixture(scope="module")
def staff(shop):
    user = services.user_create(username="shop-staff", password=PASSWORD)
    user.is_staff = user.is_superuser = True
    user.save(update_fields=["is_staff", "is_superuser"])
    lamps = [p for p in shop.products if p.category == "lamps"]
    other = next(p for p in shop.products if p.category not in ("lamps", "mugs", "kettles"))
    Rule.objects.create(name="Campaign", kind="pin", match="any", product=other, position=2)
    Rule.objects.create(name="Recall", kind="hide", match="any", product=lamps[0])
    Rule.objects.create(name="Learned from clicks", kind="click_model", match="any", weight=2)
    return user


def log_in(page):
    page.goto("/admin/login/?next=/admin/merchandising/rule/")
    page.fill("#id_username", "shop-staff")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")


def test_the_rule_editor_offers_the_click_model_kind(staff, page, phone_page, screenshot):
    for view, name in ((page, "desktop"), (phone_page, "phone")):
        log_in(view)
        view.goto("/admin/merchandising/rule/add/")
        kinds = view.locator("#id_kind option").all_inner_texts()
        assert "Click model (boost learned from clicks)" in kinds
        # Choosing a kind leaves the sections that kind reads, and only those
        view.select_option("#id_kind", "click_model")
        expect(view.get_by_text("How much (boost, bury, click model)")).to_be_visible()
        expect(view.locator("#id_terms")).to_be_hidden()
        expect(view.locator("#id_product")).to_be_hidden()
        view.select_option("#id_kind", "pin")
        expect(view.locator("#id_position")).to_be_visible()
        expect(view.locator("#id_weight")).to_be_hidden()
        screenshot(view, f"rules-editor-{name}", full_page=True)
        assert view.js_errors == []


def test_the_preview_shows_both_rankings_and_the_rules_that_moved_them(
    staff, page, phone_page, screenshot
):
    for view, name in ((page, "desktop"), (phone_page, "phone")):
        log_in(view)
        view.goto("/admin/merchandising/rule/preview/?q=lamp&limit=8")
        expect(view.get_by_role("heading", name="Without rules")).to_be_visible()
        expect(view.get_by_role("heading", name="With rules")).to_be_visible()
        expect(view.locator(".rule-chip", has_text="Campaign")).to_be_visible()
        expect(view.locator(".rule-chip", has_text="Recall")).to_be_visible()
        expect(view.locator(".with-rules li.ruled .move.new")).to_be_visible()
        expect(view.locator(".without-rules li.gone .gone-label")).to_be_visible()
        screenshot(view, f"rules-preview-{name}", full_page=True)
        width = view.evaluate("document.documentElement.scrollWidth")
        assert width <= view.viewport_size["width"] + 1  # nothing wider than the screen
        assert view.js_errors == []
