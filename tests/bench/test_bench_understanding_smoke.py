"""Smoke test of bench/understanding.py: its --quick run loads, measures and prints every
figure. Benchmarks print figures; nothing here checks a timing."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NUMBER = r"\d+(?:\.\d+)?"

pytestmark = pytest.mark.slow


def test_quick_run_prints_the_cost_of_each_query_kind():
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    run = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "understanding.py"), "--quick"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )

    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert re.search(r"^vocabulary build [\d,]+ ms: [\d,]+ words", run.stdout, re.M)
    for kind in ("catalogue words", "misspelt words", "exact SKU", "SKU prefix", "GTIN"):
        assert re.search(rf"^{kind}\s+{NUMBER}\s+{NUMBER}\s+40$", run.stdout, re.M), run.stdout
