"""NginxIngressController: the Helm release and namespace it sends, the chart values for each
option (every key checked against chart 4.15.1's values.yaml), the peer it reports, the
retirement warning, and what it refuses."""

from __future__ import annotations

from typing import Any

import pytest
from schema_checks import unknown_value_keys, validate_all

from grpc_kube._validation import InvalidArgumentError
from grpc_kube.nginx_ingress_controller import (
    NginxIngressController,
    NginxIngressControllerArgs,
)
from grpc_kube.testing import Recording, run_program

RELEASE = "kubernetes:helm.sh/v3:Release"
KEYS = "ingress-nginx-4.15.1.keys"


def build(name: str = "ingress", **kw: Any) -> tuple[Recording, NginxIngressController]:
    holder: dict[str, NginxIngressController] = {}

    def program() -> None:
        holder["c"] = NginxIngressController(name, NginxIngressControllerArgs(**kw))

    return run_program(program), holder["c"]


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
    assert c.ingress_class == "internal"


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
    assert c.service_account == service_account
    assert c.controller_service_name == service
    assert values(rec)["serviceAccount"]["name"] == service_account
    assert c.peer.mesh_identity == (
        f"{service_account}.ingress.serviceaccount.identity.linkerd.cluster.local"
    )


def test_plain_attributes() -> None:
    _, c = build()
    assert (c.ingress_class, c.namespace, c.meshed, c.release_name) == (
        "nginx",
        "ingress-nginx",
        False,
        "ingress-nginx",
    )
    assert c.client_body_timeout_seconds == 3600


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
        ({"replicas": 0}, "replicas", "greater than or equal to 1"),
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


def test_args_must_be_the_args_model() -> None:
    with pytest.raises(TypeError, match="NginxIngressControllerArgs"):
        run_program(lambda: NginxIngressController("i", {"mesh": True}))  # type: ignore[arg-type]
