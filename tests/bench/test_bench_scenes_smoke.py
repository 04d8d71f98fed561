"""Smoke test of bench/scenes.py: its --quick run composes scenes, searches them whole, cropped
and by detected boxes, and prints every figure. Benchmarks print figures; nothing here checks
a timing or a recall (the models are random)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SHARE = r"[01]\.\d{3}"

pytestmark = pytest.mark.slow


def test_quick_run_prints_recall_per_query_kind_and_the_look_latency():
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    run = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "scenes.py"), "--quick"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )

    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    out = run.stdout
    for kind in ("whole photo", "crop", "detector"):
        assert re.search(rf"^{kind}\s+{SHARE}\s+{SHARE}$", out, re.M), out
    assert re.search(r"^crop : whole photo recall@10 = (\d+\.\d+|inf)", out, re.M), out
    assert re.search(r"^detector boxes matching a product \(IoU >= 0\.5\): \d+/\d+$", out, re.M)
    assert re.search(r"^detect \+ one encode per box, per scene: p50 \d+\.\d ms", out, re.M)
