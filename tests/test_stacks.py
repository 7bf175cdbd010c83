"""The stacks a user runs: config schema, assembly, outputs and the offline render."""

from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import pytest
import yaml
from schema_checks import unknown_value_keys, validate_all

from grpc_kube.linkerd_control_plane import HA_TEMPLATE_KEYS
from grpc_kube.render import load_stack_config, main, render_stack
from grpc_kube.stack import GrpcPlatform, load_config, read_config
from grpc_kube.testing import Recording, run_program

ROOT = Path(__file__).resolve().parents[1]
STACKS = ROOT / "stacks"
RELEASE = "kubernetes:helm.sh/v3:Release"
CHART_KEYS = {
    "ingress-nginx": "ingress-nginx-4.15.1.keys",
    "linkerd-crds": "linkerd-crds-edge-26.8.3.keys",
    "linkerd-control-plane": "linkerd-control-plane-edge-26.8.3.keys",
    "oci://ghcr.io/nginx/charts/nginx-gateway-fabric": "nginx-gateway-fabric-2.6.7.keys",
}


def stack_program() -> GrpcPlatform:
    """What __main__.py does."""
    platform = GrpcPlatform("grpc-kube", read_config(pulumi.Config("grpc-kube")))
    for key, value in platform.stack_outputs.items():
        pulumi.export(key, value)
    return platform


def run_stack(stack: str, config: dict[str, Any] | None = None) -> Recording:
    cfg = load_stack_config(stack, STACKS) if config is None else config
    return run_program(stack_program, stack=stack, config=cfg)


def raw(stack: str) -> dict[str, Any]:
    """A stack's config with the `grpc-kube:` prefix removed."""
    return {k.split(":", 1)[1]: v for k, v in load_stack_config(stack, STACKS).items()}


@pytest.fixture(scope="module")
def dev() -> Recording:
    return run_stack("dev")


@pytest.fixture(scope="module")
def prod() -> Recording:
    return run_stack("prod")


# --- every stack: schemas and chart values --------------------------------------------------


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_every_object_validates_and_every_helm_value_exists(stack: str) -> None:
    rec = run_stack(stack)
    assert validate_all(rec.kubernetes_objects()) > 10
    releases = rec.of_type(RELEASE)
    assert releases
    for rel in releases:
        keys = CHART_KEYS[rel.inputs["chart"]]
        unknown = unknown_value_keys(rel.inputs.get("values", {}), keys)
        if rel.inputs["chart"] == "linkerd-control-plane":
            # Keys the chart's templates read although its values.yaml does not list them.
            unknown = [k for k in unknown if k.split(".")[0] not in HA_TEMPLATE_KEYS]
        assert unknown == [], rel.name


# --- dev: one meshed greeter behind ingress-nginx, end to end ----------------------------------


def test_dev_is_the_meshed_greeter_behind_ingress_nginx(dev: Recording) -> None:
    ing = dev.kube("Ingress", "fortune-ingress")
    assert ing["metadata"]["namespace"] == "grpc-demo"
    ann = ing["metadata"]["annotations"]
    assert ann["nginx.ingress.kubernetes.io/backend-protocol"] == "GRPC"
    assert ann["nginx.ingress.kubernetes.io/ssl-redirect"] == "true"
    # The controller is meshed, so the Ingress targets the Service and Linkerd balances calls.
    assert ann["nginx.ingress.kubernetes.io/service-upstream"] == "true"
    assert ing["spec"]["ingressClassName"] == "nginx"
    assert ing["spec"]["tls"] == [
        {"hosts": ["grpctest.dev.mydomain.com"], "secretName": "wildcard.dev.mydomain.com"}
    ]
    (rule,) = ing["spec"]["rules"]
    assert rule["host"] == "grpctest.dev.mydomain.com"
    assert rule["http"]["paths"] == [
        {
            "path": "/",
            "pathType": "Prefix",
            "backend": {"service": {"name": "go-grpc-greeter-server", "port": {"number": 80}}},
        }
    ]
    svc = dev.kube("Service", "go-grpc-greeter-server")
    assert svc["spec"]["ports"][0]["port"] == 80
    assert svc["spec"]["ports"][0]["targetPort"] == "grpc"
    # The generated certificate is stored under the example's Secret name, key kept secret.
    secret = dev.one("kubernetes:core/v1:Secret")
    assert secret.inputs["metadata"]["name"] == "wildcard.dev.mydomain.com"
    assert secret.secret_paths == ["stringData"]


def test_dev_mesh_namespace_and_injection(dev: Recording) -> None:
    ns = dev.kube("Namespace", "grpc-demo")
    assert ns["metadata"]["annotations"]["linkerd.io/inject"] == "enabled"
    dep = dev.kube("Deployment", "go-grpc-greeter-server")
    assert dep["spec"]["replicas"] == 3
    # Injected by the namespace; marked meshed so policies open the proxy port.
    assert dep["spec"]["template"]["metadata"]["annotations"]["linkerd.io/inject"] == "enabled"
    ctrl = dev.one(RELEASE, "grpc-kube-ingress-nginx-release")
    assert ctrl.inputs["values"]["controller"]["podAnnotations"]["linkerd.io/inject"] == "enabled"
    deployment = dev.one("kubernetes:apps/v1:Deployment")
    assert dev.depends_on(deployment, dev.one("grpc-kube:index:MeshEnabledNamespace"))


def test_dev_ordering_namespace_then_secrets_and_meshed_controller_after_linkerd(
    dev: Recording,
) -> None:
    namespace = dev.one("grpc-kube:index:MeshEnabledNamespace")
    secret = dev.one("kubernetes:core/v1:Secret")
    assert dev.depends_on(secret, namespace)
    assert dev.depends_on(dev.one("kubernetes:networking.k8s.io/v1:Ingress"), namespace)
    controller = dev.one(RELEASE, "grpc-kube-ingress-nginx-release")
    assert dev.depends_on(controller, dev.one("grpc-kube:index:LinkerdControlPlane"))
    policies = dev.of_type("kubernetes:networking.k8s.io/v1:NetworkPolicy")
    by_ns = {p.name: p.inputs["metadata"]["namespace"] for p in policies}
    # The edge namespace is isolated too now: its policies wait for the controller's release (a
    # first install runs before the namespace is locked down), the greeter's for its namespace.
    assert set(by_ns.values()) == {"grpc-demo", "ingress-nginx"}
    for policy in policies:
        wait = namespace if by_ns[policy.name] == "grpc-demo" else controller
        assert dev.depends_on(policy, wait), policy.name


def test_dev_zero_trust_allows_the_ingress_and_dns_only(dev: Recording) -> None:
    policies = {
        p["metadata"]["name"]: p for p in dev.kubernetes_objects() if p["kind"] == "NetworkPolicy"
    }
    assert "grpc-demo-zero-trust-default-deny" in policies
    ingress_rule = policies["grpc-demo-zero-trust-go-grpc-greeter-server-ingress"]["spec"][
        "ingress"
    ]
    (rule,) = ingress_rule
    assert rule["from"][0]["namespaceSelector"] == {
        "matchLabels": {"kubernetes.io/metadata.name": "ingress-nginx"}
    }
    assert {p["port"] for p in rule["ports"]} == {50051, 4143}


def test_dev_mesh_authorization_admits_the_ingress_controller(dev: Recording) -> None:
    auth = dev.kube("MeshTLSAuthentication")
    assert auth["spec"]["identityRefs"] == [
        {"kind": "ServiceAccount", "name": "ingress-nginx", "namespace": "ingress-nginx"}
    ]


def test_dev_outputs(dev: Recording) -> None:
    out = dev.outputs
    assert out["endpoints"] == {"fortune-ingress": "grpctest.dev.mydomain.com:443"}
    assert out["grpcurl_commands"] == {
        "fortune-ingress": "grpcurl -cacert ca.crt grpctest.dev.mydomain.com:443 "
        "helloworld.Greeter/SayHello"
    }
    assert out["ca_cert_pem"].startswith("-----BEGIN CERTIFICATE-----")
    assert out["services"]["go-grpc-greeter-server"] == {
        "dns_name": "go-grpc-greeter-server.grpc-demo.svc.cluster.local",
        "port": 80,
    }
    steps = "\n".join(out["troubleshooting"])
    assert "kubectl -n grpc-demo logs -l app.kubernetes.io/name=go-grpc-greeter-server" in steps
    assert "kubectl -n ingress-nginx logs -l app.kubernetes.io/component=controller" in steps
    assert "grpc-lb-check grpctest.dev.mydomain.com:443 --tls --cacert ca.crt" in steps
    assert "--expect-backends 3" in steps
    assert "GODEBUG=http2debug=2" in steps
    assert "jsonpath='{.spec.ports[0].port}'" in steps
    assert "linkerd check" in steps
    # No private key is exported.
    assert "PRIVATE KEY" not in yaml.safe_dump(out)


# --- prod: gateway path, service-to-service, strict mesh ------------------------------------


def test_prod_uses_the_gateway_api_path(prod: Recording) -> None:
    assert "Ingress" not in prod.kinds()
    route = prod.kube("GRPCRoute", "shop-api")
    assert route["metadata"]["namespace"] == "shop"
    assert route["spec"]["hostnames"] == ["api.shop.example.com"]
    assert route["spec"]["rules"] == [{"backendRefs": [{"name": "api", "port": 80}]}]
    gw = prod.kube("Gateway", "grpc-gateway")
    assert gw["metadata"]["namespace"] == "grpc-gateway"
    assert gw["spec"]["infrastructure"] == {"annotations": {"linkerd.io/inject": "enabled"}}
    (listener,) = gw["spec"]["listeners"]
    assert listener["allowedRoutes"]["namespaces"]["selector"]["matchExpressions"][0]["values"] == [
        "shop"
    ]
    assert prod.outputs["grpcurl_commands"] == {
        "shop-api": "grpcurl -cacert ca.crt api.shop.example.com:443 list"
    }


def test_prod_gateway_waits_for_its_meshed_namespace(prod: Recording) -> None:
    gw_ns = next(
        r
        for r in prod.of_type("grpc-kube:index:MeshEnabledNamespace")
        if r.name == "grpc-kube-grpc-gateway"
    )
    gateway = prod.one("kubernetes:gateway.networking.k8s.io/v1:Gateway")
    assert prod.depends_on(gateway, gw_ns)
    assert prod.depends_on(prod.one("kubernetes:core/v1:Secret"), gw_ns)
    route = prod.one("kubernetes:gateway.networking.k8s.io/v1:GRPCRoute")
    shop = next(
        r
        for r in prod.of_type("grpc-kube:index:MeshEnabledNamespace")
        if r.name == "grpc-kube-shop"
    )
    assert prod.depends_on(route, shop)


def test_prod_gateway_api_crds_are_installed_once_for_linkerd_and_the_gateway(
    prod: Recording,
) -> None:
    (crds,) = prod.of_type("grpc-kube:index:GatewayApiCrds")
    assert prod.depends_on(prod.one(RELEASE, "grpc-kube-linkerd-crds"), crds)
    assert prod.depends_on(prod.one(RELEASE, "grpc-kube-gateway-controller-release"), crds)


def test_prod_strict_mesh_and_authorization_follow_connections(prod: Recording) -> None:
    ns = prod.kube("Namespace", "shop")
    assert ns["metadata"]["annotations"]["config.linkerd.io/default-inbound-policy"] == (
        "all-authenticated"
    )
    auths = {
        a["metadata"]["name"]: a
        for a in prod.kubernetes_objects()
        if a["kind"] == "MeshTLSAuthentication"
    }
    idents = {
        name: sorted(r["name"] for r in a["spec"]["identityRefs"]) for name, a in auths.items()
    }
    assert idents == {
        "api-grpc-clients": ["grpc-gateway-nginx"],
        "orders-grpc-clients": ["api"],
        "payments-grpc-clients": ["orders"],
        "inventory-grpc-clients": ["orders"],
    }


def test_prod_autoscaling_and_longer_lived_certificates(prod: Recording) -> None:
    assert {
        h["metadata"]["name"]
        for h in prod.kubernetes_objects()
        if h["kind"] == "HorizontalPodAutoscaler"
    } == {"api", "orders"}
    assert "replicas" not in prod.kube("Deployment", "api")["spec"]
    ca = prod.one("tls:index/selfSignedCert:SelfSignedCert", "grpc-kube-stack-ca-cert")
    assert ca.inputs["validityPeriodHours"] == 87600
    leaf = prod.one(
        "tls:index/locallySignedCert:LocallySignedCert",
        "grpc-kube-grpc-gateway-tls-certificate-cert",
    )
    assert leaf.inputs["validityPeriodHours"] == 8760


def test_prod_network_policies_cover_each_connection(prod: Recording) -> None:
    names = {
        p["metadata"]["name"] for p in prod.kubernetes_objects() if p["kind"] == "NetworkPolicy"
    }
    for svc in ("orders", "payments", "inventory"):
        assert f"shop-zero-trust-{svc}-ingress" in names
    assert "shop-zero-trust-orders-egress" in names


@pytest.mark.parametrize(
    ("stack", "expected"),
    [
        # dev: the meshed grpc-demo namespace, and the meshed ingress-nginx controller alone
        (
            "dev",
            {
                "grpc-demo-zero-trust-linkerd",
                "ingress-nginx-zero-trust-ingress-nginx-controller-linkerd",
            },
        ),
        # prod: the meshed shop and grpc-gateway namespaces
        ("prod", {"shop-zero-trust-linkerd", "grpc-gateway-zero-trust-linkerd"}),
    ],
)
def test_meshed_pods_reach_each_linkerd_component_on_its_own_ports(
    stack: str, expected: set[str], dev: Recording, prod: Recording
) -> None:
    rec = {"dev": dev, "prod": prod}[stack]
    linkerd = {
        p["metadata"]["name"]: p["spec"]["egress"]
        for p in rec.kubernetes_objects()
        if p["kind"] == "NetworkPolicy" and p["metadata"]["name"].endswith("-linkerd")
    }
    assert set(linkerd) == expected

    def to(component: str, *ports: int) -> dict[str, Any]:
        return {
            "to": [
                {
                    "namespaceSelector": {
                        "matchLabels": {"kubernetes.io/metadata.name": "linkerd"}
                    },
                    "podSelector": {
                        "matchLabels": {"linkerd.io/control-plane-component": component}
                    },
                }
            ],
            "ports": [{"protocol": "TCP", "port": p} for p in ports],
        }

    # identity on 8080; destination on 8086 and its policy controller on 8090; nothing else in
    # the control plane namespace (the proxy injector, the heartbeat).
    for name, egress in linkerd.items():
        assert egress == [to("identity", 8080), to("destination", 8086, 8090)], name


# --- config errors ---------------------------------------------------------------------------


def _paths(value: Any, prefix: str = "") -> list[tuple[str, list[Any]]]:
    """Every mapping key in a config tree, as (printed path, access path)."""
    out: list[tuple[str, list[Any]]] = []
    if isinstance(value, dict):
        for k, v in value.items():
            printed = f"{prefix}.{k}" if prefix else str(k)
            out.append((printed, [k]))
            out += [(p, [k, *a]) for p, a in _paths(v, printed)]
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += [(p, [i, *a]) for p, a in _paths(v, f"{prefix}[{i}]")]
    return out


DEV_KEYS = _paths(raw("dev"))


@pytest.mark.parametrize(("path", "access"), DEV_KEYS, ids=[p for p, _ in DEV_KEYS])
def test_each_misspelled_dev_key_is_reported_by_its_path(path: str, access: list[Any]) -> None:
    config = copy.deepcopy(raw("dev"))
    holder: Any = config
    for step in access[:-1]:
        holder = holder[step]
    holder[access[-1] + "x"] = holder.pop(access[-1])
    misspelled = path.rsplit(".", 1)[0] + "." + access[-1] + "x" if "." in path else path + "x"
    with pytest.raises(Exception) as err:
        load_config(config)
    assert f"- {misspelled}: unknown field" in str(err.value), str(err.value)
    assert "Did you mean" in str(err.value)


def _no_mesh_with_meshed_service(c: dict[str, Any]) -> None:
    c.pop("mesh")
    c["namespaces"][0]["mesh"] = False
    c["ingress"]["controller"]["mesh"] = False
    c["services"][0]["mesh"] = True


def _unmeshed_caller(c: dict[str, Any]) -> None:
    c["namespaces"].append({"name": "plain"})
    c["services"].append({"name": "caller", "namespace": "plain", "image": "r/caller:1.0.0"})
    c["connections"] = [{"client": "caller", "server": "go-grpc-greeter-server"}]


def _gateway_with(**route: Any) -> Any:
    """A mutation: switch the dev config to the gateway-api path and set `route` options."""

    def mutate(c: dict[str, Any]) -> None:
        c["ingress"] = {
            "via": "gateway-api",
            "gateway": {"mesh": True},
            "routes": [{**c["ingress"]["routes"][0], **route}],
        }
        c["ingress"]["routes"][0].pop("tls")

    return mutate


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda c: c["services"][0].update(replicas=0), "services[0].replicas: got 0"),
        (
            lambda c: c["services"][0].update(namespace="other"),
            "services[0].namespace: 'other' is not in `namespaces`",
        ),
        (lambda c: c.pop("mesh"), "namespaces[0].mesh: true, but there is no `mesh` key"),
        (lambda c: c["services"][0].pop("health_port"), "services[0].health_port: unset"),
        (lambda c: c["ingress"]["controller"].update(mesh=False), "ingress.controller.mesh: false"),
        (
            lambda c: c["ingress"]["routes"][0].update(service="nope"),
            "ingress.routes[0]: service 'nope' is not in services",
        ),
        (
            lambda c: c.update(
                connections=[{"client": "go-grpc-greeter-server", "server": "ghost"}]
            ),
            "connections[0].server: 'ghost' is not a service",
        ),
        (lambda c: c["ingress"].update(gateway={"mesh": True}), "ingress: got"),
        (lambda c: c["ingress"]["routes"][0].update(host="Bad Host"), "ingress.routes[0].host"),
        (
            lambda c: c["services"].append(dict(c["services"][0])),
            "services[1].name: 'go-grpc-greeter-server' appears twice",
        ),
        (
            lambda c: c["namespaces"].append({"name": "plain", "default_inbound_policy": "deny"}),
            "default_inbound_policy applies to meshed namespaces only",
        ),
        (lambda c: c.update(mesh="yes"), "mesh: got 'yes'"),
        (
            lambda c: c["namespaces"].append({"name": "kube-system"}),
            "namespaces[1].name: 'kube-system' is a system namespace",
        ),
        (
            lambda c: c["namespaces"][0].update(pod_security="restricted"),
            "namespaces[0].pod_security: 'restricted' refuses linkerd-init",
        ),
        (_no_mesh_with_meshed_service, "services[0].mesh: true, but there is no `mesh` key"),
        (
            lambda c: c["services"].append(
                {**c["services"][0], "name": "other", "service_name": "go-grpc-greeter-server"}
            ),
            "services[1]: Kubernetes name 'go-grpc-greeter-server' in namespace 'grpc-demo' "
            "is also services[0]'s",
        ),
        (
            lambda c: c.update(policies={"metrics_from_namespaces": ["Bad_NS"]}),
            "policies.metrics_from_namespaces: got ['Bad_NS']",
        ),
        (
            lambda c: c.update(policies={"metrics_from_namespaces": ["mon", "mon"]}),
            "a namespace repeats",
        ),
        (_unmeshed_caller, "connections[0].client: 'caller' is not meshed"),
        (
            lambda c: c["mesh"].update(identity={"trust_anchor_validity_hours": 5000}),
            "mesh.identity.trust_anchor_early_renewal_hours: got 8760",
        ),
        (
            _gateway_with(routes={"helloworld.Greeter": "go-grpc-greeter-server"}),
            "ingress.routes[0].routes: routing a whole gRPC service",
        ),
        (
            _gateway_with(backend_protocol="GRPCS"),
            "ingress.routes[0].backend_protocol: applies to via: ingress-nginx only",
        ),
        (
            _gateway_with(stream_idle_timeout_seconds=600),
            "ingress.routes[0].stream_idle_timeout_seconds: applies to via: ingress-nginx only",
        ),
    ],
)
def test_impossible_configs_fail_before_anything_registers(mutate: Any, expected: str) -> None:
    config = copy.deepcopy(raw("dev"))
    mutate(config)
    registered: list[int] = []

    def program() -> None:
        stack_program()

    with pytest.raises(Exception) as err:
        registered.append(len(run_program(program, stack="dev", config=config)))
    assert expected in str(err.value), str(err.value)
    assert (
        "Fix" in str(err.value)
        or "Did you mean" in str(err.value)
        or "Input should" in str(err.value)
    )
    assert registered == []


def test_platform_refuses_cross_key_problems_of_a_validated_config() -> None:
    from grpc_kube.stack import StackConfig

    config = StackConfig.model_validate(
        {"services": [{"name": "a", "namespace": "nowhere", "image": "r/a:1.0.0"}]}
    )
    rec = run_program(lambda: _expect_error(lambda: GrpcPlatform("p", config)))
    assert len(rec) == 0


def _expect_error(fn: Any) -> None:
    with pytest.raises(Exception, match="not in `namespaces`"):
        fn()


# --- render ----------------------------------------------------------------------------------


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_render_is_deterministic_and_redacts_secrets(stack: str) -> None:
    first = render_stack(stack, STACKS)
    assert first == render_stack(stack, STACKS)
    assert "PRIVATE KEY" not in first
    docs = [d for d in yaml.safe_load_all(first) if d]
    secrets = [d for d in docs if d["kind"] == "Secret"]
    assert secrets and all(set(s["stringData"].values()) == {"<redacted>"} for s in secrets)
    assert validate_all(docs) == len(docs)
    kinds = [(d["kind"], d["metadata"].get("namespace", ""), d["metadata"]["name"]) for d in docs]
    assert kinds == sorted(kinds)


def test_render_header_lists_helm_releases_with_versions() -> None:
    text = render_stack("dev", STACKS)
    header = [line for line in text.splitlines() if line.startswith("#")]
    assert any(
        "chart: ingress-nginx  version: 4.15.1  "
        "repository: https://kubernetes.github.io/ingress-nginx  namespace: ingress-nginx" in line
        for line in header
    )
    assert any("chart: linkerd-control-plane  version: 2026.8.3" in line for line in header)
    assert any(
        "gateway-api/releases/download/v1.5.1/standard-install.yaml" in line for line in header
    )


def test_render_bad_config_exits_nonzero_with_the_path(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = {f"grpc-kube:{k}": v for k, v in raw("dev").items()}
    config["grpc-kube:services"][0]["replicass"] = 2
    (tmp_path / "Pulumi.bad.yaml").write_text(yaml.safe_dump({"config": config}))
    assert main(["render", "--stack", "bad", "--stacks-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "services[0].replicass: unknown field" in err and "Did you mean 'replicas'" in err


def test_render_yaml_syntax_error_names_file_and_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "Pulumi.broken.yaml").write_text("config:\n  grpc-kube:a: 1\n  grpc-kube:b: x: y\n")
    assert main(["render", "--stack", "broken", "--stacks-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {tmp_path / 'Pulumi.broken.yaml'}:3:"), err
    assert "not valid YAML" in err and "Fix:" in err
    assert "Traceback" not in err and len(err.splitlines()) == 1


def test_render_unknown_stack_lists_the_stacks(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["render", "--stack", "nope", "--stacks-dir", str(STACKS)]) == 2
    assert "Stacks here: dev, prod" in capsys.readouterr().err


def test_render_command_runs_from_a_project_with_its_own_components_package(
    tmp_path: Path,
) -> None:
    # A user's project very often has a `components/` package of its own; the library's import
    # name must not collide with it.
    (tmp_path / "components").mkdir()
    (tmp_path / "components" / "__init__.py").write_text("raise ImportError('user package')\n")
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "import components",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert "user package" in out.stderr  # the user's package is the one `components` names
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "grpc_kube",
            "render",
            "--stack",
            "dev",
            "--stacks-dir",
            str(STACKS),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.startswith("# grpc-kube stack 'dev'")
    assert "kind: Ingress" in out.stdout


def test_a_service_named_ingress_is_a_caller_like_any_other() -> None:
    config = copy.deepcopy(raw("dev"))
    config["services"].append(
        {
            "name": "ingress",
            "namespace": "grpc-demo",
            "image": "r/ingress:1.0.0",
            "health_port": 8086,
        }
    )
    config["connections"] = [{"client": "ingress", "server": "go-grpc-greeter-server"}]
    rec = run_stack("dev", {f"grpc-kube:{k}": v for k, v in config.items()})
    auth = rec.kube("MeshTLSAuthentication", "go-grpc-greeter-server-grpc-clients")
    assert sorted((r["namespace"], r["name"]) for r in auth["spec"]["identityRefs"]) == [
        ("grpc-demo", "ingress"),
        ("ingress-nginx", "ingress-nginx"),
    ]


# --- GrpcPlatform as a component ---------------------------------------------------------------


def test_two_platforms_each_on_its_own_cluster() -> None:
    config = raw("dev")

    def program() -> None:
        for cluster in ("east", "west"):
            provider = k8s.Provider(cluster, kubeconfig=f"{cluster}-kubeconfig")
            GrpcPlatform(cluster, config, opts=pulumi.ResourceOptions(providers=[provider]))

    rec = run_program(program)
    by_provider: dict[str, list[str]] = {"east": [], "west": []}
    for r in rec.resources:
        if r.custom and r.type.startswith("kubernetes:") and not r.type.startswith("pulumi:"):
            cluster = r.provider.split("::")[-2] if r.provider else "(default)"
            assert cluster in by_provider, (r.type, r.name, r.provider)
            by_provider[cluster].append(r.type)
    # Same objects on both clusters, Helm releases included, none on the default provider.
    assert sorted(by_provider["east"]) == sorted(by_provider["west"])
    assert by_provider["east"].count(RELEASE) == 3
    names = [r.name for r in rec.resources if r.type == "kubernetes:apps/v1:Deployment"]
    assert sorted(names) == [
        "east-go-grpc-greeter-server-deployment",
        "west-go-grpc-greeter-server-deployment",
    ]


def test_a_users_component_can_parent_the_platform_and_nothing_is_exported() -> None:
    class Team(pulumi.ComponentResource):
        def __init__(self, name: str) -> None:
            super().__init__("acme:index:Team", name, None, None)
            self.platform = GrpcPlatform(
                "grpc", raw("dev"), opts=pulumi.ResourceOptions(parent=self)
            )

    rec = run_program(lambda: Team("payments"))
    platform = rec.one("grpc-kube:index:GrpcPlatform")
    team = rec.one("acme:index:Team")
    assert platform.parent == team.urn
    assert rec.outputs == {}  # the library exports nothing; the program decides
    assert len(rec.descendants_of(platform)) > 20


def test_platform_takes_opts_depends_on_to_every_child() -> None:
    def program() -> None:
        gate = k8s.core.v1.ConfigMap("cluster-ready", data={"ok": "yes"})
        GrpcPlatform("grpc", raw("dev"), opts=pulumi.ResourceOptions(depends_on=[gate]))

    rec = run_program(program)
    gate = rec.one("kubernetes:core/v1:ConfigMap", "cluster-ready")
    custom = [
        r for r in rec.resources if r.custom and r.type.startswith("kubernetes:") and r is not gate
    ]
    assert custom and all(rec.depends_on(r, gate) for r in custom)


# --- installers pointed at what the cluster already has --------------------------------------

# The namespaces the installers create, and only they.
INSTALLER_NAMESPACES = {
    "dev": {"ingress-nginx", "linkerd"},
    "prod": {"linkerd", "nginx-gateway"},
}


def _existing(stack: str, *, crds: bool = True, mesh: bool = True, entry: bool = True) -> Any:
    """The stack's config with the chosen installers set to what the cluster already has."""
    cfg = copy.deepcopy(raw(stack))
    if crds:
        cfg["gateway_api_crds"] = {"existing": True}
    if mesh:
        cfg["mesh"]["install"] = {"existing": True}
    if entry:
        ing = cfg["ingress"]
        via = ing.get("via", "ingress-nginx")
        key = "controller" if via == "ingress-nginx" else "gateway_controller"
        ing.setdefault(key, {})["install"] = {"existing": True}
    return cfg


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_every_installer_existing_installs_nothing_and_renders_the_same_objects(
    stack: str,
) -> None:
    installed = run_stack(stack)
    existing = run_stack(stack, _existing(stack))
    assert existing.of_type(RELEASE) == []
    assert existing.of_type("kubernetes:yaml/v2:ConfigFile") == []
    dropped = [
        o
        for o in installed.kubernetes_objects()
        if o["kind"] == "Namespace" and o["metadata"]["name"] in INSTALLER_NAMESPACES[stack]
    ]
    assert {o["metadata"]["name"] for o in dropped} == INSTALLER_NAMESPACES[stack]
    expected = [o for o in installed.kubernetes_objects() if o not in dropped]
    assert existing.kubernetes_objects() == expected
    kinds = {o["kind"] for o in expected}
    entry = "Ingress" if stack == "dev" else "GRPCRoute"
    assert {entry, "NetworkPolicy", "Server", "AuthorizationPolicy"} <= kinds
    # The cluster's own Linkerd identity is used: no trust anchor is made or exported.
    assert not any(r.type.startswith("tls:") and "linkerd" in r.name for r in existing)
    linkerd_outputs = {"linkerd_trust_anchor_pem", "linkerd_issuer_expiry"}
    assert linkerd_outputs <= set(installed.outputs)
    assert existing.outputs == {
        k: v for k, v in installed.outputs.items() if k not in linkerd_outputs
    }


def test_an_existing_linkerd_gets_no_gateway_api_crds_from_the_stack() -> None:
    # dev takes ingress-nginx: with Linkerd already running nothing here reads the CRDs.
    rec = run_stack("dev", _existing("dev", crds=False, entry=False))
    assert rec.of_type("grpc-kube:index:GatewayApiCrds") == []
    assert [r.inputs["chart"] for r in rec.of_type(RELEASE)] == ["ingress-nginx"]


def test_gateway_api_crds_key_reaches_the_shared_crds() -> None:
    mirror = "https://mirror.example.com/gateway-api/v1.5.1/standard-install.yaml"
    cfg = copy.deepcopy(raw("prod"))
    cfg["gateway_api_crds"] = {"manifest": mirror}
    rec = run_stack("prod", cfg)
    (crds,) = rec.of_type("grpc-kube:index:GatewayApiCrds")
    assert rec.one("kubernetes:yaml/v2:ConfigFile").inputs["file"] == mirror
    assert rec.depends_on(rec.one(RELEASE, "grpc-kube-linkerd-crds"), crds)


def test_a_gateway_on_an_existing_controller_still_waits_for_the_crds() -> None:
    rec = run_stack("prod", _existing("prod", crds=False, mesh=False))
    charts = sorted(r.inputs["chart"] for r in rec.of_type(RELEASE))
    assert charts == ["linkerd-control-plane", "linkerd-crds"]
    gateway = rec.one("kubernetes:gateway.networking.k8s.io/v1:Gateway")
    assert rec.depends_on(gateway, rec.one("kubernetes:yaml/v2:ConfigFile"))


def test_installers_from_mirrors_and_local_charts(tmp_path: Path) -> None:
    for name in ("linkerd-crds", "linkerd-control-plane"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "Chart.yaml").write_text(f"name: {name}\nversion: 2026.8.3\n")
    cfg = copy.deepcopy(raw("dev"))
    cfg["mesh"]["install"] = {"chart": str(tmp_path)}
    cfg["ingress"]["controller"]["install"] = {"repository": "https://charts.example.com/ing"}
    rec = run_stack("dev", cfg)
    charts = {r.name: (r.inputs["chart"], r.inputs.get("version")) for r in rec.of_type(RELEASE)}
    assert charts == {
        "grpc-kube-linkerd-crds": (str(tmp_path / "linkerd-crds"), None),
        "grpc-kube-linkerd-control-plane": (str(tmp_path / "linkerd-control-plane"), None),
        "grpc-kube-ingress-nginx-release": ("ingress-nginx", "4.15.1"),
    }
    ingress = rec.one(RELEASE, "grpc-kube-ingress-nginx-release")
    assert ingress.inputs["repositoryOpts"] == {"repo": "https://charts.example.com/ing"}


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (
            lambda c: c["mesh"].update(install={"chart": "./charts/linkerd"}),
            "mesh.install.chart: got './charts/linkerd'; there is no file or directory at "
            "'./charts/linkerd'",
        ),
        (
            lambda c: c["ingress"]["controller"].update(
                install={"existing": True, "repository": "https://charts.example.com"}
            ),
            "ingress.controller.install.repository: got 'https://charts.example.com'; existing "
            "is true",
        ),
        (
            lambda c: c.update(gateway_api_crds={"existing": True, "manifest": "https://m/x.yaml"}),
            "gateway_api_crds.manifest: got 'https://m/x.yaml'; existing is true",
        ),
        (
            lambda c: c.update(gateway_api_crds={"exists": True}),
            "gateway_api_crds.exists: unknown field",
        ),
    ],
)
def test_bad_install_options_fail_with_their_key_path(mutate: Any, expected: str) -> None:
    config = copy.deepcopy(raw("dev"))
    mutate(config)
    with pytest.raises(Exception) as err:
        run_program(stack_program, stack="dev", config=config)
    assert expected in str(err.value), str(err.value)
    assert "Fix" in str(err.value) or "Did you mean" in str(err.value)
    assert len(err.value.recording) == 0  # type: ignore[attr-defined]


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_every_troubleshooting_heading_is_followed_by_its_command(stack: str) -> None:
    steps = run_stack(stack).outputs["troubleshooting"]
    assert len(steps) >= 4
    for step in steps:
        heading, *commands = step.split("\n")
        assert heading.startswith("# "), step
        assert commands and all(c and not c.startswith("#") for c in commands), step
