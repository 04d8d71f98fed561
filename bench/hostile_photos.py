"""Peak memory of a web process under parallel hostile photo searches (issue 15, finding 2).

Starts the app in one process (Django's threaded development server: one process, a thread
per request, as a gunicorn worker with threads), on SQLite and the embedded vector index in a
temporary folder, then sends PARALLEL photo searches at once and reads the process's peak
resident memory (VmHWM) from /proc before and after. No model is needed: the photo is read,
checked and decoded before the model is asked for (without one the search then answers 503,
which is fine here).

    .venv/bin/python bench/hostile_photos.py                      # this checkout
    .venv/bin/python bench/hostile_photos.py --code /path/to/old  # another checkout, same venv

Two photos: the issue's probe file (a lossless WebP of 16383×2441 pixels, 40 MP, about 1.5 KB
when encoded by libwebp at its best) and the worst one a 16 MP budget still accepts (a
16000×1000 lossless WebP, a long strip that is brought down only after decoding).
"""

from __future__ import annotations

import argparse
import io
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parent.parent


def lossless_webp(size: tuple[int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (10, 20, 30)).save(buffer, format="WEBP", lossless=True, method=0)
    return buffer.getvalue()


def multipart(data: bytes) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="image"; filename="p.webp"\r\n'
            f"Content-Type: image/webp\r\n\r\n"
        ).encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return body, f"multipart/form-data; boundary={boundary}"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def memory_kib(pid: int) -> dict[str, int]:
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0])
    return values


def post(url: str, data: bytes) -> int:
    body, content_type = multipart(data)
    request = urllib.request.Request(url, data=body, headers={"Content-Type": content_type})
    try:
        with urllib.request.urlopen(request, timeout=300) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def run(code: Path, parallel: int, photo_name: str, photo: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            **os.environ,
            "PYTHONPATH": str(code),
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DATABASE_URL": f"sqlite:///{tmp}/bench.sqlite3",
            "VAR_DIR": tmp,
            "VECTOR_BACKEND": "embedded",
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
            "CLIP_MODEL": f"{tmp}/no-model-here",
            "GUNICORN_WARM_MODELS": "false",
            "THROTTLE_SEARCH_PHOTO_ANON": "100000/min",
            "LOG_LEVEL": "ERROR",
        }
        python = sys.executable
        subprocess.run(
            [python, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=code, env=env, check=True
        )
        port = free_port()
        server = subprocess.Popen(
            [python, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
            cwd=code,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            url = f"http://127.0.0.1:{port}/api/v1/search/"
            for _ in range(120):
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2)
                    break
                except OSError:
                    time.sleep(0.5)
            post(url, lossless_webp((64, 48)))  # warm: imports, first request
            before = memory_kib(server.pid)
            with ThreadPoolExecutor(parallel) as pool:
                statuses = list(pool.map(lambda _: post(url, photo), range(parallel)))
            after = memory_kib(server.pid)
        finally:
            server.terminate()
            server.wait(timeout=30)
        counts = {status: statuses.count(status) for status in sorted(set(statuses))}
        print(
            f"{code}: {photo_name} ({len(photo):,} bytes) x{parallel} in parallel: "
            f"RSS before {before['VmRSS'] / 1024:,.0f} MiB, peak {after['VmHWM'] / 1024:,.0f} MiB "
            f"(+{(after['VmHWM'] - before['VmHWM']) / 1024:,.0f} MiB); answers {counts}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--code", type=Path, default=ROOT, help="checkout to run (default: this)")
    parser.add_argument("--parallel", type=int, default=8)
    args = parser.parse_args()
    photos = {
        "40 MP lossless WebP (the probe)": lossless_webp((16383, 2441)),
        "16 MP lossless WebP strip": lossless_webp((16000, 1000)),
    }
    for name, photo in photos.items():
        run(args.code.resolve(), args.parallel, name, photo)


if __name__ == "__main__":
    main()
