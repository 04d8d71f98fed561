"""The image: Dockerfile and its context filter (read, not built: no Docker engine here), the
entry point's roles (run, with the programs they start replaced by recorders on PATH), and
the model download planning."""

from __future__ import annotations

import os
import re
import stat
import subprocess
import tomllib
from pathlib import Path
from types import SimpleNamespace

import pytest

from tests.deploy.envvars import parse_env_file
from tests.deploy.manifests import (
    DEPLOY,
    DOCKERFILE,
    ENTRYPOINT,
    ENV_EXAMPLE,
    ROOT,
    containers,
    k8s_documents,
    k8s_objects,
)

DOCKERIGNORE = DEPLOY / "Dockerfile.dockerignore"


# --- Dockerfile


def _instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    logical, current = [], ""
    for line in text.splitlines():
        stripped = line.strip()
        if not current and (not stripped or stripped.startswith("#")):
            continue
        if stripped.startswith("#"):
            continue
        current += " " + stripped.removesuffix("\\").strip()
        if not stripped.endswith("\\"):
            logical.append(current.strip())
            current = ""
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in logical]


def _stages() -> tuple[list[tuple[str, str]], dict[str, list[tuple[str, str]]]]:
    """Instructions before the first FROM, and each stage's instructions by stage name."""
    preamble: list[tuple[str, str]] = []
    stages: dict[str, list[tuple[str, str]]] = {}
    current: list[tuple[str, str]] | None = None
    for instruction, args in _instructions(DOCKERFILE.read_text()):
        if instruction == "FROM":
            name = args.split(" AS ")[1].strip() if " AS " in args else str(len(stages))
            current = stages.setdefault(name, [])
        (preamble if current is None else current).append((instruction, args))
    return preamble, stages


def _arg_default(instructions: list[tuple[str, str]], name: str) -> str:
    for instruction, args in instructions:
        if instruction == "ARG" and args.startswith(f"{name}="):
            return args.split("=", 1)[1]
    raise AssertionError(f"no ARG {name}")


def _text(instructions: list[tuple[str, str]], kind: str) -> str:
    return "\n".join(args for instruction, args in instructions if instruction == kind)


def test_a_builder_stage_and_a_slim_runtime_stage():
    preamble, stages = _stages()
    assert list(stages) == ["builder", "runtime"]
    assert _arg_default(preamble, "PYTHON_IMAGE") == "python:3.11-slim"
    # Both stages on the same Python, so that the venv's interpreter links hold.
    assert [stage[0] for stage in stages.values()] == [
        ("FROM", "${PYTHON_IMAGE} AS builder"),
        ("FROM", "${PYTHON_IMAGE} AS runtime"),
    ]


def test_the_runtime_stage_has_no_compilers_pip_or_caches():
    runtime = _stages()[1]["runtime"]
    run = _text(runtime, "RUN")
    assert not re.search(r"apt-get install|build-essential|gcc|pip install|pip3 install", run)
    copies = _text(runtime, "COPY")
    assert "--from=builder /opt/venv /opt/venv" in copies
    builder_env = _text(_stages()[1]["builder"], "ENV")
    assert "PIP_NO_CACHE_DIR=1" in builder_env


def test_the_runtime_runs_as_the_user_the_manifests_expect():
    runtime = _stages()[1]["runtime"]
    uid = _arg_default(runtime, "APP_UID")
    assert _text(runtime, "USER") == "app"
    assert '--uid "${APP_UID}"' in _text(runtime, "RUN")
    for _, obj in k8s_documents():
        if obj["kind"] in ("Deployment", "Job"):
            assert obj["spec"]["template"]["spec"]["securityContext"]["runAsUser"] == int(uid)


def test_torch_is_the_cpu_build_of_the_pinned_version_unless_asked_otherwise():
    builder = _stages()[1]["builder"]
    assert _arg_default(builder, "TORCH_INDEX_URL") == "https://download.pytorch.org/whl/cpu"
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    pins = [dep for dep in pyproject["project"]["dependencies"] if dep.startswith("torch==")]
    assert pins == [f"torch=={_arg_default(builder, 'TORCH_VERSION')}"]
    assert 'pip install "torch==${TORCH_VERSION}" --index-url "${TORCH_INDEX_URL}"' in _text(
        builder, "RUN"
    )


def test_model_weights_live_on_a_volume_not_in_the_image():
    preamble, stages = _stages()
    everything = "\n".join(args for stage in stages.values() for _, args in stage)
    assert "HF_HOME=/models" in _text(stages["runtime"], "ENV")
    assert _text(stages["runtime"], "VOLUME") == '["/models"]'
    assert not re.search(
        r"download_models|snapshot_download|from_pretrained", _text(stages["builder"], "RUN")
    )
    assert "download_models.py" in everything  # copied, to run at start


def test_static_files_are_collected_at_build_where_settings_look():
    stages = _stages()[1]
    assert "STATIC_ROOT=/app/staticfiles" in _text(stages["builder"], "RUN")
    assert "collectstatic --noinput" in _text(stages["builder"], "RUN")
    assert "STATIC_ROOT=/app/staticfiles" in _text(stages["runtime"], "ENV")
    assert parse_env_file(ENV_EXAMPLE)["STATIC_ROOT"] == "/app/staticfiles"
    assert (
        k8s_objects("ConfigMap")["visual-search-config"]["data"]["STATIC_ROOT"]
        == "/app/staticfiles"
    )


def test_the_entrypoint_is_the_script_and_web_the_default_role():
    runtime = _stages()[1]["runtime"]
    assert _text(runtime, "ENTRYPOINT") == '["/app/deploy/entrypoint.sh"]'
    assert _text(runtime, "CMD") == '["web"]'


def _ignore_regex(pattern: str) -> re.Pattern[str]:
    out = ""
    index = 0
    while index < len(pattern):
        if pattern.startswith("**/", index):
            out, index = out + "(?:.*/)?", index + 3
        elif pattern.startswith("**", index):
            out, index = out + ".*", index + 2
        elif pattern[index] == "*":
            out, index = out + "[^/]*", index + 1
        elif pattern[index] == "?":
            out, index = out + "[^/]", index + 1
        else:
            out, index = out + re.escape(pattern[index]), index + 1
    return re.compile(out + r"\Z")


def _sent_to_builder(path: str) -> bool:
    """Whether BuildKit sends `path` (relative to the context) under Dockerfile.dockerignore:
    the last pattern matching the path or one of its parents decides."""
    parts = path.split("/")
    candidates = ["/".join(parts[: n + 1]) for n in range(len(parts))]
    included = True
    for raw in DOCKERIGNORE.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        negated = line.startswith("!")
        regex = _ignore_regex(line.lstrip("!").strip("/"))
        if any(regex.match(candidate) for candidate in candidates):
            included = negated
    return included


def _copied_sources() -> list[str]:
    sources = []
    for stage in _stages()[1].values():
        for instruction, args in stage:
            if instruction != "COPY" or "--from=" in args:
                continue
            words = [word for word in args.split() if not word.startswith("--")]
            sources += words[:-1]
    return sources


def test_every_copied_path_exists_and_passes_the_context_filter():
    sources = _copied_sources()
    assert "pyproject.toml" in sources and "deploy/entrypoint.sh" in sources
    for source in sources:
        path = ROOT / source
        assert path.exists(), source
        files = (
            [path]
            if path.is_file()
            else [p for p in path.rglob("*.py") if "__pycache__" not in p.parts]
        )
        assert files, source
        for file in files:
            assert _sent_to_builder(str(file.relative_to(ROOT))), file


@pytest.mark.parametrize(
    "path",
    [
        ".env",
        "deploy/.env",
        "var/demo.sqlite3",
        "tests/conftest.py",
        ".git/config",
        "config/__pycache__/settings.cpython-311.pyc",
    ],
)
def test_the_context_filter_keeps_secrets_and_clutter_out(path):
    assert not _sent_to_builder(path)


# --- Entry point


def test_the_entrypoint_is_executable_bash_with_valid_syntax():
    assert ENTRYPOINT.stat().st_mode & stat.S_IXUSR
    assert subprocess.run(["bash", "-n", str(ENTRYPOINT)], capture_output=True).returncode == 0


def test_the_entrypoint_without_a_role_prints_the_roles():
    result = subprocess.run([str(ENTRYPOINT)], capture_output=True, text=True, timeout=10)
    assert result.returncode == 64
    for role in (
        "web",
        "worker-embeddings",
        "worker",
        "worker-training",
        "beat",
        "flower",
        "migrate",
        "download-models",
        "manage",
    ):
        assert f"entrypoint.sh {role}" in result.stderr


@pytest.fixture
def recorders(tmp_path):
    """celery, gunicorn and python replaced by scripts that print how they were called."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for program in ("celery", "gunicorn", "python"):
        script = bin_dir / program
        script.write_text(
            f'#!/bin/sh\necho "{program} $*"\necho "metrics-dir=${{PROMETHEUS_MULTIPROC_DIR:-}}"\n'
        )
        script.chmod(0o755)
    return bin_dir


def _run_role(recorders: Path, *args: str, **env: str) -> list[str]:
    base = {
        "PATH": f"{recorders}{os.pathsep}{os.environ['PATH']}",
        "HOME": os.environ.get("HOME", "/tmp"),
        # Not the image's default under /tmp: this machine's /tmp is shared.
        "PROMETHEUS_MULTIPROC_DIR": str(recorders.parent / "metrics"),
    }
    result = subprocess.run(
        [str(ENTRYPOINT), *args],
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=10,
        cwd="/",
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


@pytest.mark.parametrize(
    ("args", "env", "expected"),
    [
        (
            ["worker-embeddings"],
            {"EMBEDDING_QUEUE": "gpu-embeddings"},
            "celery -A config worker -Q gpu-embeddings --prefetch-multiplier 1 --loglevel INFO",
        ),
        (
            ["worker-training"],
            {"FINETUNE_QUEUE": "gpu-training"},
            "celery -A config worker -Q gpu-training --concurrency 1 --prefetch-multiplier 1"
            " --loglevel INFO",
        ),
        (
            ["worker", "--concurrency", "8"],
            {"LOG_LEVEL": "WARNING"},
            "celery -A config worker -Q default --loglevel WARNING --concurrency 8",
        ),
        (
            ["beat"],
            {},
            "celery -A config beat --enable-remote-control"
            " --schedule /tmp/celerybeat-schedule --loglevel INFO",
        ),
        (["flower"], {}, "celery -A config flower"),
        (["migrate"], {}, "python manage.py migrate --noinput"),
        (["download-models"], {}, "python deploy/download_models.py"),
        (["manage", "reindex", "--model", "x"], {}, "python manage.py reindex --model x"),
        (["web"], {}, "gunicorn -c deploy/gunicorn.conf.py config.wsgi"),
    ],
)
def test_each_role_starts_its_program(recorders, args, env, expected):
    assert _run_role(recorders, *args, **env)[0] == expected


def test_the_default_queue_worker_consumes_the_queue_celery_routes_to_by_default():
    assert re.search(r'task_default_queue="default"', (ROOT / "config" / "celery.py").read_text())


def test_web_migrates_first_only_when_asked(recorders):
    assert (
        _run_role(recorders, "web", MIGRATE_ON_START="true")[0]
        == "python manage.py migrate --noinput"
    )
    assert _run_role(recorders, "web", MIGRATE_ON_START="false")[0].startswith("gunicorn ")


@pytest.mark.parametrize("role", ["web", "worker-embeddings", "worker"])
def test_metric_processes_get_an_empty_shared_directory(recorders, tmp_path, role):
    metrics_dir = tmp_path / "prometheus"
    metrics_dir.mkdir()
    (metrics_dir / "counter_1.db").write_bytes(b"stale")

    lines = _run_role(recorders, role, PROMETHEUS_MULTIPROC_DIR=str(metrics_dir))

    assert lines[1] == f"metrics-dir={metrics_dir}"
    assert list(metrics_dir.iterdir()) == []


def test_any_other_command_runs_as_is(recorders):
    assert _run_role(recorders, "echo", "hello") == ["hello"]


def test_compose_and_kubernetes_start_only_roles_the_entrypoint_knows():
    roles = set()
    for _, obj in k8s_documents():
        if obj["kind"] in ("Deployment", "Job"):
            roles |= {c["args"][0] for c in containers(obj)}
    help_text = subprocess.run([str(ENTRYPOINT)], capture_output=True, text=True).stderr
    assert roles == {"web", "worker-embeddings", "worker", "beat", "migrate", "download-models"}
    assert all(f"entrypoint.sh {role} " in help_text for role in roles)


# --- Model download planning


def _load_download_models():
    import importlib.util

    spec = importlib.util.spec_from_file_location("download_models", DEPLOY / "download_models.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_models_to_fetch_skips_local_directories_and_unset_models(tmp_path):
    module = _load_download_models()
    config = SimpleNamespace(
        CLIP_MODEL="openai/clip-vit-base-patch32",
        CLIP_MODEL_REVISION="3d74acf9a28c67741b2f4f2ea7635f0aaf6f0268",
        TEXT_MODEL="",
        RERANK_LOCAL_MODEL=str(tmp_path),  # mounted weights: nothing to fetch
    )

    assert module.models_to_fetch(config) == [
        ("openai/clip-vit-base-patch32", "3d74acf9a28c67741b2f4f2ea7635f0aaf6f0268")
    ]


def test_models_to_fetch_lists_each_hub_model_once():
    module = _load_download_models()
    config = SimpleNamespace(
        CLIP_MODEL="org/clip",
        CLIP_MODEL_REVISION="",
        TEXT_MODEL="org/text",
        RERANK_LOCAL_MODEL="org/text",
    )

    assert module.models_to_fetch(config) == [("org/clip", None), ("org/text", None)]


def test_models_to_fetch_includes_the_detector_when_it_is_on():
    module = _load_download_models()
    config = SimpleNamespace(
        CLIP_MODEL="org/clip",
        CLIP_MODEL_REVISION="",
        TEXT_MODEL="",
        RERANK_LOCAL_MODEL="",
        DETECTOR_ENABLED=True,
        DETECTOR_MODEL="org/detector",
        DETECTOR_MODEL_REVISION="abc",
    )

    assert module.models_to_fetch(config) == [("org/clip", None), ("org/detector", "abc")]
    config.DETECTOR_ENABLED = False
    assert module.models_to_fetch(config) == [("org/clip", None)]


def test_extra_models_can_be_fetched_ahead_of_an_upgrade():
    module = _load_download_models()
    config = SimpleNamespace(
        CLIP_MODEL="org/clip", CLIP_MODEL_REVISION="abc", TEXT_MODEL="", RERANK_LOCAL_MODEL=""
    )

    assert module.models_to_fetch(config, ["org/clip-large@def", "org/other"]) == [
        ("org/clip", "abc"),
        ("org/clip-large", "def"),
        ("org/other", None),
    ]
    with pytest.raises(ValueError):
        module.parse_model("@abc")
