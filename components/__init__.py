"""grpc-kube: Pulumi components that run gRPC on Kubernetes with per-request (L7) balancing,
TLS, a Linkerd mesh and zero-trust network policies.

The public API is what `__all__` lists; modules starting with `_` are private.
"""

from ._validation import InvalidArgumentError
from .certificates import (
    Certificate,
    CertificateArgs,
    CertificateAuthority,
    CertificateAuthorityArgs,
    TlsSecret,
)
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
from .peers import PeerRef

__all__ = [
    "ROUND_ROBIN_SERVICE_CONFIG",
    "AutoscalingArgs",
    "Certificate",
    "CertificateArgs",
    "CertificateAuthority",
    "CertificateAuthorityArgs",
    "GrpcService",
    "GrpcServiceArgs",
    "GrpcServiceInfo",
    "InvalidArgumentError",
    "PeerRef",
    "ProbeArgs",
    "ResourcesArgs",
    "SecurityArgs",
    "ServerTlsArgs",
    "TlsSecret",
]
