"""Helpers for tests/test_connectivity_analyzer.py: build a stack's "world" (its rendered
Namespaces, NetworkPolicies and workloads, plus stand-ins for the pods the stack installs
through Helm charts or that the cluster already runs), write it as manifests, run IBM's
network-config-analyzer (NCA) connectivity map over it, and read NCA's answer back as a table of
(source workload, destination workload, connections).

NCA is an analyzer independent of grpc-kube and of tests/netpol_eval.py. It lives in its own
virtualenv (`.venv-nca`, see .ci/run): GRPC_KUBE_NCA names its `nca` executable.

Connections are written in one canonical text form, on both sides of the comparison:

- `all`: every protocol and port (NCA's "All connections");
- `TCP 4143,50051`: those protocols (joined by `+`, sorted) on those destination ports (as
  NCA lists them: ascending, ranges as `lo-hi`); several groups are joined by `; `.
"""

from __future__ import annotations

import copy
import ipaddress
import os
import re
import subprocess
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"
INTERNET = "0.0.0.0/0"
"""How a table names every IPv4 address outside the cluster (NCA: `0.0.0.0-255.255.255.255`)."""
INTERNET_V6 = "::/0"
"""Every IPv6 address: NCA lists IPv6 only once a policy names an IPv6 block."""
_WHOLE_RANGES = {
    "0.0.0.0-255.255.255.255": INTERNET,
    "::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff": INTERNET_V6,
}
HELM_RELEASE = "kubernetes:helm.sh/v3:Release"
POD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob")
REPLICAS = 2
"""Pods per workload in the world: with two, NCA shows whether pods of one workload reach each
other."""

Ports = tuple[tuple[str, int, str], ...]
"""Container ports as (name, number, protocol)."""
Row = tuple[str, str, str]
"""(source, destination, connections): endpoints as `namespace/workload` or INTERNET."""


def nca_executable() -> str:
    """The `nca` executable named by GRPC_KUBE_NCA; skips the test without it, unless
    GRPC_KUBE_REQUIRE_NCA=1 (CI), which fails it."""
    exe = os.environ.get("GRPC_KUBE_NCA")
    if exe and Path(exe).exists():
        return exe
    if os.environ.get("GRPC_KUBE_REQUIRE_NCA") == "1":
        pytest.fail("GRPC_KUBE_REQUIRE_NCA=1 but GRPC_KUBE_NCA does not name the nca executable")
    pytest.skip("network-config-analyzer not installed (set GRPC_KUBE_NCA to its executable)")
    raise AssertionError("unreachable")


# --- the world --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Workload:
    """Pods of one workload, as NetworkPolicies see them."""

    namespace: str
    name: str
    labels: Mapping[str, str] = field(hash=False)
    ports: Ports = ()
    rendered: Mapping[str, Any] | None = field(default=None, hash=False, compare=False)
    """The stack's rendered object, for a workload the stack renders (None: a stand-in)."""

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"

    def manifest(self) -> dict[str, Any]:
        """The rendered object as it is but for REPLICAS pods, or a Deployment for a stand-in."""
        if self.rendered is not None:
            obj = copy.deepcopy(dict(self.rendered))
            obj["spec"]["replicas"] = REPLICAS
            return obj
        ports = [{"name": n, "containerPort": p, "protocol": proto} for n, p, proto in self.ports]
        return {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": self.name, "namespace": self.namespace},
            "spec": {
                "replicas": REPLICAS,
                "selector": {"matchLabels": dict(self.labels)},
                "template": {
                    "metadata": {"labels": dict(self.labels)},
                    "spec": {"containers": [{"name": "main", "image": "stand-in", "ports": ports}]},
                },
            },
        }


@dataclass
class World:
    """What NCA analyses: namespaces (name -> labels), NetworkPolicies and workloads."""

    namespaces: dict[str, dict[str, str]]
    policies: list[dict[str, Any]]
    workloads: list[Workload]

    def namespace_labels(self, namespace: str) -> dict[str, str]:
        return {**self.namespaces[namespace], NAMESPACE_NAME_LABEL: namespace}

    def add(self, workload: Workload, namespace_labels: Mapping[str, str] | None = None) -> None:
        if workload.key in {w.key for w in self.workloads}:
            raise AssertionError(f"two workloads named {workload.key}")
        self.namespaces.setdefault(workload.namespace, dict(namespace_labels or {}))
        self.workloads.append(workload)

    def manifests(self) -> list[dict[str, Any]]:
        """Namespaces, workloads and policies as Kubernetes objects."""
        out: list[dict[str, Any]] = [
            {
                "apiVersion": "v1",
                "kind": "Namespace",
                "metadata": {"name": ns, "labels": self.namespace_labels(ns)},
            }
            for ns in sorted(self.namespaces)
        ]
        out += [w.manifest() for w in self.workloads]
        out += self.policies
        return out


def world_from_objects(objects: Iterable[Mapping[str, Any]]) -> World:
    """The Namespaces, NetworkPolicies and pod templates among a stack's rendered objects."""
    world = World({}, [], [])
    for obj in objects:
        kind, meta = obj.get("kind"), obj.get("metadata", {})
        if kind == "Namespace":
            world.namespaces[meta["name"]] = dict(meta.get("labels") or {})
        elif kind == "NetworkPolicy":
            world.policies.append(dict(obj))
        elif kind in POD_KINDS:
            if kind not in ("Deployment", "StatefulSet", "ReplicaSet"):
                # NCA counts the pods of these otherwise (DaemonSet: one; Job: parallelism).
                raise AssertionError(f"{kind} {meta['name']}: teach nca_support its pod count")
            template = obj["spec"]["template"]
            ports = tuple(
                (p.get("name", ""), p["containerPort"], p.get("protocol", "TCP"))
                for c in template["spec"].get("containers", [])
                for p in c.get("ports") or []
            )
            world.workloads.append(
                Workload(
                    meta.get("namespace", "default"),
                    meta["name"],
                    dict(template["metadata"].get("labels") or {}),
                    ports,
                    rendered=obj,
                )
            )
    for w in world.workloads:
        world.namespaces.setdefault(w.namespace, {})
    return world


# --- running NCA --------------------------------------------------------------------------------


@dataclass
class NcaRun:
    rows: set[Row]
    selects_nothing: list[str]
    """NCA's warnings that a policy's selector or rule selects no pod of the world."""
    stdout: str
    stderr: str
    seconds: float


def run_connectivity(exe: str, world: World, directory: Path, *, timeout: float = 300) -> NcaRun:
    """Write the world to `directory` (each NetworkPolicy in a file named after it, so NCA's
    warnings name it) and run NCA's connectivity map over it, pod by pod; return its rows with
    pods folded into their workloads (NCA's whole address ranges named INTERNET and
    INTERNET_V6), and
    NCA's warnings that a selector or rule selects no pod. Fails when NCA adds stand-in pods of
    its own ("livesim") or reads another number of pods than the world has."""
    directory.mkdir(parents=True, exist_ok=True)
    others = [m for m in world.manifests() if m["kind"] != "NetworkPolicy"]
    (directory / "world.yaml").write_text(yaml.safe_dump_all(others, sort_keys=True))
    for policy in world.policies:
        meta = policy["metadata"]
        name = f"networkpolicy.{meta['namespace']}.{meta['name']}.yaml"
        (directory / name).write_text(yaml.safe_dump(policy, sort_keys=True))
    cmd = [
        exe,
        "--connectivity",
        str(directory),
        "--resource_list",
        str(directory),
        "--output_format",
        "txt_no_fw_rules",
        "--output_endpoints",
        "pods",
    ]
    start = time.monotonic()
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    seconds = time.monotonic() - start
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, f"nca exited {proc.returncode}:\n{out}"
    assert "adding complementary" not in out and "Error" not in out, (
        f"NCA added pods of its own for a selector the world does not match, or failed:\n{out}"
    )
    selects_nothing = [line for line in out.splitlines() if "selects no pods" in line]
    endpoints = re.search(r"cluster has (\d+) unique endpoints", out)
    assert endpoints and int(endpoints.group(1)) == REPLICAS * len(world.workloads), (
        f"NCA read {endpoints and endpoints.group(1)} pods, the world has "
        f"{REPLICAS * len(world.workloads)}:\n{out}"
    )
    pods = {
        f"{w.namespace}/{w.name}-{i}": w.key
        for w in world.workloads
        for i in range(1, REPLICAS + 1)
    }
    # NCA may list one pod pair on several lines, one per group of connections: merged here.
    by_pod_pair: dict[tuple[str, str], list[str]] = {}
    for line in proc.stdout.splitlines():
        if " => " not in line:
            continue
        pair, _, text = line.partition(" : ")
        src_pod, _, dst_pod = pair.partition(" => ")
        key = (src_pod.strip(), dst_pod.strip())
        by_pod_pair.setdefault(key, []).append(parse_connections(text))
    by_pair: dict[tuple[str, str], list[str]] = {}
    for (src_pod, dst_pod), texts in by_pod_pair.items():
        key = (_endpoint(src_pod, pods), _endpoint(dst_pod, pods))
        by_pair.setdefault(key, []).append(merge_connections(texts))
    rows: set[Row] = set()
    keys = set(pods.values())
    for (src, dst), conns in by_pair.items():
        # Pods of one workload are alike, so NCA must give every pod pair between two workloads
        # the same connections, and list all of them (a pod to itself never is).
        if src in keys and dst in keys:
            want = REPLICAS * (REPLICAS - 1) if src == dst else REPLICAS * REPLICAS
        else:
            want = REPLICAS
        assert len(conns) == want and len(set(conns)) == 1, (
            f"the pods of {src} -> {dst} differ: {len(conns)} of {want} pod pairs, {set(conns)}"
        )
        rows.add((src, dst, conns[0]))
    return NcaRun(rows, selects_nothing, proc.stdout, proc.stderr, seconds)


def _endpoint(text: str, pods: Mapping[str, str]) -> str:
    if text in _WHOLE_RANGES:
        return _WHOLE_RANGES[text]
    if text in pods:
        return pods[text]
    if address_range(text) is None:
        raise AssertionError(f"NCA reports an endpoint the world does not have: {text}")
    return text  # another address range: kept as NCA wrote it, so a table shows it


def address_range(text: str) -> tuple[Any, Any] | None:
    """(first, last) address of an endpoint written as a CIDR or `first-last`; None when it is
    not an address range."""
    try:
        if "/" in text:
            net = ipaddress.ip_network(text)
            return net[0], net[-1]
        first, sep, last = text.partition("-")
        if sep:
            return ipaddress.ip_address(first), ipaddress.ip_address(last)
    except ValueError:
        return None
    return None


def table_lookup(rows: Iterable[Row]) -> Callable[[str, str], list[str]]:
    """A function (source, destination) -> the connections of every row between them, where
    either side is a workload key or an IP address (matched by the address ranges that hold
    it: NCA splits the address space differently from row to row)."""
    by_pair: dict[tuple[str, str], list[str]] = {}
    for src, dst, conns in rows:
        by_pair.setdefault((src, dst), []).append(conns)

    def holds(endpoint: str, wanted: str) -> bool:
        if endpoint == wanted:
            return True
        try:
            addr = ipaddress.ip_address(wanted)
        except ValueError:
            return False
        bounds = address_range(endpoint)
        if bounds is None:
            return False
        return bool(bounds[0].version == addr.version and bounds[0] <= addr <= bounds[1])

    cache: dict[tuple[str, str], list[str]] = {}

    def lookup(src: str, dst: str) -> list[str]:
        if (src, dst) not in cache:
            cache[(src, dst)] = [
                c
                for (s, d), conns in by_pair.items()
                if holds(s, src) and holds(d, dst)
                for c in conns
            ]
        return cache[(src, dst)]

    return lookup


# --- connections --------------------------------------------------------------------------------


_DIMENSION = re.compile(r",(?=[a-z_]+:)")

Intervals = tuple[tuple[int, int], ...]
Structure = dict[str, Intervals | None]
"""Connections as protocol (or `*`, any) -> destination port intervals (None: every port)."""


def parse_connections(text: str) -> str:
    """NCA's connection text (`All connections`, `{protocols:TCP, UDP,dst_ports:53}`, several
    `{...}` joined by `,`) in the canonical form of this module."""
    text = text.strip()
    if text == "All connections":
        return "all"
    blocks = re.findall(r"\{([^{}]*)\}", text)
    if not blocks or ",".join("{" + b + "}" for b in blocks) != text:
        raise ValueError(f"connection text NCA wrote in a form this parser does not read: {text!r}")
    structure: Structure = {}
    for block in blocks:
        dims: dict[str, str] = {}
        for dim in _DIMENSION.split(block):
            key, sep, value = dim.partition(":")
            if not sep:
                raise ValueError(f"unreadable connection dimension {dim!r} in {text!r}")
            dims[key.strip()] = value.strip()
        protocols = dims.pop("protocols", "*")
        ports = dims.pop("dst_ports", None)
        if dims or protocols.startswith("all but"):
            raise ValueError(f"connection text with dimensions this parser does not read: {text!r}")
        intervals = None if ports is None else _intervals(ports)
        for name in protocols.split(","):
            _add(structure, name.strip(), intervals)
    return _canonical(structure)


def merge_connections(texts: Iterable[str]) -> str:
    """The union of canonical connection texts, canonical."""
    structure: Structure = {}
    for text in texts:
        if text == "all":
            return "all"
        for name, intervals in _structure(text).items():
            _add(structure, name, intervals)
    return _canonical(structure)


def _intervals(ports: str) -> Intervals:
    out = []
    for item in ports.split(","):
        lo, _, hi = item.strip().partition("-")
        out.append((int(lo), int(hi or lo)))
    return tuple(out)


def _add(structure: Structure, name: str, intervals: Intervals | None) -> None:
    if intervals is None or (name in structure and structure[name] is None):
        structure[name] = None
        return
    out: list[tuple[int, int]] = []
    for lo, hi in sorted([*(structure.get(name) or ()), *intervals]):
        if out and lo <= out[-1][1] + 1:
            out[-1] = (out[-1][0], max(out[-1][1], hi))
        else:
            out.append((lo, hi))
    structure[name] = tuple(out)


def _structure(text: str) -> Structure:
    structure: Structure = {}
    for part in text.split("; "):
        names, _, ports = part.partition(" ")
        for name in names.split("+"):
            _add(structure, name, _intervals(ports) if ports else None)
    return structure


def _canonical(structure: Structure) -> str:
    by_ports: dict[Intervals | None, list[str]] = {}
    for name, intervals in structure.items():
        by_ports.setdefault(intervals, []).append(name)
    parts = []
    for intervals, names in by_ports.items():
        protocols = "+".join(sorted(names))
        if intervals is None:
            parts.append(protocols)
        else:
            ports = ",".join(str(lo) if lo == hi else f"{lo}-{hi}" for lo, hi in intervals)
            parts.append(f"{protocols} {ports}")
    return "; ".join(sorted(parts))


def allows(connections: str | None, protocol: str, port: int) -> bool:
    """Whether a canonical connection text admits `protocol`/`port` (None: no row, nothing)."""
    if connections is None:
        return False
    if connections == "all":
        return True
    for name, intervals in _structure(connections).items():
        if name not in ("*", protocol):
            continue
        if intervals is None or any(lo <= port <= hi for lo, hi in intervals):
            return True
    return False


def everything_among(endpoints: Sequence[str]) -> set[Row]:
    """`all` between every ordered pair of `endpoints`, each one to itself included (pods of one
    workload reach each other), but no address range to an address range: what NCA reports
    for pods that no NetworkPolicy selects, with INTERNET (and INTERNET_V6) among them."""
    return {
        (src, dst, "all")
        for src in endpoints
        for dst in endpoints
        if address_range(src) is None or address_range(dst) is None
    }


def diff(actual: set[Row], expected: set[Row]) -> str:
    """The rows only one side has, for an assertion message."""
    lines = [f"  NCA allows, not expected: {r}" for r in sorted(actual - expected)]
    lines += [f"  expected, NCA does not allow: {r}" for r in sorted(expected - actual)]
    return "\n".join(lines)


# --- stand-ins for pods the stack does not render -------------------------------------------------
#
# The labels are those the charts (at the versions the stack pins) put on their pods, written
# here from the charts, not read from grpc-kube: a selector of grpc-kube's that misses them is
# then a finding, not a tautology. Names and namespaces are the stack's (its Helm releases and
# Gateway objects), so a stack that renames a release or moves a namespace is followed.

COREDNS = Workload(
    "kube-system",
    "coredns",
    # CoreDNS keeps kube-dns's label for compatibility (kubeadm, most managed clusters).
    {"k8s-app": "kube-dns"},
    (("dns", 53, "UDP"), ("dns-tcp", 53, "TCP"), ("metrics", 9153, "TCP")),
)

# linkerd-control-plane chart (edge-26.8.3): the control plane pods carry their component, the
# control plane namespace and the workload namespace; the proxies dial identity 8080,
# destination 8086 and policy 8090 (the policy controller is a container of the destination
# pod); the API server calls the webhooks; each container also has an admin port. Container
# ports as templates/identity.yaml, destination.yaml and proxy-injector.yaml declare them. The
# heartbeat CronJob's pods carry their component and workload namespace only
# (templates/heartbeat.yaml).
LINKERD_COMPONENTS: dict[str, Ports] = {
    "destination": (
        ("dest-grpc", 8086, "TCP"),
        ("dest-admin", 9996, "TCP"),
        ("sp-validator", 8443, "TCP"),
        ("spval-admin", 9997, "TCP"),
        ("policy-grpc", 8090, "TCP"),
        ("policy-admin", 9990, "TCP"),
        ("policy-https", 9443, "TCP"),
    ),
    "identity": (("ident-grpc", 8080, "TCP"), ("ident-admin", 9990, "TCP")),
    "proxy-injector": (("proxy-injector", 8443, "TCP"), ("injector-admin", 9995, "TCP")),
}


def _job_labels(job: str) -> dict[str, str]:
    """The labels Kubernetes (1.27+) puts on every pod of a Job."""
    return {"batch.kubernetes.io/job-name": job, "job-name": job}


def _value(values: Any, path: str, default: Any) -> Any:
    for part in path.split("."):
        if not isinstance(values, Mapping) or part not in values:
            return default
        values = values[part]
    return values


def add_stand_ins(
    world: World,
    objects: Sequence[Mapping[str, Any]],
    releases: Sequence[Mapping[str, Any]],
    *,
    client: Workload,
) -> None:
    """Add to `world` the pods that exist when the stack runs but that it does not render:
    CoreDNS, the pods of its Helm releases (ingress-nginx controller and admission-webhook
    Jobs, Linkerd control plane and heartbeat, NGINX Gateway Fabric control plane and
    cert-generator Job), one NGF data plane per Gateway, and `client`, a pod in a namespace the
    stack knows nothing about. `releases` are the Helm releases' inputs. Hook and cron Jobs'
    pods come and go; they are here because policies must also hold while they run."""
    world.add(COREDNS)
    ngf_release = None
    ports: Ports
    for r in releases:
        chart, name, ns = str(r["chart"]), str(r["name"]), str(r["namespace"])
        values = r.get("values") or {}
        if chart == "ingress-nginx":
            # ingress-nginx chart: Deployment `<fullname>-controller`, its pods labelled by
            # ingress-nginx.labels plus the component; the admission webhook's certificate is
            # made by the Jobs `<fullname>-admission-create` and `-patch` (hooks).
            fullname = name if "ingress-nginx" in name else f"{name}-ingress-nginx"
            chart_labels = {
                "app.kubernetes.io/name": "ingress-nginx",
                "app.kubernetes.io/instance": name,
                "app.kubernetes.io/part-of": "ingress-nginx",
                "app.kubernetes.io/managed-by": "Helm",
            }
            labels = {**chart_labels, "app.kubernetes.io/component": "controller"}
            ports = (("http", 80, "TCP"), ("https", 443, "TCP"), ("webhook", 8443, "TCP"))
            world.add(Workload(ns, f"{fullname}-controller", labels, ports))
            webhooks = "controller.admissionWebhooks"
            if (
                _value(values, f"{webhooks}.enabled", True)
                and _value(values, f"{webhooks}.patch.enabled", True)
                and not _value(values, f"{webhooks}.certManager.enabled", False)
            ):
                for step in ("create", "patch"):
                    job = f"{fullname}-admission-{step}"
                    labels = {
                        **chart_labels,
                        "app.kubernetes.io/component": "admission-webhook",
                        **_job_labels(job),
                    }
                    world.add(Workload(ns, job, labels))
        elif chart == "linkerd-control-plane":
            ns_labels = {"linkerd.io/is-control-plane": "true", "linkerd.io/control-plane-ns": ns}
            for component, ports in LINKERD_COMPONENTS.items():
                labels = {
                    "linkerd.io/control-plane-component": component,
                    "linkerd.io/control-plane-ns": ns,
                    "linkerd.io/workload-ns": ns,
                    "linkerd.io/proxy-deployment": f"linkerd-{component}",
                }
                world.add(Workload(ns, f"linkerd-{component}", labels, ports), ns_labels)
            if not _value(values, "disableHeartBeat", False):
                labels = {
                    "linkerd.io/control-plane-component": "heartbeat",
                    "linkerd.io/workload-ns": ns,
                }
                world.add(Workload(ns, "linkerd-heartbeat", labels), ns_labels)
        elif chart.rstrip("/").endswith("nginx-gateway-fabric"):
            # nginx-gateway-fabric chart: Deployment `<fullname>`, its pods labelled by
            # nginx-gateway.selectorLabels; the Job `<fullname>-cert-generator` (hook) has no
            # labels of the chart's on its pods.
            ngf_release = name
            fullname = name if "nginx-gateway-fabric" in name else f"{name}-nginx-gateway-fabric"
            labels = {
                "app.kubernetes.io/name": "nginx-gateway-fabric",
                "app.kubernetes.io/instance": name,
            }
            ports = (("agent-grpc", 8443, "TCP"), ("health", 8081, "TCP"))
            world.add(Workload(ns, fullname, labels, ports))
            if _value(values, "certGenerator.enable", True):
                job = f"{fullname}-cert-generator"
                world.add(Workload(ns, job, _job_labels(job)))
        elif chart != "linkerd-crds":
            raise AssertionError(f"no stand-in for the pods of Helm chart {chart!r}: add one")
    for gw in (o for o in objects if o.get("kind") == "Gateway"):
        meta, spec = gw["metadata"], gw["spec"]
        # NGF provisions the data plane `<gateway>-<class>` in the Gateway's namespace
        # (internal/controller/provisioner/objects.go, v2.6.7).
        dataplane = f"{meta['name']}-{spec['gatewayClassName']}"
        labels = {
            "gateway.networking.k8s.io/gateway-name": meta["name"],
            "app.kubernetes.io/name": dataplane,
            "app.kubernetes.io/instance": ngf_release or "ngf",
            "app.kubernetes.io/managed-by": f"{ngf_release or 'ngf'}-nginx",
        }
        listener_ports = sorted({int(listener["port"]) for listener in spec.get("listeners", [])})
        ports = tuple((f"listener-{p}", p, "TCP") for p in listener_ports)
        world.add(Workload(meta["namespace"], dataplane, labels, ports))
    world.add(client)
