"""`finetune_clip` learns, and `reindex --model` is gated on the held-out evaluation.

One small seeded fine-tuning run (a tiny random-init CLIP on generated pictures and titles)
serves both: its history shows the learning, and its model is the live one the gate defends
against a copy with shuffled projection weights.
"""

import io
import shutil

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from catalog.models import ProductImage
from catalog.sample_data import (
    CATEGORIES,
    create_sample_product,
    draw_product,
    generate_products,
)
from search.index import generations
from search.index import sync as indexing
from search.models import IndexGeneration
from search.relevance.finetune import FinetuneConfig, TrainingClip, finetune, load_parts
from search.relevance.pairs import CLICK_TASK, read_pairs
from search.relevance.visual import TEXT_TASK
from search.relevance.visual_sets import Catalogue
from tests.factories import merchant_with_owner
from tests.fixtures.models import build_tiny_clip

SHARE = 0.25


def generated_catalogue(count, seed):
    catalogue = Catalogue()
    for sample in generate_products(count, seed=seed):
        for variant in range(2):
            data = draw_product(sample, size=40, variant=variant)
            catalogue.add(
                merchant="demo",
                sku=sample.sku,
                title=sample.title,
                category=sample.category,
                brand=sample.brand,
                loader=lambda data=data: data,
            )
    return catalogue


CONFIG = FinetuneConfig(
    epochs=10, batch_size=12, learning_rate=1e-3, train_layers=-1, patience=10, held_out_share=SHARE
)
PRODUCTS = 240


@pytest.fixture(scope="module")
def tuned(tmp_path_factory):
    import torch

    # One thread: on a shared CPU, torch's spinning worker threads cost more than they give
    # this small a model; and the run is the same on every machine.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    work = tmp_path_factory.mktemp("finetune")
    source = build_tiny_clip(work / "base", seed=3, text_positions=40)
    try:
        report = finetune(
            source=str(source),
            revision=None,
            output=work / "tuned",
            catalogue=generated_catalogue(PRODUCTS, seed=21),
            config=CONFIG,
        )
    finally:
        torch.set_num_threads(threads)
    return work, report


def shopper_words_csv(path, count, seed):
    """What shoppers of the generated shop type and click: the colour and the category's
    other word ("red frock" for a red dress), a word no title uses."""
    lines = ["query,merchant,sku,clicks,weight"]
    for sample in generate_products(count, seed=seed):
        synonym = CATEGORIES[sample.category][3][0]
        lines.append(f"{sample.colour} {synonym},demo,{sample.sku},3,3")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def tuned_with_pairs(tmp_path_factory):
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    work = tmp_path_factory.mktemp("finetune-pairs")
    source = build_tiny_clip(work / "base", seed=3, text_positions=40)
    catalogue = generated_catalogue(PRODUCTS, seed=21)
    pairs = read_pairs(shopper_words_csv(work / "pairs.csv", PRODUCTS, 21), catalogue, SHARE)
    try:
        report = finetune(
            source=str(source),
            revision=None,
            output=work / "tuned",
            catalogue=catalogue,
            config=CONFIG,
            pairs=pairs,
        )
    finally:
        torch.set_num_threads(threads)
    return work, report, catalogue, pairs


def click_recall(model_dir, catalogue, pairs):
    from search.relevance.visual import Task, run_task

    model, tokenizer, processor = load_parts(str(model_dir))
    task = Task(name=CLICK_TASK, queries=pairs.evaluation, gallery=catalogue.gallery())
    return run_task(task, TrainingClip(model, tokenizer, processor, "cpu")).summary["recall@10"]


def test_clicked_queries_teach_shoppers_words_that_titles_never_use(tuned, tuned_with_pairs):
    _, without = tuned
    work, report, catalogue, pairs = tuned_with_pairs
    # the held-out products' pairs are the evaluation, the others are trained on
    held_out = set(catalogue.held_out(SHARE))
    assert {pair.doc for pair in pairs.training} == set(catalogue.training(SHARE))
    assert all(2 in query.judgments.values() for query in pairs.evaluation)
    assert {doc for q in pairs.evaluation for doc, g in q.judgments.items() if g == 2} == held_out
    assert report.train_pairs == len(pairs.training) > 100
    assert {CLICK_TASK} <= set(report.history[0].metrics)

    with_pairs_recall = click_recall(work / "tuned", catalogue, pairs)
    without_pairs_recall = click_recall(without.output, catalogue, pairs)

    # Measured: 0.49 without, 0.66 with (the colour alone finds some; "frock" only the pairs)
    assert with_pairs_recall >= without_pairs_recall + 0.1


def test_finetuning_lowers_the_loss_and_raises_held_out_recall(tuned):
    work, report = tuned
    losses = [r.loss for r in report.history[1:]]
    before = report.history[0].metrics[TEXT_TASK]["recall@10"]
    best = next(r for r in report.history if r.epoch == report.best_epoch)
    after = best.metrics[TEXT_TASK]["recall@10"]
    assert losses[-1] < 0.8 * losses[0]
    assert after >= before + 0.1
    assert after > 2 * 10 / PRODUCTS  # chance: 10 of the products
    # the output is a loadable transformers directory; its revision is its content hash
    model, tokenizer, processor = load_parts(str(work / "tuned"))
    assert type(model).__name__ == "CLIPModel"
    assert len(report.revision) == 64


def test_a_finished_run_resumes_without_training_again(tuned, tmp_path):
    work, report = tuned
    copy = tmp_path / "tuned"
    shutil.copytree(work / "tuned", copy)
    again = finetune(
        source="unused: the state in the output directory wins",
        revision=None,
        output=copy,
        catalogue=generated_catalogue(PRODUCTS, seed=21),
        config=CONFIG,
    )
    assert again.resumed_from == report.history[-1].epoch
    assert [r.score for r in again.history] == [r.score for r in report.history]
    assert again.revision == report.revision


# --- The gate ------------------------------------------------------------------------------------


def shuffled_copy(source, target):
    """The same model with its projection weights shuffled: text and images no longer meet."""
    import torch

    model, tokenizer, processor = load_parts(str(source))
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for layer in (model.visual_projection, model.text_projection):
            flat = layer.weight.flatten()
            layer.weight.copy_(
                flat[torch.randperm(flat.numel(), generator=generator)].view_as(layer.weight)
            )
    model.save_pretrained(target)
    tokenizer.save_pretrained(target)
    processor.save_pretrained(target)
    return target


@pytest.fixture
def live_tuned(tuned, tmp_path, settings, monkeypatch):
    """The tuned model live over a catalogue it was not trained on."""
    from search.encoding.registry import reset_encoders

    work, _ = tuned
    live_dir = shutil.copytree(
        work / "tuned", tmp_path / "live", ignore=shutil.ignore_patterns(".*")
    )
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    settings.CLIP_MODEL = str(live_dir)
    settings.CLIP_MODEL_REVISION = ""
    settings.EMBED_BATCH_SIZE = 16
    settings.REINDEX_GATE_MARGIN = 0.02
    reset_encoders()
    merchant, _ = merchant_with_owner(name="Harbour")
    for sample in generate_products(60, seed=33):
        create_sample_product(merchant, sample, images=2, image_size=48)
    indexing.index_images(list(ProductImage.objects.values_list("id", flat=True)))
    yield live_dir
    reset_encoders()


def reindex(model, *extra):
    out = io.StringIO()
    call_command(
        "reindex",
        "--model",
        str(model),
        "--skip-products",
        *extra,
        stdout=out,
        stderr=io.StringIO(),
    )
    return out.getvalue()


@pytest.mark.django_db
def test_the_gate_blocks_a_degraded_model_unless_forced(live_tuned, tmp_path):
    live_before = generations.resolve(generations.images_alias(), fresh=True)
    degraded = shuffled_copy(live_tuned, tmp_path / "degraded")

    with pytest.raises(
        CommandError, match=r"Not switched: candidate worse .* by more than 0.02"
    ) as refused:
        reindex(degraded)

    assert "text->image recall@10: live" in str(refused.value)
    assert generations.resolve(generations.images_alias(), fresh=True) == live_before
    generation = IndexGeneration.objects.exclude(collection=live_before).get()
    assert generation.evaluation["allowed"] is False
    text = generation.evaluation["tasks"][TEXT_TASK]["comparison"]["recall@10"]
    assert text["candidate"] < text["live"] - 0.02

    output = reindex(degraded, "--force")

    assert "(now live)" in output
    assert generations.resolve(generations.images_alias(), fresh=True) == generation.collection
    generation.refresh_from_db()
    assert generation.evaluation["forced"] is True


@pytest.mark.django_db
def test_the_gate_lets_an_identical_model_through(live_tuned, tmp_path, admin_client):
    twin = shutil.copytree(live_tuned, tmp_path / "twin")

    output = reindex(twin)

    assert "(now live)" in output
    assert "switch gate: candidate within 0.02" in output
    generation = IndexGeneration.objects.get(
        collection=generations.resolve(generations.images_alias(), fresh=True)
    )
    comparison = generation.evaluation["tasks"][TEXT_TASK]["comparison"]["ndcg@10"]
    assert comparison["delta"] == pytest.approx(0.0, abs=1e-6)
    assert generation.evaluation["allowed"] is True

    # and the admin lists each generation with the gate's figures
    page = admin_client.get("/admin/search/indexgeneration/").content.decode()
    assert "allowed (margin 0.02)" in page
    assert "text-&gt;image recall@10" in page


@pytest.mark.django_db
def test_finetune_clip_starts_from_the_live_model_with_lower_layers_frozen(clip_settings, tmp_path):
    merchant, _ = merchant_with_owner(name="Harbour")
    for sample in generate_products(16, seed=4):
        create_sample_product(merchant, sample, images=2, image_size=40)
    out = io.StringIO()

    call_command(
        "finetune_clip",
        "--output",
        str(tmp_path / "shop-clip"),
        "--epochs",
        "1",
        "--batch-size",
        "4",
        "--train-layers",
        "1",
        "--held-out-share",
        "0.3",
        stdout=out,
    )

    assert "held-out score" in out.getvalue()
    # (the output keeps the best epoch, which may be the start: the last epoch's weights are
    # in the resume state)
    model, _, _ = load_parts(str(tmp_path / "shop-clip" / ".finetune" / "last"))
    base, _, _ = load_parts(clip_settings.CLIP_MODEL)
    # the lowest layer of each tower did not move; the projections did
    assert torch_equal(model.vision_model.encoder.layers[0], base.vision_model.encoder.layers[0])
    assert torch_equal(model.text_model.encoder.layers[0], base.text_model.encoder.layers[0])
    assert not torch_equal(
        model.vision_model.encoder.layers[1], base.vision_model.encoder.layers[1]
    )
    assert not torch_equal(model.visual_projection, base.visual_projection)


def torch_equal(a, b):
    import torch

    return all(torch.equal(x, y) for x, y in zip(a.parameters(), b.parameters(), strict=True))


def test_the_gate_does_not_hold_a_switch_away_from_a_live_model_that_no_longer_loads(tmp_path):
    from search.encoding.clip import ClipEncoder
    from search.relevance.gate import held_out_gate

    gone = ClipEncoder(str(tmp_path / "deleted-model"), None)

    verdict = held_out_gate(margin=0.02)(gone, ClipEncoder(str(tmp_path / "other"), None))

    assert verdict.allowed
    assert "live model is not available" in verdict.summary
