"""Locked installs: the lock files are pyproject.toml's dependencies pinned with hashes, the
Makefile and the Dockerfile install from them, and a pyproject change without `make lock`
fails here (and in `make venv` / `make lock-check`)."""

import importlib.util
import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("lock", ROOT / "deploy" / "lock.py")
assert spec and spec.loader
lock = importlib.util.module_from_spec(spec)
spec.loader.exec_module(lock)


def _name(requirement: str) -> str:
    return re.split(r"[\[<>=!~; ]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def _pins(path: Path) -> dict[str, str]:
    return {
        match.group(1).lower(): match.group(2)
        for match in re.finditer(r"^([A-Za-z0-9._-]+)==([^ \\\n]+)", path.read_text(), re.M)
    }


def test_the_committed_locks_match_pyproject():
    assert lock.stale_locks() == [], "run `make lock`"


def test_a_changed_pin_without_a_new_lock_is_caught(tmp_path):
    # Given pyproject.toml with one dependency's range changed
    changed = tmp_path / "pyproject.toml"
    text = lock.PYPROJECT.read_text()
    changed.write_text(text.replace('"rapidfuzz>=3.14,<4"', '"rapidfuzz>=3.15,<4"'))
    # Then its digest no longer matches the one the locks recorded
    assert changed.read_text() != text
    assert lock.dependencies_digest(changed) != lock.recorded_digest(lock.DEV_LOCK)


def test_a_change_elsewhere_in_pyproject_needs_no_new_lock(tmp_path):
    changed = tmp_path / "pyproject.toml"
    changed.write_text(lock.PYPROJECT.read_text().replace("timeout = 300", "timeout = 301"))
    assert lock.dependencies_digest(changed) == lock.recorded_digest(lock.DEV_LOCK)


@pytest.mark.parametrize(
    ("lock_file", "groups"),
    [
        ("RUNTIME_LOCK", ["dependencies", *lock.RUNTIME_EXTRAS]),
        ("DEV_LOCK", ["dependencies", *lock.RUNTIME_EXTRAS, "dev"]),
    ],
)
def test_every_declared_dependency_is_pinned_with_hashes(lock_file, groups):
    path = getattr(lock, lock_file)
    project = tomllib.loads(lock.PYPROJECT.read_text())["project"]
    declared = {
        _name(requirement)
        for group in groups
        for requirement in (
            project["dependencies"]
            if group == "dependencies"
            else project["optional-dependencies"][group]
        )
    }
    pins = _pins(path)
    # torch is installed first from the CPU/CUDA index; everything else is locked
    assert declared - set(pins) == {"torch"}
    assert not [name for name in pins if re.match(r"torch$|triton$|nvidia-|cuda-", name)]
    blocks = re.split(r"\n(?=[A-Za-z0-9])", path.read_text().split("make lock\n", 1)[1])
    assert all("--hash=sha256:" in block for block in blocks if "==" in block)


def test_both_locks_agree_on_shared_versions():
    runtime, dev = _pins(lock.RUNTIME_LOCK), _pins(lock.DEV_LOCK)
    assert {name: dev[name] for name in runtime} == runtime


def test_installs_come_from_the_locks():
    makefile = (ROOT / "Makefile").read_text()
    dockerfile = (ROOT / "deploy" / "Dockerfile").read_text()
    assert "--require-hashes --no-deps -r requirements-dev.lock" in makefile
    assert "$(PYTHON) deploy/lock.py check" in makefile
    assert "--require-hashes --no-deps -r requirements.lock" in dockerfile
    assert "make test" in (ROOT / ".ci" / "run").read_text()
