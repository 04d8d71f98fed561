"""Catalogue enrichment from images: top-colour accuracy and near-duplicate precision/recall.

    HF_HUB_OFFLINE=1 .venv/bin/python bench/enrichment.py [--products 260] [--distinct 300]
        [--copies 150] [--clip-model DIR_OR_HUB_ID] [--quick] [--seed 0]

Colours: the sample generator's products in the palette's 13 named colours
(catalog.sample_data.SWATCH_COLOURS), each drawn on a plain and on a textured backdrop
(noise, stripes, checks, grain, gradient); a hit is the first colour of
search.enrichment.colors.dominant_colours being the product's colour. Prints accuracy per
backdrop, the confusions and the cost per image.

Near-duplicates: distinct images (drawn products of every category and colour on both kinds
of backdrop, and cluttered photos with products pasted in) mixed with copies of some of
them: re-encoded (JPEG quality 45-70), resized (45-80%), lightly cropped (2-6% per side),
recoloured (hue rotated or saturation changed), one or two of these at once. Every image is
checked against the images before it, as uploads are: candidates by cosine of the CLIP
vectors (ENRICHMENT_DUPLICATE_MIN_SIMILARITY, numpy brute force: the figure is the
method's, not the index's), confirmed by the perceptual hash
(ENRICHMENT_DUPLICATE_MAX_HASH_BITS) with search.enrichment.duplicates.confirm_twin.
Precision: flags that point at the right original; recall: copies flagged. Also printed: the
same with the hash alone and with the vectors alone, so each stage's share shows.

Model: by default the random-weight CLIP of bench/indexing.py (tiny with --quick), so the
vector stage's figure is a lower bound; give --clip-model for a real checkpoint. Prints,
never asserts.
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import random
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np
from PIL import Image, ImageEnhance

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


def cpu_description() -> str:
    model, flags = platform.processor() or platform.machine(), set()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
            elif line.startswith("flags"):
                flags = set(line.split(":", 1)[1].split())
    except OSError:
        pass
    wanted = ("sse4_2", "avx", "avx2", "fma", "avx512f", "avx512_vnni", "amx_tile")
    shown = " ".join(flag for flag in wanted if flag in flags) or "-"
    return f"{model}; {os.cpu_count()} CPUs; flags: {shown}"


# --- colours ----------------------------------------------------------------------------


def colour_accuracy(products: int, seed: int, size: int) -> None:
    from catalog.sample_data import SWATCH_COLOURS, draw_product, generate_products
    from search.enrichment.colors import dominant_colours
    from search.enrichment.palette import load_palette

    palette = load_palette()
    samples = generate_products(products, seed=seed, colours=SWATCH_COLOURS)
    right: Counter = Counter()
    total: Counter = Counter()
    confusions: Counter = Counter()
    seconds = 0.0
    for number, sample in enumerate(samples):
        for backdrop in ("plain", "textured"):
            data = draw_product(sample, size=size, variant=number % 3, backdrop=backdrop)
            start = time.perf_counter()
            found = dominant_colours(data, palette)
            seconds += time.perf_counter() - start
            top = found[0].name if found else "-"
            total[backdrop] += 1
            if top == sample.colour:
                right[backdrop] += 1
            else:
                confusions[(sample.colour, top, sample.category)] += 1
    images = sum(total.values())
    print(f"## Top colour: {products} products x 2 backdrops = {images} images, {size} px")
    for backdrop in ("plain", "textured"):
        print(f"  {backdrop:9s} accuracy {right[backdrop] / total[backdrop]:.3f}")
    print(f"  all       accuracy {sum(right.values()) / images:.3f}")
    print(f"  cost      {1000 * seconds / images:.1f} ms per image (decode included)")
    if confusions:
        print("  confusions (truth -> found, shape):")
        for (truth, found, shape), count in confusions.most_common(8):
            print(f"    {truth} -> {found} ({shape}): {count}")


# --- near-duplicates ----------------------------------------------------------------------


def _jpeg(image: Image.Image, quality: int) -> bytes:
    out = io.BytesIO()
    image.convert("RGB").save(out, format="JPEG", quality=quality)
    return out.getvalue()


def _copy(data: bytes, rng: random.Random) -> tuple[bytes, str]:
    image = Image.open(io.BytesIO(data)).convert("RGB")
    edits = rng.sample(["re-encoded", "resized", "cropped", "recoloured"], rng.choice((1, 2)))
    for edit in edits:
        width, height = image.size
        if edit == "resized":
            scale = rng.uniform(0.45, 0.8)
            image = image.resize((int(width * scale), int(height * scale)))
        elif edit == "cropped":
            cut = [int(side * rng.uniform(0.02, 0.06)) for side in (width, height) * 2]
            image = image.crop((cut[0], cut[1], width - cut[2], height - cut[3]))
        elif edit == "recoloured":
            if rng.random() < 0.5:
                hsv = np.asarray(image.convert("HSV")).copy()
                hsv[..., 0] = (hsv[..., 0].astype(int) + rng.randint(20, 100)) % 256
                image = Image.fromarray(hsv, "HSV").convert("RGB")
            else:
                image = ImageEnhance.Color(image).enhance(rng.uniform(0.3, 1.8))
    return _jpeg(image, rng.randint(45, 70)), "+".join(sorted(edits))


def _cluttered(rng: random.Random, pictures: list[bytes]) -> bytes:
    from bench.scenes import background

    scene = background(rng, (512, 512))
    for _ in range(rng.randint(1, 4)):
        picture = Image.open(io.BytesIO(rng.choice(pictures))).convert("RGB")
        side = rng.randint(120, 260)
        scene.paste(
            picture.resize((side, side)), (rng.randrange(512 - side), rng.randrange(512 - side))
        )
    return _jpeg(scene, 85)


def near_duplicates(args) -> None:
    from django.conf import settings

    from bench.indexing import save_random_clip
    from catalog.sample_data import CATEGORIES, SWATCH_COLOURS, draw_product, generate_products
    from search.encoding.clip import ClipEncoder
    from search.enrichment.duplicates import confirm_twin, hash_distance, perceptual_hash

    rng = random.Random(args.seed)
    # The generator draws one silhouette per category, so two of its products of a category
    # differ only by colour: a recolouring, which is what the check must catch. Distinct
    # images are one drawing per category and the rest photos of products pasted at random
    # places and sizes into cluttered scenes (each one a different picture).
    samples = generate_products(len(CATEGORIES) * 2, seed=args.seed + 1, colours=SWATCH_COLOURS)
    drawings = [
        draw_product(sample, size=320, backdrop=("plain", "textured")[number % 2])
        for number, sample in enumerate(samples[: len(CATEGORIES)])
    ]
    pool = [draw_product(sample, size=256) for sample in samples]
    scenes = [_cluttered(rng, pool) for _ in range(max(0, args.distinct - len(drawings)))]
    distinct = drawings + scenes
    copies = []  # (bytes, index of its original, kind)
    for original in rng.sample(range(len(distinct)), min(args.copies, len(distinct))):
        data, kind = _copy(distinct[original], rng)
        copies.append((data, original, kind))
    # Uploads in a random order, copies after their original (an original comes first).
    items = [(data, None, "distinct") for data in distinct] + copies
    order = list(range(len(distinct)))
    rng.shuffle(order)
    for position, (_, original, _) in enumerate(copies):
        after = order.index(original)
        order.insert(rng.randint(after + 1, len(order)), len(distinct) + position)

    work = Path(tempfile.mkdtemp(prefix="bench-enrichment-"))
    source = args.clip_model or str(save_random_clip(work / "clip", quick=args.quick))
    clip = ClipEncoder(source, None, batch_size=16)
    pictures = [Image.open(io.BytesIO(items[i][0])).convert("RGB") for i in order]
    start = time.perf_counter()
    vectors = np.concatenate(
        [clip.encode_images(pictures[i : i + 32]) for i in range(0, len(pictures), 32)]
    )
    encode_ms = 1000 * (time.perf_counter() - start) / len(pictures)
    start = time.perf_counter()
    hashes = [perceptual_hash(picture) for picture in pictures]
    hash_ms = 1000 * (time.perf_counter() - start) / len(pictures)

    min_similarity = settings.ENRICHMENT_DUPLICATE_MIN_SIMILARITY
    max_bits = settings.ENRICHMENT_DUPLICATE_MAX_HASH_BITS
    truth = {}  # position of a copy -> position of its original
    for position, item in enumerate(order):
        original = items[item][1]
        if original is not None:
            truth[position] = order.index(original)

    def score(method: str) -> tuple[float, float, int]:
        missed.clear()
        flags = {}
        for position in range(len(order)):
            if position == 0:
                continue
            cosines = vectors[:position] @ vectors[position]
            if method == "hash only":
                candidates = [(j, 1.0, hashes[j]) for j in range(position)]
            else:
                candidates = [
                    (int(j), float(cosines[j]), hashes[j])
                    for j in np.nonzero(cosines >= min_similarity)[0]
                ]
            if method == "vectors only":
                if candidates:
                    flags[position] = max(candidates, key=lambda c: c[1])[0]
                continue
            twin = confirm_twin(hashes[position], candidates, max_hash_distance=max_bits)
            if twin is not None:
                flags[position] = twin.image_id
        right = sum(
            1
            for p, twin in flags.items()
            if truth.get(p) == twin
            or (
                # a copy flagged against another copy of the same original is right too
                p in truth and truth.get(twin) == truth[p]
            )
            or (twin in truth and truth[twin] == p)
        )
        missed.update(items[order[p]][2] for p in truth if p not in flags)
        precision = right / len(flags) if flags else 1.0
        recall = sum(1 for p in truth if p in flags) / len(truth) if truth else 1.0
        return precision, recall, len(flags)

    print(
        f"\n## Near-duplicates: {len(distinct)} distinct images ({len(scenes)} cluttered "
        f"photos), {len(copies)} copies ({Counter(k for _, _, k in copies).most_common(4)} ...)"
    )
    print(
        f"  model {'random-weight CLIP' if not args.clip_model else args.clip_model}; "
        f"cosine >= {min_similarity}, hashes <= {max_bits} bits of 128"
    )
    missed: Counter = Counter()
    for method in ("hash only", "vectors only", "vectors + hash"):
        precision, recall, flagged = score(method)
        print(f"  {method:15s} precision {precision:.3f}  recall {recall:.3f}  ({flagged} flagged)")
    print(f"  copies missed by vectors + hash, by edit: {dict(missed) or 'none'}")
    copy_distances = [hash_distance(hashes[p], hashes[o]) for p, o in truth.items()]
    originals = [p for p in range(len(order)) if p not in truth]
    other_distances = [
        hash_distance(hashes[a], hashes[b])
        for i, a in enumerate(originals)
        for b in originals[i + 1 :]
    ]
    print(
        f"  hash bits between distinct images: min {min(other_distances)}, "
        f"1st pct {np.percentile(other_distances, 1):.0f}, median {np.median(other_distances):.0f}"
    )
    print(
        f"  hash bits copy->original: median {np.median(copy_distances):.0f}, "
        f"95th pct {np.percentile(copy_distances, 95):.0f}, max {max(copy_distances)}"
    )
    print(
        f"  cost: encode {encode_ms:.1f} ms/image (the indexing pass pays it already), "
        f"hash {hash_ms:.2f} ms/image"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--products", type=int, default=260, help="colour set: products")
    parser.add_argument("--distinct", type=int, default=300, help="near-duplicates: originals")
    parser.add_argument("--copies", type=int, default=150, help="near-duplicates: copies")
    parser.add_argument("--clip-model", default="", help="CLIP checkpoint (directory or hub id)")
    parser.add_argument("--quick", action="store_true", help="a tiny model and a small set")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.quick:
        args.products, args.distinct, args.copies = 91, 80, 40
    import django

    django.setup()
    print(f"# Catalogue enrichment bench ({cpu_description()})")
    colour_accuracy(args.products, args.seed, size=256)
    near_duplicates(args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
