"""Find every environment variable the code reads, by parsing it, so the list cannot drift.

Reads seen:
- django-environ calls on the settings' `env` object: env.str("NAME", ...), env.int(...),
  env.bool(...), env.list(...), env.float(...), env.db_url(...), env("NAME"), ...
- os.environ.get("NAME"), os.environ["NAME"] (read, not assigned), os.getenv("NAME"),
  "NAME" in os.environ, and the same through `from os import environ`.
- ${NAME} and ${NAME:-default} in the entry point shell script.
Writes (os.environ.setdefault, os.environ["NAME"] = ...) are not reads.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOURCE_PACKAGES = ("config", "catalog", "search", "workers", "frontend")
DEPLOY_PYTHON = ("deploy/gunicorn.conf.py", "deploy/download_models.py")
ENTRYPOINT = ROOT / "deploy" / "entrypoint.sh"

# django-environ casts whose empty value is not the setting's empty value: "" fails int() and
# float(), turns a bool into False and a database URL into an engine-less dict.
STRICT_KINDS = frozenset({"int", "float", "bool", "db_url", "url", "json", "decimal"})


@dataclass(frozen=True)
class EnvRead:
    name: str
    kind: str  # the django-environ cast ("str", "int", ...), "os" or "shell"
    where: str  # path:line


@dataclass(frozen=True)
class DynamicRead:
    where: str


def _is_os_environ(node: ast.AST) -> bool:
    if isinstance(node, ast.Attribute) and node.attr == "environ":
        return isinstance(node.value, ast.Name) and node.value.id == "os"
    return isinstance(node, ast.Name) and node.id == "environ"


def _first_arg(call: ast.Call) -> ast.AST | None:
    if call.args:
        return call.args[0]
    for keyword in call.keywords:
        if keyword.arg in ("var", "key"):
            return keyword.value
    return None


_ENV_METHODS_NOT_READS = frozenset({"read_env", "smart_cast", "parse_value", "escape_proxy"})


def _call_kind(func: ast.AST) -> str | None:
    """The kind of environment read a call is, or None when it is not one."""
    if isinstance(func, ast.Name) and func.id == "env":
        return "str"  # env("NAME")
    if not isinstance(func, ast.Attribute):
        return None
    if isinstance(func.value, ast.Name) and func.value.id == "env":
        return None if func.attr in _ENV_METHODS_NOT_READS else func.attr  # env.int("NAME")
    if func.attr == "get" and _is_os_environ(func.value):
        return "os"  # os.environ.get("NAME")
    if func.attr == "getenv" and isinstance(func.value, ast.Name) and func.value.id == "os":
        return "os"  # os.getenv("NAME")
    return None


def _literal_loops(tree: ast.AST) -> list[tuple[str, list[str], int, int]]:
    """(loop variable, its literal string values, first line, last line) of each loop or
    comprehension that iterates over a literal tuple or list of strings."""
    found = []
    for node in ast.walk(tree):
        pairs: list[tuple[ast.AST, ast.AST]] = []
        if isinstance(node, ast.For):
            pairs = [(node.target, node.iter)]
        elif isinstance(node, ast.GeneratorExp | ast.ListComp | ast.SetComp | ast.DictComp):
            pairs = [(gen.target, gen.iter) for gen in node.generators]
        for target, iterable in pairs:
            if not isinstance(target, ast.Name) or not isinstance(iterable, ast.Tuple | ast.List):
                continue
            values = [elt.value for elt in iterable.elts if isinstance(elt, ast.Constant)]
            if (
                values
                and len(values) == len(iterable.elts)
                and all(isinstance(value, str) for value in values)
            ):
                last = getattr(node, "end_lineno", None) or node.lineno
                found.append((target.id, values, node.lineno, last))
    return found


def scan_python(path: Path) -> tuple[list[EnvRead], list[DynamicRead]]:
    tree = ast.parse(path.read_text(), filename=str(path))
    rel = path.relative_to(ROOT)
    reads: list[EnvRead] = []
    dynamic: list[DynamicRead] = []

    loops = _literal_loops(tree)

    def record(name_node: ast.AST | None, kind: str, line: int) -> None:
        where = f"{rel}:{line}"
        if isinstance(name_node, ast.Constant) and isinstance(name_node.value, str):
            reads.append(EnvRead(name_node.value, kind, where))
            return
        if isinstance(name_node, ast.Name):
            # `for name in ("A", "B"): os.environ.get(name)` and its comprehension form.
            for target, values, first, last in loops:
                if target == name_node.id and first <= line <= last:
                    reads.extend(EnvRead(value, kind, where) for value in values)
                    return
        dynamic.append(DynamicRead(where))

    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            kind = _call_kind(node.func)
            if kind:
                record(_first_arg(node), kind, node.lineno)
        elif (
            isinstance(node, ast.Subscript)
            and isinstance(node.ctx, ast.Load)
            and _is_os_environ(node.value)
        ):
            record(node.slice, "os", node.lineno)
        elif (
            isinstance(node, ast.Compare)
            and any(isinstance(op, ast.In | ast.NotIn) for op in node.ops)
            and any(_is_os_environ(comparator) for comparator in node.comparators)
        ):
            record(node.left, "os", node.lineno)
    return reads, dynamic


def python_files() -> list[Path]:
    files: list[Path] = []
    for package in SOURCE_PACKAGES:
        files += sorted((ROOT / package).rglob("*.py"))
    files += [ROOT / name for name in DEPLOY_PYTHON]
    return [path for path in files if path.exists()]


_SHELL_VAR = re.compile(r"\$\{([A-Z][A-Z0-9_]*)")
# Set by bash itself or the container runtime, not configuration.
_SHELL_OWN = frozenset({"BASH_SOURCE", "HOSTNAME", "HOME", "PATH", "PWD"})


def scan_shell(path: Path) -> list[EnvRead]:
    reads = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if line.lstrip().startswith("#"):
            continue
        for match in _SHELL_VAR.finditer(line):
            if match.group(1) in _SHELL_OWN:
                continue
            reads.append(EnvRead(match.group(1), "shell", f"{path.relative_to(ROOT)}:{number}"))
    return reads


@cache
def all_reads() -> tuple[tuple[EnvRead, ...], tuple[DynamicRead, ...]]:
    reads: list[EnvRead] = []
    dynamic: list[DynamicRead] = []
    for path in python_files():
        found, unknown = scan_python(path)
        reads += found
        dynamic += unknown
    reads += scan_shell(ENTRYPOINT)
    return tuple(reads), tuple(dynamic)


def names_by_kind() -> dict[str, set[str]]:
    """Every variable read, with the casts it is read with."""
    reads, _ = all_reads()
    kinds: dict[str, set[str]] = {}
    for read in reads:
        kinds.setdefault(read.name, set()).add(read.kind)
    return kinds


def parse_env_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines of a dotenv file; comments and blank lines skipped, no quoting games."""
    values: dict[str, str] = {}
    for number, raw in enumerate(path.read_text().splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        if not sep or not re.fullmatch(r"[A-Z][A-Z0-9_]*", key):
            raise ValueError(f"{path.name}:{number}: not a KEY=VALUE line: {raw!r}")
        if key in values:
            raise ValueError(f"{path.name}:{number}: {key} is set twice")
        values[key] = value
    return values


if __name__ == "__main__":
    reads, dynamic = all_reads()
    for name, kinds in sorted(names_by_kind().items()):
        print(f"{name:40} {','.join(sorted(kinds))}")
    for item in dynamic:
        print("dynamic read at", item.where)
