"""Every environment variable the code reads is documented and deployed, with a usable value.

The list comes from parsing the code (tests/deploy/envvars.py), not from a copy of it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from tests.deploy.envvars import (
    ROOT,
    STRICT_KINDS,
    all_reads,
    names_by_kind,
    parse_env_file,
    scan_python,
)
from tests.deploy.manifests import ENV_EXAMPLE, k8s_objects

# Not configuration: the entry point sets it per role, and a present-but-empty value would make
# prometheus_client write its files into the working directory.
ENTRYPOINT_MANAGED = {"PROMETHEUS_MULTIPROC_DIR"}


def _configmap() -> dict[str, str]:
    return k8s_objects("ConfigMap")["visual-search-config"]["data"]


def _secret() -> dict[str, str]:
    return k8s_objects("Secret")["visual-search-secrets"]["stringData"]


def _settings_in_subprocess(environment: dict[str, str]) -> dict:
    """Import config.settings in a clean process with exactly this environment."""
    code = textwrap.dedent(
        """
        import json
        from config import settings as s
        print(json.dumps({
            "PRODUCTION": s.PRODUCTION,
            "ENGINE": s.DATABASES["default"]["ENGINE"],
            "BROKER": s.CELERY_BROKER_URL,
            "EAGER": s.CELERY_TASK_ALWAYS_EAGER,
            "VECTOR_BACKEND": s.VECTOR_BACKEND,
            "SHARDS": s.QDRANT_SHARD_NUMBER,
            "REPLICAS": s.QDRANT_REPLICATION_FACTOR,
            "METRICS_ENABLED": s.METRICS_ENABLED,
        }))
        """
    )
    base = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp")}
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**base, **environment},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_scanner_sees_every_kind_of_read(tmp_path, monkeypatch):
    source = tmp_path / "sample.py"
    source.write_text(
        textwrap.dedent(
            """
            import os
            from os import environ
            A = env.int("A_INT", default=1)
            B = env("B_PLAIN")
            C = os.environ.get("C_GET", "")
            D = os.environ["D_ITEM"]
            E = os.getenv("E_GETENV")
            F = "F_IN" in os.environ
            G = environ.get("G_FROM_IMPORT")
            H = [os.environ.get(n) for n in ("H_ONE", "H_TWO")]
            os.environ.setdefault("NOT_A_READ", "x")
            os.environ["NOT_A_READ_EITHER"] = "y"
            env.read_env("/nowhere")
            I = os.environ.get(some_name)
            """
        )
    )
    monkeypatch.setattr("tests.deploy.envvars.ROOT", tmp_path)
    reads, dynamic = scan_python(source)
    assert {read.name: read.kind for read in reads} == {
        "A_INT": "int",
        "B_PLAIN": "str",
        "C_GET": "os",
        "D_ITEM": "os",
        "E_GETENV": "os",
        "F_IN": "os",
        "G_FROM_IMPORT": "os",
        "H_ONE": "os",
        "H_TWO": "os",
    }
    assert [item.where for item in dynamic] == ["sample.py:15"]


def test_scanner_reads_the_settings_module():
    kinds = names_by_kind()
    assert kinds["DATABASE_URL"] == {"db_url"}
    assert kinds["DJANGO_SECRET_KEY"] == {"str"}
    assert "int" in kinds["QDRANT_SHARD_NUMBER"]
    assert "GUNICORN_WORKERS" in kinds  # deploy/gunicorn.conf.py
    assert "MIGRATE_ON_START" in kinds  # deploy/entrypoint.sh


def test_every_read_names_its_variable_literally():
    # A computed name cannot be checked here, nor found by someone grepping for it.
    _, dynamic = all_reads()
    assert [item.where for item in dynamic] == []


def test_every_variable_is_in_env_example():
    documented = set(parse_env_file(ENV_EXAMPLE))
    missing = set(names_by_kind()) - documented - ENTRYPOINT_MANAGED
    assert sorted(missing) == []


def test_every_variable_is_in_the_configmap_or_the_secret():
    configmap, secret = set(_configmap()), set(_secret())
    assert configmap & secret == set()
    missing = set(names_by_kind()) - configmap - secret - ENTRYPOINT_MANAGED
    assert sorted(missing) == []


def test_entrypoint_managed_variables_are_explained_not_set():
    text = ENV_EXAMPLE.read_text()
    for name in ENTRYPOINT_MANAGED:
        assert name not in parse_env_file(ENV_EXAMPLE)
        assert name not in _configmap() and name not in _secret()
        assert f"# {name} is set by deploy/entrypoint.sh" in text


@pytest.mark.parametrize("source", ["env.example", "configmap"])
def test_typed_settings_have_values_where_they_are_not_secrets(source):
    # An empty value is not "use the default": int("") fails and a bool becomes False.
    values = parse_env_file(ENV_EXAMPLE) if source == "env.example" else _configmap()
    secrets = set(_secret())
    empty = sorted(
        name
        for name, kinds in names_by_kind().items()
        if kinds & STRICT_KINDS and name in values and not values[name] and name not in secrets
    )
    assert empty == []


def test_secret_values_are_empty_in_env_example():
    values = parse_env_file(ENV_EXAMPLE)
    secret_material = {
        "DJANGO_SECRET_KEY",
        "AWS_SECRET_ACCESS_KEY",
        "RERANK_API_KEY",
        "METRICS_TOKEN",
        "QDRANT_API_KEY",
    }
    assert {name for name in secret_material if values[name]} == set()


def _filled(values: dict[str, str], filler: dict[str, str]) -> dict[str, str]:
    return {name: value or filler.get(name, "") for name, value in values.items()}


def test_env_example_starts_the_production_settings():
    # Secrets as a user would fill them, the in-network addresses as compose sets them.
    environment = _filled(
        parse_env_file(ENV_EXAMPLE),
        {
            "DJANGO_SECRET_KEY": "x" * 50,
            "DATABASE_URL": "postgres://visual_search:pw@postgres:5432/visual_search",
            "REDIS_URL": "redis://redis:6379/0",
            "CELERY_BROKER_URL": "redis://redis:6379/0",
            "QDRANT_URL": "http://qdrant-1:6333",
        },
    )
    settings = _settings_in_subprocess(environment)
    assert settings == {
        "PRODUCTION": True,
        "ENGINE": "django.db.backends.postgresql",
        "BROKER": "redis://redis:6379/0",
        "EAGER": False,
        "VECTOR_BACKEND": "qdrant",
        "SHARDS": 2,
        "REPLICAS": 2,
        "METRICS_ENABLED": True,
    }


def test_configmap_and_secret_start_the_production_settings():
    environment = {**_configmap(), **_filled(_secret(), {"DJANGO_SECRET_KEY": "x" * 50})}
    settings = _settings_in_subprocess(environment)
    assert settings["PRODUCTION"] is True
    assert settings["ENGINE"] == "django.db.backends.postgresql"
    assert settings["EAGER"] is False
    assert (settings["SHARDS"], settings["REPLICAS"]) == (2, 2)
