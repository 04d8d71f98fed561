"""The layout's rules (docs/architecture.md), checked in `make test` as in `make lint`."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def test_imports_follow_the_layers_and_no_package_has_a_cycle():
    result = subprocess.run(
        [str(BIN / "lint-imports"), "--no-cache"], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_search_repeats_no_run_of_eleven_lines():
    result = subprocess.run(
        ["make", "--no-print-directory", "duplicate-code"], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
