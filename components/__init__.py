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
    "TlsSecret": ".certificates",
    "ROUND_ROBIN_SERVICE_CONFIG": ".grpc_service",
    "AutoscalingArgs": ".grpc_service",
    "GrpcService": ".grpc_service",
    "GrpcServiceArgs": ".grpc_service",
    "GrpcServiceInfo": ".grpc_service",
    "ProbeArgs": ".grpc_service",
    "ResourcesArgs": ".grpc_service",
    "SecurityArgs": ".grpc_service",
    "ServerTlsArgs": ".grpc_service",
    "PeerRef": ".peers",
    "GatewayApiCrds": ".gateway_api_crds",
    "GatewayApiCrdsArgs": ".gateway_api_crds",
    "NginxGatewayFabric": ".nginx_gateway_fabric",
    "NginxGatewayFabricArgs": ".nginx_gateway_fabric",
    "GrpcGateway": ".grpc_gateway",
    "GrpcGatewayArgs": ".grpc_gateway",
    "GrpcMethodMatch": ".grpc_gateway",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'components' has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


if TYPE_CHECKING:  # what type checkers and IDEs see; tests/test_public_api.py keeps it in sync
    from ._validation import (
        InvalidArgumentError as InvalidArgumentError,
    )
    from .certificates import (
        Certificate as Certificate,
    )
    from .certificates import (
        CertificateArgs as CertificateArgs,
    )
    from .certificates import (
        CertificateAuthority as CertificateAuthority,
    )
    from .certificates import (
        CertificateAuthorityArgs as CertificateAuthorityArgs,
    )
    from .certificates import (
        TlsSecret as TlsSecret,
    )
    from .gateway_api_crds import (
        GatewayApiCrds as GatewayApiCrds,
    )
    from .gateway_api_crds import (
        GatewayApiCrdsArgs as GatewayApiCrdsArgs,
    )
    from .grpc_gateway import (
        GrpcGateway as GrpcGateway,
    )
    from .grpc_gateway import (
        GrpcGatewayArgs as GrpcGatewayArgs,
    )
    from .grpc_gateway import (
        GrpcMethodMatch as GrpcMethodMatch,
    )
    from .grpc_service import (
        ROUND_ROBIN_SERVICE_CONFIG as ROUND_ROBIN_SERVICE_CONFIG,
    )
    from .grpc_service import (
        AutoscalingArgs as AutoscalingArgs,
    )
    from .grpc_service import (
        GrpcService as GrpcService,
    )
    from .grpc_service import (
        GrpcServiceArgs as GrpcServiceArgs,
    )
    from .grpc_service import (
        GrpcServiceInfo as GrpcServiceInfo,
    )
    from .grpc_service import (
        ProbeArgs as ProbeArgs,
    )
    from .grpc_service import (
        ResourcesArgs as ResourcesArgs,
    )
    from .grpc_service import (
        SecurityArgs as SecurityArgs,
    )
    from .grpc_service import (
        ServerTlsArgs as ServerTlsArgs,
    )
    from .nginx_gateway_fabric import (
        NginxGatewayFabric as NginxGatewayFabric,
    )
    from .nginx_gateway_fabric import (
        NginxGatewayFabricArgs as NginxGatewayFabricArgs,
    )
    from .peers import (
        PeerRef as PeerRef,
    )
