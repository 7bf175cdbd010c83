"""GrpcService: what it sends to the engine, for each option, and what it refuses."""

from __future__ import annotations

import json

import pulumi
import pulumi_kubernetes as k8s
import pytest
from schema_checks import validate_all

from grpc_kube import (
    ROUND_ROBIN_SERVICE_CONFIG,
    AutoscalingArgs,
    GrpcService,
    GrpcServiceArgs,
    InvalidArgumentError,
    ProbeArgs,
    ResourcesArgs,
    SecurityArgs,
    ServerTlsArgs,
)
from grpc_kube.testing import run_program

IMAGE = "ghcr.io/example/greeter:1.4.2"


def build(name: str = "greeter", **kw: object):
    kw.setdefault("image", IMAGE)
    kw.setdefault("namespace", "demo")
    holder: dict[str, GrpcService] = {}

    def program() -> None:
        holder["svc"] = GrpcService(name, GrpcServiceArgs(**kw))  # type: ignore[arg-type]

    rec = run_program(program)
    return rec, holder["svc"]


def container(rec):
    return rec.kube("Deployment")["spec"]["template"]["spec"]["containers"][0]


def env_of(rec) -> dict[str, object]:
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container(rec)["env"]}


# --- defaults -------------------------------------------------------------------------------


def test_default_objects_and_default_ports() -> None:
    rec, svc = build()
    assert rec.kinds() == ["Deployment", "PodDisruptionBudget", "Service", "ServiceAccount"]
    service = rec.kube("Service", "greeter")
    assert service["metadata"]["namespace"] == "demo"
    assert service["spec"]["type"] == "ClusterIP"
    assert "clusterIP" not in service["spec"]
    assert service["spec"]["ports"] == [
        {
            "name": "grpc",
            "port": 80,
            "targetPort": "grpc",
            "protocol": "TCP",
            "appProtocol": "kubernetes.io/h2c",
        }
    ]
    assert service["spec"]["selector"] == {"app.kubernetes.io/name": "greeter"}
    c = container(rec)
    assert c["ports"] == [{"name": "grpc", "containerPort": 50051, "protocol": "TCP"}]
    assert c["image"] == IMAGE
    assert rec.kube("Deployment")["spec"]["replicas"] == 2
    assert svc.ref.dns_name == "greeter.demo.svc.cluster.local"


def test_every_child_is_parented_to_the_component() -> None:
    rec, _ = build()
    comp = rec.one("grpc-kube:index:GrpcService", "greeter")
    children = rec.children_of(comp)
    assert sorted(c.name for c in children) == [
        "greeter-deployment",
        "greeter-pdb",
        "greeter-sa",
        "greeter-service",
    ]


def test_service_account_per_service_without_token() -> None:
    rec, svc = build()
    sa = rec.kube("ServiceAccount", "greeter")
    assert sa["automountServiceAccountToken"] is False
    pod = rec.kube("Deployment")["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == "greeter"
    assert pod["automountServiceAccountToken"] is False
    assert svc.ref.service_account == "greeter"
    assert svc.ref.mesh_identity == "greeter.demo.serviceaccount.identity.linkerd.cluster.local"


def test_restricted_security_context_by_default() -> None:
    rec, _ = build()
    pod = rec.kube("Deployment")["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    sc = container(rec)["securityContext"]
    assert sc["allowPrivilegeEscalation"] is False
    assert sc["capabilities"] == {"drop": ["ALL"]}
    assert sc["readOnlyRootFilesystem"] is True
    assert sc["runAsNonRoot"] is True
    assert sc["runAsUser"] == 10001
    assert sc["seccompProfile"] == {"type": "RuntimeDefault"}
    assert {"name": "tmp", "mountPath": "/tmp"} in container(rec)["volumeMounts"]


def test_security_relaxations_are_explicit() -> None:
    rec, _ = build(
        security=SecurityArgs(
            read_only_root_filesystem=False,
            run_as_user=20000,
            added_capabilities=("NET_BIND_SERVICE",),
        )
    )
    sc = container(rec)["securityContext"]
    assert sc["readOnlyRootFilesystem"] is False
    assert sc["runAsUser"] == 20000
    assert sc["capabilities"] == {"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]}


def test_native_grpc_probes_by_default() -> None:
    rec, _ = build()
    c = container(rec)
    assert c["readinessProbe"]["grpc"] == {"port": 50051}
    assert c["livenessProbe"]["grpc"] == {"port": 50051}
    assert c["livenessProbe"]["initialDelaySeconds"] >= 10


def test_probes_can_name_a_health_service_or_be_switched_off() -> None:
    rec, _ = build(probes=ProbeArgs(service="helloworld.Greeter", period_seconds=5))
    assert container(rec)["readinessProbe"]["grpc"] == {
        "port": 50051,
        "service": "helloworld.Greeter",
    }
    assert container(rec)["readinessProbe"]["periodSeconds"] == 5
    rec, _ = build(probes=ProbeArgs(enabled=False))
    assert "readinessProbe" not in container(rec)
    assert "livenessProbe" not in container(rec)


def test_health_port_moves_probes_off_the_main_port() -> None:
    rec, _ = build(health_port=8086)
    c = container(rec)
    assert c["readinessProbe"]["grpc"]["port"] == 8086
    assert {"name": "grpc-health", "containerPort": 8086, "protocol": "TCP"} in c["ports"]
    assert env_of(rec)["GRPC_HEALTH_PORT"] == "8086"


def test_resources_default_and_custom() -> None:
    rec, _ = build()
    assert container(rec)["resources"] == {
        "requests": {"cpu": "100m", "memory": "128Mi"},
        "limits": {"cpu": "1", "memory": "256Mi"},
    }
    rec, _ = build(resources=ResourcesArgs(cpu_limit=None, memory_limit="1Gi"))
    assert container(rec)["resources"]["limits"] == {"memory": "1Gi"}


# --- balancing modes ------------------------------------------------------------------------


def test_headless_service_for_client_side_balancing() -> None:
    rec, svc = build(headless=True)
    service = rec.kube("Service")
    assert service["spec"]["clusterIP"] == "None"
    assert "type" not in service["spec"]
    assert env_of(rec)["GRPC_SERVER_MAX_CONNECTION_AGE_MS"] == "30000"
    assert env_of(rec)["GRPC_SERVER_MAX_CONNECTION_AGE_GRACE_MS"] == "30000"
    assert rec.one("grpc-kube:index:GrpcService").custom is False
    # Pod IPs, no Service port mapping: the container port.
    assert svc.ref.client_target == "dns:///greeter.demo.svc.cluster.local:50051"
    assert json.loads(ROUND_ROBIN_SERVICE_CONFIG) == {"loadBalancingConfig": [{"round_robin": {}}]}


def test_headless_outputs_resolve_to_target_and_service_config() -> None:
    seen: dict[str, str] = {}

    def program() -> None:
        svc = GrpcService("greeter", GrpcServiceArgs(image=IMAGE, namespace="demo", headless=True))
        assert svc.client_target is not None and svc.client_service_config is not None
        svc.client_target.apply(lambda v: seen.__setitem__("target", v))
        svc.client_service_config.apply(lambda v: seen.__setitem__("config", v))

    run_program(program)
    assert seen["target"] == "dns:///greeter.demo.svc.cluster.local:50051"
    assert json.loads(seen["config"])["loadBalancingConfig"] == [{"round_robin": {}}]


def test_max_connection_age_override_and_not_set_for_clusterip() -> None:
    rec, _ = build()
    assert "GRPC_SERVER_MAX_CONNECTION_AGE_MS" not in env_of(rec)
    rec, _ = build(headless=True, max_connection_age_seconds=120)
    assert env_of(rec)["GRPC_SERVER_MAX_CONNECTION_AGE_MS"] == "120000"
    assert env_of(rec)["GRPC_SERVER_MAX_CONNECTION_AGE_GRACE_MS"] == "120000"
    rec, _ = build(headless=True, max_connection_age_grace_seconds=600)
    assert env_of(rec)["GRPC_SERVER_MAX_CONNECTION_AGE_MS"] == "30000"
    assert env_of(rec)["GRPC_SERVER_MAX_CONNECTION_AGE_GRACE_MS"] == "600000"
    with pytest.raises(InvalidArgumentError, match="max_connection_age_grace_seconds: got 0"):
        GrpcServiceArgs(image=IMAGE, namespace="demo", max_connection_age_grace_seconds=0)


# --- availability ---------------------------------------------------------------------------


def test_pdb_only_with_more_than_one_replica() -> None:
    rec, _ = build(replicas=3)
    pdb = rec.kube("PodDisruptionBudget")
    assert pdb["spec"] == {
        "maxUnavailable": 1,
        "selector": {"matchLabels": {"app.kubernetes.io/name": "greeter"}},
    }
    rec, _ = build(replicas=1)
    assert "PodDisruptionBudget" not in rec.kinds()


def test_autoscaling_leaves_replicas_to_the_hpa() -> None:
    rec, _ = build(
        autoscaling=AutoscalingArgs(min_replicas=3, max_replicas=12, target_cpu_utilization=60)
    )
    assert "replicas" not in rec.kube("Deployment")["spec"]
    hpa = rec.kube("HorizontalPodAutoscaler")
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert hpa["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": "greeter",
    }
    assert hpa["spec"]["minReplicas"] == 3 and hpa["spec"]["maxReplicas"] == 12
    assert hpa["spec"]["metrics"][0]["resource"]["target"]["averageUtilization"] == 60


def test_topology_spread_across_nodes_and_switch() -> None:
    rec, _ = build()
    (tsc,) = rec.kube("Deployment")["spec"]["template"]["spec"]["topologySpreadConstraints"]
    assert tsc["topologyKey"] == "kubernetes.io/hostname"
    assert tsc["labelSelector"] == {"matchLabels": {"app.kubernetes.io/name": "greeter"}}
    rec, _ = build(topology_spread=False)
    assert "topologySpreadConstraints" not in rec.kube("Deployment")["spec"]["template"]["spec"]


# --- mesh, troubleshooting, TLS -------------------------------------------------------------


def test_mesh_switch_adds_linkerd_injection_to_pod_template_only() -> None:
    rec, _ = build()
    assert "annotations" not in rec.kube("Deployment")["spec"]["template"]["metadata"]
    rec, svc = build(mesh=True)
    tmpl = rec.kube("Deployment")["spec"]["template"]["metadata"]
    assert tmpl["annotations"] == {"linkerd.io/inject": "enabled"}
    assert "annotations" not in rec.kube("Deployment")["metadata"]
    assert svc.ref.mesh is True


def test_http2_debug_sets_godebug() -> None:
    rec, _ = build()
    assert "GODEBUG" not in env_of(rec)
    rec, _ = build(http2_debug=True)
    assert env_of(rec)["GODEBUG"] == "http2debug=2"


def test_tls_mounts_secret_read_only_and_marks_port() -> None:
    rec, svc = build(tls=ServerTlsArgs(secret_name="greeter-tls"), health_port=8086)
    pod = rec.kube("Deployment")["spec"]["template"]["spec"]
    assert {"name": "tls", "secret": {"secretName": "greeter-tls", "defaultMode": 0o440}} in pod[
        "volumes"
    ]
    assert {"name": "tls", "mountPath": "/etc/grpc-kube/tls", "readOnly": True} in container(rec)[
        "volumeMounts"
    ]
    assert env_of(rec)["GRPC_TLS_CERT_FILE"] == "/etc/grpc-kube/tls/tls.crt"
    assert rec.kube("Service")["spec"]["ports"][0]["appProtocol"] == "https"
    assert svc.ref.tls is True


def test_outputs_are_registered_and_resolve() -> None:
    seen: dict[str, object] = {}

    def program() -> None:
        svc = GrpcService(
            "greeter",
            GrpcServiceArgs(image=IMAGE, namespace="demo", service_name="go-grpc-greeter-server"),
        )
        for attr in (
            "service_name",
            "namespace",
            "port",
            "dns_name",
            "selector_labels",
            "service_account_name",
        ):
            getattr(svc, attr).apply(lambda v, a=attr: seen.__setitem__(a, v))

    run_program(program)
    assert seen == {
        "service_name": "go-grpc-greeter-server",
        "namespace": "demo",
        "port": 80,
        "dns_name": "go-grpc-greeter-server.demo.svc.cluster.local",
        "selector_labels": {"app.kubernetes.io/name": "go-grpc-greeter-server"},
        "service_account_name": "go-grpc-greeter-server",
    }


# --- schemas --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "options",
    [
        {},
        {
            "headless": True,
            "autoscaling": AutoscalingArgs(),
            "mesh": True,
            "http2_debug": True,
            "health_port": 8086,
            "tls": ServerTlsArgs(secret_name="greeter-tls"),
            "probes": ProbeArgs(service="helloworld.Greeter"),
            "labels": {"team": "payments"},
            "pod_annotations": {"config.linkerd.io/default-inbound-policy": "all-authenticated"},
            "env": {"LOG_LEVEL": "debug"},
            "args": ("--verbose",),
            "resources": ResourcesArgs(cpu_limit=None),
            "max_connection_age_seconds": 60,
        },
    ],
    ids=["defaults", "every-option"],
)
def test_objects_validate_against_kubernetes_1_31_to_1_35(options: dict[str, object]) -> None:
    rec, _ = build(**options)
    assert validate_all(rec.kubernetes_objects()) >= 4


# --- bad input ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "field", "hint"),
    [
        ({"namespace": "Demo_NS"}, "namespace", "'demo-ns'"),
        ({"service_name": "1greeter"}, "service_name", "start with a letter"),
        ({"port": 0}, "port", "between 1 and 65535"),
        ({"container_port": 70000}, "container_port", "between 1 and 65535"),
        ({"replicas": 0}, "replicas", "between 1 and 1000"),
        ({"replicas": -2}, "replicas", "between 1 and 1000"),
        ({"replicass": 3}, "replicass", "Did you mean 'replicas'"),
        ({"image": "ghcr.io/example/greeter"}, "image", "pin a version"),
        ({"image": "ghcr.io/example/greeter:latest"}, "image", "latest"),
        ({"labels": {"app.kubernetes.io/name": "x"}}, "labels", "set by GrpcService"),
        ({"labels": {"team": "has space"}}, "labels", "not a valid label value"),
        ({"env": {"GODEBUG": "x"}}, "env", "http2_debug"),
        ({"health_port": 50051}, "health_port: got 50051", "equals container_port"),
        ({"tls": ServerTlsArgs(secret_name="t")}, "tls: got 't'", "cannot speak TLS"),
    ],
)
def test_bad_input_names_field_and_fix(options: dict[str, object], field: str, hint: str) -> None:
    with pytest.raises(InvalidArgumentError) as err:
        build(**options)
    msg = str(err.value)
    assert f"- {field}" in msg, msg
    assert hint in msg, msg


@pytest.mark.parametrize(
    ("make", "hint"),
    [
        (lambda: ResourcesArgs(cpu_request="lots"), "'lots' is not a Kubernetes quantity"),
        (lambda: ResourcesArgs(memory_limit="1 GB"), "'1 GB' is not a Kubernetes quantity"),
        (lambda: ResourcesArgs(memory_request="2Gi"), "memory_request (2Gi) is above memory_limit"),
        (lambda: ResourcesArgs(cpu_request="2", cpu_limit="500m"), "cpu_request (2) is above"),
        (lambda: SecurityArgs(added_capabilities=("SYS_ADMIN",)), "only NET_BIND_SERVICE"),
        (lambda: SecurityArgs(run_as_user=2**40), "less than or equal to 2147483647"),
        (
            lambda: GrpcServiceArgs(
                image=IMAGE, namespace="demo", pod_annotations={"bad key!": "v"}
            ),
            "not a valid label key",
        ),
        (
            lambda: GrpcServiceArgs(image=IMAGE, namespace="demo", env={"1 BAD=": "v"}),
            "not a valid environment variable name",
        ),
    ],
)
def test_values_kubernetes_would_refuse_fail_early(make, hint: str) -> None:
    with pytest.raises(InvalidArgumentError) as err:
        make()
    assert hint in str(err.value), str(err.value)


def test_quantities_compare_across_suffixes() -> None:
    assert ResourcesArgs(
        cpu_request="500m", cpu_limit="1", memory_request="1Gi", memory_limit="1024Mi"
    )
    assert ResourcesArgs(cpu_request="250m", cpu_limit=None, memory_request="64Mi")


@pytest.mark.parametrize(
    "make",
    [
        lambda: AutoscalingArgs(min_replicas=5, max_replicas=2),
        lambda: ProbeArgs(period_seconds=0),
        lambda: ServerTlsArgs(secret_name="Bad Secret"),
    ],
)
def test_nested_args_validate_too(make) -> None:
    with pytest.raises(InvalidArgumentError):
        make()


def test_invalid_component_name_fails_before_anything_registers() -> None:
    errors: list[str] = []

    def program() -> None:
        try:
            GrpcService("Greeter_Svc", GrpcServiceArgs(image=IMAGE, namespace="demo"))
        except InvalidArgumentError as exc:
            errors.append(str(exc))

    rec = run_program(program)
    assert len(rec) == 0
    assert "'greeter-svc'" in errors[0] and "service_name" in errors[0]


def test_bad_input_registers_nothing() -> None:
    recorded = []

    def program() -> None:
        try:
            GrpcService("greeter", GrpcServiceArgs(image=IMAGE, namespace="demo", port=-1))  # type: ignore[arg-type]
        except InvalidArgumentError:
            recorded.append("raised")

    rec = run_program(program)
    assert recorded == ["raised"]
    assert len(rec) == 0


def test_args_as_plain_data_are_validated_like_the_model() -> None:
    # Other languages (and YAML) hand the component a plain map: same checks, same messages.
    with pytest.raises(InvalidArgumentError, match="namespace: required field is missing"):
        run_program(lambda: GrpcService("greeter", {"image": IMAGE}))  # type: ignore[arg-type]
    rec = run_program(
        lambda: GrpcService("greeter", {"image": IMAGE, "namespace": "demo"})  # type: ignore[arg-type]
    )
    assert rec.kube("Deployment")["spec"]["template"]["spec"]["containers"][0]["image"] == IMAGE


def test_positional_args_name_the_class() -> None:
    with pytest.raises(TypeError, match=r"GrpcServiceArgs takes keyword arguments only.*image="):
        GrpcServiceArgs(IMAGE, "demo")  # type: ignore[misc]


def test_a_number_given_as_a_string_is_refused() -> None:
    with pytest.raises(InvalidArgumentError, match=r"port must be a number, got the string '80'"):
        GrpcServiceArgs(image=IMAGE, namespace="demo", port="80")  # type: ignore[arg-type]


def test_depends_on_reaches_every_child() -> None:
    """Pulumi does not pass a component's depends_on to its children; GrpcService does, so its
    pods wait for e.g. the namespace that meshes them."""

    def program() -> None:
        ns = k8s.core.v1.Namespace("ns", metadata={"name": "demo"})
        GrpcService(
            "greeter",
            GrpcServiceArgs(image=IMAGE, namespace="demo"),
            opts=pulumi.ResourceOptions(depends_on=[ns]),
        )

    rec = run_program(program)
    ns = rec.one("kubernetes:core/v1:Namespace")
    for child in rec.children_of(rec.one("grpc-kube:index:GrpcService")):
        assert ns.urn in child.dependencies, child.name


# --- arguments that are Outputs of other resources ---------------------------------------------


def test_namespace_from_a_namespace_resource_orders_the_deployment_with_no_depends_on() -> None:
    def program() -> None:
        ns = k8s.core.v1.Namespace("team-ns", metadata={"name": "team"})
        GrpcService("greeter", GrpcServiceArgs(image=IMAGE, namespace=ns.metadata.name))

    rec = run_program(program)
    ns = rec.one("kubernetes:core/v1:Namespace")
    for kind in ("Deployment", "Service", "ServiceAccount"):
        res = next(r for r in rec.resources if r.inputs.get("kind") == kind)
        assert res.get("metadata.namespace") == "team"
        assert rec.depends_on(res, ns), kind


def test_outputs_flow_into_the_objects() -> None:
    # Outputs exist only inside a running program, so they are made in it.
    rec = run_program(
        lambda: GrpcService(
            "greeter",
            GrpcServiceArgs(
                image=pulumi.Output.from_input("registry.example/greeter@sha256:" + "a" * 64),
                namespace="demo",
                replicas=pulumi.Output.from_input(4),
                container_port=pulumi.Output.from_input(9000),
                env={"REGION": pulumi.Output.secret("eu-1")},
            ),
        )
    )
    dep = rec.one("kubernetes:apps/v1:Deployment")
    c = dep.get("spec.template.spec.containers.0")
    assert c["image"].startswith("registry.example/greeter@sha256:")
    assert dep.get("spec.replicas") == 4
    assert c["ports"][0]["containerPort"] == 9000
    assert {"name": "GRPC_PORT", "value": "9000"} in c["env"]
    assert {"name": "REGION", "value": "eu-1"} in c["env"]
    assert dep.secret_paths == ["spec"]  # the engine keeps the whole spec secret
    # replicas unknown when the program runs: the PDB (maxUnavailable 1) is created anyway.
    assert rec.kube("PodDisruptionBudget")["spec"]["maxUnavailable"] == 1


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"namespace": "Bad_NS"}, "namespace: got 'Bad_NS'"),
        (
            {"image": "ghcr.io/example/greeter:latest"},
            "image: got 'ghcr.io/example/greeter:latest'",
        ),
        ({"replicas": 0}, "replicas: got 0; must be between 1 and 1000"),
        ({"container_port": 8086, "health_port": 8086}, "health_port: got 8086"),
    ],
)
def test_an_output_that_resolves_to_a_bad_value_fails_the_deployment(
    options: dict[str, object], expected: str
) -> None:
    def program() -> None:
        kw: dict[str, object] = {"image": IMAGE, "namespace": "demo"}
        kw.update({k: pulumi.Output.from_input(v) for k, v in options.items()})
        GrpcService("greeter", GrpcServiceArgs(**kw))  # type: ignore[arg-type]

    # The SDK re-raises it as a ValueError naming the child whose input it was.
    with pytest.raises(ValueError) as err:
        run_program(program)
    msg = str(err.value)
    assert "GrpcService 'greeter': invalid input (values that arrived as Outputs" in msg, msg
    assert expected in msg, msg


def test_a_bad_output_value_reaches_no_object() -> None:
    def program() -> None:
        GrpcService(
            "greeter",
            GrpcServiceArgs(image=IMAGE, namespace=pulumi.Output.from_input("Bad_NS")),
        )

    with pytest.raises(ValueError, match="Bad_NS") as err:
        run_program(program)
    registered = [r.type for r in err.value.recording.resources]  # type: ignore[attr-defined]
    assert registered == ["grpc-kube:index:GrpcService"]  # the component, none of its objects


def test_a_switch_that_decides_which_objects_exist_must_be_plain() -> None:
    def program() -> None:
        headless = pulumi.Output.from_input(True)
        GrpcServiceArgs(image=IMAGE, namespace="demo", headless=headless)  # type: ignore[arg-type]

    with pytest.raises(InvalidArgumentError, match=r"headless: got an Output.*known when the"):
        run_program(program)
