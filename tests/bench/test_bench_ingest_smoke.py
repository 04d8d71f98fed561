"""Smoke test of bench/ingest.py: its --quick run starts the platform as deployed (web process,
Celery worker, PostgreSQL, Redis), uploads through the merchant API until all is indexed, runs
the seed loop, and prints every figure. Benchmarks print figures; nothing here checks a timing."""

from __future__ import annotations

import re

import pytest

from tests.bench import run_quick

NUMBER = r"\d+(?:\.\d+)?"

pytestmark = pytest.mark.slow


def test_quick_run_prints_the_api_against_the_seed_loop():
    run = run_quick("ingest.py", timeout=420)

    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert re.search(r"^cpu: .*; torch \w+; flags ", run.stdout, re.M)
    assert re.search(r"^worker clip precision: .*precision (?:fp32|bf16|int8)\)", run.stdout, re.M)
    for side in (
        r"api: uploads \(one client, one per product\)",
        r"api: first upload -> all indexed",
        r"seed loop: process start -> exit",
        r"seed loop: the loop alone",
    ):
        assert re.search(rf"^{side}\s+{NUMBER}\s+{NUMBER}$", run.stdout, re.M), run.stdout
    assert re.search(r"^not indexed: 0$", run.stdout, re.M), run.stdout
    assert re.search(
        rf"^api / seed loop \(end to end, uploads included\): {NUMBER}x \(target >= 2.0x\)$",
        run.stdout,
        re.M,
    ), run.stdout
