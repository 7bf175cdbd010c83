"""GrpcService: one gRPC server on Kubernetes (ServiceAccount, Deployment, Service, and when
they apply a PodDisruptionBudget and a HorizontalPodAutoscaler).

A plain ClusterIP Service balances per TCP connection, and a gRPC channel keeps one connection,
so by itself it pins every call of a client to one pod. GrpcService marks its port as HTTP/2
(`appProtocol: kubernetes.io/h2c`) so L7 proxies and meshes balance it per request, and with
`headless=True` it publishes every pod address for client-side `round_robin`.
"""

from __future__ import annotations

import json
import re
from enum import Enum
from typing import Any, Literal

import pulumi
import pulumi_kubernetes as k8s
from pydantic import Field

from ._inputs import fmt, gate, is_output, lift, plain, to_output
from ._ordering import Component
from ._validation import (
    ArgsModel,
    FieldError,
    InvalidArgumentError,
    check_annotation_keys,
    check_dns_label,
    check_dns_subdomain,
    check_label_map,
    check_port,
    check_range,
    field_validator,
    model_validator,
    validate_model,
)
from .peers import PeerRef

__all__ = [
    "ROUND_ROBIN_SERVICE_CONFIG",
    "AutoscalingArgs",
    "GrpcService",
    "GrpcServiceArgs",
    "GrpcServiceRef",
    "ImagePullPolicy",
    "ProbeArgs",
    "ResourcesArgs",
    "SecurityArgs",
    "ServerTlsArgs",
]

PORT_NAME = "grpc"
_ENV_NAME = re.compile(r"^[-._a-zA-Z][-._a-zA-Z0-9]*$")
# Kubernetes resource.Quantity: a decimal number with an optional SI or binary suffix.
_QUANTITY = re.compile(r"^([0-9]+(\.[0-9]*)?|\.[0-9]+)(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$")
_SUFFIX = {
    "": 1,
    "m": 0.001,
    "k": 1e3,
    "M": 1e6,
    "G": 1e9,
    "T": 1e12,
    "P": 1e15,
    "E": 1e18,
    "Ki": 2**10,
    "Mi": 2**20,
    "Gi": 2**30,
    "Ti": 2**40,
    "Pi": 2**50,
    "Ei": 2**60,
}


def parse_quantity(value: str) -> float:
    """A Kubernetes quantity (`100m`, `1`, `256Mi`) as a number; ValueError with a fix if not."""
    m = _QUANTITY.match(value)
    if m is None:
        raise ValueError(
            f"{value!r} is not a Kubernetes quantity. Fix: write e.g. '250m' or '1' for CPU, "
            "'256Mi' or '1Gi' for memory (no spaces; binary suffixes Ki/Mi/Gi)."
        )
    return float(m.group(1)) * _SUFFIX[m.group(3) or ""]


class ImagePullPolicy(str, Enum):
    """When the kubelet pulls the image."""

    ALWAYS = "Always"
    IF_NOT_PRESENT = "IfNotPresent"
    NEVER = "Never"


HEALTH_PORT_NAME = "grpc-health"
MESH_INJECT_ANNOTATION = "linkerd.io/inject"
TLS_MOUNT_PATH = "/etc/grpc-kube/tls"


class ResourcesArgs(ArgsModel):
    """CPU and memory for the gRPC container. Limits are set by default because scanners
    (checkov CKV_K8S_10-13) flag containers without them and because an unbounded pod can starve
    its neighbours."""

    cpu_request: pulumi.Input[str] = "100m"
    """CPU request (default `100m`)."""
    cpu_limit: pulumi.Input[str] | None = "1"
    """CPU limit (default `1`); None removes it (some teams avoid CFS throttling)."""
    memory_request: pulumi.Input[str] = "128Mi"
    """Memory request (default `128Mi`)."""
    memory_limit: pulumi.Input[str] = "256Mi"
    """Memory limit (default `256Mi`)."""

    @field_validator("cpu_request", "cpu_limit", "memory_request", "memory_limit")
    @classmethod
    def _quantity(cls, v: str | None) -> str | None:
        if v is not None:
            parse_quantity(v)
        return v

    @model_validator(mode="after")
    def _request_within_limit(self) -> ResourcesArgs:
        pairs = [("memory", self.memory_request, self.memory_limit)]
        if self.cpu_limit is not None:
            pairs.append(("cpu", self.cpu_request, self.cpu_limit))
        for kind, request, limit in pairs:
            if parse_quantity(plain(request)) > parse_quantity(plain(limit)):
                raise ValueError(
                    f"{kind}_request ({request}) is above {kind}_limit ({limit}); Kubernetes "
                    f"refuses such a pod. Fix: raise {kind}_limit or lower {kind}_request."
                )
        return self


class SecurityArgs(ArgsModel):
    """Pod Security Standards `restricted` by default. Each field relaxes one thing, explicitly."""

    run_as_user: int = Field(default=10001, ge=1, le=2147483647)
    """UID the container runs as (default 10001: non-root and above 10000, so it cannot collide
    with a host user; checkov CKV_K8S_40)."""
    run_as_group: int = Field(default=10001, ge=1, le=2147483647)
    """GID the container runs as (default 10001)."""
    read_only_root_filesystem: bool = True
    """Mount the root filesystem read-only (default True). A writable `/tmp` emptyDir is always
    mounted, so most servers need no change; set False only if the server writes elsewhere."""
    allow_privilege_escalation: bool = False
    """Default False (PSS restricted). True violates `restricted`."""
    added_capabilities: tuple[str, ...] = ()
    """Capabilities added back after `drop: [ALL]` (default none). Only NET_BIND_SERVICE is
    allowed by PSS restricted."""
    seccomp_profile: Literal["RuntimeDefault", "Unconfined"] = "RuntimeDefault"
    """Seccomp profile (default RuntimeDefault, required by PSS restricted)."""

    @field_validator("added_capabilities")
    @classmethod
    def _caps(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        other = [c for c in v if c != "NET_BIND_SERVICE"]
        if other:
            raise ValueError(
                f"only NET_BIND_SERVICE may be added under Pod Security `restricted`; {other} "
                "would make every pod of the service be refused. Fix: listen on a port above "
                "1023 instead of adding capabilities (grpc-kube's namespaces enforce restricted)."
            )
        return v


class ProbeArgs(ArgsModel):
    """Native Kubernetes gRPC probes (grpc.health.v1, GA since 1.27)."""

    enabled: bool = True
    """Default True. Turn off for servers that do not implement grpc.health.v1."""
    service: pulumi.Input[str] = ""
    """Service name sent in the HealthCheckRequest (default "": the server's overall health)."""
    initial_delay_seconds: pulumi.Input[int] = 0
    """Seconds before the first readiness probe (default 0; liveness waits at least 10)."""
    period_seconds: pulumi.Input[int] = 10
    """Seconds between probes (default 10, the Kubernetes default)."""
    timeout_seconds: pulumi.Input[int] = 1
    """Seconds a probe may take (default 1)."""
    failure_threshold: pulumi.Input[int] = 3
    """Failures in a row before not-ready / restart (default 3)."""

    @field_validator("initial_delay_seconds")
    @classmethod
    def _delay(cls, v: int) -> int:
        return check_range(v, low=0)

    @field_validator("period_seconds", "timeout_seconds", "failure_threshold")
    @classmethod
    def _positive(cls, v: int) -> int:
        return check_range(v, low=1)


class AutoscalingArgs(ArgsModel):
    """A HorizontalPodAutoscaler (autoscaling/v2) on CPU. When set, the Deployment's replica
    count is left to the HPA (not written by Pulumi, so updates do not fight the autoscaler)."""

    min_replicas: pulumi.Input[int] = 2
    """Default 2: one pod per zone failure is survivable and the PDB can allow one eviction."""
    max_replicas: pulumi.Input[int] = 10
    """Upper bound for the HPA (default 10); must be at least min_replicas."""
    target_cpu_utilization: pulumi.Input[int] = 70
    """Average CPU utilisation (percent of the request) the HPA aims for (default 70)."""

    @field_validator("min_replicas", "max_replicas")
    @classmethod
    def _replicas(cls, v: int) -> int:
        return check_range(v, low=1)

    @field_validator("target_cpu_utilization")
    @classmethod
    def _percent(cls, v: int) -> int:
        return check_range(v, low=1, high=100)

    @model_validator(mode="after")
    def _range(self) -> AutoscalingArgs:
        if plain(self.max_replicas) < plain(self.min_replicas):
            raise ValueError(
                f"max_replicas ({self.max_replicas}) is below min_replicas ({self.min_replicas}). "
                "Fix: raise max_replicas or lower min_replicas."
            )
        return self


class ServerTlsArgs(ArgsModel):
    """The server serves TLS itself (for ingress `GRPCS`): a `kubernetes.io/tls` Secret is mounted
    read-only and its paths passed as GRPC_TLS_CERT_FILE / GRPC_TLS_KEY_FILE."""

    secret_name: pulumi.Input[str]
    """Name of a `kubernetes.io/tls` Secret in the service's namespace."""

    @field_validator("secret_name")
    @classmethod
    def _secret(cls, v: str) -> str:
        return check_dns_subdomain(v, what="Secret name")


class GrpcServiceArgs(ArgsModel):
    """Arguments of GrpcService. Only `image` and `namespace` are required."""

    image: pulumi.Input[str]
    """Container image, with a fixed tag or digest (`repo/app:1.2.3` or `repo/app@sha256:...`);
    `latest` or no tag is refused because a rollout could silently change the code."""
    namespace: pulumi.Input[str]
    """Namespace to deploy into. Required: the `default` namespace is a scanner finding
    (CKV_K8S_21) and meshing/policies are per namespace."""
    service_name: pulumi.Input[str] | None = None
    """Kubernetes name of the Service, Deployment and ServiceAccount (default: the component's
    name). Clients dial `<service_name>.<namespace>.svc.cluster.local`."""
    replicas: pulumi.Input[int] = 2
    """Pod count (default 2: balancing needs more than one pod). Ignored when autoscaling is set.
    Given as an Output, the PodDisruptionBudget (maxUnavailable 1) is created whatever it
    resolves to, since a plain count of 1 is the only case that leaves it out."""
    port: pulumi.Input[int] = 80
    """Service port (default 80)."""
    container_port: pulumi.Input[int] = 50051
    """Port the server listens on in the container (default 50051)."""
    health_port: pulumi.Input[int] | None = None
    """A separate plaintext port serving only grpc.health.v1 (default None: probes use
    container_port). Needed when the server serves TLS (kubelet gRPC probes cannot speak TLS),
    and under a strict mesh inbound policy (MeshAuthorization opens only this port to kubelet
    probes)."""
    headless: bool = False
    """`clusterIP: None` for client-side balancing (default False). The component then exposes
    `client_target` and `client_service_config`."""
    max_connection_age_seconds: pulumi.Input[int] | None = None
    """Passed to the server as GRPC_SERVER_MAX_CONNECTION_AGE_MS: it closes each connection
    gracefully after that age, so clients reconnect and re-resolve DNS and find new pods.
    Default: 30 when headless, else unset. Measured (docs/balance-probe.md): gRPC clients
    re-resolve at most every 30 s whatever the age, so ages of 5, 10 and 30 s all brought new
    pods their share 5-27 s after they were ready, while 60 s took up to 50 s; 30 s is the
    longest age that adds no delay, and a shorter one only reconnects more often."""
    max_connection_age_grace_seconds: pulumi.Input[int] | None = None
    """Passed as GRPC_SERVER_MAX_CONNECTION_AGE_GRACE_MS: how long a stream still open when its
    connection reaches the age may run on before it is cut. Default: the age (when one is set).
    It does not delay discovery (clients reconnect at the age's GOAWAY); raise it for streams
    longer than the age."""
    probes: ProbeArgs = ProbeArgs()
    """Native gRPC liveness/readiness probes (default: on, against the main or health port)."""
    resources: ResourcesArgs = ResourcesArgs()
    """CPU/memory requests and limits (defaults in ResourcesArgs)."""
    security: SecurityArgs = SecurityArgs()
    """Container security context (default: Pod Security Standards `restricted`)."""
    autoscaling: AutoscalingArgs | None = None
    """Default None (fixed `replicas`)."""
    topology_spread: bool = True
    """Spread pods across nodes (`kubernetes.io/hostname`, maxSkew 1, ScheduleAnyway), default
    True, so one node loss does not take every replica."""
    mesh: bool = False
    """Add `linkerd.io/inject: enabled` to the pod template (default False). Not needed when the
    namespace is meshed (MeshEnabledNamespace), harmless if both."""
    pod_annotations: pulumi.Input[dict[str, pulumi.Input[str]]] = {}
    """Extra pod template annotations (e.g. Linkerd `config.linkerd.io/*`)."""
    labels: pulumi.Input[dict[str, pulumi.Input[str]]] = {}
    """Extra labels on every object and pod (never used in selectors)."""
    env: pulumi.Input[dict[str, pulumi.Input[str]]] = {}
    """Extra environment variables (values written into the pod spec: do not put secrets here)."""
    args: pulumi.Input[list[pulumi.Input[str]]] = []
    """Container args (default: the image's)."""
    http2_debug: bool = False
    """Troubleshooting: set GODEBUG=http2debug=2 (Go servers log every HTTP/2 frame). Noisy;
    default False."""
    image_pull_policy: ImagePullPolicy = ImagePullPolicy.ALWAYS
    """Default Always (checkov CKV_K8S_15); with a digest-pinned image IfNotPresent is as safe."""
    tls: ServerTlsArgs | None = None
    """Serve TLS from a mounted Secret (default None: plaintext h2c)."""
    termination_grace_period_seconds: pulumi.Input[int] = 30
    """Time for in-flight streams to finish on shutdown (default 30)."""

    @field_validator("namespace")
    @classmethod
    def _ns(cls, v: str) -> str:
        return check_dns_label(v, what="namespace", must_start_with_letter=False)

    @field_validator("service_name")
    @classmethod
    def _svc(cls, v: str | None) -> str | None:
        return None if v is None else check_dns_label(v, what="Service name")

    @field_validator("port", "container_port", "health_port")
    @classmethod
    def _port(cls, v: int | None) -> int | None:
        return None if v is None else check_port(v)

    @field_validator("replicas")
    @classmethod
    def _replicas(cls, v: int) -> int:
        return check_range(v, low=1, high=1000)

    @field_validator("max_connection_age_seconds", "max_connection_age_grace_seconds")
    @classmethod
    def _age(cls, v: int | None) -> int | None:
        return None if v is None else check_range(v, low=1)

    @field_validator("termination_grace_period_seconds")
    @classmethod
    def _grace(cls, v: int) -> int:
        return check_range(v, low=0)

    @field_validator("labels")
    @classmethod
    def _label_values(cls, v: dict[str, str]) -> dict[str, str]:
        check_label_map(v)
        reserved = [k for k in v if k in ("app.kubernetes.io/name", "app.kubernetes.io/managed-by")]
        if reserved:
            raise ValueError(
                f"label {reserved[0]!r} is set by GrpcService itself (it selects the pods). "
                "Fix: remove it, or set service_name to change the name label."
            )
        return v

    @field_validator("image")
    @classmethod
    def _image(cls, v: str) -> str:
        if not v or any(c.isspace() for c in v):
            raise ValueError("an image reference must be non-empty with no spaces.")
        if "@sha256:" in v:
            return v
        last = v.rsplit("/", 1)[-1]
        if ":" not in last:
            raise ValueError(
                "the image has no tag, so Kubernetes pulls `latest`. Fix: pin a version, e.g. "
                f"{v + ':1.0.0'!r}, or a digest `{v}@sha256:...`."
            )
        if last.rsplit(":", 1)[1] == "latest":
            raise ValueError(
                "the `latest` tag can change under a running Deployment. Fix: pin a version "
                "tag or a digest."
            )
        return v

    @field_validator("pod_annotations")
    @classmethod
    def _annotations(cls, v: dict[str, str]) -> dict[str, str]:
        check_annotation_keys(v, what="pod_annotations")
        return v

    @field_validator("env")
    @classmethod
    def _env(cls, v: dict[str, str]) -> dict[str, str]:
        bad = [k for k in v if not _ENV_NAME.match(k)]
        if bad:
            raise ValueError(
                f"{bad[0]!r} is not a valid environment variable name (letters, digits, '_', "
                "'-', '.', not starting with a digit). Fix: rename it."
            )
        reserved = {"GODEBUG", "GRPC_SERVER_MAX_CONNECTION_AGE_MS", "GRPC_PORT", "GRPC_HEALTH_PORT"}
        reserved |= {"GRPC_SERVER_MAX_CONNECTION_AGE_GRACE_MS"}
        reserved |= {"GRPC_TLS_CERT_FILE", "GRPC_TLS_KEY_FILE", "POD_NAME"}
        clash = sorted(set(v) & reserved)
        if clash:
            raise ValueError(
                f"{clash[0]} is set by GrpcService from its own options. Fix: use the option "
                "(http2_debug, max_connection_age_seconds, container_port, health_port, tls)."
            )
        return v

    @model_validator(mode="after")
    def _combinations(self) -> GrpcServiceArgs:
        if self.health_port is not None and self.health_port == self.container_port:
            raise FieldError(
                "health_port",
                self.health_port,
                f"health_port ({self.health_port}) equals container_port. Fix: leave health_port "
                "unset to probe the main port, or pick a different port.",
            )
        if self.tls is not None and self.probes.enabled and self.health_port is None:
            raise FieldError(
                "tls",
                self.tls.secret_name,
                "tls is set and probes are on, but kubelet gRPC probes cannot speak TLS. Fix: "
                "serve grpc.health.v1 in plaintext on a health_port (e.g. 8086), or set "
                "probes.enabled=False.",
            )
        return self


class GrpcServiceRef(ArgsModel):
    """A gRPC service as other components need it (GrpcIngress, GrpcRoute, ZeroTrustPolicy,
    MeshAuthorization): its names, ports and pod labels.

    This is the one way to hand a service over: `GrpcService.ref` gives it for a service this
    program deploys; build one yourself, from plain values or Outputs, for a service deployed
    elsewhere (another stack, another tool, another language). In Python, components also take
    the GrpcService object itself and read its `ref`."""

    name: pulumi.Input[str]
    """The Kubernetes Service name."""
    namespace: pulumi.Input[str]
    """The Service's namespace."""
    port: pulumi.Input[int] = 80
    """The Service port (default 80)."""
    container_port: pulumi.Input[int] = 50051
    """The port the pods listen on (default 50051): NetworkPolicies and headless clients use it."""
    health_port: pulumi.Input[int] | None = None
    """The pods' separate plaintext grpc.health.v1 port, if any (default None)."""
    selector_labels: pulumi.Input[dict[str, pulumi.Input[str]]] | None = None
    """Labels that select exactly the service's pods (default `app.kubernetes.io/name: <name>`,
    what GrpcService sets)."""
    service_account: pulumi.Input[str] | None = None
    """The pods' ServiceAccount, their mesh identity (default: the Service name, as GrpcService
    names it)."""
    headless: bool = False
    """The Service has no cluster IP; clients balance over the pod addresses (default False)."""
    mesh: bool = False
    """The pods run a Linkerd proxy (default False)."""
    tls: bool = False
    """The pods serve TLS themselves (default False: h2c)."""

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        return check_dns_label(v, what="Service name")

    @field_validator("namespace")
    @classmethod
    def _ns(cls, v: str) -> str:
        return check_dns_label(v, what="namespace", must_start_with_letter=False)

    @field_validator("port", "container_port", "health_port")
    @classmethod
    def _port(cls, v: int | None) -> int | None:
        return None if v is None else check_port(v)

    @field_validator("selector_labels")
    @classmethod
    def _labels(cls, v: dict[str, str] | None) -> dict[str, str] | None:
        if v is not None:
            check_label_map(v, what="selector_labels")
            if not v:
                raise ValueError(
                    "an empty selector would select every pod of the namespace. Fix: give the "
                    "labels of the service's pods, or leave it unset."
                )
        return v

    @property
    def pod_labels(self) -> Any:
        """`selector_labels`, or GrpcService's own selector when unset."""
        if self.selector_labels is not None:
            return self.selector_labels
        return lift(lambda n: {"app.kubernetes.io/name": n}, self.name)

    @property
    def account(self) -> Any:
        """`service_account`, or the Service name (GrpcService's choice) when unset."""
        return self.service_account if self.service_account is not None else self.name

    @property
    def dns_name(self) -> Any:
        """`<name>.<namespace>.svc.cluster.local` (an Output when either part is one)."""
        return fmt("{}.{}.svc.cluster.local", self.name, self.namespace)

    @property
    def client_target(self) -> Any:
        """gRPC target for client-side balancing. A headless Service's DNS answers with pod IPs
        and no port mapping, so clients dial the container port, not the Service port."""
        return fmt("dns:///{}:{}", self.dns_name, self.container_port)

    @property
    def peer(self) -> PeerRef:
        """These pods, for policies. Callers reach them on `container_port`."""
        return PeerRef(
            namespace=self.namespace,
            pod_labels=self.pod_labels,
            service_account=self.account,
            meshed=self.mesh,
            ports=(self.container_port,),
        )

    @property
    def mesh_identity(self) -> Any:
        """Linkerd identity of the pods (ServiceAccount based, default cluster domain)."""
        return self.peer.mesh_identity


def _name_from_component(name: str) -> str:
    try:
        return check_dns_label(name, what="Service name")
    except ValueError as exc:
        raise InvalidArgumentError(
            f"GrpcService {name!r}",
            [
                f"name: got {name!r}; it becomes the Service name, and {exc} "
                "Or keep the name and set service_name."
            ],
        ) from None


def _millis(seconds: int) -> str:
    return str(seconds * 1000)


ROUND_ROBIN_SERVICE_CONFIG = json.dumps(
    {"loadBalancingConfig": [{"round_robin": {}}]}, separators=(",", ":")
)


class GrpcService(Component):
    """A gRPC server: ServiceAccount, Deployment, Service, PodDisruptionBudget (more than one
    replica), HorizontalPodAutoscaler (with `autoscaling`)."""

    ref: GrpcServiceRef
    """The service as other components take it (names, ports, pod labels; values are Outputs
    where the arguments were)."""
    peer: PeerRef
    """The service's pods, for policies."""
    service_name: pulumi.Output[str]
    """The Kubernetes Service name (resolves once the Service exists)."""
    namespace: pulumi.Output[str]
    """The namespace."""
    port: pulumi.Output[int]
    """The Service port."""
    dns_name: pulumi.Output[str]
    """`<service>.<namespace>.svc.cluster.local`."""
    selector_labels: pulumi.Output[dict[str, str]]
    """The labels that select the pods."""
    service_account_name: pulumi.Output[str]
    """The pods' ServiceAccount (their mesh identity)."""
    client_target: pulumi.Output[str] | None
    """Headless only: the `dns:///...` target for client-side round_robin."""
    client_service_config: pulumi.Output[str] | None
    """Headless only: the gRPC service config selecting round_robin."""

    def __init__(
        self,
        name: str,
        args: GrpcServiceArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        where = f"GrpcService {name!r}"
        args = validate_model(GrpcServiceArgs, args, where=where)
        k8s_name = args.service_name if args.service_name is not None else None
        if k8s_name is None:
            k8s_name = _name_from_component(name)
        super().__init__("GrpcService", name, opts)
        # Values that arrived as Outputs reach the children only once they pass the same checks.
        args = gate(args, where=where)
        self.args = args
        selector = {"app.kubernetes.io/name": k8s_name}
        labels = lift(
            lambda extra, n: {
                **extra,
                "app.kubernetes.io/name": n,
                "app.kubernetes.io/component": "grpc-server",
                "app.kubernetes.io/managed-by": "grpc-kube",
            },
            args.labels,
            k8s_name,
        )
        self.ref = GrpcServiceRef(
            name=k8s_name,
            namespace=args.namespace,
            port=args.port,
            container_port=args.container_port,
            health_port=args.health_port,
            selector_labels=selector,
            service_account=k8s_name,
            headless=args.headless,
            mesh=args.mesh,
            tls=args.tls is not None,
        )
        self.peer = self.ref.peer
        # depends_on reaches the children through Component (see _ordering).
        child = pulumi.ResourceOptions(parent=self)

        def meta(**extra: Any) -> dict[str, Any]:
            return {"name": k8s_name, "namespace": args.namespace, "labels": labels, **extra}

        sa = k8s.core.v1.ServiceAccount(
            f"{name}-sa",
            metadata=meta(),
            # No Kubernetes API access is needed by a gRPC server; a token in the pod is only
            # something to steal (CKV_K8S_38).
            automount_service_account_token=False,
            opts=child,
        )

        deployment = k8s.apps.v1.Deployment(
            f"{name}-deployment",
            metadata=meta(),
            spec=self._deployment_spec(k8s_name, args, selector, labels),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[sa]),
        )

        service_spec: dict[str, Any] = {
            "selector": selector,
            "ports": [
                {
                    "name": PORT_NAME,
                    "port": args.port,
                    "targetPort": PORT_NAME,
                    "protocol": "TCP",
                    # Tells L7 proxies, Gateway API implementations and meshes that the
                    # backend speaks HTTP/2 (cleartext, or TLS when the server terminates it).
                    "appProtocol": "kubernetes.io/h2c" if args.tls is None else "https",
                }
            ],
        }
        if args.headless:
            service_spec["clusterIP"] = "None"
        else:
            service_spec["type"] = "ClusterIP"
        service = k8s.core.v1.Service(
            f"{name}-service", metadata=meta(), spec=service_spec, opts=child
        )

        min_pods = args.autoscaling.min_replicas if args.autoscaling else args.replicas
        # A count that is an Output is not known yet; a PDB allowing one eviction is harmless
        # at any count, so it is created then.
        if is_output(min_pods) or plain(min_pods) > 1:
            k8s.policy.v1.PodDisruptionBudget(
                f"{name}-pdb",
                metadata=meta(),
                # maxUnavailable (not minAvailable) keeps drains possible at any scale.
                spec={"maxUnavailable": 1, "selector": {"matchLabels": selector}},
                opts=child,
            )
        if args.autoscaling is not None:
            a = args.autoscaling
            k8s.autoscaling.v2.HorizontalPodAutoscaler(
                f"{name}-hpa",
                metadata=meta(),
                spec={
                    "scaleTargetRef": {
                        "apiVersion": "apps/v1",
                        "kind": "Deployment",
                        "name": k8s_name,
                    },
                    "minReplicas": a.min_replicas,
                    "maxReplicas": a.max_replicas,
                    "metrics": [
                        {
                            "type": "Resource",
                            "resource": {
                                "name": "cpu",
                                "target": {
                                    "type": "Utilization",
                                    "averageUtilization": a.target_cpu_utilization,
                                },
                            },
                        }
                    ],
                },
                opts=pulumi.ResourceOptions(parent=self, depends_on=[deployment]),
            )

        # Tie the names to the resources that carry them, so dependents wait for those.
        self.service_name = pulumi.Output.all(service.id, k8s_name).apply(lambda v: v[1])
        self.namespace = pulumi.Output.from_input(args.namespace)
        self.port = pulumi.Output.from_input(args.port)
        self.dns_name = pulumi.Output.all(self.service_name, self.namespace).apply(
            lambda v: f"{v[0]}.{v[1]}.svc.cluster.local"
        )
        self.selector_labels = to_output(selector)
        self.service_account_name = pulumi.Output.all(sa.id, k8s_name).apply(lambda v: v[1])
        if args.headless:
            self.client_target = pulumi.Output.all(self.service_name, self.ref.client_target).apply(
                lambda v: v[1]
            )
            self.client_service_config = pulumi.Output.from_input(ROUND_ROBIN_SERVICE_CONFIG)
        else:
            self.client_target = None
            self.client_service_config = None
        outputs: dict[str, Any] = {
            "service_name": self.service_name,
            "namespace": self.namespace,
            "port": self.port,
            "dns_name": self.dns_name,
            "selector_labels": self.selector_labels,
            "service_account_name": self.service_account_name,
        }
        if args.headless:
            outputs["client_target"] = self.client_target
            outputs["client_service_config"] = self.client_service_config
        self.register_outputs(outputs)

    @staticmethod
    def _deployment_spec(
        k8s_name: Any, args: GrpcServiceArgs, selector: dict[str, Any], labels: Any
    ) -> dict[str, Any]:
        sec = args.security
        env: list[dict[str, Any]] = [
            {"name": "GRPC_PORT", "value": lift(str, args.container_port)},
            {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
        ]
        age = args.max_connection_age_seconds
        if age is None and args.headless:
            age = 30
        if age is not None:
            grace = args.max_connection_age_grace_seconds
            env.append({"name": "GRPC_SERVER_MAX_CONNECTION_AGE_MS", "value": lift(_millis, age)})
            env.append(
                {
                    "name": "GRPC_SERVER_MAX_CONNECTION_AGE_GRACE_MS",
                    "value": lift(_millis, grace if grace is not None else age),
                }
            )
        if args.health_port is not None:
            env.append({"name": "GRPC_HEALTH_PORT", "value": lift(str, args.health_port)})
        if args.http2_debug:
            env.append({"name": "GODEBUG", "value": "http2debug=2"})
        if args.tls is not None:
            env.append({"name": "GRPC_TLS_CERT_FILE", "value": f"{TLS_MOUNT_PATH}/tls.crt"})
            env.append({"name": "GRPC_TLS_KEY_FILE", "value": f"{TLS_MOUNT_PATH}/tls.key"})
        user_env = lift(
            lambda extra: [{"name": k, "value": v} for k, v in sorted(extra.items())], args.env
        )
        all_env: Any = lift(lambda own, extra: own + extra, env, user_env)

        ports: list[dict[str, Any]] = [
            {"name": PORT_NAME, "containerPort": args.container_port, "protocol": "TCP"}
        ]
        if args.health_port is not None:
            ports.append(
                {"name": HEALTH_PORT_NAME, "containerPort": args.health_port, "protocol": "TCP"}
            )

        container: dict[str, Any] = {
            "name": "server",
            "image": args.image,
            "imagePullPolicy": args.image_pull_policy,
            "ports": ports,
            "env": all_env,
            "resources": {
                "requests": {
                    "cpu": args.resources.cpu_request,
                    "memory": args.resources.memory_request,
                },
                "limits": {
                    **({"cpu": args.resources.cpu_limit} if args.resources.cpu_limit else {}),
                    "memory": args.resources.memory_limit,
                },
            },
            "securityContext": {
                "runAsNonRoot": True,
                "runAsUser": sec.run_as_user,
                "runAsGroup": sec.run_as_group,
                "allowPrivilegeEscalation": sec.allow_privilege_escalation,
                "readOnlyRootFilesystem": sec.read_only_root_filesystem,
                "privileged": False,
                "capabilities": {
                    "drop": ["ALL"],
                    **({"add": list(sec.added_capabilities)} if sec.added_capabilities else {}),
                },
                "seccompProfile": {"type": sec.seccomp_profile},
            },
            "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],
        }
        if is_output(args.args) or args.args:
            container["args"] = args.args
        if args.probes.enabled:
            p = args.probes
            probe_port = args.health_port if args.health_port is not None else args.container_port
            grpc_probe: dict[str, Any] = {"port": probe_port}
            if is_output(p.service) or p.service:
                grpc_probe["service"] = p.service
            base = {
                "grpc": grpc_probe,
                "periodSeconds": p.period_seconds,
                "timeoutSeconds": p.timeout_seconds,
                "failureThreshold": p.failure_threshold,
            }
            container["readinessProbe"] = {**base, "initialDelaySeconds": p.initial_delay_seconds}
            # Liveness waits longer: restarting a slow-starting server helps nobody.
            container["livenessProbe"] = {
                **base,
                "initialDelaySeconds": lift(lambda d: max(d, 10), p.initial_delay_seconds),
            }
        volumes: list[dict[str, Any]] = [{"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}}]
        if args.tls is not None:
            container["volumeMounts"].append(
                {"name": "tls", "mountPath": TLS_MOUNT_PATH, "readOnly": True}
            )
            volumes.append(
                {
                    "name": "tls",
                    "secret": {"secretName": args.tls.secret_name, "defaultMode": 0o440},
                }
            )

        inject = {MESH_INJECT_ANNOTATION: "enabled"} if args.mesh else {}
        annotations = lift(lambda extra: {**extra, **inject}, args.pod_annotations)
        pod_meta: dict[str, Any] = {"labels": labels}
        if is_output(annotations) or annotations:
            pod_meta["annotations"] = annotations

        pod_spec: dict[str, Any] = {
            "serviceAccountName": k8s_name,
            "automountServiceAccountToken": False,
            "securityContext": {
                "runAsNonRoot": True,
                "runAsUser": sec.run_as_user,
                "runAsGroup": sec.run_as_group,
                "fsGroup": sec.run_as_group,
                "seccompProfile": {"type": sec.seccomp_profile},
            },
            "terminationGracePeriodSeconds": args.termination_grace_period_seconds,
            "containers": [container],
            "volumes": volumes,
        }
        if args.topology_spread:
            pod_spec["topologySpreadConstraints"] = [
                {
                    "maxSkew": 1,
                    "topologyKey": "kubernetes.io/hostname",
                    "whenUnsatisfiable": "ScheduleAnyway",
                    "labelSelector": {"matchLabels": selector},
                }
            ]
        spec: dict[str, Any] = {
            "selector": {"matchLabels": selector},
            "strategy": {
                "type": "RollingUpdate",
                "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1},
            },
            "template": {"metadata": pod_meta, "spec": pod_spec},
        }
        if args.autoscaling is None:
            spec["replicas"] = args.replicas
        return spec
