"""The edge: ingress-nginx's namespace, the Gateway's data-plane namespace and NGINX Gateway
Fabric's control-plane namespace. What each stack sends for them (NetworkPolicies and, for a
meshed edge, Linkerd objects), under both default inbound policies, what the policies allow and
deny (tests/netpol_eval.py), and the configuration errors."""

from __future__ import annotations

import copy
from typing import Any

import pulumi
import pytest
from netpol_eval import Address, Pod, check
from schema_checks import validate_all
from test_stacks import raw, run_stack, stack_program

from grpc_kube._validation import InvalidArgumentError
from grpc_kube.mesh_authorization import EdgeAuthorization, EdgeAuthorizationArgs
from grpc_kube.testing import Recording, run_program
from grpc_kube.zero_trust_policy import (
    EdgePeer,
    EdgeWorkload,
    ZeroTrustPolicy,
    ZeroTrustPolicyArgs,
    plan_policies,
)

NETPOL = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
EDGE_NAMESPACES = {"ingress-nginx", "grpc-gateway", "nginx-gateway"}
ANYWHERE = [{"ipBlock": {"cidr": "0.0.0.0/0"}}, {"ipBlock": {"cidr": "::/0"}}]
# The Kubernetes API by default: anywhere, on both usual endpoint ports (443, kubeadm 6443).
API = {
    "to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}],
    "ports": [{"protocol": "TCP", "port": 443}, {"protocol": "TCP", "port": 6443}],
}
DNS = {
    "to": [
        {
            "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
            "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
        }
    ],
    "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}],
}
LINKERD = [  # a proxy -> identity on 8080, destination on 8086 and its policy controller on 8090
    {
        "to": [
            {
                "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "linkerd"}},
                "podSelector": {"matchLabels": {"linkerd.io/control-plane-component": component}},
            }
        ],
        "ports": [{"protocol": "TCP", "port": p} for p in ports],
    }
    for component, ports in (("identity", (8080,)), ("destination", (8086, 8090)))
]
IDENTITY = Pod("linkerd", {"linkerd.io/control-plane-component": "identity"}, name="identity")
DESTINATION = Pod(
    "linkerd", {"linkerd.io/control-plane-component": "destination"}, name="destination"
)
PROXY_INJECTOR = Pod(
    "linkerd", {"linkerd.io/control-plane-component": "proxy-injector"}, name="proxy-injector"
)
CONTROLLER = {
    "app.kubernetes.io/name": "ingress-nginx",
    "app.kubernetes.io/instance": "ingress-nginx",
    "app.kubernetes.io/component": "controller",
}
ADMISSION = {**CONTROLLER, "app.kubernetes.io/component": "admission-webhook"}
DATA_PLANE = {"gateway.networking.k8s.io/gateway-name": "grpc-gateway"}
NGF = {"app.kubernetes.io/name": "nginx-gateway-fabric", "app.kubernetes.io/instance": "ngf"}
CERT_JOB = {"batch.kubernetes.io/job-name": "ngf-nginx-gateway-fabric-cert-generator"}


def _config(stack: str, **mutations: Any) -> dict[str, Any]:
    config = copy.deepcopy(raw(stack))
    for key, value in mutations.items():
        config[key] = value
    return {f"grpc-kube:{k}": v for k, v in config.items()}


def _policies(rec: Recording, namespace: str) -> dict[str, dict[str, Any]]:
    return {
        o["metadata"]["name"]: o["spec"]
        for o in rec.kubernetes_objects()
        if o["kind"] == "NetworkPolicy" and o["metadata"]["namespace"] == namespace
    }


def _linkerd(rec: Recording, namespace: str) -> dict[tuple[str, str], dict[str, Any]]:
    kinds = {"Server", "AuthorizationPolicy", "NetworkAuthentication", "MeshTLSAuthentication"}
    return {
        (o["kind"], o["metadata"]["name"]): o["spec"]
        for o in rec.kubernetes_objects()
        if o["kind"] in kinds and o["metadata"]["namespace"] == namespace
    }


def _server(labels: dict[str, str], port: int) -> dict[str, Any]:
    return {
        "podSelector": {"matchLabels": labels},
        "port": port,
        "proxyProtocol": "unknown",
        "accessPolicy": "deny",
    }


def _authz(server: str, kind: str, auth: str) -> dict[str, Any]:
    return {
        "targetRef": {"group": "policy.linkerd.io", "kind": "Server", "name": server},
        "requiredAuthenticationRefs": [{"group": "policy.linkerd.io", "kind": kind, "name": auth}],
    }


def _networks(*cidrs: str) -> dict[str, Any]:
    return {"networks": [{"cidr": c} for c in cidrs]}


@pytest.fixture(scope="module")
def dev() -> Recording:
    return run_stack("dev")


@pytest.fixture(scope="module")
def prod() -> Recording:
    return run_stack("prod")


# --- dev: a meshed ingress-nginx controller ---------------------------------------------------


def test_dev_isolates_the_ingress_nginx_namespace(dev: Recording) -> None:
    assert _policies(dev, "ingress-nginx") == {
        "ingress-nginx-zero-trust-default-deny": {
            "podSelector": {},
            "policyTypes": ["Ingress", "Egress"],
        },
        "ingress-nginx-zero-trust-dns": {
            "podSelector": {},
            "policyTypes": ["Egress"],
            "egress": [DNS],
        },
        "ingress-nginx-zero-trust-ingress-nginx-controller-ingress": {
            "podSelector": {"matchLabels": CONTROLLER},
            "policyTypes": ["Ingress"],
            "ingress": [
                # the chart's http and https container ports, from the load balancer
                {"from": ANYWHERE, "ports": [{"protocol": "TCP", "port": p} for p in (80, 443)]},
                # the admission webhook, from the API server
                {"from": ANYWHERE, "ports": [{"protocol": "TCP", "port": 8443}]},
            ],
        },
        "ingress-nginx-zero-trust-ingress-nginx-controller-egress": {
            "podSelector": {"matchLabels": CONTROLLER},
            "policyTypes": ["Egress"],
            "egress": [
                API,
                # the backend's container port, and 4143: both proxies are meshed
                {
                    "to": [
                        {
                            "namespaceSelector": {
                                "matchLabels": {"kubernetes.io/metadata.name": "grpc-demo"}
                            },
                            "podSelector": {
                                "matchLabels": {"app.kubernetes.io/name": "go-grpc-greeter-server"}
                            },
                        }
                    ],
                    "ports": [{"protocol": "TCP", "port": p} for p in (50051, 4143)],
                },
            ],
        },
        "ingress-nginx-zero-trust-ingress-nginx-controller-linkerd": {
            "podSelector": {"matchLabels": CONTROLLER},
            "policyTypes": ["Egress"],
            "egress": LINKERD,
        },
        "ingress-nginx-zero-trust-ingress-nginx-admission-egress": {
            "podSelector": {"matchLabels": ADMISSION},
            "policyTypes": ["Egress"],
            "egress": [API],
        },
    }


DEV_EDGE_LINKERD = {
    ("Server", "ingress-nginx-controller-entry-80"): _server(CONTROLLER, 80),
    ("Server", "ingress-nginx-controller-entry-443"): _server(CONTROLLER, 443),
    ("Server", "ingress-nginx-controller-webhook-8443"): _server(CONTROLLER, 8443),
    ("AuthorizationPolicy", "ingress-nginx-controller-entry-80"): _authz(
        "ingress-nginx-controller-entry-80",
        "NetworkAuthentication",
        "ingress-nginx-controller-clients",
    ),
    ("AuthorizationPolicy", "ingress-nginx-controller-entry-443"): _authz(
        "ingress-nginx-controller-entry-443",
        "NetworkAuthentication",
        "ingress-nginx-controller-clients",
    ),
    ("AuthorizationPolicy", "ingress-nginx-controller-webhook-8443"): _authz(
        "ingress-nginx-controller-webhook-8443",
        "NetworkAuthentication",
        "ingress-nginx-controller-api-server",
    ),
    ("NetworkAuthentication", "ingress-nginx-controller-clients"): _networks("0.0.0.0/0", "::/0"),
    ("NetworkAuthentication", "ingress-nginx-controller-api-server"): _networks(
        "0.0.0.0/0", "::/0"
    ),
}


@pytest.mark.parametrize("policy", ["all-unauthenticated", "all-authenticated"])
def test_meshed_ingress_nginx_admits_the_load_balancer_and_the_api_server(policy: str) -> None:
    config = raw("dev")
    config["mesh"] = {**config["mesh"], "default_inbound_policy": policy}
    rec = run_stack("dev", {f"grpc-kube:{k}": v for k, v in config.items()})
    release = rec.one("kubernetes:helm.sh/v3:Release", "grpc-kube-linkerd-control-plane")
    assert release.inputs["values"]["proxy"]["defaultInboundPolicy"] == policy
    # The same objects whatever the default: the entry and webhook ports are covered by
    # Servers, so the default never applies to them.
    assert _linkerd(rec, "ingress-nginx") == DEV_EDGE_LINKERD
    # Behind the edge nothing is loosened: the greeter still admits only the controller.
    auth = rec.kube("MeshTLSAuthentication", "go-grpc-greeter-server-grpc-clients")
    assert auth["spec"]["identityRefs"] == [
        {"kind": "ServiceAccount", "name": "ingress-nginx", "namespace": "ingress-nginx"}
    ]
    assert validate_all(rec.kubernetes_objects()) > 0


def test_edge_servers_exist_before_ingresses_reach_the_webhook(dev: Recording) -> None:
    ingress = dev.one("kubernetes:networking.k8s.io/v1:Ingress")
    namespace = dev.one("kubernetes:core/v1:Namespace", "grpc-kube-ingress-nginx-namespace")
    control_plane = dev.one("grpc-kube:index:LinkerdControlPlane")
    for server in dev.of_type("kubernetes:policy.linkerd.io/v1beta3:Server"):
        if server.inputs["metadata"]["namespace"] != "ingress-nginx":
            continue
        assert dev.depends_on(ingress, server), server.name
        assert dev.depends_on(server, namespace) and dev.depends_on(server, control_plane)


def test_dev_edge_reachability(dev: Recording) -> None:
    objs = dev.kubernetes_objects()
    internet = Address("203.0.113.7")
    api = Address("10.96.0.1")
    controller = Pod("ingress-nginx", CONTROLLER, name="controller")
    job = Pod("ingress-nginx", ADMISSION, name="admission-create")
    other = Pod("ingress-nginx", {"app": "debug"}, name="debug")
    greeter = Pod("grpc-demo", {"app.kubernetes.io/name": "go-grpc-greeter-server"})
    dns = Pod("kube-system", {"k8s-app": "kube-dns"})
    for port in (80, 443, 8443):
        assert check(objs, internet, controller, port), port
    assert not check(objs, internet, controller, 10254)  # metrics stay closed
    assert not check(objs, internet, other, 443)  # only the controller is the entry point
    assert check(objs, controller, greeter, 50051)
    assert check(objs, controller, greeter, 4143)
    assert not check(objs, controller, greeter, 8086)  # never the health port
    assert not check(objs, controller, Pod("grpc-demo", {"app": "other"}), 50051)
    assert check(objs, controller, api, 443) and check(objs, job, api, 443)
    assert check(objs, controller, api, 6443)
    assert not check(objs, controller, api, 8443)  # the API server's ports only
    assert check(objs, controller, dns, 53, "UDP")
    # The meshed controller's proxy reaches each control-plane component on its own ports only.
    assert check(objs, controller, IDENTITY, 8080)
    assert check(objs, controller, DESTINATION, 8086) and check(objs, controller, DESTINATION, 8090)
    assert not check(objs, controller, IDENTITY, 8086)
    assert not check(objs, controller, DESTINATION, 8080)
    assert not check(objs, controller, PROXY_INJECTOR, 8080)
    assert not check(objs, controller, PROXY_INJECTOR, 8443)
    assert not check(objs, job, DESTINATION, 8086)  # the Jobs are not meshed
    assert not check(objs, job, greeter, 50051)
    assert not check(objs, other, api, 443)
    # The greeter's own egress is closed: the backend cannot call back into the edge.
    assert not check(objs, greeter, controller, 443)


# --- prod: a meshed Gateway data plane and the NGF control plane ------------------------------


def test_prod_isolates_the_gateway_and_control_plane_namespaces(prod: Recording) -> None:
    agent_from_data_plane = {
        "from": [
            {
                "namespaceSelector": {
                    "matchLabels": {"kubernetes.io/metadata.name": "grpc-gateway"}
                },
                "podSelector": {"matchLabels": DATA_PLANE},
            }
        ],
        "ports": [{"protocol": "TCP", "port": 8443}],
    }
    assert _policies(prod, "nginx-gateway") == {
        "nginx-gateway-zero-trust-default-deny": {
            "podSelector": {},
            "policyTypes": ["Ingress", "Egress"],
        },
        "nginx-gateway-zero-trust-dns": {
            "podSelector": {},
            "policyTypes": ["Egress"],
            "egress": [DNS],
        },
        "nginx-gateway-zero-trust-ngf-nginx-gateway-fabric-ingress": {
            "podSelector": {"matchLabels": NGF},
            "policyTypes": ["Ingress"],
            # no metrics rule: prod names no metrics namespace
            "ingress": [agent_from_data_plane],
        },
        "nginx-gateway-zero-trust-ngf-nginx-gateway-fabric-egress": {
            "podSelector": {"matchLabels": NGF},
            "policyTypes": ["Egress"],
            "egress": [API],
        },
        "nginx-gateway-zero-trust-ngf-nginx-gateway-fabric-cert-generator-egress": {
            "podSelector": {"matchLabels": CERT_JOB},
            "policyTypes": ["Egress"],
            "egress": [API],
        },
    }
    assert _policies(prod, "grpc-gateway") == {
        "grpc-gateway-zero-trust-default-deny": {
            "podSelector": {},
            "policyTypes": ["Ingress", "Egress"],
        },
        "grpc-gateway-zero-trust-dns": {
            "podSelector": {},
            "policyTypes": ["Egress"],
            "egress": [DNS],
        },
        # the namespace is meshed: every pod may reach the Linkerd control plane
        "grpc-gateway-zero-trust-linkerd": {
            "podSelector": {},
            "policyTypes": ["Egress"],
            "egress": LINKERD,
        },
        "grpc-gateway-zero-trust-grpc-gateway-nginx-ingress": {
            "podSelector": {"matchLabels": DATA_PLANE},
            "policyTypes": ["Ingress"],
            "ingress": [{"from": ANYWHERE, "ports": [{"protocol": "TCP", "port": 443}]}],
        },
        "grpc-gateway-zero-trust-grpc-gateway-nginx-egress": {
            "podSelector": {"matchLabels": DATA_PLANE},
            "policyTypes": ["Egress"],
            "egress": [
                {
                    "to": [
                        {
                            "namespaceSelector": {
                                "matchLabels": {"kubernetes.io/metadata.name": "nginx-gateway"}
                            },
                            "podSelector": {"matchLabels": NGF},
                        }
                    ],
                    "ports": [{"protocol": "TCP", "port": 8443}],
                },
                {
                    "to": [
                        {
                            "namespaceSelector": {
                                "matchLabels": {"kubernetes.io/metadata.name": "shop"}
                            },
                            "podSelector": {"matchLabels": {"app.kubernetes.io/name": "api"}},
                        }
                    ],
                    "ports": [{"protocol": "TCP", "port": p} for p in (50051, 4143)],
                },
            ],
        },
    }


PROD_EDGE_LINKERD = {
    ("Server", "grpc-gateway-nginx-entry-443"): _server(DATA_PLANE, 443),
    ("AuthorizationPolicy", "grpc-gateway-nginx-entry-443"): _authz(
        "grpc-gateway-nginx-entry-443", "NetworkAuthentication", "grpc-gateway-nginx-clients"
    ),
    ("NetworkAuthentication", "grpc-gateway-nginx-clients"): _networks("0.0.0.0/0", "::/0"),
}


@pytest.mark.parametrize("policy", ["all-authenticated", "all-unauthenticated"])
def test_meshed_gateway_admits_the_load_balancer_on_its_listener(policy: str) -> None:
    config = raw("prod")
    config["mesh"] = {**config["mesh"], "default_inbound_policy": policy}
    for ns in config["namespaces"]:
        ns["default_inbound_policy"] = policy
    rec = run_stack("prod", {f"grpc-kube:{k}": v for k, v in config.items()})
    gw_ns = rec.kube("Namespace", "grpc-gateway")
    assert gw_ns["metadata"]["annotations"]["config.linkerd.io/default-inbound-policy"] == policy
    assert _linkerd(rec, "grpc-gateway") == PROD_EDGE_LINKERD
    # the control plane is not meshed: no Linkerd object there
    assert _linkerd(rec, "nginx-gateway") == {}
    api = rec.kube("MeshTLSAuthentication", "api-grpc-clients")
    assert api["spec"]["identityRefs"] == [
        {"kind": "ServiceAccount", "name": "grpc-gateway-nginx", "namespace": "grpc-gateway"}
    ]


def test_prod_edge_reachability(prod: Recording) -> None:
    objs = prod.kubernetes_objects()
    internet = Address("198.51.100.9")
    data_plane = Pod("grpc-gateway", {**DATA_PLANE, "app.kubernetes.io/name": "grpc-gateway-nginx"})
    control_plane = Pod("nginx-gateway", NGF)
    cert_job = Pod("nginx-gateway", CERT_JOB)
    api = Pod("shop", {"app.kubernetes.io/name": "api"})
    orders = Pod("shop", {"app.kubernetes.io/name": "orders"})
    assert check(objs, internet, data_plane, 443)
    assert not check(objs, internet, data_plane, 9113)  # metrics: no namespace named
    assert not check(objs, internet, control_plane, 8443)
    assert check(objs, data_plane, control_plane, 8443)  # nginx-agent -> control plane
    assert not check(objs, control_plane, data_plane, 443)  # never the other way
    assert not check(objs, Pod("grpc-gateway", {"app": "x"}), control_plane, 8443)
    assert check(objs, data_plane, api, 50051) and check(objs, data_plane, api, 4143)
    assert not check(objs, data_plane, orders, 50051)
    assert check(objs, control_plane, Address("10.0.0.1"), 443)
    assert check(objs, cert_job, Address("10.0.0.1"), 443)
    assert not check(objs, data_plane, Address("10.0.0.1"), 443)  # the data plane has no API use
    # The meshed data plane's proxy: each control-plane component on its own ports only.
    assert check(objs, data_plane, IDENTITY, 8080)
    assert check(objs, data_plane, DESTINATION, 8086) and check(objs, data_plane, DESTINATION, 8090)
    assert not check(objs, data_plane, DESTINATION, 8080)
    assert not check(objs, data_plane, PROXY_INJECTOR, 8086)
    assert not check(objs, control_plane, IDENTITY, 8080)  # NGF's control plane is not meshed


def test_metrics_namespaces_reach_the_edge_metrics_ports_only() -> None:
    rec = run_stack("prod", _config("prod", policies={"metrics_from_namespaces": ["monitoring"]}))
    objs = rec.kubernetes_objects()
    prometheus = Pod("monitoring", {"app": "prometheus"})
    data_plane = Pod("grpc-gateway", DATA_PLANE)
    control_plane = Pod("nginx-gateway", NGF)
    assert check(objs, prometheus, control_plane, 9113)
    assert check(objs, prometheus, data_plane, 9113)
    assert check(objs, prometheus, data_plane, 4191)  # the proxy's admin port, meshed
    assert not check(objs, prometheus, control_plane, 4191)  # the control plane is not meshed
    assert not check(objs, prometheus, control_plane, 8443)
    assert not check(objs, Pod("other", {"app": "prometheus"}), control_plane, 9113)


# --- configuration --------------------------------------------------------------------------


def test_edge_configuration_reaches_the_objects() -> None:
    edge = {
        "client_cidrs": ["203.0.113.0/24"],
        "webhook_client_cidrs": ["10.0.0.0/28"],
        "kubernetes_api_cidrs": ["10.0.0.0/28", "fd00::/64"],
        "kubernetes_api_ports": [6443],
    }
    rec = run_stack("dev", _config("dev", policies={"edge": edge}))
    policies = _policies(rec, "ingress-nginx")
    ingress = policies["ingress-nginx-zero-trust-ingress-nginx-controller-ingress"]["ingress"]
    assert ingress[0]["from"] == [{"ipBlock": {"cidr": "203.0.113.0/24"}}]
    assert ingress[1]["from"] == [{"ipBlock": {"cidr": "10.0.0.0/28"}}]
    api = {
        "to": [{"ipBlock": {"cidr": "10.0.0.0/28"}}, {"ipBlock": {"cidr": "fd00::/64"}}],
        "ports": [{"protocol": "TCP", "port": 6443}],
    }
    assert policies["ingress-nginx-zero-trust-ingress-nginx-admission-egress"]["egress"] == [api]
    linkerd = _linkerd(rec, "ingress-nginx")
    assert linkerd[("NetworkAuthentication", "ingress-nginx-controller-clients")] == _networks(
        "203.0.113.0/24"
    )
    assert linkerd[("NetworkAuthentication", "ingress-nginx-controller-api-server")] == _networks(
        "10.0.0.0/28"
    )
    objs = rec.kubernetes_objects()
    controller = Pod("ingress-nginx", CONTROLLER)
    assert check(objs, Address("203.0.113.5"), controller, 443)
    assert not check(objs, Address("198.51.100.5"), controller, 443)
    assert not check(objs, Address("203.0.113.5"), controller, 8443)


def test_isolate_false_leaves_the_edge_namespaces_open() -> None:
    rec = run_stack("prod", _config("prod", policies={"edge": {"isolate": False}}))
    namespaces = {p.inputs["metadata"]["namespace"] for p in rec.of_type(NETPOL)}
    assert namespaces == {"shop"}
    # The Linkerd side does not depend on it: a meshed edge must keep answering.
    assert _linkerd(rec, "grpc-gateway") == PROD_EDGE_LINKERD


@pytest.mark.parametrize(
    ("edge", "expected"),
    [
        (
            {"client_cidrs": ["203.0.113.1"]},
            "policies.edge.client_cidrs[0]: got '203.0.113.1'; CIDR mask is missing in IPv4: "
            '"203.0.113.1". Did you mean "203.0.113.1/32"?',
        ),
        ({"client_cidrs": []}, "policies.edge.client_cidrs: got []; an empty list"),
        (
            {"webhook_client_cidrs": ["10.0.0.1/24"]},
            "policies.edge.webhook_client_cidrs[0]: got '10.0.0.1/24'",
        ),
        ({"kubernetes_api_ports": [0]}, "policies.edge.kubernetes_api_ports: got [0]; [0] not"),
        ({"kubernetes_api_ports": []}, "policies.edge.kubernetes_api_ports: got []; no port"),
        (
            {"kubernetes_api_ports": ["6443"]},
            "policies.edge.kubernetes_api_ports: got ['6443']; ports must be numbers",
        ),
        ({"kubernetes_api_cidr": ["10.0.0.0/8"]}, "policies.edge.kubernetes_api_cidr: unknown"),
    ],
)
def test_bad_edge_configuration_fails_before_anything_registers(
    edge: dict[str, Any], expected: str
) -> None:
    config = _config("dev", policies={"edge": edge})
    with pytest.raises(Exception) as err:
        run_program(stack_program, stack="dev", config=config)
    assert expected in str(err.value), str(err.value)
    assert "Fix" in str(err.value) or "Did you mean" in str(err.value)
    assert len(err.value.recording) == 0  # type: ignore[attr-defined]


def test_existing_installers_get_the_same_edge_objects() -> None:
    for stack in ("dev", "prod"):
        config = raw(stack)
        key = "controller" if stack == "dev" else "gateway_controller"
        config["ingress"].setdefault(key, {})["install"] = {"existing": True}
        installed = run_stack(stack)
        existing = run_stack(stack, {f"grpc-kube:{k}": v for k, v in config.items()})
        for ns in EDGE_NAMESPACES:
            assert _policies(existing, ns) == _policies(installed, ns), (stack, ns)
            assert _linkerd(existing, ns) == _linkerd(installed, ns), (stack, ns)


# --- the components on their own --------------------------------------------------------------


def _edge(**fields: Any) -> EdgeWorkload:
    return EdgeWorkload(**{"name": "ctrl", "pod_labels": {"app": "ctrl"}, **fields})


def test_edge_workload_refuses_what_allows_nothing_or_everything() -> None:
    with pytest.raises(InvalidArgumentError, match="declares no traffic"):
        EdgeWorkload(name="idle", pod_labels={"app": "idle"})
    with pytest.raises(InvalidArgumentError, match=r"pod_labels: got \{\}; an empty selector"):
        _edge(pod_labels={}, entry_ports=(443,))
    with pytest.raises(InvalidArgumentError, match=r"entry_ports\[1\]: got 70000"):
        _edge(entry_ports=(443, 70000))
    with pytest.raises(InvalidArgumentError, match="a port is listed twice"):
        _edge(entry_ports=(443, 443))
    with pytest.raises(InvalidArgumentError, match="ports: got \\(\\); no ports"):
        EdgePeer(namespace="x", pod_labels={"a": "b"}, ports=())


def test_policy_refuses_two_edge_workloads_with_one_name_or_the_same_pods() -> None:
    with pytest.raises(InvalidArgumentError, match="'ctrl' is used twice"):
        ZeroTrustPolicyArgs(
            namespace="edge",
            edge=(_edge(kubernetes_api=True), _edge(pod_labels={"app": "x"}, kubernetes_api=True)),
        )
    with pytest.raises(InvalidArgumentError, match="select the same pods"):
        ZeroTrustPolicyArgs(
            namespace="edge",
            edge=(_edge(kubernetes_api=True), _edge(name="other", kubernetes_api=True)),
        )
    with pytest.raises(InvalidArgumentError, match=r"edge_client_cidrs\[0\]: got '::1'"):
        ZeroTrustPolicyArgs(namespace="edge", edge_client_cidrs=["::1"])


def test_metrics_namespaces_are_accepted_for_an_unmeshed_edge_with_metrics_ports() -> None:
    args = ZeroTrustPolicyArgs(
        namespace="edge", edge=(_edge(metrics_ports=(9113,)),), metrics_from_namespaces=["mon"]
    )
    plan = plan_policies("edge", args)
    ingress = dict(plan.objects)["ctrl-ingress"]["spec"]["ingress"]
    assert ingress == [
        {
            "from": [
                {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "mon"}}}
            ],
            "ports": [{"protocol": "TCP", "port": 9113}],
        }
    ]
    with pytest.raises(InvalidArgumentError, match="no edge workload has metrics_ports"):
        plan_policies(
            "edge",
            ZeroTrustPolicyArgs(
                namespace="edge", edge=(_edge(entry_ports=(443,)),), metrics_from_namespaces=["m"]
            ),
        )


def test_edge_values_as_outputs_reach_the_policies_once_checked() -> None:
    def program() -> None:
        ZeroTrustPolicy(
            "edge",
            ZeroTrustPolicyArgs(
                namespace="edge",
                edge=(_edge(entry_ports=(pulumi.Output.from_input(443),), kubernetes_api=True),),
                edge_client_cidrs=pulumi.Output.from_input(["203.0.113.0/24"]),
                kubernetes_api_ports=pulumi.Output.from_input([6443]),
            ),
        )

    rec = run_program(program)
    spec = rec.kube("NetworkPolicy", "edge-ctrl-ingress")["spec"]
    assert spec["ingress"] == [
        {
            "from": [{"ipBlock": {"cidr": "203.0.113.0/24"}}],
            "ports": [{"protocol": "TCP", "port": 443}],
        }
    ]
    egress = rec.kube("NetworkPolicy", "edge-ctrl-egress")["spec"]["egress"]
    assert egress[0]["ports"] == [{"protocol": "TCP", "port": 6443}]

    def bad() -> None:
        ZeroTrustPolicy(
            "edge",
            ZeroTrustPolicyArgs(
                namespace="edge",
                edge=(_edge(entry_ports=(443,)),),
                edge_client_cidrs=pulumi.Output.from_input(["203.0.113.1"]),
            ),
        )

    with pytest.raises(Exception, match=r"edge_client_cidrs\[0\]: got '203.0.113.1'") as err:
        run_program(bad)
    sent = [r for r in err.value.recording.of_type(NETPOL)]  # type: ignore[attr-defined]
    assert all("ipBlock" not in str(r.inputs.get("spec", "")) for r in sent)


def test_edge_authorization_objects_and_order() -> None:
    def program() -> None:
        EdgeAuthorization(
            "gw",
            EdgeAuthorizationArgs(client_networks=["203.0.113.0/24"]),
            namespace="edge",
            workload=_edge(entry_ports=(443,), webhook_ports=(8443,), meshed=True),
        )

    rec = run_program(program)
    assert _linkerd(rec, "edge") == {
        ("Server", "ctrl-entry-443"): _server({"app": "ctrl"}, 443),
        ("Server", "ctrl-webhook-8443"): _server({"app": "ctrl"}, 8443),
        ("AuthorizationPolicy", "ctrl-entry-443"): _authz(
            "ctrl-entry-443", "NetworkAuthentication", "ctrl-clients"
        ),
        ("AuthorizationPolicy", "ctrl-webhook-8443"): _authz(
            "ctrl-webhook-8443", "NetworkAuthentication", "ctrl-api-server"
        ),
        ("NetworkAuthentication", "ctrl-clients"): _networks("203.0.113.0/24"),
        ("NetworkAuthentication", "ctrl-api-server"): _networks("0.0.0.0/0", "::/0"),
    }
    server = rec.one("kubernetes:policy.linkerd.io/v1beta3:Server", "gw-entry-443-server")
    policy = rec.one(
        "kubernetes:policy.linkerd.io/v1alpha1:AuthorizationPolicy", "gw-entry-443-policy"
    )
    auth = rec.one("kubernetes:policy.linkerd.io/v1alpha1:NetworkAuthentication", "gw-clients")
    assert rec.depends_on(server, policy) and rec.depends_on(policy, auth)
    assert validate_all(rec.kubernetes_objects()) == 6


@pytest.mark.parametrize(
    ("workload", "kwargs", "expected"),
    [
        (_edge(entry_ports=(443,)), {}, "workload: 'ctrl' is not meshed"),
        (_edge(kubernetes_api=True, meshed=True), {}, "has no entry_ports or webhook_ports"),
        (
            _edge(entry_ports=(443,), meshed=True),
            {"namespace": "Bad_NS"},
            "namespace: got 'Bad_NS'",
        ),
        (
            _edge(entry_ports=(443,), meshed=True),
            {"args": {"client_networks": []}},
            "client_networks: got []; no network",
        ),
    ],
)
def test_edge_authorization_refuses_bad_input(
    workload: EdgeWorkload, kwargs: dict[str, Any], expected: str
) -> None:
    def program() -> None:
        EdgeAuthorization(
            "gw",
            kwargs.get("args"),
            namespace=kwargs.get("namespace", "edge"),
            workload=workload,
        )

    with pytest.raises(InvalidArgumentError) as err:
        run_program(program)
    assert expected in str(err.value) and "Fix" in str(err.value), str(err.value)
    assert len(err.value.recording) == 0  # type: ignore[attr-defined]


def test_edge_workloads_need_a_plain_release_name() -> None:
    """The chart derives the pods' labels from the release name, so an Output there is refused
    (with the fix) when the edge workloads are asked for, for both controllers."""
    from grpc_kube.gateway_api_crds import GatewayApiCrds, GatewayApiCrdsArgs
    from grpc_kube.nginx_gateway_fabric import NginxGatewayFabric, NginxGatewayFabricArgs
    from grpc_kube.nginx_ingress_controller import (
        NginxIngressController,
        NginxIngressControllerArgs,
    )

    def ingress_nginx() -> None:
        nginx = NginxIngressController(
            "nginx",
            NginxIngressControllerArgs(release_name=pulumi.Output.from_input("edge")),
        )
        nginx.edge_workloads  # noqa: B018

    def gateway_fabric() -> None:
        crds = GatewayApiCrds("crds", GatewayApiCrdsArgs(existing=True))
        ngf = NginxGatewayFabric(
            "ngf",
            NginxGatewayFabricArgs(release_name=pulumi.Output.from_input("ngf")),
            gateway_api_crds=crds,
        )
        ngf.edge_workloads(data_planes=())

    for program, pods in ((ingress_nginx, "controller's"), (gateway_fabric, "control plane's")):
        with pytest.raises(InvalidArgumentError) as err:
            run_program(program)
        assert f"release_name: an Output; the chart derives the {pods} pod labels" in str(err.value)
        assert "Fix: give release_name as a plain string" in str(err.value)
