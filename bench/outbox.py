"""What the outbox of index work costs a merchant's write (search/index/outbox.py).

One run, requests alternating: the same merchant API writes (PATCH a product's price and
stock; POST a new product) with the outbox recording its row in the write's transaction, and
with the outbox's signal receivers disconnected (the write as it was before the outbox). The
fast-path enqueue is off in both (no broker involved), so the difference is the outbox row.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/outbox.py

PostgreSQL: a scratch database is created and dropped. Without DATABASE_URL: SQLite.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.scratch import scratch_database  # noqa: E402 - after the path is set


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--writes", type=int, default=400, help="writes per mode and kind")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="bench-outbox-"))
    database_url, drop, _ = scratch_database("bench_outbox", tmp)
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DATABASE_URL": database_url,
            "MEDIA_ROOT": str(tmp / "media"),
            "VECTOR_PATH": str(tmp / "vectors"),
            "LOG_LEVEL": "WARNING",
            "METRICS_ENABLED": "false",
            "DJANGO_ALLOWED_HOSTS": "testserver",  # Django's test client
        }
    )
    try:
        run(args, database_url)
    finally:
        from django.db import connections

        connections.close_all()
        drop()


def run(args, database_url: str) -> None:
    import django

    django.setup()
    from django.core.management import call_command
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    from catalog import services

    call_command("migrate", verbosity=0)
    owner = services.user_create(username="bench", password=None)
    services.merchant_create(name="Bench", owner=owner)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=owner).key}")

    # The fast path is the broker's business: off in both modes. The outbox is switched by
    # what its signal receivers call (they look `record` up at each call).
    from search.index import outbox as outbox_module
    from workers import receivers as fast_path

    fast_path._after_commit = lambda kind, entity_ids: None
    record = outbox_module.record

    def outbox(on: bool) -> None:
        outbox_module.record = record if on else (lambda kind, entity_ids: None)

    product_id = client.post(
        "/api/v1/merchant/products/",
        {"sku": "B-0", "title": "Bench lamp", "price": "10.00"},
        format="json",
    ).json()["id"]
    timings: dict[tuple[str, str], list[float]] = {}
    for counter in range(1, args.writes * 2 + 1):
        mode = "outbox" if counter % 2 else "no outbox"
        outbox(mode == "outbox")
        started = time.perf_counter()
        response = client.patch(
            f"/api/v1/merchant/products/{product_id}/",
            {"price": f"{10 + counter % 50}.00", "in_stock": bool(counter % 2)},
            format="json",
        )
        timings.setdefault((mode, "PATCH price+stock"), []).append(time.perf_counter() - started)
        assert response.status_code == 200, response.content
        started = time.perf_counter()
        response = client.post(
            "/api/v1/merchant/products/",
            {"sku": f"B-{counter}", "title": f"Bench lamp {counter}", "price": "12.00"},
            format="json",
        )
        timings.setdefault((mode, "POST product"), []).append(time.perf_counter() - started)
        assert response.status_code == 201, response.content
    outbox(True)

    backend = "PostgreSQL" if database_url.startswith("postgres") else "SQLite"
    print(
        f"# Outbox cost on a merchant write ({backend}, {platform.processor() or platform.machine()})"
    )
    print(f"{args.writes} writes of each kind per mode, alternating; fast path off in both")
    print("| write | no outbox p50 | outbox p50 | added p50 | no outbox p95 | outbox p95 |")
    print("|---|---|---|---|---|---|")
    for kind in ("PATCH price+stock", "POST product"):
        base = sorted(timings[("no outbox", kind)])
        with_outbox = sorted(timings[("outbox", kind)])
        p50_base, p50_outbox = statistics.median(base) * 1000, statistics.median(with_outbox) * 1000
        p95 = lambda values: values[int(len(values) * 0.95)] * 1000  # noqa: E731
        print(
            f"| {kind} | {p50_base:.2f} ms | {p50_outbox:.2f} ms | {p50_outbox - p50_base:+.2f} ms "
            f"| {p95(base):.2f} ms | {p95(with_outbox):.2f} ms |"
        )


if __name__ == "__main__":
    main()
