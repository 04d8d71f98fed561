"""The Content-Security-Policy in a real browser: the storefront, the admin and the API docs
run under it with no violation in the console (issue 15, finding 8)."""

import pytest
from playwright.sync_api import expect

from catalog import services

pytestmark = [pytest.mark.browser, pytest.mark.django_db]

PASSWORD = "csp-owner-pass-7730"
expect.set_options(timeout=20_000)


@pytest.fixture(scope="module")
def owner(module_clip):
    user = services.user_create(username="csp-owner", password=PASSWORD)
    merchant = services.merchant_create(name="CSP Goods", owner=user)
    services.product_create(
        merchant=merchant, sku="CSP-1", title="Wool scarf", price="19.00", category="scarves"
    )
    return user


def violations(page) -> list[str]:
    found: list[str] = []
    page.on(
        "console",
        lambda message: (
            found.append(message.text)
            if "Content Security Policy" in message.text
            or "Content-Security-Policy" in message.text
            else None
        ),
    )
    return found


def test_the_storefront_runs_under_the_policy(owner, page):
    seen = violations(page)
    response = page.goto("/")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    page.get_by_role("searchbox").fill("scarf")
    page.keyboard.press("Enter")
    expect(page.get_by_text("Wool scarf")).to_be_visible()
    assert seen == [] and page.js_errors == []


def test_the_admin_runs_under_the_policy(owner, page):
    seen = violations(page)
    page.goto("/admin/login/")
    page.fill("#id_username", "csp-owner")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.goto("/admin/catalog/product/")
    page.get_by_role("link", name="Wool scarf").click()
    expect(page.locator("#id_title")).to_have_value("Wool scarf")
    page.goto("/admin/catalog/product/add/")
    expect(page.locator("#id_sku")).to_be_visible()
    assert seen == [] and page.js_errors == []


def test_the_api_docs_run_under_the_policy_without_a_cdn(page):
    seen = violations(page)
    page.goto("/api/docs/")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Visual search API")
    expect(page.locator(".opblock").first).to_be_visible()
    assert seen == [] and page.js_errors == []
