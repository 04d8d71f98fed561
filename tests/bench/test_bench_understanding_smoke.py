"""Smoke test of bench/understanding.py: its --quick run loads, measures and prints every
figure. Benchmarks print figures; nothing here checks a timing."""

from __future__ import annotations

import re

import pytest

from tests.bench import run_quick

NUMBER = r"\d+(?:\.\d+)?"

pytestmark = pytest.mark.slow


def test_quick_run_prints_the_cost_of_each_query_kind():
    run = run_quick("understanding.py")

    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert re.search(r"^vocabulary build [\d,]+ ms: [\d,]+ words", run.stdout, re.M)
    for kind in ("catalogue words", "misspelt words", "exact SKU", "SKU prefix", "GTIN"):
        assert re.search(rf"^{kind}\s+{NUMBER}\s+{NUMBER}\s+40$", run.stdout, re.M), run.stdout
