"""The Python client is generated from the committed schema, never edited by hand.

`python clients/generate.py write` (make client) rewrites clients/python/visual_search_client/
from docs/openapi.yaml; `python clients/generate.py check` fails when the committed package is
not what the schema generates now (tests/clients runs the same check), or when the generator
left an operation of the schema out.

openapi-python-client (a pinned dev dependency) formats its output with ruff (locked too); both
are taken from the environment that runs this script, so the output depends only on the
locks, the schema and clients/python/openapi-generator.yaml. Standard library only.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = ROOT / "docs" / "openapi.yaml"
CLIENT = ROOT / "clients" / "python"
PACKAGE = "visual_search_client"
CONFIG = CLIENT / "openapi-generator.yaml"
OPERATION_ID = re.compile(r"^\s+operationId:\s*(\S+)\s*$", re.M)


def _generator() -> Path:
    """The generator of this environment (a virtual environment's bin/ first, then PATH)."""
    candidates = [
        os.environ.get("OPENAPI_PYTHON_CLIENT"),
        str(Path(sys.executable).parent / "openapi-python-client"),
        shutil.which("openapi-python-client"),
    ]
    for candidate in candidates:
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    raise SystemExit(
        "openapi-python-client is missing: it is a dev dependency (make venv installs it)"
    )


def generate(into: Path) -> Path:
    """Generate the package into the folder `into` (a scratch one) and return its path."""
    generator = _generator()
    tools = generator.parent
    if not (tools / "ruff").is_file():
        raise SystemExit(f"ruff is missing beside {generator}: the generator formats with it")
    # The generator runs ruff inside the package; ruff then finds this copy, the settings the
    # committed package was formatted and checked with.
    shutil.copy(CLIENT / "pyproject.toml", into / "pyproject.toml")
    package = into / PACKAGE
    command = [
        str(generator),
        "generate",
        "--path",
        str(SCHEMA),
        "--meta",
        "none",
        "--config",
        str(CONFIG),
        "--output-path",
        str(package),
    ]
    environment = {**os.environ, "PATH": f"{tools}{os.pathsep}{os.environ.get('PATH', '')}"}
    done = subprocess.run(command, cwd=into, env=environment, capture_output=True, text=True)
    if done.returncode != 0 or not package.is_dir():
        raise SystemExit(f"openapi-python-client failed:\n{done.stdout}\n{done.stderr}")
    return package


def package_files(package: Path) -> dict[str, bytes]:
    return {
        path.relative_to(package).as_posix(): path.read_bytes()
        for path in sorted(package.rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts
    }


def differences(committed: Path, fresh: Path) -> list[str]:
    """What differs between the committed package and a fresh one, file by file."""
    old, new = package_files(committed), package_files(fresh)
    found = []
    for name in sorted(set(old) | set(new)):
        if name not in old:
            found.append(f"{name}: not committed")
        elif name not in new:
            found.append(f"{name}: no longer generated")
        elif old[name] != new[name]:
            found.append(f"{name}: differs")
    return found


def missing_operations(package: Path) -> list[str]:
    """The schema's operations that have no module in the package (the generator skips, with
    a warning only, what it cannot express)."""
    generated = {path.stem for path in (package / "api").rglob("*.py")}
    return sorted(set(OPERATION_ID.findall(SCHEMA.read_text())) - generated)


def write() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        fresh = generate(Path(scratch))
        missing = missing_operations(fresh)
        if missing:
            raise SystemExit(f"the generator left out {missing}: see its warnings above")
        target = CLIENT / PACKAGE
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(fresh, target, ignore=shutil.ignore_patterns("__pycache__"))
    print(f"wrote {target.relative_to(ROOT)} from {SCHEMA.relative_to(ROOT)}")


def check() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        fresh = generate(Path(scratch))
        stale = differences(CLIENT / PACKAGE, fresh)
    missing = missing_operations(CLIENT / PACKAGE)
    if stale or missing:
        raise SystemExit(
            f"the Python client is out of date ({stale}; operations left out: {missing}): "
            "run `make client`"
        )
    print("the Python client matches docs/openapi.yaml")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("action", choices=["write", "check"])
    {"write": write, "check": check}[parser.parse_args().action]()


if __name__ == "__main__":
    main()
