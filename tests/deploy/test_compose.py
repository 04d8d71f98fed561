"""deploy/compose.yaml: valid against the Compose Specification, and wired together.

The schema is the compose-spec JSON schema (Apache-2.0) that check-jsonschema vendors as
check_jsonschema/builtin_schemas/vendor/compose-spec.json, so it is read offline.
"""

from __future__ import annotations

import importlib.resources
import json
import re

import jsonschema
import pytest

from tests.deploy.envvars import parse_env_file
from tests.deploy.manifests import COMPOSE, ENV_EXAMPLE, compose, entrypoint_roles

APP_IMAGE = "${VISUAL_SEARCH_IMAGE:-visual-search:latest}"


def _compose_schema() -> dict:
    vendor = importlib.resources.files("check_jsonschema.builtin_schemas.vendor")
    return json.loads((vendor / "compose-spec.json").read_text())


def _services() -> dict[str, dict]:
    return compose()["services"]


def _one_shot(service: dict) -> bool:
    return service.get("restart") == "no"


def _qdrant_services() -> dict[str, dict]:
    return {
        name: s
        for name, s in _services().items()
        if s.get("image", "").startswith("qdrant/qdrant:")
    }


def test_compose_file_follows_the_compose_specification():
    validator = jsonschema.Draft202012Validator(_compose_schema())
    errors = [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in validator.iter_errors(compose())
    ]
    assert errors == []


@pytest.mark.parametrize("name", sorted(n for n, s in _services().items() if not _one_shot(s)))
def test_every_long_running_service_has_a_health_check(name):
    service = _services()[name]
    assert service["restart"] == "unless-stopped"
    healthcheck = service["healthcheck"]
    assert not healthcheck.get("disable", False)
    assert healthcheck["test"][0] in ("CMD", "CMD-SHELL")


def test_dependencies_wait_for_the_right_condition():
    services = _services()
    for name, service in services.items():
        for dependency, rule in service.get("depends_on", {}).items():
            if _one_shot(services[dependency]):
                assert rule["condition"] == "service_completed_successfully", (name, dependency)
            else:
                assert rule["condition"] == "service_healthy", (name, dependency)
                assert "healthcheck" in services[dependency]


def test_three_qdrant_peers_form_one_cluster():
    peers = _qdrant_services()
    assert len(peers) == 3
    for peer in peers.values():
        assert peer["environment"]["QDRANT__CLUSTER__ENABLED"] == "true"
    bootstrap = [name for name, peer in peers.items() if "--bootstrap" not in peer["command"]]
    assert bootstrap == ["qdrant-1"]
    for name, peer in peers.items():
        command = peer["command"]
        # Each peer announces its own p2p address; the others join through the first one's.
        assert command[command.index("--uri") + 1] == f"http://{name}:6335"
        if name != "qdrant-1":
            assert command[command.index("--bootstrap") + 1] == "http://qdrant-1:6335"
            assert peer["depends_on"]["qdrant-1"]["condition"] == "service_healthy"
    storage = [
        volume
        for peer in peers.values()
        for volume in peer["volumes"]
        if volume.endswith(":/qdrant/storage")
    ]
    assert len(set(storage)) == 3


def test_collections_are_replicated_across_the_peers():
    env = parse_env_file(ENV_EXAMPLE)
    assert int(env["QDRANT_SHARD_NUMBER"]) >= 2
    assert 2 <= int(env["QDRANT_REPLICATION_FACTOR"]) <= len(_qdrant_services())


@pytest.mark.parametrize(
    ("service", "role"),
    [
        ("migrate", "migrate"),
        ("models", "download-models"),
        ("web", "web"),
        ("worker-embeddings", "worker-embeddings"),
        ("worker", "worker"),
        ("beat", "beat"),
        ("flower", "flower"),
    ],
)
def test_application_services_run_an_entrypoint_role_of_the_app_image(service, role):
    config = _services()[service]
    assert config["image"] == APP_IMAGE
    assert config["command"] == [role]
    assert role in entrypoint_roles()
    assert config["env_file"] == [{"path": ".env", "required": True}]
    assert "models:/models" in config["volumes"]


def test_exactly_one_service_builds_the_app_image():
    builders = {name: s["build"] for name, s in _services().items() if "build" in s}
    assert builders == {"migrate": {"context": "..", "dockerfile": "deploy/Dockerfile"}}


def test_celery_health_checks_ping_their_own_node():
    services = _services()
    for name in ("worker-embeddings", "worker"):
        assert "inspect ping -d celery@$$HOSTNAME" in services[name]["healthcheck"]["test"][1]
    assert "inspect ping -d celerybeat@$$HOSTNAME" in services["beat"]["healthcheck"]["test"][1]


def test_every_interpolated_variable_is_in_env_example():
    # Compose reads ${NAME} from deploy/.env, the copy of env.example.
    used = set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)", COMPOSE.read_text()))
    assert used - set(parse_env_file(ENV_EXAMPLE)) == set()


def test_required_secrets_stop_compose_when_missing():
    text = COMPOSE.read_text()
    env = parse_env_file(ENV_EXAMPLE)
    required = set(re.findall(r"\$\{([A-Z][A-Z0-9_]*):\?", text))
    assert {"DJANGO_SECRET_KEY", "POSTGRES_PASSWORD", "MINIO_ROOT_PASSWORD"} <= required
    # Left empty in the template, so that nobody runs with a published default password.
    assert {name for name in required if env[name]} == set()
