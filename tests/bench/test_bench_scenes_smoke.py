"""Smoke test of bench/scenes.py: its --quick run composes scenes, searches them whole, cropped
and by detected boxes, and prints every figure. Benchmarks print figures; nothing here checks
a timing or a recall (the models are random)."""

from __future__ import annotations

import re

import pytest

from tests.bench import run_quick

SHARE = r"[01]\.\d{3}"

pytestmark = pytest.mark.slow


def test_quick_run_prints_recall_per_query_kind_and_the_look_latency():
    run = run_quick("scenes.py")

    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    out = run.stdout
    for kind in ("whole photo", "crop", "detector"):
        assert re.search(rf"^{kind}\s+{SHARE}\s+{SHARE}$", out, re.M), out
    assert re.search(r"^crop : whole photo recall@10 = (\d+\.\d+|inf)", out, re.M), out
    assert re.search(r"^detector boxes matching a product \(IoU >= 0\.5\): \d+/\d+$", out, re.M)
    assert re.search(r"^detect \+ one encode per box, per scene: p50 \d+\.\d ms", out, re.M)
