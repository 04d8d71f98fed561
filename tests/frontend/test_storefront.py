"""The storefront in a real browser: words, photos, filters, sharing a search by its URL,
"similar", errors, AI re-ranking, keyboard use and a phone-width screen."""

import base64
import json
import re
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from playwright.sync_api import expect
from rest_framework.test import APIClient

from catalog.sample_data import draw_product
from search.rerankers import cascade
from tests.search.chat_server import Answer, ChatServer

# django_db: the tests read rows the module fixtures committed (and it makes pytest-django
# create the test database); each test's own transaction is rolled back, the module's rows
# are flushed by module_env.
pytestmark = [pytest.mark.browser, pytest.mark.django_db]

PAGE_SIZE = 24
SEARCH_API = "/api/v1/search/"
expect.set_options(timeout=20_000)


def cards(page):
    return page.locator("#grid .card")


def titles(page) -> list[str]:
    return cards(page).locator(".card-title").all_inner_texts()


def product_ids(page) -> list[str]:
    return [card.get_attribute("data-product-id") for card in cards(page).all()]


def is_search(response) -> bool:
    return response.url.endswith(SEARCH_API) and response.request.method == "POST"


def settled(page) -> None:
    expect(page.locator("#grid")).not_to_have_attribute("aria-busy", "true")


def usd(amount: str) -> str:
    return f"${Decimal(amount):,.2f}"


def test_a_text_search_shows_the_brand_first_with_prices_and_loads_more(shop, page, screenshot):
    # Given the four Velo products among thirty
    velo = {s.title for s in shop.samples if s.brand == "Velo"}
    page.goto("/")
    expect(page.locator("#intro")).to_be_visible()
    # the page hands out the CSRF cookie the search POSTs echo for logged-in shoppers
    assert "csrftoken" in {cookie["name"] for cookie in page.context.cookies()}
    screenshot(page, "desktop-start")

    # When the shopper types the brand and presses Enter
    page.get_by_label("Search products").fill("Velo")
    with page.expect_response(is_search):
        page.keyboard.press("Enter")

    # Then a first page comes back with the Velo products on top, shareable by URL
    expect(cards(page)).to_have_count(PAGE_SIZE)
    settled(page)
    assert set(titles(page)[: len(velo)]) == velo
    expect(page).to_have_url(re.compile(r"/\?q=Velo$"))
    expect(page.locator("#result-count")).to_have_text(str(len(shop.samples)))
    # each card: the title as the image's alt text, the price in its currency, the merchant
    by_title = {s.title: s for s in shop.samples}
    first = cards(page).first
    sample = by_title[first.locator(".card-title").inner_text()]
    expect(first.locator("img")).to_have_attribute("alt", sample.title)
    expect(first.locator(".card-price")).to_have_text(usd(sample.price))
    expect(first.locator(".card-meta")).to_contain_text(sample.brand)
    expect(first.locator(".card-meta")).to_contain_text(shop.merchant_name(sample))
    # re-ranking is off on this server, so its switch is not offered
    expect(page.locator("#rerank")).to_have_count(0)
    screenshot(page, "desktop-results")

    # When they load more
    page.get_by_role("button", name="Load more").click()

    # Then the rest arrive below, and there is nothing more to load
    expect(cards(page)).to_have_count(len(shop.samples))
    expect(page.get_by_role("button", name="Load more")).to_be_hidden()
    assert len(set(product_ids(page))) == len(shop.samples)
    assert page.js_errors == []


# Chromium does not hand multipart bodies with a file to Playwright, so the page notes the
# text fields of each FormData it sends (the request itself goes out unchanged).
RECORD_FORM_FIELDS = """
window.sentForms = [];
const realFetch = window.fetch;
window.fetch = (url, init = {}) => {
  if (init.body instanceof FormData) {
    const fields = [...init.body.entries()].filter(([, v]) => typeof v === "string");
    window.sentForms.push(Object.fromEntries(fields));
  }
  return realFetch(url, init);
};
"""


def last_form(page) -> dict:
    return page.evaluate("window.sentForms[window.sentForms.length - 1]")


def test_a_photo_search_by_file_pick_then_words_with_the_balance_slider(shop, page, screenshot):
    sample = shop.samples[0]
    photo = draw_product(sample, size=400, variant=1)
    page.add_init_script(RECORD_FORM_FIELDS)
    page.goto("/")

    # When the shopper picks a photo
    with page.expect_response(is_search) as answer:
        page.set_input_files(
            "#photo-file",
            files=[{"name": "my-jacket.jpg", "mimeType": "image/jpeg", "buffer": photo}],
        )

    # Then it is sent as a photo search, previewed, and results come back
    assert answer.value.request.headers["content-type"].startswith("multipart/form-data")
    assert answer.value.json()["query_type"] == "photo"
    assert last_form(page) == {
        "filters": "{}",
        "limit": str(PAGE_SIZE),
        "offset": "0",
        "rerank": "false",
    }
    expect(cards(page)).to_have_count(PAGE_SIZE)
    expect(page.locator("#photo-preview")).to_be_visible()
    expect(page.locator("#photo-name")).to_have_text("my-jacket.jpg")
    expect(page.locator("#photo-thumb")).to_have_attribute("src", re.compile(r"^blob:"))
    expect(page.locator("#status")).to_contain_text("Best matches for your photo")
    expect(page).to_have_url(re.compile(r"\?photo=1$"))
    expect(page.locator("#weight-row")).to_be_hidden()

    # When they add words, the balance slider appears and the search is a hybrid one
    page.get_by_label("Search products").fill("yellow jacket")
    expect(page.locator("#weight-row")).to_be_visible()
    with page.expect_response(is_search) as answer:
        page.keyboard.press("Enter")
    assert answer.value.json()["query_type"] == "hybrid"
    assert (last_form(page)["text"], last_form(page)["text_weight"]) == ("yellow jacket", "0.5")
    expect(page.locator("#status")).to_contain_text("your photo and “yellow jacket”")

    # When they move the slider towards the words
    with page.expect_response(is_search) as answer:
        page.get_by_label("Match more on").fill("80")
    assert answer.value.ok
    assert last_form(page)["text_weight"] == "0.8"
    expect(page).to_have_url(re.compile(r"q=yellow\+jacket&photo=1&tw=80"))
    settled(page)
    screenshot(page, "desktop-photo-and-words")

    # When the page is reloaded, the photo cannot come back; the words and filters do, and it
    # says so
    with page.expect_response(is_search) as answer:
        page.reload()
    assert answer.value.request.headers["content-type"].startswith("application/json")
    expect(page.locator("#notices")).to_contain_text("Photos are not saved in links")
    expect(page.locator("#photo-preview")).to_be_hidden()
    expect(page.get_by_label("Search products")).to_have_value("yellow jacket")
    expect(cards(page)).to_have_count(PAGE_SIZE)
    assert page.js_errors == []


DROP_OR_PASTE = """async ({data, name, type, how}) => {
  const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
  const transfer = new DataTransfer();
  transfer.items.add(new File([bytes], name, {type}));
  const init = {bubbles: true, cancelable: true};
  const event = how === "paste"
    ? new ClipboardEvent("paste", {...init, clipboardData: transfer})
    : new DragEvent(how, {...init, dataTransfer: transfer});
  document.body.dispatchEvent(event);
}"""


def test_a_photo_can_be_dropped_or_pasted_and_cleared(shop, page):
    data = base64.b64encode(draw_product(shop.samples[3], size=300)).decode()
    page.goto("/")

    # When a photo is dragged over the page, it offers to take it; dropped, it searches
    page.evaluate(
        DROP_OR_PASTE,
        {"data": data, "name": "dropped.jpg", "type": "image/jpeg", "how": "dragenter"},
    )
    expect(page.locator("#drop-overlay")).to_be_visible()
    with page.expect_response(is_search) as answer:
        page.evaluate(
            DROP_OR_PASTE,
            {"data": data, "name": "dropped.jpg", "type": "image/jpeg", "how": "drop"},
        )
    assert answer.value.json()["query_type"] == "photo"
    expect(page.locator("#drop-overlay")).to_be_hidden()
    expect(page.locator("#photo-name")).to_have_text("dropped.jpg")
    expect(cards(page)).to_have_count(PAGE_SIZE)

    # When the photo is removed, with no words left, the page goes back to its start
    page.get_by_role("button", name="Remove photo").click()
    expect(page.locator("#photo-preview")).to_be_hidden()
    expect(page.locator("#intro")).to_be_visible()
    expect(cards(page)).to_have_count(0)
    expect(page).to_have_url(re.compile(r"/$"))

    # When an image is pasted, it searches with that
    with page.expect_response(is_search) as answer:
        page.evaluate(
            DROP_OR_PASTE, {"data": data, "name": "image.png", "type": "image/jpeg", "how": "paste"}
        )
    assert answer.value.json()["query_type"] == "photo"
    expect(page.locator("#photo-name")).to_have_text("image.png")
    expect(cards(page)).to_have_count(PAGE_SIZE)
    assert page.js_errors == []


def test_a_filter_narrows_the_results_goes_in_the_url_and_survives_a_reload(shop, page, screenshot):
    brand = [s for s in shop.samples if s.brand == "Oakridge"]
    brand_in_stock = [s for s in brand if s.in_stock]
    assert 0 < len(brand_in_stock) < len(brand) < len(shop.samples)  # the data can show a narrowing
    page.goto("/?q=leather")
    expect(page.locator("#result-count")).to_have_text(str(len(shop.samples)))

    # When the shopper ticks a brand
    with page.expect_response(is_search) as answer:
        page.locator("#facet-brand").get_by_label("Oakridge").check()

    # Then the API got the filter, the count goes down, every result is of that brand
    assert json.loads(answer.value.request.post_data)["filters"] == {"brand": ["Oakridge"]}
    expect(page.locator("#result-count")).to_have_text(str(len(brand)))
    expect(cards(page)).to_have_count(len(brand))
    assert all(
        meta.startswith("Oakridge · ")
        for meta in cards(page).locator(".card-meta").all_inner_texts()
    )
    assert sorted(titles(page)) == sorted(s.title for s in brand)
    expect(page).to_have_url(re.compile(r"\?q=leather&brand=Oakridge$"))
    # the ticked box keeps keyboard focus after the facets are redrawn
    assert (
        page.evaluate("document.activeElement.name + ':' + document.activeElement.value")
        == "brand:Oakridge"
    )
    # the category counts now describe the narrowed set
    counts = [int(n) for n in page.locator("#facet-category .count").all_inner_texts()]
    assert sum(counts) == len(brand)

    # When they also ask for what is in stock
    with page.expect_response(is_search):
        page.get_by_label("In stock only").check()
    expect(page.locator("#result-count")).to_have_text(str(len(brand_in_stock)))
    expect(cards(page)).to_have_count(len(brand_in_stock))
    expect(page.locator("#filter-count")).to_have_text("2")
    expect(page).to_have_url(re.compile(r"\?q=leather&brand=Oakridge&in_stock=1$"))
    shown = titles(page)
    screenshot(page, "desktop-filtered")

    # When the URL is reloaded (or shared), the same search comes back
    with page.expect_response(is_search):
        page.reload()
    expect(cards(page)).to_have_count(len(brand_in_stock))
    assert titles(page) == shown
    expect(page.locator("#facet-brand").get_by_label("Oakridge")).to_be_checked()
    expect(page.get_by_label("In stock only")).to_be_checked()
    expect(page.get_by_label("Search products")).to_have_value("leather")

    # When they go back, the previous search (without "in stock") returns
    with page.expect_response(is_search):
        page.go_back()
    expect(page.locator("#result-count")).to_have_text(str(len(brand)))
    expect(page.get_by_label("In stock only")).not_to_be_checked()
    assert page.js_errors == []


def test_a_price_band_and_the_empty_state_with_its_way_out(shop, page):
    # Given a shared link with a price nobody charges
    with page.expect_response(is_search):
        page.goto("/?q=leather&price_min=5000")

    # Then the page says so in words and offers to clear the filters
    expect(page.locator("#status")).to_contain_text("No products match these filters.")
    expect(cards(page)).to_have_count(0)
    expect(page.get_by_label("Minimum price")).to_have_value("5000")
    with page.expect_response(is_search):
        page.locator("#status").get_by_role("button", name="Clear filters").click()
    expect(cards(page)).to_have_count(PAGE_SIZE)
    expect(page).to_have_url(re.compile(r"\?q=leather$"))

    # When a price band is chosen, results stay within it (bands are [min, max))
    band = page.locator("#facet-price").get_by_label(re.compile(r"^\$50 – \$100"))
    expected = [s for s in shop.samples if Decimal("50") <= Decimal(s.price) < Decimal("100")]
    expect(band.locator("xpath=..").locator(".count")).to_have_text(str(len(expected)))
    with page.expect_response(is_search):
        band.check()
    expect(cards(page)).to_have_count(len(expected))
    prices = [
        Decimal(p.replace("$", "").replace(",", ""))
        for p in cards(page).locator(".card-price").all_inner_texts()
    ]
    assert all(Decimal("50") <= price < Decimal("100") for price in prices)
    expect(page).to_have_url(re.compile(r"price_min=50\.00&price_max=99\.99"))
    assert page.js_errors == []


def test_similar_shows_other_products_and_lives_in_the_url(shop, page, screenshot):
    with page.expect_response(is_search):
        page.goto("/?q=Velo")
    source = cards(page).first
    source_id = source.get_attribute("data-product-id")
    source_title = source.locator(".card-title").inner_text()

    # When the shopper asks for similar items
    with page.expect_response(
        lambda r: f"/api/v1/products/{source_id}/similar/" in r.url
    ) as answer:
        source.get_by_role("link", name=f"Similar items to {source_title}").click()

    # Then other products come back, not the one they started from, and the URL says so
    assert answer.value.status == 200
    expect(page).to_have_url(re.compile(rf"\?q=Velo&similar={source_id}$"))
    expect(page.locator("#similar-banner")).to_contain_text(source_title)
    expect(cards(page)).to_have_count(PAGE_SIZE)
    ids = product_ids(page)
    assert source_id not in ids
    settled(page)
    screenshot(page, "desktop-similar")

    # When the link is reloaded, the server names the product and the same results return
    with page.expect_response(lambda r: "/similar/" in r.url):
        page.reload()
    expect(page.locator("#similar-banner")).to_contain_text(source_title)
    expect(cards(page)).to_have_count(PAGE_SIZE)
    assert product_ids(page) == ids

    # When they go back to their search, it is there again
    with page.expect_response(is_search):
        page.get_by_role("button", name="Back to search").click()
    expect(page).to_have_url(re.compile(r"\?q=Velo$"))
    expect(page.locator("#similar-banner")).to_be_hidden()
    expect(cards(page).first).to_have_attribute("data-product-id", source_id)
    assert page.js_errors == []


def test_a_file_that_is_not_an_image_gets_the_apis_reason_in_words(shop, page, screenshot):
    content = b"sku,price\nNA-MUG-0011,8.72\n"
    api_detail = (
        APIClient()
        .post(
            SEARCH_API,
            {"image": SimpleUploadedFile("prices.csv", content, "text/csv")},
            format="multipart",
        )
        .json()["detail"]
    )
    page.goto("/")

    # When the shopper picks a file that is not an image
    with page.expect_response(is_search) as answer:
        page.set_input_files(
            "#photo-file", files=[{"name": "prices.csv", "mimeType": "text/csv", "buffer": content}]
        )

    # Then the API's own explanation is shown, as an alert, with no results
    assert answer.value.status == 400
    expect(page.get_by_role("alert")).to_contain_text(api_detail)
    expect(cards(page)).to_have_count(0)
    expect(page.locator("#filters")).to_be_hidden()  # no counts to filter by yet
    # and no "Try again": the same file would fail again
    expect(page.get_by_role("button", name="Try again")).to_be_hidden()
    screenshot(page, "desktop-error")
    assert page.js_errors == []


def test_a_lost_connection_is_said_in_words_and_try_again_recovers(shop, page):
    page.goto("/")
    # Given the network drops the search request
    page.route("**/api/v1/search/", lambda route: route.abort("internetdisconnected"))
    page.get_by_label("Search products").fill("Velo")
    page.keyboard.press("Enter")
    expect(page.get_by_role("alert")).to_contain_text("could not be reached")
    expect(cards(page)).to_have_count(0)

    # When the connection is back and the shopper tries again
    page.unroute("**/api/v1/search/")
    with page.expect_response(is_search):
        page.get_by_role("button", name="Try again").click()

    # Then the results come and the alert is gone
    expect(cards(page)).to_have_count(PAGE_SIZE)
    expect(page.get_by_role("alert")).to_be_hidden()
    assert page.js_errors == []


def test_the_storefront_works_with_the_keyboard_alone(shop, page):
    page.goto("/")

    # Tab reaches the skip link first, then the shop's name, then the search box
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to results")).to_be_focused()
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    expect(page.get_by_label("Search products")).to_be_focused()

    # Enter submits
    page.keyboard.type("Kestrel")
    with page.expect_response(is_search):
        page.keyboard.press("Enter")
    expect(cards(page)).to_have_count(PAGE_SIZE)

    # The photo button (a hidden file input with a label) shows where focus is
    page.keyboard.press("Tab")
    expect(page.locator("#photo-file")).to_be_focused()
    outline = page.eval_on_selector(
        "label[for=photo-file]", "e => getComputedStyle(e).outlineStyle"
    )
    assert outline == "solid"

    # The skip link leads to the results, whose "Similar items" links open with Enter
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Shift+Tab")
    expect(page.get_by_role("link", name="Skip to results")).to_be_focused()
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    focused = page.locator("#grid .card .similar-link").first
    expect(focused).to_be_focused()
    assert focused.evaluate("e => getComputedStyle(e).outlineStyle") == "solid"
    with page.expect_response(lambda r: "/similar/" in r.url):
        page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"similar=\d+"))
    expect(page.locator("#similar-banner")).to_be_visible()
    assert page.js_errors == []


def likes_mugs(request):
    """A stand-in vision-language model with one taste: mugs, whatever the query."""
    score = 9 if 'titled "Navy glass mug"' in request.text else 3
    return Answer(json.dumps({"score": score, "reason": "judged by its title"}))


def test_the_ai_rerank_switch_orders_the_top_results_and_labels_them(
    shop, page, settings, monkeypatch
):
    # Given re-ranking switched on against a chat endpoint on loopback
    with ChatServer(likes_mugs) as chat:
        settings.RERANK_ENABLED = True
        settings.RERANK_API_BASE = chat.base_url
        settings.RERANK_MODEL, settings.RERANK_API_KEY = "test-vlm", "sk-test"
        settings.RERANK_LOCAL_MODEL = ""
        settings.RERANK_TOP_N, settings.RERANK_TIMEOUT_MS = 4, 15_000
        monkeypatch.setattr(cascade, "_instances", {})
        with page.expect_response(is_search):
            page.goto("/?q=Velo")
        expect(cards(page)).to_have_count(PAGE_SIZE)
        expect(page.locator("#grid .ai-badge")).to_have_count(0)
        before = titles(page)
        assert before.index("Navy glass mug") in (1, 2, 3)  # in the top four, not first

        # When the shopper lets AI re-rank
        with page.expect_response(is_search) as answer:
            page.get_by_text("Let AI re-rank the top results").click()

        # Then the request asked for it, and the top results carry the label
        assert json.loads(answer.value.request.post_data)["rerank"] is True
        expect(page.get_by_role("switch", name="Let AI re-rank the top results")).to_be_checked()
        expect(page.locator("#grid .ai-badge")).to_have_count(4)
        expect(cards(page).nth(0).locator(".ai-badge")).to_have_text("Ordered by AI")
        expect(cards(page).nth(4).locator(".ai-badge")).to_have_count(0)
        # the model's favourite moved to the top; the rest of the page kept its order
        after = titles(page)
        assert after[0] == "Navy glass mug"
        assert sorted(after[:4]) == sorted(before[:4]) and after[4:] == before[4:]
        expect(page.locator("#status")).to_contain_text("re-ranked by test-vlm")
        expect(page).to_have_url(re.compile(r"\?q=Velo&rerank=1$"))
        assert len(chat.requests) == 4

        # When the page is reloaded, the switch stays on
        with page.expect_response(is_search):
            page.reload()
        expect(page.get_by_role("switch", name="Let AI re-rank the top results")).to_be_checked()
        expect(page.locator("#grid .ai-badge")).to_have_count(4)
    assert page.js_errors == []


def test_a_phone_gets_one_column_of_controls_a_filter_panel_and_a_camera_button(
    shop, phone_page, screenshot
):
    page = phone_page
    page.goto("/")
    screenshot(page, "phone-start")

    # On a touch screen both photo buttons are offered; the camera one opens the camera
    expect(page.locator("label[for=photo-camera]")).to_be_visible()
    expect(page.locator("label[for=photo-file]")).to_be_visible()
    assert page.get_attribute("#photo-camera", "capture") == "environment"
    assert page.get_attribute("#photo-file", "capture") is None

    with page.expect_response(is_search):
        page.get_by_label("Search products").fill("leather")
        page.keyboard.press("Enter")
    expect(cards(page)).to_have_count(PAGE_SIZE)
    settled(page)

    # Two columns, nothing wider than the screen, filters folded away behind a button
    boxes = [cards(page).nth(i).bounding_box() for i in range(3)]
    assert boxes[0]["y"] == boxes[1]["y"] < boxes[2]["y"]
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    expect(page.locator("#filters")).to_be_hidden()
    screenshot(page, "phone-results")

    toggle = page.get_by_role("button", name=re.compile("^Filters"))
    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(page.locator("#filters")).to_be_visible()
    screenshot(page, "phone-filters")
    jackets = [s for s in shop.samples if s.category == "jackets"]
    with page.expect_response(is_search):
        page.locator("#facet-category").get_by_label("Jackets").check()
    expect(cards(page)).to_have_count(len(jackets))
    expect(page.locator("#filters")).to_be_visible()
    assert all("jacket" in title.lower() for title in titles(page))

    # The panel's own button folds it away and brings the results into view
    page.get_by_role("button", name=f"Show {len(jackets)} results").click()
    expect(page.locator("#filters")).to_be_hidden()
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(page.locator("#filter-count")).to_have_text("1")
    expect(cards(page).first).to_be_in_viewport()
    screenshot(page, "phone-filtered")
    assert page.js_errors == []
