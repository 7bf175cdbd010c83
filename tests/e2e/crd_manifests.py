"""CustomResourceDefinitions built from the pinned CRD schemas in tests/fixtures/crd-schemas.

The end-to-end run stands in for a platform team that installed Linkerd and the Gateway API
before grpc-kube runs: it applies these definitions to the local API server first, so the real
server's validation (OpenAPI schema and CEL rules) judges every Linkerd policy object, Gateway
and GRPCRoute the stacks create.

    python tests/e2e/crd_manifests.py gateway-api-v1.5.1 linkerd-edge-26.8.3 > crds.yaml
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import yaml

SCHEMAS = Path(__file__).resolve().parents[1] / "fixtures" / "crd-schemas"
# Everything else in these groups is namespaced.
CLUSTER_SCOPED = {"GatewayClass"}


def plural(kind: str) -> str:
    name = kind.lower()
    if name.endswith("s"):
        return name + "es"
    if name.endswith("cy"):  # policy -> policies (but gateway -> gateways)
        return name[:-1] + "ies"
    return name + "s"


def _annotations(source: str, group: str) -> dict[str, str]:
    """The API server refuses CRDs in `*.k8s.io` groups without an approval annotation; the
    Gateway API's own CRDs carry it and their bundle version and channel, which
    implementations read."""
    if not group.endswith(".k8s.io"):
        return {}
    return {
        "api-approved.kubernetes.io": "https://github.com/kubernetes-sigs/gateway-api/pull/3328",
        "gateway.networking.k8s.io/bundle-version": source.rsplit("-", 1)[-1],
        "gateway.networking.k8s.io/channel": "standard",
    }


def crds(source: str) -> list[dict[str, Any]]:
    """One CustomResourceDefinition per kind found under `SCHEMAS/source`, every version served,
    the upstream storage version stored."""
    versions: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for path in sorted((SCHEMAS / source).glob("*/*/*.json")):
        group, version, kind = path.parts[-3], path.parts[-2], path.stem
        doc = json.loads(path.read_text())
        entry: dict[str, Any] = {
            "name": version,
            "served": True,
            "storage": bool(doc["storage"]),
            "schema": {"openAPIV3Schema": doc["schema"]},
            "subresources": {"status": {}},
        }
        if doc.get("deprecated"):
            entry["deprecated"] = True
        versions[(group, kind)].append(entry)
    out = []
    for (group, kind), vs in sorted(versions.items()):
        if sum(v["storage"] for v in vs) != 1:
            raise SystemExit(f"{source}: {kind} needs exactly one storage version, got {vs}")
        out.append(
            {
                "apiVersion": "apiextensions.k8s.io/v1",
                "kind": "CustomResourceDefinition",
                "metadata": {
                    "name": f"{plural(kind)}.{group}",
                    "annotations": _annotations(source, group),
                },
                "spec": {
                    "group": group,
                    "names": {
                        "kind": kind,
                        "listKind": f"{kind}List",
                        "plural": plural(kind),
                        "singular": kind.lower(),
                    },
                    "scope": "Cluster" if kind in CLUSTER_SCOPED else "Namespaced",
                    "versions": vs,
                },
            }
        )
    return out


def main(argv: list[str]) -> int:
    if not argv:
        sources = sorted(p.name for p in SCHEMAS.iterdir() if p.is_dir())
        print(f"usage: {Path(__file__).name} SOURCE... (of {sources})", file=sys.stderr)
        return 2
    docs = [crd for source in argv for crd in crds(source)]
    sys.stdout.write(yaml.safe_dump_all(docs, sort_keys=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
