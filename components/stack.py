"""The deployment a stack describes: the stack config schema and the function that builds it.

`__main__.py` calls `build_from_config(pulumi.Config())`; tests and other programs call
`build(StackConfig)` directly. Every key is validated before any resource registers, and errors
name the key path (`services[0].replicas`) and the fix.
"""

from __future__ import annotations

from typing import Any

import pulumi
from pydantic import field_validator

from ._validation import ArgsModel, check_dns_label, validate_model
from .grpc_service import GrpcService, GrpcServiceArgs

__all__ = ["Deployment", "ServiceConfig", "StackConfig", "build", "build_from_config"]

CONFIG_KEYS = ("services",)


class ServiceConfig(GrpcServiceArgs):
    """One entry of `services`: a GrpcService's arguments plus its `name`."""

    name: str
    """Component name, and the Kubernetes name of the Service unless `service_name` is set."""

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        return check_dns_label(v, what="service name")


class StackConfig(ArgsModel):
    """The whole stack configuration (keys under the `grpc-kube:` namespace)."""

    services: list[ServiceConfig] = []
    """The gRPC services to deploy (default none)."""


class Deployment:
    """What `build` created, by name."""

    def __init__(self) -> None:
        self.services: dict[str, GrpcService] = {}


def build(config: StackConfig) -> Deployment:
    out = Deployment()
    for svc in config.services:
        args = GrpcServiceArgs(**svc.model_dump(exclude={"name"}, exclude_unset=True))
        out.services[svc.name] = GrpcService(svc.name, args)
        pulumi.export(f"{svc.name}_dns_name", out.services[svc.name].dns_name)
    return out


def read_config(cfg: pulumi.Config) -> dict[str, Any]:
    """Every key of this project's config namespace, structured values decoded.

    Reads all keys, not only the known ones, so a misspelled top-level key is reported instead of
    silently ignored.
    """
    from pulumi.runtime import config as runtime_config

    prefix = f"{cfg.name}:"
    keys = set(runtime_config.CONFIG.get()) | set(runtime_config.get_config_env())
    raw: dict[str, Any] = {}
    for full_key in sorted(keys):
        if full_key.startswith(prefix):
            key = full_key[len(prefix) :]
            try:
                raw[key] = cfg.get_object(key)
            except pulumi.ConfigTypeError:  # a plain string that is not JSON
                raw[key] = cfg.get(key)
    return raw


def build_from_config(cfg: pulumi.Config) -> Deployment:
    model = validate_model(StackConfig, read_config(cfg), where="stack config")
    return build(model)
