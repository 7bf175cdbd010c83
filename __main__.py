"""Pulumi entry point: `pulumi up --stack dev` runs this with the stack's config.

Kept short on purpose: the assembly lives in the library (`grpc_kube.stack`) so tests and other
programs can call it.
"""

import pulumi

from grpc_kube.stack import build_from_config

build_from_config(pulumi.Config())
