"""NginxGatewayFabric: installs NGINX Gateway Fabric, a maintained Gateway API implementation
that passes the GRPCRoute conformance tests, as the successor of the retired ingress-nginx.

Why NGINX Gateway Fabric rather than Envoy Gateway: version alignment. NGF 2.6.7 is built
against Gateway API v1.5.1, the newest version Linkerd 2.20 documents, so one set of standard
CRDs serves both the gateway and the mesh. Envoy Gateway v1.9.0 expects v1.6.1. NGF also keeps
the NGINX data plane users of ingress-nginx already know.

The chart needs the Gateway API standard CRDs first (GatewayApiCrds, shared with Linkerd). Each
Gateway then gets its own NGINX data plane Deployment and Service in the Gateway's namespace,
created by the NGF control plane (see GrpcGateway).

`install` picks where the chart comes from (upstream, a mirror, a local copy), or, with
`install.existing`, an NGINX Gateway Fabric the cluster already runs: nothing is installed, and
the component describes it (`gateway_class_name`, `namespace`) for GrpcGateway.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

import pulumi
import pulumi_kubernetes as k8s
import pydantic

from ._helm import (
    InstallArgs,
    UpstreamChart,
    check_local_charts,
    deep_merge,
    ignored_when_existing,
    local_chart_warnings,
    plain_release_name,
    release_chart_args,
)
from ._inputs import gate, lift
from ._namespaces import namespace_metadata
from ._ordering import Component
from ._validation import (
    ArgsModel,
    check_dns_label,
    field_validator,
    validate_model,
)
from .gateway_api_crds import GatewayApiCrds
from .peers import PeerRef
from .zero_trust_policy import EdgePeer, EdgeWorkload


def chart_fullname(release_name: str) -> str:
    """The chart's `nginx-gateway.fullname` (templates/_helpers.tpl, no name overrides): the
    control plane's Deployment, Service and ServiceAccount name."""
    name = release_name if _CHART_NAME in release_name else f"{release_name}-{_CHART_NAME}"
    return name[:63].rstrip("-")


def control_plane_labels(release_name: str) -> dict[str, str]:
    """The control plane pods' selector labels (`nginx-gateway.selectorLabels`)."""
    return {"app.kubernetes.io/name": _CHART_NAME, "app.kubernetes.io/instance": release_name}


__all__ = [
    "AGENT_PORT",
    "DATA_PLANE_METRICS_PORT",
    "NGF_CHART",
    "NGF_CHART_VERSION",
    "NginxGatewayFabric",
    "NginxGatewayFabricArgs",
]

NGF_CHART = "oci://ghcr.io/nginx/charts/nginx-gateway-fabric"
NGF_CHART_VERSION = "2.6.7"
NGF_GATEWAY_API_VERSION = "v1.5.1"
UPSTREAM = UpstreamChart(name="nginx-gateway-fabric", version=NGF_CHART_VERSION, oci=NGF_CHART)
# The fields that describe an NGF, installed here or already running (`install.existing`):
# the release name gives the control plane's pod labels and names.
FACTS = ("namespace", "release_name", "gateway_class_name")
# Ports as NGF 2.6.7 defines them. The control plane serves the agent's gRPC on container port
# 8443 (templates/deployment.yaml `agent-grpc`); every data plane's nginx-agent dials the
# control plane Service `<fullname>.<namespace>.svc:443`, whose target is that port
# (templates/service.yaml; the agent's config template in internal/controller/provisioner). The
# data plane connects, the control plane never dials the data plane. Both serve Prometheus
# metrics on 9113, on by default (values.yaml `nginxGateway.metrics`, and
# `config.DefaultNginxMetricsPort` for the data plane).
AGENT_PORT = 8443
CONTROL_PLANE_METRICS_PORT = 9113
DATA_PLANE_METRICS_PORT = 9113
_CHART_NAME = "nginx-gateway-fabric"
# Chart values the component derives from its fields (value path -> field).
_OWNED_VALUES = {
    "nginxGateway.gatewayClassName": "gateway_class_name",
    "nginxGateway.replicas": "high_availability",
    "nginx.replicas": "high_availability",
    "nginx.service.type": "service_type",
    "nginxGateway.productTelemetry.enable": "telemetry",
}
_MISSING = object()


class NginxGatewayFabricArgs(ArgsModel):
    """Arguments of NginxGatewayFabric."""

    install: InstallArgs = InstallArgs()
    """Where chart 2.6.7 comes from (default: upstream's OCI registry; `repository` is then a
    Helm repository serving `nginx-gateway-fabric`), or `existing: true` for an NGINX Gateway
    Fabric the cluster already runs: nothing is installed, `gateway_class_name`, `namespace`
    and `release_name` (its pods' labels) must describe it, and the other fields are
    ignored."""
    namespace: pulumi.Input[str] = "nginx-gateway"
    """Namespace of the control plane (default `nginx-gateway`, upstream's)."""
    release_name: pulumi.Input[str] = "ngf"
    """Helm release name (default `ngf`)."""
    gateway_class_name: pulumi.Input[str] = "nginx"
    """GatewayClass the chart creates and Gateways name (default `nginx`, upstream's). With
    `install.existing`: the GatewayClass the existing NGF serves."""
    high_availability: pulumi.Input[bool] = False
    """Two control-plane replicas with leader election and two NGINX data-plane replicas per
    Gateway (default False: one of each)."""
    service_type: pulumi.Input[Literal["LoadBalancer", "NodePort", "ClusterIP"]] = "LoadBalancer"
    """Service type of each Gateway's data plane (default LoadBalancer)."""
    telemetry: pulumi.Input[bool] = False
    """NGF product telemetry (default False: nothing leaves the cluster unless you opt in)."""
    extra_values: pulumi.Input[dict[str, Any]] = {}
    """Further chart values, merged over the component's. Helm ignores unknown keys, and they
    are not checked here: take them from the chart 2.6.7 `values.yaml`.
    Values the fields above set are refused here: GrpcGateway derives the data plane's
    ServiceAccount (its Linkerd identity) from `gateway_class_name`."""

    @field_validator("namespace")
    @classmethod
    def _ns(cls, v: str) -> str:
        return check_dns_label(v, what="namespace", must_start_with_letter=False)

    @field_validator("release_name")
    @classmethod
    def _release(cls, v: str) -> str:
        if len(v) > 53:
            raise ValueError("Helm release names are at most 53 characters. Fix: shorten it.")
        return check_dns_label(v, what="Helm release name")

    @field_validator("gateway_class_name")
    @classmethod
    def _class(cls, v: str) -> str:
        # NGF names each data plane `<gateway>-<class>` (Service, Deployment, ServiceAccount),
        # so the class name must fit in a DNS label too.
        return check_dns_label(v, what="GatewayClass name")

    @field_validator("extra_values")
    @classmethod
    def _extra(cls, v: dict[str, Any]) -> dict[str, Any]:
        for path, field in _OWNED_VALUES.items():
            cur: Any = v
            for part in path.split("."):
                cur = cur.get(part, _MISSING) if isinstance(cur, dict) else _MISSING
            if cur is not _MISSING:
                raise ValueError(
                    f"chart value {path!r} is set by NginxGatewayFabric. Fix: remove it from "
                    f"extra_values and set {field} instead."
                )
        return v

    # Plain fields only, so it runs at once even when other fields hold Outputs.
    @pydantic.model_validator(mode="after")
    def _local_chart(self) -> NginxGatewayFabricArgs:
        check_local_charts(self.install, (UPSTREAM,))
        return self


class NginxGatewayFabric(Component):
    """The NGINX Gateway Fabric control plane and its GatewayClass; or, with
    `install.existing`, the description of one the cluster already runs."""

    args: NginxGatewayFabricArgs
    """The arguments, Outputs among them passed on only once they are checked."""
    existing: bool
    """True when NGF was already installed (`install.existing`): nothing was installed here."""
    namespace: pulumi.Output[str]
    """The control plane's namespace."""
    gateway_class_name: pulumi.Output[str]
    """The GatewayClass Gateways name (GrpcGateway reads it from `args`, plain when given
    plain, to name the data plane)."""
    gateway_api_crds: GatewayApiCrds
    """The Gateway API CRDs the Gateways are stored in."""
    values: Any
    """The chart values sent (None with `install.existing`)."""
    release: k8s.helm.v3.Release | None
    """The Helm release (None with `install.existing`)."""
    namespace_resource: k8s.core.v1.Namespace | None
    """The Namespace this component creates (None with `install.existing`): what the
    namespace's policies wait for."""

    def __init__(
        self,
        name: str,
        args: NginxGatewayFabricArgs | Mapping[str, Any] | None = None,
        *,
        gateway_api_crds: GatewayApiCrds,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        where = f"NginxGatewayFabric {name!r}"
        args = validate_model(NginxGatewayFabricArgs, {} if args is None else args, where=where)
        if not isinstance(gateway_api_crds, GatewayApiCrds):
            raise TypeError(
                f"NginxGatewayFabric {name!r}: gateway_api_crds must be a GatewayApiCrds "
                f"(install the CRDs once and share them with Linkerd), got "
                f"{type(gateway_api_crds).__name__}."
            )
        super().__init__("NginxGatewayFabric", name, opts)
        self._where = where
        self.existing = args.install.existing
        self.gateway_api_crds = gateway_api_crds
        # An existing NGF's version is not known here, so there is nothing to compare.
        if not self.existing and gateway_api_crds.version != NGF_GATEWAY_API_VERSION:
            pulumi.log.warn(
                f"NGINX Gateway Fabric {NGF_CHART_VERSION} is built against Gateway API "
                f"{NGF_GATEWAY_API_VERSION}, but the CRDs installed are "
                f"{gateway_api_crds.version}; fields newer than {NGF_GATEWAY_API_VERSION} are "
                "ignored.",
                resource=self,
            )
        # Values that arrived as Outputs reach the children only once they pass the same checks.
        args = gate(args, where=where)
        self.args = args
        self.namespace = pulumi.Output.from_input(args.namespace)
        self.gateway_class_name = pulumi.Output.from_input(args.gateway_class_name)
        outputs = {"namespace": self.namespace, "gateway_class_name": self.gateway_class_name}

        if self.existing:
            self.values = None
            self.release = None
            self.namespace_resource = None
            ignored = ignored_when_existing(args, FACTS, where=where)
            if ignored:
                pulumi.log.warn(ignored, resource=self)
            self.register_outputs(outputs)
            return

        for warning in local_chart_warnings(args.install, (UPSTREAM,), where=where):
            pulumi.log.warn(warning, resource=self)
        ns = k8s.core.v1.Namespace(
            f"{name}-namespace",
            # The chart's control plane and cert-generator Job meet `restricted` (checked in the
            # v2.6.7 templates).
            metadata=namespace_metadata(args.namespace, enforce="restricted"),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.namespace_resource = ns
        replicas = lift(lambda ha: 2 if ha else 1, args.high_availability)
        values: dict[str, Any] = {
            "nginxGateway": {
                "gatewayClassName": args.gateway_class_name,
                "replicas": replicas,
                "leaderElection": {"enable": True},
                "productTelemetry": {"enable": args.telemetry},
            },
            "nginx": {
                "replicas": replicas,
                "service": {"type": args.service_type},
            },
        }
        # Merged once the extra values are known (Helm-style: maps recursively).
        self.values = lift(deep_merge, values, args.extra_values)
        self.release = k8s.helm.v3.Release(
            f"{name}-release",
            name=args.release_name,
            **release_chart_args(args.install, UPSTREAM),
            namespace=args.namespace,
            values=self.values,
            # The chart's crds/ holds NGF's own CRDs (NginxProxy, policies); the Gateway API
            # CRDs come from GatewayApiCrds (pinned, shared with Linkerd). Helm installs crds/ on
            # first install only: upgrading NGF's CRDs is a manual step (see README).
            atomic=True,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[ns, gateway_api_crds]),
        )
        self.register_outputs(outputs)

    def _plain_release(self) -> str:
        return plain_release_name(self.args.release_name, where=self._where, pods="control plane's")

    @property
    def control_plane_peer(self) -> PeerRef:
        """The control plane pods (chart defaults), serving the agent on `AGENT_PORT`."""
        return PeerRef(
            namespace=self.args.namespace,
            pod_labels=lift(control_plane_labels, self.args.release_name),
            ports=(AGENT_PORT,),
        )

    def edge_workloads(self, data_planes: Sequence[PeerRef] = ()) -> tuple[EdgeWorkload, ...]:
        """The pods the chart runs in `namespace`, as ZeroTrustPolicy isolates them (pass them
        as ZeroTrustPolicyArgs `edge`):

        - `<fullname>` (the control plane): watches the Kubernetes API, serves the agent's gRPC
          (8443) to the `data_planes` given (each Gateway's NGINX pods: `GrpcGateway.peer`),
          and Prometheus metrics (9113) to `metrics_from_namespaces`;
        - `<fullname>-cert-generator`: the chart's Job (Helm hook) that writes the agent TLS
          Secrets through the Kubernetes API; its pods carry only the Job's own
          `batch.kubernetes.io/job-name` label.

        The chart derives labels and names from `release_name`, so it must be plain here."""
        fullname = chart_fullname(self._plain_release())
        job = f"{fullname}-cert-generator"
        return (
            EdgeWorkload(
                name=fullname,
                pod_labels=control_plane_labels(self._plain_release()),
                kubernetes_api=True,
                metrics_ports=(CONTROL_PLANE_METRICS_PORT,),
                allow_from=tuple(
                    EdgePeer(namespace=d.namespace, pod_labels=d.pod_labels, ports=(AGENT_PORT,))
                    for d in data_planes
                ),
            ),
            EdgeWorkload(
                name=job,
                pod_labels={"batch.kubernetes.io/job-name": job},
                kubernetes_api=True,
            ),
        )
