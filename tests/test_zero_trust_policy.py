"""ZeroTrustPolicy: the NetworkPolicies it sends for each feature, what it refuses, and a
reachability check (tests/netpol_eval.py) that the stack's connections pass and nothing else."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import pytest
from netpol_eval import Address, Pod, check
from schema_checks import validate_all

from grpc_kube._validation import InvalidArgumentError
from grpc_kube.grpc_service import GrpcService, GrpcServiceArgs, GrpcServiceRef
from grpc_kube.peers import PeerRef
from grpc_kube.testing import Recording, run_program
from grpc_kube.zero_trust_policy import (
    Allow,
    IpBlock,
    LabelSelector,
    LabelSelectorRequirement,
    NetworkPeer,
    PolicyPort,
    PolicyRule,
    RawNetworkPolicy,
    ZeroTrustPolicy,
    ZeroTrustPolicyArgs,
    check_cidr,
    plan_policies,
    render_raw_policy,
)

IMAGE = "ghcr.io/example/greeter:1.4.2"
NETPOL = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
MANAGED = {"app.kubernetes.io/managed-by": "grpc-kube"}
DNS_RULE = {
    "to": [
        {
            "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
            "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
        }
    ],
    "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}],
}


def linkerd_egress(namespace: str = "linkerd") -> list[dict[str, Any]]:
    """A proxy's egress to the Linkerd control plane, each component on the ports it serves:
    identity pods on 8080, destination pods on 8086 (destination) and 8090 (policy)."""

    def to(component: str, *ports: int) -> dict[str, Any]:
        return {
            "to": [
                {
                    "namespaceSelector": {
                        "matchLabels": {"kubernetes.io/metadata.name": namespace}
                    },
                    "podSelector": {
                        "matchLabels": {"linkerd.io/control-plane-component": component}
                    },
                }
            ],
            "ports": [{"protocol": "TCP", "port": p} for p in ports],
        }

    return [to("identity", 8080), to("destination", 8086, 8090)]


LINKERD_EGRESS = linkerd_egress()


@dataclass
class FakeIngress:
    """Stand-in for GrpcIngress / a Gateway API gateway: the two attributes policies read."""

    backends: tuple[GrpcServiceRef, ...]
    controller_peer: PeerRef


@dataclass
class FakeMeshNamespace:
    """Stand-in for MeshEnabledNamespace."""

    name: str
    meshed: bool = True


class MeshNamespaceResource(pulumi.ComponentResource):
    """A MeshEnabledNamespace-like object that is also a resource (policies must wait for it)."""

    def __init__(self, name: str) -> None:
        super().__init__("test:index:MeshNs", name, None, None)
        k8s.core.v1.Namespace(
            f"{name}-namespace",
            metadata={"name": name, "annotations": {"linkerd.io/inject": "enabled"}},
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.name = name
        self.meshed = True
        self.register_outputs({})


CONTROLLER = PeerRef(
    namespace="ingress-nginx",
    pod_labels={"app.kubernetes.io/name": "ingress-nginx", "app.kubernetes.io/component": "c"},
    service_account="ingress-nginx",
    meshed=True,
    ports=(80, 443),
)


def svc(name: str, namespace: str = "shop", **kw: Any) -> GrpcService:
    return GrpcService(name, GrpcServiceArgs(image=IMAGE, namespace=namespace, **kw))


def policies(rec: Recording) -> dict[str, dict[str, Any]]:
    return {
        o["metadata"]["name"]: o for o in rec.kubernetes_objects() if o["kind"] == "NetworkPolicy"
    }


def spec(rec: Recording, name: str) -> dict[str, Any]:
    return policies(rec)[name]["spec"]


def tcp(*ports: int) -> list[dict[str, Any]]:
    return [{"protocol": "TCP", "port": p} for p in ports]


def sel(labels: dict[str, str], namespace: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if namespace:
        out["namespaceSelector"] = {"matchLabels": {"kubernetes.io/metadata.name": namespace}}
    out["podSelector"] = {"matchLabels": labels}
    return out


def app(name: str) -> dict[str, str]:
    return {"app.kubernetes.io/name": name}


# --- defaults -------------------------------------------------------------------------------


def test_default_deny_and_dns_for_every_pod() -> None:
    rec = run_program(lambda: ZeroTrustPolicy("shop", ZeroTrustPolicyArgs(namespace="shop")))
    assert sorted(policies(rec)) == ["shop-default-deny", "shop-dns"]
    deny = policies(rec)["shop-default-deny"]
    assert deny["apiVersion"] == "networking.k8s.io/v1"
    assert deny["metadata"] == {
        "name": "shop-default-deny",
        "namespace": "shop",
        "labels": {**MANAGED, "app.kubernetes.io/part-of": "shop"},
    }
    assert deny["spec"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    assert spec(rec, "shop-dns") == {
        "podSelector": {},
        "policyTypes": ["Egress"],
        "egress": [DNS_RULE],
    }
    comp = rec.one("grpc-kube:index:ZeroTrustPolicy", "shop")
    assert sorted(c.name for c in rec.children_of(comp)) == ["shop-default-deny", "shop-dns"]
    assert rec.warnings == []


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"dns": False}, None),
        (
            {"dns_namespace": "dns", "dns_pod_labels": {"app": "coredns"}},
            {
                "to": [
                    {
                        "namespaceSelector": {
                            "matchLabels": {"kubernetes.io/metadata.name": "dns"}
                        },
                        "podSelector": {"matchLabels": {"app": "coredns"}},
                    }
                ],
                "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}],
            },
        ),
    ],
    ids=["off", "custom-dns-pods"],
)
def test_dns_switch_and_dns_pods(options: dict[str, Any], expected: Any) -> None:
    rec = run_program(
        lambda: ZeroTrustPolicy("shop", ZeroTrustPolicyArgs(namespace="shop", **options))
    )
    if expected is None:
        assert sorted(policies(rec)) == ["shop-default-deny"]
    else:
        assert spec(rec, "shop-dns")["egress"] == [expected]


def test_outputs_resolve() -> None:
    seen: dict[str, Any] = {}

    def program() -> None:
        zt = ZeroTrustPolicy("shop", ZeroTrustPolicyArgs(namespace="shop"))
        zt.policy_names.apply(lambda v: seen.__setitem__("names", v))
        zt.namespace.apply(lambda v: seen.__setitem__("ns", v))
        assert zt.meshed is False
        assert [o["metadata"]["name"] for o in zt.objects] == [
            "shop-default-deny",
            "shop-dns",
        ]

    run_program(program)
    assert seen == {"names": ["shop-default-deny", "shop-dns"], "ns": "shop"}


def test_documented_defaults() -> None:
    args = ZeroTrustPolicyArgs(namespace="shop")
    assert args.dns is True
    assert args.dns_namespace == "kube-system"
    assert args.dns_pod_labels == {"k8s-app": "kube-dns"}
    assert args.linkerd_namespace == "linkerd"
    assert args.metrics_from_namespaces == []
    assert args.raw_policies == ()
    assert PolicyPort(port=1).protocol == "TCP"


# --- intent-based connections ---------------------------------------------------------------


def test_connection_writes_egress_on_client_and_ingress_on_server() -> None:
    def program() -> None:
        checkout, orders = svc("checkout"), svc("orders", health_port=8086)
        ZeroTrustPolicy(
            "shop", ZeroTrustPolicyArgs(namespace="shop"), connections=[Allow(checkout, orders)]
        )

    rec = run_program(program)
    assert sorted(policies(rec)) == [
        "shop-checkout-egress",
        "shop-default-deny",
        "shop-dns",
        "shop-orders-ingress",
    ]
    assert spec(rec, "shop-checkout-egress") == {
        "podSelector": {"matchLabels": app("checkout")},
        "policyTypes": ["Egress"],
        # The container port (50051), not the Service port (80): policies see traffic after
        # kube-proxy translates it. The health port 8086 stays closed to callers.
        "egress": [{"to": [sel(app("orders"))], "ports": tcp(50051)}],
    }
    assert spec(rec, "shop-orders-ingress") == {
        "podSelector": {"matchLabels": app("orders")},
        "policyTypes": ["Ingress"],
        "ingress": [{"from": [sel(app("checkout"))], "ports": tcp(50051)}],
    }


def test_server_ports_come_from_the_server() -> None:
    def program() -> None:
        a, b = svc("a"), svc("b", container_port=9000, port=443)
        ZeroTrustPolicy("zt", ZeroTrustPolicyArgs(namespace="shop"), connections=[Allow(a, b)])

    rec = run_program(program)
    assert spec(rec, "zt-a-egress")["egress"][0]["ports"] == tcp(9000)
    assert spec(rec, "zt-b-ingress")["ingress"][0]["ports"] == tcp(9000)


def test_cross_namespace_each_namespace_policy_writes_its_own_side() -> None:
    def program() -> None:
        checkout, payments = svc("checkout", "shop"), svc("payments", "billing")
        edge = Allow(checkout, payments)
        ZeroTrustPolicy("shop", ZeroTrustPolicyArgs(namespace="shop"), connections=[edge])
        ZeroTrustPolicy("billing", ZeroTrustPolicyArgs(namespace="billing"), connections=[edge])

    rec = run_program(program)
    assert "shop-payments-ingress" not in policies(rec)
    assert "billing-checkout-egress" not in policies(rec)
    assert spec(rec, "shop-checkout-egress")["egress"] == [
        {"to": [sel(app("payments"), "billing")], "ports": tcp(50051)}
    ]
    assert policies(rec)["billing-payments-ingress"]["metadata"]["namespace"] == "billing"
    assert spec(rec, "billing-payments-ingress")["ingress"] == [
        {"from": [sel(app("checkout"), "shop")], "ports": tcp(50051)}
    ]


def test_peer_refs_for_pods_grpc_kube_does_not_create_and_duplicates_collapse() -> None:
    job = PeerRef(namespace="shop", pod_labels={"app": "nightly-report"})
    cache = PeerRef(namespace="shop", pod_labels={"app": "cache"}, ports=(6379, 6380))

    def program() -> None:
        orders = svc("orders")
        ZeroTrustPolicy(
            "shop",
            ZeroTrustPolicyArgs(namespace="shop"),
            connections=[Allow(job, orders), Allow(job, orders), Allow(orders.ref, cache)],
        )

    rec = run_program(program)
    assert spec(rec, "shop-nightly-report-egress")["egress"] == [
        {"to": [sel(app("orders"))], "ports": tcp(50051)}
    ]
    assert spec(rec, "shop-orders-ingress")["ingress"] == [
        {"from": [sel({"app": "nightly-report"})], "ports": tcp(50051)}
    ]
    assert spec(rec, "shop-cache-ingress")["ingress"] == [
        {"from": [sel(app("orders"))], "ports": tcp(6379, 6380)}
    ]


def test_a_service_may_call_its_own_peers() -> None:
    def program() -> None:
        raft = svc("raft")
        ZeroTrustPolicy(
            "zt", ZeroTrustPolicyArgs(namespace="shop"), connections=[Allow(raft, raft)]
        )

    rec = run_program(program)
    assert spec(rec, "zt-raft-egress")["egress"] == [
        {"to": [sel(app("raft"))], "ports": tcp(50051)}
    ]
    assert spec(rec, "zt-raft-ingress")["ingress"] == [
        {"from": [sel(app("raft"))], "ports": tcp(50051)}
    ]


# --- ingress controllers --------------------------------------------------------------------


def test_ingress_controller_reaches_the_backends_in_this_namespace() -> None:
    def program() -> None:
        orders, payments = svc("orders", "shop"), svc("payments", "billing")
        ing = FakeIngress(backends=(orders.ref, payments.ref), controller_peer=CONTROLLER)
        ZeroTrustPolicy("shop", ZeroTrustPolicyArgs(namespace="shop"), ingresses=[ing])

    rec = run_program(program)
    assert sorted(policies(rec)) == ["shop-default-deny", "shop-dns", "shop-orders-ingress"]
    assert spec(rec, "shop-orders-ingress")["ingress"] == [
        {"from": [sel(dict(CONTROLLER.pod_labels), "ingress-nginx")], "ports": tcp(50051)}
    ]


def test_policy_on_the_controller_namespace_lets_it_reach_its_backends() -> None:
    def program() -> None:
        orders = svc("orders", "shop")
        ing = FakeIngress(backends=(orders.ref,), controller_peer=CONTROLLER)
        ZeroTrustPolicy("edge", ZeroTrustPolicyArgs(namespace="ingress-nginx"), ingresses=[ing])

    rec = run_program(program)
    # The controller is meshed but the backend's namespace is not known here: 4143 is allowed
    # too (harmless: a proxy's inbound port refuses connections without mesh mTLS).
    assert spec(rec, "edge-ingress-nginx-egress")["egress"] == [
        {"to": [sel(app("orders"), "shop")], "ports": tcp(50051, 4143)}
    ]


# --- mesh -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "mesh", [True, FakeMeshNamespace("shop")], ids=["bool", "mesh-namespace-object"]
)
def test_meshed_namespace_adds_what_linkerd_needs(mesh: Any) -> None:
    def program() -> None:
        checkout, orders = svc("checkout"), svc("orders")
        ing = FakeIngress(backends=(orders.ref,), controller_peer=CONTROLLER)
        ZeroTrustPolicy(
            "shop",
            ZeroTrustPolicyArgs(namespace="shop"),
            connections=[Allow(checkout, orders)],
            ingresses=[ing],
            mesh=mesh,
        )

    rec = run_program(program)
    assert spec(rec, "shop-linkerd") == {
        "podSelector": {},
        "policyTypes": ["Egress"],
        "egress": LINKERD_EGRESS,
    }
    assert spec(rec, "shop-dns")["egress"] == [DNS_RULE]
    assert spec(rec, "shop-checkout-egress")["egress"] == [
        {"to": [sel(app("orders"))], "ports": tcp(50051, 4143)}
    ]
    assert spec(rec, "shop-orders-ingress")["ingress"] == [
        {"from": [sel(app("checkout"))], "ports": tcp(50051, 4143)},
        {"from": [sel(dict(CONTROLLER.pod_labels), "ingress-nginx")], "ports": tcp(50051, 4143)},
    ]


def test_unmeshed_namespace_has_no_mesh_rules() -> None:
    def program() -> None:
        checkout, orders = svc("checkout"), svc("orders")
        ing = FakeIngress(backends=(orders.ref,), controller_peer=CONTROLLER)
        ZeroTrustPolicy(
            "shop",
            ZeroTrustPolicyArgs(namespace="shop"),
            connections=[Allow(checkout, orders)],
            ingresses=[ing],
            mesh=FakeMeshNamespace("shop", meshed=False),
        )

    rec = run_program(program)
    assert "shop-linkerd" not in policies(rec)
    for rule in spec(rec, "shop-orders-ingress")["ingress"]:
        assert rule["ports"] == tcp(50051)


@pytest.mark.parametrize(
    ("client_mesh", "server_mesh", "client_ports", "server_ports"),
    [
        (True, True, (50051, 4143), (50051, 4143)),
        (True, False, (50051,), (50051,)),
        (False, True, (50051,), (50051,)),
        (False, False, (50051,), (50051,)),
    ],
)
def test_4143_only_between_meshed_pods_in_the_namespace(
    client_mesh: bool,
    server_mesh: bool,
    client_ports: tuple[int, ...],
    server_ports: tuple[int, ...],
) -> None:
    def program() -> None:
        a, b = svc("a", mesh=client_mesh), svc("b", mesh=server_mesh)
        ZeroTrustPolicy("zt", ZeroTrustPolicyArgs(namespace="shop"), connections=[Allow(a, b)])

    rec = run_program(program)
    assert spec(rec, "zt-a-egress")["egress"][0]["ports"] == tcp(*client_ports)
    assert spec(rec, "zt-b-ingress")["ingress"][0]["ports"] == tcp(*server_ports)
    # Pods meshed one by one (not the namespace) get their own control-plane egress.
    expected = {f"zt-{n}-linkerd" for n, m in (("a", client_mesh), ("b", server_mesh)) if m}
    assert {n for n in policies(rec) if n.endswith("-linkerd")} == expected
    if client_mesh:
        assert spec(rec, "zt-a-linkerd") == {
            "podSelector": {"matchLabels": app("a")},
            "policyTypes": ["Egress"],
            "egress": LINKERD_EGRESS,
        }


def test_metrics_scraping_and_custom_linkerd_namespace() -> None:
    def program() -> None:
        ZeroTrustPolicy(
            "shop",
            ZeroTrustPolicyArgs(
                namespace="shop",
                linkerd_namespace="linkerd-system",
                metrics_from_namespaces=("linkerd-viz", "monitoring"),
            ),
            mesh=True,
        )

    rec = run_program(program)
    s = spec(rec, "shop-linkerd")
    assert s["policyTypes"] == ["Ingress", "Egress"]
    assert s["ingress"] == [
        {
            "from": [
                {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": ns}}}
                for ns in ("linkerd-viz", "monitoring")
            ],
            "ports": tcp(4191),
        }
    ]
    assert s["egress"] == linkerd_egress("linkerd-system")


def test_dns_off_in_a_meshed_namespace_warns() -> None:
    rec = run_program(
        lambda: ZeroTrustPolicy("shop", ZeroTrustPolicyArgs(namespace="shop", dns=False), mesh=True)
    )
    assert len(rec.warnings) == 1
    assert "dns=False" in rec.warnings[0] and "linkerd-dst-headless" in rec.warnings[0]


def test_policies_wait_for_a_mesh_namespace_resource() -> None:
    def program() -> None:
        ns = MeshNamespaceResource("shop")
        ZeroTrustPolicy("shop", ZeroTrustPolicyArgs(namespace="shop"), mesh=ns)

    rec = run_program(program)
    ns_urn = rec.one("kubernetes:core/v1:Namespace").urn
    for r in rec.of_type(NETPOL):
        assert ns_urn in r.dependencies
    assert "shop-linkerd" in policies(rec)


# --- raw rules ------------------------------------------------------------------------------


def founding_example() -> RawNetworkPolicy:
    return RawNetworkPolicy(
        name="test-network-policy",
        pod_selector={"role": "db"},
        policy_types=("Ingress", "Egress"),
        ingress=(
            PolicyRule(
                peers=(
                    NetworkPeer(ip_block=IpBlock(cidr="172.17.0.0/16", except_=("172.17.1.0/24",))),
                    NetworkPeer(namespace_selector={"project": "myproject"}),
                    NetworkPeer(pod_selector={"role": "frontend"}),
                ),
                ports=(PolicyPort(protocol="TCP", port=6379),),
            ),
        ),
        egress=(
            PolicyRule(
                peers=(NetworkPeer(ip_block=IpBlock(cidr="10.0.0.0/24")),),
                ports=(PolicyPort(protocol="TCP", port=5978),),
            ),
        ),
    )


def test_founding_example_policy_is_reproduced_exactly() -> None:
    rec = run_program(
        lambda: ZeroTrustPolicy(
            "zt",
            ZeroTrustPolicyArgs(namespace="default", raw_policies=(founding_example(),)),
        )
    )
    obj = rec.kube("NetworkPolicy", "test-network-policy")
    assert obj["apiVersion"] == "networking.k8s.io/v1"
    assert obj["kind"] == "NetworkPolicy"
    assert obj["metadata"] == {"name": "test-network-policy", "namespace": "default"}
    s = obj["spec"]
    assert s["podSelector"] == {"matchLabels": {"role": "db"}}
    assert s["policyTypes"] == ["Ingress", "Egress"]
    (ingress,) = s["ingress"]
    assert ingress["from"][0] == {"ipBlock": {"cidr": "172.17.0.0/16", "except": ["172.17.1.0/24"]}}
    assert ingress["from"][1] == {"namespaceSelector": {"matchLabels": {"project": "myproject"}}}
    assert ingress["from"][2] == {"podSelector": {"matchLabels": {"role": "frontend"}}}
    assert len(ingress["from"]) == 3
    assert ingress["ports"] == [{"protocol": "TCP", "port": 6379}]
    assert s["egress"] == [
        {"to": [{"ipBlock": {"cidr": "10.0.0.0/24"}}], "ports": [{"protocol": "TCP", "port": 5978}]}
    ]
    assert set(s) == {"podSelector", "policyTypes", "ingress", "egress"}
    assert set(obj) == {"apiVersion", "kind", "metadata", "spec"}
    assert (
        rec.one(NETPOL, "zt-raw-test-network-policy").parent
        == rec.one("grpc-kube:index:ZeroTrustPolicy").urn
    )
    # The pure renderer gives the same object without the engine.
    assert render_raw_policy("default", founding_example()) == obj
    validate_all([obj])


def test_founding_example_means_what_the_kubernetes_docs_say() -> None:
    objs = [render_raw_policy("default", founding_example())]
    db = Pod("default", {"role": "db"}, name="db")
    frontend = Pod("default", {"role": "frontend"}, name="frontend")
    assert check(objs, frontend, db, 6379)
    assert not check(objs, frontend, db, 6380)
    assert not check(objs, frontend, db, 6379, "UDP")
    assert not check(objs, Pod("other", {"role": "frontend"}), db, 6379)
    assert check(objs, Pod("team-a", {}, namespace_labels={"project": "myproject"}), db, 6379)
    assert check(objs, Address("172.17.0.9"), db, 6379)
    assert check(objs, Address("172.17.2.9"), db, 6379)
    assert not check(objs, Address("172.17.1.9"), db, 6379)  # the except range
    assert not check(objs, Address("172.18.0.9"), db, 6379)
    assert check(objs, db, Address("10.0.0.7"), 5978)
    assert not check(objs, db, Address("10.0.1.7"), 5978)
    assert not check(objs, db, Address("10.0.0.7"), 443)
    # Pods the policy does not select are not isolated.
    assert check(objs, frontend, Pod("default", {"role": "cache"}), 1234)


def test_raw_rules_cover_every_peer_and_port_form() -> None:
    raw = RawNetworkPolicy(
        name="extras",
        pod_selector=LabelSelector(
            match_labels={"tier": "api"},
            match_expressions=(
                LabelSelectorRequirement(key="track", operator="In", values=("stable", "canary")),
                LabelSelectorRequirement(key="legacy", operator="DoesNotExist"),
            ),
        ),
        labels={"team": "payments"},
        ingress=(
            PolicyRule(
                peers=(
                    NetworkPeer(namespace="monitoring", pod_selector={"app": "prometheus"}),
                    NetworkPeer(
                        namespace_selector=LabelSelector(
                            match_expressions=(
                                LabelSelectorRequirement(
                                    key="env", operator="NotIn", values=("dev",)
                                ),
                            )
                        ),
                        pod_selector={},
                    ),
                ),
                ports=(9090, "metrics", PolicyPort(port=30000, end_port=30100, protocol="UDP")),
            ),
            PolicyRule(peers=(NetworkPeer(pod_selector={}, select_all=True),), all_ports=True),
        ),
        egress=(
            PolicyRule(any_peer=True, ports=(PolicyPort(protocol="SCTP", port=3868),)),
            PolicyRule(
                peers=(
                    NetworkPeer(ip_block=IpBlock(cidr="2001:db8::/64", except_=("2001:db8::/80",))),
                ),
                ports=(PolicyPort(protocol="UDP"),),
            ),
            PolicyRule(peers=(NetworkPeer(namespace_selector={}, select_all=True),), ports=(443,)),
        ),
    )
    obj = render_raw_policy("shop", raw)
    assert obj["metadata"] == {
        "name": "extras",
        "namespace": "shop",
        "labels": {"team": "payments"},
    }
    s = obj["spec"]
    assert s["podSelector"] == {
        "matchLabels": {"tier": "api"},
        "matchExpressions": [
            {"key": "track", "operator": "In", "values": ["stable", "canary"]},
            {"key": "legacy", "operator": "DoesNotExist"},
        ],
    }
    assert s["policyTypes"] == ["Ingress", "Egress"]
    assert s["ingress"] == [
        {
            "from": [
                {
                    "namespaceSelector": {
                        "matchLabels": {"kubernetes.io/metadata.name": "monitoring"}
                    },
                    "podSelector": {"matchLabels": {"app": "prometheus"}},
                },
                {
                    "namespaceSelector": {
                        "matchExpressions": [{"key": "env", "operator": "NotIn", "values": ["dev"]}]
                    },
                    "podSelector": {},
                },
            ],
            "ports": [
                {"protocol": "TCP", "port": 9090},
                {"protocol": "TCP", "port": "metrics"},
                {"protocol": "UDP", "port": 30000, "endPort": 30100},
            ],
        },
        {"from": [{"podSelector": {}}]},
    ]
    assert s["egress"] == [
        {"ports": [{"protocol": "SCTP", "port": 3868}]},
        {
            "to": [{"ipBlock": {"cidr": "2001:db8::/64", "except": ["2001:db8::/80"]}}],
            "ports": [{"protocol": "UDP"}],
        },
        {"to": [{"namespaceSelector": {}}], "ports": tcp(443)},
    ]
    validate_all([obj])
    # The evaluator agrees on the trickier forms.
    api = Pod("shop", {"tier": "api", "track": "canary"}, named_ports={"metrics": 9102})
    prom = Pod("monitoring", {"app": "prometheus"})
    assert check([obj], prom, api, 9102)
    assert check([obj], prom, api, 30050, "UDP")
    assert not check([obj], prom, api, 30101, "UDP")
    assert not check([obj], Pod("x", {}, namespace_labels={"env": "dev"}), api, 9090)
    assert check([obj], Pod("x", {}, namespace_labels={"env": "prod"}), api, 9090)
    assert check([obj], api, Address("2001:db8::1:0:0:1"), 5353, "UDP")
    assert not check([obj], api, Address("2001:db8::1"), 5353, "UDP")  # inside the except /80


def test_raw_policy_types_follow_the_rules_given() -> None:
    only_egress = RawNetworkPolicy(
        name="out",
        pod_selector={"a": "b"},
        egress=(PolicyRule(any_peer=True, ports=(443,)),),
    )
    assert render_raw_policy("shop", only_egress)["spec"]["policyTypes"] == ["Egress"]
    deny_in = RawNetworkPolicy(name="lock", pod_selector={"a": "b"}, policy_types=("Ingress",))
    assert render_raw_policy("shop", deny_in)["spec"] == {
        "podSelector": {"matchLabels": {"a": "b"}},
        "policyTypes": ["Ingress"],
    }
    everyone = RawNetworkPolicy(
        name="all",
        pod_selector={},
        all_pods=True,
        ingress=(PolicyRule(any_peer=True, ports=(80,)),),
    )
    assert render_raw_policy("shop", everyone)["spec"]["podSelector"] == {}


def test_check_cidr_accepts_canonical_ipv4_and_ipv6() -> None:
    for value in ("10.0.0.0/8", "10.0.0.1/32", "0.0.0.0/0", "2001:db8::/32", "::/0"):
        assert check_cidr(value) == value


# --- bad input ------------------------------------------------------------------------------


BAD_MODELS: list[tuple[Callable[[], Any], str, str]] = [
    (
        lambda: IpBlock(cidr="10.0.0.1"),
        "cidr",
        'CIDR mask is missing in IPv4: "10.0.0.1". Did you mean "10.0.0.1/32"?',
    ),
    (
        lambda: IpBlock(cidr="2001:db8::1"),
        "cidr",
        'CIDR mask is missing in IPv6: "2001:db8::1". Did you mean "2001:db8::1/128"?',
    ),
    (lambda: IpBlock(cidr="10.0.0.1/24"), "cidr", 'Did you mean "10.0.0.0/24"?'),
    (lambda: IpBlock(cidr="2001:DB8::/32"), "cidr", 'Did you mean "2001:db8::/32"?'),
    (lambda: IpBlock(cidr="10.0.0.0/33"), "cidr", "not a valid IPv4 or IPv6"),
    (lambda: IpBlock(cidr="300.0.0.0/8"), "cidr", "not a valid IPv4 or IPv6"),
    (lambda: IpBlock(cidr="db.internal"), "cidr", "is not an IPv4 or IPv6"),
    (
        lambda: IpBlock(cidr="172.17.0.0/16", except_=("172.18.1.0/24",)),
        "except_[0]",
        "not strictly inside cidr",
    ),
    (
        lambda: IpBlock(cidr="172.17.0.0/16", except_=("172.17.0.0/16",)),
        "except_[0]",
        "not strictly inside cidr",
    ),
    (
        lambda: IpBlock(cidr="172.17.0.0/16", except_=("2001:db8::/64",)),
        "except_[0]",
        "not strictly inside cidr",
    ),
    (
        lambda: IpBlock(cidr="172.17.0.0/16", except_=("172.17.1.0",)),
        "except_[0]",
        'Did you mean "172.17.1.0/32"',
    ),
    (lambda: PolicyPort(port=0), "port", "between 1 and 65535"),
    (lambda: PolicyPort(port=70000), "port", "between 1 and 65535"),
    (lambda: PolicyPort(port="80"), "port", "give the number 80"),
    (lambda: PolicyPort(port="Grpc_Port"), "port", "not a valid port name"),
    (lambda: PolicyPort(port="a-very-long-port-name"), "port", "not a valid port name"),
    (lambda: PolicyPort(port=8080, end_port=8000), "end_port", "below port (8080)"),
    (lambda: PolicyPort(port=8080, end_port=70000), "end_port", "between 1 and 65535"),
    (lambda: PolicyPort(end_port=9000), "end_port", "without port"),
    (lambda: PolicyPort(port="grpc", end_port=9000), "end_port", "named port"),
    (lambda: PolicyPort(port=80, protocol="ICMP"), "protocol", "TCP, UDP and SCTP only"),
    (lambda: PolicyPort(port=80, protocol="GRPC"), "protocol", "gRPC and HTTP run over TCP"),
    (lambda: PolicyPort(port=80, protocol="tcp"), "protocol", "use 'TCP'"),
    (lambda: NetworkPeer(), "(root)", "names nothing"),
    (lambda: NetworkPeer(pod_selector={}), "(root)", "selects every pod in the policy's namespace"),
    (lambda: NetworkPeer(namespace_selector={}), "(root)", "selects every namespace"),
    (
        lambda: NetworkPeer(namespace_selector={}, pod_selector={"a": "b"}),
        "(root)",
        "every namespace",
    ),
    (lambda: NetworkPeer(pod_selector={"a": "b"}, select_all=True), "(root)", "remove select_all"),
    (
        lambda: NetworkPeer(ip_block=IpBlock(cidr="10.0.0.0/8"), pod_selector={"a": "b"}),
        "(root)",
        "two peers",
    ),
    (lambda: NetworkPeer(namespace="a", namespace_selector={"b": "c"}), "(root)", "keep one"),
    (lambda: NetworkPeer(namespace="Bad_NS"), "namespace", "'bad-ns'"),
    (
        lambda: NetworkPeer(pod_selector={"bad key!": "x"}),
        "pod_selector.match_labels",
        "not a valid label key",
    ),
    (
        lambda: NetworkPeer(pod_selector={"role": "front end"}),
        "pod_selector.match_labels",
        "not a valid label value",
    ),
    (lambda: PolicyRule(ports=(80,)), "(root)", "any_peer=True"),
    (lambda: PolicyRule(peers=(NetworkPeer(namespace="a"),)), "(root)", "all_ports=True"),
    (
        lambda: PolicyRule(any_peer=True, peers=(NetworkPeer(namespace="a"),), ports=(80,)),
        "(root)",
        "contradicts",
    ),
    (lambda: PolicyRule(any_peer=True, ports=(80,), all_ports=True), "(root)", "contradicts"),
    (lambda: PolicyRule(any_peer=True, ports=(0,)), "ports[0].port", "between 1 and 65535"),
    (
        lambda: LabelSelectorRequirement(key="a", operator="In"),
        "(root)",
        "needs at least one value",
    ),
    (
        lambda: LabelSelectorRequirement(key="a", operator="Exists", values=("x",)),
        "(root)",
        "takes no `values`",
    ),
    (
        lambda: LabelSelectorRequirement(key="a", operator="Matches", values=("x",)),
        "operator",
        "'In'",
    ),
    (
        lambda: RawNetworkPolicy(
            name="x", pod_selector={}, egress=(PolicyRule(any_peer=True, ports=(1,)),)
        ),
        "(root)",
        "all_pods=True",
    ),
    (
        lambda: RawNetworkPolicy(
            name="x", pod_selector={"a": "b"}, all_pods=True, policy_types=("Ingress",)
        ),
        "(root)",
        "contradicts",
    ),
    (lambda: RawNetworkPolicy(name="x", pod_selector={"a": "b"}), "(root)", "no rules"),
    (
        lambda: RawNetworkPolicy(
            name="x",
            pod_selector={"a": "b"},
            policy_types=("Ingress",),
            egress=(PolicyRule(any_peer=True, ports=(1,)),),
        ),
        "(root)",
        "lacks 'Egress'",
    ),
    (
        lambda: RawNetworkPolicy(
            name="x", pod_selector={"a": "b"}, policy_types=("Ingress", "Ingress")
        ),
        "(root)",
        "repeats",
    ),
    (
        lambda: RawNetworkPolicy(name="x", pod_selector={"a": "b"}, policy_types=("ingress",)),
        "policy_types[0]",
        "'Ingress'",
    ),
    (
        lambda: RawNetworkPolicy(
            name="Bad Name", pod_selector={"a": "b"}, policy_types=("Ingress",)
        ),
        "name",
        "'bad-name'",
    ),
    (
        lambda: RawNetworkPolicy(name="x", podselector={"a": "b"}),
        "podselector",
        "Did you mean 'pod_selector'",
    ),
    (lambda: ZeroTrustPolicyArgs(namespace="Shop"), "namespace", "'shop'"),
    (lambda: ZeroTrustPolicyArgs(namespace="kube-system"), "(root)", "cluster DNS"),
    (lambda: ZeroTrustPolicyArgs(namespace="linkerd"), "(root)", "Linkerd control plane"),
    (
        lambda: ZeroTrustPolicyArgs(namespace="shop", dns_pod_labels={}),
        "dns_pod_labels",
        "DNS pods' labels",
    ),
    (
        lambda: ZeroTrustPolicyArgs(namespace="shop", metrics_from_namespaces=("a", "a")),
        "metrics_from_namespaces",
        "twice",
    ),
    (lambda: ZeroTrustPolicyArgs(namespace="shop", dnss=False), "dnss", "Did you mean 'dns'"),
    (
        lambda: ZeroTrustPolicyArgs(
            namespace="shop",
            raw_policies=(
                RawNetworkPolicy(name="x", pod_selector={"a": "b"}, policy_types=("Ingress",)),
                RawNetworkPolicy(name="x", pod_selector={"c": "d"}, policy_types=("Ingress",)),
            ),
        ),
        "(root)",
        "used twice",
    ),
    (
        lambda: ZeroTrustPolicyArgs(
            namespace="shop",
            raw_policies=(
                {
                    "name": "x",
                    "pod_selector": {"a": "b"},
                    "ingress": [{"peers": [{"ip_block": {"cidr": "10.1.2.3"}}], "ports": [53]}],
                },
            ),
        ),
        "raw_policies[0].ingress[0].peers[0].ip_block.cidr",
        'Did you mean "10.1.2.3/32"?',
    ),
]


@pytest.mark.parametrize(("make", "field", "hint"), BAD_MODELS)
def test_bad_rules_name_field_and_fix(make: Callable[[], Any], field: str, hint: str) -> None:
    with pytest.raises(InvalidArgumentError) as err:
        make()
    msg = str(err.value)
    assert f"- {field}:" in msg, msg
    assert hint in msg, msg
    assert "Fix:" in msg, msg


def _refused(build: Callable[[], None]) -> str:
    errors: list[str] = []

    def program() -> None:
        try:
            build()
        except InvalidArgumentError as exc:
            errors.append(str(exc))

    rec = run_program(program)
    assert errors, "expected InvalidArgumentError"
    assert not rec.of_type(NETPOL) and not rec.of_type("grpc-kube:index:ZeroTrustPolicy")
    return errors[0]


def _zt(**kw: Any) -> Callable[[], None]:
    def build() -> None:
        args = kw.pop("args", ZeroTrustPolicyArgs(namespace="shop"))
        ZeroTrustPolicy(kw.pop("name", "shop"), args, **kw)

    return build


@pytest.mark.parametrize(
    ("make_kw", "field", "hint"),
    [
        (
            lambda s: {"connections": [Allow("checkout", s["orders"])]},
            "connections[0].client",
            "got str",
        ),
        (
            lambda s: {"connections": [Allow(s["orders"], 50051)]},
            "connections[0].server",
            "got int",
        ),
        (
            lambda s: {"connections": [(s["checkout"], s["orders"])]},
            "connections[0]",
            "Allow(client",
        ),
        (
            lambda s: {
                "connections": [
                    Allow(s["checkout"], PeerRef(namespace="shop", pod_labels={"a": "b"}))
                ]
            },
            "connections[0].server",
            "no ports",
        ),
        (
            lambda s: {
                "connections": [Allow(PeerRef(namespace="shop", pod_labels={}), s["orders"])]
            },
            "connections[0].client",
            "no pod_labels",
        ),
        (
            lambda s: {"connections": [Allow(s["pay"], s["pay"])]},
            "connections[0]",
            "no side in namespace 'shop'",
        ),
        (lambda s: {"ingresses": [object()]}, "ingresses[0]", "controller_peer"),
        (
            lambda s: {
                "ingresses": [FakeIngress(backends=(s["pay"].ref,), controller_peer=CONTROLLER)]
            },
            "ingresses[0]",
            "nor any backend",
        ),
        (
            lambda s: {
                "ingresses": [FakeIngress(backends=("orders",), controller_peer=CONTROLLER)]
            },  # type: ignore[arg-type]
            "ingresses[0].backends[0]",
            "got str",
        ),
        (lambda s: {"mesh": FakeMeshNamespace("billing")}, "mesh", "protects 'shop'"),
        (lambda s: {"mesh": "yes"}, "mesh", "True/False or a MeshEnabledNamespace"),
        (
            lambda s: {
                "args": ZeroTrustPolicyArgs(
                    namespace="shop", metrics_from_namespaces=("linkerd-viz",)
                )
            },
            "metrics_from_namespaces",
            "nothing in namespace 'shop' is meshed",
        ),
        (
            lambda s: {
                "args": ZeroTrustPolicyArgs(
                    namespace="shop",
                    raw_policies=(
                        RawNetworkPolicy(
                            name="shop-dns", pod_selector={"a": "b"}, policy_types=("Ingress",)
                        ),
                    ),
                )
            },
            "raw_policies",
            "also generated",
        ),
        (lambda s: {"name": "Shop_ZT"}, "name", "prefixes the NetworkPolicy names"),
        (lambda s: {"name": "z" * 245}, "name", "longer than Kubernetes' 253 characters"),
    ],
)
def test_bad_references_are_refused_before_anything_registers(
    make_kw: Callable[[dict[str, GrpcService]], dict[str, Any]], field: str, hint: str
) -> None:
    def build() -> None:
        services = {
            "checkout": svc("checkout"),
            "orders": svc("orders"),
            "pay": svc("pay", "billing"),
        }
        _zt(**make_kw(services))()

    msg = _refused(build)
    assert f"- {field}:" in msg, msg
    assert hint in msg, msg
    assert "Fix:" in msg, msg


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(InvalidArgumentError) as err:
        plan_policies(
            "shop",
            ZeroTrustPolicyArgs(namespace="shop"),
            connections=[Allow("a", "b")],  # type: ignore[arg-type]
            mesh="maybe",  # type: ignore[arg-type]
        )
    assert len(err.value.problems) == 3


def test_args_as_plain_data_are_validated_like_the_model() -> None:
    # Other languages (and YAML) hand the component a plain map: same checks, same messages.
    with pytest.raises(InvalidArgumentError, match="namespace: required field is missing"):
        run_program(lambda: ZeroTrustPolicy("shop", {"dns": False}))
    rec = run_program(lambda: ZeroTrustPolicy("shop", {"namespace": "shop", "dns": False}))
    assert sorted(policies(rec)) == ["shop-default-deny"]


# --- schemas --------------------------------------------------------------------------------


def test_every_network_policy_validates_against_kubernetes_1_31_to_1_35() -> None:
    def program() -> None:
        checkout, orders = svc("checkout"), svc("orders", health_port=8086)
        solo = svc("solo", mesh=True)
        pay = svc("payments", "billing")
        ing = FakeIngress(backends=(orders.ref, pay.ref), controller_peer=CONTROLLER)
        ZeroTrustPolicy(
            "shop",
            ZeroTrustPolicyArgs(
                namespace="shop",
                metrics_from_namespaces=("linkerd-viz",),
                raw_policies=(founding_example(),),
            ),
            connections=[Allow(checkout, orders), Allow(checkout, pay), Allow(solo, orders)],
            ingresses=[ing],
            mesh=True,
        )
        ZeroTrustPolicy(
            "billing",
            ZeroTrustPolicyArgs(namespace="billing", dns=False),
            connections=[Allow(checkout, pay), Allow(pay, solo)],
            ingresses=[ing],
        )
        ZeroTrustPolicy("edge", ZeroTrustPolicyArgs(namespace="ingress-nginx"), ingresses=[ing])

    rec = run_program(program)
    netpols = [o for o in rec.kubernetes_objects() if o["kind"] == "NetworkPolicy"]
    assert len(netpols) == len(rec.of_type(NETPOL)) >= 12
    # GrpcService's own objects are validated in its tests; these are the policies.
    assert validate_all(netpols) == len(netpols)


# --- reachability ---------------------------------------------------------------------------


def pod_of(rec: Recording, deployment: str, namespace: str) -> Pod:
    """The pod a recorded Deployment would run: its template labels and named ports."""
    dep = next(
        o
        for o in rec.kubernetes_objects()
        if o["kind"] == "Deployment"
        and o["metadata"]["name"] == deployment
        and o["metadata"]["namespace"] == namespace
    )
    tmpl = dep["spec"]["template"]
    ports = {p["name"]: p["containerPort"] for c in tmpl["spec"]["containers"] for p in c["ports"]}
    return Pod(namespace, tmpl["metadata"]["labels"], named_ports=ports, name=deployment)


DNS = Pod("kube-system", {"k8s-app": "kube-dns"}, name="coredns")
IDENTITY = Pod("linkerd", {"linkerd.io/control-plane-component": "identity"}, name="identity")
DESTINATION = Pod(
    "linkerd", {"linkerd.io/control-plane-component": "destination"}, name="destination"
)
# The proxy injector and the heartbeat CronJob serve no proxy: meshed pods must not reach them.
PROXY_INJECTOR = Pod(
    "linkerd", {"linkerd.io/control-plane-component": "proxy-injector"}, name="proxy-injector"
)
HEARTBEAT = Pod("linkerd", {"linkerd.io/control-plane-component": "heartbeat"}, name="heartbeat")
PROMETHEUS = Pod("linkerd-viz", {"component": "prometheus"}, name="prometheus")
CONTROLLER_POD = Pod("ingress-nginx", dict(CONTROLLER.pod_labels), name="ingress-nginx")
STRANGER = Pod("other", {"app.kubernetes.io/name": "checkout"}, name="stranger")
INTERNET = Address("93.184.216.34", name="internet")


def stack(*, billing_allows: bool = True, metrics: tuple[str, ...] = ()) -> Recording:
    """checkout -> orders (shop, meshed), checkout -> payments (billing, not meshed), the
    ingress controller -> orders; inventory in shop is declared nowhere."""

    def program() -> None:
        checkout, orders = svc("checkout"), svc("orders", health_port=8086)
        svc("inventory")
        payments = svc("payments", "billing", container_port=9090)
        ing = FakeIngress(backends=(orders.ref,), controller_peer=CONTROLLER)
        ZeroTrustPolicy(
            "shop",
            ZeroTrustPolicyArgs(namespace="shop", metrics_from_namespaces=metrics),
            connections=[Allow(checkout, orders), Allow(checkout, payments)],
            ingresses=[ing],
            mesh=FakeMeshNamespace("shop"),
        )
        ZeroTrustPolicy(
            "billing",
            ZeroTrustPolicyArgs(namespace="billing"),
            connections=[Allow(checkout, payments)] if billing_allows else [],
        )

    return run_program(program)


@pytest.fixture(scope="module")
def world() -> tuple[list[dict[str, Any]], dict[str, Pod | Address]]:
    rec = stack()
    pods: dict[str, Pod | Address] = {
        "checkout": pod_of(rec, "checkout", "shop"),
        "orders": pod_of(rec, "orders", "shop"),
        "inventory": pod_of(rec, "inventory", "shop"),
        "payments": pod_of(rec, "payments", "billing"),
        "dns": DNS,
        "identity": IDENTITY,
        "destination": DESTINATION,
        "proxy-injector": PROXY_INJECTOR,
        "heartbeat": HEARTBEAT,
        "prometheus": PROMETHEUS,
        "controller": CONTROLLER_POD,
        "stranger": STRANGER,
        "internet": INTERNET,
    }
    return rec.kubernetes_objects(), pods


NEEDED = [
    ("checkout", "orders", 50051, "TCP"),  # client -> server on its container port
    ("checkout", "orders", 4143, "TCP"),  # meshed client proxy -> meshed server proxy
    ("controller", "orders", 50051, "TCP"),  # ingress controller -> backend
    ("controller", "orders", 4143, "TCP"),  # meshed controller -> meshed backend
    ("checkout", "payments", 9090, "TCP"),  # across namespaces, declared on both sides
    ("checkout", "dns", 53, "UDP"),
    ("checkout", "dns", 53, "TCP"),
    ("orders", "dns", 53, "UDP"),
    ("inventory", "dns", 53, "UDP"),
    ("payments", "dns", 53, "UDP"),
    ("checkout", "identity", 8080, "TCP"),  # proxies -> Linkerd control plane
    ("checkout", "destination", 8086, "TCP"),  # destination
    ("orders", "destination", 8090, "TCP"),  # policy controller, in the destination pod
    ("inventory", "identity", 8080, "TCP"),  # every meshed pod, declared or not
]

UNDECLARED = [
    ("orders", "checkout", 50051, "TCP"),  # server -> client
    ("inventory", "orders", 50051, "TCP"),  # a third service -> server
    ("inventory", "orders", 4143, "TCP"),
    ("stranger", "orders", 50051, "TCP"),  # same labels, other namespace
    ("checkout", "orders", 8086, "TCP"),  # the health port is not for callers
    ("checkout", "orders", 50052, "TCP"),
    ("checkout", "internet", 443, "TCP"),  # any pod -> internet
    ("orders", "internet", 443, "TCP"),
    ("payments", "internet", 443, "TCP"),
    ("internet", "orders", 50051, "TCP"),
    ("checkout", "dns", 80, "TCP"),
    ("checkout", "identity", 9443, "TCP"),
    ("checkout", "identity", 8086, "TCP"),  # each control-plane component on its own ports
    ("checkout", "identity", 8090, "TCP"),
    ("checkout", "destination", 8080, "TCP"),
    ("checkout", "proxy-injector", 8080, "TCP"),  # serves no proxy
    ("checkout", "proxy-injector", 8443, "TCP"),
    ("orders", "heartbeat", 8086, "TCP"),
    ("payments", "identity", 8080, "TCP"),  # billing is not meshed
    ("checkout", "payments", 4143, "TCP"),  # payments has no proxy; billing does not open it
    ("payments", "checkout", 50051, "TCP"),
    ("prometheus", "orders", 4191, "TCP"),  # metrics closed unless asked for
    ("controller", "checkout", 50051, "TCP"),  # the ingress fronts orders only
]


@pytest.mark.parametrize(("src", "dst", "port", "protocol"), NEEDED)
def test_every_connection_the_stack_needs_is_allowed(
    world: tuple[list[dict[str, Any]], dict[str, Pod | Address]],
    src: str,
    dst: str,
    port: int,
    protocol: str,
) -> None:
    objs, pods = world
    verdict = check(objs, pods[src], pods[dst], port, protocol)
    assert verdict, verdict.reason


@pytest.mark.parametrize(("src", "dst", "port", "protocol"), UNDECLARED)
def test_undeclared_connections_are_denied(
    world: tuple[list[dict[str, Any]], dict[str, Pod | Address]],
    src: str,
    dst: str,
    port: int,
    protocol: str,
) -> None:
    objs, pods = world
    verdict = check(objs, pods[src], pods[dst], port, protocol)
    assert not verdict, verdict.reason


def test_cross_namespace_needs_both_namespaces_to_declare_it() -> None:
    rec = stack(billing_allows=False)
    objs = rec.kubernetes_objects()
    checkout, payments = pod_of(rec, "checkout", "shop"), pod_of(rec, "payments", "billing")
    verdict = check(objs, checkout, payments, 9090)
    assert not verdict
    assert "Ingress of payments denied" in verdict.reason


def test_metrics_namespace_may_scrape_proxies_when_asked() -> None:
    rec = stack(metrics=("linkerd-viz",))
    objs = rec.kubernetes_objects()
    orders = pod_of(rec, "orders", "shop")
    assert check(objs, PROMETHEUS, orders, 4191)
    assert not check(objs, PROMETHEUS, orders, 50051)
    assert not check(objs, STRANGER, orders, 4191)


def test_without_policies_everything_is_allowed() -> None:
    # The evaluator's baseline: pods no policy selects are not isolated.
    assert check([], STRANGER, DNS, 1)
    assert check([], INTERNET, STRANGER, 1)


# --- every bad entry of a list --------------------------------------------------------------


def test_every_bad_except_entry_is_reported_not_only_the_first() -> None:
    with pytest.raises(InvalidArgumentError) as err:
        IpBlock(
            cidr="172.17.0.0/16",
            except_=["172.17.1.0", "172.17.2.0/24", "172.18.0.0/24", "172.17.3.1/24"],
        )
    problems = err.value.problems
    assert [p.split(":")[0] for p in problems] == ["except_[0]", "except_[2]", "except_[3]"]
    assert 'Did you mean "172.17.1.0/32"' in problems[0]
    assert "not strictly inside cidr '172.17.0.0/16'" in problems[1]
    assert 'Did you mean "172.17.3.0/24"' in problems[2]
    assert all("Fix:" in p for p in problems)


def test_every_bad_metrics_namespace_and_label_value_is_reported() -> None:
    with pytest.raises(InvalidArgumentError) as err:
        ZeroTrustPolicyArgs(namespace="shop", metrics_from_namespaces=["Viz", "ok", "Prom_1"])
    assert [p.split(":")[0] for p in err.value.problems] == [
        "metrics_from_namespaces[0]",
        "metrics_from_namespaces[2]",
    ]
    with pytest.raises(InvalidArgumentError) as err:
        LabelSelectorRequirement(key="track", operator="In", values=["ok", "-bad", "bad-"])
    assert [p.split(":")[0] for p in err.value.problems] == ["values[1]", "values[2]"]


# --- arguments that are Outputs of other resources -------------------------------------------


def _shop(as_output: Callable[[Any], Any]) -> None:
    """checkout -> orders in shop, checkout -> payments in billing, with the values `as_output`
    turns into Outputs (or leaves plain)."""
    shop = as_output("shop")
    checkout = svc("checkout", shop)
    orders = svc("orders", shop, container_port=as_output(9000), mesh=True)
    payments = svc("payments", "billing")
    cache = PeerRef(namespace=shop, pod_labels={"app": "cache"}, ports=(as_output(6379),))
    ZeroTrustPolicy(
        "shop",
        ZeroTrustPolicyArgs(
            namespace=shop,
            dns_pod_labels={"k8s-app": as_output("coredns")},
            linkerd_namespace=as_output("linkerd-system"),
            metrics_from_namespaces=as_output(["linkerd-viz"]),
            raw_policies=(
                RawNetworkPolicy(
                    name="to-db",
                    pod_selector={"app.kubernetes.io/name": "orders"},
                    egress=(
                        PolicyRule(
                            peers=(
                                NetworkPeer(
                                    ip_block=IpBlock(
                                        cidr=as_output("10.20.0.0/16"),
                                        except_=as_output(["10.20.9.0/24"]),
                                    )
                                ),
                            ),
                            ports=(as_output(5432),),
                        ),
                    ),
                ),
            ),
        ),
        connections=[
            Allow(checkout, orders),
            Allow(checkout, orders),
            Allow(checkout, payments),
            Allow(orders, cache),
        ],
    )


def test_outputs_flow_into_the_same_policies_as_plain_values() -> None:
    plain = run_program(lambda: _shop(lambda v: v))
    outputs = run_program(lambda: _shop(pulumi.Output.from_input))
    # The same objects, field for field, under the same Pulumi names.
    assert policies(outputs) == policies(plain)
    assert sorted(r.name for r in outputs.of_type(NETPOL)) == sorted(
        r.name for r in plain.of_type(NETPOL)
    )
    assert spec(outputs, "shop-orders-ingress")["ingress"] == [
        {"from": [sel(app("checkout"))], "ports": tcp(9000)}
    ]
    assert spec(outputs, "shop-checkout-egress")["egress"] == [
        {"to": [sel(app("orders"))], "ports": tcp(9000)},
        {"to": [sel(app("payments"), "billing")], "ports": tcp(50051)},
    ]
    assert spec(outputs, "shop-orders-egress")["egress"] == [
        {"to": [sel({"app": "cache"})], "ports": tcp(6379)}
    ]
    assert spec(outputs, "shop-orders-linkerd")["ingress"][0]["from"] == [
        {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "linkerd-viz"}}}
    ]
    assert spec(outputs, "shop-dns")["egress"][0]["to"][0]["podSelector"] == {
        "matchLabels": {"k8s-app": "coredns"}
    }
    assert spec(outputs, "to-db")["egress"] == [
        {
            "to": [{"ipBlock": {"cidr": "10.20.0.0/16", "except": ["10.20.9.0/24"]}}],
            "ports": tcp(5432),
        }
    ]
    assert {p["metadata"]["namespace"] for p in policies(outputs).values()} == {"shop"}
    assert validate_all(list(policies(outputs).values())) == len(policies(outputs))


def test_namespace_from_a_namespace_resource_orders_the_policies_with_no_depends_on() -> None:
    seen: dict[str, Any] = {}

    def program() -> None:
        ns = k8s.core.v1.Namespace("shop-ns", metadata={"name": "shop"})
        name = ns.metadata.name
        checkout, orders = svc("checkout", name), svc("orders", name)
        zt = ZeroTrustPolicy(
            "shop", ZeroTrustPolicyArgs(namespace=name), connections=[Allow(checkout, orders)]
        )
        zt.namespace.apply(lambda v: seen.__setitem__("ns", v))

    rec = run_program(program)
    ns = rec.one("kubernetes:core/v1:Namespace")
    netpols = rec.of_type(NETPOL)
    assert sorted(r.name for r in netpols) == [
        "shop-checkout-egress",
        "shop-default-deny",
        "shop-dns",
        "shop-orders-ingress",
    ]
    for r in netpols:
        assert r.get("metadata.namespace") == "shop"
        assert rec.depends_on(r, ns), r.name
    assert seen == {"ns": "shop"}


def test_a_remote_side_may_be_plain_while_this_policy_namespace_is_an_output() -> None:
    def program() -> None:
        shop = pulumi.Output.from_input("shop")
        checkout = svc("checkout", shop)
        payments = GrpcServiceRef(
            name=pulumi.Output.from_input("payments"),  # a remote side's name may be an Output
            namespace="billing",
            container_port=pulumi.Output.from_input(9090),
        )
        ZeroTrustPolicy(
            "shop", ZeroTrustPolicyArgs(namespace=shop), connections=[Allow(checkout, payments)]
        )

    rec = run_program(program)
    assert spec(rec, "shop-checkout-egress")["egress"] == [
        {"to": [sel(app("payments"), "billing")], "ports": tcp(9090)}
    ]


def _fails(program: Callable[[], None]) -> tuple[str, list[str]]:
    with pytest.raises(ValueError) as err:
        run_program(program)
    registered = [r.type for r in err.value.recording.resources]  # type: ignore[attr-defined]
    return str(err.value), registered


def test_an_output_resolving_to_a_bad_cidr_fails_naming_the_property() -> None:
    def program() -> None:
        raw = RawNetworkPolicy(
            name="to-db",
            pod_selector={"app": "api"},
            egress=(
                PolicyRule(
                    peers=(
                        NetworkPeer(ip_block=IpBlock(cidr=pulumi.Output.from_input("10.1.2.3"))),
                    ),
                    ports=(5432,),
                ),
            ),
        )
        ZeroTrustPolicy("shop", ZeroTrustPolicyArgs(namespace="shop", raw_policies=(raw,)))

    msg, registered = _fails(program)
    assert "ZeroTrustPolicy 'shop': invalid input (values that arrived as Outputs" in msg, msg
    assert (
        "raw_policies[0].egress[0].peers[0].ip_block.cidr: got '10.1.2.3'; CIDR mask is missing"
    ) in msg, msg
    assert 'Did you mean "10.1.2.3/32"' in msg, msg
    # Every policy's namespace waits for the checks, so none is sent.
    assert NETPOL not in registered


def test_an_output_list_of_cidrs_reports_every_bad_entry() -> None:
    def program() -> None:
        block = IpBlock(
            cidr="172.17.0.0/16",
            except_=pulumi.Output.from_input(["172.17.1.0", "172.17.2.0/24", "172.18.0.0/24"]),
        )
        raw = RawNetworkPolicy(
            name="x",
            pod_selector={"app": "api"},
            egress=(PolicyRule(peers=(NetworkPeer(ip_block=block),), ports=(443,)),),
        )
        ZeroTrustPolicy("shop", ZeroTrustPolicyArgs(namespace="shop", raw_policies=(raw,)))

    msg, _ = _fails(program)
    prefix = "raw_policies[0].egress[0].peers[0].ip_block.except_"
    assert f"{prefix}[0]: got '172.17.1.0'" in msg, msg
    assert f"{prefix}[2]: got '172.18.0.0/24'" in msg, msg
    assert f"{prefix}[1]" not in msg, msg


def test_a_bad_output_namespace_reaches_no_network_policy() -> None:
    def program() -> None:
        ZeroTrustPolicy("shop", ZeroTrustPolicyArgs(namespace=pulumi.Output.from_input("Shop")))

    msg, registered = _fails(program)
    assert "namespace: got 'Shop'" in msg, msg
    assert NETPOL not in registered


def test_outputs_taken_for_the_same_namespace_are_checked_when_they_resolve() -> None:
    def program() -> None:
        checkout = svc("checkout", pulumi.Output.from_input("shop"))
        payments = svc("payments", pulumi.Output.from_input("billing"))
        ZeroTrustPolicy(
            "shop",
            ZeroTrustPolicyArgs(namespace=pulumi.Output.from_input("shop")),
            connections=[Allow(checkout, payments)],
        )

    msg, registered = _fails(program)
    assert (
        "connections[0].server.namespace: resolved to namespace 'billing', but this policy "
        "protects 'shop'"
    ) in msg, msg
    assert "plain names" in msg and "Fix:" in msg, msg
    assert NETPOL not in registered


def test_a_plain_namespace_against_outputs_is_refused_with_the_fix() -> None:
    def build() -> None:
        checkout = svc("checkout", pulumi.Output.from_input("shop"))
        orders = svc("orders", pulumi.Output.from_input("shop"))
        ZeroTrustPolicy(
            "shop", ZeroTrustPolicyArgs(namespace="shop"), connections=[Allow(checkout, orders)]
        )

    msg = _refused(build)
    assert "- connections[0]: checkout ((an Output)) -> orders ((an Output))" in msg, msg
    assert "has no side in namespace 'shop'" in msg, msg
    assert "a plain name never counts as the same namespace as an Output" in msg, msg


def test_a_local_workload_named_by_an_output_is_refused() -> None:
    def build() -> None:
        orders = GrpcServiceRef(name=pulumi.Output.from_input("orders"), namespace="shop")
        ZeroTrustPolicy(
            "shop",
            ZeroTrustPolicyArgs(namespace="shop"),
            connections=[Allow(svc("checkout"), orders)],
        )

    msg = _refused(build)
    assert "- connections[0].server: its pods are in namespace 'shop'" in msg, msg
    assert "name or pod labels are Outputs" in msg and "Fix:" in msg, msg


@pytest.mark.parametrize(
    ("make", "field"),
    [
        (lambda o: ZeroTrustPolicyArgs(namespace="shop", dns=o(False)), "dns"),
        (lambda o: RawNetworkPolicy(name=o("x"), pod_selector={"a": "b"}), "name"),
        (lambda o: NetworkPeer(pod_selector={"a": "b"}, select_all=o(True)), "select_all"),
    ],
    ids=["dns", "raw-policy-name", "select-all"],
)
def test_a_value_that_decides_which_objects_exist_must_be_plain(
    make: Callable[[Callable[[Any], Any]], Any], field: str
) -> None:
    def program() -> None:
        make(pulumi.Output.from_input)

    with pytest.raises(InvalidArgumentError, match=rf"{field}: got an Output.*known when the"):
        run_program(program)


def test_metrics_as_an_output_in_an_unmeshed_namespace_fail_when_they_resolve() -> None:
    def program() -> None:
        ZeroTrustPolicy(
            "shop",
            ZeroTrustPolicyArgs(
                namespace="shop", metrics_from_namespaces=pulumi.Output.from_input(["viz"])
            ),
        )

    msg, registered = _fails(program)
    assert "metrics_from_namespaces: resolved to ['viz'], but nothing in namespace" in msg, msg
    assert NETPOL not in registered


def test_a_mesh_namespace_named_by_an_output_is_compared_when_it_resolves() -> None:
    def program(name: str) -> Callable[[], None]:
        return lambda: ZeroTrustPolicy(
            "shop",
            ZeroTrustPolicyArgs(namespace="shop"),
            mesh=FakeMeshNamespace(pulumi.Output.from_input(name)),  # type: ignore[arg-type]
        )

    rec = run_program(program("shop"))
    assert "shop-linkerd" in policies(rec)
    msg, _ = _fails(program("billing"))
    assert "mesh.name: resolved to 'billing', but this policy protects 'shop'" in msg, msg
