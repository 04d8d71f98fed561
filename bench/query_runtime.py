"""Text-query runtimes side by side: eager (what the query path runs), a TorchScript trace
(what it ran before; deprecated in PyTorch) and torch.compile, on one short query at a time.

    .venv/bin/python bench/query_runtime.py [--queries N] [--quick]

Towers: the bundled all-MiniLM-L6-v2 (real weights) and a randomly initialised CLIP text
tower of ViT-B/32 size (the compute of openai/clip-vit-base-patch32). Each runtime encodes the
same queries of mixed lengths; the table shows the median milliseconds per query, the time
to build the runtime, and the lowest cosine to eager's vectors. ONNX Runtime is not measured:
it is not installed here (the export needs the onnx packages too).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

QUERIES = (
    "kettle",
    "red leather jacket",
    "crimson coat made of leather with a quilted lining",
    "blue jeans",
    "oak dining chair with a woven seat",
    "gold hoop earrings",
    "linen summer dress with pockets and a belt",
    "running shoes",
)


def _clip_module(encoder):
    import torch

    from search.encoding.clip import _features

    model = encoder._model

    class TextTower(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask):
            return _features(
                self.model.get_text_features(input_ids=input_ids, attention_mask=attention_mask)
            )

    def inputs(text: str) -> tuple:
        tokens = encoder._tokens([text])
        return tokens["input_ids"], tokens["attention_mask"]

    return TextTower().eval(), inputs


def _minilm_module(encoder):
    import torch

    model = encoder._model
    example = model.preprocess([QUERIES[1]])
    keys = tuple(key for key, value in example.items() if isinstance(value, torch.Tensor))
    constants = {key: value for key, value in example.items() if key not in keys}

    class Embed(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, *tensors):
            features = {**constants, **dict(zip(keys, tensors, strict=True))}
            return self.model(features)["sentence_embedding"]

    def inputs(text: str) -> tuple:
        features = model.preprocess([text])
        return tuple(features[key] for key in keys)

    return Embed().eval(), inputs


def runtimes(module, inputs, eager: Callable[[str], np.ndarray], quick: bool):
    """name -> (build seconds, text -> vector)."""
    import torch

    def run(compiled) -> Callable[[str], np.ndarray]:
        def embed(text: str) -> np.ndarray:
            with torch.inference_mode():
                return compiled(*inputs(text))[0].float().numpy()

        return embed

    built: dict[str, tuple[float, Callable[[str], np.ndarray] | str]] = {"eager": (0.0, eager)}
    started = time.perf_counter()
    with warnings.catch_warnings(), torch.inference_mode():
        warnings.simplefilter("ignore")
        traced = torch.jit.trace(module, inputs(QUERIES[2]), strict=False, check_trace=False)
    built["torchscript trace"] = (time.perf_counter() - started, run(traced))
    if not quick:
        started = time.perf_counter()
        try:
            compiled = torch.compile(module, dynamic=True)
            embed = run(compiled)
            for query in QUERIES:  # compiles (and may recompile) on first calls
                embed(query)
            built["torch.compile"] = (time.perf_counter() - started, embed)
        except Exception as exc:  # noqa: BLE001 - a bench reports what cannot run
            built["torch.compile"] = (time.perf_counter() - started, f"failed: {exc}"[:80])
    return built


def measure(embed: Callable[[str], np.ndarray], rounds: int) -> tuple[float, np.ndarray]:
    for query in QUERIES:  # warm
        embed(query)
    times = []
    for _ in range(rounds):
        for query in QUERIES:
            started = time.perf_counter()
            embed(query)
            times.append(time.perf_counter() - started)
    vectors = np.stack([embed(query) for query in QUERIES])
    return statistics.median(times) * 1000, vectors


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=10, help="passes over the 8 queries")
    parser.add_argument("--quick", action="store_true", help="tiny CLIP, no torch.compile")
    args = parser.parse_args(argv)

    import django

    django.setup()
    import logging

    import torch
    from django.conf import settings

    from bench.indexing import save_random_clip
    from search.encoding.clip import ClipEncoder
    from search.encoding.precision import hardware
    from search.encoding.text import TextEncoder

    logging.getLogger("search").setLevel(logging.WARNING)
    if settings.TORCH_THREADS > 0:
        torch.set_num_threads(settings.TORCH_THREADS)
    print(f"cpu: {hardware().describe()}")
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, rounds {args.rounds}")
    print()
    print(f"{'tower':<10}{'runtime':<20}{'ms/query':>10}{'build s':>9}{'min cos':>9}")
    with tempfile.TemporaryDirectory(prefix="bench-query-runtime-") as tmp:
        clip = ClipEncoder(str(save_random_clip(Path(tmp), quick=args.quick)), None)
        clip.load()
        minilm = TextEncoder("")
        minilm.load()
        towers = (
            ("minilm", _minilm_module(minilm), minilm.encode_query),
            ("clip-text", _clip_module(clip), clip.encode_text_query),
        )
        for tower, (module, inputs), eager in towers:
            reference = None
            for name, (build_s, embed) in runtimes(module, inputs, eager, args.quick).items():
                if isinstance(embed, str):
                    print(f"{tower:<10}{name:<20}{embed}")
                    continue
                ms, vectors = measure(embed, args.rounds)
                vectors = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
                reference = vectors if reference is None else reference
                cosine = float(np.sum(vectors * reference, axis=1).min())
                print(f"{tower:<10}{name:<20}{ms:>10.2f}{build_s:>9.1f}{cosine:>9.4f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
