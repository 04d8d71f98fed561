"""Embedding throughput on a GPU: the seed guide's loop vs our pipeline, and the model alone.

Run on a GPU host: `python bench/gpu_embedding.py [--images 512] [--batch-size 64]`.
It needs torch, transformers, numpy and Pillow only (GPU images ship those without Django),
so the encoder's one Django import, the model-load metric, is stubbed when Django is absent.
Same setup as bench/indexing.py: 800x800 JPEGs, a randomly initialised ViT-B/32 CLIP (the
real model's cost).
"""

import argparse
import sys
import tempfile
import time
import types
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

try:
    import django  # noqa: F401
except ImportError:  # a bare GPU image: give the encoder a metric that records nothing
    metrics = types.ModuleType("config.metrics")

    class _NoMetric:
        def labels(self, **_):
            return self

        def observe(self, *_):
            return None

    metrics.MODEL_LOAD_SECONDS = _NoMetric()
    sys.modules["config"] = types.ModuleType("config")
    sys.modules["config.metrics"] = metrics


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=512)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--naive-images", type=int, default=128)
    args = parser.parse_args()

    import numpy as np
    import torch

    from bench.indexing import make_images, run_naive, run_pipeline, save_random_clip

    device = "cuda" if torch.cuda.is_available() else "cpu"
    print(
        f"device: {torch.cuda.get_device_name(0) if device == 'cuda' else 'cpu'}, torch {torch.__version__}"
    )
    with tempfile.TemporaryDirectory(prefix="bench-gpu-") as tmp:
        root = Path(tmp)
        (root / "images").mkdir()
        paths = make_images(root / "images", args.images, 800)
        model_dir = save_random_clip(root / "model", quick=False)
        rates = {}

        started = time.perf_counter()
        run_naive(model_dir, paths[: args.naive_images], device)
        rates["naive loop (seed guide)"] = args.naive_images / (time.perf_counter() - started)

        for batch in (16, args.batch_size):
            run_pipeline("warm", model_dir, paths[:batch], batch, "fp32", device)
            started = time.perf_counter()
            run_pipeline("pipeline", model_dir, paths, batch, "fp32", device)
            rates[f"pipeline, batch {batch}"] = len(paths) / (time.perf_counter() - started)

        # The model alone on preprocessed pixels: the ceiling the pipeline's decoding feeds.
        from transformers import CLIPModel

        model = CLIPModel.from_pretrained(model_dir).to(device).eval()
        pixels = torch.randn(args.batch_size, 3, 224, 224, device=device)
        with torch.inference_mode():
            for _ in range(3):
                model.get_image_features(pixel_values=pixels)
            if device == "cuda":
                torch.cuda.synchronize()
            started = time.perf_counter()
            rounds = 20
            for _ in range(rounds):
                model.get_image_features(pixel_values=pixels)
            if device == "cuda":
                torch.cuda.synchronize()
        rates[f"model alone, batch {args.batch_size}"] = (
            rounds * args.batch_size / (time.perf_counter() - started)
        )

    naive = rates["naive loop (seed guide)"]
    print(f"{len(paths)} JPEGs 800x800, random-init CLIP ViT-B/32, fp32")
    for label, rate in rates.items():
        print(f"{label:<32}{rate:>10.1f} images/s {rate / naive:>7.1f}x")
    print(f"cpu cores available to decode: {len(np.arange(torch.get_num_threads()))} torch threads")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
