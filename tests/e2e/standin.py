"""Stand-ins for the cluster members the local control plane does not run, for the end-to-end
run only.

- A node whose "kubelet" binds every new pod to itself and reports it Running and Ready, with an
  address from 192.0.2.0/24 (TEST-NET-1, reserved for documentation): the endpoint controller
  then publishes Service endpoints and Deployments become Ready, as on a real cluster. Nothing
  ever connects to those addresses.
- An ingress controller that publishes an address in every Ingress's status, as ingress-nginx
  does once it serves it.
- Local Linkerd charts: what the real linkerd-crds and linkerd-control-plane charts do with the
  identity values (the trust roots ConfigMap and the issuer Secret), so the stack's Helm
  releases install for real from a local path, with the real values.
"""

from __future__ import annotations

import json
import subprocess
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

import yaml

NODE = "e2e-node"
POD_NETWORK = "192.0.2"  # TEST-NET-1: documentation only, never routed
INGRESS_ADDRESS = "192.0.2.250"
LINKERD_CHART_VERSION = "2026.8.3"

Run = Callable[..., subprocess.CompletedProcess[str]]


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class _StandIns:
    def __init__(self, run: Run) -> None:
        self.run = run
        self.next_ip = 10
        self.ips: dict[str, str] = {}
        self.stop = threading.Event()
        self.errors: list[str] = []

    def kubectl(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return self.run(["kubectl", *args], check=False, stdin=stdin)

    def node(self) -> None:
        """The node object, its Ready condition and its lease, renewed like a kubelet's."""
        node = {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {"name": NODE, "labels": {"kubernetes.io/hostname": NODE}},
        }
        self.kubectl("apply", "-f", "-", stdin=json.dumps(node))
        now = _now()
        status = {
            "status": {
                "conditions": [
                    {
                        "type": "Ready",
                        "status": "True",
                        "reason": "KubeletReady",
                        "message": "stand-in kubelet",
                        "lastHeartbeatTime": now,
                        "lastTransitionTime": now,
                    }
                ],
                "capacity": {"cpu": "64", "memory": "256Gi", "pods": "500"},
                "allocatable": {"cpu": "64", "memory": "256Gi", "pods": "500"},
            }
        }
        self.kubectl(
            "patch", "node", NODE, "--subresource=status", "--type=merge", "-p", json.dumps(status)
        )
        lease = {
            "apiVersion": "coordination.k8s.io/v1",
            "kind": "Lease",
            "metadata": {"name": NODE, "namespace": "kube-node-lease"},
            "spec": {
                "holderIdentity": NODE,
                "leaseDurationSeconds": 40,
                "renewTime": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            },
        }
        self.kubectl("apply", "-f", "-", stdin=json.dumps(lease))

    def pods(self) -> None:
        p = self.kubectl("get", "pods", "-A", "-o", "json")
        if p.returncode != 0:
            return
        for pod in json.loads(p.stdout)["items"]:
            meta, spec, status = pod["metadata"], pod["spec"], pod.get("status", {})
            if meta.get("deletionTimestamp"):
                # No kubelet confirms the shutdown: finish it, as one would.
                self.kubectl(
                    "delete",
                    "pod",
                    "-n",
                    meta["namespace"],
                    meta["name"],
                    "--grace-period=0",
                    "--force",
                )
                continue
            ns, name = meta["namespace"], meta["name"]
            if not spec.get("nodeName"):
                binding = {
                    "apiVersion": "v1",
                    "kind": "Binding",
                    "metadata": {"name": name, "namespace": ns},
                    "target": {"apiVersion": "v1", "kind": "Node", "name": NODE},
                }
                self.kubectl("create", "-f", "-", stdin=json.dumps(binding))
            ready = any(
                c["type"] == "Ready" and c["status"] == "True" for c in status.get("conditions", [])
            )
            if ready:
                continue
            key = f"{ns}/{name}"
            if key not in self.ips:
                self.ips[key] = f"{POD_NETWORK}.{self.next_ip}"
                self.next_ip = self.next_ip + 1 if self.next_ip < 240 else 10
            now = _now()
            containers = [
                {
                    "name": c["name"],
                    "image": c["image"],
                    "imageID": "",
                    "ready": True,
                    "started": True,
                    "restartCount": 0,
                    "state": {"running": {"startedAt": now}},
                }
                for c in spec.get("containers", [])
            ]
            new_status = {
                "status": {
                    "phase": "Running",
                    "hostIP": "192.0.2.1",
                    "podIP": self.ips[key],
                    "podIPs": [{"ip": self.ips[key]}],
                    "startTime": now,
                    "conditions": [
                        {"type": t, "status": "True", "lastTransitionTime": now}
                        for t in ("PodScheduled", "Initialized", "ContainersReady", "Ready")
                    ],
                    "containerStatuses": containers,
                }
            }
            self.kubectl(
                "patch",
                "pod",
                "-n",
                ns,
                name,
                "--subresource=status",
                "--type=merge",
                "-p",
                json.dumps(new_status),
            )

    def ingresses(self) -> None:
        p = self.kubectl("get", "ingress", "-A", "-o", "json")
        if p.returncode != 0:
            return
        for ing in json.loads(p.stdout)["items"]:
            if ing.get("status", {}).get("loadBalancer", {}).get("ingress"):
                continue
            status = {"status": {"loadBalancer": {"ingress": [{"ip": INGRESS_ADDRESS}]}}}
            self.kubectl(
                "patch",
                "ingress",
                "-n",
                ing["metadata"]["namespace"],
                ing["metadata"]["name"],
                "--subresource=status",
                "--type=merge",
                "-p",
                json.dumps(status),
            )

    def loop(self) -> None:
        tick = 0
        while not self.stop.wait(1.0):
            try:
                if tick % 10 == 0:
                    self.node()
                self.pods()
                self.ingresses()
            except Exception as exc:  # keep standing in; report at the end
                self.errors.append(f"{type(exc).__name__}: {exc}")
            tick += 1


@contextmanager
def running(run: Run) -> Iterator[_StandIns]:
    """The stand-in node and ingress controller, working in a background thread."""

    def run_with_stdin(
        argv: list[str], *, check: bool = True, stdin: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        return run(argv, check=check, stdin=stdin)

    s = _StandIns(run_with_stdin)
    s.node()
    t = threading.Thread(target=s.loop, name="standin", daemon=True)
    t.start()
    try:
        yield s
    finally:
        s.stop.set()
        t.join(timeout=10)


def linkerd_charts(directory: Path) -> Path:
    """Local charts standing in for linkerd-crds and linkerd-control-plane (same names and
    version), in `directory`, which is returned."""
    crds = directory / "linkerd-crds"
    (crds / "templates").mkdir(parents=True, exist_ok=True)
    (crds / "Chart.yaml").write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v2",
                "name": "linkerd-crds",
                "version": LINKERD_CHART_VERSION,
                "description": "e2e stand-in: the CRDs are applied before the run",
            }
        )
    )
    (crds / "templates" / "NOTES.txt").write_text("stand-in\n")
    cp = directory / "linkerd-control-plane"
    (cp / "templates").mkdir(parents=True, exist_ok=True)
    (cp / "Chart.yaml").write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v2",
                "name": "linkerd-control-plane",
                "version": LINKERD_CHART_VERSION,
                "description": "e2e stand-in: identity objects only",
            }
        )
    )
    # What the real chart does with the identity values: the trust roots every proxy reads and
    # the issuer the identity controller signs with.
    (cp / "templates" / "identity.yaml").write_text(
        """apiVersion: v1
kind: ConfigMap
metadata:
  name: linkerd-identity-trust-roots
  namespace: {{ .Release.Namespace }}
data:
  ca-bundle.crt: {{ required "identityTrustAnchorsPEM" .Values.identityTrustAnchorsPEM | quote }}
---
apiVersion: v1
kind: Secret
metadata:
  name: linkerd-identity-issuer
  namespace: {{ .Release.Namespace }}
data:
  crt.pem: {{ required "issuer crtPEM" .Values.identity.issuer.tls.crtPEM | b64enc }}
  key.pem: {{ required "issuer keyPEM" .Values.identity.issuer.tls.keyPEM | b64enc }}
"""
    )
    return directory


def main(argv: list[str] | None = None) -> int:
    """`python tests/e2e/standin.py` keeps the stand-ins working against $KUBECONFIG until it
    is stopped (SIGTERM), for a local cluster that outlives one run."""
    import signal

    def run(
        argv: list[str], *, check: bool = True, stdin: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        p = subprocess.run(argv, input=stdin, capture_output=True, text=True, check=False)
        if check and p.returncode != 0:
            raise RuntimeError(f"{' '.join(argv[:3])}: {p.stderr.strip()}")
        return p

    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    with running(run):
        done.wait()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
