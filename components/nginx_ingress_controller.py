"""NginxIngressController: the ingress-nginx controller (chart 4.15.1), installed with the
settings gRPC needs, in a namespace of its own.

A ClusterIP Service balances per TCP connection, so a gRPC channel lands on one pod. nginx parses
HTTP/2 and picks an upstream pod for every request (every gRPC call), which is the founding
document's first fix. The chart is installed with `helm.v3.Release` because its admission
webhook certificate is made by Helm hook Jobs, which `helm.v4.Chart` skips.

ingress-nginx is retired upstream (best-effort maintenance ended in March 2026, 4.15.1 is the
final chart); the component says so at every deployment and points to the Gateway API path.

`install` picks where the chart comes from (upstream, a mirror, a local copy), or, with
`install.existing`, a controller the cluster already runs: nothing is installed, and the
component describes that controller from its arguments (namespace, release name, IngressClass,
mesh), so GrpcIngress and the policies come out as if it had installed it.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any, Literal

import pulumi
import pulumi_kubernetes as k8s
import pydantic

from ._helm import (
    InstallArgs,
    UpstreamChart,
    check_local_charts,
    ignored_when_existing,
    local_chart_warnings,
    plain_release_name,
    release_chart_args,
)
from ._inputs import fmt, gate, is_output, lift
from ._namespaces import (
    PodSecurityLevel,
    admits_linkerd_init,
    namespace_metadata,
    pod_security_level,
)
from ._ordering import Component
from ._validation import (
    ArgsModel,
    check_annotation_keys,
    check_dns_label,
    check_dns_subdomain,
    check_label_map,
    check_range,
    field_validator,
    model_validator,
    validate_model,
)
from .grpc_service import MESH_INJECT_ANNOTATION
from .peers import PeerRef
from .zero_trust_policy import EdgeWorkload

__all__ = [
    "ADMISSION_WEBHOOK_PORT",
    "CHART",
    "CHART_REPO",
    "CHART_VERSION",
    "CONTROLLER_CONTAINER_PORTS",
    "RETIREMENT_WARNING",
    "IngressControllerRef",
    "NginxIngressController",
    "NginxIngressControllerArgs",
]

CHART = "ingress-nginx"
CHART_VERSION = "4.15.1"
CHART_REPO = "https://kubernetes.github.io/ingress-nginx"
UPSTREAM = UpstreamChart(name=CHART, version=CHART_VERSION, repository=CHART_REPO)

# The fields that describe a controller, installed here or already running (`install.existing`):
# what the component reports (ref, peer, names) is computed from these alone.
FACTS = ("namespace", "release_name", "ingress_class", "mesh", "client_body_timeout_seconds")

RETIREMENT_WARNING = (
    "ingress-nginx was retired upstream in March 2026: chart 4.15.1 (controller v1.15.1) is the "
    "final release and gets no further security fixes. It keeps working, but plan a move to the "
    "Gateway API path (a GRPCRoute on a conformant Gateway such as NGINX Gateway Fabric or Envoy "
    "Gateway; see grpc-kube's GrpcGateway and GrpcRoute)."
)

LoadBalance = Literal["round_robin", "ewma"]
ServiceType = Literal["LoadBalancer", "NodePort", "ClusterIP"]

# The controller's container ports as chart 4.15.1 defines them (values.yaml
# `controller.containerPort: {http: 80, https: 443}`, `controller.admissionWebhooks.port: 8443`,
# rendered by templates/controller-deployment.yaml); this component does not change them. The
# API server calls the webhook (failurePolicy Fail) through the `-admission` Service, whose
# target is 8443. Metrics (10254) stay off, the chart's default.
CONTROLLER_CONTAINER_PORTS = {"http": 80, "https": 443}
ADMISSION_WEBHOOK_PORT = 8443

# ConfigMap keys this component sets from its own options (see _config); `config` may not.
_OWNED_CONFIG = {
    "use-http2": "remove it: gRPC runs on HTTP/2, so it is always on",
    "load-balance": "set load_balance instead",
    "client-body-timeout": "set client_body_timeout_seconds instead",
    "worker-shutdown-timeout": "set worker_shutdown_timeout_seconds instead",
    "allow-snippet-annotations": "remove it: grpc-kube keeps snippets off (risk Critical)",
}


def _chart_fullname(release_name: str) -> str:
    """The chart's `ingress-nginx.fullname` helper (templates/_helpers.tpl, no overrides): the
    release name when it already contains the chart name, else `<release>-ingress-nginx`."""
    name = release_name if CHART in release_name else f"{release_name}-{CHART}"
    return name[:63].rstrip("-")


def _default_controller_value(ingress_class: str) -> str:
    # The chart's default controller value for the `nginx` class; other classes get their own,
    # so two controllers in one cluster never reconcile each other's Ingresses.
    if ingress_class == "nginx":
        return "k8s.io/ingress-nginx"
    return f"k8s.io/ingress-nginx-{ingress_class}"


def _admission_job_labels(release_name: str) -> dict[str, str]:
    # templates/admission-webhooks/job-patch/job-*.yaml, chart 4.15.1: the create and patch
    # Jobs' pods carry the selector labels with component `admission-webhook`.
    return {
        "app.kubernetes.io/name": CHART,
        "app.kubernetes.io/instance": release_name,
        "app.kubernetes.io/component": "admission-webhook",
    }


def _selector_labels(release_name: str) -> dict[str, str]:
    # templates/_helpers.tpl `ingress-nginx.selectorLabels` + the controller's component label
    # (controller-deployment.yaml spec.selector.matchLabels), chart 4.15.1.
    return {
        "app.kubernetes.io/name": CHART,
        "app.kubernetes.io/instance": release_name,
        "app.kubernetes.io/component": "controller",
    }


class NginxIngressControllerArgs(ArgsModel):
    """Arguments of NginxIngressController. Every field has a default."""

    install: InstallArgs = InstallArgs()
    """Where chart 4.15.1 comes from (default: the upstream repository), or `existing: true`
    for a controller the cluster already runs: then nothing is installed, and `namespace`,
    `release_name`, `ingress_class`, `mesh` and `client_body_timeout_seconds` must describe
    that controller (they give its pods' labels and ServiceAccount as the chart names them);
    the other fields are ignored. A controller installed otherwise than with this chart:
    give GrpcIngress an IngressControllerRef instead."""
    namespace: pulumi.Input[str] = "ingress-nginx"
    """Namespace the component creates for the controller (default `ingress-nginx`, the
    upstream convention). It must not exist yet: the component owns it. With
    `install.existing`: the namespace the controller runs in."""
    release_name: pulumi.Input[str] = "ingress-nginx"
    """Helm release name (default `ingress-nginx`). The chart derives object names from it:
    with the default, the controller Service is `ingress-nginx-controller`. With
    `install.existing`: the release name the controller was installed with."""
    ingress_class: pulumi.Input[str] = "nginx"
    """Name of the IngressClass the chart creates and Ingresses select with `ingressClassName`
    (default `nginx`, the chart's own). Two controllers in one cluster need two
    classes: IngressClasses are cluster-wide."""
    controller_value: pulumi.Input[str] | None = None
    """The IngressClass's `spec.controller`, which the controller watches (default
    `k8s.io/ingress-nginx` for the class `nginx`, `k8s.io/ingress-nginx-<class>` otherwise)."""
    default_class: pulumi.Input[bool] = False
    """Make this the cluster's default IngressClass (default False: Ingresses must name it)."""
    replicas: pulumi.Input[int] = 2
    """Controller pods, 1 to 100 (default 2: with one, every upgrade or node drain cuts all
    streams; from 2 the chart adds a PodDisruptionBudget with minAvailable 1)."""
    topology_spread: bool = True
    """Spread controller pods across nodes (`kubernetes.io/hostname`, maxSkew 1,
    ScheduleAnyway), default True, so one node loss does not take every replica. Plain: it
    decides whether the chart value exists at all."""
    mesh: bool = False
    """Mesh the controller pods with Linkerd (default False): `linkerd.io/inject: enabled` goes
    into `controller.podAnnotations` only, not on the namespace, so the chart's admission
    Jobs stay unmeshed (by default a meshed Job's proxy keeps running after its container
    exits, so the Job never completes). GrpcIngresses (GRPC, ClusterIP backends) on a meshed
    controller get `service-upstream: "true"`, so Linkerd balances every call. Plain: it
    decides the pod annotations, the namespace's Pod Security level and what each GrpcIngress
    writes, all before the program's resources are known. With `install.existing`: whether
    the existing controller's pods run a Linkerd proxy."""
    linkerd_cni: bool = False
    """Whether the Linkerd CNI plugin is installed (default False). It only matters with
    `mesh`: without it Linkerd adds a `linkerd-init` container that needs NET_ADMIN and
    NET_RAW, which decides the namespace's default Pod Security level. Plain, like `mesh`."""
    load_balance: pulumi.Input[LoadBalance] = "round_robin"
    """nginx's per-request algorithm across pods (default `round_robin`, the chart default and
    what the data-plane test measures: every backend an equal share). `ewma` favours pods
    with lower latency."""
    client_body_timeout_seconds: pulumi.Input[int] = 3600
    """ConfigMap `client-body-timeout`: how long nginx waits between two reads of a request
    body (default 3600; nginx's 60 cuts a client or bidi stream whose client is silent for a
    minute, measured with nginx 1.22). It exists only controller-wide: an Ingress annotation
    cannot raise it, so GrpcIngress warns when its stream timeout is longer."""
    worker_shutdown_timeout_seconds: pulumi.Input[int] = 240
    """ConfigMap `worker-shutdown-timeout` (default 240, upstream's): on every nginx reload
    (configuration changes, not endpoint changes) old workers keep serving open streams this
    long, then close them. The pod's termination grace period is kept 60 s above it."""
    service_type: pulumi.Input[ServiceType] = "LoadBalancer"
    """Type of the controller's Service (default LoadBalancer, the chart default: one external
    address for all gRPC hosts)."""
    service_annotations: pulumi.Input[dict[str, pulumi.Input[str]]] = {}
    """Annotations for the controller's Service, e.g. a cloud load balancer's settings
    (default none)."""
    load_balancer_source_ranges: pulumi.Input[list[pulumi.Input[str]]] = []
    """CIDRs allowed to reach the LoadBalancer (default: any source)."""
    pod_security: PodSecurityLevel | None = None
    """Pod Security Standard enforced on the namespace. Default: `restricted` (the controller
    and admission Jobs comply), except `privileged` with `mesh` and no `linkerd_cni`: the
    `linkerd-init` container needs NET_ADMIN and NET_RAW, which even `baseline` forbids.
    `audit` and `warn` are always `restricted`, so a weaker level stays visible. Plain: it is
    checked against `mesh` and `linkerd_cni` before anything registers."""
    config: pulumi.Input[dict[str, pulumi.Input[str]]] = {}
    """Extra keys for the controller ConfigMap (default none), e.g. `{"http2-max-concurrent-
    streams": "256"}`. Keys set from the fields above and `*-snippet` keys are refused."""

    @field_validator("namespace")
    @classmethod
    def _ns(cls, v: str) -> str:
        return check_dns_label(v, what="namespace", must_start_with_letter=False)

    @field_validator("release_name")
    @classmethod
    def _release(cls, v: str) -> str:
        check_dns_label(v, what="Helm release name")
        if len(v) > 53:
            raise ValueError(
                "Helm release names are at most 53 characters (the chart appends suffixes). "
                f"Fix: shorten it, e.g. {v[:53].rstrip('-')!r}."
            )
        return v

    @field_validator("ingress_class")
    @classmethod
    def _class(cls, v: str) -> str:
        return check_dns_subdomain(v, what="IngressClass name")

    @field_validator("controller_value")
    @classmethod
    def _controller_value(cls, v: str | None) -> str | None:
        if v is None:
            return v
        domain, _, path = v.partition("/")
        try:
            check_dns_subdomain(domain, what="controller domain")
        except ValueError:
            path = ""
        if not path or len(v) > 253:
            raise ValueError(
                "an IngressClass controller is a domain-prefixed path. Fix: use e.g. "
                "'k8s.io/ingress-nginx-internal'."
            )
        return v

    @field_validator("replicas")
    @classmethod
    def _replicas(cls, v: int) -> int:
        return check_range(v, low=1, high=100)

    @field_validator("client_body_timeout_seconds", "worker_shutdown_timeout_seconds")
    @classmethod
    def _seconds(cls, v: int) -> int:
        if v < 1:
            raise ValueError(
                "a timeout must be at least 1 second (nginx treats 0 as 'cut at once'). "
                "Fix: give seconds, e.g. 3600."
            )
        return v

    @field_validator("service_annotations")
    @classmethod
    def _annotations(cls, v: dict[str, str]) -> dict[str, str]:
        check_annotation_keys(v, what="service_annotations")
        return v

    @field_validator("load_balancer_source_ranges")
    @classmethod
    def _ranges(cls, v: list[str]) -> list[str]:
        for cidr in v:
            try:
                ipaddress.ip_network(cidr, strict=True)
            except ValueError:
                try:
                    suggestion = str(ipaddress.ip_network(cidr, strict=False))
                except ValueError:
                    suggestion = "203.0.113.0/24"
                raise ValueError(
                    f"{cidr!r} is not a CIDR with no host bits set. Fix: use e.g. {suggestion!r}."
                ) from None
        return v

    @field_validator("config")
    @classmethod
    def _config(cls, v: dict[str, str]) -> dict[str, str]:
        for key, value in v.items():
            if key in _OWNED_CONFIG:
                raise ValueError(
                    f"key {key!r} is set by NginxIngressController itself. Fix: "
                    f"{_OWNED_CONFIG[key]}."
                )
            if key.endswith("-snippet") or key.endswith("-snippets"):
                raise ValueError(
                    f"key {key!r} injects raw nginx configuration; grpc-kube keeps snippets "
                    "off (upstream rates them risk Critical: any Ingress author could run "
                    "arbitrary nginx directives). Fix: remove it; use a dedicated ConfigMap "
                    "key or annotation instead."
                )
            if not isinstance(value, str):
                raise ValueError(f"value of {key!r} must be a string. Fix: quote it.")
        return v

    # Reads plain fields only, so it runs at once even when other fields hold Outputs
    # (`._validation.model_validator` would wait for every Output to resolve).
    @pydantic.model_validator(mode="after")
    def _local_chart(self) -> NginxIngressControllerArgs:
        check_local_charts(self.install, (UPSTREAM,))
        return self

    @pydantic.model_validator(mode="after")
    def _mesh_and_pod_security(self) -> NginxIngressControllerArgs:
        init_container = self.mesh and not self.linkerd_cni
        refused = self.pod_security is not None and not admits_linkerd_init(self.pod_security)
        if init_container and refused:
            raise ValueError(
                f"pod_security {self.pod_security!r} with mesh and no linkerd_cni: Linkerd's "
                "linkerd-init container needs NET_ADMIN and NET_RAW, which only 'privileged' "
                "admits, so no controller pod could start. Fix: install the Linkerd CNI plugin "
                "and set linkerd_cni=True, or leave pod_security unset."
            )
        return self

    @model_validator(mode="after")
    def _combinations(self) -> NginxIngressControllerArgs:
        if self.load_balancer_source_ranges and self.service_type != "LoadBalancer":
            raise ValueError(
                f"load_balancer_source_ranges only applies to service_type LoadBalancer, got "
                f"{self.service_type!r}. Fix: remove the ranges or use a LoadBalancer."
            )
        return self


class IngressControllerRef(ArgsModel):
    """An ingress-nginx controller as GrpcIngress needs it: the IngressClass its Ingresses name
    and the pods that call the backends.

    `NginxIngressController.ref` gives it for a controller this program installs (GrpcIngress
    then also waits for the controller's admission webhook). Build one yourself, from plain
    values or Outputs, for a controller installed elsewhere, or from another language."""

    ingress_class: pulumi.Input[str]
    """The IngressClass name Ingresses put in `ingressClassName`."""
    namespace: pulumi.Input[str]
    """The controller pods' namespace."""
    pod_labels: pulumi.Input[dict[str, pulumi.Input[str]]]
    """Labels that select exactly the controller pods (for NetworkPolicies)."""
    service_account: pulumi.Input[str] | None = None
    """The controller pods' ServiceAccount, their Linkerd identity (default: unknown)."""
    meshed: bool = False
    """The controller pods run a Linkerd proxy (default False). Plain: it decides whether
    GrpcIngress writes `service-upstream`."""
    client_body_timeout_seconds: pulumi.Input[int] | None = None
    """The controller's `client-body-timeout` when known (default None: GrpcIngress then does
    not compare its stream timeout with it)."""

    @field_validator("ingress_class")
    @classmethod
    def _class(cls, v: str) -> str:
        return check_dns_subdomain(v, what="IngressClass name")

    @field_validator("namespace")
    @classmethod
    def _ns(cls, v: str) -> str:
        return check_dns_label(v, what="namespace", must_start_with_letter=False)

    @field_validator("pod_labels")
    @classmethod
    def _labels(cls, v: dict[str, str]) -> dict[str, str]:
        check_label_map(v, what="pod_labels")
        if not v:
            raise ValueError(
                "an empty selector would select every pod of the namespace. Fix: give the "
                "controller pods' labels."
            )
        return v

    @field_validator("service_account")
    @classmethod
    def _sa(cls, v: str | None) -> str | None:
        return None if v is None else check_dns_subdomain(v, what="ServiceAccount name")

    @field_validator("client_body_timeout_seconds")
    @classmethod
    def _timeout(cls, v: int | None) -> int | None:
        return None if v is None else check_range(v, low=1)

    @property
    def peer(self) -> PeerRef:
        """The controller pods, for NetworkPolicies and mesh authorization."""
        return PeerRef(
            namespace=self.namespace,
            pod_labels=self.pod_labels,
            service_account=self.service_account,
            meshed=self.meshed,
            ports=(),
        )


class NginxIngressController(Component):
    """ingress-nginx (Helm release) in its own namespace, tuned for gRPC; or, with
    `install.existing`, the description of a controller the cluster already runs."""

    ref: IngressControllerRef
    """The controller as GrpcIngress takes it (values are Outputs where the arguments were)."""
    peer: PeerRef
    """The controller pods, for NetworkPolicies and mesh authorization (they call backends)."""
    meshed: bool
    """True when the controller pods carry `linkerd.io/inject: enabled`."""
    ingress_class: pulumi.Output[str]
    """IngressClass name GrpcIngress puts in `ingressClassName`."""
    namespace: pulumi.Output[str]
    """The controller's namespace."""
    release_name: pulumi.Output[str]
    """The Helm release name."""
    service_account: pulumi.Output[str]
    """ServiceAccount of the controller pods (their Linkerd identity when meshed)."""
    controller_service_name: pulumi.Output[str]
    """The chart's controller Service (`<fullname>-controller`): `kubectl -n <namespace> get
    service <name>` shows the external address clients dial."""
    client_body_timeout_seconds: pulumi.Output[int]
    """The controller-wide `client-body-timeout`."""
    selector_labels: pulumi.Output[dict[str, str]]
    """The labels that select the controller pods."""
    existing: bool
    """True when the controller was already installed (`install.existing`): nothing was
    installed here."""
    values: dict[str, Any] | None
    """The chart values sent (None with `install.existing`)."""
    release: k8s.helm.v3.Release | None
    """The Helm release (None with `install.existing`)."""
    release_status: pulumi.Output[Any] | None
    """The Helm release status (name, namespace, revision, status) once installed (None with
    `install.existing`)."""
    namespace_resource: k8s.core.v1.Namespace | None
    """The Namespace this component creates (None with `install.existing`): what the
    namespace's policies wait for."""

    def __init__(
        self,
        name: str,
        args: NginxIngressControllerArgs | Mapping[str, Any] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        where = f"NginxIngressController {name!r}"
        args = validate_model(
            NginxIngressControllerArgs, args if args is not None else {}, where=where
        )
        super().__init__("NginxIngressController", name, opts)
        self._where = where
        # Values that arrived as Outputs reach the children only once they pass the same checks.
        args = gate(args, where=where)
        self.args = args
        fullname = lift(_chart_fullname, args.release_name)
        selector = lift(_selector_labels, args.release_name)
        self.meshed = args.mesh
        self.ref = IngressControllerRef(
            ingress_class=args.ingress_class,
            namespace=args.namespace,
            pod_labels=selector,
            service_account=fullname,
            meshed=args.mesh,
            client_body_timeout_seconds=args.client_body_timeout_seconds,
        )
        self.peer = self.ref.peer
        self.existing = args.install.existing

        if self.existing:
            self.values = None
            self.release = None
            self.release_status = None
            self.namespace_resource = None
            ignored = ignored_when_existing(args, FACTS, where=where)
            if ignored:
                pulumi.log.warn(ignored, resource=self)
        else:
            for warning in local_chart_warnings(args.install, (UPSTREAM,), where=where):
                pulumi.log.warn(warning, resource=self)
            level = pod_security_level(
                args.pod_security, mesh=args.mesh, linkerd_cni=args.linkerd_cni
            )
            namespace = k8s.core.v1.Namespace(
                f"{name}-namespace",
                metadata=namespace_metadata(args.namespace, enforce=level),
                opts=pulumi.ResourceOptions(parent=self),
            )
            self.namespace_resource = namespace
            self.values = self.helm_values(args)
            self.release = k8s.helm.v3.Release(
                f"{name}-release",
                name=args.release_name,
                **release_chart_args(args.install, UPSTREAM),
                namespace=args.namespace,
                create_namespace=False,
                values=self.values,
                opts=pulumi.ResourceOptions(parent=self, depends_on=[namespace]),
            )
            self.release_status = self.release.status
        self.ingress_class = pulumi.Output.from_input(args.ingress_class)
        self.namespace = pulumi.Output.from_input(args.namespace)
        self.release_name = pulumi.Output.from_input(args.release_name)
        self.service_account = pulumi.Output.from_input(fullname)
        self.controller_service_name = pulumi.Output.from_input(fmt("{}-controller", fullname))
        self.client_body_timeout_seconds = pulumi.Output.from_input(
            args.client_body_timeout_seconds
        )
        self.selector_labels = pulumi.Output.from_input(selector)
        pulumi.log.warn(RETIREMENT_WARNING, resource=self)
        outputs: dict[str, Any] = {"ingress_class": self.ingress_class, "namespace": self.namespace}
        if self.release_status is not None:
            outputs["release_status"] = self.release_status
        self.register_outputs(outputs)

    @property
    def edge_workloads(self) -> tuple[EdgeWorkload, ...]:
        """The pods the chart runs in `namespace`, as ZeroTrustPolicy isolates them (pass them
        as ZeroTrustPolicyArgs `edge`, and this controller's GrpcIngresses as `ingresses`):

        - `<fullname>-controller`: clients reach its `http` (80) and `https` (443) container
          ports, the API server its admission webhook (8443); it watches the Kubernetes API;
          meshed when `mesh` (EdgeAuthorization then admits the same traffic in Linkerd).
        - `<fullname>-admission`: the chart's certificate Jobs (Helm hooks), which write the
          webhook's certificate through the Kubernetes API.

        The chart derives the pod labels and names from `release_name`, so it must be plain
        here."""
        release = plain_release_name(self.args.release_name, where=self._where, pods="controller's")
        fullname = _chart_fullname(release)
        return (
            EdgeWorkload(
                name=f"{fullname}-controller",
                pod_labels=_selector_labels(release),
                entry_ports=tuple(CONTROLLER_CONTAINER_PORTS.values()),
                webhook_ports=(ADMISSION_WEBHOOK_PORT,),
                kubernetes_api=True,
                meshed=self.args.mesh,
            ),
            EdgeWorkload(
                name=f"{fullname}-admission",
                pod_labels=_admission_job_labels(release),
                kubernetes_api=True,
            ),
        )

    @staticmethod
    def helm_values(args: NginxIngressControllerArgs) -> dict[str, Any]:
        """The chart values for `args` (every key exists in chart 4.15.1's values.yaml; the
        tests check this against the pinned key list). Values that are Outputs stay nested
        Outputs (Pulumi resolves them before sending the release)."""
        selector = lift(_selector_labels, args.release_name)
        config = lift(
            lambda lb, body, shutdown, extra: {
                # On by default in the controller; explicit because gRPC does not work without it.
                "use-http2": "true",
                "load-balance": lb,
                "client-body-timeout": str(body),
                "worker-shutdown-timeout": f"{shutdown}s",
                **extra,
            },
            args.load_balance,
            args.client_body_timeout_seconds,
            args.worker_shutdown_timeout_seconds,
            args.config,
        )
        controller: dict[str, Any] = {
            "replicaCount": args.replicas,
            "ingressClass": args.ingress_class,
            "ingressClassResource": {
                "name": args.ingress_class,
                "enabled": True,
                "default": args.default_class,
                "controllerValue": (
                    args.controller_value
                    if args.controller_value is not None
                    else lift(_default_controller_value, args.ingress_class)
                ),
            },
            # Ingress authors must not be able to inject nginx configuration (risk Critical).
            "allowSnippetAnnotations": False,
            "config": config,
            # The chart's 300 s default leaves 60 s after the 240 s worker drain; keep that.
            "terminationGracePeriodSeconds": lift(
                lambda s: max(300, s + 60), args.worker_shutdown_timeout_seconds
            ),
            "service": {"type": args.service_type},
        }
        if is_output(args.service_annotations) or args.service_annotations:
            controller["service"]["annotations"] = args.service_annotations
        if is_output(args.load_balancer_source_ranges) or args.load_balancer_source_ranges:
            controller["service"]["loadBalancerSourceRanges"] = args.load_balancer_source_ranges
        if args.mesh:
            controller["podAnnotations"] = {MESH_INJECT_ANNOTATION: "enabled"}
        if args.topology_spread:
            controller["topologySpreadConstraints"] = [
                {
                    "maxSkew": 1,
                    "topologyKey": "kubernetes.io/hostname",
                    "whenUnsatisfiable": "ScheduleAnyway",
                    "labelSelector": {"matchLabels": selector},
                }
            ]
        return {
            "controller": controller,
            # Explicit, so the name PeerRef reports cannot drift from the chart's.
            "serviceAccount": {"name": lift(_chart_fullname, args.release_name)},
        }
