"""The Kubernetes manifests: valid against the API schemas, and wired to each other."""

from __future__ import annotations

import kubernetes_validate
import pytest
import yaml

from tests.deploy.manifests import (
    K8S,
    containers,
    k8s_documents,
    k8s_objects,
    kustomization,
    main_container,
    pod_spec,
)

# The oldest Kubernetes release still commonly run, and the newest schemas the package has.
VERSIONS = ["1.30", kubernetes_validate.latest_version()]
WORKLOADS = {"web", "worker-embeddings", "worker", "beat"}


def _ids() -> list[str]:
    return [f"{name}:{obj['kind']}/{obj['metadata']['name']}" for name, obj in k8s_documents()]


def _matches(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return bool(selector) and all(labels.get(key) == value for key, value in selector.items())


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("obj", [obj for _, obj in k8s_documents()], ids=_ids())
def test_manifest_is_valid_for_the_kubernetes_api(obj, version):
    kubernetes_validate.validate(obj, version, strict=True)


def test_kustomization_lists_every_manifest():
    on_disk = {path.name for path in K8S.glob("*.yaml")} - {
        "kustomization.yaml",
        "qdrant-values.yaml",  # Helm values, not a Kubernetes object
    }
    assert set(kustomization()["resources"]) == on_disk


def test_manifests_name_no_namespace():
    namespaced = [
        obj["metadata"]["name"] for _, obj in k8s_documents() if "namespace" in obj["metadata"]
    ]
    assert namespaced == []


def test_every_role_has_a_deployment_running_it():
    deployments = k8s_objects("Deployment")
    assert set(deployments) == WORKLOADS
    for name, deployment in deployments.items():
        assert main_container(deployment)["args"] == [name]


def test_containers_run_the_kustomized_image():
    image_names = {image["name"] for image in kustomization()["images"]}
    images = {
        container["image"]
        for _, obj in k8s_documents()
        if obj["kind"] in ("Deployment", "Job")
        for container in containers(obj)
    }
    assert images == image_names


@pytest.mark.parametrize("name", sorted(WORKLOADS))
def test_pods_get_settings_from_the_configmap_and_secret(name):
    configmaps, secrets = set(k8s_objects("ConfigMap")), set(k8s_objects("Secret"))
    for container in containers(k8s_objects("Deployment")[name]):
        sources = container["envFrom"]
        assert {s["configMapRef"]["name"] for s in sources if "configMapRef" in s} <= configmaps
        assert {s["secretRef"]["name"] for s in sources if "secretRef" in s} <= secrets
        assert len(sources) == 2


@pytest.mark.parametrize(
    "obj",
    [obj for _, obj in k8s_documents() if obj["kind"] in ("Deployment", "Job")],
    ids=lambda o: o["metadata"]["name"],
)
def test_every_container_has_requests_limits_and_a_writable_tmp(obj):
    spec = pod_spec(obj)
    assert spec["securityContext"]["runAsNonRoot"] is True
    for container in containers(obj):
        resources = container["resources"]
        assert {"cpu", "memory"} <= set(resources["requests"])
        assert "memory" in resources["limits"]
        assert container["securityContext"]["readOnlyRootFilesystem"] is True
        # The entry point keeps the metrics and beat's schedule under /tmp.
        assert "/tmp" in {mount["mountPath"] for mount in container["volumeMounts"]}


def test_web_probes_use_health_endpoints_on_the_served_port():
    web = main_container(k8s_objects("Deployment")["web"])
    ports = {port["name"] for port in web["ports"]}
    assert web["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert web["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert web["startupProbe"]["httpGet"]["path"] == "/healthz"
    for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
        assert web[probe]["httpGet"]["port"] in ports


def test_web_pods_allow_their_own_ip_as_host():
    web = main_container(k8s_objects("Deployment")["web"])
    env = {item["name"]: item for item in web["env"]}
    assert env["POD_IP"]["valueFrom"]["fieldRef"]["fieldPath"] == "status.podIP"
    assert env["DJANGO_ALLOWED_HOSTS"]["value"] == "$(DJANGO_ALLOWED_HOSTS),$(POD_IP)"
    assert list(env) == ["POD_IP", "DJANGO_ALLOWED_HOSTS"]  # POD_IP must be defined first


@pytest.mark.parametrize(
    ("name", "node"),
    [
        ("worker-embeddings", "celery@$HOSTNAME"),
        ("worker", "celery@$HOSTNAME"),
        ("beat", "celerybeat@$HOSTNAME"),
    ],
)
def test_celery_liveness_pings_its_own_node(name, node):
    probe = main_container(k8s_objects("Deployment")[name])["livenessProbe"]
    command = probe["exec"]["command"]
    assert command[:2] == ["sh", "-c"]  # $HOSTNAME needs a shell
    assert command[2].startswith("celery -A config inspect ping -d ")
    assert command[2].split()[6] == node
    assert probe["timeoutSeconds"] >= 10


def test_beat_runs_alone():
    beat = k8s_objects("Deployment")["beat"]
    assert beat["spec"]["replicas"] == 1
    assert beat["spec"]["strategy"]["type"] == "Recreate"
    assert "beat" not in k8s_objects("HorizontalPodAutoscaler")


@pytest.mark.parametrize(("name", "minimum"), [("web", 2), ("worker-embeddings", 1)])
def test_autoscalers_scale_the_right_deployments_on_cpu(name, minimum):
    hpa = k8s_objects("HorizontalPodAutoscaler")[name]
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert hpa["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": name,
    }
    assert minimum <= hpa["spec"]["minReplicas"] < hpa["spec"]["maxReplicas"]
    cpu = [
        m
        for m in hpa["spec"]["metrics"]
        if m["type"] == "Resource" and m["resource"]["name"] == "cpu"
    ]
    assert cpu and 0 < cpu[0]["resource"]["target"]["averageUtilization"] <= 100
    # Utilization is a share of the request: a container without a CPU request cannot scale.
    target = k8s_objects("Deployment")[name]
    assert all("cpu" in c["resources"]["requests"] for c in containers(target, init=False))


def test_disruption_budgets_cover_the_replicated_deployments():
    deployments = k8s_objects("Deployment")
    budgets = k8s_objects("PodDisruptionBudget")
    covered = {
        name
        for name, deployment in deployments.items()
        for budget in budgets.values()
        if _matches(
            budget["spec"]["selector"]["matchLabels"],
            deployment["spec"]["template"]["metadata"]["labels"],
        )
    }
    assert covered == {"web", "worker-embeddings", "worker"}


def test_deployment_selectors_match_their_pods_and_no_other():
    deployments = k8s_objects("Deployment")
    for name, deployment in deployments.items():
        selector = deployment["spec"]["selector"]["matchLabels"]
        selected = {
            other
            for other, candidate in deployments.items()
            if _matches(selector, candidate["spec"]["template"]["metadata"]["labels"])
        }
        assert selected == {name}


def test_web_service_reaches_web_pods_on_a_named_port():
    service = k8s_objects("Service")["web"]
    web = k8s_objects("Deployment")["web"]
    assert _matches(service["spec"]["selector"], web["spec"]["template"]["metadata"]["labels"])
    port_names = {port["name"] for port in main_container(web)["ports"]}
    assert {port["targetPort"] for port in service["spec"]["ports"]} <= port_names


def test_migrations_run_as_a_job_not_at_web_start():
    job = k8s_objects("Job")["migrate"]
    assert main_container(job)["args"] == ["migrate"]
    assert pod_spec(job)["restartPolicy"] == "Never"
    assert k8s_objects("ConfigMap")["visual-search-config"]["data"]["MIGRATE_ON_START"] == "false"


def test_embedding_workers_and_web_get_the_models_before_they_start():
    for name in ("web", "worker-embeddings"):
        deployment = k8s_objects("Deployment")[name]
        init = pod_spec(deployment)["initContainers"]
        assert [c["args"] for c in init] == [["download-models"]]
        mounts = {
            m["mountPath"]
            for c in containers(deployment)
            for m in c["volumeMounts"]
            if m["name"] == "models"
        }
        assert mounts == {"/models"}
    assert k8s_objects("ConfigMap")["visual-search-config"]["data"]["HF_HOME"] == "/models"


def test_qdrant_helm_values_describe_a_replicated_cluster():
    values = yaml.safe_load((K8S / "qdrant-values.yaml").read_text())
    assert values["replicaCount"] >= 3
    assert values["config"]["cluster"]["enabled"] is True
    assert values["persistence"]["size"]
    assert values["resources"]["requests"]["memory"]
    data = k8s_objects("ConfigMap")["visual-search-config"]["data"]
    # Every replica of a shard needs a peer of its own.
    assert 2 <= int(data["QDRANT_REPLICATION_FACTOR"]) <= values["replicaCount"]
    assert data["QDRANT_URL"] == "http://qdrant:6333"
