"""Fine-tuning runs: click pairs read from the export, runs on a worker's queue (eager Celery
here), their progress in the row, the admin and `--status`; the precision a CPU gets."""

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from kombu.exceptions import OperationalError

from catalog.sample_data import CATEGORIES, create_sample_product, generate_products
from search.models import FinetuneRun
from search.relevance.finetune import cpu_supports_bf16
from search.relevance.pairs import CLICK_TASK, WEIGHT_CAP, read_pairs
from search.relevance.visual import VisualInputError
from search.relevance.visual_sets import Catalogue, is_held_out
from tests.factories import merchant_with_owner
from workers import tasks

SHARE = 0.3


@pytest.fixture
def shop(db, clip_settings, settings):
    settings.FINETUNE_PROGRESS_SECONDS = 0.0  # every step written: the test reads them
    merchant, _ = merchant_with_owner(name="Harbour")
    samples = generate_products(16, seed=4)
    for sample in samples:
        create_sample_product(merchant, sample, images=2, image_size=40)
    return merchant, samples


def pairs_csv(path, merchant, samples):
    rows = ["query,merchant,sku,product_id,clicks,visitors,weight"]
    for sample in samples:
        synonym = CATEGORIES[sample.category][3][0]
        rows.append(f"{sample.colour} {synonym},{merchant.slug},{sample.sku},0,2,2,2.0")
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def finetune_clip(*args):
    out = io.StringIO()
    call_command(
        "finetune_clip",
        *args,
        "--epochs",
        "1",
        "--batch-size",
        "4",
        "--train-layers",
        "1",
        "--held-out-share",
        str(SHARE),
        stdout=out,
        stderr=io.StringIO(),
    )
    return out.getvalue()


def test_a_queued_run_trains_on_the_worker_with_click_pairs_and_shows_its_progress(
    shop, tmp_path, admin_client, django_capture_on_commit_callbacks
):
    merchant, samples = shop
    pairs = pairs_csv(tmp_path / "pairs.csv", merchant, samples)

    with django_capture_on_commit_callbacks(execute=True):
        output = finetune_clip(
            "--output", str(tmp_path / "shop-clip"), "--pairs", str(pairs), "--queue", "training"
        )

    assert "queued on 'training'" in output
    run = FinetuneRun.objects.get()
    assert (run.status, run.queue, run.device) == ("succeeded", "training", "cpu")
    assert "click pair(s)" in run.notes
    held = sum(is_held_out(merchant.slug, s.sku, SHARE) for s in samples)
    assert f"{len(samples) - held} to train on" in run.notes
    assert [r["epoch"] for r in run.history] == [0, 1]
    assert CLICK_TASK in run.history[0]["metrics"]
    assert run.steps >= 1 and run.step == run.steps and run.loss is not None
    assert len(run.revision) == 64
    # where it stands, from the command and in the admin
    status = io.StringIO()
    call_command("finetune_clip", "--status", stdout=status)
    assert f"run {run.pk} [training]" in status.getvalue()
    assert "succeeded; held-out score" in status.getvalue()
    detail = io.StringIO()
    call_command("finetune_clip", "--status", str(run.pk), stdout=detail)
    assert f"{CLICK_TASK} R@10" in detail.getvalue()
    page = admin_client.get("/admin/search/finetunerun/").content.decode()
    assert "succeeded; held-out score" in page
    change = admin_client.get(f"/admin/search/finetunerun/{run.pk}/change/").content.decode()
    assert f"{CLICK_TASK} recall@10" in change.replace("&gt;", ">")


@pytest.mark.parametrize(
    ("device", "queue"), [("cuda", "training"), ("cuda:1", "training"), ("cpu", "")]
)
def test_a_cuda_device_sends_the_run_to_the_gpu_queue_a_cpu_runs_it_here(
    shop, tmp_path, settings, monkeypatch, device, queue, django_capture_on_commit_callbacks
):
    settings.FINETUNE_DEVICE = device
    sent = []
    monkeypatch.setattr(
        tasks.finetune_clip_run, "apply_async", lambda **kwargs: sent.append(kwargs)
    )

    with django_capture_on_commit_callbacks(execute=True):
        output = finetune_clip("--output", str(tmp_path / "out"))

    run = FinetuneRun.objects.get()
    assert run.queue == queue and run.config["device"] == device
    if queue:
        assert sent == [{"kwargs": {"run_id": run.pk}, "queue": queue, "retry": False}]
        assert run.status == "queued" and f"queued on '{queue}'" in output
    else:
        assert sent == [] and run.status == "succeeded"


def test_a_broker_that_does_not_take_the_run_fails_it_with_the_reason(
    shop, tmp_path, monkeypatch, django_capture_on_commit_callbacks
):
    def refuse(**kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(tasks.finetune_clip_run, "apply_async", refuse)

    with django_capture_on_commit_callbacks(execute=True):
        finetune_clip("--output", str(tmp_path / "out"), "--queue", "gpu")

    run = FinetuneRun.objects.get()
    assert run.status == "failed"
    assert run.error.startswith("could not queue the run on 'gpu': Error 111")


def test_the_task_trains_a_run_once_and_drops_a_missing_one(shop, tmp_path):
    finetune_clip("--output", str(tmp_path / "out"), "--queue", "training")  # not committed
    run = FinetuneRun.objects.get()

    assert tasks.finetune_clip_run(run_id=run.pk) == "succeeded"
    finished = FinetuneRun.objects.get().finished_at
    assert tasks.finetune_clip_run(run_id=run.pk) == "succeeded"  # a duplicate message
    assert FinetuneRun.objects.get().finished_at == finished
    assert tasks.finetune_clip_run(run_id=run.pk + 1000) == "missing"


def test_a_bad_pairs_file_fails_the_run_with_its_line(shop, tmp_path):
    bad = tmp_path / "pairs.csv"
    bad.write_text("query,sku,weight\nred frock,HA-DRE-0002,lots\n", encoding="utf-8")

    with pytest.raises(CommandError, match=r"pairs.csv:2: the weight 'lots' is not a number"):
        finetune_clip("--output", str(tmp_path / "out"), "--pairs", str(bad))

    assert FinetuneRun.objects.get().status == "failed"


# --- Reading the pairs ---------------------------------------------------------------------------


def catalogue_of(skus):
    catalogue = Catalogue()
    for sku in skus:
        catalogue.add(
            merchant="m", sku=sku, title=sku, category="mugs", brand="", loader=lambda: b""
        )
    return catalogue


def test_pair_weights_are_relative_and_capped_and_unknown_products_counted(tmp_path):
    skus = [f"S{n}" for n in range(60)]
    *light, heavy = [s for s in skus if not is_held_out("m", s, SHARE)][:7]
    held = next(s for s in skus if is_held_out("m", s, SHARE))
    rows = [f"mug,{sku},1" for sku in light] + [f"cup,{heavy},100", f"mug,{held},7", "mug,NO,3"]
    path = tmp_path / "pairs.csv"
    path.write_text("query,sku,weight\n" + "\n".join(rows) + "\n", encoding="utf-8")

    pairs = read_pairs(path, catalogue_of(skus), SHARE)

    weights = {p.doc: round(p.weight, 3) for p in pairs.training}
    assert weights == {**{sku: round(7 / 106, 3) for sku in light}, heavy: WEIGHT_CAP}
    [query] = pairs.evaluation
    assert query.text == "mug"
    assert query.judgments == {**{sku: 1 for sku in light}, held: 2}
    assert (pairs.rows, pairs.unknown) == (9, 1)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("words,product\nmug,S1\n", "must name the columns query and sku"),
        ("query,sku\n,S1\n", r"pairs.csv:2: a pair needs a query and a sku"),
        ("query,sku,weight\nmug,S1,0\n", "the weight must be a positive number"),
    ],
)
def test_a_malformed_pairs_file_is_refused_with_its_line(tmp_path, text, message):
    path = tmp_path / "pairs.csv"
    path.write_text(text, encoding="utf-8")

    with pytest.raises(VisualInputError, match=message):
        read_pairs(path, catalogue_of(["S1"]), SHARE)


# --- Precision -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("flags", "native"),
    [
        ("fpu sse2 avx avx2 fma", False),  # this machine's kind: bf16 would be emulated
        ("avx2 avx512f avx512_bf16", True),
        ("avx2 avx512f amx_bf16 amx_tile", True),
    ],
)
def test_bf16_on_a_cpu_only_with_native_instructions(tmp_path, flags, native):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text(f"processor\t: 0\nflags\t\t: {flags}\n", encoding="ascii")

    assert cpu_supports_bf16(cpuinfo) is native
