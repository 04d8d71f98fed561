"""Smoke test of bench/search.py: its --quick run builds, serves and prints every figure.

Benchmarks print figures; nothing here checks a timing.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NUMBER = r"-?\d+(?:\.\d+)?"
PHONE = r"photo \d+x\d+ \(phone\)"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def quick_run() -> subprocess.CompletedProcess:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    return subprocess.run(
        [sys.executable, str(ROOT / "bench" / "search.py"), "--quick"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=420,
    )


def _section(output: str, title: str) -> str:
    start = output.index(title)
    end = output.find("\n== ", start + 1)
    return output[start : end if end != -1 else len(output)]


def test_quick_run_succeeds(quick_run):
    assert quick_run.returncode == 0, quick_run.stdout[-3000:] + quick_run.stderr[-3000:]


def test_prints_endpoint_latency_and_stages_per_query_kind(quick_run):
    section = _section(quick_run.stdout, "== endpoint, one keep-alive client")
    for kind in ("text", "photo", "hybrid", r"text, repeated \(cache hit\)", PHONE):
        # wall p50, wall p95, took p50, decode (photos only), encode, vector_search, hydrate,
        # wall-took, precision (CLIP, and MiniLM where words are searched)
        decode = "-" if kind.startswith("text") else NUMBER
        modes = "(?:fp32|bf16|int8)"
        precision = modes if kind.startswith("photo") else f"{modes}/{modes}"
        assert re.search(
            rf"^{kind}\s+(?:{NUMBER}\s+){{3}}{decode}\s+(?:{NUMBER}\s+){{3}}{NUMBER}\s+"
            rf"{precision}$",
            section,
            re.M,
        ), section
    # the machine, and what the server's encoders run in after their check at load
    assert re.search(r"^cpu: .*; torch \w+; flags ", quick_run.stdout, re.M)
    assert re.search(r"^server clip precision: (?:fp32|bf16|int8) ", quick_run.stdout, re.M)


def test_prints_the_stages_measured_alone(quick_run):
    encoders = _section(quick_run.stdout, "== encoders alone")
    assert re.search(
        rf"^text: all three, MiniLM \|\| CLIP\s+{NUMBER}\s+{NUMBER}$", encoders, re.M
    ), encoders
    assert re.search(rf"^photo: CLIP image\s+{NUMBER}\s+{NUMBER}$", encoders, re.M), encoders
    engine = _section(quick_run.stdout, "== engine alone")
    assert re.search(rf"^image leg, top 20 .*\s{NUMBER}\s+{NUMBER}$", engine, re.M), engine
    against = _section(quick_run.stdout, "== endpoint against its stages")
    for kind in ("text", "photo", "hybrid", PHONE):
        assert re.search(rf"^{kind}\s+(?:{NUMBER}\s+){{6}}{NUMBER}$", against, re.M), against


def test_prints_requests_per_second_with_concurrent_clients(quick_run):
    section = _section(quick_run.stdout, "concurrent clients")
    for kind in ("text", "photo", "hybrid"):
        assert re.search(rf"^{kind}\s+{NUMBER}\s+{NUMBER}\s+{NUMBER}\s+\d+$", section, re.M), (
            section
        )


def test_prints_the_cost_of_the_text_legs(quick_run):
    section = _section(quick_run.stdout, "== text legs")
    assert re.search(r"^image leg only\s.*\simage$", section, re.M), section
    assert re.search(
        r"^fused \(image\+text\+keywords\)\s.*\simage,keywords,text$", section, re.M
    ), section
    assert re.search(rf"^text legs add: {NUMBER} ms p50 wall", section, re.M), section


def test_prints_the_cost_of_query_understanding_off_against_on(quick_run):
    section = _section(quick_run.stdout, "== query understanding off vs on")
    for mode in ("off", "on"):
        assert re.search(rf"^{mode}\s+{NUMBER}\s+{NUMBER}\s+{NUMBER}\s+{NUMBER}$", section, re.M)
    assert re.search(rf"^query understanding adds: {NUMBER} ms p50 wall", section, re.M), section


def test_prints_each_target_with_a_verdict(quick_run):
    targets = _section(quick_run.stdout, "== targets")
    for kind in ("text", "photo", "hybrid", PHONE):
        assert re.search(
            rf"^endpoint adds <= 10 ms p50 to its stages, {kind} \.+\s*{NUMBER} ms  (?:met|NOT met)$",
            targets,
            re.M,
        ), targets
    assert re.search(
        rf"^text legs add <= 10 ms p50 to a text search \.+\s*{NUMBER} ms  (?:met|NOT met)$",
        targets,
        re.M,
    ), targets
    assert re.search(
        rf"^query understanding adds <= 3 ms p50 to a text search \.+\s*{NUMBER} ms  (?:met|NOT met)$",
        targets,
        re.M,
    ), targets
    assert re.search(
        rf"^requests/s with 4 clients: text {NUMBER}, photo {NUMBER}, hybrid {NUMBER}$",
        targets,
        re.M,
    ), targets
