"""MeshAuthorization: the Linkerd policy objects it sends, that kubelet probes still pass under
the strictest inbound policy, and what it refuses."""

from __future__ import annotations

import ipaddress
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import pytest
from schema_checks import validate_all

from grpc_kube._validation import InvalidArgumentError
from grpc_kube.grpc_service import (
    GrpcService,
    GrpcServiceArgs,
    GrpcServiceRef,
    ProbeArgs,
    ServerTlsArgs,
)
from grpc_kube.linkerd_control_plane import LinkerdControlPlane
from grpc_kube.mesh_authorization import (
    MeshAuthorization,
    MeshAuthorizationArgs,
    ServiceAccountRef,
)
from grpc_kube.mesh_enabled_namespace import MeshEnabledNamespace, MeshEnabledNamespaceArgs
from grpc_kube.peers import PeerRef
from grpc_kube.testing import Recording, run_program

IMAGE = "ghcr.io/example/orders:2.0.1"
GATEWAY_PEER = PeerRef(
    namespace="grpc-gateway",
    pod_labels={"gateway.networking.k8s.io/gateway-name": "grpc-gateway"},
    service_account="grpc-gateway-nginx",
    meshed=True,
    ports=(443,),
)


def svc(name: str, **kw: Any) -> GrpcService:
    kw.setdefault("image", IMAGE)
    kw.setdefault("namespace", "shop")
    kw.setdefault("health_port", 8086)
    return GrpcService(name, GrpcServiceArgs(**kw))


def build(
    server_kw: dict[str, Any] | None = None,
    allow: Any = None,
    args: MeshAuthorizationArgs | None = None,
    *,
    control_plane: bool = False,
    policy: str = "deny",
) -> tuple[Recording, dict[str, Any]]:
    made: dict[str, Any] = {}

    def program() -> None:
        cp = LinkerdControlPlane("mesh") if control_plane else None
        made["ns"] = MeshEnabledNamespace(
            "shop", MeshEnabledNamespaceArgs(default_inbound_policy=policy), control_plane=cp
        )
        made["orders"] = svc("orders", **(server_kw or {}))
        made["checkout"] = svc("checkout")
        clients = [made["checkout"], GATEWAY_PEER] if allow is None else allow
        made["authz"] = MeshAuthorization(
            "orders-authz", args, server=made["orders"], allow=clients, control_plane=cp
        )

    return run_program(program), made


def policy_objects(rec: Recording) -> list[dict[str, Any]]:
    return [o for o in rec.kubernetes_objects() if o["apiVersion"].startswith("policy.linkerd.io")]


# --- what is sent ---------------------------------------------------------------------------


def test_server_covers_the_grpc_port_of_exactly_the_service_pods() -> None:
    rec, made = build()
    server = rec.kube("Server", "orders-grpc")
    assert server["apiVersion"] == "policy.linkerd.io/v1beta3"
    assert server["metadata"]["namespace"] == "shop"
    assert server["spec"] == {
        "podSelector": {"matchLabels": {"app.kubernetes.io/name": "orders"}},
        "port": "grpc",
        "proxyProtocol": "gRPC",
        "accessPolicy": "deny",
    }
    # The Server's port name is the container port GrpcService declares.
    container = rec.kube("Deployment", "orders")["spec"]["template"]["spec"]["containers"][0]
    assert {"name": "grpc", "containerPort": 50051, "protocol": "TCP"} in container["ports"]
    assert made["authz"].server_name == "orders-grpc"


def test_only_the_named_identities_are_authenticated() -> None:
    rec, made = build()
    authn = rec.kube("MeshTLSAuthentication", "orders-grpc-clients")
    assert authn["apiVersion"] == "policy.linkerd.io/v1alpha1"
    assert authn["spec"] == {
        "identityRefs": [
            {"kind": "ServiceAccount", "name": "grpc-gateway-nginx", "namespace": "grpc-gateway"},
            {"kind": "ServiceAccount", "name": "checkout", "namespace": "shop"},
        ]
    }
    assert made["authz"].identities == (
        "grpc-gateway-nginx.grpc-gateway.serviceaccount.identity.linkerd.cluster.local",
        "checkout.shop.serviceaccount.identity.linkerd.cluster.local",
    )
    assert made["checkout"].ref.mesh_identity in made["authz"].identities


def test_authorization_policy_ties_the_server_to_the_identities() -> None:
    rec, _ = build()
    policy = rec.kube("AuthorizationPolicy", "orders-grpc")
    assert policy["apiVersion"] == "policy.linkerd.io/v1alpha1"
    assert policy["spec"] == {
        "targetRef": {"group": "policy.linkerd.io", "kind": "Server", "name": "orders-grpc"},
        "requiredAuthenticationRefs": [
            {
                "group": "policy.linkerd.io",
                "kind": "MeshTLSAuthentication",
                "name": "orders-grpc-clients",
            }
        ],
    }


def test_health_port_gets_its_own_server_open_to_probe_networks() -> None:
    rec, made = build()
    health = rec.kube("Server", "orders-grpc-health")
    assert health["spec"]["port"] == "grpc-health"
    assert health["spec"]["proxyProtocol"] == "gRPC"
    assert rec.kube("NetworkAuthentication", "orders-probes")["spec"] == {
        "networks": [{"cidr": "0.0.0.0/0"}, {"cidr": "::/0"}]
    }
    assert rec.kube("AuthorizationPolicy", "orders-grpc-health")["spec"] == {
        "targetRef": {"group": "policy.linkerd.io", "kind": "Server", "name": "orders-grpc-health"},
        "requiredAuthenticationRefs": [
            {"group": "policy.linkerd.io", "kind": "NetworkAuthentication", "name": "orders-probes"}
        ],
    }
    assert made["authz"].health_server_name == "orders-grpc-health"


def test_probe_networks_can_be_narrowed() -> None:
    rec, _ = build(args=MeshAuthorizationArgs(probe_networks=("10.128.0.0/16",)))
    assert rec.kube("NetworkAuthentication")["spec"] == {"networks": [{"cidr": "10.128.0.0/16"}]}


def test_objects_use_served_linkerd_versions_and_validate() -> None:
    rec, _ = build()
    kinds = sorted((o["kind"], o["apiVersion"]) for o in policy_objects(rec))
    assert kinds == [
        ("AuthorizationPolicy", "policy.linkerd.io/v1alpha1"),
        ("AuthorizationPolicy", "policy.linkerd.io/v1alpha1"),
        ("MeshTLSAuthentication", "policy.linkerd.io/v1alpha1"),
        ("NetworkAuthentication", "policy.linkerd.io/v1alpha1"),
        ("Server", "policy.linkerd.io/v1beta3"),
        ("Server", "policy.linkerd.io/v1beta3"),
    ]
    # Linkerd CRDs against linkerd-crds edge-26.8.3, the rest against Kubernetes 1.31-1.35.
    assert validate_all(rec.kubernetes_objects()) == len(rec.kubernetes_objects())


def test_server_is_created_after_its_policy_and_all_after_the_control_plane() -> None:
    rec, _ = build(control_plane=True)
    server = rec.one("kubernetes:policy.linkerd.io/v1beta3:Server", "orders-authz-server")
    policy = rec.one(
        "kubernetes:policy.linkerd.io/v1alpha1:AuthorizationPolicy", "orders-authz-policy"
    )
    authn = rec.one(
        "kubernetes:policy.linkerd.io/v1alpha1:MeshTLSAuthentication", "orders-authz-clients"
    )
    assert policy.urn in server.dependencies
    assert authn.urn in policy.dependencies
    health = rec.one("kubernetes:policy.linkerd.io/v1beta3:Server", "orders-authz-health-server")
    assert (
        rec.one(
            "kubernetes:policy.linkerd.io/v1alpha1:AuthorizationPolicy",
            "orders-authz-health-policy",
        ).urn
        in health.dependencies
    )
    crds = rec.one("kubernetes:helm.sh/v3:Release", "mesh-crds")
    for obj in (server, policy, authn, health):
        assert crds.urn in obj.dependencies
    component = rec.one("grpc-kube:index:MeshAuthorization")
    assert len(rec.children_of(component)) == 6


def test_duplicates_collapse_and_every_client_kind_is_accepted() -> None:
    def program() -> None:
        orders = svc("orders")
        checkout = svc("checkout")
        MeshAuthorization(
            "orders-authz",
            server=orders,
            allow=[
                checkout,
                checkout.peer,
                ServiceAccountRef("shop", "checkout"),
                ServiceAccountRef("batch", "nightly-report"),
                GATEWAY_PEER,
            ],
        )

    rec = run_program(program)
    refs = rec.kube("MeshTLSAuthentication")["spec"]["identityRefs"]
    assert [(r["namespace"], r["name"]) for r in refs] == [
        ("batch", "nightly-report"),
        ("grpc-gateway", "grpc-gateway-nginx"),
        ("shop", "checkout"),
    ]


def test_tls_server_is_opaque_tls_but_its_health_port_is_grpc() -> None:
    rec, _ = build({"tls": ServerTlsArgs(secret_name="orders-tls")})
    assert rec.kube("Server", "orders-grpc")["spec"]["proxyProtocol"] == "TLS"
    assert rec.kube("Server", "orders-grpc-health")["spec"]["proxyProtocol"] == "gRPC"


def test_service_without_probes_needs_no_health_server() -> None:
    rec, made = build({"health_port": None, "probes": ProbeArgs(enabled=False)})
    assert [o["metadata"]["name"] for o in rec.kubernetes_objects() if o["kind"] == "Server"] == [
        "orders-grpc"
    ]
    assert made["authz"].health_server_name is None


def test_headless_service_warns_that_linkerd_will_not_balance_it() -> None:
    rec, _ = build({"headless": True})
    assert any("headless" in w and "round_robin" in w for w in rec.warnings), rec.warnings
    rec, _ = build()
    assert rec.warnings == []


# --- the strictest inbound policy: what Linkerd would decide --------------------------------
#
# A small model of Linkerd's inbound decision, enough to show why the objects above keep probes
# working under `deny`: a connection to a pod port is judged by the Server that selects the pod
# and port; with no Server, by the namespace's default inbound policy. A Server admits a
# connection if some AuthorizationPolicy targeting it has all its authentications satisfied.

NODE_IP = "10.0.3.7"  # kubelet probes come from the node, with no mesh identity


def linkerd_admits(
    rec: Recording, deployment: str, port: int, *, identity: str | None, ip: str
) -> bool:
    objs = rec.kubernetes_objects()
    dep = rec.kube("Deployment", deployment)
    ns = dep["metadata"]["namespace"]
    pod = dep["spec"]["template"]
    names = {p["name"]: p["containerPort"] for c in pod["spec"]["containers"] for p in c["ports"]}
    labels = pod["metadata"]["labels"]

    def selects(server: dict[str, Any]) -> bool:
        spec = server["spec"]
        wanted = spec["podSelector"].get("matchLabels", {})
        port_ok = (
            names.get(spec["port"]) == port
            if isinstance(spec["port"], str)
            else (spec["port"] == port)
        )
        return all(labels.get(k) == v for k, v in wanted.items()) and port_ok

    servers = [
        o for o in objs if o["kind"] == "Server" and o["metadata"]["namespace"] == ns and selects(o)
    ]
    if not servers:
        namespace = rec.kube("Namespace", ns)
        default = namespace["metadata"]["annotations"]["config.linkerd.io/default-inbound-policy"]
        return {"deny": False, "all-authenticated": identity is not None}.get(default, True)
    (server,) = servers

    def satisfied(ref: dict[str, str]) -> bool:
        (auth,) = [
            o for o in objs if o["kind"] == ref["kind"] and o["metadata"]["name"] == ref["name"]
        ]
        if ref["kind"] == "MeshTLSAuthentication":
            allowed = {
                f"{r['name']}.{r['namespace']}.serviceaccount.identity.linkerd.cluster.local"
                for r in auth["spec"]["identityRefs"]
            }
            return identity in allowed
        addr = ipaddress.ip_address(ip)
        return any(
            addr.version == ipaddress.ip_network(n["cidr"]).version
            and addr in ipaddress.ip_network(n["cidr"])
            for n in auth["spec"]["networks"]
        )

    return any(
        all(satisfied(ref) for ref in o["spec"]["requiredAuthenticationRefs"])
        for o in objs
        if o["kind"] == "AuthorizationPolicy"
        and o["spec"]["targetRef"]["name"] == server["metadata"]["name"]
    )


@pytest.mark.parametrize("policy", ["deny", "all-authenticated"])
def test_kubelet_probes_pass_under_the_strictest_policy(policy: str) -> None:
    rec, made = build(policy=policy)
    assert (
        rec.kube("Namespace", "shop")["metadata"]["annotations"][
            "config.linkerd.io/default-inbound-policy"
        ]
        == policy
    )
    container = rec.kube("Deployment", "orders")["spec"]["template"]["spec"]["containers"][0]
    probe_port = container["readinessProbe"]["grpc"]["port"]
    assert probe_port == container["livenessProbe"]["grpc"]["port"] == 8086
    # The kubelet's probe on the health port is admitted ...
    assert linkerd_admits(rec, "orders", probe_port, identity=None, ip=NODE_IP)
    # ... the same unauthenticated caller on the gRPC port is not ...
    assert not linkerd_admits(rec, "orders", 50051, identity=None, ip=NODE_IP)
    # ... nor a meshed workload that was not named; the named clients are.
    stranger = "intruder.shop.serviceaccount.identity.linkerd.cluster.local"
    assert not linkerd_admits(rec, "orders", 50051, identity=stranger, ip="10.1.0.9")
    for identity in made["authz"].identities:
        assert linkerd_admits(rec, "orders", 50051, identity=identity, ip="10.1.0.9")
    # A service without a MeshAuthorization has no Server: under `deny` its probes would fail,
    # which is why strict namespaces need one per GrpcService (docs/linkerd.md).
    checkout_probe = 8086
    assert linkerd_admits(rec, "checkout", checkout_probe, identity=None, ip=NODE_IP) is False


# --- bad input ------------------------------------------------------------------------------


def _errors_for(
    allow: Any = None, server: Any = "orders", **server_kw: Any
) -> tuple[Recording, list[str]]:
    errors: list[str] = []

    def program() -> None:
        orders = svc("orders", **server_kw)
        target = orders if server == "orders" else server
        try:
            MeshAuthorization(
                "orders-authz",
                server=target,
                allow=[svc("checkout")] if allow is None else allow,
            )
        except InvalidArgumentError as exc:
            errors.append(str(exc))

    return run_program(program), errors


@pytest.mark.parametrize(
    ("allow", "field", "hint"),
    [
        (["checkout"], "allow[0]", "got str"),
        ([PeerRef(namespace="shop", pod_labels={"app": "x"})], "allow[0]", "service_account"),
        ([{"namespace": "shop", "name": "checkout"}], "allow[0]", "got dict"),
        ([ServiceAccountRef("shop", "ok"), 42], "allow[1]", "got int"),
        ([], "allow", "admit nobody"),
        ("checkout", "allow", "expected a list"),
    ],
)
def test_bad_clients_fail_before_anything_registers(allow: Any, field: str, hint: str) -> None:
    rec, errors = _errors_for(allow)
    assert rec.of_type("grpc-kube:index:MeshAuthorization") == []
    assert f"- {field}" in errors[0], errors[0]
    assert hint in errors[0] and "Fix:" in errors[0], errors[0]


def test_control_plane_peer_is_not_an_identity() -> None:
    def program() -> None:
        cp = LinkerdControlPlane("mesh")
        MeshAuthorization("orders-authz", server=svc("orders"), allow=[cp.peer])

    with pytest.raises(InvalidArgumentError, match="without a service_account"):
        run_program(program)


def test_probes_on_the_grpc_port_are_refused_with_the_fix() -> None:
    rec, errors = _errors_for(health_port=None)
    assert rec.of_type("grpc-kube:index:MeshAuthorization") == []
    assert "- server:" in errors[0]
    assert "health_port=8086" in errors[0] and "never become Ready" in errors[0]


def test_server_must_be_a_grpc_service() -> None:
    rec, errors = _errors_for(server=GATEWAY_PEER)
    assert "- server: got PeerRef" in errors[0] and "Fix:" in errors[0]
    assert rec.of_type("grpc-kube:index:MeshAuthorization") == []


@pytest.mark.parametrize(
    ("make", "hint"),
    [
        (lambda: ServiceAccountRef("Shop", "checkout"), "namespace: got 'Shop'"),
        (lambda: ServiceAccountRef("shop", "Check Out"), "name: got 'Check Out'"),
        (lambda: MeshAuthorizationArgs(probe_networks=()), "never Ready"),
        (
            lambda: MeshAuthorizationArgs(probe_networks=("10.0.0.1/8",)),
            'Did you mean "10.0.0.0/8"',
        ),
        (lambda: MeshAuthorizationArgs(probe_network=("10.0.0.0/8",)), "Did you mean"),
    ],
)
def test_bad_values_name_field_and_fix(make: Any, hint: str) -> None:
    with pytest.raises(InvalidArgumentError) as err:
        make()
    assert hint in str(err.value), str(err.value)


def test_control_plane_type_is_checked() -> None:
    def program() -> None:
        MeshAuthorization(
            "orders-authz", server=svc("orders"), allow=[GATEWAY_PEER], control_plane="mesh"
        )  # type: ignore[arg-type]

    with pytest.raises(InvalidArgumentError, match="- control_plane: got str"):
        run_program(program)


def test_args_as_plain_data_are_validated_like_the_model() -> None:
    # Other languages (and YAML) hand the component a plain map: same checks, same messages.
    with pytest.raises(InvalidArgumentError, match="probe_networks: got \\(\\); no probe network"):
        run_program(
            lambda: MeshAuthorization("a", {"probe_networks": ()}, server=None, allow=[])  # type: ignore[arg-type]
        )
    rec, _ = build(args={"probe_networks": ["10.128.0.0/16"]})  # type: ignore[arg-type]
    assert rec.kube("NetworkAuthentication")["spec"] == {"networks": [{"cidr": "10.128.0.0/16"}]}


def test_every_bad_probe_network_is_reported() -> None:
    with pytest.raises(InvalidArgumentError) as err:
        MeshAuthorizationArgs(probe_networks=["10.0.0.0/8", "10.1.0.1", "::/0", "10.2.0.1/16"])
    assert len(err.value.problems) == 2, err.value.problems
    assert err.value.problems[0].startswith("probe_networks[1]: got '10.1.0.1';")
    assert 'Did you mean "10.1.0.1/32"' in err.value.problems[0]
    assert err.value.problems[1].startswith("probe_networks[3]: got '10.2.0.1/16';")
    assert 'Did you mean "10.2.0.0/16"' in err.value.problems[1]


# --- arguments that are Outputs of other resources ---------------------------------------------


def test_namespace_from_a_namespace_resource_orders_every_object_with_no_depends_on() -> None:
    made: dict[str, Any] = {}

    def program() -> None:
        made["ns"] = k8s.core.v1.Namespace("shop-ns", metadata={"name": "shop"})
        shop = made["ns"].metadata.name
        orders = svc("orders", namespace=shop)
        checkout = svc("checkout", namespace=shop)
        made["authz"] = MeshAuthorization("orders-authz", server=orders, allow=[checkout])

    rec = run_program(program)
    ns = rec.one("kubernetes:core/v1:Namespace")
    objects = rec.descendants_of(rec.one("grpc-kube:index:MeshAuthorization"))
    assert len(objects) == 6
    for obj in objects:
        assert obj.get("metadata.namespace") == "shop", obj.name
        assert rec.depends_on(obj, ns), obj.name
    assert rec.kube("MeshTLSAuthentication")["spec"] == {
        "identityRefs": [{"kind": "ServiceAccount", "name": "checkout", "namespace": "shop"}]
    }
    # Names come from the Service name, which is plain here.
    assert made["authz"].server_name == "orders-grpc"


def test_a_service_ref_with_outputs_flows_into_the_objects() -> None:
    seen: dict[str, Any] = {}

    def program() -> None:
        server = GrpcServiceRef(
            name=pulumi.Output.from_input("orders"),
            namespace=pulumi.Output.from_input("shop"),
            health_port=pulumi.Output.from_input(8086),
        )
        caller = ServiceAccountRef(pulumi.Output.from_input("batch"), "nightly-report")
        authz = MeshAuthorization(
            "orders-authz",
            {"probe_networks": pulumi.Output.from_input(["10.128.0.0/16"])},
            server=server,
            allow=[caller, ServiceAccountRef("batch", "nightly-report"), GATEWAY_PEER],
        )
        pulumi.Output.all(authz.server_name, authz.health_server_name, authz.identities).apply(
            lambda v: seen.update(names=v[:2], identities=v[2])
        )

    rec = run_program(program)
    assert rec.kube("Server", "orders-grpc")["spec"]["podSelector"] == {
        "matchLabels": {"app.kubernetes.io/name": "orders"}
    }
    assert rec.kube("Server", "orders-grpc-health")["metadata"]["namespace"] == "shop"
    assert rec.kube("NetworkAuthentication", "orders-probes")["spec"] == {
        "networks": [{"cidr": "10.128.0.0/16"}]
    }
    # Deduplicated and sorted once the values are known.
    assert rec.kube("MeshTLSAuthentication", "orders-grpc-clients")["spec"]["identityRefs"] == [
        {"kind": "ServiceAccount", "name": "nightly-report", "namespace": "batch"},
        {"kind": "ServiceAccount", "name": "grpc-gateway-nginx", "namespace": "grpc-gateway"},
    ]
    assert seen["names"] == ["orders-grpc", "orders-grpc-health"]
    assert seen["identities"] == (
        "nightly-report.batch.serviceaccount.identity.linkerd.cluster.local",
        "grpc-gateway-nginx.grpc-gateway.serviceaccount.identity.linkerd.cluster.local",
    )
    assert rec.warnings == []


def test_a_service_ref_without_health_port_warns_about_probes() -> None:
    rec = run_program(
        lambda: MeshAuthorization(
            "orders-authz",
            server=GrpcServiceRef(name="orders", namespace="shop"),
            allow=[GATEWAY_PEER],
        )
    )
    assert [o["metadata"]["name"] for o in rec.kubernetes_objects() if o["kind"] == "Server"] == [
        "orders-grpc"
    ]
    assert any("no health_port" in w and "never become Ready" in w for w in rec.warnings)


@pytest.mark.parametrize(
    ("build_args", "expected"),
    [
        (
            lambda: {"allow": [ServiceAccountRef(pulumi.Output.from_input("Bad_NS"), "job")]},
            "allow[0].namespace: got 'Bad_NS'",
        ),
        (
            lambda: {"allow": [ServiceAccountRef("batch", pulumi.Output.from_input("Night Job"))]},
            "allow[0].name: got 'Night Job'",
        ),
        (
            lambda: {
                "args": MeshAuthorizationArgs(
                    probe_networks=["10.0.0.0/8", pulumi.Output.from_input("10.1.0.1")]
                )
            },
            "probe_networks[1]: got '10.1.0.1'",
        ),
        (
            lambda: {
                "server": GrpcServiceRef(
                    name="orders", namespace=pulumi.Output.from_input("Bad_NS"), health_port=8086
                )
            },
            "namespace: got 'Bad_NS'",
        ),
    ],
    ids=["account-namespace", "account-name", "probe-network", "server-ref-namespace"],
)
def test_an_output_that_resolves_to_a_bad_value_fails_the_deployment(
    build_args: Any, expected: str
) -> None:
    def program() -> None:
        kw = {"server": svc("orders"), "allow": [GATEWAY_PEER], **build_args()}
        MeshAuthorization("orders-authz", kw.pop("args", None), **kw)

    with pytest.raises(ValueError) as err:
        run_program(program)
    msg = str(err.value)
    assert "invalid input (values that arrived as Outputs" in msg, msg
    assert expected in msg, msg


def test_a_bad_output_reaches_no_policy_object() -> None:
    def program() -> None:
        MeshAuthorization(
            "orders-authz",
            server=svc("orders"),
            allow=[ServiceAccountRef(pulumi.Output.from_input("Bad_NS"), "job")],
        )

    with pytest.raises(ValueError, match="Bad_NS") as err:
        run_program(program)
    registered = {r.name for r in err.value.recording.resources}  # type: ignore[attr-defined]
    # The authentication carrying the bad value is never sent, and the gRPC port's policy and
    # Server wait for it, so the port is not closed to callers on a half-made authorization.
    assert not registered & {"orders-authz-clients", "orders-authz-policy", "orders-authz-server"}


def test_a_switch_on_the_server_ref_must_be_plain() -> None:
    def program() -> None:
        GrpcServiceRef(name="orders", namespace="shop", tls=pulumi.Output.from_input(True))  # type: ignore[arg-type]

    with pytest.raises(InvalidArgumentError, match=r"tls: got an Output.*known when the"):
        run_program(program)
