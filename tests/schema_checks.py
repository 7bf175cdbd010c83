"""Offline validation used across the tests: Kubernetes objects against the official schemas of
every supported Kubernetes version, custom resources against their pinned CRD schemas, and Helm
values against the pinned charts' value keys."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate

FIXTURES = Path(__file__).parent / "fixtures"
# The range both pinned ingress-nginx 4.15.1 and Linkerd edge-26.8.3 support.
KUBERNETES_VERSIONS = ("1.31", "1.32", "1.33", "1.34", "1.35")

# Custom resource groups and the schema directory that serves them.
CRD_SOURCES = {
    "policy.linkerd.io": "linkerd-edge-26.8.3",
    # GRPCRoute etc. must be served by the Gateway API version Linkerd and the gateway accept.
    "gateway.networking.k8s.io": "gateway-api-v1.5.1",
}


@cache
def _crd_schema(source: str, group: str, version: str, kind: str) -> dict[str, Any]:
    path = FIXTURES / "crd-schemas" / source / group / version / f"{kind}.json"
    if not path.exists():
        served = sorted(p.name for p in (FIXTURES / "crd-schemas" / source / group).iterdir())
        raise AssertionError(
            f"{group}/{version} {kind} is not served by {source}; served: {served}"
        )
    doc: dict[str, Any] = json.loads(path.read_text())
    return doc


def validate_object(obj: Mapping[str, Any], versions: Iterable[str] = KUBERNETES_VERSIONS) -> None:
    """Raise if `obj` is not valid for every Kubernetes version (strict: unknown fields fail)."""
    api_version = obj["apiVersion"]
    group = api_version.split("/")[0] if "/" in api_version else ""
    if group in CRD_SOURCES:
        version = api_version.split("/")[1]
        doc = _crd_schema(CRD_SOURCES[group], group, version, obj["kind"])
        jsonschema.validate(dict(obj), doc["schema"])
        return
    for v in versions:
        try:
            kubernetes_validate.validate(dict(obj), v, strict=True)
        except kubernetes_validate.ValidationError as exc:
            name = obj.get("metadata", {}).get("name")
            raise AssertionError(
                f"{obj['kind']} {name!r} invalid for Kubernetes {v}: {exc.message}"
            ) from None


def validate_all(objs: Iterable[Mapping[str, Any]]) -> int:
    n = 0
    for obj in objs:
        validate_object(obj)
        n += 1
    return n


@cache
def chart_keys(chart_file: str) -> dict[str, str]:
    keys: dict[str, str] = {}
    for line in (FIXTURES / "chart-values" / chart_file).read_text().splitlines():
        if line.strip():
            path, kind = line.split("\t")
            keys[path] = kind
    return keys


def _leaf_paths(values: Any, prefix: str = "") -> list[str]:
    if isinstance(values, Mapping) and values:
        out: list[str] = []
        for k, v in values.items():
            out += _leaf_paths(v, f"{prefix}.{k}" if prefix else str(k))
        return out
    return [prefix]


def unknown_value_keys(values: Mapping[str, Any], chart_file: str) -> list[str]:
    """Value paths that the chart's values.yaml does not have (a typo the chart would ignore)."""
    keys = chart_keys(chart_file)
    bad = []
    for path in _leaf_paths(values):
        parts = path.split(".")
        ok = path in keys
        for i in range(1, len(parts)):
            prefix = ".".join(parts[:i])
            if keys.get(prefix) in ("freemap", "list", "null"):
                ok = True
                break
        if not ok:
            bad.append(path)
    return bad
