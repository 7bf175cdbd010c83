"""NginxIngressController: the Helm release and namespace it sends, the chart values for each
option (every key checked against chart 4.15.1's values.yaml), the peer and ref it reports, the
retirement warning, arguments that are Outputs, and what it refuses."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import pytest
from schema_checks import unknown_value_keys, validate_all

from grpc_kube._validation import InvalidArgumentError
from grpc_kube.nginx_ingress_controller import (
    IngressControllerRef,
    NginxIngressController,
    NginxIngressControllerArgs,
)
from grpc_kube.testing import Recording, run_program

RELEASE = "kubernetes:helm.sh/v3:Release"
KEYS = "ingress-nginx-4.15.1.keys"


ATTRIBUTES = (
    "ingress_class",
    "namespace",
    "release_name",
    "service_account",
    "controller_service_name",
    "client_body_timeout_seconds",
    "selector_labels",
)


def build(name: str = "ingress", **kw: Any) -> tuple[Recording, NginxIngressController]:
    holder: dict[str, NginxIngressController] = {}

    def program() -> None:
        holder["c"] = NginxIngressController(name, NginxIngressControllerArgs(**kw))
        # The attributes are Outputs: read them while the program runs.
        seen = SEEN.setdefault(id(holder["c"]), {})
        for attr in ATTRIBUTES:
            getattr(holder["c"], attr).apply(lambda v, a=attr: seen.__setitem__(a, v))

    return run_program(program), holder["c"]


SEEN: dict[int, dict[str, Any]] = {}


def seen(c: NginxIngressController) -> dict[str, Any]:
    """The resolved Output attributes of a controller `build` made."""
    return SEEN[id(c)]


def values(rec: Recording) -> dict[str, Any]:
    v: dict[str, Any] = rec.one(RELEASE).inputs["values"]
    return v


EVERY_OPTION: dict[str, Any] = {
    "namespace": "edge",
    "release_name": "edge",
    "ingress_class": "grpc",
    "controller_value": "example.com/grpc-ingress",
    "default_class": True,
    "replicas": 3,
    "topology_spread": False,
    "mesh": True,
    "linkerd_cni": True,
    "load_balance": "ewma",
    "client_body_timeout_seconds": 7200,
    "worker_shutdown_timeout_seconds": 600,
    "service_type": "LoadBalancer",
    "service_annotations": {"service.beta.kubernetes.io/aws-load-balancer-type": "nlb"},
    "load_balancer_source_ranges": ("203.0.113.0/24", "2001:db8::/32"),
    "pod_security": "baseline",
    "config": {"http2-max-concurrent-streams": "256"},
}


# --- the release --------------------------------------------------------------------------------


def test_release_installs_the_pinned_chart_into_its_own_namespace() -> None:
    rec, _ = build()
    release = rec.one(RELEASE, "ingress-release")
    assert release.inputs["chart"] == "ingress-nginx"
    assert release.inputs["version"] == "4.15.1"
    assert release.inputs["repositoryOpts"] == {
        "repo": "https://kubernetes.github.io/ingress-nginx"
    }
    assert release.inputs["name"] == "ingress-nginx"
    assert release.inputs["namespace"] == "ingress-nginx"
    assert release.inputs["createNamespace"] is False
    ns = rec.one("kubernetes:core/v1:Namespace", "ingress-namespace")
    assert release.dependencies == [ns.urn]
    comp = rec.one("grpc-kube:index:NginxIngressController", "ingress")
    assert sorted(r.name for r in rec.children_of(comp)) == ["ingress-namespace", "ingress-release"]


def test_default_values_tune_the_controller_for_grpc() -> None:
    rec, _ = build()
    v = values(rec)
    c = v["controller"]
    assert c["config"] == {
        "use-http2": "true",
        "load-balance": "round_robin",
        "client-body-timeout": "3600",
        "worker-shutdown-timeout": "240s",
    }
    assert c["replicaCount"] == 2
    assert c["ingressClass"] == "nginx"
    assert c["ingressClassResource"] == {
        "name": "nginx",
        "enabled": True,
        "default": False,
        "controllerValue": "k8s.io/ingress-nginx",
    }
    assert c["allowSnippetAnnotations"] is False
    assert c["terminationGracePeriodSeconds"] == 300
    assert c["service"] == {"type": "LoadBalancer"}
    assert "podAnnotations" not in c
    assert c["topologySpreadConstraints"] == [
        {
            "maxSkew": 1,
            "topologyKey": "kubernetes.io/hostname",
            "whenUnsatisfiable": "ScheduleAnyway",
            "labelSelector": {
                "matchLabels": {
                    "app.kubernetes.io/name": "ingress-nginx",
                    "app.kubernetes.io/instance": "ingress-nginx",
                    "app.kubernetes.io/component": "controller",
                }
            },
        }
    ]
    assert v["serviceAccount"] == {"name": "ingress-nginx"}


@pytest.mark.parametrize("options", [{}, EVERY_OPTION], ids=["defaults", "every-option"])
def test_every_value_key_exists_in_chart_4_15_1(options: dict[str, Any]) -> None:
    rec, _ = build(**options)
    assert unknown_value_keys(values(rec), KEYS) == []


def test_every_option_reaches_the_values() -> None:
    rec, _ = build(**EVERY_OPTION)
    c = values(rec)["controller"]
    assert c["replicaCount"] == 3
    assert c["ingressClass"] == "grpc"
    assert c["ingressClassResource"] == {
        "name": "grpc",
        "enabled": True,
        "default": True,
        "controllerValue": "example.com/grpc-ingress",
    }
    assert c["config"] == {
        "use-http2": "true",
        "load-balance": "ewma",
        "client-body-timeout": "7200",
        "worker-shutdown-timeout": "600s",
        "http2-max-concurrent-streams": "256",
    }
    # The pod outlives the worker drain by a minute.
    assert c["terminationGracePeriodSeconds"] == 660
    assert c["service"] == {
        "type": "LoadBalancer",
        "annotations": {"service.beta.kubernetes.io/aws-load-balancer-type": "nlb"},
        "loadBalancerSourceRanges": ["203.0.113.0/24", "2001:db8::/32"],
    }
    assert c["podAnnotations"] == {"linkerd.io/inject": "enabled"}
    assert "topologySpreadConstraints" not in c
    assert values(rec)["serviceAccount"] == {"name": "edge-ingress-nginx"}
    release = rec.one(RELEASE).inputs
    assert (release["name"], release["namespace"]) == ("edge", "edge")


@pytest.mark.parametrize(
    ("service_type"),
    ["NodePort", "ClusterIP"],
)
def test_service_type(service_type: str) -> None:
    rec, _ = build(service_type=service_type)
    assert values(rec)["controller"]["service"] == {"type": service_type}


def test_other_ingress_class_gets_its_own_controller_value() -> None:
    rec, c = build(ingress_class="internal")
    assert values(rec)["controller"]["ingressClassResource"]["controllerValue"] == (
        "k8s.io/ingress-nginx-internal"
    )
    assert seen(c)["ingress_class"] == "internal"
    assert c.ref.ingress_class == "internal"


# --- mesh and namespace ------------------------------------------------------------------------


def test_mesh_annotates_controller_pods_only_never_the_namespace() -> None:
    rec, c = build(mesh=True)
    v = values(rec)
    assert v["controller"]["podAnnotations"] == {"linkerd.io/inject": "enabled"}
    # Not on the admission Jobs (a meshed Job never completes) and not on the namespace.
    assert "admissionWebhooks" not in v["controller"]
    ns = rec.kube("Namespace", "ingress-nginx")
    assert "linkerd.io/inject" not in ns["metadata"].get("labels", {})
    assert "annotations" not in ns["metadata"]
    assert c.meshed is True and c.peer.meshed is True


@pytest.mark.parametrize(
    ("options", "enforce"),
    [
        ({}, "restricted"),
        ({"mesh": True}, "privileged"),  # linkerd-init needs NET_ADMIN + NET_RAW
        ({"mesh": True, "linkerd_cni": True}, "restricted"),  # no linkerd-init container
        ({"mesh": True, "linkerd_cni": True, "pod_security": "baseline"}, "baseline"),
        ({"linkerd_cni": True}, "restricted"),
        ({"pod_security": "baseline"}, "baseline"),
    ],
)
def test_namespace_pod_security(options: dict[str, Any], enforce: str) -> None:
    rec, _ = build(**options)
    labels = rec.kube("Namespace")["metadata"]["labels"]
    assert labels == {
        "pod-security.kubernetes.io/enforce": enforce,
        "pod-security.kubernetes.io/audit": "restricted",
        "pod-security.kubernetes.io/warn": "restricted",
        "app.kubernetes.io/managed-by": "grpc-kube",
    }


@pytest.mark.parametrize("options", [{}, EVERY_OPTION], ids=["defaults", "every-option"])
def test_objects_validate_against_kubernetes_1_31_to_1_35(options: dict[str, Any]) -> None:
    rec, _ = build(**options)
    assert validate_all(rec.kubernetes_objects()) == 1


# --- what other components read ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("release_name", "service_account", "service"),
    [
        # templates/_helpers.tpl `ingress-nginx.fullname`: the release name if it contains
        # the chart name, else `<release>-ingress-nginx`.
        ("ingress-nginx", "ingress-nginx", "ingress-nginx-controller"),
        ("ingress-nginx-internal", "ingress-nginx-internal", "ingress-nginx-internal-controller"),
        ("edge", "edge-ingress-nginx", "edge-ingress-nginx-controller"),
    ],
)
def test_peer_and_names_follow_the_chart(
    release_name: str, service_account: str, service: str
) -> None:
    rec, c = build(release_name=release_name, namespace="ingress")
    assert c.peer.namespace == "ingress"
    assert c.peer.pod_labels == {
        "app.kubernetes.io/name": "ingress-nginx",
        "app.kubernetes.io/instance": release_name,
        "app.kubernetes.io/component": "controller",
    }
    assert c.peer.service_account == service_account
    assert c.peer.ports == ()
    assert c.peer.meshed is False
    assert seen(c)["service_account"] == service_account
    assert seen(c)["controller_service_name"] == service
    assert values(rec)["serviceAccount"]["name"] == service_account
    assert c.peer.mesh_identity == (
        f"{service_account}.ingress.serviceaccount.identity.linkerd.cluster.local"
    )


def test_attributes_are_outputs_and_the_ref_holds_plain_facts() -> None:
    _, c = build()
    got = seen(c)
    assert (got["ingress_class"], got["namespace"], got["release_name"]) == (
        "nginx",
        "ingress-nginx",
        "ingress-nginx",
    )
    assert got["client_body_timeout_seconds"] == 3600
    assert got["selector_labels"] == c.peer.pod_labels
    assert c.meshed is False
    # Plain arguments give plain facts, which GrpcIngress checks before anything registers.
    assert c.ref == IngressControllerRef(
        ingress_class="nginx",
        namespace="ingress-nginx",
        pod_labels={
            "app.kubernetes.io/name": "ingress-nginx",
            "app.kubernetes.io/instance": "ingress-nginx",
            "app.kubernetes.io/component": "controller",
        },
        service_account="ingress-nginx",
        meshed=False,
        client_body_timeout_seconds=3600,
    )
    assert c.ref.peer == c.peer


def test_args_default_to_all_defaults() -> None:
    holder: dict[str, NginxIngressController] = {}
    rec = run_program(lambda: holder.setdefault("c", NginxIngressController("ingress")))
    assert rec.one(RELEASE).inputs["namespace"] == "ingress-nginx"


def test_warns_that_ingress_nginx_is_retired() -> None:
    rec, _ = build()
    assert len(rec.warnings) == 1
    warning = rec.warnings[0]
    assert "retired upstream in March 2026" in warning
    assert "Gateway API" in warning and "GRPCRoute" in warning


# --- bad input ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "field", "hint"),
    [
        ({"namespace": "Ingress_NGINX"}, "namespace", "'ingress-nginx'"),
        ({"release_name": "1nginx"}, "release_name", "start with a letter"),
        ({"release_name": "a" * 54}, "release_name", "at most 53"),
        ({"ingress_class": "Nginx"}, "ingress_class", "Fix:"),
        ({"controller_value": "nginx"}, "controller_value", "domain-prefixed"),
        ({"replicas": 0}, "replicas", "must be between 1 and 100"),
        ({"replicas": 101}, "replicas", "must be between 1 and 100"),
        ({"client_body_timeout_seconds": 0}, "client_body_timeout_seconds", "at least 1"),
        ({"client_body_timeout_seconds": -5}, "client_body_timeout_seconds", "at least 1"),
        ({"worker_shutdown_timeout_seconds": 0}, "worker_shutdown_timeout_seconds", "at least"),
        ({"load_balance": "least_conn"}, "load_balance", "round_robin"),
        ({"pod_security": "strict"}, "pod_security", "restricted"),
        ({"config": {"load-balance": "ewma"}}, "config", "set load_balance"),
        ({"config": {"use-http2": "false"}}, "config", "always on"),
        ({"config": {"server-snippet": "x"}}, "config", "risk Critical"),
        ({"config": {"allow-snippet-annotations": "true"}}, "config", "snippets off"),
        (
            {"load_balancer_source_ranges": ("10.0.0.1/8",)},
            "load_balancer_source_ranges",
            "10.0.0.0/8",
        ),
        ({"load_balancer_source_ranges": ("nope",)}, "load_balancer_source_ranges", "Fix:"),
        (
            {"service_type": "ClusterIP", "load_balancer_source_ranges": ("10.0.0.0/8",)},
            "(root)",
            "only applies to service_type LoadBalancer",
        ),
        ({"service_annotations": {"bad key!": "x"}}, "service_annotations", "Fix:"),
        ({"replica": 2}, "replica", "Did you mean 'replicas'"),
        ({"mesh": True, "pod_security": "restricted"}, "(root)", "set linkerd_cni=True"),
        ({"mesh": True, "pod_security": "baseline"}, "(root)", "only 'privileged' admits"),
    ],
)
def test_bad_input_names_field_and_fix(options: dict[str, Any], field: str, hint: str) -> None:
    with pytest.raises(InvalidArgumentError) as err:
        NginxIngressControllerArgs(**options)
    msg = str(err.value)
    assert f"- {field}" in msg, msg
    assert hint in msg, msg
    assert "Fix" in msg or "Did you mean" in msg, msg


def test_args_as_plain_data_are_validated_like_the_model() -> None:
    rec = run_program(lambda: NginxIngressController("i", {"mesh": True, "replicas": 3}))
    assert values(rec)["controller"]["replicaCount"] == 3
    with pytest.raises(InvalidArgumentError, match=r"- replica: unknown field"):
        run_program(lambda: NginxIngressController("i", {"replica": 3}))
    with pytest.raises(InvalidArgumentError, match="NginxIngressControllerArgs"):
        run_program(lambda: NginxIngressController("i", "mesh"))  # type: ignore[arg-type]


def test_a_plain_problem_is_reported_at_once_even_beside_outputs() -> None:
    def program() -> None:
        NginxIngressControllerArgs(
            namespace=pulumi.Output.from_input("edge"), mesh=True, pod_security="restricted"
        )

    with pytest.raises(InvalidArgumentError, match="set linkerd_cni=True"):
        run_program(program)


# --- arguments that are Outputs of other resources ---------------------------------------------


def test_outputs_flow_into_the_release_and_the_ref() -> None:
    holder: dict[str, Any] = {}

    def program() -> None:
        c = NginxIngressController(
            "ingress",
            NginxIngressControllerArgs(
                release_name=pulumi.Output.from_input("edge"),
                ingress_class=pulumi.Output.from_input("grpc"),
                replicas=pulumi.Output.from_input(3),
                worker_shutdown_timeout_seconds=pulumi.Output.from_input(600),
                config={"http2-max-concurrent-streams": pulumi.Output.from_input("256")},
                service_annotations=pulumi.Output.from_input({"a.example.com/lb": "internal"}),
            ),
        )
        holder["c"] = c
        c.ref.peer.pod_labels.apply(lambda v: holder.__setitem__("labels", v))  # type: ignore[union-attr]
        c.service_account.apply(lambda v: holder.__setitem__("sa", v))

    rec = run_program(program)
    release = rec.one(RELEASE).inputs
    assert release["name"] == "edge"
    c = release["values"]["controller"]
    assert (c["replicaCount"], c["ingressClass"]) == (3, "grpc")
    assert c["ingressClassResource"]["controllerValue"] == "k8s.io/ingress-nginx-grpc"
    assert c["config"]["worker-shutdown-timeout"] == "600s"
    assert c["config"]["http2-max-concurrent-streams"] == "256"
    assert c["terminationGracePeriodSeconds"] == 660
    assert c["service"]["annotations"] == {"a.example.com/lb": "internal"}
    assert release["values"]["serviceAccount"] == {"name": "edge-ingress-nginx"}
    assert holder["labels"]["app.kubernetes.io/instance"] == "edge"
    assert holder["sa"] == "edge-ingress-nginx"
    assert unknown_value_keys(release["values"], KEYS) == []


def test_namespace_from_another_resource_orders_the_release_with_no_depends_on() -> None:
    def program() -> None:
        # Any resource's output will do; here a ConfigMap that holds the namespace's name.
        cm = k8s.core.v1.ConfigMap("names", metadata={"name": "names"}, data={"ns": "edge"})
        NginxIngressController(
            "ingress", NginxIngressControllerArgs(namespace=cm.data.apply(lambda d: d["ns"]))
        )

    rec = run_program(program)
    cm = rec.one("kubernetes:core/v1:ConfigMap")
    assert rec.kube("Namespace")["metadata"]["name"] == "edge"
    assert rec.one(RELEASE).inputs["namespace"] == "edge"
    assert rec.depends_on(rec.one(RELEASE), cm)
    assert rec.depends_on(rec.one("kubernetes:core/v1:Namespace"), cm)


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"namespace": "Edge_NS"}, "namespace: got 'Edge_NS'"),
        ({"replicas": 0}, "replicas: got 0; must be between 1 and 100"),
        ({"config": {"load-balance": "ewma"}}, "config: got {'load-balance': 'ewma'}"),
        (
            {"service_type": "ClusterIP", "load_balancer_source_ranges": ["10.0.0.0/8"]},
            "only applies to service_type LoadBalancer",
        ),
    ],
)
def test_an_output_that_resolves_to_a_bad_value_fails_the_deployment(
    options: dict[str, Any], expected: str
) -> None:
    def program() -> None:
        kw = {k: pulumi.Output.from_input(v) for k, v in options.items()}
        NginxIngressController("ingress", NginxIngressControllerArgs(**kw))

    with pytest.raises(ValueError) as err:
        run_program(program)
    msg = str(err.value)
    assert "NginxIngressController 'ingress': invalid input (values that arrived as Outputs" in msg
    assert expected in msg, msg
    registered = [r.type for r in err.value.recording.resources]  # type: ignore[attr-defined]
    assert RELEASE not in registered


def test_a_switch_that_decides_the_objects_must_be_plain() -> None:
    def program() -> None:
        NginxIngressControllerArgs(mesh=pulumi.Output.from_input(True))  # type: ignore[arg-type]

    with pytest.raises(InvalidArgumentError, match=r"mesh: got an Output.*known when the"):
        run_program(program)
