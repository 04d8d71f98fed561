"""`evaluate_visual`: its figures agree with a brute-force computation, live and candidate, and
it touches nothing live."""

import csv
import io
import json
import math

import numpy as np
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from catalog.models import ProductImage
from catalog.sample_data import create_sample_product, draw_product, generate_products
from search.encoding.registry import clip_encoder_for, get_clip_encoder
from search.index import generations
from search.index import sync as indexing
from search.models import ImageEmbedding
from tests.factories import merchant_with_owner
from tests.fixtures.models import build_tiny_clip


@pytest.fixture(scope="session")
def candidate_clip_dir(tmp_path_factory):
    return build_tiny_clip(tmp_path_factory.mktemp("tiny-clip-candidate"), seed=2)


@pytest.fixture
def small_catalogue(db, clip_settings):
    merchant, _ = merchant_with_owner(name="Harbour")
    samples = generate_products(8, seed=5)
    for sample in samples:
        create_sample_product(merchant, sample, images=2, image_size=64)
    indexing.index_images(list(ProductImage.objects.values_list("id", flat=True)))
    return samples


def brute_force(encoder, samples, photos, text_queries):
    """Every figure from first principles: cosine to every catalogue image, a product's score
    its best image, rank of the relevant products by plain sorting."""
    gallery = []
    for image in ProductImage.objects.select_related("product"):
        vector = encoder.encode_images([image.file.open("rb").read()])[0]
        gallery.append((image.product.sku, vector))
    categories = {s.sku: s.category for s in samples}

    def ranking(query_vector):
        best = {}
        for sku, vector in gallery:
            best[sku] = max(best.get(sku, -2.0), float(np.dot(query_vector, vector)))
        return sorted(best, key=lambda sku: -best[sku])

    def figures(ranked, judgments):
        top = max(judgments.values())
        wanted = [sku for sku, grade in judgments.items() if grade == top]
        ranks = [ranked.index(sku) + 1 for sku in wanted]
        dcg = sum(judgments.get(sku, 0) / math.log2(i + 2) for i, sku in enumerate(ranked[:10]))
        ideal = sum(
            g / math.log2(i + 2) for i, g in enumerate(sorted(judgments.values())[::-1][:10])
        )
        return {
            **{f"recall@{k}": sum(r <= k for r in ranks) / len(ranks) for k in (1, 5, 10)},
            "mrr": 1 / min(ranks),
            "ndcg@10": dcg / ideal,
        }

    image_rows = [
        (figures(ranking(encoder.encode_images([data])[0]), {sku: 1}), categories[sku])
        for sku, data in photos
    ]
    text_rows = [
        (figures(ranking(encoder.encode_texts([text])[0]), judgments), None)
        for text, judgments in text_queries.items()
    ]
    return image_rows, text_rows


def means(rows, category=None):
    chosen = [row for row, c in rows if category is None or c == category]
    return {name: sum(r[name] for r in chosen) / len(chosen) for name in chosen[0]}


@pytest.mark.django_db
def test_figures_agree_with_brute_force_for_live_and_candidate(
    small_catalogue, tmp_path, candidate_clip_dir
):
    # Given a labelled folder (new pictures of four SKUs, one SKU the shop does not sell) and
    # a CSV of graded text queries
    samples = small_catalogue
    photos = []
    for sample in samples[:4]:
        folder = tmp_path / "photos" / sample.sku
        folder.mkdir(parents=True)
        data = draw_product(sample, size=64, variant=3)
        (folder / "shot.jpg").write_bytes(data)
        photos.append((sample.sku, data))
    (tmp_path / "photos" / "NOT-SOLD").mkdir()
    (tmp_path / "photos" / "NOT-SOLD" / "x.jpg").write_bytes(photos[0][1])
    text_queries = {
        samples[0].title: {samples[0].sku: 3, samples[1].sku: 1},
        "blue things": {samples[2].sku: 2, samples[3].sku: 2, samples[4].sku: 1},
    }
    with (tmp_path / "queries.csv").open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["query", "sku", "grade"])
        for text, judgments in text_queries.items():
            writer.writerows([text, sku, grade] for sku, grade in judgments.items())
    live_before = generations.resolve(generations.images_alias(), fresh=True)
    embeddings_before = ImageEmbedding.objects.count()

    # When evaluate_visual runs the live model and a candidate side by side
    out = io.StringIO()
    call_command(
        "evaluate_visual",
        "--photos",
        str(tmp_path / "photos"),
        "--queries",
        str(tmp_path / "queries.csv"),
        "--candidate",
        str(candidate_clip_dir),
        "--json",
        str(tmp_path / "report.json"),
        "--html",
        str(tmp_path / "report.html"),
        stdout=out,
        stderr=io.StringIO(),
    )

    # Then every mean, overall and per category, is the brute-force one, for both models
    report = json.loads((tmp_path / "report.json").read_text())
    encoders = {
        "live": get_clip_encoder(),
        "candidate": clip_encoder_for(str(candidate_clip_dir), ""),
    }
    for label, encoder in encoders.items():
        image_rows, text_rows = brute_force(encoder, samples, photos, text_queries)
        image_run = report["tasks"]["image->product"]["runs"][label]
        assert image_run["queries"] == 4
        assert image_run["summary"] == pytest.approx(means(image_rows), abs=1e-6)
        for category, row in image_run["by_category"].items():
            expected = means(image_rows, category)
            assert {k: row[k] for k in expected} == pytest.approx(expected, abs=1e-6)
        text_run = report["tasks"]["text->image"]["runs"][label]
        assert text_run["summary"] == pytest.approx(means(text_rows), abs=1e-6)
    # and the comparison carries the paired test, the HTML its plots
    comparison = report["tasks"]["image->product"]["comparison"]["mrr"]
    assert comparison["pairs"] == 4
    assert comparison["delta"] == pytest.approx(
        comparison["candidate"] - comparison["live"], abs=1e-9
    )
    assert "NOT-SOLD" in " ".join(report["tasks"]["image->product"]["notes"])
    html = (tmp_path / "report.html").read_text()
    assert html.count("data:image/png;base64,") == 4  # recall@k and per category, two tasks
    assert "image->product" in out.getvalue()
    # and nothing live moved: same alias, no vector stored for the candidate
    assert generations.resolve(generations.images_alias(), fresh=True) == live_before
    assert ImageEmbedding.objects.count() == embeddings_before


@pytest.mark.django_db
def test_without_labels_it_runs_the_held_out_splits(small_catalogue, tmp_path):
    call_command(
        "evaluate_visual",
        "--held-out-share",
        "0.5",
        "--json",
        str(tmp_path / "r.json"),
        stdout=io.StringIO(),
        stderr=io.StringIO(),
    )
    report = json.loads((tmp_path / "r.json").read_text())
    photo_task = report["tasks"]["image->product (held out)"]
    title_task = report["tasks"]["text->image (held out)"]
    assert photo_task["queries"] == title_task["queries"] > 0
    # a query photo is not in the gallery it is looked up in
    assert photo_task["gallery_images"] == 16 - photo_task["queries"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ("photo.jpg\n", "expected 'photo path,sku'"),
        ("missing.jpg,SKU\n", "no photo at"),
    ],
)
def test_bad_label_files_are_named(small_catalogue, tmp_path, rows, message):
    (tmp_path / "labels.csv").write_text(rows)
    with pytest.raises(CommandError, match=message):
        call_command(
            "evaluate_visual", "--photos", str(tmp_path / "labels.csv"), stdout=io.StringIO()
        )
