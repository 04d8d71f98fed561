"""Vector index benchmark: load time, filtered grouped query latency and recall.

    .venv/bin/python bench/vector_index.py [--points 100000] [--products 30000]

Embedded backend (qdrant-edge): N 512-d image vectors drawn around 1,000 Gaussian clusters
(normalised), spread over P products with category / brand / price payloads. It measures
the load (upsert + optimize), then for queries drawn near the data: p50/p95 latency of a
top-20 query with a category filter and one result per product, and recall@20 of those
products against an exhaustive search (exact=True, same filter, same grouping). Then the same
for qdrant-client's local mode at a small size, for comparison (it is the test stand-in for a
server, a brute-force Python engine). Targets: p95 <= 20 ms, recall@20 >= 0.95.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from search.vector_index.base import (  # noqa: E402
    GROUP_OVERFETCH,
    HNSW_EF_CONSTRUCT,
    HNSW_EF_SEARCH,
    HNSW_M,
    HNSW_PAYLOAD_FIELDS,
    PointData,
    SearchFilter,
    VectorIndex,
)

COLLECTION = "bench_images"


def make_data(points: int, products: int, dim: int, clusters: int, categories: int, seed: int):
    """Clustered image vectors and their payloads.

    A product sits near one cluster centre and its images near the product; a cluster mostly
    holds one category (shoes look like shoes), category sizes follow Zipf's law.
    """
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(clusters, dim)).astype(np.float32)
    zipf = 1.0 / np.arange(1, categories + 1)
    zipf /= zipf.sum()
    cluster_category = rng.choice(categories, size=clusters, p=zipf)
    product_cluster = rng.integers(clusters, size=products)
    product_category = np.where(
        rng.random(products) < 0.8,
        cluster_category[product_cluster],
        rng.choice(categories, size=products, p=zipf),
    )
    product_centre = centres[product_cluster] + rng.normal(scale=0.5, size=(products, dim)).astype(
        np.float32
    )
    # Every product has an image; the rest are spread at random (about 3 per product).
    owner = np.concatenate(
        [np.arange(products), rng.integers(products, size=max(points - products, 0))]
    )[:points]
    vectors = product_centre[owner] + rng.normal(scale=0.3, size=(points, dim)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    brand = rng.integers(200, size=products)
    price = np.round(rng.lognormal(mean=4.0, sigma=0.8, size=products), 2)
    in_stock = rng.random(products) < 0.8
    active = rng.random(products) < 0.97
    payloads = [
        {
            "product_id": int(p) + 1,
            "merchant_id": int(p % 50) + 1,
            "merchant": f"merchant-{p % 50}",
            "category": f"category-{product_category[p]}",
            "brand": f"brand-{brand[p]}",
            "price": float(price[p]),
            "currency": "EUR",
            "in_stock": bool(in_stock[p]),
            "active": bool(active[p]),
            "image_id": i + 1,
            "model_revision": "bench",
        }
        for i, p in enumerate(owner)
    ]
    ids = [str(uuid.uuid5(uuid.NAMESPACE_URL, f"bench-image-{i}")) for i in range(points)]

    # Queries: a shopper's photo of a catalogue product (its centre plus fresh noise, like
    # another photo of it), filtered on that product's category.
    def queries(count: int):
        picks = rng.integers(points, size=count)
        noise = rng.normal(scale=0.3, size=(count, dim)).astype(np.float32)
        return (
            product_centre[owner[picks]] + noise,
            [SearchFilter(categories=(payloads[i]["category"],)) for i in picks],
        )

    return ids, vectors, payloads, queries


def load(index: VectorIndex, ids, vectors, payloads, batch: int = 2000) -> tuple[float, float]:
    index.ensure_collection(COLLECTION, dense={"image": vectors.shape[1]})
    started = time.perf_counter()
    for start in range(0, len(ids), batch):
        index.upsert(
            COLLECTION,
            [
                PointData(ids[i], {"image": vectors[i]}, payloads[i])
                for i in range(start, min(start + batch, len(ids)))
            ],
        )
    upserted = time.perf_counter()
    index.optimize(COLLECTION)
    return upserted - started, time.perf_counter() - upserted


def run_queries(index: VectorIndex, queries, filters, *, exact: bool):
    latencies, results = [], []
    for query, search_filter in zip(queries, filters, strict=True):
        started = time.perf_counter()
        hits = index.query(
            COLLECTION,
            vector_name="image",
            vector=query,
            filter=search_filter,
            limit=20,
            group_by_product=True,
            exact=exact,
        )
        latencies.append((time.perf_counter() - started) * 1000)
        results.append([h.payload["product_id"] for h in hits])
    return np.array(latencies), results


def recall(approx: list[list[int]], exact: list[list[int]]) -> float:
    found = sum(len(set(a) & set(e)) for a, e in zip(approx, exact, strict=True))
    return found / max(sum(len(e) for e in exact), 1)


def report(label: str, load_times, latencies, exact_latencies, recall_value) -> None:
    upsert_s, optimize_s = load_times
    print(f"\n== {label}")
    total = upsert_s + optimize_s
    print(f"load: upsert {upsert_s:.1f} s + optimize {optimize_s:.1f} s = {total:.1f} s")
    print(
        "top-20, category filter, one per product: "
        f"p50 {np.percentile(latencies, 50):.2f} ms, p95 {np.percentile(latencies, 95):.2f} ms, "
        f"max {latencies.max():.2f} ms over {len(latencies)} queries"
    )
    print(
        f"exhaustive (exact=True) same queries: p50 {np.percentile(exact_latencies, 50):.2f} ms, "
        f"p95 {np.percentile(exact_latencies, 95):.2f} ms"
    )
    print(f"recall@20 (products) vs exhaustive: {recall_value:.4f}")


def scratch_dir() -> str:
    # tmpfs where there is one: the point is the engine, not the disk of a shared machine.
    shm = "/dev/shm"
    base = shm if os.path.isdir(shm) and os.access(shm, os.W_OK) else None
    return tempfile.mkdtemp(prefix="bench-vectors-", dir=base)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--points", type=int, default=100_000)
    parser.add_argument("--products", type=int, default=30_000)
    parser.add_argument("--dim", type=int, default=512)
    parser.add_argument("--clusters", type=int, default=1_000)
    parser.add_argument("--categories", type=int, default=40)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--m", type=int, default=HNSW_M)
    parser.add_argument("--ef-construct", type=int, default=HNSW_EF_CONSTRUCT)
    parser.add_argument("--hnsw-ef", type=int, default=HNSW_EF_SEARCH)
    parser.add_argument("--overfetch", type=int, default=GROUP_OVERFETCH)
    parser.add_argument(
        "--payload-hnsw",
        default=",".join(sorted(HNSW_PAYLOAD_FIELDS)),
        help="fields with payload-aware HNSW links (comma-separated, empty for none)",
    )
    parser.add_argument("--local-points", type=int, default=5_000, help="0 skips local mode")
    parser.add_argument("--local-queries", type=int, default=50)
    args = parser.parse_args()

    from search.vector_index.embedded import EdgeVectorIndex

    print(
        f"data: {args.points} x {args.dim}-d image vectors, {args.products} products, "
        f"{args.clusters} clusters, {args.categories} categories (Zipf); {os.cpu_count()} CPUs, "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    print(
        f"HNSW m={args.m} ef_construct={args.ef_construct} hnsw_ef={args.hnsw_ef}, "
        f"group over-fetch x{args.overfetch}, payload-aware links on: {args.payload_hnsw or '-'}"
    )
    ids, vectors, payloads, make_queries = make_data(
        args.points, args.products, args.dim, args.clusters, args.categories, args.seed
    )
    queries, filters = make_queries(args.queries)

    directory = scratch_dir()
    try:
        index = EdgeVectorIndex(
            directory,
            hnsw_m=args.m,
            hnsw_ef_construct=args.ef_construct,
            hnsw_ef=args.hnsw_ef,
            hnsw_payload_fields=frozenset(f for f in args.payload_hnsw.split(",") if f),
            group_overfetch=args.overfetch,
            optimize_after_writes=None,  # the bench calls optimize itself, once
        )
        load_times = load(index, ids, vectors, payloads)
        run_queries(index, queries[:10], filters[:10], exact=False)  # warm caches
        latencies, approx = run_queries(index, queries, filters, exact=False)
        exact_latencies, exact = run_queries(index, queries, filters, exact=True)
        report(
            f"embedded (qdrant-edge), {args.points} points",
            load_times,
            latencies,
            exact_latencies,
            recall(approx, exact),
        )
        index.close()
    finally:
        shutil.rmtree(directory, ignore_errors=True)

    if args.local_points:
        from search.vector_index.qdrant import QdrantVectorIndex

        products = max(1, args.local_points * args.products // args.points)
        ids, vectors, payloads, make_queries = make_data(
            args.local_points, products, args.dim, args.clusters, args.categories, args.seed
        )
        queries, filters = make_queries(args.local_queries)
        directory = scratch_dir()
        try:
            index = QdrantVectorIndex(path=directory)
            load_times = load(index, ids, vectors, payloads, batch=500)
            latencies, approx = run_queries(index, queries, filters, exact=False)
            exact_latencies, exact = run_queries(index, queries, filters, exact=True)
            report(
                f"qdrant-client LOCAL MODE (test stand-in, brute force), {args.local_points} "
                "points - for comparison only",
                load_times,
                latencies,
                exact_latencies,
                recall(approx, exact),
            )
            index.close()
        finally:
            shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    main()
