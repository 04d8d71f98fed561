"""Shopper photos are scenes: whole photo vs a crop vs detected boxes, recall@1 and @10.

    HF_HUB_OFFLINE=1 .venv/bin/python bench/scenes.py [--products 60] [--scenes 40]
        [--clip-model DIR_OR_HUB_ID] [--detector DIR_OR_HUB_ID] [--prompts dress,bag,...]
        [--quick] [--seed 0]

Catalogue: the sample generator's products, one drawn image each (catalog.sample_data).
Scenes: 2 to 4 catalogue images pasted at random scale (18-40% of the scene's width) and
position onto a cluttered background (noise, random distractor rectangles and ellipses),
then re-encoded as JPEG quality 70, as a phone would. Every pasted product is one query:

  whole photo   the scene as it is: one list for all its products
  crop          the ground-truth box of the product (what a shopper drawing a box sends)
  detector      the detected box overlapping the product most (IoU >= 0.5), else a miss

Each query runs what the image leg runs: decode_query_image, the crop of
search.query.regions, the CLIP encoder (search.encoding.clip), and exact cosine ranking over
the catalogue's image vectors (numpy, so the figure is the model's, not the index's). A hit
at k: the pasted product is among the first k products. Latency: detect + one encode per
box, which is what "look" costs besides the vector searches.

Models: by default the random-weight CLIP of bench/indexing.py (ViT-B/32 size; tiny with
--quick) and the tiny random YOLOS of the tests, so absolute figures mean nothing; the ratio
whole photo : crop with the same model is the figure to quote. Give --clip-model and
--detector real checkpoints (directories or cached hub ids) for real figures. Prints figures,
never asserts on them.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


def setup_django() -> None:
    import django

    django.setup()


def background(rng: random.Random, size: tuple[int, int]) -> Image.Image:
    noise = np.random.default_rng(rng.randrange(1 << 30)).integers(60, 200, (*size[::-1], 3))
    image = Image.fromarray(noise.astype(np.uint8)).filter(ImageFilter.GaussianBlur(6))
    draw = ImageDraw.Draw(image)
    for _ in range(rng.randint(4, 9)):  # distractors: things that are not products
        x0, y0 = rng.randrange(size[0]), rng.randrange(size[1])
        box = (x0, y0, x0 + rng.randint(20, 160), y0 + rng.randint(20, 160))
        colour = tuple(rng.randrange(256) for _ in range(3))
        (draw.ellipse if rng.random() < 0.5 else draw.rectangle)(box, fill=colour)
    return image


def compose(rng: random.Random, pictures: list[Image.Image], size=(960, 720)):
    """A scene and its ground truth: [(catalogue index, normalised box)]."""
    scene = background(rng, size)
    truth: list[tuple[int, tuple[float, float, float, float]]] = []
    for _attempt in range(40):
        if len(truth) >= rng.randint(2, 4):
            break
        index = rng.randrange(len(pictures))
        side = int(size[0] * rng.uniform(0.18, 0.40))
        x0, y0 = rng.randrange(size[0] - side), rng.randrange(size[1] - side)
        box = (x0 / size[0], y0 / size[1], (x0 + side) / size[0], (y0 + side) / size[1])
        if any(iou(box, other) > 0.05 for _, other in truth) or index in {i for i, _ in truth}:
            continue
        scene.paste(pictures[index].resize((side, side)), (x0, y0))
        truth.append((index, box))
    out = io.BytesIO()
    scene.save(out, format="JPEG", quality=70)
    return out.getvalue(), truth


def iou(a, b) -> float:
    left, top = max(a[0], b[0]), max(a[1], b[1])
    right, bottom = min(a[2], b[2]), min(a[3], b[3])
    overlap = max(0.0, right - left) * max(0.0, bottom - top)
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - overlap
    return overlap / union if union > 0 else 0.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--products", type=int, default=60)
    parser.add_argument("--scenes", type=int, default=40)
    parser.add_argument("--clip-model", default="", help="CLIP checkpoint (directory or hub id)")
    parser.add_argument("--detector", default="", help="detector checkpoint (directory or hub id)")
    parser.add_argument("--prompts", default="", help="words for an open-vocabulary detector")
    parser.add_argument("--quick", action="store_true", help="tiny models, few scenes")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.quick:
        args.products, args.scenes = min(args.products, 24), min(args.scenes, 8)
    setup_django()

    from bench.indexing import save_random_clip
    from catalog.intake import decode_query_image
    from catalog.sample_data import draw_product, generate_products
    from search.encoding.clip import ClipEncoder
    from search.encoding.detector import ObjectDetector
    from search.query.regions import Box, crop_image, decode_edge_for
    from tests.fixtures.models import build_tiny_detector

    work = Path(tempfile.mkdtemp(prefix="bench-scenes-"))
    clip_source = args.clip_model or str(save_random_clip(work / "clip", quick=args.quick))
    detector_source = args.detector or str(build_tiny_detector(work / "detector"))
    clip = ClipEncoder(clip_source, None, batch_size=16)
    detector = ObjectDetector(
        detector_source,
        None,
        device="auto",
        score_threshold=0.3 if args.detector else 0.0,
        max_boxes=6,
        prompts=tuple(args.prompts.split(",")) if args.prompts else (),
    )
    samples = generate_products(args.products, seed=args.seed)
    # An open-vocabulary detector looks for --prompts, else the catalogue's category names (as
    # the server does without DETECTOR_PROMPTS); a closed-set one ignores the words.
    words = tuple(w.strip() for w in args.prompts.split(",") if w.strip()) or tuple(
        sorted({sample.category for sample in samples})
    )
    pictures = [Image.open(io.BytesIO(draw_product(s, size=256))).convert("RGB") for s in samples]
    catalogue = clip.encode_images(pictures)  # (products, dim), unit vectors

    def ranked(image: Image.Image) -> list[int]:
        vector = clip.encode_images([image])[0]
        return list(np.argsort(-(catalogue @ vector))[:10])

    rng = random.Random(args.seed)
    hits = {kind: {1: 0, 10: 0} for kind in ("whole photo", "crop", "detector")}
    queries = 0
    found_boxes = 0
    look_ms: list[float] = []
    for _ in range(args.scenes):
        data, truth = compose(rng, pictures)
        whole = decode_query_image(data)
        whole_top = ranked(whole)
        started = time.perf_counter()
        detections = detector.detect(
            decode_query_image(data, min_edge=decode_edge_for(None, look=True)), words
        )
        detected_tops = [(d.box, ranked(crop_image(whole, Box(*d.box)))) for d in detections]
        look_ms.append((time.perf_counter() - started) * 1000)
        for index, box in truth:
            queries += 1
            sharp = decode_query_image(data, min_edge=decode_edge_for(Box(*box)))
            crop_top = ranked(crop_image(sharp, Box(*box)))
            best = max(detected_tops, key=lambda d: iou(d[0], box), default=None)
            matched = best is not None and iou(best[0], box) >= 0.5
            found_boxes += matched
            for k in (1, 10):
                hits["whole photo"][k] += index in whole_top[:k]
                hits["crop"][k] += index in crop_top[:k]
                hits["detector"][k] += matched and index in best[1][:k]

    print(
        f"CLIP: {clip_source if args.clip_model else 'random-init CLIP (bench/indexing.py)' + (' tiny' if args.quick else ' ViT-B/32')}"
    )
    print(
        f"detector: {detector_source if args.detector else 'tiny random YOLOS (tests/fixtures/models.py)'}"
    )
    if detector.zero_shot:
        print(f"detector words: {', '.join(words)}")
    print(
        f"{args.products} catalogue products, {args.scenes} scenes, {queries} pasted products (queries)"
    )
    print(f"{'query':<12} {'recall@1':>9} {'recall@10':>10}")
    for kind, counts in hits.items():
        print(f"{kind:<12} {counts[1] / queries:>9.3f} {counts[10] / queries:>10.3f}")
    whole10, crop10 = hits["whole photo"][10] / queries, hits["crop"][10] / queries
    print(
        f"crop : whole photo recall@10 = {crop10 / whole10:.2f}"
        if whole10
        else "crop : whole photo recall@10 = inf (whole photo found none)"
    )
    print(f"detector boxes matching a product (IoU >= 0.5): {found_boxes}/{queries}")
    print(
        f"detect + one encode per box, per scene: p50 {statistics.median(look_ms):.1f} ms, "
        f"max {max(look_ms):.1f} ms (boxes per scene: at most {detector.max_boxes})"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
