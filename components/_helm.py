"""Helpers shared by the components that install Helm charts: where a chart comes from
(`InstallArgs`: the pinned upstream chart, a mirror, a local copy, or nothing at all because the
cluster already runs it) and the chart values merge.

Every installer (NginxIngressController, NginxGatewayFabric, LinkerdControlPlane) takes an
`install: InstallArgs` and turns it into the `k8s.helm.v3.Release` arguments with
`release_chart_args`, so a mirror or a local chart means the same thing everywhere.
"""

from __future__ import annotations

import os
import tarfile
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi_kubernetes as k8s
import pydantic
import yaml

from ._inputs import is_output
from ._validation import ArgsModel, FieldError, InvalidArgumentError, field_validator

__all__ = [
    "InstallArgs",
    "UpstreamChart",
    "check_local_charts",
    "deep_merge",
    "ignored_when_existing",
    "local_chart_warnings",
    "release_chart_args",
]


def deep_merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """`extra` merged over `base` as Helm merges values files: maps recursively, anything else
    (lists included) replaced. Neither input is modified."""
    out = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = value
    return out


@dataclass(frozen=True)
class UpstreamChart:
    """A chart as a component pins it upstream."""

    name: str
    """The chart's name (`Chart.yaml` `name`), e.g. `ingress-nginx`."""
    version: str
    """The pinned chart version; the component's values are checked against it."""
    repository: str | None = None
    """The upstream Helm repository URL (None when the chart is published as `oci`)."""
    oci: str | None = None
    """The upstream OCI reference of the chart, when it is published to a registry."""


OCI = "oci://"


class InstallArgs(ArgsModel):
    """Where an installer's Helm chart comes from, or that the cluster already runs it.

    Default: the pinned chart from its upstream repository. Behind a firewall (no chart
    repository reachable) point `chart` at a local copy or an OCI mirror, or `repository` at a
    Helm repository that mirrors upstream. With `existing` nothing is installed.

    Plain values: they decide which resources exist, and a local chart is looked for when the
    program runs.
    """

    existing: bool = False
    """Already installed (e.g. by a platform team): install nothing (no namespace, no Helm
    release, no certificates), only describe it so routes and policies can refer to it. The
    component's other fields then describe the installation (its namespace, release name,
    class...), and must match it; fields that only configure an installation are ignored, with
    a warning. Default False."""
    chart: str | None = None
    """Install from this chart instead of the upstream one (default: the pinned upstream
    chart). Either a local path: a chart directory, a packaged chart (`.tgz`, as `helm pull`
    writes it), or a directory holding the charts by name (`<name>/` or
    `<name>-<version>.tgz`, as `helm pull [--untar]` leaves them); or an `oci://` reference of
    a registry mirror (the pinned version is pulled from it). A local chart carries its own
    version: it is installed as it is, with a warning when that differs from the pinned one. A
    relative path is read from the directory `pulumi` runs in (the project directory)."""
    repository: str | None = None
    """A Helm repository URL (`https://...`) that mirrors the upstream one: the pinned chart
    and version are pulled from it (default: the upstream repository). Not with `chart`."""

    @field_validator("chart")
    @classmethod
    def _chart(cls, v: str | None) -> str | None:
        if v is None:
            return v
        if not v.strip() or v != v.strip():
            raise ValueError(
                "the chart location is empty or has surrounding spaces. Fix: give a local path "
                "such as './charts/ingress-nginx-4.15.1.tgz' or an 'oci://' reference, or leave "
                "chart unset for the upstream chart."
            )
        if v.startswith(OCI):
            if not v[len(OCI) :].strip("/") or "/" not in v[len(OCI) :].strip("/"):
                raise ValueError(
                    "an OCI reference needs a registry and a path. Fix: write e.g. "
                    "'oci://registry.example.com/charts/ingress-nginx'."
                )
            return v
        if v.startswith(("http://", "https://")):
            raise ValueError(
                "chart takes a local path or an 'oci://' reference, not an HTTP(S) URL. Fix: "
                "for a Helm repository that mirrors upstream, leave chart unset and set "
                "repository to its URL (where its index.yaml is); for a packaged chart, "
                "download it and give its local path."
            )
        if "://" in v:
            raise ValueError(
                "only local paths and 'oci://' references are supported. Fix: copy the chart "
                "to a local path, or push it to an OCI registry."
            )
        if not os.path.exists(v):
            raise ValueError(
                f"there is no file or directory at {v!r} (looked for from {os.getcwd()!r}). "
                "Fix: give the path of the chart directory, of the packaged chart (.tgz), or of "
                "the directory holding them, relative to the project directory or absolute."
            )
        return v

    @field_validator("repository")
    @classmethod
    def _repository(cls, v: str | None) -> str | None:
        if v is None:
            return v
        if v.startswith(OCI):
            raise ValueError(
                "Helm repositories are HTTP(S); an OCI registry holds the chart itself. Fix: "
                f"remove repository and set chart: '{v.rstrip('/')}/<chart name>'."
            )
        scheme, _, rest = v.partition("://")
        if scheme not in ("http", "https") or not rest.strip("/") or v != v.strip():
            raise ValueError(
                "a Helm repository is an http:// or https:// URL. Fix: write e.g. "
                "'https://charts.example.com/ingress-nginx'."
            )
        return v

    # Plain fields only, so it runs at once.
    @pydantic.model_validator(mode="after")
    def _combinations(self) -> InstallArgs:
        if self.existing:
            for field in ("chart", "repository"):
                value = getattr(self, field)
                if value is not None:
                    raise FieldError(
                        field,
                        value,
                        f"existing is true, so nothing is installed and {field} is never used. "
                        f"Fix: remove {field}, or set existing: false to install.",
                    )
        if self.chart is not None and self.repository is not None:
            kind = (
                "an oci:// reference names its registry"
                if _is_oci(self.chart)
                else ("a local chart is read from disk")
            )
            raise FieldError(
                "repository",
                self.repository,
                f"chart is set and {kind}, so repository would not be used. Fix: remove "
                "repository, or remove chart to pull the pinned chart from the repository.",
            )
        return self


def _is_oci(chart: str) -> bool:
    return chart.startswith(OCI)


def _chart_metadata(path: str) -> dict[str, Any] | None:
    """`Chart.yaml` of the chart directory or packaged chart at `path`, or None if it is not
    one."""
    try:
        if os.path.isdir(path):
            chart_yaml = os.path.join(path, "Chart.yaml")
            if not os.path.isfile(chart_yaml):
                return None
            with open(chart_yaml, encoding="utf-8") as f:
                data = yaml.safe_load(f)
        else:
            with tarfile.open(path, "r:*") as tar:
                # A packaged chart is `<name>/Chart.yaml` plus the rest; Chart.yaml comes first
                # in what `helm package` writes, so this stops early.
                for member in tar:
                    parts = member.name.strip("/").split("/")
                    if len(parts) == 2 and parts[1] == "Chart.yaml" and member.isfile():
                        packed = tar.extractfile(member)
                        data = yaml.safe_load(packed.read()) if packed is not None else None
                        break
                else:
                    return None
    except (OSError, tarfile.TarError, yaml.YAMLError, UnicodeDecodeError):
        return None
    return data if isinstance(data, dict) else None


def _local_chart(path: str, upstream: UpstreamChart, *, bundled: bool) -> str:
    """The local chart of `upstream` at `path`: `path` itself (a chart directory or packaged
    chart; not when `bundled`, the path then holds several charts), or `<path>/<name>` or
    `<path>/<name>-<version>.tgz`. Raises ValueError saying what was looked for."""
    several = "this component installs several charts from one location"
    if not os.path.isdir(path):
        if bundled:
            raise ValueError(
                f"{path!r} is a file, but {several}. Fix: give the directory that holds them, "
                "each as <name>/ or <name>-<version>.tgz."
            )
        meta = _chart_metadata(path)
        if meta is None:
            raise ValueError(
                f"{path!r} is not a packaged Helm chart (a .tgz holding <name>/Chart.yaml). "
                "Fix: give the file `helm pull` wrote, or the chart directory."
            )
        return _same_chart(path, meta, upstream)
    if os.path.isfile(os.path.join(path, "Chart.yaml")):
        if bundled:
            raise ValueError(
                f"{path!r} is a single chart, but {several}. Fix: give the directory that holds "
                "them, each as <name>/ or <name>-<version>.tgz."
            )
        meta = _chart_metadata(path)
        if meta is None:
            raise ValueError(
                f"{os.path.join(path, 'Chart.yaml')!r} is not a readable Chart.yaml. Fix: "
                "point chart at an intact copy of the chart."
            )
        return _same_chart(path, meta, upstream)
    candidates = [
        os.path.join(path, upstream.name),
        os.path.join(path, f"{upstream.name}-{upstream.version}.tgz"),
    ]
    for candidate in candidates:
        if os.path.exists(candidate):
            meta = _chart_metadata(candidate)
            if meta is None:
                raise ValueError(
                    f"{candidate!r} is not a Helm chart (no readable Chart.yaml). Fix: "
                    f"replace it, e.g. with `helm pull` of {upstream.name} {upstream.version}."
                )
            return _same_chart(candidate, meta, upstream)
    raise ValueError(
        f"{path!r} holds no chart {upstream.name!r}: looked for {candidates[0]!r} (a chart "
        f"directory) and {candidates[1]!r} (a packaged chart). Fix: put the chart there, e.g. "
        f"`helm pull <repo>/{upstream.name} --version {upstream.version} -d {path}`."
    )


def _same_chart(path: str, meta: dict[str, Any], upstream: UpstreamChart) -> str:
    name = meta.get("name")
    if name != upstream.name:
        raise ValueError(
            f"the chart at {path!r} is {name!r}, not {upstream.name!r}. Fix: point chart at a "
            f"copy of {upstream.name} {upstream.version}."
        )
    return path


def check_local_charts(
    install: InstallArgs, charts: Sequence[UpstreamChart], *, field: str = "install"
) -> None:
    """Raise FieldError (blaming `<field>.chart`) when a local `install.chart` does not hold
    each of `charts` (several charts: a directory holding them by name). For the args models'
    validators, so a bad path fails before anything registers."""
    chart = install.chart
    if install.existing or chart is None or _is_oci(chart):
        return
    for upstream in charts:
        try:
            _local_chart(chart, upstream, bundled=len(charts) > 1)
        except ValueError as exc:
            raise FieldError(f"{field}.chart", chart, str(exc)) from None


def release_chart_args(
    install: InstallArgs, upstream: UpstreamChart, *, bundled: bool = False
) -> dict[str, Any]:
    """The `chart`, `version` and `repository_opts` arguments of the `k8s.helm.v3.Release`
    that installs `upstream` as `install` says. `bundled`: the component installs several
    charts from one `install`; a local `chart` is then the directory holding them, and an
    `oci://` chart the registry path under which each is pushed (`<chart>/<name>`)."""
    if install.existing:
        raise ValueError("nothing is installed for an existing installation")
    chart = install.chart
    if chart is None:
        if install.repository is not None:
            # A mirror of the upstream repository serves the same chart and version.
            return {
                "chart": upstream.name,
                "version": upstream.version,
                "repository_opts": k8s.helm.v3.RepositoryOptsArgs(repo=install.repository),
            }
        if upstream.oci is not None:
            return {"chart": upstream.oci, "version": upstream.version}
        return {
            "chart": upstream.name,
            "version": upstream.version,
            "repository_opts": k8s.helm.v3.RepositoryOptsArgs(repo=upstream.repository),
        }
    if _is_oci(chart):
        # A registry mirror holds the pinned version under the given reference, as
        # `helm push <name>-<version>.tgz <registry path>` places it.
        ref = f"{chart.rstrip('/')}/{upstream.name}" if bundled else chart
        return {"chart": ref, "version": upstream.version}
    # A local chart (directory or .tgz) carries its own version in Chart.yaml and Helm
    # installs exactly that one: a `version` here is not what is installed, and would only make
    # the release's recorded inputs disagree with the chart it holds. So none is passed; a
    # version that differs from the pinned one is reported by `local_chart_warnings`.
    return {"chart": _local_chart(chart, upstream, bundled=bundled)}


def local_chart_warnings(
    install: InstallArgs, charts: Sequence[UpstreamChart], *, where: str
) -> list[str]:
    """A warning for each local chart whose version is not the pinned one: the component's
    values were checked against the pinned chart only."""
    chart = install.chart
    if install.existing or chart is None or _is_oci(chart):
        return []
    out: list[str] = []
    for upstream in charts:
        path = _local_chart(chart, upstream, bundled=len(charts) > 1)
        meta = _chart_metadata(path) or {}
        version = str(meta.get("version", ""))
        if version != upstream.version:
            out.append(
                f"{where}: the local chart {path!r} is {upstream.name} {version or '(no version)'}"
                f", but the values set here are checked against {upstream.version}; keys the "
                "chart does not know are ignored by Helm."
            )
    return out


def ignored_when_existing(args: pydantic.BaseModel, facts: Sequence[str], *, where: str) -> str:
    """The warning for an existing installation given fields that only configure an install
    (every field set explicitly but `install` and `facts`), or '' when there are none."""
    ignored = sorted(set(args.model_fields_set) - {"install", *facts})
    if not ignored:
        return ""
    one = len(ignored) == 1
    return (
        f"{where}: install.existing is set, so nothing is installed and {', '.join(ignored)} "
        f"{'is' if one else 'are'} ignored: {'it configures' if one else 'they configure'} an "
        f"installation. The existing one is described by {', '.join(facts)}."
    )


def plain_release_name(release: Any, *, where: str, pods: str) -> str:
    """A Helm release name that must be known when the program runs: the chart derives the
    labels and names of `pods` from it, and edge policies are named and merged by them."""
    if is_output(release):
        raise InvalidArgumentError(
            where,
            [
                f"release_name: an Output; the chart derives the {pods} pod labels and names "
                "from it, and edge policies are named and merged by them. Fix: give "
                "release_name as a plain string."
            ],
        )
    return str(release)
