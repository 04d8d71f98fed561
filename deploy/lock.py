"""Locked installs: `python deploy/lock.py compile` (make lock) writes the lock files from
pyproject.toml; `python deploy/lock.py check` fails when pyproject's dependency lists changed
since (make lock-check, and every `make venv`).

- requirements.lock: the runtime dependencies and the optional extras in RUNTIME_EXTRAS (the
  Docker image);
- requirements-dev.lock: those and the dev extra (make venv, make test, .ci/run), the same
  versions as requirements.lock for what both hold.

Every line is pinned with hashes, from PyPI only, for Linux x86_64 and Python 3.11. torch is
left out, with the CUDA packages (nvidia-*, cuda-*, triton) that PyPI's Linux torch pulls in:
it is installed first, pinned (pyproject's torch==...), from the CPU or CUDA wheel index the
install chooses (Makefile, Dockerfile). Its CPU dependencies (sympy, networkx, ...) stay locked.

Standard library only, so it runs before any virtual environment exists; it needs uv (a dev
dependency, or on PATH, or UV=/path/to/uv) only to compile.
"""

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = ROOT / "pyproject.toml"
RUNTIME_LOCK = ROOT / "requirements.lock"
DEV_LOCK = ROOT / "requirements-dev.lock"
HASH_LINE = "# pyproject-dependencies-sha256: "
# Optional extras the locks (so the image and the tests) hold too: small, and each one off
# until a setting turns it on. `pip install visual-search` alone leaves them out.
RUNTIME_EXTRAS = ["otel"]
# Installed on their own, from the wheel index that picks CPU or CUDA (see the docstring).
LEFT_OUT = re.compile(r"^(torch|triton|nvidia-[a-z0-9-]+|cuda-[a-z0-9-]+)==", re.I)
COMPILE_ARGS = [
    "--generate-hashes",
    "--python-version",
    "3.11",
    "--python-platform",
    "x86_64-manylinux_2_28",
    "--index-url",
    "https://pypi.org/simple",
    "--custom-compile-command",
    "make lock",
    "--quiet",
]


def dependencies_digest(pyproject: Path = PYPROJECT) -> str:
    """What the locks were made from: the runtime, locked extras and dev dependency lists,
    nothing else of pyproject.toml (a changed linter setting needs no new lock)."""
    project = tomllib.loads(pyproject.read_text())["project"]
    extras = project.get("optional-dependencies", {})
    wanted = {
        "dependencies": project.get("dependencies", []),
        "dev": extras.get("dev", []),
        "requires-python": project.get("requires-python", ""),
        **{f"extra:{name}": extras.get(name, []) for name in RUNTIME_EXTRAS},
    }
    return hashlib.sha256(json.dumps(wanted, sort_keys=True).encode()).hexdigest()


def recorded_digest(lock: Path) -> str | None:
    if not lock.exists():
        return None
    for line in lock.read_text().splitlines():
        if line.startswith(HASH_LINE):
            return line[len(HASH_LINE) :].strip()
    return None


def stale_locks() -> list[str]:
    """The lock files that do not match pyproject.toml's dependencies (empty: all fresh)."""
    digest = dependencies_digest()
    return [lock.name for lock in (RUNTIME_LOCK, DEV_LOCK) if recorded_digest(lock) != digest]


def _uv() -> str:
    candidates = [os.environ.get("UV"), str(Path(sys.executable).parent / "uv"), shutil.which("uv")]
    candidates.append(str(ROOT / ".venv" / "bin" / "uv"))
    for candidate in candidates:
        if candidate and Path(candidate).is_file():
            return candidate
    raise SystemExit("uv is needed to compile the locks: pip install uv (a dev dependency)")


def _compile(extra_args: list[str], output: Path) -> None:
    subprocess.run(
        [_uv(), "pip", "compile", "pyproject.toml", *COMPILE_ARGS, *extra_args, "-o", str(output)],
        cwd=ROOT,
        check=True,
    )


def _without_left_out(text: str) -> tuple[str, list[str]]:
    """Drop the torch and CUDA requirement blocks (a block: the pin line and its indented
    hash and comment lines)."""
    kept: list[str] = []
    dropped: list[str] = []
    skipping = False
    for line in text.splitlines():
        if line and not line[0].isspace():
            skipping = bool(LEFT_OUT.match(line))
            if skipping:
                dropped.append(line.split(" ")[0])
        if not skipping:
            kept.append(line)
    return "\n".join(kept) + "\n", dropped


def _write(raw: Path, lock: Path, what: str, digest: str) -> None:
    body, dropped = _without_left_out(raw.read_text())
    header = (
        f"# {lock.name}: {what} of pyproject.toml, pinned with hashes (PyPI, Linux x86_64,\n"
        "# Python 3.11). Made by `make lock` (deploy/lock.py); do not edit by hand.\n"
        "# Left out, installed first from the CPU or CUDA wheel index: "
        + ", ".join(sorted(name.split("==")[0] for name in dropped))
        + "\n"
        + f"{HASH_LINE}{digest}\n"
    )
    lock.write_text(header + body)


def compile_locks() -> None:
    digest = dependencies_digest()
    with tempfile.TemporaryDirectory() as scratch:
        raw_dev = Path(scratch) / "dev.txt"
        raw_runtime = Path(scratch) / "runtime.txt"
        # uv keeps the versions an existing output file pins unless pyproject.toml needs
        # others: seeded with the current locks, a compile changes only what must change
        # (a new dependency does not upgrade everything else).
        for lock, raw in ((DEV_LOCK, raw_dev), (RUNTIME_LOCK, raw_runtime)):
            if lock.exists():
                shutil.copyfile(lock, raw)
        extras = [arg for name in RUNTIME_EXTRAS for arg in ("--extra", name)]
        _compile([*extras, "--extra", "dev"], raw_dev)
        # The runtime lock takes the dev lock's versions, so both install the same thing.
        pins = Path(scratch) / "pins.txt"
        pins.write_text(
            "\n".join(
                line.split(" ")[0]
                for line in raw_dev.read_text().splitlines()
                if "==" in line and not line[0].isspace() and not line.startswith("#")
            )
            + "\n"
        )
        _compile([*extras, "--constraint", str(pins)], raw_runtime)
        # uv names the constraint file in its "via" notes; a scratch path would change the
        # lock on every compile.
        raw_runtime.write_text(raw_runtime.read_text().replace(str(pins), DEV_LOCK.name))
        _write(raw_dev, DEV_LOCK, "runtime and dev dependencies", digest)
        _write(raw_runtime, RUNTIME_LOCK, "runtime dependencies", digest)
    print(f"wrote {RUNTIME_LOCK.name} and {DEV_LOCK.name}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("action", choices=["compile", "check"])
    action = parser.parse_args().action
    if action == "compile":
        compile_locks()
        return
    stale = stale_locks()
    if stale:
        raise SystemExit(
            f"{', '.join(stale)} do not match pyproject.toml's dependencies: run `make lock`"
        )
    print("the lock files match pyproject.toml")


if __name__ == "__main__":
    main()
