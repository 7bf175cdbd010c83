"""LinkerdControlPlane: the Linkerd service mesh (edge-26.8.3) installed from its Helm charts, in
the order Linkerd needs: Gateway API CRDs, the `linkerd` namespace, `linkerd-crds`, then
`linkerd-control-plane`.

A mesh is the third way to balance gRPC (after a headless Service with client-side round_robin,
and an L7 proxy at the edge): every meshed pod gets a proxy that balances each request (not each
connection) and proves its identity with mTLS. Those identities hang off two certificates Linkerd
cannot make for itself when installed with Helm: a trust anchor and an identity issuer. By
default they are generated here with pulumi-tls and renewed by `pulumi up` well before `linkerd
check` starts warning (expired anchors and issuers are the most reported Linkerd outage); an
external issuer such as cert-manager, or an issuer certificate and key made elsewhere, can be
used instead.

Validity hours, cluster networks and the external PEMs accept `pulumi.Input`s (an issuer key that
arrives as a secret Output stays secret in the chart values). The switches that decide what is
installed (`high_availability`, `cni_enabled`, `create_namespace`, the presence of
`external_identity`) and the inbound policy stay plain.

`install` picks where the two charts come from (upstream, a mirror, a local copy), or, with
`install.existing`, a Linkerd the cluster already runs: nothing is installed (no namespace,
charts or certificates; the cluster's identity is used), and the component still describes the
control plane (namespace, pods, `cni_enabled`) for meshed namespaces, policies and authorization.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal, get_args

import pulumi
import pulumi_kubernetes as k8s
import pydantic
from pydantic import AfterValidator, ConfigDict, ValidationInfo

from ._helm import (
    InstallArgs,
    UpstreamChart,
    check_local_charts,
    deep_merge,
    ignored_when_existing,
    local_chart_warnings,
    release_chart_args,
)
from ._inputs import gate, is_output, lift
from ._namespaces import namespace_metadata, pod_security_level
from ._ordering import Component
from ._validation import (
    ArgsModel,
    InvalidArgumentError,
    check_cidr,
    check_range,
    field_validator,
    validate_model,
)
from .certificates import (
    Certificate,
    CertificateArgs,
    CertificateAuthority,
    CertificateAuthorityArgs,
    renewal_window_problem,
)
from .gateway_api_crds import GATEWAY_API_VERSION, GatewayApiCrds, GatewayApiCrdsArgs
from .peers import PeerRef

__all__ = [
    "CONTROL_PLANE_PORTS",
    "INBOUND_POLICIES",
    "LINKERD_CHART_VERSION",
    "LINKERD_HELM_REPO",
    "LINKERD_NAMESPACE",
    "LINKERD_VERSION",
    "PROXY_ADMIN_PORT",
    "PROXY_INBOUND_PORT",
    "ExternalIdentity",
    "IdentityArgs",
    "InboundPolicy",
    "LinkerdControlPlane",
    "LinkerdControlPlaneArgs",
    "control_plane_namespace_metadata",
]

LINKERD_VERSION = "edge-26.8.3"
LINKERD_CHART_VERSION = "2026.8.3"
"""Edge chart versions follow YYYY.M.N: release edge-26.8.3 is chart version 2026.8.3."""
LINKERD_HELM_REPO = "https://helm.linkerd.io/edge"
LINKERD_CRDS_CHART = UpstreamChart(
    name="linkerd-crds", version=LINKERD_CHART_VERSION, repository=LINKERD_HELM_REPO
)
LINKERD_CONTROL_PLANE_CHART = UpstreamChart(
    name="linkerd-control-plane", version=LINKERD_CHART_VERSION, repository=LINKERD_HELM_REPO
)
LINKERD_CHARTS = (LINKERD_CRDS_CHART, LINKERD_CONTROL_PLANE_CHART)
"""Both charts come from one `install`: a local `chart` is the directory holding both, an
`oci://` chart the registry path both are pushed under, a `repository` serves both."""
# The fields that describe a control plane, installed here or already running.
FACTS = ("cni_enabled",)
LINKERD_NAMESPACE = "linkerd"
"""Fixed: mesh identities (`<sa>.<ns>.serviceaccount.identity.linkerd.cluster.local`, see
PeerRef.mesh_identity) contain the control plane's namespace."""

CONTROL_PLANE_PORTS: tuple[int, ...] = (8080, 8086, 8090)
"""Ports every proxy dials in the control plane namespace: identity 8080, destination 8086,
policy 8090. A default-deny egress NetworkPolicy must allow them (plus DNS)."""
PROXY_INBOUND_PORT = 4143
"""Meshed pod-to-pod traffic arrives on the peer proxy's inbound port (since Linkerd 2.18)."""
PROXY_ADMIN_PORT = 4191
"""Proxy admin port: kubelet probes the proxy here, Prometheus scrapes it."""

TRUST_ANCHOR_CN = "root.linkerd.cluster.local"
ISSUER_CN = "identity.linkerd.cluster.local"

# `linkerd check` warns when the trust anchor or the issuer has less than 60 days left.
LINKERD_CHECK_WARN_HOURS = 60 * 24
# The chart makes its webhook certificates (injector, validators) with genSelfSignedCert on every
# install/upgrade, valid 365 days, and `linkerd check` warns for those too under 60 days left.
# Renewing the issuer upgrades the chart, so an issuer renewed at least this often keeps them fresh.
WEBHOOK_REFRESH_HOURS = (365 - 60) * 24

InboundPolicy = Literal[
    "all-unauthenticated",
    "all-authenticated",
    "cluster-authenticated",
    "cluster-unauthenticated",
    "deny",
    "audit",
]
INBOUND_POLICIES: tuple[str, ...] = get_args(InboundPolicy)


class IdentityArgs(ArgsModel):
    """Validity and renewal of the generated trust anchor and identity issuer (pulumi-tls).

    pulumi-tls re-creates a certificate on the first `pulumi up` (or `pulumi refresh`) inside its
    early-renewal window, so renewal happens only when Pulumi runs: run it at least every
    `early_renewal_hours - 1440` hours and `linkerd check` never sees a certificate with less
    than 60 days left.
    """

    trust_anchor_validity_hours: pulumi.Input[int] = 87600
    """Trust anchor validity (default 87600 h = 10 years). The anchor is what every proxy
    trusts; long-lived because replacing it means restarting every meshed pod."""
    trust_anchor_early_renewal_hours: pulumi.Input[int] = 8760
    """Re-issue the anchor this many hours before it expires (default 8760 h = 1 year). The key
    is kept (the PrivateKey resource does not change), so the re-issued anchor has the same
    subject and key as the old one."""
    issuer_validity_hours: pulumi.Input[int] = 8760
    """Issuer validity (default 8760 h = 1 year). Must be shorter than the anchor's and at most
    the anchor's early-renewal window, so an issuer never outlives the anchor that signed it."""
    issuer_early_renewal_hours: pulumi.Input[int] = 2160
    """Re-issue the issuer this many hours before it expires (default 2160 h = 90 days: 30 days
    of margin before `linkerd check`'s 60-day warning). A new issuer is rolled out by a Helm
    upgrade and picked up by the identity controller; proxies keep their 24 h workload
    certificates until they renew them. The upgrade also re-creates the chart's webhook
    certificates (valid 365 days), so `issuer_validity_hours - issuer_early_renewal_hours` must
    stay at or below 7320 h (305 days)."""

    # Defaults are validated too: otherwise a rule between two fields (an issuer outliving the
    # anchor's renewal window...) only fires when both are set explicitly.
    model_config = ConfigDict(**ArgsModel.model_config, validate_default=True)

    # Field validators (not one model validator) so each error names the field at fault; a
    # field sees the ones declared above it in `info.data` (absent if they failed themselves, and
    # read as absent while still Outputs: the whole model is checked again once they resolve).

    @field_validator("trust_anchor_validity_hours", "issuer_validity_hours")
    @classmethod
    def _validity(cls, v: int) -> int:
        return check_range(v, low=1)

    @field_validator("trust_anchor_early_renewal_hours", "issuer_early_renewal_hours")
    @classmethod
    def _renewal(cls, early: int, info: ValidationInfo) -> int:
        check_range(early, low=0)
        role = "trust_anchor" if info.field_name == "trust_anchor_early_renewal_hours" else "issuer"
        validity = _known(info, f"{role}_validity_hours")
        problem = (
            None
            if validity is None
            else renewal_window_problem(
                early,
                validity,
                early_field=f"{role}_early_renewal_hours",
                validity_field=f"{role}_validity_hours",
            )
        )
        if problem:
            raise ValueError(problem)
        if early <= LINKERD_CHECK_WARN_HOURS:
            raise ValueError(
                "it is not above 1440 h (60 days): `linkerd check` warns once a certificate has "
                "less than 60 days left, so it would warn before Pulumi renews. Fix: use e.g. "
                "2160 (90 days) and run `pulumi up` more often than every "
                "(early_renewal_hours - 1440) hours."
            )
        if validity is not None and role == "issuer" and validity - early > WEBHOOK_REFRESH_HOURS:
            raise ValueError(
                f"the issuer would be renewed only every {validity - early} h "
                f"(issuer_validity_hours - issuer_early_renewal_hours), more than "
                f"{WEBHOOK_REFRESH_HOURS} h (305 days). Each renewal upgrades the chart, which "
                "re-creates Linkerd's webhook certificates; those live 365 days, and expired "
                "ones stop proxy injection. Fix: raise issuer_early_renewal_hours or lower "
                f"issuer_validity_hours so the difference is at most {WEBHOOK_REFRESH_HOURS} "
                "(the defaults give 6600)."
            )
        return early

    @field_validator("issuer_validity_hours")
    @classmethod
    def _issuer_within_anchor(cls, validity: int, info: ValidationInfo) -> int:
        anchor = _known(info, "trust_anchor_validity_hours")
        if anchor is not None and validity >= anchor:
            raise ValueError(
                f"it is not shorter than trust_anchor_validity_hours ({anchor}): the issuer "
                "would outlive the trust anchor that vouches for it. Fix: lower "
                "issuer_validity_hours (e.g. 8760) or raise trust_anchor_validity_hours."
            )
        anchor_early = _known(info, "trust_anchor_early_renewal_hours")
        if anchor_early is not None and validity > anchor_early:
            raise ValueError(
                f"it is longer than trust_anchor_early_renewal_hours ({anchor_early}): an "
                "issuer made just before the anchor's renewal window would outlive the anchor. "
                "Fix: lower issuer_validity_hours or raise trust_anchor_early_renewal_hours."
            )
        return validity


def _known(info: ValidationInfo, field: str) -> Any:
    """Another field's value when it is known (plain and valid), else None."""
    value = info.data.get(field)
    return None if is_output(value) else value


@dataclass(frozen=True)
class ExternalIdentity:
    """Bring your own identity issuer instead of pulumi-tls certificates made here.

    By default Linkerd then reads its issuer from a `kubernetes.io/tls` Secret named
    `linkerd-identity-issuer` in the `linkerd` namespace (keys `tls.crt`, `tls.key`, `ca.crt`),
    which an external tool such as cert-manager creates and renews (chart value
    `identity.issuer.scheme: kubernetes.io/tls`). With `issuer_cert_pem` and `issuer_key_pem`
    the chart writes that Secret itself from the PEMs given (scheme `linkerd.io/tls`), e.g. an
    issuer made by another stack and read through a StackReference.

    PEMs may be Outputs; they are checked when they resolve. The key only ever travels as a
    Pulumi secret, and no error message ever shows it.
    """

    trust_anchors_pem: pulumi.Input[str] | None = None
    """The trust anchor certificate(s), PEM (public; never a key). The chart writes them to the
    `linkerd-identity-trust-roots` ConfigMap. None: that ConfigMap is maintained outside the
    chart, e.g. by a trust-manager Bundle (chart value `identity.externalCA: true`)."""
    issuer_dependencies: Sequence[pulumi.Resource] = ()
    """Resources that produce the issuer Secret (and the trust roots ConfigMap), e.g. the
    cert-manager Certificate: the control plane is installed after them. Not needed for PEMs
    given as Outputs: those order the install by themselves."""
    issuer_cert_pem: pulumi.Input[str] | None = None
    """The identity issuer's certificate (PEM, public), signed by a trust anchor. Given
    together with `issuer_key_pem`; None (default): the issuer Secret is made outside."""
    issuer_key_pem: pulumi.Input[str] | None = None
    """The identity issuer's private key (PEM). Sent to the chart only as a Pulumi secret (a
    plain string is wrapped), so it never reaches the state in plain text."""


def _cluster_network(value: str) -> str:
    return check_cidr(value, what="network")


ClusterNetwork = Annotated[str, AfterValidator(_cluster_network)]
"""One CIDR of `cluster_networks`, checked on its own so a list reports each bad entry."""


class LinkerdControlPlaneArgs(ArgsModel):
    """Arguments of LinkerdControlPlane. All optional."""

    install: InstallArgs = InstallArgs()
    """Where the two charts, `linkerd-crds` and `linkerd-control-plane` 2026.8.3, come from
    (default: upstream's edge repository), or `existing: true` for a Linkerd the cluster
    already runs (in the `linkerd` namespace): nothing is installed, no namespace, charts or
    certificates (the cluster's identity is used), `cni_enabled` must describe it, and the
    other fields are ignored. One location serves both charts: a local `chart` is a directory
    holding both (`linkerd-crds/` and `linkerd-control-plane/`, or the `.tgz` files `helm pull`
    writes), an `oci://` chart is the registry path both were pushed under (`<chart>/linkerd-
    crds`, `<chart>/linkerd-control-plane`), a `repository` serves both."""
    identity: IdentityArgs = IdentityArgs()
    """Validity and early renewal of the generated trust anchor and issuer. Not allowed together
    with `external_identity=` (the external tool decides those)."""
    high_availability: bool = False
    """High availability (default False): what upstream's `values-ha.yaml` sets among the
    chart's values: 3 replicas per controller, required pod anti-affinity per node (needs 3
    nodes), PodDisruptionBudgets (maxUnavailable 1), rolling updates of one pod, proxy
    resource requests/limits, CPU and memory requests for every control-plane container
    (destination, identity, proxy injector, heartbeat, service-profile validator: scanners flag
    containers without them), `highAvailability: true` (what `linkerd check` reads) and
    `webhookFailurePolicy: Fail` (no unmeshed pod starts while the injector is down). Change any
    of them with `extra_values`."""
    cni_enabled: bool = False
    """The linkerd2-cni plugin is already installed on every node (default False; this
    component does not install it). Then meshed pods get no `linkerd-init` container, which
    needs NET_ADMIN and NET_RAW, so meshed namespaces can enforce Pod Security `restricted`.
    With `install.existing`: whether the existing Linkerd runs with the CNI plugin."""
    default_inbound_policy: InboundPolicy = "all-unauthenticated"
    """Cluster-wide default for pods whose namespace/pod sets no policy (default
    `all-unauthenticated`, Linkerd's own default: meshing alone then breaks no caller).
    MeshEnabledNamespace sets a per-namespace policy."""
    cluster_networks: pulumi.Input[list[pulumi.Input[ClusterNetwork]]] | None = None
    """CIDRs of pods and nodes, used by the `cluster-*` inbound policies (default: the chart's,
    the private IPv4 ranges and fd00::/8). Set it when the cluster uses other addresses."""
    extra_values: dict[str, Any] = {}
    """linkerd-control-plane chart values merged last, over everything this component sets
    (default none), e.g. `{"identityResources": {"memory": {"limit": "500Mi"}}}`. Plain: they are
    written into the release as given."""
    create_namespace: bool = True
    """Create the `linkerd` namespace with the labels Linkerd needs (default True). Set False
    when it already exists, e.g. created first so cert-manager can write the issuer Secret into
    it; give it `control_plane_namespace_metadata(cni_enabled)`."""

    # Plain fields only, so it runs at once even when other fields hold Outputs.
    @pydantic.model_validator(mode="after")
    def _local_charts(self) -> LinkerdControlPlaneArgs:
        check_local_charts(self.install, LINKERD_CHARTS)
        return self

    # Each entry is checked on its own (ClusterNetwork), so every bad one is reported.
    @field_validator("cluster_networks")
    @classmethod
    def _cidrs(cls, v: list[str] | None) -> list[str] | None:
        if v is not None and not v:
            raise ValueError(
                "an empty list would make every `cluster-*` policy match nothing. Fix: leave "
                "cluster_networks unset for the chart default, or list CIDRs, e.g. "
                "['10.0.0.0/8']."
            )
        return v


def control_plane_namespace_metadata(cni_enabled: bool) -> dict[str, Any]:
    """Metadata of the `linkerd` namespace, as `linkerd install` writes it.

    `config.linkerd.io/admission-webhooks: disabled` keeps Linkerd's own webhooks away from its
    pods (with `webhookFailurePolicy: Fail` the injector could otherwise never start). Pod
    Security: `linkerd-init` needs NET_ADMIN and NET_RAW, which only `privileged` admits; with the
    CNI plugin there is no linkerd-init and `restricted` holds.
    """
    # The chart's own pods carry linkerd-init without the CNI plugin, so warnings at
    # `restricted` would flag every upgrade with nothing to act on: enforce only, as upstream.
    return namespace_metadata(
        LINKERD_NAMESPACE,
        enforce=pod_security_level(None, mesh=True, linkerd_cni=cni_enabled),
        warn=None,
        audit=None,
        labels={
            "linkerd.io/is-control-plane": "true",
            "config.linkerd.io/admission-webhooks": "disabled",
            "linkerd.io/control-plane-ns": LINKERD_NAMESPACE,
        },
        annotations={"linkerd.io/inject": "disabled"},
    )


# CPU and memory of the control-plane containers under high availability, as upstream's
# values-ha.yaml sets them (its CPU limit is empty: no CPU limit, to avoid throttling a
# controller). The chart's templates read these keys although its values.yaml only mentions them
# in comments, so they are listed by name (HA_TEMPLATE_KEYS) for the chart-key checks.
_CONTROLLER_RESOURCES = {
    "cpu": {"request": "100m"},
    "memory": {"limit": "250Mi", "request": "50Mi"},
}
HA_RESOURCE_VALUES: dict[str, Any] = {
    "controllerResources": _CONTROLLER_RESOURCES,
    "destinationResources": _CONTROLLER_RESOURCES,
    "identityResources": {
        "cpu": {"request": "100m"},
        "memory": {"limit": "250Mi", "request": "10Mi"},
    },
    "heartbeatResources": _CONTROLLER_RESOURCES,
    "proxyInjectorResources": _CONTROLLER_RESOURCES,
    "spValidatorResources": _CONTROLLER_RESOURCES,
}
HA_TEMPLATE_KEYS = (*HA_RESOURCE_VALUES, "highAvailability")
"""Top-level chart values the templates (and `linkerd check`) read that values.yaml does not
list."""

_HA_VALUES: dict[str, Any] = {
    # Read by `linkerd check` from the installed configuration: it then checks HA properties.
    "highAvailability": True,
    "controllerReplicas": 3,
    "enablePodAntiAffinity": True,
    "enablePodDisruptionBudget": True,
    "controller": {"podDisruptionBudget": {"maxUnavailable": 1}},
    "deploymentStrategy": {"rollingUpdate": {"maxUnavailable": 1, "maxSurge": "25%"}},
    "webhookFailurePolicy": "Fail",
    "proxy": {
        "resources": {
            "cpu": {"request": "100m"},
            "memory": {"limit": "250Mi", "request": "20Mi"},
        }
    },
    **HA_RESOURCE_VALUES,
}


def control_plane_values(args: LinkerdControlPlaneArgs) -> dict[str, Any]:
    """The `linkerd-control-plane` values that do not depend on the identity certificates."""
    values: dict[str, Any] = {
        "cniEnabled": args.cni_enabled,
        "proxy": {"defaultInboundPolicy": args.default_inbound_policy},
    }
    if args.cluster_networks is not None:
        values["clusterNetworks"] = lift(",".join, args.cluster_networks)
    if args.high_availability:
        values = deep_merge(values, _HA_VALUES)
    if args.extra_values:
        values = deep_merge(values, args.extra_values)
    return values


def _pem_problem(field: str, value: str) -> str | None:
    """A problem with one external identity PEM (`field` is its name in ExternalIdentity), or
    None. Messages never show a key: the value may be a secret."""
    path = f"external_identity.{field}"
    if field == "issuer_key_pem":
        if "PRIVATE KEY-----" not in value:
            return (
                f"{path}: got a value that is not a PEM private key (not shown: it may be "
                "secret). Fix: pass the issuer's key, `-----BEGIN EC PRIVATE KEY-----` or "
                "`-----BEGIN PRIVATE KEY-----`."
            )
        return None
    if "PRIVATE KEY" in value:
        where = (
            "trust anchors are public and end up in a ConfigMap and the stack outputs"
            if field == "trust_anchors_pem"
            else "the issuer certificate is public; its key goes in issuer_key_pem"
        )
        return (
            f"{path}: got a PEM with a PRIVATE KEY block (not shown); {where}. Fix: pass only "
            "the certificate(s) (`-----BEGIN CERTIFICATE-----`)."
        )
    if "-----BEGIN CERTIFICATE-----" not in value:
        fix = (
            "pass the anchor's `ca.crt`/`tls.crt` contents, or None when a trust-manager "
            "Bundle maintains the linkerd-identity-trust-roots ConfigMap"
            if field == "trust_anchors_pem"
            else "pass the issuer's `tls.crt` contents"
        )
        return f"{path}: got {value[:40]!r}...; not a PEM certificate. Fix: {fix}."
    return None


_EXTERNAL_PEMS = ("trust_anchors_pem", "issuer_cert_pem", "issuer_key_pem")


def _checked_pem(field: str, value: Any, where: str) -> Any:
    """`value`, plain (already checked) or an Output that resolves only once it passes
    `_pem_problem`; a secret stays secret (apply keeps it so)."""
    if not is_output(value):
        return value

    def check(pem: str) -> str:
        problem = _pem_problem(field, pem)
        if problem:
            raise InvalidArgumentError(where, [problem], resolved=True)
        return pem

    return pulumi.Output.from_input(value).apply(check)


def _external_identity_problems(ext: ExternalIdentity) -> list[str]:
    """What can be checked of an ExternalIdentity before anything registers: which PEMs are
    given (plain), and the plain PEMs themselves (Outputs are checked when they resolve)."""
    problems: list[str] = []
    for field in _EXTERNAL_PEMS:
        value = getattr(ext, field)
        if value is None or is_output(value):
            continue
        if not isinstance(value, str):
            problems.append(
                f"external_identity.{field}: got {type(value).__name__}; expected a PEM "
                "string. Fix: pass the PEM text (or an Output of it)."
            )
            continue
        problem = _pem_problem(field, value)
        if problem:
            problems.append(problem)
    if (ext.issuer_cert_pem is None) != (ext.issuer_key_pem is None):
        given, missing = (
            ("issuer_cert_pem", "issuer_key_pem")
            if ext.issuer_key_pem is None
            else ("issuer_key_pem", "issuer_cert_pem")
        )
        problems.append(
            f"external_identity.{missing}: missing, but {given} is set; the chart needs the "
            f"issuer's certificate and key together. Fix: set {missing} too, or neither (an "
            "external tool then writes the linkerd-identity-issuer Secret)."
        )
    return problems


class LinkerdControlPlane(Component):
    """Linkerd edge-26.8.3: Gateway API CRDs, the `linkerd` namespace, `linkerd-crds`,
    `linkerd-control-plane`, and (by default) its trust anchor and identity issuer; or, with
    `install.existing`, the description of a Linkerd the cluster already runs."""

    args: LinkerdControlPlaneArgs
    """The arguments, Outputs among them passed on only once they are checked."""
    namespace: str
    """The control plane namespace (`linkerd`; fixed, so plain)."""
    peer: PeerRef
    """The control plane pods (identity, destination with the policy controller, proxy
    injector) on CONTROL_PLANE_PORTS, the ports proxies dial there. A meshed ZeroTrustPolicy
    already opens each component on its own ports only (identity 8080, destination 8086 and
    8090); a rule to this peer is wider: every one of those ports to every one of those pods."""
    cni_enabled: bool
    """Whether meshed pods rely on the linkerd2-cni plugin (a plain switch)."""
    high_availability: bool
    """Whether the HA values are set (a plain switch; False with `install.existing`)."""
    existing: bool
    """True when Linkerd was already installed (`install.existing`): nothing was installed
    here."""
    identity_mode: Literal["generated", "external", "existing"]
    """`generated`: trust anchor and issuer made here; `external`: ExternalIdentity;
    `existing`: the identity of a Linkerd already installed (`install.existing`)."""
    gateway_api_crds: GatewayApiCrds | None
    """The Gateway API CRDs installed before Linkerd (given, or created here); with
    `install.existing` the ones given, or None."""
    trust_anchor_pem: pulumi.Output[str] | None
    """The trust anchor certificate (public PEM; hand it to `linkerd check --identity-...` or
    other clusters). None with an external identity that brings no PEM, and with
    `install.existing`."""
    issuer_expiry: pulumi.Output[str] | None
    """When the generated issuer expires (RFC 3339). None with an external identity, and with
    `install.existing`."""
    trust_anchor: CertificateAuthority | None
    """The generated trust anchor (None with an external identity or `install.existing`)."""
    issuer: Certificate | None
    """The generated identity issuer (None with an external identity or `install.existing`)."""
    crds_release: k8s.helm.v3.Release | None
    """The `linkerd-crds` Helm release (None with `install.existing`)."""
    release: k8s.helm.v3.Release | None
    """The `linkerd-control-plane` Helm release (None with `install.existing`)."""

    def __init__(
        self,
        name: str,
        args: LinkerdControlPlaneArgs | Mapping[str, Any] | None = None,
        *,
        gateway_api_crds: GatewayApiCrds | None = None,
        external_identity: ExternalIdentity | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        where = f"LinkerdControlPlane {name!r}"
        args = validate_model(LinkerdControlPlaneArgs, {} if args is None else args, where=where)
        problems: list[str] = []
        if gateway_api_crds is not None and not isinstance(gateway_api_crds, GatewayApiCrds):
            problems.append(
                f"gateway_api_crds: got {type(gateway_api_crds).__name__}; it must be the "
                "GatewayApiCrds object that installs the CRDs. Fix: pass a GatewayApiCrds, or "
                "None to have the control plane install its own."
            )
        if external_identity is not None and args.install.existing:
            problems.append(
                "external_identity: given, but install.existing is set, so nothing is installed "
                "and the existing Linkerd keeps its own identity. Fix: remove external_identity, "
                "or unset install.existing."
            )
        elif external_identity is not None:
            if not isinstance(external_identity, ExternalIdentity):
                problems.append(
                    f"external_identity: got {type(external_identity).__name__}. Fix: pass "
                    "ExternalIdentity(trust_anchors_pem=..., issuer_dependencies=[...])."
                )
            else:
                if "identity" in args.model_fields_set:
                    problems.append(
                        "identity: set together with external_identity, but the external issuer "
                        "decides validity and renewal. Fix: remove one of them."
                    )
                problems += _external_identity_problems(external_identity)
                bad = [
                    type(d).__name__
                    for d in external_identity.issuer_dependencies
                    if not isinstance(d, pulumi.Resource)
                ]
                if bad:
                    problems.append(
                        f"external_identity.issuer_dependencies: got {', '.join(bad)}; only "
                        "Pulumi resources can be waited for. Fix: pass the resources that "
                        "create the issuer Secret (e.g. the cert-manager Certificate)."
                    )
        if problems:
            raise InvalidArgumentError(where, problems)

        super().__init__("LinkerdControlPlane", name, opts)
        # Values that arrived as Outputs reach the children only once they pass the same checks.
        args = gate(args, where=where)
        self.args = args
        self.namespace = LINKERD_NAMESPACE
        self.existing = args.install.existing
        self.cni_enabled = args.cni_enabled
        self.high_availability = args.high_availability and not self.existing
        self.peer = PeerRef(
            namespace=LINKERD_NAMESPACE,
            # On the identity, destination and proxy-injector pods alike (chart templates).
            pod_labels={"linkerd.io/control-plane-ns": LINKERD_NAMESPACE},
            service_account=None,
            meshed=True,
            ports=CONTROL_PLANE_PORTS,
        )

        if self.existing:
            self._describe_existing(args, where, gateway_api_crds)
            return

        for warning in local_chart_warnings(args.install, LINKERD_CHARTS, where=where):
            pulumi.log.warn(warning, resource=self)
        if gateway_api_crds is None:
            gateway_api_crds = GatewayApiCrds(
                f"{name}-gateway-api-crds",
                GatewayApiCrdsArgs(),
                opts=pulumi.ResourceOptions(parent=self),
            )
        elif gateway_api_crds.version != GATEWAY_API_VERSION:
            pulumi.log.warn(
                f"LinkerdControlPlane {name!r}: Gateway API {gateway_api_crds.version} is newer "
                f"than the {GATEWAY_API_VERSION} Linkerd {LINKERD_VERSION} documents; Linkerd "
                "ignores fields it does not know.",
                resource=self,
            )
        self.gateway_api_crds = gateway_api_crds

        before_crds: list[pulumi.Resource] = [gateway_api_crds]
        if args.create_namespace:
            before_crds.append(
                k8s.core.v1.Namespace(
                    f"{name}-namespace",
                    metadata=control_plane_namespace_metadata(args.cni_enabled),
                    opts=pulumi.ResourceOptions(parent=self),
                )
            )

        self.crds_release = k8s.helm.v3.Release(
            f"{name}-crds",
            name="linkerd-crds",
            **release_chart_args(args.install, LINKERD_CRDS_CHART, bundled=True),
            namespace=LINKERD_NAMESPACE,
            # The Gateway API CRDs come from GatewayApiCrds, shared with the gateway; two owners
            # of the same CRDs fight on every upgrade.
            values={"installGatewayAPI": False},
            opts=pulumi.ResourceOptions(parent=self, depends_on=before_crds),
        )

        identity_values: dict[str, Any]
        before_control_plane: list[pulumi.Resource] = [self.crds_release]
        if external_identity is None:
            self.identity_mode = "generated"
            identity_values = self._generated_identity(name, args.identity)
        else:
            self.identity_mode = "external"
            identity_values = self._external_identity(external_identity, where)
            before_control_plane += list(external_identity.issuer_dependencies)

        values = deep_merge(control_plane_values(args), identity_values)
        self.release = k8s.helm.v3.Release(
            f"{name}-control-plane",
            name="linkerd-control-plane",
            **release_chart_args(args.install, LINKERD_CONTROL_PLANE_CHART, bundled=True),
            namespace=LINKERD_NAMESPACE,
            values=values,
            # First installs pull several images; the default 300 s is tight for HA.
            timeout=600,
            opts=pulumi.ResourceOptions(parent=self, depends_on=before_control_plane),
        )

        outputs: dict[str, Any] = {"namespace": self.namespace}
        if self.trust_anchor_pem is not None:
            outputs["trust_anchor_pem"] = self.trust_anchor_pem
        if self.issuer_expiry is not None:
            outputs["issuer_expiry"] = self.issuer_expiry
        self.register_outputs(outputs)

    def _describe_existing(
        self, args: LinkerdControlPlaneArgs, where: str, crds: GatewayApiCrds | None
    ) -> None:
        """A Linkerd the cluster already runs: nothing is registered; what other components
        read (namespace, peer, cni_enabled) is already set from the arguments."""
        ignored = ignored_when_existing(args, FACTS, where=where)
        if ignored:
            pulumi.log.warn(ignored, resource=self)
        # Given CRDs are kept for whoever reads them; none are installed for a Linkerd that
        # already runs (its policy controller read the route kinds when it started).
        self.gateway_api_crds = crds
        self.identity_mode = "existing"
        self.trust_anchor = None
        self.issuer = None
        self.trust_anchor_pem = None
        self.issuer_expiry = None
        self.crds_release = None
        self.release = None
        self.register_outputs({"namespace": self.namespace})

    def _generated_identity(self, name: str, ident: IdentityArgs) -> dict[str, Any]:
        child = pulumi.ResourceOptions(parent=self)
        self.trust_anchor = CertificateAuthority(
            f"{name}-trust-anchor",
            CertificateAuthorityArgs(
                common_name=TRUST_ANCHOR_CN,
                validity_hours=ident.trust_anchor_validity_hours,
                early_renewal_hours=ident.trust_anchor_early_renewal_hours,
                # Exactly one CA (the issuer) may sit below the anchor.
                max_path_length=1,
            ),
            opts=child,
        )
        self.issuer = Certificate(
            f"{name}-issuer",
            CertificateArgs(
                common_name=ISSUER_CN,
                is_ca=True,
                # The issuer signs only workload leaves, never another CA.
                max_path_length=0,
                validity_hours=ident.issuer_validity_hours,
                early_renewal_hours=ident.issuer_early_renewal_hours,
            ),
            issuer=self.trust_anchor,
            opts=child,
        )
        self.trust_anchor_pem = self.trust_anchor.cert_pem
        self.issuer_expiry = self.issuer.validity_end_time
        return {
            "identityTrustAnchorsPEM": self.trust_anchor.cert_pem,
            "identity": {
                "issuer": {
                    "scheme": "linkerd.io/tls",
                    "tls": {
                        "crtPEM": self.issuer.cert_pem,
                        # Already a secret output; wrapped again so the values can never
                        # carry it in plain text even if certificates.py changes.
                        "keyPEM": pulumi.Output.secret(self.issuer.private_key_pem),
                    },
                }
            },
        }

    def _external_identity(self, ext: ExternalIdentity, where: str) -> dict[str, Any]:
        self.trust_anchor = None
        self.issuer = None
        self.issuer_expiry = None
        issuer: dict[str, Any] = {"scheme": "kubernetes.io/tls"}
        identity: dict[str, Any] = {"issuer": issuer}
        values: dict[str, Any] = {"identity": identity}
        if ext.issuer_cert_pem is not None and ext.issuer_key_pem is not None:
            issuer["scheme"] = "linkerd.io/tls"
            issuer["tls"] = {
                "crtPEM": _checked_pem("issuer_cert_pem", ext.issuer_cert_pem, where),
                # A secret whatever form it came in: the SDK then marks the whole values map
                # secret, and the key never reaches the state in plain text.
                "keyPEM": pulumi.Output.secret(
                    _checked_pem("issuer_key_pem", ext.issuer_key_pem, where)
                ),
            }
        if ext.trust_anchors_pem is None:
            identity["externalCA"] = True
            self.trust_anchor_pem = None
        else:
            self.trust_anchor_pem = pulumi.Output.from_input(
                _checked_pem("trust_anchors_pem", ext.trust_anchors_pem, where)
            )
            values["identityTrustAnchorsPEM"] = self.trust_anchor_pem
        return values
