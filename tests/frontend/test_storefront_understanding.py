"""The storefront shows what the search made of the words: "Showing results for" a corrected
query with the way back to the words as typed, and a recognised category as a one-click
filter chip."""

import json

import pytest
from playwright.sync_api import expect

from tests.frontend.test_storefront import is_search, settled

pytestmark = [pytest.mark.browser, pytest.mark.django_db]


def test_a_misspelt_search_shows_the_corrected_query_and_can_search_as_typed(
    shop, page, phone_page, screenshot
):
    # Given a shopper who mistypes "blue jacket"
    with page.expect_response(is_search) as answer:
        page.goto("/?q=blue+jaket")
    settled(page)

    # Then the page says which words it searched for, and offers the shopper's own
    assert answer.value.json()["corrected"] == "blue jacket"
    expect(page.locator("#corrected-line")).to_be_visible()
    expect(page.locator("#corrected-text")).to_have_text("blue jacket")
    expect(page.locator("#as-typed-link")).to_have_text("blue jaket")
    screenshot(page, "desktop-corrected-query")

    # When they choose their own words
    with page.expect_response(is_search) as as_typed:
        page.locator("#as-typed-link").click()
    settled(page)

    # Then the search runs without correction, the line goes, and the URL remembers it
    assert json.loads(as_typed.value.request.post_data)["typo_tolerance"] is False
    assert as_typed.value.json()["corrected"] is None
    expect(page.locator("#corrected-line")).to_be_hidden()
    assert "typed=1" in page.url

    # And on a phone the same line fits the screen
    with phone_page.expect_response(is_search):
        phone_page.goto("/?q=blue+jaket")
    settled(phone_page)
    expect(phone_page.locator("#corrected-line")).to_be_visible()
    box = phone_page.locator("#corrected-line").bounding_box()
    assert box is not None and box["x"] + box["width"] <= 390
    screenshot(phone_page, "phone-corrected-query")
    assert page.js_errors == [] and phone_page.js_errors == []


def test_a_recognised_category_is_offered_as_a_filter_chip(shop, page, screenshot):
    # Given a search that names a category
    with page.expect_response(is_search) as answer:
        page.goto("/?q=yellow+jackets")
    settled(page)
    assert answer.value.json()["recognised"]["category"] == ["jackets"]

    # Then the category is offered, not applied: other products still show
    chip = page.locator("#chips .chip")
    expect(chip).to_have_text("Only Jackets")
    categories = {row["category"] for row in answer.value.json()["results"]}
    assert categories != {"jackets"}
    screenshot(page, "desktop-category-chip")

    # When the shopper takes it
    with page.expect_response(is_search) as narrowed:
        chip.click()
    settled(page)

    # Then only jackets remain, the filter shows as set, and the chip is gone
    assert json.loads(narrowed.value.request.post_data)["filters"]["category"] == ["jackets"]
    assert {row["category"] for row in narrowed.value.json()["results"]} == {"jackets"}
    expect(page.locator("#chips")).to_be_hidden()
    expect(page.locator("#facet-category input[value='jackets']")).to_be_checked()
    assert "category=jackets" in page.url
    assert page.js_errors == []
