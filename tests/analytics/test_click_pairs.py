"""`export_click_pairs` turns clicks on text searches into (query, product, clicks, weight) rows
for `finetune_clip --pairs`, with the filters a shop needs to trust them."""

import csv
import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from analytics import partitions
from catalog import services as catalog_services
from tests.analytics.factories import ClickFactory, SearchEventFactory
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db


def searched(words, *, kind="text", when=None):
    when = when or timezone.now()
    return SearchEventFactory(words=words, kind=kind, created_at=when)


def clicked(search, product, *, position=1, visitor=None, after=timedelta(seconds=5)):
    fields = {"visitor_id": visitor} if visitor is not None else {}
    return ClickFactory(
        search_id=search.search_id,
        product_id=product.pk,
        merchant_id=product.merchant_id,
        position=position,
        created_at=search.created_at + after,
        **fields,
    )


def export(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command("export_click_pairs", *args, stdout=out, stderr=err)
    return list(csv.DictReader(io.StringIO(out.getvalue()))), err.getvalue()


def test_clicks_on_text_searches_become_weighted_pairs():
    boots, jacket = ProductFactory(sku="BOOT-1"), ProductFactory(sku="JACK-1")
    for position in (1, 3):  # two shoppers clicked the boots for "brown boots"
        clicked(searched("brown boots"), boots, position=position)
    clicked(searched("brown boots"), jacket)  # one click only: below --min-clicks 2
    hybrid = searched("brown boots", kind="hybrid")
    clicked(hybrid, jacket)
    clicked(hybrid, jacket, visitor="someone else")  # hybrid: the photo chose, not the words
    photo = searched("", kind="photo")
    clicked(photo, boots)
    clicked(photo, boots)

    rows, summary = export()

    assert rows == [
        {
            "query": "brown boots",
            "merchant": boots.merchant.slug,
            "sku": "BOOT-1",
            "product_id": str(boots.pk),
            "clicks": "2",
            "visitors": "2",
            "weight": "2.0",
        }
    ]
    assert "1 pair(s) of 1 quer" in summary


def test_position_debiasing_weighs_a_click_far_down_the_page_more():
    top, deep = ProductFactory(sku="TOP"), ProductFactory(sku="DEEP")
    for _ in range(2):
        search = searched("linen dress")
        clicked(search, top, position=1)
        clicked(search, deep, position=40)  # clipped at position 20

    rows, _ = export("--position-bias", "1")

    weights = {row["sku"]: float(row["weight"]) for row in rows}
    assert weights == {"DEEP": 40.0, "TOP": 2.0}
    assert [row["sku"] for row in rows] == ["DEEP", "TOP"]  # weightiest first


def test_one_visitor_clicking_again_and_again_is_one_opinion():
    product = ProductFactory()
    for _ in range(5):
        clicked(searched("cheap watch"), product, visitor="the-same-one")

    assert export("--min-visitors", "2")[0] == []
    assert export("--min-visitors", "1")[0][0]["clicks"] == "5"


def test_the_window_counts_searches_of_those_days_and_inactive_products_are_left_out():
    today = timezone.now()
    old_day = today - timedelta(days=5)
    partitions.partitions_ensure(start=old_day.date(), days=1)
    kept, gone = ProductFactory(sku="KEPT"), ProductFactory(sku="GONE")
    for when in (today, today):
        clicked(searched("red mug", when=when), kept)
        clicked(searched("red mug", when=when), gone)
    for _ in range(2):
        clicked(searched("old mug", when=old_day), kept)
    catalog_services.product_update(product=gone, data={"is_active": False})

    rows, summary = export("--since", (today - timedelta(days=1)).date().isoformat())

    assert [(row["query"], row["sku"]) for row in rows] == [("red mug", "KEPT")]
    assert "1 of deleted or inactive products left out" in summary
    all_days, _ = export()
    assert {row["query"] for row in all_days} == {"red mug", "old mug"}


def test_it_writes_the_file_finetune_clip_reads(tmp_path):
    from search.relevance.pairs import _rows

    product = ProductFactory(sku="SKU-9")
    for _ in range(2):
        clicked(searched('blue, "quoted" tee'), product)
    target = tmp_path / "pairs.csv"

    call_command("export_click_pairs", "--output", str(target), stderr=io.StringIO())

    [(query, merchant, sku, weight, _)] = _rows(target)
    assert (query, merchant, sku, weight) == (
        'blue, "quoted" tee',
        product.merchant.slug,
        "SKU-9",
        2.0,
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--kind", "colour"], "search kinds must be among"),
        (["--min-clicks", "0"], "min_clicks must be at least 1"),
        (["--position-bias", "-1"], "position_bias"),
        (["--since", "2026-02-30"], "is not a day"),
        (["--since", "2026-03-02", "--until", "2026-03-01"], "ends before it starts"),
    ],
)
def test_bad_options_are_refused_with_a_reason(args, message):
    with pytest.raises(CommandError, match=message):
        export(*args)
