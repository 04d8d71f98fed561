"""Merchandising rules benchmark: what 1,000 active rules add to a text search.

    DATABASE_URL=postgres://... HF_HUB_OFFLINE=1 .venv/bin/python bench/rules.py
        [--products 2000] [--rules 1000] [--queries 200] [--quick]

Loads P products from the sample generator into a scratch database (a PostgreSQL one created
and dropped on the server DATABASE_URL names, else SQLite), indexes them for the word legs
(MiniLM product text and keywords; no images, so the image leg does not run), creates R
enabled rules, then runs the same queries with rules off and on, interleaved, in this process:

  search p50/p95   search() end to end with ``rules=False`` and ``rules=True`` (query vectors
                   are cached after a warm pass, as repeated queries are in production)
  rules step       the two hooks alone per query: synonym expansion and the post-fusion
                   ranker on the fused ranking

Rule mix (most rules belong to one query, as shops write them): 15% synonym groups, 35% pins,
15% hides, 15% boosts and 15% buries on a query, 5% boosts/buries on every query (brand,
category, tag, price, in stock); about half the bench queries match some rule. Figures,
never timed assertions.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.scratch import scratch_database  # noqa: E402 - after the path is set


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def cpu() -> str:
    model, flags = platform.processor() or "unknown CPU", ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name") and model in ("unknown CPU", ""):
                model = line.split(":", 1)[1].strip()
            if line.startswith("flags") and not flags:
                wanted = ("avx", "avx2", "avx512f", "avx512_vnni", "fma", "sse4_2", "amx_tile")
                present = set(line.split(":", 1)[1].split())
                flags = " ".join(flag for flag in wanted if flag in present)
    except OSError:
        pass
    return f"{model}; {os.cpu_count()} CPUs; flags: {flags or 'n/a'}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--products", type=int, default=2_000)
    parser.add_argument("--rules", type=int, default=1_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3, help="times each query runs per mode")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--quick", action="store_true", help="400 products, 60 queries")
    args = parser.parse_args(argv)
    if args.quick:
        args.products, args.queries = 400, 60

    with tempfile.TemporaryDirectory(prefix="bench-rules-") as tmp:
        url, drop, label = scratch_database("bench_rules", Path(tmp))
        os.environ.update(
            {
                "DATABASE_URL": url,
                "VECTOR_BACKEND": "embedded",
                "VECTOR_PATH": str(Path(tmp) / "vectors"),
                "MEDIA_ROOT": str(Path(tmp) / "media"),
                "VAR_DIR": str(Path(tmp) / "var"),
                "CLIP_MODEL": str(Path(tmp) / "no-clip"),  # no images: the word legs only
                "CELERY_TASK_ALWAYS_EAGER": "1",
                "CACHE_REDIS": "0",
                "LOG_LEVEL": "WARNING",
            }
        )
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
        try:
            return run(args, label)
        finally:
            from django.db import connections

            from search.vector_index import reset_vector_index

            reset_vector_index()  # before its directory goes
            connections.close_all()
            drop()


def make_rules(rng: random.Random, count: int, products, texts: list[str]):
    from merchandising.models import Rule

    brands = sorted({p.brand for p in products})
    categories = sorted({p.category for p in products})
    # Half the bench queries get rules of their own; the rest of the rules name other words.
    ruled = texts[: len(texts) // 2]
    other = [f"campaign {n} {rng.choice(categories)}" for n in range(count)]
    rules = []
    for number in range(count):
        share = number / count
        query = rng.choice(ruled) if rng.random() < 0.3 else other[number]
        common = {"name": f"rule {number}", "query": query, "match": rng.choice(["exact", "words"])}
        if share < 0.15:
            words = query.split()
            rules.append(
                Rule(
                    name=f"syn {number}",
                    kind="synonym",
                    synonym_type="two_way",
                    terms=f"{words[-1]}, alias{number}",
                )
            )
        elif share < 0.50:
            rules.append(
                Rule(kind="pin", product=rng.choice(products), position=rng.randint(1, 5), **common)
            )
        elif share < 0.65:
            rules.append(Rule(kind="hide", product=rng.choice(products), **common))
        else:
            kind = "boost" if share < 0.80 or (0.95 <= share < 0.975) else "bury"
            attribute = rng.choice(["brand", "category", "tag", "price", "in_stock"])
            value = {
                "brand": rng.choice(brands).lower(),
                "category": rng.choice(categories),
                "tag": "new-season",
            }.get(attribute, "")
            condition = {"match": "any", "query": ""} if share >= 0.95 else common
            rules.append(
                Rule(
                    kind=kind,
                    attribute=attribute,
                    value=value,
                    price_min=50 if attribute == "price" else None,
                    price_max=150 if attribute == "price" else None,
                    weight=rng.choice([0.5, 1, 2]),
                    **{"name": f"rule {number}", **condition},
                )
            )
    Rule.objects.bulk_create(rules, batch_size=1_000)


def run(args, label: str) -> int:
    import django

    django.setup()
    from dataclasses import replace

    from django.core.management import call_command
    from django.test.utils import override_settings

    from catalog.models import Merchant, Product
    from catalog.sample_data import generate_products
    from merchandising import engine
    from merchandising.cache import current_rules
    from search.index import sync as indexing
    from search.query.service import search
    from search.query.types import SearchQuery
    from search.vector_index.base import SearchFilter

    call_command("migrate", verbosity=0)
    rng = random.Random(args.seed)
    log(f"loading {args.products:,} products into {label}")
    merchant = Merchant.objects.create(name="Bench", slug="bench")
    samples = generate_products(args.products, seed=args.seed)
    rows = [
        Product(
            merchant=merchant,
            sku=s.sku,
            title=s.title,
            description=s.description,
            brand=s.brand,
            category=s.category,
            price=s.price,
            in_stock=s.in_stock,
            attributes={**s.attributes, "tags": ["new-season"] if rng.random() < 0.1 else []},
        )
        for s in samples
    ]
    products = Product.objects.bulk_create(rows, batch_size=5_000)
    log("indexing the word legs (MiniLM + keywords)")
    started = time.perf_counter()
    indexing.index_products([p.pk for p in products])
    log(f"indexed in {time.perf_counter() - started:.0f} s")

    picks = [rng.choice(products) for _ in range(args.queries)]
    texts = list(dict.fromkeys(" ".join(p.title.lower().split()[-2:]) for p in picks))
    make_rules(rng, args.rules, products, texts)

    with override_settings(MERCHANDISING_RULES_REFRESH_MS=1_000):
        rules = current_rules()
        queries = [SearchQuery(text=text, limit=20) for text in texts]
        for query in queries:  # warm: query vectors cached, code paths loaded
            search(query)
            search(replace(query, rules=False))
        off: list[float] = []
        on: list[float] = []
        off_cpu: list[float] = []
        on_cpu: list[float] = []
        step: list[float] = []
        step_cpu: list[float] = []
        matched = 0
        for _ in range(args.rounds):
            for query in queries:
                for mode in (False, True) if rng.random() < 0.5 else (True, False):
                    started, cpu_started = time.perf_counter(), time.process_time()
                    outcome = search(replace(query, rules=mode))
                    (on if mode else off).append((time.perf_counter() - started) * 1000)
                    (on_cpu if mode else off_cpu).append((time.process_time() - cpu_started) * 1000)
                    if mode and _ == 0:
                        matched += bool(outcome.rules)
        for _ in range(args.rounds):
            for query in queries:
                fused = search(replace(query, rules=False, limit=100)).items
                started, cpu_started = time.perf_counter(), time.thread_time()
                engine.expand_words(query.text or "", SearchFilter())
                engine.rank(query, fused)
                step.append((time.perf_counter() - started) * 1000)
                step_cpu.append((time.thread_time() - cpu_started) * 1000)

    if os.environ.get("BENCH_PROFILE"):
        import cProfile
        import pstats

        fused_lists = [search(replace(q, rules=False, limit=100)).items for q in queries]
        profile = cProfile.Profile()
        profile.enable()
        for query, fused in zip(queries, fused_lists, strict=True):
            engine.expand_words(query.text or "", SearchFilter())
            engine.rank(query, list(fused))
        profile.disable()
        pstats.Stats(profile).sort_stats("tottime").print_stats(18)
    print(f"== merchandising rules, {args.products:,} products, {label}")
    print(f"CPU: {cpu()}")
    print(
        f"{args.rules:,} enabled rules (compiled: {len(rules):,}); {len(queries)} queries, "
        f"{matched} of them match some rule; {args.rounds} rounds each, modes interleaved"
    )
    # Wall time, and CPU time (the process's for a search, whose legs run in a pool thread;
    # the thread's for the step): on shared, loaded cores the CPU figures are the steadier.
    print(f"{'':<22} {'p50 ms':>8} {'p95 ms':>8} {'mean ms':>8} {'n':>5} {'CPU p50':>8}")
    for name, values, cpu_values in (
        ("search, rules off", off, off_cpu),
        ("search, rules on", on, on_cpu),
        ("rules step alone", step, step_cpu),
    ):
        print(
            f"{name:<22} {pct(values, 0.5):>8.3f} {pct(values, 0.95):>8.3f} "
            f"{statistics.fmean(values):>8.3f} {len(values):>5} {pct(cpu_values, 0.5):>8.3f}"
        )
    print(
        f"added p50: {pct(on, 0.5) - pct(off, 0.5):+.2f} ms wall, "
        f"{pct(on_cpu, 0.5) - pct(off_cpu, 0.5):+.2f} ms CPU (target <= +1 ms)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
