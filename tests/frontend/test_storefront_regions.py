"""The photo stage in a real browser: detected items to tap, a crop box drawn with a mouse,
a finger or the keyboard, and "shop the look"; on a desktop and on a phone with touch."""

import re

import pytest
from django.test.utils import override_settings
from playwright.sync_api import expect

from catalog.sample_data import draw_product
from tests.frontend.test_storefront import RECORD_FORM_FIELDS, is_search, last_form, settled

pytestmark = [pytest.mark.browser, pytest.mark.django_db]
expect.set_options(timeout=20_000)


@pytest.fixture(scope="module", autouse=True)
def module_detector(module_env, tiny_detector_dir):
    """The tiny random detector, every box kept: the boxes mean nothing, the plumbing does."""
    from search.encoding.registry import reset_encoders

    with override_settings(
        DETECTOR_ENABLED=True,
        DETECTOR_MODEL=str(tiny_detector_dir),
        DETECTOR_MODEL_REVISION="",
        DETECTOR_DEVICE="cpu",
        DETECT_SCORE_THRESHOLD=0.0,
        DETECT_MAX_BOXES=3,
    ):
        reset_encoders()
        yield
        reset_encoders()


def crop_sent(page) -> list[float]:
    return [float(v) for v in last_form(page)["crop"].split(",")]


def pick_photo(page, shop):
    photo = draw_product(shop.samples[3], size=480, variant=1)
    with page.expect_response(is_search):
        page.set_input_files(
            "#photo-file", files=[{"name": "street.jpg", "mimeType": "image/jpeg", "buffer": photo}]
        )
    settled(page)


def frame_point(page, x: float, y: float) -> tuple[float, float]:
    box = page.locator(".stage-frame").bounding_box()
    return box["x"] + x * box["width"], box["y"] + y * box["height"]


def test_a_shopper_draws_moves_and_picks_boxes_with_mouse_and_keyboard(shop, page, screenshot):
    page.add_init_script(RECORD_FORM_FIELDS)
    page.goto("/")
    pick_photo(page, shop)

    # The photo is shown large with the detected items drawn over it
    detected = page.locator(".detected")
    expect(detected.first).to_be_visible()
    expect(page.locator(".detect-status")).to_contain_text("tap one to search it")
    screenshot(page, "desktop-photo-detected")

    # When the shopper drags a box over part of the photo
    with page.expect_response(is_search) as answer:
        page.mouse.move(*frame_point(page, 0.2, 0.3))
        page.mouse.down()
        page.mouse.move(*frame_point(page, 0.5, 0.5), steps=4)
        page.mouse.move(*frame_point(page, 0.7, 0.8), steps=4)
        page.mouse.up()
    # Then that part of the photo is searched, and the URL keeps the crop
    assert answer.value.ok
    assert crop_sent(page) == pytest.approx([0.2, 0.3, 0.7, 0.8], abs=0.02)
    expect(page).to_have_url(re.compile(r"photo=1&crop=0\.\d+%2C"))
    settled(page)
    screenshot(page, "desktop-crop")

    # When they nudge it with the keyboard (Shift resizes)
    page.locator("#crop-box").focus()
    with page.expect_response(is_search):
        page.keyboard.press("ArrowRight")
        page.keyboard.press("Shift+ArrowDown")
    assert crop_sent(page) == pytest.approx([0.22, 0.3, 0.72, 0.82], abs=0.02)

    # When they click a detected item instead (the last one drawn is on top of the others)
    with page.expect_response(is_search):
        detected.last.click()
    assert crop_sent(page) == [float(v) for v in detected.last.get_attribute("data-box").split(",")]

    # When they shop the look: one row of results per detected item
    with page.expect_response(is_search) as answer:
        page.get_by_role("button", name="Shop the look").click()
    body = answer.value.json()
    assert last_form(page)["look"] == "true"
    assert "crop" not in last_form(page)
    assert body["query_type"] == "look"
    expect(page.locator(".look-group")).to_have_count(len(body["groups"]))
    expect(page.locator("#status")).to_contain_text("Shop the look")
    screenshot(page, "desktop-look", full_page=True)

    # And "Search only this item" goes back to a crop of that item
    with page.expect_response(is_search):
        page.get_by_role("button", name="Search only this item").first.click()
    assert crop_sent(page) == pytest.approx(body["groups"][0]["box"], abs=0.001)


def touch(cdp, kind: str, x: float, y: float) -> None:
    points = [] if kind == "touchEnd" else [{"x": x, "y": y}]
    cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": points})


def test_a_phone_shopper_draws_a_crop_with_a_finger(shop, phone_page, screenshot):
    page = phone_page
    page.add_init_script(RECORD_FORM_FIELDS)
    page.goto("/")
    pick_photo(page, shop)
    expect(page.locator(".detected").first).to_be_visible()
    screenshot(page, "phone-photo-detected")

    # When the shopper drags a finger across the photo
    cdp = page.context.new_cdp_session(page)
    start = frame_point(page, 0.1, 0.15)
    end = frame_point(page, 0.6, 0.7)
    with page.expect_response(is_search) as answer:
        touch(cdp, "touchStart", *start)
        for step in range(1, 6):
            touch(
                cdp,
                "touchMove",
                start[0] + (end[0] - start[0]) * step / 5,
                start[1] + (end[1] - start[1]) * step / 5,
            )
        touch(cdp, "touchEnd", *end)
    # Then the request carries the box the finger drew
    assert answer.value.ok
    assert crop_sent(page) == pytest.approx([0.1, 0.15, 0.6, 0.7], abs=0.03)
    settled(page)
    screenshot(page, "phone-crop")

    # And tapping a detected item searches that item
    with page.expect_response(is_search):
        page.locator(".detected").last.tap(position={"x": 3, "y": 3})
    tapped = page.locator(".detected").last.get_attribute("data-box")
    assert crop_sent(page) == [float(v) for v in tapped.split(",")]


def test_without_a_detector_the_page_says_so_and_the_crop_still_works(shop, page, settings):
    settings.DETECTOR_ENABLED = False
    page.add_init_script(RECORD_FORM_FIELDS)
    page.goto("/")
    pick_photo(page, shop)
    expect(page.locator(".detect-status")).to_contain_text("Item detection is off")
    expect(page.locator(".detected")).to_have_count(0)
    expect(page.get_by_role("button", name="Shop the look")).to_be_hidden()

    page.get_by_role("button", name="Select an area").click()
    expect(page.locator("#crop-box")).to_be_focused()
    with page.expect_response(is_search) as answer:
        page.keyboard.press("Enter")
    assert answer.value.ok
    assert crop_sent(page) == pytest.approx([0.25, 0.25, 0.75, 0.75])
