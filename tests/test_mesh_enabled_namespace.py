"""MeshEnabledNamespace: annotations, Pod Security labels, ordering after the control plane,
patching existing namespaces, and what it refuses."""

from __future__ import annotations

from typing import Any

import pulumi
import pytest
from schema_checks import validate_all

from grpc_kube._namespaces import admits_linkerd_init, namespace_metadata, pod_security_level
from grpc_kube._validation import InvalidArgumentError
from grpc_kube.grpc_service import GrpcService, GrpcServiceArgs
from grpc_kube.linkerd_control_plane import (
    INBOUND_POLICIES,
    LinkerdControlPlane,
    LinkerdControlPlaneArgs,
)
from grpc_kube.mesh_enabled_namespace import MeshEnabledNamespace, MeshEnabledNamespaceArgs
from grpc_kube.testing import Recording, run_program

IMAGE = "ghcr.io/example/greeter:1.4.2"
NS = "kubernetes:core/v1:Namespace"
PATCH = "kubernetes:core/v1:NamespacePatch"
PSS_ENFORCE = "pod-security.kubernetes.io/enforce"


def build(
    args: MeshEnabledNamespaceArgs | None = None,
    *,
    with_control_plane: bool = True,
    cni: bool = False,
) -> tuple[Recording, MeshEnabledNamespace]:
    made: dict[str, MeshEnabledNamespace] = {}

    def program() -> None:
        cp = (
            LinkerdControlPlane("mesh", LinkerdControlPlaneArgs(cni_enabled=cni))
            if with_control_plane
            else None
        )
        made["ns"] = MeshEnabledNamespace("apps", args, control_plane=cp)
        pulumi.export("ns_name", made["ns"].name)

    return run_program(program), made["ns"]


def test_default_namespace_is_meshed_with_linkerds_default_policy() -> None:
    rec, ns = build()
    obj = rec.kube("Namespace", "apps")
    assert obj["metadata"]["annotations"] == {
        "linkerd.io/inject": "enabled",
        "config.linkerd.io/default-inbound-policy": "all-unauthenticated",
    }
    assert rec.outputs["ns_name"] == "apps"
    assert ns.default_inbound_policy == "all-unauthenticated"
    assert ns.meshed is True
    assert (
        rec.one(NS, "apps-namespace").parent
        == rec.one("grpc-kube:index:MeshEnabledNamespace", "apps").urn
    )


@pytest.mark.parametrize("policy", INBOUND_POLICIES)
def test_each_inbound_policy_becomes_the_annotation(policy: str) -> None:
    rec, ns = build(MeshEnabledNamespaceArgs(default_inbound_policy=policy))  # type: ignore[arg-type]
    annotations = rec.kube("Namespace", "apps")["metadata"]["annotations"]
    assert annotations["config.linkerd.io/default-inbound-policy"] == policy
    assert ns.default_inbound_policy == policy


def test_namespace_waits_for_the_control_plane() -> None:
    rec, ns = build()
    namespace = rec.one(NS, "apps-namespace")
    cp = rec.one("grpc-kube:index:LinkerdControlPlane", "mesh")
    assert rec.depends_on(namespace, cp)
    # In particular on the control plane chart, which runs the proxy injector.
    assert rec.one("kubernetes:helm.sh/v3:Release", "mesh-control-plane").urn in (
        namespace.dependencies
    )
    assert ns.resource is not None


def test_without_a_control_plane_object_nothing_is_ordered() -> None:
    rec, _ = build(with_control_plane=False)
    assert rec.one(NS, "apps-namespace").dependencies == []


@pytest.mark.parametrize(
    ("cni", "enforce"),
    [(False, "privileged"), (True, "restricted")],
    ids=["linkerd-init", "cni-plugin"],
)
def test_pod_security_default_follows_the_cni_setting(cni: bool, enforce: str) -> None:
    rec, ns = build(cni=cni)
    labels = rec.kube("Namespace", "apps")["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == enforce
    # Warnings and audit always hold the app to restricted.
    assert labels["pod-security.kubernetes.io/warn"] == "restricted"
    assert labels["pod-security.kubernetes.io/audit"] == "restricted"
    assert ns.pod_security == enforce


def test_cni_without_a_control_plane_object() -> None:
    rec, ns = build(MeshEnabledNamespaceArgs(linkerd_cni=True), with_control_plane=False)
    assert rec.kube("Namespace")["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == (
        "restricted"
    )
    rec, ns = build(with_control_plane=False)
    assert ns.pod_security == "privileged"


def test_explicit_level_with_cni() -> None:
    rec, _ = build(MeshEnabledNamespaceArgs(pod_security="baseline"), cni=True)
    labels = rec.kube("Namespace", "apps")["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "baseline"


def test_name_and_extra_labels() -> None:
    rec, _ = build(MeshEnabledNamespaceArgs(name="payments", labels={"team": "payments"}))
    obj = rec.kube("Namespace", "payments")
    assert obj["metadata"]["labels"]["team"] == "payments"
    assert obj["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "grpc-kube"
    assert rec.outputs["ns_name"] == "payments"


def test_existing_namespace_is_patched_not_created() -> None:
    rec, ns = build(MeshEnabledNamespaceArgs(name="legacy", existing=True))
    assert rec.of_type(NS) == [rec.one(NS, "mesh-namespace")]  # only the control plane's
    patch = rec.one(PATCH, "apps-namespace")
    assert patch.inputs["metadata"]["name"] == "legacy"
    assert patch.inputs["metadata"]["annotations"]["linkerd.io/inject"] == "enabled"
    # A patch claims only what meshing needs, not the namespace's ownership label.
    assert "app.kubernetes.io/managed-by" not in patch.inputs["metadata"]["labels"]
    assert rec.depends_on(patch, rec.one("grpc-kube:index:LinkerdControlPlane"))
    assert ns.resource is not None


@pytest.mark.parametrize(
    "options",
    [{}, {"existing": True, "labels": {"team": "a"}, "default_inbound_policy": "deny"}],
    ids=["created", "patched"],
)
def test_objects_validate_against_kubernetes_1_31_to_1_35(options: dict[str, Any]) -> None:
    rec, _ = build(MeshEnabledNamespaceArgs(**options))
    assert validate_all(rec.kubernetes_objects()) == 2


def meshed_service_stack() -> Recording:
    def program() -> None:
        cp = LinkerdControlPlane("mesh")
        ns = MeshEnabledNamespace("apps", control_plane=cp)
        GrpcService(
            "greeter",
            GrpcServiceArgs(image=IMAGE, namespace=ns.name),
            opts=pulumi.ResourceOptions(depends_on=[ns]),
        )

    return run_program(program)


def test_grpc_service_in_a_meshed_namespace_is_injected_by_the_namespace() -> None:
    """The namespace annotation meshes every pod: GrpcService needs no `mesh=True`, only to be
    created after the namespace (and so after the injector)."""
    rec = meshed_service_stack()
    deployment = rec.one("kubernetes:apps/v1:Deployment", "greeter-deployment")
    assert rec.kube("Namespace", "apps")["metadata"]["annotations"]["linkerd.io/inject"] == (
        "enabled"
    )
    assert deployment.inputs["metadata"]["namespace"] == "apps"
    assert "annotations" not in deployment.inputs["spec"]["template"]["metadata"]
    service = rec.one("grpc-kube:index:GrpcService", "greeter")
    assert rec.depends_on(service, rec.one("grpc-kube:index:MeshEnabledNamespace"))


def test_grpc_service_pods_wait_for_the_injector() -> None:
    """GrpcService passes its depends_on to its children, so the Deployment waits for the
    namespace, which waits for the control plane (the injector)."""
    rec = meshed_service_stack()
    deployment = rec.one("kubernetes:apps/v1:Deployment", "greeter-deployment")
    namespace = rec.one("grpc-kube:index:MeshEnabledNamespace")
    assert rec.depends_on(deployment, namespace)
    ns_object = rec.one("kubernetes:core/v1:Namespace", "apps-namespace")
    assert rec.depends_on(ns_object, rec.one("kubernetes:helm.sh/v3:Release", "mesh-control-plane"))


# --- bad input ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "field", "hint"),
    [
        ({"default_inbound_policy": "allow-all"}, "default_inbound_policy", "'deny' or 'audit'"),
        ({"default_inbound_policy": "Deny"}, "default_inbound_policy", "'all-unauthenticated'"),
        ({"pod_security": "strict"}, "pod_security", "'restricted'"),
        ({"name": "Apps_NS"}, "name", "'apps-ns'"),
        ({"labels": {"pod-security.kubernetes.io/enforce": "x"}}, "labels", "pod_security"),
        ({"labels": {"team": "a b"}}, "labels", "not a valid label value"),
        ({"inbound_policy": "deny"}, "inbound_policy", "unknown field"),
    ],
)
def test_bad_args_name_field_and_fix(options: dict[str, Any], field: str, hint: str) -> None:
    with pytest.raises(InvalidArgumentError) as err:
        MeshEnabledNamespaceArgs(**options)
    msg = str(err.value)
    assert f"- {field}" in msg, msg
    assert hint in msg, msg


@pytest.mark.parametrize(
    ("args", "cni", "field", "hint"),
    [
        (MeshEnabledNamespaceArgs(pod_security="restricted"), False, "pod_security", "NET_ADMIN"),
        (MeshEnabledNamespaceArgs(pod_security="baseline"), False, "pod_security", "cni_enabled"),
        (MeshEnabledNamespaceArgs(linkerd_cni=True), False, "linkerd_cni", "read from"),
        (MeshEnabledNamespaceArgs(name="kube-system"), False, "name", "Kubernetes system"),
        (MeshEnabledNamespaceArgs(name="linkerd"), False, "name", "control plane"),
    ],
)
def test_conflicts_fail_before_anything_of_the_namespace_registers(
    args: MeshEnabledNamespaceArgs, cni: bool, field: str, hint: str
) -> None:
    errors: list[str] = []

    def program() -> None:
        cp = LinkerdControlPlane("mesh", LinkerdControlPlaneArgs(cni_enabled=cni))
        try:
            MeshEnabledNamespace("apps", args, control_plane=cp)
        except InvalidArgumentError as exc:
            errors.append(str(exc))

    rec = run_program(program)
    assert rec.of_type("grpc-kube:index:MeshEnabledNamespace") == []
    assert f"- {field}" in errors[0], errors[0]
    assert hint in errors[0] and "Fix:" in errors[0], errors[0]


def test_bad_component_name_and_control_plane_type() -> None:
    errors: list[str] = []

    def program() -> None:
        for name, cp in (("Apps_NS", None), ("apps", "mesh")):
            try:
                MeshEnabledNamespace(name, control_plane=cp)  # type: ignore[arg-type]
            except InvalidArgumentError as exc:
                errors.append(str(exc))

    rec = run_program(program)
    assert len(rec) == 0
    assert "'apps-ns'" in errors[0] and "MeshEnabledNamespaceArgs(name=...)" in errors[0]
    assert "- control_plane: got str" in errors[1]


def test_control_plane_is_a_required_keyword() -> None:
    with pytest.raises(TypeError, match="control_plane"):
        MeshEnabledNamespace("apps")  # type: ignore[call-arg]


# --- arguments that are Outputs of other resources ---------------------------------------------


def test_a_workload_given_the_name_waits_for_the_namespace_with_no_depends_on() -> None:
    def program() -> None:
        cp = LinkerdControlPlane("mesh")
        ns = MeshEnabledNamespace("apps", control_plane=cp)
        GrpcService("greeter", GrpcServiceArgs(image=IMAGE, namespace=ns.name))

    rec = run_program(program)
    deployment = rec.one("kubernetes:apps/v1:Deployment", "greeter-deployment")
    namespace = rec.one(NS, "apps-namespace")
    assert deployment.inputs["metadata"]["namespace"] == "apps"
    assert rec.depends_on(deployment, namespace)
    # ... and so, through the namespace, after the proxy injector.
    assert rec.depends_on(namespace, rec.one("kubernetes:helm.sh/v3:Release", "mesh-control-plane"))


def test_outputs_flow_into_the_namespace() -> None:
    def program() -> None:
        # Outputs exist only inside a running program, so they are made in it.
        team = pulumi.CustomResource("test:index:Team", "team", {"name": "payments"})
        MeshEnabledNamespace(
            "apps",
            MeshEnabledNamespaceArgs(
                name=team.urn.apply(lambda _: "payments"),
                labels=pulumi.Output.from_input({"team": pulumi.Output.from_input("payments")}),
            ),
            control_plane=None,
        )

    rec = run_program(program)
    namespace = rec.one(NS, "apps-namespace")
    labels = namespace.inputs["metadata"]["labels"]
    assert namespace.inputs["metadata"]["name"] == "payments"
    assert labels["team"] == "payments"
    assert labels["pod-security.kubernetes.io/enforce"] == "privileged"
    assert labels["app.kubernetes.io/managed-by"] == "grpc-kube"
    assert rec.depends_on(namespace, rec.one("test:index:Team"))  # no depends_on was given


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"name": "Apps_NS"}, "- name: got 'Apps_NS'"),
        ({"name": "kube-system"}, "- name: got 'kube-system'; Kubernetes system pods"),
        (
            {"labels": {"pod-security.kubernetes.io/enforce": "restricted"}},
            "- labels: got {'pod-security.kubernetes.io/enforce': 'restricted'}",
        ),
    ],
    ids=["bad-name", "reserved-name", "pss-label"],
)
def test_an_output_that_resolves_to_a_bad_value_fails_the_deployment(
    options: dict[str, Any], expected: str
) -> None:
    def program() -> None:
        kw = {k: pulumi.Output.from_input(v) for k, v in options.items()}
        MeshEnabledNamespace("apps", MeshEnabledNamespaceArgs(**kw), control_plane=None)

    with pytest.raises(ValueError) as err:
        run_program(program)
    msg = str(err.value)
    assert "MeshEnabledNamespace 'apps': invalid input (values that arrived as Outputs" in msg, msg
    assert expected in msg, msg
    assert err.value.recording.of_type(NS) == []  # type: ignore[attr-defined]


def test_args_as_plain_data_are_validated_like_the_model() -> None:
    rec = run_program(lambda: MeshEnabledNamespace("apps", {"name": "shop"}, control_plane=None))
    assert rec.kube("Namespace", "shop")
    with pytest.raises(InvalidArgumentError, match=r"- inbound_policy: unknown field"):
        run_program(
            lambda: MeshEnabledNamespace("apps", {"inbound_policy": "deny"}, control_plane=None)
        )


@pytest.mark.parametrize("field", ["pod_security", "existing", "linkerd_cni"])
def test_switches_must_be_plain(field: str) -> None:
    value = {"pod_security": "privileged", "existing": False, "linkerd_cni": False}[field]

    def program() -> None:
        MeshEnabledNamespace("apps", {field: pulumi.Output.from_input(value)}, control_plane=None)

    with pytest.raises(InvalidArgumentError, match=rf"{field}: got an Output.*known when the"):
        run_program(program)


# --- the shared Pod Security rules ----------------------------------------------------------


@pytest.mark.parametrize(
    ("requested", "mesh", "cni", "level"),
    [
        (None, True, False, "privileged"),
        (None, True, True, "restricted"),
        (None, False, False, "restricted"),
        ("baseline", False, False, "baseline"),
        ("restricted", True, False, "restricted"),  # asked for: refused by the callers
    ],
)
def test_pod_security_level(requested: str | None, mesh: bool, cni: bool, level: str) -> None:
    assert pod_security_level(requested, mesh=mesh, linkerd_cni=cni) == level
    assert admits_linkerd_init(level) is (level == "privileged")


def test_namespace_metadata_labels() -> None:
    meta = namespace_metadata("a", enforce="baseline", labels={"team": "x"})
    assert meta == {
        "name": "a",
        "labels": {
            "team": "x",
            "pod-security.kubernetes.io/enforce": "baseline",
            "pod-security.kubernetes.io/warn": "restricted",
            "pod-security.kubernetes.io/audit": "restricted",
            "app.kubernetes.io/managed-by": "grpc-kube",
        },
    }
    patch = namespace_metadata("a", enforce="privileged", managed=False, annotations={"k": "v"})
    assert "app.kubernetes.io/managed-by" not in patch["labels"]
    assert patch["annotations"] == {"k": "v"}
    # The Pod Security labels win over the caller's.
    clash = namespace_metadata("a", enforce="restricted", labels={PSS_ENFORCE: "privileged"})
    assert clash["labels"][PSS_ENFORCE] == "restricted"
