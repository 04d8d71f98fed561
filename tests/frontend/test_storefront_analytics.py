"""Search analytics end to end: searches and clicks through the storefront (sendBeacon) and
the API, the rollup, then the figures on the dashboard and in its CSV; Do Not Track is kept."""

import csv
import io
import uuid

import pytest
from playwright.sync_api import expect
from rest_framework.test import APIClient

from analytics.models import InteractionEvent, SearchEvent
from analytics.recorder import recorder
from analytics.rollups import rollup_run
from catalog import services

# No django_db mark: module_env opens the database for the module, and these tests write in
# autocommit, so that the live server sees the recorded searches and the rollup (the rows go
# when module_env flushes the database).
pytestmark = [pytest.mark.browser]

SEARCH_API = "/api/v1/search/"
EVENTS_API = "/api/v1/events/"
DASHBOARD = "/admin/analytics/dailyquerystats/"
PASSWORD = "analytics-pass-5521"


def is_search(response) -> bool:
    return response.url.endswith(SEARCH_API) and response.request.method == "POST"


def is_event(response) -> bool:
    return response.url.endswith(EVENTS_API)


def search_in_storefront(page, words: str) -> dict:
    with page.expect_response(is_search) as answer:
        page.goto(f"/?q={words}")
    expect(page.locator("#grid .card").first).to_be_visible()
    return answer.value.json()


def test_searches_and_clicks_reach_the_dashboard_and_its_csv(
    shop, page, browser, server, screenshot
):
    # Given a shopper on the storefront: they search, open the first result, add the second
    mugs = search_in_storefront(page, "mug")
    visitor = page.evaluate("localStorage.getItem('visual-search-visitor')")
    assert visitor and visitor.startswith("v-")
    cards = page.locator("#grid .card")
    with page.expect_response(is_event):
        cards.nth(0).locator(".card-title").click()
    with page.expect_response(is_event):
        cards.nth(1).locator(".add-to-cart").click()
    expect(cards.nth(1).locator(".add-to-cart")).to_have_text("Added ✓")

    # and a mobile app searches through the API and reports a click at position 2
    client = APIClient()
    lamps = client.post(
        SEARCH_API, {"text": "lamp"}, format="json", HTTP_X_VISITOR_ID="app-visitor-42"
    ).json()
    second = lamps["results"][1]["product_id"]
    report = {"id": str(uuid.uuid4()), "kind": "click", "search_id": lamps["search_id"]}
    assert (
        client.post(
            EVENTS_API, {"events": [{**report, "product_id": second, "position": 2}]}, format="json"
        ).status_code
        == 202
    )

    # and a shopper with Do Not Track set searches and clicks: no event, no visitor id
    private = browser.new_context(base_url=server.url)
    private.add_init_script(
        "Object.defineProperty(Navigator.prototype, 'doNotTrack', {get: () => '1'})"
    )
    dnt = private.new_page()
    sent: list[str] = []
    dnt.on("request", lambda request: sent.append(request.url))
    search_in_storefront(dnt, "mug")
    dnt.locator("#grid .card").first.locator(".card-title").click()
    dnt.locator("#grid .card").first.locator(".add-to-cart").click()
    dnt.wait_for_timeout(300)  # a beacon, if one were sent, leaves at once
    assert not [url for url in sent if url.endswith(EVENTS_API)]
    assert dnt.evaluate("localStorage.getItem('visual-search-visitor')") is None
    private.close()

    # When the searches are written and beat runs the rollup
    assert recorder.flush() == 3
    rollup_run()

    # Then the server kept each search with the visitor id the client chose (none under DNT)
    recorded = SearchEvent.objects.get(search_id=mugs["search_id"])
    assert recorded.visitor_id == visitor and recorded.words == "mug"
    assert sorted(SearchEvent.objects.values_list("visitor_id", flat=True)) == sorted(
        ["", visitor, "app-visitor-42"]
    )
    clicked = InteractionEvent.objects.get(search_id=mugs["search_id"], kind="click")
    assert (clicked.product_id, clicked.position) == (mugs["results"][0]["product_id"], 1)

    # and the dashboard shows them to the shop's superuser
    admin = services.user_create(username="analyst", password=PASSWORD)
    admin.is_staff = admin.is_superuser = True
    admin.save(update_fields=["is_staff", "is_superuser"])
    page.goto(f"/admin/login/?next={DASHBOARD}")
    page.get_by_label("Username").fill("analyst")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("#total-searches")).to_have_text("3")
    expect(page.locator("#total-carts")).to_have_text("1")
    # two of three searches had a click: 67 %; clicks at positions 1 and 2
    expect(page.locator("#total-ctr")).to_have_text("67%")
    expect(page.locator("#total-position")).to_have_text("1.5")
    screenshot(page, "analytics-dashboard-desktop", full_page=True)

    # and its CSV says the same, query by query
    export = page.request.get(f"{DASHBOARD}?export=top_queries&days=7")
    assert export.ok
    rows = {row["query"]: row for row in csv.DictReader(io.StringIO(export.text()))}
    assert (rows["mug"]["searches"], rows["mug"]["ctr"], rows["mug"]["add_to_carts"]) == (
        "2",
        "0.5",
        "1",
    )
    assert (rows["lamp"]["searches"], rows["lamp"]["mean_click_position"]) == ("1", "2.0")
    assert page.js_errors == []


def test_the_dashboard_reads_at_phone_width(shop, phone_page, screenshot):
    admin = services.user_create(username="phone-analyst", password=PASSWORD)
    admin.is_staff = admin.is_superuser = True
    admin.save(update_fields=["is_staff", "is_superuser"])
    phone_page.goto(f"/admin/login/?next={DASHBOARD}")
    phone_page.get_by_label("Username").fill("phone-analyst")
    phone_page.get_by_label("Password").fill(PASSWORD)
    phone_page.get_by_role("button", name="Log in").click()

    expect(phone_page.locator("#total-searches")).to_be_visible()
    # Nothing wider than the screen but the tables, which scroll in their own box
    overflow = phone_page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
    screenshot(phone_page, "analytics-dashboard-phone", full_page=True)
