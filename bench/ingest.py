"""Ingest as deployed: a merchant uploading through the API against the seed guide's loop.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres HF_HUB_OFFLINE=1 \\
        .venv/bin/python bench/ingest.py [--images 96] [--quick]

One run, on the same N 800x800 JPEGs (bench/indexing.py's generator) and the same randomly
initialised CLIP of ViT-B/32 size (only the weights are random; --quick: a tiny CLIP and a few
small images, a smoke run):

  api    the platform as deployed, started here: a scratch PostgreSQL database (SQLite without
         DATABASE_URL), a private Redis (redis-server on a free port) as the broker, the web
         process (gunicorn -c deploy/gunicorn.conf.py config.wsgi, 1 worker x 4 threads) and ONE
         Celery worker on the embedding and default queues (pool solo, beat embedded for the
         outbox relay) that owns the vector store (the embedded engine). N products are created
         first (not timed); then one client uploads the images, one per product
         (POST /api/v1/merchant/products/{id}/images/), and the clock runs from the first upload
         until every image is indexed. Enrichment (colours, near-duplicates) is off: it follows
         indexing as separate work and is not part of "indexed".
  seed   the seed guide's loop (bench/indexing.py run_naive) over the same files, as a process
         of its own: from its start (imports and model load included) to its exit, as a
         merchant would run a script; the loop alone is printed too.

Both sides run with TORCH_THREADS=1 (--torch-threads), as bench/search.py does on these shared
cores. Printed: the CPU model and flags, the precision the worker's CLIP runs in after its check
at load (CLIP_PRECISION, default auto), the uploads' own time, the time until all indexed,
images/s end to end, and the ratio to the seed loop (the issue's target: at least 2x).
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from bench.indexing import make_images, save_random_clip  # noqa: E402
from bench.scratch import scratch_database  # noqa: E402

SEED_SCRIPT = """
import sys, time, json
from pathlib import Path
sys.path.insert(0, {root!r})
import torch
torch.set_num_threads({threads})
from bench.indexing import run_naive, _timings
paths = sorted(Path({images!r}).glob("*.jpg"))
run_naive(Path({model!r}), paths)
print(json.dumps({{"loop_images_per_s": _timings["naive"][0], "count": len(paths)}}))
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def log(message: str) -> None:
    print(f"[ingest] {message}", file=sys.stderr, flush=True)


class Processes:
    """The services started here, each in its own process group (beat is a child of the
    worker), stopped together at the end."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.running: list[tuple[str, subprocess.Popen]] = []

    def start(self, name: str, command: list[str], env: dict[str, str]) -> subprocess.Popen:
        with (self.root / f"{name}.log").open("w") as out:
            process = subprocess.Popen(
                command,
                cwd=REPO_ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.running.append((name, process))
        return process

    def tail(self, name: str, chars: int = 3000) -> str:
        return (self.root / f"{name}.log").read_text(errors="replace")[-chars:]

    def stop_all(self) -> None:
        for _, process in reversed(self.running):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        for _, process in reversed(self.running):
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def wait_http(port: int, processes: Processes, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"the web process did not answer:\n{processes.tail('web')}")


def multipart(data: bytes, name: str) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="image"; filename="{name}"\r\n'
            "Content-Type: image/jpeg\r\n\r\n"
        ).encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return body, f"multipart/form-data; boundary={boundary}"


def run_seed_loop(root: Path, images: Path, model: Path, threads: int) -> tuple[float, dict]:
    """Seconds from the seed script's start to its exit, and what it printed."""
    script = SEED_SCRIPT.format(
        root=str(REPO_ROOT), threads=threads, images=str(images), model=str(model)
    )
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=False
    )
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"the seed loop failed:\n{done.stderr[-3000:]}")
    return wall, json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=96, help="JPEGs, one per product (96)")
    parser.add_argument("--torch-threads", type=int, default=1, help="both sides (default 1)")
    parser.add_argument("--timeout", type=float, default=900, help="give up after (s)")
    parser.add_argument("--quick", action="store_true", help="smoke run: tiny CLIP, 6 images")
    parser.add_argument("--keep", action="store_true", help="keep the folder (logs) at the end")
    args = parser.parse_args(argv)

    # A SIGTERM (a timeout, Ctrl-C's cousin) still stops the services and drops the database.
    signal.signal(signal.SIGTERM, lambda number, frame: sys.exit(128 + number))
    count = min(args.images, 6) if args.quick else args.images
    size = 96 if args.quick else 800
    root = Path(tempfile.mkdtemp(prefix="bench-ingest-"))
    database_url, drop, database_label = scratch_database("bench_ingest", root)
    processes = Processes(root)
    try:
        return run(args, root, count, size, database_url, database_label, processes)
    finally:
        processes.stop_all()
        with contextlib.suppress(Exception):
            from django.db import connections

            connections.close_all()
        drop()
        if args.keep:
            log(f"kept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)


def run(args, root: Path, count: int, size: int, database_url, database_label, processes) -> int:
    log(f"{count} JPEGs {size}x{size} and the model")
    (root / "images").mkdir()
    paths = make_images(root / "images", count, size)
    model_dir = save_random_clip(root / "model", quick=args.quick)

    redis_port = free_port()
    processes.start(
        "redis",
        ["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1", "--save", ""]
        + ["--appendonly", "no", "--dir", str(root)],
        dict(os.environ),
    )
    redis_url = f"redis://127.0.0.1:{redis_port}/0"
    web_port = free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "CELERY_BROKER_URL": redis_url,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "DJANGO_DEBUG": "false",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
        "MEDIA_ROOT": str(root / "media"),
        "VAR_DIR": str(root / "var"),
        "VECTOR_BACKEND": "embedded",
        "VECTOR_PATH": str(root / "vectors"),
        "CLIP_MODEL": str(model_dir),
        "CLIP_MODEL_REVISION": "",
        "CLIP_PRECISION": os.environ.get("CLIP_PRECISION", "auto"),
        "TORCH_THREADS": str(args.torch_threads),
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "ENRICHMENT_ENABLED": "false",
        # The text model serves the product-text points, not what is timed here: torch spares
        # each run its ONNX export (minutes on busy cores; cached per revision in production).
        "TEXT_RUNTIME": os.environ.get("TEXT_RUNTIME", "torch"),
        "DETECTOR_ENABLED": "false",
        "METRICS_ENABLED": "false",
        "LOG_LEVEL": "INFO",  # the worker's "Loaded CLIP model ... precision" line
        "GUNICORN_BIND": f"127.0.0.1:{web_port}",
        "GUNICORN_WORKERS": "1",
        "GUNICORN_THREADS": "4",
        "GUNICORN_MAX_REQUESTS": "0",
        "GUNICORN_TIMEOUT": "300",
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    # This process writes the products and reads the images' status; index work is the
    # worker's (it owns the vector store), through the broker like the web process's.
    for key in (
        "DJANGO_SETTINGS_MODULE",
        "DATABASE_URL",
        "MEDIA_ROOT",
        "VAR_DIR",
        "VECTOR_PATH",
        "REDIS_URL",
        "CELERY_BROKER_URL",
        "CELERY_TASK_ALWAYS_EAGER",
        "ENRICHMENT_ENABLED",
        "TEXT_RUNTIME",
    ):
        os.environ[key] = env[key]

    import django

    django.setup()
    from django.core.management import call_command
    from rest_framework.authtoken.models import Token

    from catalog import services
    from catalog.models import ProductImage
    from search.models import IndexChange

    log("migrating")
    call_command("migrate", verbosity=0, interactive=False)
    owner = services.user_create(username="bench", password=None)
    merchant = services.merchant_create(name="Bench", owner=owner)
    token = Token.objects.create(user=owner).key
    product_ids = [
        services.product_create(
            merchant=merchant, sku=f"I-{number:04d}", title=f"Bench product {number}", price="9.00"
        ).pk
        for number in range(count + 1)
    ]
    warmup_id, product_ids = product_ids[0], product_ids[1:]

    processes.start(
        "web",
        [sys.executable, "-m", "gunicorn", "-c", "deploy/gunicorn.conf.py", "config.wsgi"],
        env,
    )
    worker = processes.start(
        "worker",
        [sys.executable, "-m", "celery", "-A", "config", "worker", "-B"]
        + ["--schedule", str(root / "beat"), "-Q", "embeddings,default", "--pool", "solo"]
        + ["--without-gossip", "--without-mingle", "-n", "ingest@%h", "--loglevel", "INFO"],
        env,
    )
    wait_http(web_port, processes)

    def upload(product_id: int, path: Path) -> None:
        # A connection per upload, as a merchant's script without a session would: gunicorn's
        # keep-alive closes an idle one after GUNICORN_KEEPALIVE seconds anyway.
        connection = http.client.HTTPConnection("127.0.0.1", web_port, timeout=60)
        body, content_type = multipart(path.read_bytes(), path.name)
        connection.request(
            "POST",
            f"/api/v1/merchant/products/{product_id}/images/",
            body,
            {"Authorization": f"Token {token}", "Content-Type": content_type},
        )
        response = connection.getresponse()
        answer = response.read()
        connection.close()
        if response.status != 201:
            raise RuntimeError(f"upload answered {response.status}: {answer[:300]!r}")

    def wait_outbox_empty() -> None:
        deadline = time.monotonic() + args.timeout
        while IndexChange.objects.exists():
            if time.monotonic() > deadline or worker.poll() is not None:
                raise RuntimeError(f"index work left:\n{processes.tail('worker')}")
            time.sleep(0.1)

    def wait_indexed(total: int) -> None:
        deadline = time.monotonic() + args.timeout
        while ProductImage.objects.filter(status=ProductImage.Status.INDEXED).count() < total:
            if time.monotonic() > deadline or worker.poll() is not None:
                raise RuntimeError(f"not all indexed:\n{processes.tail('worker')}")
            time.sleep(0.05)

    # A deployed worker has loaded CLIP long before a merchant's burst: one image first (its
    # load and precision check at load are not timed), then the burst.
    log("warming the worker with one upload")
    upload(warmup_id, paths[0])
    wait_indexed(1)
    wait_outbox_empty()  # the products' own index work (text points) is done too
    precision_line = worker_precision(processes)
    log(f"uploading {count} images, one per product")
    started = time.perf_counter()
    for product_id, path in zip(product_ids, paths, strict=True):
        upload(product_id, path)
    uploads_s = time.perf_counter() - started
    wait_indexed(count + 1)
    api_s = time.perf_counter() - started
    failed = ProductImage.objects.exclude(status=ProductImage.Status.INDEXED).count()

    processes.stop_all()  # the seed loop gets the cores to itself, as the API side had them
    log("the seed loop, as a process")
    seed_s, seed = run_seed_loop(root, root / "images", model_dir, args.torch_threads)

    from search.encoding.precision import hardware

    print(
        f"ingest benchmark: {count} JPEGs {size}x{size}, one per product, "
        f"{'tiny CLIP' if args.quick else 'random-init CLIP ViT-B/32 (224 px)'}; "
        f"{database_label}; TORCH_THREADS={args.torch_threads}; cpu cores {os.cpu_count()}"
    )
    print(f"cpu: {hardware().describe()}")
    print(f"worker clip precision: {precision_line}")
    print(f"load average (1 min) at the end: {os.getloadavg()[0]:.2f}")
    print()
    print(f"{'side':<44}{'seconds':>9}{'images/s':>10}")
    rows = (
        ("api: uploads (one client, one per product)", uploads_s),
        ("api: first upload -> all indexed", api_s),
        ("seed loop: process start -> exit", seed_s),
        ("seed loop: the loop alone", count / seed["loop_images_per_s"]),
    )
    for label, seconds in rows:
        print(f"{label:<44}{seconds:>9.2f}{count / seconds:>10.2f}")
    print(f"not indexed: {failed}")
    print()
    print(f"api / seed loop (end to end, uploads included): {seed_s / api_s:.2f}x (target >= 2.0x)")
    print(f"api / seed loop alone: {count / seed['loop_images_per_s'] / api_s:.2f}x")
    return 0


def worker_precision(processes: Processes) -> str:
    """What the worker's CLIP runs in after its check at load, from its log line."""
    for line in (processes.root / "worker.log").read_text(errors="replace").splitlines():
        if "Loaded CLIP model" in line:
            return line.split("Loaded CLIP model", 1)[1].strip()
    return "? (no load line in the worker's log)"


if __name__ == "__main__":
    raise SystemExit(main())
