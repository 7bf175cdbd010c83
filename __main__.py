"""Pulumi entry point: `pulumi up --stack dev` runs this with the stack's config.

The whole deployment is one component, GrpcPlatform, built from the stack config; the library
never exports, so the program decides what becomes a stack output.
"""

import pulumi

from grpc_kube import GrpcPlatform, read_config

platform = GrpcPlatform("grpc-kube", read_config(pulumi.Config()))
for key, value in platform.stack_outputs.items():
    pulumi.export(key, value)
