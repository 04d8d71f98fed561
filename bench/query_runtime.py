"""Text-query runtimes side by side, one short query at a time: eager torch in fp32 and int8,
a TorchScript trace (what the query path ran before; deprecated in PyTorch), torch.compile,
ONNX Runtime in fp32 and int8, and the query path as the settings build it.

    .venv/bin/python bench/query_runtime.py [--queries N] [--quick]

Towers: the bundled all-MiniLM-L6-v2 (real weights) and a randomly initialised CLIP text
tower of ViT-B/32 size (the compute of openai/clip-vit-base-patch32). Each runtime encodes the
same queries of mixed lengths, tokenising included; the table shows the median milliseconds
per query, its ratio to eager fp32, the time to build the runtime (export, quantisation,
compilation) and the lowest cosine to eager fp32's vectors. "query path" is the encoder as
CLIP_PRECISION, TEXT_PRECISION and TEXT_RUNTIME build it (search/encoding/onnx_runtime.py),
after its check at load; what it runs is printed above the table.
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


def _clip_tower(encoder):
    from search.encoding.clip import _text_module

    def inputs(text: str) -> dict:
        tokens = encoder._tokens([text])
        return {name: tokens[name] for name in ("input_ids", "attention_mask")}

    return _text_module(encoder._model), inputs


def _minilm_tower(encoder):
    from search.encoding.text import _sentence_module

    module, example = _sentence_module(encoder._model, encoder._preprocess([QUERIES[1]]))

    def inputs(text: str) -> dict:
        features = encoder._preprocess([text])
        return {name: features[name] for name in example}

    return module.eval(), inputs


def runtimes(tower: str, module, inputs, encoder, served, root: Path, quick: bool):
    """name -> (build seconds, text -> vector), eager fp32 first. ``encoder``: the fp32 torch
    encoder the module comes from; ``served``: the encoder as the settings build it."""
    import torch

    from search.encoding import onnx_runtime, precision

    def run(compiled) -> Callable[[str], np.ndarray]:
        def embed(text: str) -> np.ndarray:
            with torch.inference_mode():
                return compiled(**inputs(text))[0].float().numpy()

        return embed

    def timed_build(name: str, build: Callable[[], Callable[[str], np.ndarray]]) -> None:
        started = time.perf_counter()
        try:
            embed = build()
            embed(QUERIES[0])  # torch.compile compiles on its first calls
            built[name] = (time.perf_counter() - started, embed)
        except Exception as exc:  # noqa: BLE001 - a bench reports what cannot run
            built[name] = (time.perf_counter() - started, f"failed: {exc}"[:80])

    built: dict[str, tuple[float, Callable[[str], np.ndarray] | str]] = {}
    timed_build("eager fp32", lambda: run(module))
    timed_build("eager int8 (torch)", lambda: run(precision.convert(module, "int8")))

    def trace():
        with warnings.catch_warnings(), torch.inference_mode():
            warnings.simplefilter("ignore")
            example = tuple(inputs(QUERIES[2]).values())
            traced = torch.jit.trace(module, example, strict=False, check_trace=False)

        def embed(text: str) -> np.ndarray:
            with torch.inference_mode():
                return traced(*inputs(text).values())[0].float().numpy()

        return embed

    timed_build("torchscript (before)", trace)
    if not quick:
        timed_build("torch.compile", lambda: run(torch.compile(module, dynamic=True)))
    for mode in ("fp32", "int8"):

        def onnx(mode: str = mode) -> Callable[[str], np.ndarray]:
            path = onnx_runtime.export(
                module,
                _two_texts(inputs),
                mode=mode,
                tower=tower,
                model_key=encoder.model_key,
                revision=encoder.revision,
                cache_dir=root / "onnx",
            )
            session = onnx_runtime.OnnxTower(path, threads=torch.get_num_threads())
            return lambda text: session(inputs(text))[0]

        timed_build(f"onnxruntime {mode}", onnx)
    query = getattr(served, "encode_text_query", None) or served.encode_query

    def load_served() -> Callable[[str], np.ndarray]:
        served.load()  # its exports come from the cache the rows above filled
        return query

    timed_build("query path", load_served)
    return built


def _two_texts(inputs) -> dict:
    """A batch of two texts of different lengths (padded): the export keeps both dims dynamic."""
    import torch

    long, short = inputs(QUERIES[2]), inputs(QUERIES[0])
    width = next(iter(long.values())).shape[1]
    return {
        name: torch.cat(
            [long[name], torch.nn.functional.pad(short[name], (0, width - short[name].shape[1]))]
        )
        for name in long
    }


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
    parser.add_argument(
        "--torch-threads",
        type=int,
        default=1,
        help="threads for torch and ONNX Runtime (default 1, as bench/search.py: on 2 shared "
        "cores two OpenMP threads made MiniLM 20x slower, 863 against 42 ms)",
    )
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
    settings.TORCH_THREADS = args.torch_threads
    if settings.TORCH_THREADS > 0:
        torch.set_num_threads(settings.TORCH_THREADS)
    print(f"cpu: {hardware().describe()}")
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, rounds {args.rounds}")
    print()
    print(
        f"query path: CLIP_PRECISION={settings.CLIP_PRECISION}, TEXT_PRECISION="
        f"{settings.TEXT_PRECISION}, TEXT_RUNTIME={settings.TEXT_RUNTIME}"
    )
    print()
    header = (
        f"{'tower':<10}{'runtime':<22}{'ms/query':>10}{'vs eager':>9}{'build s':>9}{'min cos':>9}"
    )
    with tempfile.TemporaryDirectory(prefix="bench-query-runtime-") as tmp:
        root = Path(tmp)
        clip_dir = save_random_clip(root / "clip", quick=args.quick)
        clip = ClipEncoder(str(clip_dir), None)
        clip.load()
        minilm = TextEncoder("")
        minilm.load()
        served_clip = ClipEncoder(
            str(clip_dir),
            None,
            precision=settings.CLIP_PRECISION,
            min_cosine=settings.PRECISION_MIN_COSINE,
            threads=settings.TORCH_THREADS,
            text_runtime=settings.TEXT_RUNTIME,
            runtime_cache=root / "onnx",
        )
        served_minilm = TextEncoder(
            "",
            precision=settings.TEXT_PRECISION,
            min_cosine=settings.PRECISION_MIN_COSINE,
            runtime=settings.TEXT_RUNTIME,
            runtime_cache=root / "onnx",
            threads=settings.TORCH_THREADS,
        )
        towers = (
            ("text", _minilm_tower(minilm), minilm, served_minilm),
            ("clip-text", _clip_tower(clip), clip, served_clip),
        )
        rows = []
        for tower, (module, inputs), encoder, served in towers:
            built = runtimes(tower, module, inputs, encoder, served, root, args.quick)
            reference, eager_ms = None, None
            for name, (build_s, embed) in built.items():
                if isinstance(embed, str):
                    rows.append(f"{tower:<10}{name:<22}{embed}")
                    continue
                ms, vectors = measure(embed, args.rounds)
                vectors = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
                reference = vectors if reference is None else reference
                eager_ms = ms if eager_ms is None else eager_ms
                cosine = float(np.sum(vectors * reference, axis=1).min())
                rows.append(
                    f"{tower:<10}{name:<22}{ms:>10.2f}{ms / eager_ms:>8.2f}x{build_s:>9.1f}"
                    f"{cosine:>9.4f}"
                )
        for tower, served in (("text", served_minilm), ("clip-text", served_clip)):
            report = getattr(served, "text_precision", None) or served.precision
            print(
                f"query path {tower}: {report.mode} on {report.runtime}"
                + ("" if report.min_cosine is None else f", min cosine {report.min_cosine:.4f}")
                + (f" ({report.reason})" if report.reason else "")
            )
        print()
        print(header)
        print("\n".join(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
