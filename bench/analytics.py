"""Search analytics: what recording adds to a search, events taken in per second, rollup time.

One run, three parts:
1. search p50 with recording on and off, requests alternating in one process (Django's test
   client, the full API path): on = the analytics receiver builds the row (and a photo's
   perceptual hash) and queues it, while the background thread writes in bulk as in
   production; off = the receiver disconnected. Text and photo searches.
2. POST /api/v1/events/ batches of 100 events: events taken in per second (one client), and
   the recorder's bulk write of queued searches (rows per second).
3. the daily rollup over --events raw events (searches and their clicks, carts, purchases
   over 7 days, written straight into the partitions): seconds for one full recount.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/analytics.py

Needs PostgreSQL (analytics does): a scratch database is created and dropped. The CLIP is a
tiny random one: what recording adds does not depend on the model, and it keeps the run short.
Defaults are the issue's scale (1M events for the rollup); --events lowers it.
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import random
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.indexing import save_random_clip  # noqa: E402 - after the path is set
from bench.scratch import scratch_database  # noqa: E402


def cpu_line() -> str:
    model, flags = platform.processor() or platform.machine(), set()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name") and model in ("", platform.machine()):
                model = line.split(":", 1)[1].strip()
            if line.startswith("flags"):
                flags = set(line.split(":", 1)[1].split())
                break
    except OSError:
        pass
    wanted = ("sse4_2", "avx", "avx2", "fma", "avx512f", "avx512_vnni", "amx_tile")
    shown = " ".join(flag for flag in wanted if flag in flags)
    return f"{model}; {os.cpu_count()} CPUs; flags: {shown or 'n/a'}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--searches", type=int, default=300, help="searches per mode and kind")
    parser.add_argument("--batches", type=int, default=200, help="event batches of 100")
    parser.add_argument("--events", type=int, default=1_000_000, help="raw events to roll up")
    parser.add_argument("--products", type=int, default=200)
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
        sys.exit("bench/analytics.py needs DATABASE_URL=postgres://... (analytics is PostgreSQL)")

    tmp = Path(tempfile.mkdtemp(prefix="bench-analytics-"))
    database_url, drop, label = scratch_database("bench_analytics", tmp)
    model_dir = save_random_clip(tmp / "clip", quick=True)
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DATABASE_URL": database_url,
            "MEDIA_ROOT": str(tmp / "media"),
            "VECTOR_BACKEND": "embedded",
            "VECTOR_PATH": str(tmp / "vectors"),
            "CLIP_MODEL": str(model_dir),
            "CLIP_MODEL_REVISION": "",
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
            "CELERY_TASK_ALWAYS_EAGER": "1",
            "LOG_LEVEL": "WARNING",
            "METRICS_ENABLED": "false",
            "DJANGO_ALLOWED_HOSTS": "testserver",
            "THROTTLE_SEARCH_TEXT_ANON": "1000000/min",
            "THROTTLE_SEARCH_PHOTO_ANON": "1000000/min",
            "THROTTLE_ANALYTICS_EVENTS": "1000000/min",
            "TORCH_THREADS": "1",
        }
    )
    try:
        run(args, label)
    finally:
        from django.db import connections

        connections.close_all()
        drop()


def _catalogue(count: int) -> list[int]:
    from catalog.models import ProductImage
    from catalog.sample_data import create_sample_product, generate_products
    from catalog.services import merchant_create, user_create
    from search.index import sync as indexing

    merchants = [
        merchant_create(name=f"Bench {n}", owner=user_create(username=f"b{n}", password=None))
        for n in range(2)
    ]
    products = [
        create_sample_product(merchants[n % 2], sample, images=1, image_size=96)
        for n, sample in enumerate(generate_products(count, seed=3))
    ]
    indexing.index_products([p.pk for p in products])
    indexing.index_images(list(ProductImage.objects.values_list("id", flat=True)))
    return [p.pk for p in products]


def _photo(rng: random.Random) -> bytes:
    from PIL import Image

    image = Image.new("RGB", (640, 480), tuple(rng.randrange(256) for _ in range(3)))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


def search_overhead(args) -> None:
    from rest_framework.test import APIClient

    from analytics import receivers
    from analytics.recorder import recorder
    from search.query.recording import search_finished

    rng = random.Random(1)
    words = ["boots", "leather bag", "red mug", "lamp", "wool scarf", "chair", "jacket", "kettle"]
    photos = [_photo(rng) for _ in range(8)]
    client = APIClient()

    def text() -> None:
        response = client.post("/api/v1/search/", {"text": rng.choice(words)}, format="json")
        assert response.status_code == 200, response.content

    def photo() -> None:
        upload = io.BytesIO(rng.choice(photos))
        upload.name = "photo.jpg"
        response = client.post("/api/v1/search/", {"image": upload}, format="multipart")
        assert response.status_code == 200, response.content

    def recording(on: bool) -> None:
        if on:
            receivers.connect()
        else:
            search_finished.disconnect(dispatch_uid="analytics.search_finished")

    for kind in (text, photo):
        for _ in range(20):  # warm the models and caches
            kind()
    timings: dict[tuple[str, str], list[float]] = {}
    for counter in range(args.searches * 2):
        mode = "on" if counter % 2 else "off"
        recording(mode == "on")
        for name, kind in (("text", text), ("photo", photo)):
            started = time.perf_counter()
            kind()
            timings.setdefault((name, mode), []).append((time.perf_counter() - started) * 1000)
    recording(True)
    time.sleep(1.5)  # the background thread's last flush
    recorder.flush()
    # What the request thread itself does for recording, timed alone (the whole-request
    # difference above is within the noise of a busy machine).
    captured: dict[str, object] = {}

    def capture(sender, search, **kwargs):
        captured[search.kind] = search

    search_finished.connect(capture, dispatch_uid="bench-capture")
    text()
    photo()
    search_finished.disconnect(dispatch_uid="bench-capture")
    recorder.background = False
    receiver_us: dict[str, list[float]] = {}
    for name in ("text", "photo"):
        for _ in range(2000):
            started = time.perf_counter()
            receivers.on_search_finished(None, search=captured[name])
            receiver_us.setdefault(name, []).append((time.perf_counter() - started) * 1e6)
            recorder.discard()  # as the background thread would have written it
    recorder.discard()
    recorder.background = True
    print(f"\n## Search p50 with recording on vs off ({args.searches} each, alternating)")
    print("| kind | off p50 | on p50 | added p50 | off p95 | on p95 |")
    print("|---|---|---|---|---|---|")
    for name in ("text", "photo"):
        off, on = sorted(timings[(name, "off")]), sorted(timings[(name, "on")])
        p95 = lambda values: values[int(len(values) * 0.95)]  # noqa: E731
        print(
            f"| {name} | {statistics.median(off):.2f} ms | {statistics.median(on):.2f} ms "
            f"| {statistics.median(on) - statistics.median(off):+.2f} ms "
            f"| {p95(off):.2f} ms | {p95(on):.2f} ms |"
        )
    for name in ("text", "photo"):
        print(
            f"recording's share of the request thread, {name} search: p50 "
            f"{statistics.median(receiver_us[name]):.0f} µs (build the row, queue it; 2000 runs)"
        )


def ingest(args, product_ids: list[int]) -> None:
    from django.utils import timezone
    from rest_framework.test import APIClient

    from analytics.models import SearchEvent
    from analytics.recorder import SearchRecorder

    client = APIClient()
    rng = random.Random(2)
    started = time.perf_counter()
    for _ in range(args.batches):
        search_id = str(uuid.uuid4())
        events = [
            {
                "id": str(uuid.uuid4()),
                "kind": rng.choice(("click", "click", "add_to_cart")),
                "search_id": search_id,
                "product_id": rng.choice(product_ids),
                "position": rng.randint(1, 20),
                "visitor_id": "bench-visitor",
            }
            for _ in range(100)
        ]
        response = client.post("/api/v1/events/", {"events": events}, format="json")
        assert response.status_code == 202, response.content
    seconds = time.perf_counter() - started
    print("\n## Events taken in")
    print(
        f"POST /api/v1/events/: {args.batches * 100 / seconds:,.0f} events/s "
        f"({args.batches} batches of 100, one client, in-process)"
    )
    queue = SearchRecorder()
    queue.background = False
    rows = 20_000
    now = timezone.now()
    for n in range(rows):
        queue.submit(
            lambda n=n: SearchEvent(
                search_id=uuid.uuid4(),
                created_at=now,
                kind="text",
                words=f"query {n % 500}",
                product_ids=product_ids[:20],
                scores=[0.5] * 20,
                merchant_ids=[1, 2],
                took_ms=20.0,
            )
        ) if n < queue._queue.maxsize else None
    queued = queue.pending()
    started = time.perf_counter()
    written = queue.flush()
    seconds = time.perf_counter() - started
    print(f"recorder bulk write: {written / seconds:,.0f} searches/s ({queued} queued rows)")


ROLLUP_FILL = """
INSERT INTO analytics_searchevent (search_id, created_at, kind, words, filters, product_ids,
    scores, merchant_ids, result_count, best_score, took_ms, model, visitor_id, photo_hash)
SELECT md5(n::text || 's')::uuid,
       %(start)s::timestamptz + ((n - 1)::float / %(searches)s) * interval '7 days',
       (ARRAY['text','text','text','photo','hybrid'])[1 + n %% 5],
       'query ' || (n::bigint * 7919 %% 5000),
       '{}'::jsonb, '[1,2,3,4,5,6,7,8,9,10]'::jsonb, '[0.9,0.8,0.7,0.6,0.5,0.4,0.3,0.2,0.1,0.05]'::jsonb,
       jsonb_build_array(1 + n %% 20, 1 + (n + 7) %% 20),
       CASE WHEN n %% 17 = 0 THEN 0 ELSE 10 END, 0.2 + (n %% 10) / 10.0, 5 + n %% 90,
       'bench', 'v' || (n %% 50000), ''
FROM generate_series(1, %(searches)s) AS n
"""
ROLLUP_EVENTS = """
INSERT INTO analytics_interactionevent (event_id, created_at, kind, search_id, product_id,
    merchant_id, position, quantity, price, visitor_id)
SELECT md5(n::text || 'e')::uuid,
       %(start)s::timestamptz + (s::float / %(searches)s) * interval '7 days',
       (ARRAY['click','click','click','click','click','click','add_to_cart','add_to_cart','purchase'])[1 + n %% 9],
       md5(s::text || 's')::uuid, 1 + n %% 10, 1 + s %% 20, 1 + n %% 10, 1, 9.99, 'v' || (s %% 50000)
FROM (SELECT n, 1 + (n * 2654435761 %% %(searches)s) AS s FROM generate_series(1, %(interactions)s) AS n) AS e
"""


def rollup(args) -> None:
    from datetime import UTC, datetime, timedelta

    from django.db import connection
    from django.utils import timezone

    from analytics import partitions
    from analytics.models import DailyQueryStats
    from analytics.rollups import rollup_run

    today = timezone.now().astimezone(UTC).date()
    first = today - timedelta(days=6)
    start = datetime.combine(first, datetime.min.time(), tzinfo=UTC)
    partitions.partitions_ensure(start=first, days=8)
    searches = max(args.events * 2 // 3, 1)
    interactions = args.events - searches
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE analytics_searchevent, analytics_interactionevent")
        params = {"start": start, "searches": searches, "interactions": interactions}
        cursor.execute(ROLLUP_FILL, params)
        cursor.execute(ROLLUP_EVENTS, params)
        cursor.execute("ANALYZE analytics_searchevent; ANALYZE analytics_interactionevent")
    fill = time.perf_counter() - started
    run = rollup_run(since=first, now=start + timedelta(days=7))
    print(f"\n## Rollup of {args.events:,} raw events")
    print(
        f"{searches:,} searches + {interactions:,} clicks/carts/purchases over 7 days "
        f"(written in {fill:.1f} s): one full recount {run.seconds:.2f} s, "
        f"{run.rows:,} rollup rows ({DailyQueryStats.objects.count():,} kept); "
        f"{args.events / run.seconds:,.0f} events/s"
    )


def run(args, label: str) -> None:
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    print(f"# Search analytics bench ({label})")
    print(f"CPU: {cpu_line()}")
    product_ids = _catalogue(args.products)
    search_overhead(args)
    ingest(args, product_ids)
    rollup(args)


if __name__ == "__main__":
    main()
