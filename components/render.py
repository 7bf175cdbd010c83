"""Offline render: run a stack's program under mocks and print every Kubernetes object it would
create as multi-document YAML, for review, GitOps diffs and security scanners, with no cluster
and no Pulumi CLI.

    python -m grpc_kube render --stack dev > dev.yaml

Secret data is redacted; Helm releases are listed in a comment header (their objects come from
the chart at deploy time and are not rendered). Output is deterministic: objects sorted by kind,
namespace and name, keys sorted.
"""

from __future__ import annotations

import argparse
import copy
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from ._validation import InvalidArgumentError
from .testing import Recording, run_program

__all__ = ["load_stack_config", "main", "render_recording", "render_stack"]

PROJECT = "grpc-kube"
REDACTED = "<redacted>"
HELM_RELEASE = "kubernetes:helm.sh/v3:Release"


class RenderError(Exception):
    """A problem with the command line or the stack file (exit status 2)."""


def load_stack_config(stack: str, stacks_dir: Path) -> dict[str, Any]:
    """The `config:` map of `stacks/Pulumi.<stack>.yaml`, as the Pulumi CLI would pass it."""
    path = stacks_dir / f"Pulumi.{stack}.yaml"
    if not path.exists():
        found = sorted(
            p.name[len("Pulumi.") : -len(".yaml")] for p in stacks_dir.glob("Pulumi.*.yaml")
        )
        raise RenderError(
            f"no stack file {path}. Stacks here: {', '.join(found) or 'none'}. "
            "Fix: pass --stack with one of them, or --stacks-dir."
        )
    try:
        doc = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark is not None else str(path)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        context = getattr(exc, "context", None)
        raise RenderError(
            f"{where}: not valid YAML: {problem}{f' ({context})' if context else ''}. Fix: "
            "correct the syntax at that line (indentation, a missing ':' or an unclosed quote "
            "or bracket)."
        ) from None
    if not isinstance(doc, Mapping):
        raise RenderError(f"{path}: a stack file must be a map with a `config:` key.")
    config = doc.get("config") or {}
    if not isinstance(config, Mapping):
        raise RenderError(f"{path}: `config` must be a map of keys to values.")
    for key, value in config.items():
        if isinstance(value, Mapping) and "secure" in value:
            raise RenderError(
                f"{path}: {key} is an encrypted (secure) value; render cannot decrypt it. "
                "Fix: render a stack without secure config, or use `pulumi preview`."
            )
    return dict(config)


def _redact_object(obj: dict[str, Any], secret_paths: Sequence[str]) -> dict[str, Any]:
    out = copy.deepcopy(obj)  # never redact the recording itself
    if out.get("kind") == "Secret":
        for field in ("data", "stringData"):
            if isinstance(out.get(field), Mapping):
                out[field] = {k: REDACTED for k in out[field]}
    for path in secret_paths:
        parts = path.split(".")
        cur: Any = out
        for part in parts[:-1]:
            cur = cur.get(part) if isinstance(cur, dict) else None
        if isinstance(cur, dict) and parts[-1] in cur:
            value = cur[parts[-1]]
            cur[parts[-1]] = (
                {k: REDACTED for k in value} if isinstance(value, Mapping) else REDACTED
            )
    return out


def render_recording(rec: Recording, *, title: str) -> str:
    """Multi-document YAML of the recording's Kubernetes objects, Helm releases in the header."""
    lines = [
        f"# {title}",
        "# Rendered offline by grpc-kube under Pulumi mocks; secret data redacted.",
    ]
    releases = sorted(
        rec.of_type(HELM_RELEASE),
        key=lambda r: (r.inputs.get("namespace", ""), r.inputs.get("name", r.name)),
    )
    if releases:
        lines.append("# Helm releases (installed by `pulumi up`, objects not rendered here):")
        for r in releases:
            repo = (r.inputs.get("repositoryOpts") or {}).get("repo", "")
            lines.append(
                f"#   - release: {r.inputs.get('name', r.name)}  chart: {r.inputs.get('chart')}  "
                f"version: {r.inputs.get('version')}  repository: {repo or '(chart URL/OCI)'}  "
                f"namespace: {r.inputs.get('namespace')}"
            )
    manifests = sorted(
        str(r.inputs.get("file")) for r in rec.of_type("kubernetes:yaml/v2:ConfigFile")
    )
    if manifests:
        lines.append("# Manifests applied as they are (objects not rendered here):")
        lines += [f"#   - {m}" for m in manifests]
    others = sorted(
        {
            r.type
            for r in rec
            if r.custom
            and not r.is_kubernetes_object
            and r.type != HELM_RELEASE
            and r.type.startswith("kubernetes:")
        }
    )
    if others:
        lines.append(
            "# Other Kubernetes resources (not renderable as objects): " + ", ".join(others)
        )
    objects = [(r.inputs, r.secret_paths) for r in rec if r.is_kubernetes_object]
    objects.sort(
        key=lambda o: (
            o[0].get("kind", ""),
            o[0].get("metadata", {}).get("namespace", ""),
            o[0].get("metadata", {}).get("name", ""),
        )
    )
    docs = [
        yaml.safe_dump(_redact_object(obj, paths), sort_keys=True, default_flow_style=False)
        for obj, paths in objects
    ]
    return "\n".join(lines) + "\n---\n" + "---\n".join(docs)


def render_stack(stack: str, stacks_dir: Path) -> str:
    import pulumi

    from .stack import GrpcPlatform, read_config

    config = load_stack_config(stack, stacks_dir)
    rec = run_program(
        lambda: GrpcPlatform(PROJECT, read_config(pulumi.Config(PROJECT))),
        stack=stack,
        config=config,
    )
    return render_recording(
        rec, title=f"grpc-kube stack {stack!r}: {len(rec.kubernetes_objects())} objects"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m grpc_kube", description="grpc-kube offline tools"
    )
    sub = parser.add_subparsers(dest="command", required=True)
    r = sub.add_parser("render", help="print the Kubernetes objects a stack would create")
    r.add_argument("--stack", required=True, help="stack name: reads stacks/Pulumi.<stack>.yaml")
    r.add_argument("--stacks-dir", type=Path, default=None, help="default: ./stacks or the repo's")
    r.add_argument("--output", "-o", type=Path, default=None, help="write to a file, not stdout")
    args = parser.parse_args(argv)
    stacks_dir = args.stacks_dir or _default_stacks_dir()
    try:
        text = render_stack(args.stack, stacks_dir)
    except (RenderError, InvalidArgumentError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.output:
        args.output.write_text(text)
        print(f"wrote {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


def _default_stacks_dir() -> Path:
    here = Path.cwd() / "stacks"
    if here.is_dir():
        return here
    return Path(__file__).resolve().parent.parent / "stacks"
