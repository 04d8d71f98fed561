"""Indexing throughput: the seed guide's one-image-at-a-time loop against our pipeline.

    .venv/bin/python bench/indexing.py [--images N] [--batch-size B] [--repeats R] [--quick]

Generates N 800x800 JPEGs (gradients, shapes, a little grain: what libjpeg sees in product
photos), saves a randomly initialised CLIP of ViT-B/32 size (the compute of
openai/clip-vit-base-patch32; only the weights are random), then measures in one run:

  naive     the seed guide's loop: Image.open, convert RGB, processor(images=image),
            get_image_features, one image at a time under torch.no_grad
  pipeline  ClipEncoder.encode_image_stream: reduced-size JPEG decode and preprocessing of the
            next batch in a thread pool while the model runs the current batch
  int8      the same pipeline with CLIP_PRECISION=int8 (dynamic int8 Linear layers)
  bf16      the same pipeline with CLIP_PRECISION=bf16 (weights and activations in bfloat16;
            emulated, so slow, on a CPU without AVX-512 BF16 or AMX)
  auto      the same pipeline with CLIP_PRECISION=auto: the mode this machine's CPU flags
            pick, after its check against fp32 at load

and the agreement of the vectors: each precision against fp32, and pipeline against naive.
The CPU model and flags, and what auto chose with its calibration cosine, are printed first.
--quick runs a few small images through a tiny model (a smoke test, not a measurement).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import string
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


def make_images(directory: Path, count: int, size: int, seed: int = 0) -> list[Path]:
    rng = np.random.default_rng(seed)
    paths = []
    y, x = np.mgrid[0:size, 0:size].astype(np.float32) / size
    for number in range(count):
        start, end = rng.uniform(0, 255, 3), rng.uniform(0, 255, 3)
        angle = rng.uniform(0, 2 * math.pi)
        ramp = np.cos(angle) * x + np.sin(angle) * y
        ramp = (ramp - ramp.min()) / max(float(np.ptp(ramp)), 1e-6)
        pixels = start + (end - start) * ramp[..., None]
        image = Image.fromarray(pixels.astype(np.uint8))
        draw = ImageDraw.Draw(image)
        for _ in range(int(rng.integers(3, 9))):
            x0, y0 = rng.integers(0, size * 3 // 4, 2)
            w, h = rng.integers(size // 10, size // 2, 2)
            colour = tuple(int(c) for c in rng.integers(0, 256, 3))
            box = (int(x0), int(y0), int(x0 + w), int(y0 + h))
            if rng.random() < 0.5:
                draw.ellipse(box, fill=colour)
            else:
                draw.rounded_rectangle(box, radius=int(min(w, h) // 6), fill=colour)
        image = image.filter(ImageFilter.GaussianBlur(radius=float(rng.uniform(1, 3))))
        grain = rng.normal(0, 4, (size, size, 3))
        image = Image.fromarray(np.clip(np.asarray(image) + grain, 0, 255).astype(np.uint8))
        path = directory / f"product-{number:04d}.jpg"
        image.save(path, "JPEG", quality=90)
        paths.append(path)
    return paths


def save_random_clip(directory: Path, *, quick: bool, seed: int = 0) -> Path:
    """A randomly initialised CLIP checkpoint: ViT-B/32 size, or tiny with --quick."""
    import torch
    from transformers import CLIPConfig, CLIPModel, CLIPProcessor, CLIPTokenizer
    from transformers.models.clip.image_processing_pil_clip import CLIPImageProcessorPil

    directory.mkdir(parents=True, exist_ok=True)
    # The text tower is not timed here: a tiny vocabulary keeps the checkpoint small.
    symbols = list(string.ascii_lowercase + string.digits)
    tokens = ["<|startoftext|>", "<|endoftext|>", *symbols, *(f"{s}</w>" for s in symbols)]
    (directory / "vocab.json").write_text(json.dumps({t: i for i, t in enumerate(tokens)}))
    (directory / "merges.txt").write_text("#version: 0.2\n")
    tokenizer = CLIPTokenizer(
        vocab=str(directory / "vocab.json"), merges=str(directory / "merges.txt")
    )
    text = {
        "vocab_size": len(tokenizer),
        "bos_token_id": tokenizer.bos_token_id,
        "eos_token_id": tokenizer.eos_token_id,
        "pad_token_id": tokenizer.pad_token_id,
    }
    if quick:
        tiny = {
            "hidden_size": 32,
            "intermediate_size": 64,
            "num_hidden_layers": 2,
            "num_attention_heads": 4,
        }
        config = CLIPConfig(
            text_config={**tiny, **text, "max_position_embeddings": 16},
            vision_config={**tiny, "image_size": 32, "patch_size": 8},
            projection_dim=16,
        )
        tokenizer.model_max_length = 16
    else:
        config = CLIPConfig(text_config=text)  # vision tower: ViT-B/32 at 224 pixels
        tokenizer.model_max_length = 77
    edge = config.vision_config.image_size
    torch.manual_seed(seed)
    CLIPModel(config).eval().save_pretrained(directory)
    processor = CLIPProcessor(
        image_processor=CLIPImageProcessorPil(
            size={"shortest_edge": edge}, crop_size={"height": edge, "width": edge}
        ),
        tokenizer=tokenizer,
    )
    processor.save_pretrained(directory)
    return directory


def run_naive(model_dir: Path, paths: list[Path], device: str = "cpu") -> np.ndarray:
    """Section 8.2 of the seed guide, with transformers 5's output object (on `device`)."""
    import torch
    from transformers import CLIPModel, CLIPProcessor

    model = CLIPModel.from_pretrained(model_dir).to(device)
    processor = CLIPProcessor.from_pretrained(model_dir)

    def encode_image(image_path: Path) -> np.ndarray:
        image = Image.open(image_path).convert("RGB")
        inputs = processor(images=image, return_tensors="pt").to(device)
        with torch.no_grad():
            embedding = model.get_image_features(**inputs).pooler_output
        return embedding.squeeze().cpu().numpy()

    encode_image(paths[0])  # first-call setup is not what the loop costs per image
    return timed("naive", lambda: np.array([encode_image(p) for p in paths]), len(paths))


_precision_reports: dict[str, object] = {}


def run_pipeline(
    label: str,
    model_dir: Path,
    paths: list[Path],
    batch: int,
    precision: str = "fp32",
    device: str = "cpu",
):
    from search.encoding.clip import ClipEncoder

    encoder = ClipEncoder(
        str(model_dir), None, precision=precision, batch_size=batch, device=device
    )
    encoder.load()
    _precision_reports[label] = encoder.precision
    items = [(path, path.read_bytes) for path in paths]
    list(encoder.encode_image_stream(items[:batch]))  # warm-up, like the naive loop's

    def stream() -> np.ndarray:
        return np.stack([vector for _, vector in encoder.encode_image_stream(items)])

    return timed(label, stream, len(paths))


_timings: dict[str, list[float]] = {}


def timed(label: str, work: Callable[[], np.ndarray], count: int) -> np.ndarray:
    started = time.perf_counter()
    vectors = work()
    _timings.setdefault(label, []).append(count / (time.perf_counter() - started))
    return vectors


def unit(vectors: np.ndarray) -> np.ndarray:
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def agreement(a: np.ndarray, b: np.ndarray) -> dict[str, float]:
    a, b = unit(a), unit(b)
    cosines = np.sum(a * b, axis=1)
    # Nearest other image under each: do both rank the catalogue the same way?
    sim_a, sim_b = a @ a.T, b @ b.T
    np.fill_diagonal(sim_a, -np.inf)
    np.fill_diagonal(sim_b, -np.inf)
    same_top1 = float(np.mean(sim_a.argmax(1) == sim_b.argmax(1)))
    return {"mean": float(cosines.mean()), "min": float(cosines.min()), "top1": same_top1}


def spread(vectors: np.ndarray) -> float:
    """Mean cosine between different images: near 1 means the model maps everything alike."""
    v = unit(vectors)
    sims = v @ v.T
    n = len(v)
    return float((sims.sum() - np.trace(sims)) / (n * (n - 1)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=96, help="JPEGs to encode (default 96)")
    parser.add_argument("--batch-size", type=int, default=0, help="default: EMBED_BATCH_SIZE")
    parser.add_argument("--repeats", type=int, default=2, help="rounds; best images/s is shown")
    parser.add_argument("--quick", action="store_true", help="smoke run: few images, tiny model")
    parser.add_argument("--device", default="cpu", help="cpu or cuda (int8 is CPU-only)")
    parser.add_argument(
        "--modes", default="int8,bf16,auto", help="precisions beside fp32 (comma-separated)"
    )
    args = parser.parse_args(argv)

    import django

    django.setup()
    import logging

    import torch
    from django.conf import settings
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()
    logging.getLogger("search").setLevel(logging.WARNING)

    if settings.TORCH_THREADS > 0:
        torch.set_num_threads(settings.TORCH_THREADS)
    batch = args.batch_size or settings.EMBED_BATCH_SIZE
    count = min(args.images, 6) if args.quick else args.images
    repeats = 1 if args.quick else max(1, args.repeats)
    size = 96 if args.quick else 800

    # int8 is a CPU mode; bf16 and auto run anywhere.
    modes = [m for m in args.modes.split(",") if m and (m != "int8" or args.device == "cpu")]
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="bench-indexing-") as tmp:
        root = Path(tmp)
        started = time.perf_counter()
        (root / "images").mkdir()
        paths = make_images(root / "images", count, size)
        model_dir = save_random_clip(root / "model", quick=args.quick)
        setup_s = time.perf_counter() - started
        results: dict[str, np.ndarray] = {}
        for _ in range(repeats):
            # Interleaved rounds: a neighbour's load on shared cores hits every mode alike.
            results["naive"] = run_naive(model_dir, paths, args.device)
            results["pipeline"] = run_pipeline(
                "pipeline", model_dir, paths, batch, "fp32", args.device
            )
            for mode in modes:
                results[mode] = run_pipeline(mode, model_dir, paths, batch, mode, args.device)

    load_after = os.getloadavg()[0]
    from search.encoding.precision import hardware

    best = {label: max(rates) for label, rates in _timings.items()}
    print(
        f"indexing benchmark: {count} JPEGs {size}x{size}, "
        f"{'tiny CLIP' if args.quick else 'random-init CLIP ViT-B/32 (224 px)'}, "
        f"batch {batch}, device {args.device}, torch threads {torch.get_num_threads()}, "
        f"cpu cores {os.cpu_count()}, "
        f"best of {repeats} (setup {setup_s:.0f} s)"
    )
    print(f"cpu: {hardware().describe()}")
    # On shared cores a neighbour's load shows up here; batch-1 loops suffer from it the most.
    print(f"load average (1 min) before / after: {load_before:.2f} / {load_after:.2f}")
    for mode in modes:
        report = _precision_reports[mode]
        cosine = getattr(report, "min_cosine", None)
        print(
            f"CLIP_PRECISION={mode}: runs {getattr(report, 'mode', '?')}, calibration min cosine "
            f"to fp32 {'-' if cosine is None else f'{cosine:.4f}'}"
            + (f" ({report.reason})" if getattr(report, "reason", "") else "")
        )
    print()
    print(f"{'mode':<10}{'images/s':>10}{'vs naive':>10}{'vs fp32':>9}  all rounds")
    for label in ("naive", "pipeline", *modes):
        rounds = ", ".join(f"{rate:.2f}" for rate in _timings[label])
        print(
            f"{label:<10}{best[label]:>10.2f}{best[label] / best['naive']:>9.2f}x"
            f"{best[label] / best['pipeline']:>8.2f}x  {rounds}"
        )
    print()
    print(f"{'vectors':<22}{'mean cos':>10}{'min cos':>10}{'same NN':>10}")
    comparisons = [(f"{m} vs fp32", agreement(results[m], results["pipeline"])) for m in modes]
    comparisons.append(("pipeline vs naive", agreement(results["pipeline"], results["naive"])))
    for label, stats in comparisons:
        print(f"{label:<22}{stats['mean']:>10.4f}{stats['min']:>10.4f}{stats['top1']:>10.0%}")
    catalogue_spread = spread(results["pipeline"])
    print(f"mean cosine between different images (fp32): {catalogue_spread:.4f}")
    print()
    ratio = best["pipeline"] / best["naive"]
    print(f"pipeline / naive: {ratio:.2f}x (target >= 2.0x)")
    for mode, stats in comparisons[:-1]:
        name = mode.split()[0]
        print(
            f"{name} / naive: {best[name] / best['naive']:.2f}x; min cosine to fp32 "
            f"{stats['min']:.4f} (target >= 0.99)"
        )
    if catalogue_spread > 0.9:
        print(
            "note: the random-init model maps different images to similar vectors (spread "
            f"{catalogue_spread:.2f}), so cosines near 1 say less than they would with real "
            "weights; 'same NN' is the sharper check"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
