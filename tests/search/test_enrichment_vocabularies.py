"""Attribute vocabularies shop staff edit in the admin (over the data file's defaults), read by
the scorer through a per-process copy rebuilt when the rows change; thresholds calibrated from
the merchants' own values."""

import json
import random
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog.models import ProductImage
from catalog.sample_data import SWATCH_COLOURS, create_sample_product
from catalog.sample_data import generate_products as sample_products
from search.enrichment import vocabularies
from search.enrichment.calibration import Sample, calibrate
from search.enrichment.service import product_attributes
from search.index import sync as indexing
from search.models import EnrichmentAttribute, EnrichmentAttributeValue
from tests.factories import UserFactory, merchant_with_owner

pytestmark = pytest.mark.django_db


def attribute(category: str, name: str, values: list[str], *, threshold=0.5, enabled=True):
    row = EnrichmentAttribute.objects.create(
        category=category, name=name, threshold=threshold, enabled=enabled
    )
    for value in values:
        EnrichmentAttributeValue.objects.create(attribute=row, value=value)
    return row


def names(category: str) -> dict[str, tuple[tuple[str, ...], float]]:
    return {
        a.name: (a.values, a.threshold)
        for a in vocabularies.get_vocabularies().for_category(category)
    }


# --- Database rows over the file's defaults ----------------------------------------------------


def test_without_rows_the_file_defaults_stand():
    dresses = names("dresses")
    assert set(dresses) == {"pattern", "sleeve length", "length"}
    assert dresses["length"] == (("mini", "midi", "maxi"), 0.5)


def test_a_row_replaces_the_files_attribute_for_its_category_only():
    attribute("Dresses", "Length", ["Mini", "Knee", "Maxi", "Floor"], threshold=0.6)
    attribute("dresses", "neckline", ["v-neck", "halter"], threshold=0.4)

    dresses = names("dresses")

    assert dresses["length"] == (("mini", "knee", "maxi", "floor"), 0.6)
    assert dresses["neckline"] == (("v-neck", "halter"), 0.4)
    # Other categories keep the file's: t-shirts their own neckline, jackets none.
    assert names("t-shirts")["neckline"] == (("crew neck", "v-neck", "polo collar"), 0.5)
    assert "neckline" not in names("jackets")


def test_disabled_rows_and_values_switch_off():
    attribute("", "pattern", ["plain", "striped"], enabled=False)  # off for every category
    row = attribute("jackets", "material", ["leather", "denim", "wool"])
    row.values.filter(value="denim").update(enabled=False)

    assert "pattern" not in names("dresses")
    assert names("jackets")["material"][0] == ("leather", "wool")


def test_an_edit_reaches_the_scorer_and_an_unchanged_vocabulary_is_not_rebuilt():
    row = attribute("lamps", "style", ["table", "floor"], threshold=0.45)
    first = vocabularies.get_vocabularies()

    with CaptureQueriesContext(connection) as queries:
        again = vocabularies.get_vocabularies()
    row.threshold = 0.8
    row.save()
    edited = vocabularies.get_vocabularies()

    assert again is first  # the version query only: the rows were not read again
    assert len(queries) == 2
    assert edited.attribute("lamps", "style").threshold == 0.8


def test_the_scorer_uses_the_thresholds_from_the_database(clip_settings, settings, tmp_path):
    # Given products with stored vectors from the tiny CLIP (sure of nothing: shares near 1/n)
    merchant, _ = merchant_with_owner(name="Thresholds")
    products = [
        create_sample_product(merchant, sample, image_size=64)
        for sample in sample_products(3, seed=2, colours=SWATCH_COLOURS)
    ]
    indexing.index_images(list(ProductImage.objects.values_list("id", flat=True)))
    ids = [p.pk for p in products]
    category = products[0].category
    row = attribute(category, "finish", ["matte", "glossy"], threshold=0.0)

    # When the threshold is 0, then 1 (a share of two values never reaches 1 exactly)
    kept = product_attributes(product_ids=ids)
    row.threshold = 1.0
    row.save()
    dropped = product_attributes(product_ids=ids)

    # Then the first keeps a value for each product of the category, the second none
    ours = [p.pk for p in products if p.category == category]
    assert all(kept[pk]["finish"]["value"] in ("matte", "glossy") for pk in ours)
    assert all(dropped[pk]["finish"] == {"value": None, "confidence": None} for pk in ours)


# --- The admin page: shop staff only; at least two values --------------------------------------


@pytest.fixture
def shop_staff(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def add_form(values: list[str], **fields) -> dict:
    data = {
        "category": "hats",
        "name": "brim",
        "enabled": "on",
        "threshold": "0.55",
        "values-TOTAL_FORMS": str(len(values)),
        "values-INITIAL_FORMS": "0",
        "values-MIN_NUM_FORMS": "0",
        "values-MAX_NUM_FORMS": "1000",
        **fields,
    }
    for number, value in enumerate(values):
        data[f"values-{number}-value"] = value
        data[f"values-{number}-enabled"] = "on"
    return data


def test_shop_staff_add_an_attribute_for_a_new_category_in_the_admin(shop_staff):
    response = shop_staff.post(
        "/admin/search/enrichmentattribute/add/", add_form(["Wide", "Narrow", "None"])
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    assert names("hats")["brim"] == (("wide", "narrow", "none"), 0.55)


def test_an_enabled_attribute_with_one_value_is_refused(shop_staff):
    response = shop_staff.post("/admin/search/enrichmentattribute/add/", add_form(["wide"]))

    assert response.status_code == 200
    assert "at least two enabled values" in response.content.decode()
    assert not EnrichmentAttribute.objects.exists()


def test_the_file_defaults_are_listed_and_copied_in_to_edit(shop_staff):
    page = shop_staff.get("/admin/search/enrichmentattribute/").content.decode()
    assert "From the data file" in page and "sleeveless" in page

    shop_staff.post("/admin/search/enrichmentattribute/import-defaults/")

    copied = EnrichmentAttribute.objects.get(category="dresses", name="length")
    assert sorted(copied.values.values_list("value", flat=True)) == ["maxi", "midi", "mini"]
    assert EnrichmentAttribute.objects.get(category="chairs", name="pattern").enabled is False
    assert names("dresses") == {
        a.name: (a.values, a.threshold)
        for a in vocabularies.file_vocabularies("").for_category("dresses")
    }


def test_merchant_staff_cannot_open_the_vocabularies(client):
    _, owner = merchant_with_owner(name="Not staff of the shop")
    client.force_login(owner)
    assert client.get("/admin/search/enrichmentattribute/").status_code == 403


# --- Calibration ------------------------------------------------------------------------------


def synthetic(count: int, *, seed: int) -> list[Sample]:
    """A model right more often when surer: confidence ~ U(0.3, 1), right with probability
    equal to it."""
    rng = random.Random(seed)
    samples = []
    for _ in range(count):
        confidence = rng.uniform(0.3, 1.0)
        right = rng.random() < confidence
        samples.append(
            Sample(
                predicted="striped" if right else "plain",
                confidence=confidence,
                truth=frozenset({"striped"}),
            )
        )
    return samples


def measured(samples: list[Sample], threshold: float) -> tuple[float, float, float]:
    kept = [s for s in samples if s.confidence >= threshold]
    right = sum(s.right for s in kept)
    precision = right / len(kept) if kept else 0.0
    recall = right / len(samples)
    f1 = 2 * precision * recall / (precision + recall) if right else 0.0
    return precision, recall, f1


GRID = [i / 1000 for i in range(1001)]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_calibration_picks_the_best_f1_of_every_threshold(seed):
    samples = synthetic(400, seed=seed)

    found = calibrate(samples)

    assert found is not None
    best = max(measured(samples, t)[2] for t in GRID)
    assert found.f1 == pytest.approx(best)
    assert measured(samples, found.threshold) == pytest.approx(
        (found.precision, found.recall, found.f1)
    )


@pytest.mark.parametrize("target", [0.8, 0.9])
def test_calibration_for_a_target_precision_keeps_the_most_values_reaching_it(target):
    samples = synthetic(400, seed=7)

    found = calibrate(samples, target_precision=target)

    assert found is not None and found.precision >= target
    reaching = [measured(samples, t) for t in GRID if measured(samples, t)[0] >= target]
    assert found.recall == pytest.approx(max(recall for _, recall, _ in reaching))


def test_calibration_says_so_when_no_threshold_reaches_the_precision():
    always_wrong = [Sample("plain", 0.9, frozenset({"striped"})), Sample("plain", 0.5, frozenset())]
    assert calibrate(always_wrong, target_precision=0.5) is None
    assert calibrate([]) is None


def test_the_command_calibrates_from_the_merchants_values_and_the_scorer_uses_it(
    clip_settings, settings, tmp_path
):
    # Given products whose merchants typed a pattern, in a vocabulary of the data file
    vocabulary = tmp_path / "attributes.json"
    vocabulary.write_text(
        json.dumps({"default": {"pattern": {"values": ["plain", "striped"], "threshold": 0.5}}})
    )
    settings.ENRICHMENT_ATTRIBUTES_FILE = str(vocabulary)
    merchant, _ = merchant_with_owner(name="Calibrated")
    samples = sample_products(8, seed=6, colours=SWATCH_COLOURS)
    for number, sample in enumerate(samples):
        typed = {"pattern": "striped" if number % 2 else "plain"}
        if number == 0:
            typed = {"pattern": "tartan"}  # outside the vocabulary: counted apart
        sample = type(sample)(**{**sample.__dict__, "category": "scarves", "attributes": typed})
        create_sample_product(merchant, sample, image_size=64)
    indexing.index_images(list(ProductImage.objects.values_list("id", flat=True)))
    dry, written = StringIO(), StringIO()

    # When the command runs dry, then with --write
    call_command("calibrate_attributes", "--min-samples", "5", stdout=dry)
    assert not EnrichmentAttribute.objects.exists()
    call_command("calibrate_attributes", "--min-samples", "5", "--write", stdout=written)

    # Then the threshold is stored for the category, with how it was chosen, and scored by
    row = EnrichmentAttribute.objects.get(category="scarves", name="pattern")
    assert row.calibration["samples"] == 7 and row.calibration["goal"] == "f1"
    assert "scarves / pattern: 7 judged (1 more with values outside the vocabulary)" in (
        written.getvalue()
    )
    assert "0.500 ->" in dry.getvalue() and "Dry run" in dry.getvalue()
    assert vocabularies.get_vocabularies().attribute("scarves", "pattern").threshold == (
        pytest.approx(row.threshold)
    )
    assert sorted(row.values.values_list("value", flat=True)) == ["plain", "striped"]
