"""Does fine-tuning learn? Held-out text -> image recall@10 before and after, in one run.

Default: a tiny CLIP with random weights (built from a config, nothing downloaded) trained from
scratch on the demo catalogue's generated pictures and titles (catalog/sample_data.py): every
layer learns. Before training it is at chance; after, it should find a held-out title's product
among the whole catalogue far above chance. With ``--model`` (a hub id in the local cache, or a
model directory) the same run fine-tunes a real checkpoint, its lower layers frozen.

The held-out products (20 %, by a hash of their SKU) are never trained on; the gallery is every
image of the catalogue (held-out and training products alike), so chance recall@10 is
10 / products. Prints the CPU model and flags, the precision used and training images/s.

``--click-pairs`` adds what shoppers of the generated shop would type and click (the colour and
the category's other word, "red frock" for a red dress: words no title uses) as clicked query
pairs (search/relevance/pairs.py); the held-out products' pairs are the ``clicks->image`` task.

``--size vit-b-32`` trains a random-init CLIP of ViT-B/32's size (151 M parameters, 224 px,
the tests' small tokenizer) instead of the tiny one: for the training images/s a real
checkpoint of that size gets, with ``--max-steps`` to stop after a few steps.

    python bench/finetune.py                        # tiny CLIP, 600 products, 2 pictures each
    python bench/finetune.py --products 200 --epochs 8   # reduced scale
    python bench/finetune.py --click-pairs          # and shoppers' clicked queries
    python bench/finetune.py --size vit-b-32 --products 60 --epochs 1 --max-steps 4
    python bench/finetune.py --model openai/clip-vit-base-patch32 --epochs 3
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


def cpu_description() -> str:
    model, flags = platform.processor() or "unknown CPU", ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name") and model in ("unknown CPU", platform.processor()):
                model = line.split(":", 1)[1].strip()
            if line.startswith("flags"):
                present = set(line.split(":", 1)[1].split())
                wanted = ("avx2", "avx512f", "avx512_bf16", "amx_bf16", "fma")
                flags = " ".join(flag for flag in wanted if flag in present)
                break
    except OSError:
        pass
    return f"{model}, {os.cpu_count()} cores, flags: {flags or 'none of avx2/avx512/amx'}"


def build_tiny_clip(directory: Path, *, seed: int = 0) -> Path:
    """A random-weight CLIP small enough to train on a CPU in minutes: 32 px images, the tests'
    character-level tokenizer with room for a whole title."""
    from tests.fixtures.models import build_tiny_clip as build

    return build(directory, seed=seed, text_positions=40)


def build_vit_b32_sized_clip(directory: Path, *, seed: int = 0) -> Path:
    """Random weights in ViT-B/32's shape (CLIPConfig's defaults: a 12-layer 768-wide vision
    tower on 224 px in 32 px patches, a 12-layer 512-wide text tower, 512-d projections),
    with the tests' tokenizer: nothing downloaded, the compute of openai/clip-vit-base-patch32."""
    import torch
    from transformers import CLIPConfig, CLIPModel, CLIPProcessor, CLIPTokenizer
    from transformers.models.clip.image_processing_pil_clip import CLIPImageProcessorPil

    from tests.fixtures.models import write_tiny_clip_tokenizer_files

    directory.mkdir(parents=True, exist_ok=True)
    vocab_file, merges_file = write_tiny_clip_tokenizer_files(directory)
    tokenizer = CLIPTokenizer(vocab=str(vocab_file), merges=str(merges_file), model_max_length=77)
    config = CLIPConfig(
        text_config={
            "bos_token_id": tokenizer.bos_token_id,
            "eos_token_id": tokenizer.eos_token_id,
            "pad_token_id": tokenizer.pad_token_id,
        }
    )
    torch.manual_seed(seed)
    CLIPModel(config).save_pretrained(directory)
    processor = CLIPImageProcessorPil(
        size={"shortest_edge": 224}, crop_size={"height": 224, "width": 224}
    )
    CLIPProcessor(image_processor=processor, tokenizer=tokenizer).save_pretrained(directory)
    return directory


def click_pairs(products: int, seed: int, directory: Path) -> Path:
    from catalog.sample_data import CATEGORIES, generate_products

    lines = ["query,merchant,sku,weight"]
    for sample in generate_products(products, seed=seed):
        synonym = CATEGORIES[sample.category][3][0]
        lines.append(f"{sample.colour} {synonym},demo,{sample.sku},1")
    path = directory / "pairs.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def demo_catalogue(products: int, images: int, size: int, seed: int):
    from catalog.sample_data import draw_product, generate_products
    from search.relevance.visual_sets import Catalogue

    catalogue = Catalogue()
    for sample in generate_products(products, seed=seed):
        for variant in range(images):
            data = draw_product(sample, size=size, variant=variant)
            catalogue.add(
                merchant="demo",
                sku=sample.sku,
                title=sample.title,
                category=sample.category,
                brand=sample.brand,
                loader=lambda data=data: data,
            )
    return catalogue


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="", help="a real CLIP checkpoint (default: tiny)")
    parser.add_argument(
        "--size",
        choices=("tiny", "vit-b-32"),
        default="tiny",
        help="the random-init CLIP to train when no --model is given",
    )
    parser.add_argument("--click-pairs", action="store_true", help="train on shopper queries too")
    parser.add_argument("--max-steps", type=int, default=0, help="batches per epoch (0: all)")
    parser.add_argument("--products", type=int, default=600)
    parser.add_argument("--images", type=int, default=2, help="pictures per product")
    parser.add_argument("--image-size", type=int, default=64, help="drawn picture edge (px)")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--lr", type=float, default=0.0)
    parser.add_argument("--train-layers", type=int, default=None)
    parser.add_argument("--patience", type=int, default=5)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: its choice)")
    args = parser.parse_args()

    import django

    django.setup()
    import torch

    from search.relevance.finetune import FinetuneConfig, finetune
    from search.relevance.pairs import CLICK_TASK, read_pairs
    from search.relevance.visual import TEXT_TASK

    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"CPU: {cpu_description()}; torch {torch.__version__}, {torch.get_num_threads()} threads")
    if args.device.startswith("cuda") and torch.cuda.is_available():
        print(f"GPU: {torch.cuda.get_device_name(0)}")
    tiny = not args.model
    with tempfile.TemporaryDirectory(prefix="bench-finetune-") as work:
        if args.model:
            source = args.model
        elif args.size == "vit-b-32":
            source = str(build_vit_b32_sized_clip(Path(work) / "vit-b-32"))
        else:
            source = str(build_tiny_clip(Path(work) / "tiny"))
        began = time.perf_counter()
        catalogue = demo_catalogue(args.products, args.images, args.image_size, args.seed)
        pairs = (
            read_pairs(click_pairs(args.products, args.seed, Path(work)), catalogue, 0.2)
            if args.click_pairs
            else None
        )
        config = FinetuneConfig(
            epochs=args.epochs,
            batch_size=args.batch_size,
            learning_rate=args.lr or (1e-3 if tiny else 1e-5),
            train_layers=args.train_layers
            if args.train_layers is not None
            else (-1 if tiny else 2),
            patience=args.patience,
            seed=args.seed,
            device=args.device,
            max_steps_per_epoch=args.max_steps,
        )
        described = {
            "tiny": "tiny random-init CLIP (32 px, 2 layers)",
            "vit-b-32": "random-init CLIP of ViT-B/32's size (224 px, 12+12 layers)",
        }[args.size]
        print(
            f"model: {described if tiny else source}; "
            f"catalogue: {args.products} generated products x {args.images} pictures; "
            f"{config.epochs} epochs max, batch {config.batch_size}, lr {config.learning_rate:g}, "
            f"train_layers {config.train_layers}"
        )
        report = finetune(
            source=source,
            revision=None,
            output=Path(work) / "out",
            catalogue=catalogue,
            config=config,
            show_bar=sys.stderr.isatty(),
            pairs=pairs,
            progress=lambda record: print(
                f"  epoch {record.epoch}: loss {fmt(record.loss)}, held-out score "
                f"{record.score:.3f}",
                flush=True,
            ),
        )
        products = len(catalogue.titles)
        print(
            f"precision: {report.precision}; {report.train_products} training products, "
            f"{report.train_pairs} click pairs" + (f" ({pairs.describe()})" if pairs else "")
        )
        print(
            f"{'epoch':>5} {'loss':>8} {'text R@10':>10} {'image R@10':>11} {'clicks R@10':>12} "
            f"{'score':>7}"
        )
        for record in report.history:
            text = record.metrics.get(TEXT_TASK, {}).get("recall@10")
            image = record.metrics.get("image->product", {}).get("recall@10")
            clicks = record.metrics.get(CLICK_TASK, {}).get("recall@10")
            loss = "-" if record.loss is None else f"{record.loss:.3f}"
            print(
                f"{record.epoch:>5} {loss:>8} {fmt(text):>10} {fmt(image):>11} {fmt(clicks):>12} "
                f"{record.score:>7.3f}"
            )
        before = report.history[0].metrics[TEXT_TASK]
        after = next(r for r in report.history if r.epoch == report.best_epoch).metrics[TEXT_TASK]
        print(
            f"held-out text -> image recall@10: before {fmt(before['recall@10'])}, "
            f"after {fmt(after['recall@10'])} (best epoch {report.best_epoch}); "
            f"chance {min(1.0, 10 / products):.3f} ({products} products in the gallery)"
        )
        print(f"held-out text -> image MRR: before {fmt(before['mrr'])}, after {fmt(after['mrr'])}")
        print(
            f"training: {report.images_per_second:.1f} images/s on {report.device} "
            f"(batch {config.batch_size}, train_layers {config.train_layers}, {report.precision})"
        )
        print(f"wall time: {time.perf_counter() - began:.0f} s")


def fmt(value) -> str:
    return "-" if value is None else f"{value:.3f}"


if __name__ == "__main__":
    main()
