"""grpc-kube: Pulumi components that run gRPC on Kubernetes with per-request (L7) balancing,
TLS, a Linkerd mesh and zero-trust network policies.

The public API is what `__all__` lists; modules starting with `_` are private.
"""

from ._validation import InvalidArgumentError
from .grpc_service import (
    ROUND_ROBIN_SERVICE_CONFIG,
    AutoscalingArgs,
    GrpcService,
    GrpcServiceArgs,
    GrpcServiceInfo,
    ProbeArgs,
    ResourcesArgs,
    SecurityArgs,
    ServerTlsArgs,
)

__all__ = [
    "ROUND_ROBIN_SERVICE_CONFIG",
    "AutoscalingArgs",
    "GrpcService",
    "GrpcServiceArgs",
    "GrpcServiceInfo",
    "InvalidArgumentError",
    "ProbeArgs",
    "ResourcesArgs",
    "SecurityArgs",
    "ServerTlsArgs",
]
