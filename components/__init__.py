"""grpc-kube: Pulumi components that run gRPC on Kubernetes with per-request (L7) balancing,
TLS, a Linkerd mesh and zero-trust network policies.

The public API is what `__all__` lists; modules starting with `_` are private. Names load on
first use (PEP 562), so `grpc-lb-check` and other light tools that live in this package do not
pay for importing Pulumi.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# Public name -> the module that defines it.
_EXPORTS: dict[str, str] = {
    "InvalidArgumentError": "._validation",
    "Certificate": ".certificates",
    "CertificateArgs": ".certificates",
    "CertificateAuthority": ".certificates",
    "CertificateAuthorityArgs": ".certificates",
    "EdgeTlsArgs": ".certificates",
    "TlsSecret": ".certificates",
    "check_hostname": ".certificates",
    "issue_tls_secret": ".certificates",
    "GatewayApiCrds": ".gateway_api_crds",
    "GatewayApiCrdsArgs": ".gateway_api_crds",
    "GrpcGateway": ".grpc_gateway",
    "GrpcGatewayArgs": ".grpc_gateway",
    "GrpcMethodMatch": ".grpc_gateway",
    "client_settings_policy_object": ".grpc_gateway",
    "grpc_route_object": ".grpc_gateway",
    "GatewayRef": ".grpc_gateway",
    "InstallArgs": "._helm",
    "GrpcRoute": ".grpc_route",
    "GrpcRouteArgs": ".grpc_route",
    "IngressControllerRef": ".nginx_ingress_controller",
    "ImagePullPolicy": ".grpc_service",
    "FieldError": "._validation",
    "GrpcIngress": ".grpc_ingress",
    "GrpcIngressArgs": ".grpc_ingress",
    "grpcurl_command": ".grpc_ingress",
    "AutoscalingArgs": ".grpc_service",
    "GrpcService": ".grpc_service",
    "GrpcServiceArgs": ".grpc_service",
    "GrpcServiceRef": ".grpc_service",
    "ProbeArgs": ".grpc_service",
    "ROUND_ROBIN_SERVICE_CONFIG": ".grpc_service",
    "ResourcesArgs": ".grpc_service",
    "SecurityArgs": ".grpc_service",
    "ServerTlsArgs": ".grpc_service",
    "ExternalIdentity": ".linkerd_control_plane",
    "IdentityArgs": ".linkerd_control_plane",
    "LinkerdControlPlane": ".linkerd_control_plane",
    "LinkerdControlPlaneArgs": ".linkerd_control_plane",
    "EdgeAuthorization": ".mesh_authorization",
    "EdgeAuthorizationArgs": ".mesh_authorization",
    "MeshAuthorization": ".mesh_authorization",
    "MeshAuthorizationArgs": ".mesh_authorization",
    "ServiceAccountRef": ".mesh_authorization",
    "MeshEnabledNamespace": ".mesh_enabled_namespace",
    "MeshEnabledNamespaceArgs": ".mesh_enabled_namespace",
    "NginxGatewayFabric": ".nginx_gateway_fabric",
    "NginxGatewayFabricArgs": ".nginx_gateway_fabric",
    "NginxIngressController": ".nginx_ingress_controller",
    "NginxIngressControllerArgs": ".nginx_ingress_controller",
    "PeerRef": ".peers",
    "GrpcPlatform": ".stack",
    "StackConfig": ".stack",
    "load_config": ".stack",
    "read_config": ".stack",
    "Allow": ".zero_trust_policy",
    "EdgePeer": ".zero_trust_policy",
    "EdgeWorkload": ".zero_trust_policy",
    "IngressLike": ".zero_trust_policy",
    "IpBlock": ".zero_trust_policy",
    "LabelSelector": ".zero_trust_policy",
    "LabelSelectorRequirement": ".zero_trust_policy",
    "MeshNamespaceLike": ".zero_trust_policy",
    "NetworkPeer": ".zero_trust_policy",
    "PolicyPort": ".zero_trust_policy",
    "PolicyRule": ".zero_trust_policy",
    "RawNetworkPolicy": ".zero_trust_policy",
    "ZeroTrustPolicy": ".zero_trust_policy",
    "ZeroTrustPolicyArgs": ".zero_trust_policy",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'grpc_kube' has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


if TYPE_CHECKING:  # what type checkers and IDEs see; tests/test_public_api.py keeps it in sync
    from ._helm import InstallArgs as InstallArgs
    from ._validation import FieldError as FieldError
    from ._validation import InvalidArgumentError as InvalidArgumentError
    from .certificates import Certificate as Certificate
    from .certificates import CertificateArgs as CertificateArgs
    from .certificates import CertificateAuthority as CertificateAuthority
    from .certificates import CertificateAuthorityArgs as CertificateAuthorityArgs
    from .certificates import EdgeTlsArgs as EdgeTlsArgs
    from .certificates import TlsSecret as TlsSecret
    from .certificates import check_hostname as check_hostname
    from .certificates import issue_tls_secret as issue_tls_secret
    from .gateway_api_crds import GatewayApiCrds as GatewayApiCrds
    from .gateway_api_crds import GatewayApiCrdsArgs as GatewayApiCrdsArgs
    from .grpc_gateway import GatewayRef as GatewayRef
    from .grpc_gateway import GrpcGateway as GrpcGateway
    from .grpc_gateway import GrpcGatewayArgs as GrpcGatewayArgs
    from .grpc_gateway import GrpcMethodMatch as GrpcMethodMatch
    from .grpc_gateway import client_settings_policy_object as client_settings_policy_object
    from .grpc_gateway import grpc_route_object as grpc_route_object
    from .grpc_ingress import GrpcIngress as GrpcIngress
    from .grpc_ingress import GrpcIngressArgs as GrpcIngressArgs
    from .grpc_ingress import grpcurl_command as grpcurl_command
    from .grpc_route import GrpcRoute as GrpcRoute
    from .grpc_route import GrpcRouteArgs as GrpcRouteArgs
    from .grpc_service import ROUND_ROBIN_SERVICE_CONFIG as ROUND_ROBIN_SERVICE_CONFIG
    from .grpc_service import AutoscalingArgs as AutoscalingArgs
    from .grpc_service import GrpcService as GrpcService
    from .grpc_service import GrpcServiceArgs as GrpcServiceArgs
    from .grpc_service import GrpcServiceRef as GrpcServiceRef
    from .grpc_service import ImagePullPolicy as ImagePullPolicy
    from .grpc_service import ProbeArgs as ProbeArgs
    from .grpc_service import ResourcesArgs as ResourcesArgs
    from .grpc_service import SecurityArgs as SecurityArgs
    from .grpc_service import ServerTlsArgs as ServerTlsArgs
    from .linkerd_control_plane import ExternalIdentity as ExternalIdentity
    from .linkerd_control_plane import IdentityArgs as IdentityArgs
    from .linkerd_control_plane import LinkerdControlPlane as LinkerdControlPlane
    from .linkerd_control_plane import LinkerdControlPlaneArgs as LinkerdControlPlaneArgs
    from .mesh_authorization import EdgeAuthorization as EdgeAuthorization
    from .mesh_authorization import EdgeAuthorizationArgs as EdgeAuthorizationArgs
    from .mesh_authorization import MeshAuthorization as MeshAuthorization
    from .mesh_authorization import MeshAuthorizationArgs as MeshAuthorizationArgs
    from .mesh_authorization import ServiceAccountRef as ServiceAccountRef
    from .mesh_enabled_namespace import MeshEnabledNamespace as MeshEnabledNamespace
    from .mesh_enabled_namespace import MeshEnabledNamespaceArgs as MeshEnabledNamespaceArgs
    from .nginx_gateway_fabric import NginxGatewayFabric as NginxGatewayFabric
    from .nginx_gateway_fabric import NginxGatewayFabricArgs as NginxGatewayFabricArgs
    from .nginx_ingress_controller import IngressControllerRef as IngressControllerRef
    from .nginx_ingress_controller import NginxIngressController as NginxIngressController
    from .nginx_ingress_controller import NginxIngressControllerArgs as NginxIngressControllerArgs
    from .peers import PeerRef as PeerRef
    from .stack import GrpcPlatform as GrpcPlatform
    from .stack import StackConfig as StackConfig
    from .stack import load_config as load_config
    from .stack import read_config as read_config
    from .zero_trust_policy import Allow as Allow
    from .zero_trust_policy import EdgePeer as EdgePeer
    from .zero_trust_policy import EdgeWorkload as EdgeWorkload
    from .zero_trust_policy import IngressLike as IngressLike
    from .zero_trust_policy import IpBlock as IpBlock
    from .zero_trust_policy import LabelSelector as LabelSelector
    from .zero_trust_policy import LabelSelectorRequirement as LabelSelectorRequirement
    from .zero_trust_policy import MeshNamespaceLike as MeshNamespaceLike
    from .zero_trust_policy import NetworkPeer as NetworkPeer
    from .zero_trust_policy import PolicyPort as PolicyPort
    from .zero_trust_policy import PolicyRule as PolicyRule
    from .zero_trust_policy import RawNetworkPolicy as RawNetworkPolicy
    from .zero_trust_policy import ZeroTrustPolicy as ZeroTrustPolicy
    from .zero_trust_policy import ZeroTrustPolicyArgs as ZeroTrustPolicyArgs
