"""End to end: the real Pulumi engine, the real kubernetes and tls providers and a real
kube-apiserver, on this machine.

For each stack (dev, prod) it runs `pulumi up`, checks the objects the API server holds, runs a
second preview that must be quiet, changes one value and checks it updates in place, checks the
state holds no private key in plain text, checks the generated certificates with openssl, serves
the demo greeter behind nginx with the dev stack's very certificates and calls it with grpcurl,
then destroys the stack and checks nothing of it is left. Then the component package
(component_package.py): the plugin's schema through `pulumi package get-schema`, and the
TypeScript, Go and YAML examples deployed, checked and destroyed.

The cluster is `.ci/local-cluster.sh` (etcd, kube-apiserver, kube-controller-manager on
loopback) plus `standin.py`, which plays the parts a real cluster's other members would (a node
whose kubelet reports pods Ready, an ingress controller that publishes an Ingress address). No
chart can be downloaded here, so the stacks use what the cluster "already has": the Gateway API
and Linkerd CRDs are applied first (built from the pinned schemas), ingress-nginx and NGINX
Gateway Fabric are marked existing, and Linkerd is installed from small local stand-in charts
that hold what the real chart would do with the identity values (so the real Helm release path
runs with the real values).

    python tests/e2e/run.py --bin <tools bin dir> --hosts-bin <language hosts bin dir> [--keep]

Prints one line per check and ends with `e2e: N passed, M failed`; exit status 1 if any failed.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(Path(__file__).resolve().parent), str(ROOT / "demo" / "greeter")]

import standin  # noqa: E402
from component_package import EXAMPLES, run_examples  # noqa: E402
from crd_manifests import crds  # noqa: E402

PROJECT = "grpc-kube"
TLS_PROVIDER = Path(__file__).resolve().parent / "tls_provider"


class Checks:
    """Counts and prints every check, so one failure does not hide the rest."""

    def __init__(self) -> None:
        self.passed = 0
        self.failed = 0

    def check(self, name: str, ok: bool, detail: str = "") -> bool:
        if ok:
            self.passed += 1
            print(f"PASS {name}", flush=True)
        else:
            self.failed += 1
            print(f"FAIL {name}{': ' + detail if detail else ''}", flush=True)
        return ok

    def run(self, name: str, fn: Callable[[], str | None]) -> None:
        """A check whose function returns None when it holds, else what is wrong."""
        try:
            problem = fn()
        except Exception as exc:
            problem = f"{type(exc).__name__}: {exc}"
        self.check(name, problem is None, problem or "")


class Env:
    """The tools, the cluster and the Pulumi home of one run."""

    def __init__(self, bin_dir: Path, work: Path, hosts_bin: Path | None = None) -> None:
        self.bin = bin_dir
        self.work = work
        self.kubeconfig = work / "cluster" / "kubeconfig"
        self.env = {
            **os.environ,
            # The language hosts of .ci/language-hosts.sh first (its Python host finds a
            # plugin's directory where the CLI now sends it), the stand-in TLS provider (see
            # tls_provider/README.md), then the built tools. The Python language host runs the
            # `python3` it finds on PATH: this virtualenv's.
            "PATH": os.pathsep.join(
                [
                    *([str(hosts_bin)] if hosts_bin is not None else []),
                    str(TLS_PROVIDER),
                    str(bin_dir),
                    str(Path(sys.executable).parent),
                    os.environ["PATH"],
                ]
            ),
            "KUBECONFIG": str(self.kubeconfig),
            "PULUMI_HOME": str(work / "pulumi-home"),
            "PULUMI_CONFIG_PASSPHRASE": "e2e-only-passphrase",
            "PULUMI_SKIP_UPDATE_CHECK": "true",
            "PULUMI_SKIP_CONFIRMATIONS": "true",
            "PULUMI_DIY_BACKEND_URL": f"file://{work / 'state'}",
            "PULUMI_BACKEND_URL": f"file://{work / 'state'}",
            # The Go example builds with this machine's Go, never a downloaded toolchain.
            "GOTOOLCHAIN": "local",
        }
        (work / "state").mkdir(parents=True, exist_ok=True)

    def run(
        self,
        argv: list[str],
        *,
        cwd: Path | None = None,
        check: bool = True,
        timeout: int = 900,
        stdin: str | None = None,
    ) -> subprocess.CompletedProcess[str]:
        p = subprocess.run(
            argv,
            cwd=cwd,
            env=self.env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if check and p.returncode != 0:
            raise RuntimeError(
                f"{' '.join(argv[:4])} exited {p.returncode}\n"
                f"{p.stdout[-3000:]}\n{p.stderr[-3000:]}"
            )
        return p

    def kubectl(self, *args: str) -> Any:
        out = self.run(["kubectl", *args, "-o", "json"]).stdout
        return json.loads(out)


@contextmanager
def local_cluster(env: Env) -> Iterator[None]:
    cluster = env.work / "cluster"
    cluster.mkdir(parents=True, exist_ok=True)
    script = str(ROOT / ".ci" / "local-cluster.sh")
    try:
        env.run(["bash", script, "start", str(cluster)], timeout=300)
        yield
    finally:
        subprocess.run(["bash", script, "stop", str(cluster)], env=env.env, check=False)


# Where each stack's edge pods take traffic: namespace -> the only ports its policies open.
EDGE_ENTRY_PORTS = {
    "dev": {"ingress-nginx": {80, 443, 8443}},
    "prod": {"grpc-gateway": {443}, "nginx-gateway": {8443}},
}
EDGE_SERVERS = {
    "dev": {
        ("ingress-nginx", "ingress-nginx-controller-entry-80", 80),
        ("ingress-nginx", "ingress-nginx-controller-entry-443", 443),
        ("ingress-nginx", "ingress-nginx-controller-webhook-8443", 8443),
    },
    "prod": {("grpc-gateway", "grpc-gateway-nginx-entry-443", 443)},
}

# The namespaces of the installs the stacks mark existing (ingress-nginx in dev, NGINX Gateway
# Fabric in prod): the edge policies go into them.
EXISTING_INSTALL_NAMESPACES = ("ingress-nginx", "nginx-gateway")


def apply_platform_crds(env: Env) -> None:
    """What a platform team installed before grpc-kube runs: the Gateway API (the version
    Linkerd supports) and Linkerd CRDs, from the pinned schemas, and the namespaces of the
    ingress controllers the stacks mark existing."""
    manifests = env.work / "crds.yaml"
    namespaces = [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": n}}
        for n in EXISTING_INSTALL_NAMESPACES
    ]
    manifests.write_text(
        yaml.safe_dump_all(crds("gateway-api-v1.5.1") + crds("linkerd-edge-26.8.3") + namespaces)
    )
    env.run(["kubectl", "apply", "--server-side", "-f", str(manifests)])
    env.run(["kubectl", "wait", "--for=condition=Established", "crd", "--all", "--timeout=60s"])


# --- the project under test ----------------------------------------------------------------------


def project_copy(env: Env) -> Path:
    """The repository's Pulumi project (tracked files only) in a temporary directory, using the
    virtualenv this script runs in, so `pulumi stack init` never writes into the checkout."""
    dest = env.work / "project"
    files = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    for f in files:
        src = ROOT / f
        if src.is_file():
            (dest / f).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / f)
    pulumi_yaml = yaml.safe_load((dest / "Pulumi.yaml").read_text())
    pulumi_yaml["runtime"]["options"]["virtualenv"] = sys.prefix
    (dest / "Pulumi.yaml").write_text(yaml.safe_dump(pulumi_yaml, sort_keys=False))
    return dest


def stack_file(project: Path, stack: str) -> Path:
    return project / "stacks" / f"Pulumi.{stack}.yaml"


def use_what_the_cluster_has(project: Path, stack: str, charts: Path) -> None:
    """The stack's config, with every installer pointed at what this cluster already has."""
    path = stack_file(project, stack)
    doc = yaml.safe_load(path.read_text())
    cfg = doc["config"]
    key = f"{PROJECT}:"
    cfg[f"{key}gateway_api_crds"] = {"existing": True}
    mesh = cfg.get(f"{key}mesh")
    if mesh is not None:
        mesh["install"] = {"chart": str(charts)}
    ingress = cfg.get(f"{key}ingress")
    if ingress is not None:
        if ingress.get("via", "ingress-nginx") == "ingress-nginx":
            ingress.setdefault("controller", {})["install"] = {"existing": True}
        else:
            ingress.setdefault("gateway_controller", {})["install"] = {"existing": True}
    path.write_text(yaml.safe_dump(doc, sort_keys=False))


def set_config(project: Path, stack: str, path: list[Any], value: Any) -> None:
    f = stack_file(project, stack)
    doc = yaml.safe_load(f.read_text())
    cur = doc["config"]
    for part in path[:-1]:
        cur = cur[part]
    cur[path[-1]] = value
    f.write_text(yaml.safe_dump(doc, sort_keys=False))


def pulumi(env: Env, project: Path, stack: str, *args: str, check: bool = True) -> Any:
    return env.run(
        ["pulumi", *args, "--stack", stack, "--non-interactive"], cwd=project, check=check
    )


def preview_steps(env: Env, project: Path, stack: str) -> dict[str, list[str]]:
    """`pulumi preview --json`: resource URNs by step kind (same, update, replace, create...)."""
    out = pulumi(env, project, stack, "preview", "--json").stdout
    steps: dict[str, list[str]] = {}
    for step in json.loads(out).get("steps", []):
        steps.setdefault(step["op"], []).append(step["urn"])
    return steps


# --- checks ------------------------------------------------------------------------------


def b64(text: str) -> str:
    return base64.b64decode(text).decode()


def openssl(env: Env, *args: str, stdin: str | None = None) -> str:
    p = subprocess.run(
        ["openssl", *args], input=stdin, capture_output=True, text=True, env=env.env, check=False
    )
    if p.returncode != 0:
        raise RuntimeError(f"openssl {' '.join(args)}: {p.stderr.strip()}")
    return p.stdout


def cert_text(env: Env, pem: str) -> str:
    return openssl(env, "x509", "-noout", "-text", stdin=pem)


def not_after(env: Env, pem: str) -> float:
    out = openssl(env, "x509", "-noout", "-enddate", stdin=pem).strip().split("=", 1)[1]
    return time.mktime(time.strptime(out, "%b %d %H:%M:%S %Y GMT"))


def verify_chain(env: Env, ca_pem: str, leaf_pem: str) -> str | None:
    d = Path(tempfile.mkdtemp(dir=env.work))
    (d / "ca.pem").write_text(ca_pem)
    (d / "leaf.pem").write_text(leaf_pem)
    out = openssl(env, "verify", "-CAfile", str(d / "ca.pem"), str(d / "leaf.pem"))
    return None if out.strip().endswith("OK") else out


def ecdsa_p256_ca(text: str, *, path_len: int | None) -> str | None:
    problems = []
    if "id-ecPublicKey" not in text or "prime256v1" not in text:
        problems.append("not ECDSA P-256")
    if "CA:TRUE" not in text:
        problems.append("not a CA")
    if path_len is not None and f"pathlen:{path_len}" not in text:
        problems.append(f"path length is not {path_len}")
    if "Certificate Sign" not in text or "CRL Sign" not in text:
        problems.append("key usage lacks cert-sign/crl-sign")
    return "; ".join(problems) or None


def state_export(env: Env, project: Path, stack: str) -> str:
    return pulumi(env, project, stack, "stack", "export").stdout


def outputs(env: Env, project: Path, stack: str) -> dict[str, Any]:
    out = pulumi(env, project, stack, "stack", "output", "--json", "--show-secrets").stdout
    return json.loads(out)


def state_resources(export: str, type_: str) -> list[dict[str, Any]]:
    return [r for r in json.loads(export)["deployment"].get("resources", []) if r["type"] == type_]


def check_stack_objects(c: Checks, env: Env, stack: str) -> None:
    """The key fields of what the API server now holds."""
    if stack == "dev":

        def ingress() -> str | None:
            ing = env.kubectl("-n", "grpc-demo", "get", "ingress", "fortune-ingress")
            a = ing["metadata"]["annotations"]
            want = {
                "nginx.ingress.kubernetes.io/backend-protocol": "GRPC",
                "nginx.ingress.kubernetes.io/ssl-redirect": "true",
                "nginx.ingress.kubernetes.io/service-upstream": "true",
            }
            wrong = {k: a.get(k) for k, v in want.items() if a.get(k) != v}
            rule = ing["spec"]["rules"][0]
            port = rule["http"]["paths"][0]["backend"]["service"]["port"]["number"]
            if wrong or rule["host"] != "grpctest.dev.mydomain.com" or port != 80:
                return f"annotations {wrong}, host {rule['host']}, backend port {port}"
            return None

        c.run("dev: Ingress has the gRPC annotations, host and Service port", ingress)

        def service() -> str | None:
            svc = env.kubectl("-n", "grpc-demo", "get", "service", "go-grpc-greeter-server")
            p = svc["spec"]["ports"][0]
            if (p["port"], p["targetPort"], p.get("appProtocol")) != (
                80,
                "grpc",
                "kubernetes.io/h2c",
            ):
                return f"port {p}"
            return None

        c.run("dev: Service port 80 -> grpc, appProtocol h2c", service)

        def deployment() -> str | None:
            d = env.kubectl("-n", "grpc-demo", "get", "deployment", "go-grpc-greeter-server")
            ready = d.get("status", {}).get("readyReplicas")
            if d["spec"]["replicas"] != 3 or ready != 3:
                return f"replicas {d['spec']['replicas']}, ready {ready}"
            return None

        c.run("dev: Deployment has 3 replicas, all Ready", deployment)
        secret_ns, secret_name = "grpc-demo", "wildcard.dev.mydomain.com"
        ns = "grpc-demo"
    else:

        def gateway() -> str | None:
            gw = env.kubectl("-n", "grpc-gateway", "get", "gateways.gateway.networking.k8s.io")
            items = gw["items"]
            if len(items) != 1 or not items[0]["spec"]["listeners"]:
                return f"{len(items)} Gateways"
            return None

        c.run("prod: Gateway accepted by the API server's CRD validation", gateway)

        def route() -> str | None:
            r = env.kubectl("-n", "shop", "get", "grpcroutes.gateway.networking.k8s.io")
            items = r["items"]
            if len(items) != 1:
                return f"{len(items)} GRPCRoutes"
            spec = items[0]["spec"]
            parent = spec["parentRefs"][0]
            backend = spec["rules"][0]["backendRefs"][0]
            if (parent["name"], parent.get("sectionName")) != (
                "grpc-gateway",
                "https-api-shop-example-com",
            ) or (backend["name"], backend["port"]) != ("api", 80):
                return f"parent {parent}, backend {backend}"
            return None

        c.run("prod: GRPCRoute accepted, on the Gateway's listener, to api's Service port", route)
        secret_ns, secret_name = "grpc-gateway", "grpc-gateway-tls"
        ns = "shop"

    def tls_secret() -> str | None:
        s = env.kubectl("-n", secret_ns, "get", "secret", secret_name)
        if s["type"] != "kubernetes.io/tls" or not {"tls.crt", "tls.key"} <= set(s["data"]):
            return f"type {s['type']}, keys {sorted(s['data'])}"
        return None

    c.run(f"{stack}: edge TLS Secret is kubernetes.io/tls", tls_secret)

    def policies() -> str | None:
        names = [
            p["metadata"]["name"] for p in env.kubectl("-n", ns, "get", "networkpolicy")["items"]
        ]
        if f"{ns}-zero-trust-default-deny" not in names or len(names) < 3:
            return f"NetworkPolicies {names}"
        return None

    c.run(f"{stack}: default-deny and allow NetworkPolicies in {ns}", policies)

    def edge_policies() -> str | None:
        for edge_ns, entry_ports in EDGE_ENTRY_PORTS[stack].items():
            items = env.kubectl("-n", edge_ns, "get", "networkpolicy")["items"]
            deny = [
                p["metadata"]["name"]
                for p in items
                if p["spec"]["podSelector"] == {}
                and sorted(p["spec"].get("policyTypes", [])) == ["Egress", "Ingress"]
                and not p["spec"].get("ingress")
                and not p["spec"].get("egress")
            ]
            ports = {
                port["port"]
                for p in items
                for rule in p["spec"].get("ingress", [])
                for port in rule.get("ports", [])
            }
            if deny != [f"{edge_ns}-zero-trust-default-deny"] or ports != entry_ports:
                return f"{edge_ns}: default deny {deny}, ingress ports {sorted(ports)}"
        return None

    c.run(
        f"{stack}: the edge namespaces deny by default and open only their entry ports",
        edge_policies,
    )

    def edge_servers() -> str | None:
        # A meshed edge keeps its entry (and webhook) ports under any default inbound policy.
        want = EDGE_SERVERS[stack]
        got = {
            (s["metadata"]["namespace"], s["metadata"]["name"], s["spec"]["port"])
            for edge_ns in {w[0] for w in want}
            for s in env.kubectl("-n", edge_ns, "get", "servers.policy.linkerd.io")["items"]
        }
        return None if got == want else f"Linkerd Servers {sorted(got)}, want {sorted(want)}"

    c.run(f"{stack}: the meshed edge has a Linkerd Server per entry and webhook port", edge_servers)

    def linkerd_policy() -> str | None:
        servers = env.kubectl("-n", ns, "get", "servers.policy.linkerd.io")["items"]
        authz = env.kubectl("-n", ns, "get", "authorizationpolicies.policy.linkerd.io")["items"]
        grpc = [s for s in servers if s["spec"].get("proxyProtocol") == "gRPC"]
        if not grpc or not authz:
            return f"{len(servers)} Servers ({len(grpc)} gRPC), {len(authz)} AuthorizationPolicies"
        return None

    c.run(f"{stack}: Linkerd Server (gRPC) and AuthorizationPolicy accepted", linkerd_policy)


def check_certificates(c: Checks, env: Env, project: Path, stack: str) -> dict[str, str]:
    """openssl over what the stack generated; returns the PEMs the data-plane check uses."""
    outs = outputs(env, project, stack)
    export = state_export(env, project, stack)
    pems: dict[str, str] = {}
    secret_ns, secret_name, host = (
        ("grpc-demo", "wildcard.dev.mydomain.com", "grpctest.dev.mydomain.com")
        if stack == "dev"
        else ("grpc-gateway", "grpc-gateway-tls", "api.shop.example.com")
    )
    ca = outs.get("ca_cert_pem", "")
    secret = env.kubectl("-n", secret_ns, "get", "secret", secret_name)
    leaf = b64(secret["data"]["tls.crt"])
    pems.update(ca=ca, cert=leaf, key_secret=f"{secret_ns}/{secret_name}", host=host)
    c.run(
        f"{stack}: edge certificate chains to the stack's CA", lambda: verify_chain(env, ca, leaf)
    )

    def covers() -> str | None:
        text = cert_text(env, leaf)
        if f"DNS:{host}" in text:
            return None
        wildcard = "DNS:*." + host.split(".", 1)[1]
        return None if wildcard in text else f"SANs do not cover {host}"

    c.run(f"{stack}: edge certificate covers {host}", covers)

    anchor = outs.get("linkerd_trust_anchor_pem")
    if anchor:
        text = cert_text(env, anchor)

        def anchor_ok() -> str | None:
            problem = ecdsa_p256_ca(text, path_len=1)
            if (
                "CN = root.linkerd.cluster.local" not in text
                and "CN=root.linkerd.cluster.local" not in text
            ):
                problem = (problem or "") + " CN is not root.linkerd.cluster.local"
            return problem

        c.run(
            f"{stack}: Linkerd trust anchor: ECDSA P-256 CA, cert/CRL sign, path length 1, its CN",
            anchor_ok,
        )
        issuers = [
            r["outputs"]["certPem"]
            for r in state_resources(export, "tls:index/locallySignedCert:LocallySignedCert")
            if "linkerd-issuer" in r["urn"]
        ]

        def issuer_ok() -> str | None:
            if len(issuers) != 1:
                return f"{len(issuers)} issuer certificates in the state"
            itext = cert_text(env, issuers[0])
            # The library asks for path length 0, but pulumi-tls (terraform-provider-tls) never
            # encodes a zero path length: the issuer carries none (see docs/linkerd.md).
            problem = ecdsa_p256_ca(itext, path_len=None)
            if "identity.linkerd.cluster.local" not in itext:
                problem = (problem or "") + " CN is not identity.linkerd.cluster.local"
            if not_after(env, issuers[0]) >= not_after(env, anchor):
                problem = (problem or "") + " the issuer does not expire before the anchor"
            return problem or verify_chain(env, anchor, issuers[0])

        c.run(
            f"{stack}: Linkerd issuer: ECDSA P-256 CA, cert/CRL sign, its CN, shorter-lived, "
            "signed by the anchor",
            issuer_ok,
        )

        def issuer_in_cluster() -> str | None:
            s = env.kubectl("-n", "linkerd", "get", "secret", "linkerd-identity-issuer")
            if b64(s["data"]["crt.pem"]).strip() != issuers[0].strip():
                return "the issuer Secret the chart wrote differs from the stack's issuer"
            return None

        c.run(
            f"{stack}: the Helm release wrote the stack's issuer into the cluster",
            issuer_in_cluster,
        )
    return pems


def check_no_plaintext_keys(c: Checks, env: Env, project: Path, stack: str) -> None:
    def scan() -> str | None:
        export = state_export(env, project, stack)
        if "PRIVATE KEY-----" in export:
            return "a PEM private key appears in plain text in `pulumi stack export`"
        secrets = export.count(
            '"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270"'
        )
        return None if secrets else "no secret values at all in the state"

    c.run(f"{stack}: `pulumi stack export` holds no private key in plain text", scan)


def check_data_plane(c: Checks, env: Env, pems: dict[str, str]) -> None:
    """The demo greeter behind nginx with the dev stack's own edge certificate, called by grpcurl
    trusting only the stack's CA."""
    import dataplane

    grpcurl = dataplane.find_binary("grpcurl")
    nginx = dataplane.find_binary("nginx")
    if grpcurl is None or nginx is None:
        c.check(
            "dev: grpcurl through nginx with the stack's certificates",
            False,
            "nginx or grpcurl missing",
        )
        return
    ns, name = pems["key_secret"].split("/")
    secret = env.kubectl("-n", ns, "get", "secret", name)
    # The key exists on disk only for this nginx, in a private temporary directory removed
    # right after (nginx reads keys from files).
    tls_dir = Path(tempfile.mkdtemp(dir=env.work))
    os.chmod(tls_dir, 0o700)
    try:
        ca, cert, key = tls_dir / "ca.pem", tls_dir / "tls.crt", tls_dir / "tls.key"
        ca.write_text(pems["ca"])
        cert.write_text(pems["cert"])
        key.touch(mode=0o600)
        key.write_text(b64(secret["data"]["tls.key"]))
        with dataplane.DataPlane(env.work / "dataplane") as dp:
            backends = dp.start_greeters(["greeter-a", "greeter-b"])
            port = dp.start_nginx(backends, dataplane.Pki(ca=ca, cert=cert, key=key), binary=nginx)
            # nginx now holds the key in memory; the file goes.
            key.unlink()
            # One reflection-driven call, as a user would make it first ...
            p = env.run(
                [
                    *[grpcurl, "-cacert", str(ca), "-servername", pems["host"]],
                    *["-authority", pems["host"], "-max-time", "10", "-d", '{"name": "e2e"}'],
                    *[f"127.0.0.1:{port}", "helloworld.Greeter/SayHello"],
                ],
                check=False,
            )
            reply = json.loads(p.stdout)["message"] if p.returncode == 0 else p.stderr.strip()
            c.check(
                "dev: grpcurl (server reflection) through nginx with the stack's certificates",
                reply in ("Hello e2e from greeter-a", "Hello e2e from greeter-b"),
                reply[-500:],
            )
            # ... then the spread over one TLS connection, trusting only the stack's CA.
            p = env.run(
                [
                    *[sys.executable, "-m", "grpc_kube.balance_probe", f"127.0.0.1:{port}"],
                    *["--tls", "--cacert", str(ca), "--authority", pems["host"]],
                    *["--calls", "200", "--expect-backends", "2"],
                ],
                check=False,
            )
            c.check(
                "dev: grpc-lb-check over the stack's TLS: BALANCED over both greeters",
                p.returncode == 0 and "BALANCED" in p.stdout,
                (p.stdout + p.stderr)[-800:],
            )
    finally:
        shutil.rmtree(tls_dir, ignore_errors=True)


def check_update_in_place(c: Checks, env: Env, project: Path, stack: str) -> None:
    f = stack_file(project, stack)
    services = yaml.safe_load(f.read_text())["config"][f"{PROJECT}:services"]
    # A service whose replica count Pulumi owns (with autoscaling the HPA does).
    index = next(i for i, svc in enumerate(services) if "autoscaling" not in svc)
    name = services[index]["name"]
    replicas = (services[index].get("replicas") or 2) + 1
    services[index]["replicas"] = replicas
    set_config(project, stack, [f"{PROJECT}:services"], services)
    steps = preview_steps(env, project, stack)
    changed = {op: urns for op, urns in steps.items() if op not in ("same", "read")}
    updated = changed.get("update", [])
    c.check(
        f"{stack}: replicas {replicas} for {name} updates its Deployment in place, nothing else",
        set(changed) == {"update"}
        and len(updated) == 1
        and updated[0].endswith(f"{name}-deployment"),
        json.dumps(changed)[:800],
    )
    pulumi(env, project, stack, "up", "--yes", "--skip-preview")
    namespace = services[index]["namespace"]
    k8s_name = services[index].get("service_name") or name
    d = env.kubectl("-n", namespace, "get", "deployment", k8s_name)
    c.check(f"{stack}: the cluster has {replicas} replicas", d["spec"]["replicas"] == replicas)


def check_destroyed(c: Checks, env: Env, stack: str, namespaces: list[str]) -> None:
    def gone() -> str | None:
        deadline = time.time() + 120
        left: list[str] = namespaces
        while time.time() < deadline:
            existing = {n["metadata"]["name"] for n in env.kubectl("get", "namespaces")["items"]}
            left = [n for n in namespaces if n in existing]
            if not left:
                break
            time.sleep(2)
        if left:
            return f"namespaces still there: {left}"
        crds_left = env.kubectl("get", "crd")["items"]
        if not crds_left:
            return "the pre-installed CRDs were deleted too"
        return None

    c.run(f"{stack}: destroy leaves nothing of the stack (the cluster's CRDs stay)", gone)


# --- main --------------------------------------------------------------------------------


def run_stack(c: Checks, env: Env, project: Path, stack: str, charts: Path) -> None:
    use_what_the_cluster_has(project, stack, charts)
    pulumi(env, project, stack, "stack", "init", check=False)
    p = pulumi(env, project, stack, "up", "--yes", "--skip-preview", check=False)
    if not c.check(f"{stack}: pulumi up", p.returncode == 0, (p.stdout + p.stderr)[-4000:]):
        return
    check_stack_objects(c, env, stack)
    p = pulumi(env, project, stack, "preview", "--expect-no-changes", "--diff", check=False)
    c.check(f"{stack}: a second preview is quiet", p.returncode == 0, (p.stdout + p.stderr)[-3000:])
    check_no_plaintext_keys(c, env, project, stack)
    pems = check_certificates(c, env, project, stack)
    if stack == "dev":
        check_data_plane(c, env, pems)
    check_update_in_place(c, env, project, stack)
    config = yaml.safe_load(stack_file(project, stack).read_text())["config"]
    namespaces = [n["name"] for n in config[f"{PROJECT}:namespaces"] if not n.get("existing")]
    p = pulumi(env, project, stack, "destroy", "--yes", "--skip-preview", check=False)
    if c.check(f"{stack}: pulumi destroy", p.returncode == 0, (p.stdout + p.stderr)[-3000:]):
        check_destroyed(c, env, stack, namespaces)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bin", type=Path, required=True, help="directory of the built tools")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    parser.add_argument("--stack", action="append", help="dev and/or prod (default both)")
    parser.add_argument(
        "--hosts-bin", type=Path, help="directory of the language hosts (.ci/language-hosts.sh)"
    )
    parser.add_argument(
        "--example",
        action="append",
        choices=sorted(EXAMPLES),
        help="which examples/ to deploy (default all; none without --hosts-bin)",
    )
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="grpc-kube-e2e-"))
    hosts = args.hosts_bin.resolve() if args.hosts_bin else None
    env = Env(args.bin.resolve(), work, hosts)
    c = Checks()
    try:
        with local_cluster(env):
            apply_platform_crds(env)
            charts = standin.linkerd_charts(work / "charts")
            with standin.running(env.run):
                project = project_copy(env)
                for stack in args.stack or ["dev", "prod"]:
                    run_stack(c, env, project, stack, charts)
                if hosts is not None:
                    run_examples(c, env, project, args.example or list(EXAMPLES))
    except Exception as exc:
        c.check("e2e environment", False, f"{type(exc).__name__}: {exc}")
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"work directory kept: {work}")
    print(f"e2e: {c.passed} passed, {c.failed} failed", flush=True)
    return 0 if c.failed == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
