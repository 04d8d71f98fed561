"""Query understanding benchmark: what the step before the legs adds to a text search.

    DATABASE_URL=postgres://... HF_HUB_OFFLINE=1 .venv/bin/python bench/understanding.py
        [--products 100000] [--queries 300] [--quick]

Loads P products from the sample generator (``catalog.sample_data``) into a scratch database
(a PostgreSQL one created and dropped on the server DATABASE_URL names, else SQLite in a
temporary directory) with bulk_create, 70% of them with a GTIN, then measures in this process:

  vocabulary      building the catalogue vocabulary from the database (once per scope and
                  catalogue version, not per search)
  understand()    per query, vocabulary warm: plain catalogue words, misspelt words, exact
                  SKUs (as listed, lower case, without dashes), SKU prefixes and GTINs
  lookup plan     PostgreSQL's plan of the identifier lookup (the *_key indexes)

With SEARCH_QUERY_UNDERSTANDING off the step does not run, so its p50 here is what a text
search adds with the features on (the legs then read the same number of terms, give or take
a corrected word; the category/brand boosts read two more payload fields). Figures, never
timed assertions.
"""

from __future__ import annotations

import argparse
import os
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--products", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=300, help="per query kind")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--quick", action="store_true", help="2,000 products, 40 queries")
    args = parser.parse_args(argv)
    if args.quick:
        args.products, args.queries = 2_000, 40

    with tempfile.TemporaryDirectory(prefix="bench-understanding-") as tmp:
        url, drop, label = scratch_database("bench_understanding", Path(tmp))
        os.environ["DATABASE_URL"] = url
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
        try:
            return run(args, label)
        finally:
            from django.db import connections

            connections.close_all()
            drop()


def run(args, label: str) -> int:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.db.models import Q
    from django.db.models.functions import Length

    from catalog.models import Merchant, Product, identifier_key
    from catalog.sample_data import generate_products
    from search.query.understanding import understand
    from search.query.vocabulary import clear_vocabularies, vocabulary_for, words_of
    from search.relevance.devset import gtin13, misspell
    from search.vector_index.base import SearchFilter

    call_command("migrate", verbosity=0)
    rng = random.Random(args.seed)
    log(f"loading {args.products:,} products into {label}")
    merchant = Merchant.objects.create(name="Bench", slug="bench")
    samples = generate_products(args.products, seed=args.seed)
    rows = []
    for number, sample in enumerate(samples):
        gtin = gtin13(f"40{number:010d}") if rng.random() < 0.7 else ""
        rows.append(
            Product(
                merchant=merchant,
                sku=sample.sku,
                gtin=gtin,
                title=sample.title,
                description=sample.description,
                brand=sample.brand,
                category=sample.category,
                price=sample.price,
                attributes=sample.attributes,
            )
        )
    Product.objects.bulk_create(rows, batch_size=5_000)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ANALYZE catalog_product")

    clear_vocabularies()
    started = time.perf_counter()
    vocabulary = vocabulary_for(None)
    build_ms = (time.perf_counter() - started) * 1000

    picks = [rng.choice(rows) for _ in range(args.queries)]
    queries: dict[str, list[str]] = {
        "catalogue words": [" ".join(words_of(p.title)[-3:]) for p in picks],
        "misspelt words": [
            " ".join(misspell(word, rng) for word in words_of(p.title)[-3:]) for p in picks
        ],
        "exact SKU": [rng.choice((p.sku, p.sku.lower(), p.sku.replace("-", ""))) for p in picks],
        "SKU prefix": [p.sku[:-2] for p in picks],
        "GTIN": [p.gtin or p.sku for p in picks],
    }
    print(f"== query understanding, {args.products:,} products, {label}")
    print(
        f"vocabulary build {build_ms:,.0f} ms: {len(vocabulary.document_frequency):,} words, "
        f"{len(vocabulary.categories)} categories, {len(vocabulary.brands)} brands, "
        f"{len(vocabulary.category_words)} learnt category words"
    )
    print(f"{'query kind':<18} {'p50 ms':>8} {'p95 ms':>8} {'n':>5}")
    everything: list[float] = []
    for kind, texts in queries.items():
        understand(texts[0], SearchFilter())  # warm the lookups' code paths
        times = []
        for text in texts:
            started = time.perf_counter()
            understand(text, SearchFilter())
            times.append((time.perf_counter() - started) * 1000)
        everything += times
        print(
            f"{kind:<18} {statistics.median(times):>8.2f} {pct(times, 0.95):>8.2f} {len(times):>5}"
        )
    print(
        f"{'all kinds':<18} {statistics.median(everything):>8.2f} "
        f"{pct(everything, 0.95):>8.2f} {len(everything):>5}"
    )
    if connection.vendor == "postgresql":
        key = identifier_key(picks[0].sku)
        for label_, lookup in (("exact", ""), ("prefix", "__startswith")):
            value = key if not lookup else key[:-2]
            condition = Q(**{f"sku_key{lookup}": value})
            for column in ("gtin_key", "mpn_key"):
                condition |= Q(**{f"{column}{lookup}": value})
            query = (
                Product.objects.filter(condition, is_active=True)
                .order_by(Length("sku_key"), "id")
                .values_list("id", flat=True)[:100]
                .query
            )
            sql, params = query.sql_with_params()
            with connection.cursor() as cursor:
                cursor.execute(f"EXPLAIN {sql}", params)
                steps = [row[0].strip() for row in cursor.fetchall()]
            scans = [step for step in steps if "Scan" in step]
            print(f"identifier {label_} lookup plan: {' / '.join(scans)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
