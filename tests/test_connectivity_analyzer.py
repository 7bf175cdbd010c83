"""The example stacks' NetworkPolicies, checked by an analyzer independent of grpc-kube and of
tests/netpol_eval.py: IBM's network-config-analyzer (NCA, PyPI `network-config-analyzer`).

For each stack, its rendered Namespaces, NetworkPolicies and Deployments, plus stand-ins for
the pods it installs through Helm charts or that the cluster runs anyway (tests/nca_support.py:
CoreDNS; the ingress-nginx controller and its admission-webhook Jobs; the Linkerd control plane
and its heartbeat CronJob; NGINX Gateway Fabric's control plane, cert-generator Job and data
plane; a client in an unrelated namespace), go through NCA's connectivity map. Its WHOLE table,
source workload -> destination workload -> connections, must equal the expected table below:
every connection the stack needs, and nothing else. NCA and netpol_eval must also agree on every
probe, for the stacks and for the trickier raw rule forms.

Reading and extending the tables (connections as in nca_support: `TCP 4143,50051`, `all`):

- `*_ALLOWED` lists what the stack's policies admit on purpose, into and out of the namespaces
  they protect: the services' namespaces and the edge (ingress-nginx's, the gateway data
  plane's, NGF's control plane's; docs/zero-trust.md, "The edge namespaces"). Each row is
  written from the declared intent (the connection, the route, the edge workload's ports),
  not from NCA's output.
- `UNPROTECTED` lists the workloads in namespaces no NetworkPolicy selects (kube-system,
  linkerd, an unrelated namespace): NCA shows `all` among every pair of them and the internet
  (`everything_among`). The edge's entry rules name `::/0`, so NCA lists IPv6 as its own
  endpoint (INTERNET_V6) next to INTERNET.

Not modelled, as in netpol_eval: traffic from nodes (kubelet probes), Service address
translation (ports are the pods'), pod IPs (so an `ipBlock` never matches a pod here; on CNIs
that match pod IPs against ipBlocks, a `0.0.0.0/0` rule also reaches pods), and Linkerd's own
authorization (L7, tests/test_mesh_authorization.py).

NCA lives in its own virtualenv: set GRPC_KUBE_NCA to its `nca` executable (.ci/run does).
Without it these tests skip, unless GRPC_KUBE_REQUIRE_NCA=1.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
import pytest
from nca_support import (
    HELM_RELEASE,
    INTERNET,
    INTERNET_V6,
    NcaRun,
    Row,
    Workload,
    World,
    add_stand_ins,
    allows,
    diff,
    everything_among,
    merge_connections,
    nca_executable,
    parse_connections,
    run_connectivity,
    table_lookup,
    world_from_objects,
)
from netpol_eval import Address, Pod, check

from grpc_kube.render import PROJECT, load_stack_config
from grpc_kube.stack import GrpcPlatform, read_config
from grpc_kube.testing import run_program

ROOT = Path(__file__).resolve().parents[1]

# --- connections --------------------------------------------------------------------------------

GRPC_MESHED = "TCP 4143,50051"
"""A gRPC server's container port, plus Linkerd's inbound proxy port when both sides are
meshed."""
DNS_PORTS = "TCP+UDP 53"
KUBERNETES_API = "TCP 443,6443"
"""The API server's endpoint ports (policies.edge.kubernetes_api_ports, default 443 and 6443) on
kubernetes_api_cidrs (default 0.0.0.0/0, so IPv4 only)."""
EVERYWHERE = (INTERNET, INTERNET_V6)
"""policies.edge.client_cidrs and webhook_client_cidrs by default: `0.0.0.0/0` and `::/0`."""

# --- workloads every stack has ------------------------------------------------------------------

DNS = "kube-system/coredns"
DESTINATION = "linkerd/linkerd-destination"
IDENTITY = "linkerd/linkerd-identity"
PROXY_INJECTOR = "linkerd/linkerd-proxy-injector"
HEARTBEAT = "linkerd/linkerd-heartbeat"  # CronJob
LINKERD = (DESTINATION, IDENTITY, PROXY_INJECTOR, HEARTBEAT)
LINKERD_SERVES = {IDENTITY: "TCP 8080", DESTINATION: "TCP 8086,8090"}
"""What a proxy dials in the Linkerd control plane, by the pod that serves it: identity 8080,
destination 8086 and, in the same pod, the policy controller 8090. The proxy injector and the
heartbeat serve no proxy."""
CLIENT = "unrelated/client"
"""A pod in a namespace the stack knows nothing about, wearing the labels of the stack's own
callers: selectors must tell it apart by namespace."""
UNPROTECTED = (DNS, *LINKERD, CLIENT)
"""The workloads of namespaces no policy of the stack selects."""


def every_pod_needs(workload: str, *, meshed: bool) -> set[Row]:
    """What every pod of a protected namespace may open: DNS, and the Linkerd control plane
    when meshed."""
    rows = {(workload, DNS, DNS_PORTS)}
    if meshed:
        rows |= {(workload, pod, conns) for pod, conns in LINKERD_SERVES.items()}
    return rows


def reaches(sources: Sequence[str], workload: str, *connections: str) -> set[Row]:
    """`sources` (address ranges) may open `connections` (merged into one row each) to
    `workload`."""
    return {(src, workload, merge_connections(connections)) for src in sources}


# --- dev: the meshed greeter behind ingress-nginx -----------------------------------------------

GREETER = "grpc-demo/go-grpc-greeter-server"
INGRESS_NGINX = "ingress-nginx/ingress-nginx-controller"
ADMISSION_JOBS = (  # the admission webhook's certificate Jobs (Helm hooks)
    "ingress-nginx/ingress-nginx-admission-create",
    "ingress-nginx/ingress-nginx-admission-patch",
)

DEV_ALLOWED: set[Row] = {
    (INGRESS_NGINX, GREETER, GRPC_MESHED),  # the ingress controller (meshed) -> its backend
    *every_pod_needs(GREETER, meshed=True),
    # The controller: the chart's entry ports http 80 and https 443 from client_cidrs, its
    # admission webhook 8443 from webhook_client_cidrs (both everywhere by default).
    *reaches(EVERYWHERE, INGRESS_NGINX, "TCP 80,443", "TCP 8443"),
    (INGRESS_NGINX, INTERNET, KUBERNETES_API),  # watches Ingresses, Secrets, leases
    *every_pod_needs(INGRESS_NGINX, meshed=True),  # controller.mesh: true
    # The webhook's certificate Jobs: the Kubernetes API only (they serve nothing, unmeshed).
    *{(job, INTERNET, KUBERNETES_API) for job in ADMISSION_JOBS},
    *{row for job in ADMISSION_JOBS for row in every_pod_needs(job, meshed=False)},
}
DEV_EXPECTED = DEV_ALLOWED | everything_among((*UNPROTECTED, *EVERYWHERE))

# --- prod: services calling each other behind a Gateway -----------------------------------------

API = "shop/api"
ORDERS = "shop/orders"
PAYMENTS = "shop/payments"
INVENTORY = "shop/inventory"
GATEWAY = "grpc-gateway/grpc-gateway-nginx"  # NGF's data plane of Gateway grpc-gateway
NGF = "nginx-gateway/ngf-nginx-gateway-fabric"  # NGF's control plane
NGF_CERT_GENERATOR = "nginx-gateway/ngf-nginx-gateway-fabric-cert-generator"  # Job

PROD_ALLOWED: set[Row] = {
    (GATEWAY, API, GRPC_MESHED),  # the gateway (meshed) -> the routed service
    (API, ORDERS, GRPC_MESHED),  # connections: api -> orders
    (ORDERS, PAYMENTS, GRPC_MESHED),  # connections: orders -> payments
    (ORDERS, INVENTORY, GRPC_MESHED),  # connections: orders -> inventory
    *every_pod_needs(API, meshed=True),
    *every_pod_needs(ORDERS, meshed=True),
    *every_pod_needs(PAYMENTS, meshed=True),
    *every_pod_needs(INVENTORY, meshed=True),
    # The data plane: its listener port 443 from client_cidrs (everywhere by default); its
    # nginx-agent dials the control plane's agent-grpc 8443 (NGF's namespace is not meshed, so
    # no 4143). It makes no API call.
    *reaches(EVERYWHERE, GATEWAY, "TCP 443"),
    (GATEWAY, NGF, "TCP 8443"),
    *every_pod_needs(GATEWAY, meshed=True),  # the grpc-gateway namespace is meshed
    # The control plane and its certificate Job: the Kubernetes API (neither is meshed).
    (NGF, INTERNET, KUBERNETES_API),
    *every_pod_needs(NGF, meshed=False),
    (NGF_CERT_GENERATOR, INTERNET, KUBERNETES_API),
    *every_pod_needs(NGF_CERT_GENERATOR, meshed=False),
}
PROD_EXPECTED = PROD_ALLOWED | everything_among((*UNPROTECTED, *EVERYWHERE))


@dataclass(frozen=True)
class Case:
    expected: set[Row]
    meshed: tuple[str, ...]
    """The stack's meshed workloads."""
    client_labels: dict[str, str]


CASES = {
    "dev": Case(
        DEV_EXPECTED,
        meshed=(GREETER, INGRESS_NGINX),
        # the ingress controller's labels
        client_labels={
            "app.kubernetes.io/name": "ingress-nginx",
            "app.kubernetes.io/instance": "ingress-nginx",
            "app.kubernetes.io/component": "controller",
        },
    ),
    "prod": Case(
        PROD_EXPECTED,
        meshed=(API, ORDERS, PAYMENTS, INVENTORY, GATEWAY),
        # the gateway data plane's selector label, and api's labels (api calls orders)
        client_labels={
            "gateway.networking.k8s.io/gateway-name": "grpc-gateway",
            "app.kubernetes.io/name": "api",
            "app.kubernetes.io/component": "grpc-server",
        },
    ),
}


def test_every_stack_has_a_case() -> None:
    stacks = sorted(
        p.name[len("Pulumi.") : -len(".yaml")] for p in (ROOT / "stacks").glob("Pulumi.*.yaml")
    )
    assert sorted(CASES) == stacks


# --- running NCA over a stack -------------------------------------------------------------------


@dataclass
class Analysis:
    world: World
    run: NcaRun


def stack_world(stack: str) -> World:
    """The stack's rendered objects (as `python -m grpc_kube render` prints them) with the
    stand-ins of nca_support.add_stand_ins."""
    config = load_stack_config(stack, ROOT / "stacks")
    rec = run_program(
        lambda: GrpcPlatform(PROJECT, read_config(pulumi.Config(PROJECT))),
        stack=stack,
        config=config,
    )
    objects = rec.kubernetes_objects()
    world = world_from_objects(objects)
    client = Workload("unrelated", "client", CASES[stack].client_labels)
    releases = [r.inputs for r in rec.of_type(HELM_RELEASE)]
    add_stand_ins(world, objects, releases, client=client)
    return world


@pytest.fixture(scope="module")
def analysed(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Analysis]:
    cache: dict[str, Analysis] = {}

    def get(stack: str) -> Analysis:
        exe = nca_executable()
        if stack not in cache:
            world = stack_world(stack)
            run = run_connectivity(exe, world, tmp_path_factory.mktemp(f"nca-{stack}"))
            cache[stack] = Analysis(world, run)
        return cache[stack]

    return get


@pytest.mark.parametrize("stack", sorted(CASES))
def test_nca_connectivity_is_exactly_the_expected_table(
    stack: str, analysed: Callable[[str], Analysis]
) -> None:
    actual = analysed(stack).run.rows
    expected = CASES[stack].expected
    assert actual == expected, f"stack {stack!r}:\n{diff(actual, expected)}"


@pytest.mark.parametrize("stack", sorted(CASES))
def test_meshed_pods_reach_in_linkerd_only_what_its_pods_serve(
    stack: str, analysed: Callable[[str], Analysis]
) -> None:
    """Every meshed workload, the edge's included, reaches identity on 8080 and destination on
    8086 and 8090, and no other pod or port of the control plane namespace (the proxy
    injector, the heartbeat); and no unmeshed workload of the stack reaches it at all."""
    a = analysed(stack)
    rows, meshed = a.run.rows, CASES[stack].meshed
    protected = {w.key for w in a.world.workloads} - set(UNPROTECTED)
    assert set(meshed) <= protected
    actual = {r for r in rows if r[0] in protected and r[1].startswith("linkerd/")}
    expected = {(m, pod, conns) for m in meshed for pod, conns in LINKERD_SERVES.items()}
    assert actual == expected, diff(actual, expected)


@pytest.mark.parametrize("stack", sorted(CASES))
def test_every_selector_of_the_stack_selects_a_pod(
    stack: str, analysed: Callable[[str], Analysis]
) -> None:
    """A selector that selects no pod of the world is a selector that misses the real pods (or
    a stand-in this test lacks): NCA says so, naming the policy's file."""
    found = analysed(stack).run.selects_nothing
    assert not found, "\n".join(found)


# --- NCA against the in-house evaluator ---------------------------------------------------------


OUTSIDE_ADDRESSES = ("93.184.216.34", "10.1.2.3")
"""Addresses no pod has, public and private."""


def probe_ports(world: World) -> list[int]:
    """Every port a policy or a container names, its neighbours, and a few others."""
    ports = {1, 80, 443, 4191, 8443, 9443, 65535}
    for policy in world.policies:
        spec = policy["spec"]
        for rule in [*(spec.get("ingress") or []), *(spec.get("egress") or [])]:
            for entry in rule.get("ports") or []:
                for key in ("port", "endPort"):
                    if isinstance(entry.get(key), int):
                        ports |= {entry[key] - 1, entry[key], entry[key] + 1}
    for w in world.workloads:
        ports |= {p for _, p, _ in w.ports}
    return sorted(p for p in ports if 1 <= p <= 65535)


def disagreements(world: World, rows: set[Row], addresses: Sequence[str]) -> list[str]:
    """Every (source, destination, protocol, port) on which tests/netpol_eval.py and NCA's
    table answer differently: all pairs of workloads and `addresses`, every probe port, TCP,
    UDP and SCTP."""
    lookup = table_lookup(rows)
    endpoints: dict[str, Pod | Address] = {
        w.key: Pod(
            w.namespace,
            dict(w.labels),
            namespace_labels=world.namespace_labels(w.namespace),
            named_ports={name: port for name, port, _ in w.ports if name},
            name=w.key,
        )
        for w in world.workloads
    }
    endpoints.update({ip: Address(ip) for ip in addresses})
    ports = probe_ports(world)
    out = []
    for src, src_ep in endpoints.items():
        for dst, dst_ep in endpoints.items():
            if isinstance(src_ep, Address) and isinstance(dst_ep, Address):
                continue
            found = lookup(src, dst)
            for protocol in ("TCP", "UDP", "SCTP"):
                for port in ports:
                    nca = any(allows(conns, protocol, port) for conns in found)
                    ours = check(world.policies, src_ep, dst_ep, port, protocol)
                    if nca != bool(ours):
                        out.append(
                            f"{src} -> {dst} {protocol}/{port}: NCA {nca}, netpol_eval "
                            f"{bool(ours)} ({ours.reason})"
                        )
    return out


@pytest.mark.parametrize("stack", sorted(CASES))
def test_nca_and_the_in_house_evaluator_agree_on_the_stack(
    stack: str, analysed: Callable[[str], Analysis]
) -> None:
    a = analysed(stack)
    found = disagreements(a.world, a.run.rows, OUTSIDE_ADDRESSES)
    assert not found, "\n".join(found[:50])


# The trickier rule forms ZeroTrustPolicy's raw policies render (the Kubernetes documentation's
# example and test_zero_trust_policy's every-form policy), as Kubernetes objects.
RAW_FORMS: list[dict[str, Any]] = [
    {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": "test-network-policy", "namespace": "default"},
        "spec": {
            "podSelector": {"matchLabels": {"role": "db"}},
            "policyTypes": ["Ingress", "Egress"],
            "ingress": [
                {
                    "from": [
                        {"ipBlock": {"cidr": "172.17.0.0/16", "except": ["172.17.1.0/24"]}},
                        {"namespaceSelector": {"matchLabels": {"project": "myproject"}}},
                        {"podSelector": {"matchLabels": {"role": "frontend"}}},
                    ],
                    "ports": [{"protocol": "TCP", "port": 6379}],
                }
            ],
            "egress": [
                {
                    "to": [{"ipBlock": {"cidr": "10.0.0.0/24"}}],
                    "ports": [{"protocol": "TCP", "port": 5978}],
                }
            ],
        },
    },
    {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": "extras", "namespace": "shop"},
        "spec": {
            "podSelector": {
                "matchLabels": {"tier": "api"},
                "matchExpressions": [
                    {"key": "track", "operator": "In", "values": ["stable", "canary"]},
                    {"key": "legacy", "operator": "DoesNotExist"},
                ],
            },
            "policyTypes": ["Ingress", "Egress"],
            "ingress": [
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
                                "matchExpressions": [
                                    {"key": "env", "operator": "NotIn", "values": ["dev"]}
                                ]
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
            ],
            "egress": [
                {"ports": [{"protocol": "SCTP", "port": 3868}]},
                {
                    "to": [{"ipBlock": {"cidr": "2001:db8::/64", "except": ["2001:db8::/80"]}}],
                    "ports": [{"protocol": "UDP"}],
                },
                {"to": [{"namespaceSelector": {}}], "ports": [{"protocol": "TCP", "port": 443}]},
            ],
        },
    },
]


def test_nca_and_the_in_house_evaluator_agree_on_the_raw_rule_forms(tmp_path: Path) -> None:
    exe = nca_executable()
    world = World(
        {"team-a": {"project": "myproject"}, "x-dev": {"env": "dev"}, "x-prod": {"env": "prod"}},
        RAW_FORMS,
        [],
    )
    for w in (
        Workload("default", "db", {"role": "db"}),
        Workload("default", "frontend", {"role": "frontend"}),
        Workload("default", "cache", {"role": "cache"}),
        Workload("other", "frontend", {"role": "frontend"}),
        Workload("team-a", "client", {"app": "client"}),
        Workload("shop", "api", {"tier": "api", "track": "canary"}, (("metrics", 9102, "TCP"),)),
        Workload(
            "shop",
            "legacy",
            {"tier": "api", "track": "stable", "legacy": "1"},
            (("metrics", 9103, "TCP"),),
        ),
        Workload("shop", "web", {"tier": "web"}),
        Workload("monitoring", "prometheus", {"app": "prometheus"}),
        Workload("x-dev", "client", {"app": "client"}),
        Workload("x-prod", "client", {"app": "client"}),
    ):
        world.add(w)
    run = run_connectivity(exe, world, tmp_path)
    assert not run.selects_nothing, "\n".join(run.selects_nothing)
    addresses = (
        *OUTSIDE_ADDRESSES,
        "172.17.0.9",
        "172.17.1.9",  # in the except range
        "172.17.2.9",
        "172.18.0.9",
        "10.0.0.7",
        "10.0.1.7",
        "2001:db8::1:0:0:1",
        "2001:db8::1",  # in the except range
        "2001:db9::1",
    )
    found = disagreements(world, run.rows, addresses)
    assert not found, "\n".join(found[:50])


# --- reading NCA's output (no NCA needed) -------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("All connections", "all"),
        ("{protocols:TCP,dst_ports:4143,50051}", "TCP 4143,50051"),
        ("{protocols:TCP, UDP,dst_ports:53}", "TCP+UDP 53"),
        ("{protocols:UDP}", "UDP"),
        ("{dst_ports:80-90}", "* 80-90"),
        (
            "{protocols:UDP,dst_ports:53},{protocols:TCP,dst_ports:1-52,54-65535}",
            "TCP 1-52,54-65535; UDP 53",
        ),
    ],
)
def test_nca_connection_text_is_read(text: str, canonical: str) -> None:
    assert parse_connections(text) == canonical


@pytest.mark.parametrize(
    "text",
    ["All but {protocols:TCP}", "{protocols:all but TCP}", "{protocols:TCP,methods:GET}", "x"],
)
def test_unknown_nca_connection_text_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_connections(text)


@pytest.mark.parametrize(
    ("conns", "protocol", "port", "expected"),
    [
        ("all", "SCTP", 9, True),
        (None, "TCP", 53, False),
        ("TCP+UDP 53", "UDP", 53, True),
        ("TCP+UDP 53", "SCTP", 53, False),
        ("TCP 4143,50051", "TCP", 50052, False),
        ("TCP 1-52,54-65535; UDP 53", "TCP", 54, True),
        ("TCP 1-52,54-65535; UDP 53", "TCP", 53, False),
        ("* 80-90", "SCTP", 85, True),
        ("UDP", "UDP", 7, True),
    ],
)
def test_canonical_connections_answer_probes(
    conns: str | None, protocol: str, port: int, expected: bool
) -> None:
    assert allows(conns, protocol, port) is expected


def test_everything_among_is_every_ordered_pair_but_internet_to_itself() -> None:
    rows: set[Any] = everything_among(("a/x", INTERNET))
    assert rows == {
        ("a/x", "a/x", "all"),
        ("a/x", INTERNET, "all"),
        (INTERNET, "a/x", "all"),
    }
