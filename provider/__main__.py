"""Entry point of the grpc-kube provider plugin (see PulumiPlugin.yaml and
grpc_kube.package): serves the components' schema and constructs them for other languages."""

import sys
from importlib.metadata import version

from pulumi.provider import main

from grpc_kube.package import GrpcKubeProvider

if __name__ == "__main__":
    main(GrpcKubeProvider(version=version("grpc-kube")), sys.argv[1:])
