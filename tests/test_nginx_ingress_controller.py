"""NginxIngressController: the Helm release and namespace it sends, the chart values for each
option (every key checked against chart 4.15.1's values.yaml), the peer and ref it reports, the
retirement warning, arguments that are Outputs, and what it refuses."""

from __future__ import annotations

import tarfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import pytest
from schema_checks import unknown_value_keys, validate_all

from grpc_kube._validation import InvalidArgumentError
from grpc_kube.grpc_ingress import GrpcIngress, GrpcIngressArgs
from grpc_kube.grpc_service import GrpcService, GrpcServiceArgs
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


# --- where the chart comes from, or a controller the cluster already runs ----------------------


def chart_dir(parent: Path, name: str = "ingress-nginx", version: str = "4.15.1") -> Path:
    """A minimal chart directory, as `helm pull --untar` leaves one."""
    d = parent / name
    d.mkdir(parents=True)
    (d / "Chart.yaml").write_text(f"apiVersion: v2\nname: {name}\nversion: {version}\n")
    return d


def packaged_chart(parent: Path, name: str = "ingress-nginx", version: str = "4.15.1") -> Path:
    """A packaged chart, named as `helm pull` names it."""
    src = chart_dir(parent / "src", name, version)
    out = parent / f"{name}-{version}.tgz"
    with tarfile.open(out, "w:gz") as tar:
        tar.add(src, arcname=name)
    return out


FACTS = {
    "namespace": "edge",
    "release_name": "edge",
    "ingress_class": "grpc",
    "mesh": True,
    "client_body_timeout_seconds": 7200,
}


def test_an_existing_controller_installs_nothing_and_reports_the_same_facts() -> None:
    installed_rec, installed = build(**FACTS)
    rec, existing = build(install={"existing": True}, **FACTS)
    assert rec.of_type(RELEASE) == [] and rec.of_type("kubernetes:core/v1:Namespace") == []
    comp = rec.one("grpc-kube:index:NginxIngressController")
    assert rec.children_of(comp) == []
    assert existing.existing is True and installed.existing is False
    assert existing.release is None and existing.release_status is None
    assert existing.values is None
    # Everything other components read is what the installing component reports.
    assert existing.ref == installed.ref
    assert existing.peer == installed.peer
    assert existing.meshed is installed.meshed is True
    assert seen(existing) == seen(installed)
    assert seen(existing)["controller_service_name"] == "edge-ingress-nginx-controller"
    # The controller is still ingress-nginx, retired upstream.
    assert rec.warnings == installed_rec.warnings
    assert len(installed_rec.of_type(RELEASE)) == 1


def test_grpc_ingress_on_an_existing_controller_writes_the_same_ingress() -> None:
    def program(install: dict[str, Any]) -> Callable[[], None]:
        def run() -> None:
            service = GrpcService(
                "greeter", GrpcServiceArgs(image="ghcr.io/example/greeter:1.0", namespace="demo")
            )
            controller = NginxIngressController(
                "ingress", NginxIngressControllerArgs(install=install, **FACTS)
            )
            GrpcIngress(
                "greeter",
                GrpcIngressArgs(host="grpc.example.com"),
                service=service,
                controller=controller,
            )

        return run

    installed = run_program(program({}))
    existing = run_program(program({"existing": True}))
    assert existing.kube("Ingress") == installed.kube("Ingress")
    assert existing.kube("Ingress")["spec"]["ingressClassName"] == "grpc"
    assert existing.kube("Ingress")["metadata"]["annotations"][
        "nginx.ingress.kubernetes.io/service-upstream"
    ] == ("true")
    assert existing.of_type(RELEASE) == []


def test_an_existing_controller_warns_about_settings_that_only_configure_an_install() -> None:
    rec, _ = build(install={"existing": True}, replicas=3, config={"a-key": "1"}, mesh=True)
    (warning,) = [w for w in rec.warnings if "install.existing" in w]
    assert "config, replicas are ignored" in warning
    assert "mesh" not in warning.split("ignored")[0]


def test_local_chart_directory_is_installed_as_it_is(tmp_path: Path) -> None:
    chart = chart_dir(tmp_path)
    rec, _ = build(install={"chart": str(chart)})
    release = rec.one(RELEASE).inputs
    assert release["chart"] == str(chart)
    # A local chart carries its own version; no repository is asked.
    assert "version" not in release and "repositoryOpts" not in release
    assert release["values"] == values(build()[0])
    assert [w for w in rec.warnings if "local chart" in w] == []


def test_packaged_chart_and_a_directory_of_pulled_charts(tmp_path: Path) -> None:
    tgz = packaged_chart(tmp_path)
    rec, _ = build(install={"chart": str(tgz)})
    assert rec.one(RELEASE).inputs["chart"] == str(tgz)
    # The directory `helm pull -d` wrote into: the chart is found by its name and version.
    rec, _ = build(install={"chart": str(tmp_path)})
    assert rec.one(RELEASE).inputs["chart"] == str(tgz)


def test_a_local_chart_of_another_version_warns(tmp_path: Path) -> None:
    chart = chart_dir(tmp_path, version="4.15.0")
    rec, _ = build(install={"chart": str(chart)})
    assert rec.one(RELEASE).inputs["chart"] == str(chart)
    (warning,) = [w for w in rec.warnings if "local chart" in w]
    assert "ingress-nginx 4.15.0" in warning and "checked against 4.15.1" in warning


def test_oci_mirror_pulls_the_pinned_version() -> None:
    ref = "oci://registry.example.com/charts/ingress-nginx"
    rec, _ = build(install={"chart": ref})
    release = rec.one(RELEASE).inputs
    assert (release["chart"], release["version"]) == (ref, "4.15.1")
    assert "repositoryOpts" not in release


def test_repository_mirror_serves_the_pinned_chart() -> None:
    mirror = "https://charts.example.com/ingress-nginx"
    rec, _ = build(install={"repository": mirror})
    release = rec.one(RELEASE).inputs
    assert (release["chart"], release["version"]) == ("ingress-nginx", "4.15.1")
    assert release["repositoryOpts"] == {"repo": mirror}


@pytest.mark.parametrize(
    ("install", "field", "hint"),
    [
        (
            {"existing": True, "chart": "oci://registry.example.com/charts/ingress-nginx"},
            "install.chart: got 'oci://registry.example.com/charts/ingress-nginx'",
            "nothing is installed",
        ),
        (
            {"existing": True, "repository": "https://charts.example.com"},
            "install.repository: got 'https://charts.example.com'",
            "set existing: false",
        ),
        (
            {
                "chart": "oci://registry.example.com/charts/ingress-nginx",
                "repository": "https://charts.example.com",
            },
            "install.repository: got 'https://charts.example.com'",
            "oci:// reference names its registry",
        ),
        (
            {"chart": "./no/such/ingress-nginx-4.15.1.tgz"},
            "install.chart: got './no/such/ingress-nginx-4.15.1.tgz'",
            "there is no file or directory at './no/such/ingress-nginx-4.15.1.tgz'",
        ),
        (
            {"chart": "https://charts.example.com/ingress-nginx-4.15.1.tgz"},
            "install.chart",
            "set repository",
        ),
        ({"chart": "oci://"}, "install.chart", "registry and a path"),
        ({"chart": " ./charts"}, "install.chart", "surrounding spaces"),
        (
            {"repository": "oci://registry.example.com/charts"},
            "install.repository",
            "set chart: 'oci://registry.example.com/charts/<chart name>'",
        ),
        ({"repository": "charts.example.com"}, "install.repository", "https://"),
        ({"exists": True}, "install.exists", "Did you mean 'existing'"),
    ],
)
def test_bad_install_names_field_value_and_fix(
    install: dict[str, Any], field: str, hint: str
) -> None:
    with pytest.raises(InvalidArgumentError) as err:
        NginxIngressControllerArgs(install=install)
    msg = str(err.value)
    assert f"- {field}" in msg, msg
    assert hint in msg, msg
    assert "Fix" in msg or "Did you mean" in msg, msg


def test_a_local_path_must_hold_this_chart(tmp_path: Path) -> None:
    with pytest.raises(InvalidArgumentError) as err:
        NginxIngressControllerArgs(install={"chart": str(tmp_path)})
    msg = str(err.value)
    assert f"- install.chart: got {str(tmp_path)!r}" in msg
    assert "ingress-nginx-4.15.1.tgz" in msg and "Fix: put the chart there" in msg
    other = chart_dir(tmp_path, name="nginx")
    with pytest.raises(InvalidArgumentError, match=r"is 'nginx', not 'ingress-nginx'"):
        NginxIngressControllerArgs(install={"chart": str(other)})
    (tmp_path / "notes.txt").write_text("not a chart")
    with pytest.raises(InvalidArgumentError, match=r"not a packaged Helm chart"):
        NginxIngressControllerArgs(install={"chart": str(tmp_path / "notes.txt")})


def test_a_bad_install_registers_nothing(tmp_path: Path) -> None:
    missing = str(tmp_path / "gone")
    with pytest.raises(InvalidArgumentError, match="there is no file or directory") as err:
        run_program(lambda: NginxIngressController("i", {"install": {"chart": missing}}))
    assert len(err.value.recording) == 0  # type: ignore[attr-defined]


def test_install_must_be_plain() -> None:
    def program() -> None:
        NginxIngressControllerArgs(install={"existing": pulumi.Output.from_input(True)})

    with pytest.raises(InvalidArgumentError, match=r"install.existing: got an Output"):
        run_program(program)
