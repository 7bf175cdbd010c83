"""LinkerdControlPlane: the certificate chain, chart ordering and values it sends, external
issuers, and what it refuses."""

from __future__ import annotations

import tarfile
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pulumi
import pytest
from schema_checks import unknown_value_keys, validate_all

from grpc_kube._namespaces import namespace_metadata, pod_security_level
from grpc_kube._validation import InvalidArgumentError
from grpc_kube.certificates import renewal_window_problem
from grpc_kube.gateway_api_crds import GatewayApiCrds, GatewayApiCrdsArgs
from grpc_kube.grpc_service import GrpcService, GrpcServiceArgs
from grpc_kube.linkerd_control_plane import (
    CONTROL_PLANE_PORTS,
    HA_TEMPLATE_KEYS,
    INBOUND_POLICIES,
    LINKERD_CHART_VERSION,
    ExternalIdentity,
    IdentityArgs,
    LinkerdControlPlane,
    LinkerdControlPlaneArgs,
    control_plane_namespace_metadata,
)
from grpc_kube.mesh_authorization import MeshAuthorization
from grpc_kube.mesh_enabled_namespace import MeshEnabledNamespace, MeshEnabledNamespaceArgs
from grpc_kube.testing import Recording, run_program

RELEASE = "kubernetes:helm.sh/v3:Release"
KEY = "tls:index/privateKey:PrivateKey"
SELF_SIGNED = "tls:index/selfSignedCert:SelfSignedCert"
SIGNED = "tls:index/locallySignedCert:LocallySignedCert"
CSR = "tls:index/certRequest:CertRequest"
CP_KEYS = "linkerd-control-plane-edge-26.8.3.keys"
CRDS_KEYS = "linkerd-crds-edge-26.8.3.keys"
ANCHOR_PEM = "-----BEGIN CERTIFICATE-----\nMIIB...anchor\n-----END CERTIFICATE-----\n"


def build(
    args: LinkerdControlPlaneArgs | None = None, **kw: Any
) -> tuple[Recording, LinkerdControlPlane]:
    made: dict[str, LinkerdControlPlane] = {}

    def program() -> None:
        made["cp"] = LinkerdControlPlane("mesh", args, **kw)

    return run_program(program), made["cp"]


def values(rec: Recording) -> dict[str, Any]:
    v: dict[str, Any] = rec.one(RELEASE, "mesh-control-plane").inputs["values"]
    return v


# --- certificate chain ----------------------------------------------------------------------


def test_trust_anchor_is_a_self_signed_ecdsa_p256_root() -> None:
    rec, cp = build()
    key = rec.one(KEY, "mesh-trust-anchor-key").inputs
    assert key == {"algorithm": "ECDSA", "ecdsaCurve": "P256"}
    cert = rec.one(SELF_SIGNED, "mesh-trust-anchor-cert").inputs
    assert cert["subject"]["commonName"] == "root.linkerd.cluster.local"
    assert cert["isCaCertificate"] is True
    assert sorted(cert["allowedUses"]) == ["cert_signing", "crl_signing"]
    assert cert["maxPathLength"] == 1
    assert cert["validityPeriodHours"] == 87600
    assert cert["earlyRenewalHours"] == 8760
    assert (
        cert["privateKeyPem"]
        == "-----BEGIN PRIVATE KEY-----\nMOCK-mesh-trust-anchor-key\n-----END PRIVATE KEY-----\n"
    )
    assert cp.trust_anchor is not None and cp.issuer is not None


def test_issuer_is_an_intermediate_ca_signed_by_the_anchor() -> None:
    rec, _ = build()
    assert rec.one(KEY, "mesh-issuer-key").inputs == {"algorithm": "ECDSA", "ecdsaCurve": "P256"}
    assert rec.one(CSR, "mesh-issuer-csr").inputs["subject"]["commonName"] == (
        "identity.linkerd.cluster.local"
    )
    issuer = rec.one(SIGNED, "mesh-issuer-cert")
    cert = issuer.inputs
    assert cert["isCaCertificate"] is True
    assert sorted(cert["allowedUses"]) == ["cert_signing", "crl_signing"]
    assert cert["maxPathLength"] == 0
    # Signed by the anchor: its certificate and key (the key only as a secret).
    assert "MOCK-mesh-trust-anchor-cert" in cert["caCertPem"]
    assert "MOCK-mesh-trust-anchor-key" in cert["caPrivateKeyPem"]
    assert "caPrivateKeyPem" in issuer.secret_paths
    anchor = rec.one(SELF_SIGNED).inputs
    assert cert["validityPeriodHours"] == 8760 < anchor["validityPeriodHours"]
    # Renewed with 30 days to spare before `linkerd check` warns (60 days = 1440 h).
    assert cert["earlyRenewalHours"] == 2160 > 1440
    assert anchor["earlyRenewalHours"] > 1440
    # An issuer never outlives its anchor: at most the anchor's renewal window long.
    assert cert["validityPeriodHours"] <= anchor["earlyRenewalHours"]


def test_custom_validity_and_renewal() -> None:
    ident = IdentityArgs(
        trust_anchor_validity_hours=43800,
        trust_anchor_early_renewal_hours=17520,
        issuer_validity_hours=4380,
        issuer_early_renewal_hours=2000,
    )
    rec, _ = build(LinkerdControlPlaneArgs(identity=ident))
    assert rec.one(SELF_SIGNED).inputs["validityPeriodHours"] == 43800
    assert rec.one(SELF_SIGNED).inputs["earlyRenewalHours"] == 17520
    assert rec.one(SIGNED).inputs["validityPeriodHours"] == 4380
    assert rec.one(SIGNED).inputs["earlyRenewalHours"] == 2000


def test_outputs_anchor_pem_public_issuer_expiry_and_namespace() -> None:
    seen: dict[str, Any] = {}

    def program() -> None:
        cp = LinkerdControlPlane("mesh")
        assert cp.trust_anchor_pem is not None and cp.issuer_expiry is not None
        cp.trust_anchor_pem.apply(lambda v: seen.__setitem__("pem", v))
        cp.issuer_expiry.apply(lambda v: seen.__setitem__("expiry", v))
        pulumi.export("trust_anchor_pem", cp.trust_anchor_pem)

    rec = run_program(program)
    assert seen["pem"].startswith("-----BEGIN CERTIFICATE-----")
    assert "PRIVATE KEY" not in seen["pem"]
    # The mock clock starts at 2026-01-01; the issuer lives 8760 h.
    start = datetime.fromisoformat("2026-01-01T00:00:00+00:00")
    expiry = datetime.fromisoformat(seen["expiry"].replace("Z", "+00:00"))
    assert expiry - start == timedelta(hours=8760)
    assert rec.outputs["trust_anchor_pem"] == seen["pem"]


# --- charts: ordering and values ------------------------------------------------------------


def test_ordering_gateway_crds_then_namespace_then_linkerd_crds_then_control_plane() -> None:
    rec, cp = build()
    gw = rec.one("grpc-kube:index:GatewayApiCrds", "mesh-gateway-api-crds")
    ns = rec.one("kubernetes:core/v1:Namespace", "mesh-namespace")
    crds = rec.one(RELEASE, "mesh-crds")
    plane = rec.one(RELEASE, "mesh-control-plane")
    assert rec.depends_on(crds, gw)
    assert rec.depends_on(crds, ns)
    assert crds.urn in plane.dependencies
    assert cp.gateway_api_crds is not None and cp.gateway_api_crds.version == "v1.5.1"
    component = rec.one("grpc-kube:index:LinkerdControlPlane", "mesh")
    assert {r.name for r in rec.children_of(component)} == {
        "mesh-gateway-api-crds",
        "mesh-namespace",
        "mesh-crds",
        "mesh-trust-anchor",
        "mesh-issuer",
        "mesh-control-plane",
    }


def test_charts_are_pinned_edge_releases_in_the_linkerd_namespace() -> None:
    rec, _ = build()
    for pulumi_name, chart in (
        ("mesh-crds", "linkerd-crds"),
        ("mesh-control-plane", "linkerd-control-plane"),
    ):
        rel = rec.one(RELEASE, pulumi_name).inputs
        assert rel["chart"] == chart
        assert rel["name"] == chart  # readable Helm release names, no random suffix
        assert rel["version"] == LINKERD_CHART_VERSION == "2026.8.3"
        assert rel["repositoryOpts"] == {"repo": "https://helm.linkerd.io/edge"}
        assert rel["namespace"] == "linkerd"


def test_linkerd_crds_leave_gateway_api_to_gateway_api_crds() -> None:
    rec, _ = build()
    crds_values = rec.one(RELEASE, "mesh-crds").inputs["values"]
    assert crds_values == {"installGatewayAPI": False}
    assert unknown_value_keys(crds_values, CRDS_KEYS) == []


def test_default_values_identity_from_generated_certificates() -> None:
    rec, _ = build()
    v = values(rec)
    assert v == {
        "cniEnabled": False,
        "proxy": {"defaultInboundPolicy": "all-unauthenticated"},
        "identityTrustAnchorsPEM": "-----BEGIN CERTIFICATE-----\nMOCK-mesh-trust-anchor-cert\n"
        "-----END CERTIFICATE-----\n",
        "identity": {
            "issuer": {
                "scheme": "linkerd.io/tls",
                "tls": {
                    "crtPEM": "-----BEGIN CERTIFICATE-----\nMOCK-mesh-issuer-cert\n"
                    "-----END CERTIFICATE-----\n",
                    "keyPEM": "-----BEGIN PRIVATE KEY-----\nMOCK-mesh-issuer-key\n"
                    "-----END PRIVATE KEY-----\n",
                },
            }
        },
    }
    assert unknown_value_keys(v, CP_KEYS) == []


def test_issuer_key_reaches_the_values_only_as_a_secret() -> None:
    rec, _ = build()
    plane = rec.one(RELEASE, "mesh-control-plane")
    # The SDK marks the whole values map secret once any value in it is.
    assert plane.secret_paths == ["values"]
    # No other resource carries a private key in plain text.
    for r in rec:
        for path, text in _strings(r.inputs):
            if "PRIVATE KEY" in text:
                assert any(path == p or path.startswith(p + ".") for p in r.secret_paths), (
                    r.name,
                    path,
                )


def _strings(value: Any, path: str = "") -> list[tuple[str, str]]:
    if isinstance(value, dict):
        return [x for k, v in value.items() for x in _strings(v, f"{path}.{k}" if path else k)]
    if isinstance(value, list):
        return [x for i, v in enumerate(value) for x in _strings(v, f"{path}.{i}")]
    return [(path, value)] if isinstance(value, str) else []


def test_high_availability_switch() -> None:
    rec, cp = build(LinkerdControlPlaneArgs(high_availability=True))
    v = values(rec)
    assert v["controllerReplicas"] == 3
    assert v["enablePodAntiAffinity"] is True
    assert v["enablePodDisruptionBudget"] is True
    assert v["controller"] == {"podDisruptionBudget": {"maxUnavailable": 1}}
    assert v["deploymentStrategy"] == {"rollingUpdate": {"maxUnavailable": 1, "maxSurge": "25%"}}
    assert v["webhookFailurePolicy"] == "Fail"
    assert v["proxy"]["resources"]["memory"] == {"limit": "250Mi", "request": "20Mi"}
    assert v["proxy"]["defaultInboundPolicy"] == "all-unauthenticated"  # merged, not replaced
    assert "identity" in v and cp.high_availability is True
    assert v["highAvailability"] is True
    # Only the keys the templates read although values.yaml does not list them may be unlisted.
    assert sorted(unknown_value_keys(v, CP_KEYS)) == sorted(
        ".".join(filter(None, (key, leaf))) for key in HA_TEMPLATE_KEYS for leaf in _leaves(v[key])
    )
    rec, _ = build()
    assert "controllerReplicas" not in values(rec)


def _leaves(value: Any, prefix: str = "") -> list[str]:
    if not isinstance(value, dict):
        return [prefix]
    return [p for k, v in value.items() for p in _leaves(v, f"{prefix}.{k}" if prefix else k)]


# Control-plane containers and the chart value that sizes each (templates of
# linkerd-control-plane): none may run without CPU and memory requests under HA.
HA_CONTAINER_RESOURCES = {
    "destination": "destinationResources",
    "identity": "identityResources",
    "proxy-injector": "proxyInjectorResources",
    "heartbeat (CronJob)": "heartbeatResources",
    "sp-validator": "spValidatorResources",
    "linkerd-proxy (every control-plane pod)": "proxy.resources",
}


@pytest.mark.parametrize("container", sorted(HA_CONTAINER_RESOURCES))
def test_high_availability_gives_every_control_plane_container_requests(container: str) -> None:
    rec, _ = build(LinkerdControlPlaneArgs(high_availability=True))
    v: Any = values(rec)
    for part in HA_CONTAINER_RESOURCES[container].split("."):
        v = v.get(part, {}) if isinstance(v, dict) else {}
    assert v.get("cpu", {}).get("request"), (container, v)
    assert v.get("memory", {}).get("request"), (container, v)


def test_extra_values_override_what_the_component_sets() -> None:
    extra = {"identityResources": {"memory": {"limit": "500Mi"}}, "controllerReplicas": 5}
    rec, _ = build(LinkerdControlPlaneArgs(high_availability=True, extra_values=extra))
    v = values(rec)
    assert v["controllerReplicas"] == 5
    assert v["identityResources"]["memory"] == {"limit": "500Mi", "request": "10Mi"}
    assert v["identityResources"]["cpu"] == {"request": "100m"}


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (LinkerdControlPlaneArgs(cni_enabled=True), {"cniEnabled": True}),
        (
            LinkerdControlPlaneArgs(default_inbound_policy="cluster-authenticated"),
            {"proxy": {"defaultInboundPolicy": "cluster-authenticated"}},
        ),
        (
            LinkerdControlPlaneArgs(cluster_networks=("10.0.0.0/8", "fd00::/8")),
            {"clusterNetworks": "10.0.0.0/8,fd00::/8"},
        ),
    ],
    ids=["cni", "inbound-policy", "cluster-networks"],
)
def test_options_reach_the_values(args: LinkerdControlPlaneArgs, expected: dict[str, Any]) -> None:
    rec, _ = build(args)
    v = values(rec)
    for key, val in expected.items():
        if isinstance(val, dict):
            for sub, subval in val.items():
                assert v[key][sub] == subval
        else:
            assert v[key] == val
    assert unknown_value_keys(v, CP_KEYS) == []


# --- namespace and peer ---------------------------------------------------------------------


@pytest.mark.parametrize(("cni", "level"), [(False, "privileged"), (True, "restricted")])
def test_linkerd_namespace_labels(cni: bool, level: str) -> None:
    rec, cp = build(LinkerdControlPlaneArgs(cni_enabled=cni))
    ns = rec.kube("Namespace", "linkerd")
    labels = ns["metadata"]["labels"]
    assert labels["config.linkerd.io/admission-webhooks"] == "disabled"
    assert labels["linkerd.io/is-control-plane"] == "true"
    assert labels["linkerd.io/control-plane-ns"] == "linkerd"
    # linkerd-init needs NET_ADMIN/NET_RAW: only privileged admits it, unless CNI replaces it.
    assert labels["pod-security.kubernetes.io/enforce"] == level
    assert ns["metadata"]["annotations"] == {"linkerd.io/inject": "disabled"}
    assert ns["metadata"] == control_plane_namespace_metadata(cni)
    assert cp.namespace == "linkerd" and cp.cni_enabled is cni
    assert validate_all(rec.kubernetes_objects()) == 1


def test_existing_namespace_is_not_created() -> None:
    rec, _ = build(LinkerdControlPlaneArgs(create_namespace=False))
    assert rec.of_type("kubernetes:core/v1:Namespace") == []
    crds = rec.one(RELEASE, "mesh-crds")
    assert rec.depends_on(crds, rec.one("grpc-kube:index:GatewayApiCrds"))


def test_peer_selects_the_control_plane_pods_for_network_policies() -> None:
    _, cp = build()
    assert cp.peer.namespace == "linkerd"
    assert cp.peer.pod_labels == {"linkerd.io/control-plane-ns": "linkerd"}
    assert cp.peer.ports == CONTROL_PLANE_PORTS == (8080, 8086, 8090)
    assert cp.peer.meshed is True
    assert cp.peer.service_account is None  # several ServiceAccounts: not one identity


# --- shared Gateway API CRDs ----------------------------------------------------------------


def test_shared_gateway_api_crds_are_used_not_duplicated() -> None:
    made: dict[str, Any] = {}

    def program() -> None:
        made["crds"] = GatewayApiCrds("gateway-api")
        made["cp"] = LinkerdControlPlane("mesh", gateway_api_crds=made["crds"])

    rec = run_program(program)
    assert len(rec.of_type("grpc-kube:index:GatewayApiCrds")) == 1
    assert len(rec.of_type("kubernetes:yaml/v2:ConfigFile")) == 1
    assert made["cp"].gateway_api_crds is made["crds"]
    shared = rec.one("grpc-kube:index:GatewayApiCrds", "gateway-api")
    assert rec.depends_on(rec.one(RELEASE, "mesh-crds"), shared)
    assert rec.warnings == []


def test_newer_gateway_api_crds_warn() -> None:
    def program() -> None:
        crds = GatewayApiCrds("gateway-api", GatewayApiCrdsArgs(version="v1.6.1"))
        LinkerdControlPlane("mesh", gateway_api_crds=crds)

    rec = run_program(program)
    assert any("v1.6.1" in w and "v1.5.1" in w for w in rec.warnings), rec.warnings


# --- external identity (cert-manager) -------------------------------------------------------


def test_external_issuer_with_trust_anchor_pem() -> None:
    seen: dict[str, Any] = {}

    def program() -> None:
        issuer = pulumi.CustomResource("test:index:Certificate", "linkerd-identity-issuer", {})
        cp = LinkerdControlPlane(
            "mesh",
            external_identity=ExternalIdentity(
                trust_anchors_pem=ANCHOR_PEM, issuer_dependencies=[issuer]
            ),
        )
        seen["cp"] = cp
        assert cp.trust_anchor_pem is not None
        cp.trust_anchor_pem.apply(lambda v: seen.__setitem__("pem", v))

    rec = run_program(program)
    cp = seen["cp"]
    # No certificates are generated; the chart reads the cert-manager Secret (tls.crt/tls.key).
    assert rec.of_type(KEY) == [] and rec.of_type(SELF_SIGNED) == []
    v = values(rec)
    assert v["identity"] == {"issuer": {"scheme": "kubernetes.io/tls"}}
    assert v["identityTrustAnchorsPEM"] == ANCHOR_PEM
    assert unknown_value_keys(v, CP_KEYS) == []
    plane = rec.one(RELEASE, "mesh-control-plane")
    assert rec.one("test:index:Certificate").urn in plane.dependencies
    assert rec.one(RELEASE, "mesh-crds").urn in plane.dependencies
    assert plane.secret_paths == []  # nothing secret left in the values
    assert seen["pem"] == ANCHOR_PEM
    assert cp.issuer_expiry is None and cp.identity_mode == "external"


def test_external_trust_roots_from_trust_manager() -> None:
    rec, cp = build(external_identity=ExternalIdentity())
    v = values(rec)
    assert v["identity"] == {"externalCA": True, "issuer": {"scheme": "kubernetes.io/tls"}}
    assert "identityTrustAnchorsPEM" not in v
    assert cp.trust_anchor_pem is None
    assert unknown_value_keys(v, CP_KEYS) == []
    # trust-manager's Bundle targets namespaces by this label.
    assert rec.kube("Namespace", "linkerd")["metadata"]["labels"]["linkerd.io/is-control-plane"]


# --- bad input ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("identity", "field", "hint"),
    [
        (
            {"issuer_validity_hours": 90000, "issuer_early_renewal_hours": 2160},
            "issuer_validity_hours",
            "outlive the trust anchor",
        ),
        (
            {"issuer_validity_hours": 87600, "trust_anchor_validity_hours": 87600},
            "issuer_validity_hours",
            "not shorter than trust_anchor_validity_hours",
        ),
        (
            {"issuer_validity_hours": 9000, "issuer_early_renewal_hours": 2000},
            "issuer_validity_hours",
            "trust_anchor_early_renewal_hours (8760)",
        ),
        (
            {
                "issuer_validity_hours": 17520,
                "trust_anchor_early_renewal_hours": 17520,
                "issuer_early_renewal_hours": 2160,
            },
            "issuer_early_renewal_hours",
            "webhook",
        ),
        ({"issuer_early_renewal_hours": 720}, "issuer_early_renewal_hours", "60 days"),
        ({"issuer_early_renewal_hours": 1440}, "issuer_early_renewal_hours", "60 days"),
        ({"trust_anchor_early_renewal_hours": 1000}, "trust_anchor_early_renewal_hours", "60 days"),
        (
            {"issuer_early_renewal_hours": 9000},
            "issuer_early_renewal_hours",
            "below issuer_validity_hours (8760)",
        ),
        ({"issuer_validity_hours": 0}, "issuer_validity_hours", "at least 1"),
        ({"issuer_valdity_hours": 100}, "issuer_valdity_hours", "Did you mean"),
    ],
)
def test_bad_identity_settings(identity: dict[str, int], field: str, hint: str) -> None:
    with pytest.raises(InvalidArgumentError) as err:
        IdentityArgs(**identity)
    msg = str(err.value)
    assert f"- {field}: " in msg, msg
    assert hint in msg and "Fix:" in msg, msg


@pytest.mark.parametrize(
    ("options", "field", "hint"),
    [
        ({"default_inbound_policy": "allow-all"}, "default_inbound_policy", "'all-authenticated'"),
        ({"cluster_networks": ("10.0.0.1/8",)}, "cluster_networks", 'Did you mean "10.0.0.0/8"'),
        ({"cluster_networks": ("ten",)}, "cluster_networks", "'10.0.0.0/24'"),
        ({"cluster_networks": ()}, "cluster_networks", "match nothing"),
        ({"highavailability": True}, "highavailability", "Did you mean 'high_availability'"),
    ],
)
def test_bad_args_name_field_and_fix(options: dict[str, Any], field: str, hint: str) -> None:
    with pytest.raises(InvalidArgumentError) as err:
        LinkerdControlPlaneArgs(**options)
    msg = str(err.value)
    assert f"- {field}" in msg, msg
    assert hint in msg, msg


def test_every_inbound_policy_is_accepted() -> None:
    assert set(INBOUND_POLICIES) == {
        "all-unauthenticated",
        "all-authenticated",
        "cluster-authenticated",
        "cluster-unauthenticated",
        "deny",
        "audit",
    }
    for policy in INBOUND_POLICIES:
        assert (
            LinkerdControlPlaneArgs(default_inbound_policy=policy).default_inbound_policy == policy
        )  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kw", "field", "hint"),
    [
        ({"gateway_api_crds": "gateway-api"}, "gateway_api_crds", "GatewayApiCrds"),
        ({"external_identity": {"trust_anchors_pem": ANCHOR_PEM}}, "external_identity", "Fix:"),
        (
            {
                "args": LinkerdControlPlaneArgs(identity=IdentityArgs()),
                "external_identity": ExternalIdentity(trust_anchors_pem=ANCHOR_PEM),
            },
            "identity",
            "remove one of them",
        ),
        (
            {
                "external_identity": ExternalIdentity(
                    trust_anchors_pem=ANCHOR_PEM + "-----BEGIN PRIVATE KEY-----\nx\n"
                )
            },
            "external_identity.trust_anchors_pem",
            "PRIVATE KEY",
        ),
        (
            {"external_identity": ExternalIdentity(trust_anchors_pem="/etc/ca.crt")},
            "external_identity.trust_anchors_pem",
            "not a PEM certificate",
        ),
        (
            {"external_identity": ExternalIdentity(issuer_dependencies=["cert"])},  # type: ignore[list-item]
            "external_identity.issuer_dependencies",
            "Pulumi resources",
        ),
    ],
)
def test_bad_objects_fail_before_anything_registers(
    kw: dict[str, Any], field: str, hint: str
) -> None:
    errors: list[str] = []
    args = kw.pop("args", None)

    def program() -> None:
        try:
            LinkerdControlPlane("mesh", args, **kw)
        except InvalidArgumentError as exc:
            errors.append(str(exc))

    rec = run_program(program)
    assert len(rec) == 0
    assert errors, "expected an InvalidArgumentError"
    assert f"- {field}" in errors[0], errors[0]
    assert hint in errors[0], errors[0]
    assert "LinkerdControlPlane 'mesh'" in errors[0]


def test_args_as_plain_data_are_validated_like_the_model() -> None:
    rec = run_program(lambda: LinkerdControlPlane("mesh", {"high_availability": True}))
    assert values(rec)["controllerReplicas"] == 3
    with pytest.raises(InvalidArgumentError, match=r"- highavailability: unknown field"):
        run_program(lambda: LinkerdControlPlane("mesh", {"highavailability": True}))
    with pytest.raises(InvalidArgumentError, match=r"LinkerdControlPlane 'mesh'"):
        run_program(lambda: LinkerdControlPlane("mesh", "ha"))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("options", "field"),
    [
        # One field set, its partner left at its default: the rule must still fire.
        ({"trust_anchor_early_renewal_hours": 4000}, "issuer_validity_hours"),
        ({"trust_anchor_validity_hours": 5000}, "trust_anchor_early_renewal_hours"),
        ({"issuer_validity_hours": 2000}, "issuer_early_renewal_hours"),
    ],
)
def test_identity_rules_hold_against_defaults(options: dict[str, int], field: str) -> None:
    with pytest.raises(InvalidArgumentError) as err:
        IdentityArgs(**options)
    assert f"- {field}: got" in str(err.value) and "Fix:" in str(err.value)


# --- cluster networks: every bad entry --------------------------------------------------------


def test_every_bad_cluster_network_is_reported() -> None:
    with pytest.raises(InvalidArgumentError) as err:
        LinkerdControlPlaneArgs(
            cluster_networks=["10.0.0.1/8", "10.0.0.0/8", "ten", "fd00::/8", "192.168.1.1"]
        )
    msg = str(err.value)
    assert "- cluster_networks[0]: got '10.0.0.1/8'; " in msg and 'Did you mean "10.0.0.0/8"' in msg
    assert "- cluster_networks[2]: got 'ten'" in msg
    assert "- cluster_networks[4]: got '192.168.1.1'" in msg and '"192.168.1.1/32"' in msg
    assert "cluster_networks[1]" not in msg and "cluster_networks[3]" not in msg
    assert msg.count("Fix:") == 3


# --- one rule for early renewal -------------------------------------------------------------


def test_identity_renewal_uses_the_shared_rule() -> None:
    with pytest.raises(InvalidArgumentError) as err:
        IdentityArgs(issuer_early_renewal_hours=9000)
    rule = renewal_window_problem(
        9000,
        8760,
        early_field="issuer_early_renewal_hours",
        validity_field="issuer_validity_hours",
    )
    assert f"- issuer_early_renewal_hours: got 9000; {rule}" in str(err.value)


# --- arguments that are Outputs of other resources ---------------------------------------------


def test_outputs_flow_into_the_certificates_and_values() -> None:
    def program() -> None:
        # Outputs exist only inside a running program, so they are made in it.
        LinkerdControlPlane(
            "mesh",
            LinkerdControlPlaneArgs(
                identity=IdentityArgs(
                    trust_anchor_validity_hours=pulumi.Output.from_input(43800),
                    issuer_early_renewal_hours=pulumi.Output.from_input(2000),
                ),
                cluster_networks=pulumi.Output.from_input(
                    ["10.0.0.0/8", pulumi.Output.from_input("fd00::/8")]
                ),
            ),
        )

    rec = run_program(program)
    assert rec.one(SELF_SIGNED).inputs["validityPeriodHours"] == 43800
    assert rec.one(SIGNED).inputs["earlyRenewalHours"] == 2000
    assert values(rec)["clusterNetworks"] == "10.0.0.0/8,fd00::/8"


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (
            lambda o: LinkerdControlPlaneArgs(cluster_networks=["10.0.0.0/8", o("10.1.0.1/16")]),
            "- cluster_networks[1]: got '10.1.0.1/16'",
        ),
        (
            lambda o: LinkerdControlPlaneArgs(identity=IdentityArgs(issuer_validity_hours=o(9000))),
            "- identity.issuer_validity_hours: got 9000",
        ),
        (
            lambda o: LinkerdControlPlaneArgs(
                identity=IdentityArgs(issuer_early_renewal_hours=o(720))
            ),
            "- identity.issuer_early_renewal_hours: got 720",
        ),
    ],
    ids=["cidr", "issuer-validity", "issuer-renewal"],
)
def test_an_output_that_resolves_to_a_bad_value_fails_the_deployment(
    make: Any, expected: str
) -> None:
    def program() -> None:
        LinkerdControlPlane("mesh", make(pulumi.Output.from_input))

    with pytest.raises(ValueError) as err:
        run_program(program)
    msg = str(err.value)
    assert "LinkerdControlPlane 'mesh': invalid input (values that arrived as Outputs" in msg, msg
    assert expected in msg, msg
    registered = {r.name for r in err.value.recording.of_type(RELEASE)}  # type: ignore[attr-defined]
    assert "mesh-control-plane" not in registered


def test_a_trust_anchor_output_orders_the_install_with_no_issuer_dependencies() -> None:
    def program() -> None:
        anchor = pulumi.CustomResource("test:index:Anchor", "anchor", {"pem": ANCHOR_PEM})
        LinkerdControlPlane(
            "mesh",
            external_identity=ExternalIdentity(
                trust_anchors_pem=anchor.urn.apply(lambda _: ANCHOR_PEM)
            ),
        )

    rec = run_program(program)
    plane = rec.one(RELEASE, "mesh-control-plane")
    assert values(rec)["identityTrustAnchorsPEM"] == ANCHOR_PEM
    assert rec.depends_on(plane, rec.one("test:index:Anchor"))


ISSUER_PEM = "-----BEGIN CERTIFICATE-----\nMIIB...issuer\n-----END CERTIFICATE-----\n"
ISSUER_KEY = "-----BEGIN EC PRIVATE KEY-----\nMHc...secret\n-----END EC PRIVATE KEY-----\n"


@pytest.mark.parametrize("as_output", [False, True], ids=["plain", "secret-output"])
def test_own_issuer_certificate_and_key(as_output: bool) -> None:
    def program() -> None:
        key: Any = pulumi.Output.secret(ISSUER_KEY) if as_output else ISSUER_KEY
        cert: Any = pulumi.Output.from_input(ISSUER_PEM) if as_output else ISSUER_PEM
        LinkerdControlPlane(
            "mesh",
            external_identity=ExternalIdentity(
                trust_anchors_pem=ANCHOR_PEM, issuer_cert_pem=cert, issuer_key_pem=key
            ),
        )

    rec = run_program(program)
    v = values(rec)
    assert v["identity"]["issuer"] == {
        "scheme": "linkerd.io/tls",
        "tls": {"crtPEM": ISSUER_PEM, "keyPEM": ISSUER_KEY},
    }
    assert unknown_value_keys(v, CP_KEYS) == []
    # The key reaches the values only as a secret (the SDK then marks the whole map secret).
    assert rec.one(RELEASE, "mesh-control-plane").secret_paths == ["values"]
    assert rec.of_type(KEY) == []  # nothing generated


def test_a_bad_issuer_key_output_fails_without_showing_the_key() -> None:
    leaked = "-----BEGIN CERTIFICATE-----\nTOP-SECRET\n-----END CERTIFICATE-----\n"

    def program() -> None:
        LinkerdControlPlane(
            "mesh",
            external_identity=ExternalIdentity(
                trust_anchors_pem=ANCHOR_PEM,
                issuer_cert_pem=ISSUER_PEM,
                issuer_key_pem=pulumi.Output.secret(leaked),
            ),
        )

    with pytest.raises(ValueError) as err:
        run_program(program)
    msg = str(err.value)
    assert "external_identity.issuer_key_pem: got a value that is not a PEM private key" in msg
    assert "TOP-SECRET" not in msg


@pytest.mark.parametrize(
    ("ext", "field", "hint"),
    [
        (
            ExternalIdentity(trust_anchors_pem=ANCHOR_PEM, issuer_cert_pem=ISSUER_PEM),
            "external_identity.issuer_key_pem",
            "missing, but issuer_cert_pem is set",
        ),
        (
            ExternalIdentity(issuer_key_pem=ISSUER_KEY),
            "external_identity.issuer_cert_pem",
            "missing, but issuer_key_pem is set",
        ),
        (
            ExternalIdentity(issuer_cert_pem=ISSUER_PEM + ISSUER_KEY, issuer_key_pem=ISSUER_KEY),
            "external_identity.issuer_cert_pem",
            "PRIVATE KEY block (not shown)",
        ),
        (
            ExternalIdentity(issuer_cert_pem=ISSUER_PEM, issuer_key_pem="hunter2"),
            "external_identity.issuer_key_pem",
            "not a PEM private key",
        ),
    ],
    ids=["cert-without-key", "key-without-cert", "key-in-cert", "not-a-key"],
)
def test_bad_own_issuer_fails_before_anything_registers(
    ext: ExternalIdentity, field: str, hint: str
) -> None:
    errors: list[str] = []

    def program() -> None:
        try:
            LinkerdControlPlane("mesh", external_identity=ext)
        except InvalidArgumentError as exc:
            errors.append(str(exc))

    rec = run_program(program)
    assert len(rec) == 0
    assert f"- {field}: " in errors[0] and hint in errors[0] and "Fix:" in errors[0], errors[0]
    assert "hunter2" not in errors[0] and "MHc...secret" not in errors[0]


def test_switches_must_be_plain() -> None:
    def program() -> None:
        LinkerdControlPlane("mesh", {"cni_enabled": pulumi.Output.from_input(True)})

    with pytest.raises(InvalidArgumentError, match=r"cni_enabled: got an Output"):
        run_program(program)


def test_linkerd_namespace_metadata_comes_from_the_shared_helper() -> None:
    for cni, level in ((False, "privileged"), (True, "restricted")):
        meta = control_plane_namespace_metadata(cni)
        assert meta == namespace_metadata(
            "linkerd",
            enforce=pod_security_level(None, mesh=True, linkerd_cni=cni),
            warn=None,
            audit=None,
            labels={
                "linkerd.io/is-control-plane": "true",
                "config.linkerd.io/admission-webhooks": "disabled",
                "linkerd.io/control-plane-ns": "linkerd",
            },
            annotations={"linkerd.io/inject": "disabled"},
        )
        assert meta["labels"]["pod-security.kubernetes.io/enforce"] == level


# --- where the charts come from, or a Linkerd the cluster already runs -------------------------


def linkerd_chart(parent: Path, name: str, version: str = LINKERD_CHART_VERSION) -> Path:
    """A minimal chart directory, as `helm pull --untar` leaves one."""
    d = parent / name
    d.mkdir(parents=True)
    (d / "Chart.yaml").write_text(f"apiVersion: v2\nname: {name}\nversion: {version}\n")
    return d


def test_an_existing_linkerd_installs_nothing_and_describes_the_control_plane() -> None:
    _, installed = build(LinkerdControlPlaneArgs(cni_enabled=True))
    rec, cp = build(LinkerdControlPlaneArgs(install={"existing": True}, cni_enabled=True))
    # No namespace, charts, certificates or Gateway API CRDs: only the component itself.
    assert [r.type for r in rec] == ["grpc-kube:index:LinkerdControlPlane"]
    assert cp.existing is True and cp.identity_mode == "existing"
    assert cp.trust_anchor_pem is None and cp.issuer_expiry is None
    assert cp.trust_anchor is None and cp.issuer is None
    assert cp.release is None and cp.crds_release is None and cp.gateway_api_crds is None
    assert (cp.namespace, cp.cni_enabled, cp.peer) == (
        installed.namespace,
        installed.cni_enabled,
        installed.peer,
    )
    assert rec.warnings == []


def test_meshed_namespaces_and_authorization_are_the_same_on_an_existing_linkerd() -> None:
    def program(install: dict[str, Any]) -> Callable[[], None]:
        def run() -> None:
            cp = LinkerdControlPlane("mesh", {"install": install, "cni_enabled": True})
            ns = MeshEnabledNamespace(
                "demo",
                MeshEnabledNamespaceArgs(name="demo", default_inbound_policy="all-authenticated"),
                control_plane=cp,
            )
            server = GrpcService(
                "greeter",
                GrpcServiceArgs(image="r/greeter:1", namespace="demo", mesh=True, health_port=8086),
                opts=pulumi.ResourceOptions(depends_on=[ns]),
            )
            client = GrpcService(
                "client", GrpcServiceArgs(image="r/client:1", namespace="demo", mesh=True)
            )
            MeshAuthorization("greeter-authz", server=server, allow=[client], control_plane=cp)

        return run

    installed = run_program(program({}))
    existing = run_program(program({"existing": True}))
    linkerd_ns = [o for o in installed.kubernetes_objects() if o["metadata"]["name"] == "linkerd"]
    assert [o["kind"] for o in linkerd_ns] == ["Namespace"]
    assert existing.kubernetes_objects() == [
        o for o in installed.kubernetes_objects() if o not in linkerd_ns
    ]
    # Restricted holds in the meshed namespace: the existing Linkerd runs the CNI plugin.
    labels = existing.kube("Namespace", "demo")["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
    assert existing.of_type(RELEASE) == [] and existing.of_type(SELF_SIGNED) == []


def test_an_existing_linkerd_keeps_given_crds_and_warns_about_install_settings() -> None:
    made: dict[str, Any] = {}

    def program() -> None:
        made["crds"] = GatewayApiCrds("gateway-api", GatewayApiCrdsArgs(existing=True))
        made["cp"] = LinkerdControlPlane(
            "mesh",
            {"install": {"existing": True}, "high_availability": True, "identity": {}},
            gateway_api_crds=made["crds"],
        )

    rec = run_program(program)
    assert made["cp"].gateway_api_crds is made["crds"]
    assert made["cp"].high_availability is False  # no HA values were set: nothing was
    (warning,) = rec.warnings
    assert "high_availability, identity are ignored" in warning
    assert "described by cni_enabled" in warning


def test_an_existing_linkerd_refuses_an_external_identity() -> None:
    errors: list[str] = []

    def program() -> None:
        try:
            LinkerdControlPlane(
                "mesh",
                {"install": {"existing": True}},
                external_identity=ExternalIdentity(trust_anchors_pem=ANCHOR_PEM),
            )
        except InvalidArgumentError as exc:
            errors.append(str(exc))

    assert len(run_program(program)) == 0
    (msg,) = errors
    assert "- external_identity: given, but install.existing is set" in msg and "Fix:" in msg


@pytest.mark.parametrize("packaged", [False, True])
def test_both_charts_from_one_local_directory(tmp_path: Path, packaged: bool) -> None:
    for name in ("linkerd-crds", "linkerd-control-plane"):
        chart = linkerd_chart(tmp_path / "src", name)
        if packaged:  # as `helm pull -d <dir>` writes them
            with tarfile.open(tmp_path / f"{name}-{LINKERD_CHART_VERSION}.tgz", "w:gz") as tar:
                tar.add(chart, arcname=name)
        else:
            chart.rename(tmp_path / name)
    rec, _ = build(LinkerdControlPlaneArgs(install={"chart": str(tmp_path)}))
    suffix = f"-{LINKERD_CHART_VERSION}.tgz" if packaged else ""
    for pulumi_name, chart_name in (
        ("mesh-crds", "linkerd-crds"),
        ("mesh-control-plane", "linkerd-control-plane"),
    ):
        rel = rec.one(RELEASE, pulumi_name).inputs
        assert rel["chart"] == str(tmp_path / f"{chart_name}{suffix}")
        assert "version" not in rel and "repositoryOpts" not in rel
    assert values(rec) == values(build()[0])
    assert rec.warnings == []


def test_a_local_chart_of_another_version_warns(tmp_path: Path) -> None:
    linkerd_chart(tmp_path, "linkerd-crds")
    linkerd_chart(tmp_path, "linkerd-control-plane", version="2026.7.1")
    rec, _ = build(LinkerdControlPlaneArgs(install={"chart": str(tmp_path)}))
    (warning,) = rec.warnings
    assert "linkerd-control-plane 2026.7.1" in warning and "checked against 2026.8.3" in warning


def test_both_charts_from_an_oci_mirror_or_a_repository_mirror() -> None:
    rec, _ = build(
        LinkerdControlPlaneArgs(install={"chart": "oci://registry.example.com/linkerd/"})
    )
    for pulumi_name, chart_name in (
        ("mesh-crds", "linkerd-crds"),
        ("mesh-control-plane", "linkerd-control-plane"),
    ):
        rel = rec.one(RELEASE, pulumi_name).inputs
        assert rel["chart"] == f"oci://registry.example.com/linkerd/{chart_name}"
        assert rel["version"] == "2026.8.3" and "repositoryOpts" not in rel
    mirror = "https://charts.example.com/linkerd-edge"
    rec, _ = build(LinkerdControlPlaneArgs(install={"repository": mirror}))
    for pulumi_name, chart_name in (
        ("mesh-crds", "linkerd-crds"),
        ("mesh-control-plane", "linkerd-control-plane"),
    ):
        rel = rec.one(RELEASE, pulumi_name).inputs
        assert (rel["chart"], rel["version"]) == (chart_name, "2026.8.3")
        assert rel["repositoryOpts"] == {"repo": mirror}


def test_a_local_path_must_hold_both_charts(tmp_path: Path) -> None:
    single = linkerd_chart(tmp_path / "one", "linkerd-control-plane")
    with pytest.raises(InvalidArgumentError) as err:
        LinkerdControlPlaneArgs(install={"chart": str(single)})
    assert f"- install.chart: got {str(single)!r}" in str(err.value)
    assert "is a single chart" in str(err.value) and "Fix:" in str(err.value)
    half = tmp_path / "half"
    linkerd_chart(half, "linkerd-crds")
    with pytest.raises(InvalidArgumentError) as err:
        LinkerdControlPlaneArgs(install={"chart": str(half)})
    assert "holds no chart 'linkerd-control-plane'" in str(err.value)
    assert f"linkerd-control-plane-{LINKERD_CHART_VERSION}.tgz" in str(err.value)
    with pytest.raises(InvalidArgumentError, match=r"install.chart: got .*no file or directory"):
        LinkerdControlPlaneArgs(install={"chart": str(tmp_path / "missing")})
    with pytest.raises(InvalidArgumentError, match=r"install.repository: got .*existing is true"):
        LinkerdControlPlaneArgs(install={"existing": True, "repository": "https://x.example"})
