"""Validation shared by every component: the error type, the base for argument models, and
checks for the Kubernetes names and numbers that components accept.

Every component validates all of its input before it registers a single resource, so a bad
argument never leaves half a deployment behind. Errors name the field, the value received, what
is allowed and how to fix it (STYLE: "validate early, say how to fix").
"""

from __future__ import annotations

import difflib
import ipaddress
import re
from collections.abc import Iterable, Mapping
from contextvars import ContextVar
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

__all__ = [
    "ArgsModel",
    "InvalidArgumentError",
    "check_annotation_keys",
    "check_cidr",
    "check_dns_label",
    "check_dns_subdomain",
    "check_label_map",
    "check_port",
    "validate_model",
]

M = TypeVar("M", bound=BaseModel)

# How many ArgsModel validations are running in this context (see ArgsModel.__init__).
_NESTING: ContextVar[int] = ContextVar("grpc_kube_args_nesting", default=0)


class InvalidArgumentError(ValueError):
    """Bad input to a grpc-kube component or stack config. Raised before any resource registers.

    `problems` holds one line per offending field: ``path: message``.
    """

    def __init__(self, where: str, problems: list[str]) -> None:
        self.where = where
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"{where}: invalid input\n{lines}")


def _loc(loc: Iterable[int | str]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(root)"


def _allowed_fields(model: type[BaseModel], loc: tuple[int | str, ...]) -> list[str]:
    """Walk `loc` through nested models to list the fields allowed where an unknown key sits."""
    current: Any = model
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        fields = getattr(current, "model_fields", None)
        if not fields or part not in fields:
            return []
        current = _model_in(fields[part].annotation)
        if current is None:
            return []
    fields = getattr(current, "model_fields", None)
    if not fields:
        return []
    return [f.alias or n for n, f in fields.items()]


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The pydantic model inside an annotation such as `X | None` or `list[X]`, if any."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def _describe(model: type[BaseModel], err: Mapping[str, Any], prefix: str) -> str:
    loc = tuple(err["loc"])
    path = prefix + _loc(loc) if prefix else _loc(loc)
    kind = err["type"]
    value = err.get("input")
    if kind == "extra_forbidden":
        allowed = _allowed_fields(model, loc)
        hint = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
        fix = f" Did you mean '{hint[0]}'?" if hint else ""
        listing = f" Allowed here: {', '.join(sorted(allowed))}." if allowed else ""
        return f"{path}: unknown field.{listing}{fix} Fix: remove or rename it."
    if kind == "missing":
        return f"{path}: required field is missing. Fix: set it."
    msg = str(err["msg"])
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, ") :]
        return f"{path}: got {value!r}; {msg}"
    return f"{path}: got {value!r}; {msg}. Fix: give a value that satisfies this."


def validate_model(model: type[M], data: Any, *, where: str, prefix: str = "") -> M:
    """Validate `data` into `model`, turning pydantic's errors into one InvalidArgumentError that
    lists every problem with its full path (`services[0].replicas`)."""
    if isinstance(data, model):
        return data
    token = _NESTING.set(_NESTING.get() + 1)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise InvalidArgumentError(
            where, [_describe(model, e, prefix) for e in exc.errors(include_url=False)]
        ) from None
    finally:
        _NESTING.reset(token)


class ArgsModel(BaseModel):
    """Base for component arguments: immutable, and unknown fields are errors, not ignored.

    Constructing an args model with bad values raises InvalidArgumentError (a ValueError) whose
    message names each field, the value and the fix.
    """

    model_config = ConfigDict(
        extra="forbid", frozen=True, arbitrary_types_allowed=True, use_attribute_docstrings=True
    )

    def __init__(self, /, **data: Any) -> None:
        # pydantic calls this __init__ for nested models too (and from model_validate). Only the
        # outermost call converts errors, so nested problems keep their full path.
        token = _NESTING.set(_NESTING.get() + 1)
        try:
            super().__init__(**data)
        except ValidationError as exc:
            if _NESTING.get() > 1:
                raise
            model = type(self)
            raise InvalidArgumentError(
                model.__name__, [_describe(model, e, "") for e in exc.errors(include_url=False)]
            ) from None
        finally:
            _NESTING.reset(token)


_DNS_LABEL = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
_DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_LABEL_NAME = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)$")
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")


def _suggest_name(value: str) -> str:
    s = re.sub(r"[^a-z0-9-]+", "-", value.lower()).strip("-")
    return s[:63].rstrip("-") or "my-name"


def check_dns_label(value: str, *, what: str = "name", must_start_with_letter: bool = True) -> str:
    """A DNS label (RFC 1035 for Services: starts with a letter; RFC 1123 for namespaces)."""
    pattern = _DNS_LABEL if must_start_with_letter else _DNS1123_LABEL
    if len(value) > 63 or not pattern.match(value):
        start = "a letter" if must_start_with_letter else "a letter or digit"
        raise ValueError(
            f"a Kubernetes {what} must be 1-63 lowercase letters, digits or '-', start with "
            f"{start} and end with a letter or digit. Fix: use e.g. {_suggest_name(value)!r}."
        )
    return value


def check_dns_subdomain(value: str, *, what: str = "name") -> str:
    """A DNS subdomain (RFC 1123): Secret, ConfigMap and most other object names."""
    if len(value) > 253 or not _DNS_SUBDOMAIN.match(value):
        raise ValueError(
            f"a Kubernetes {what} must be at most 253 characters of lowercase letters, digits, "
            f"'-' and '.', each dot-separated part starting and ending with a letter or digit. "
            f"Fix: use e.g. {_suggest_name(value)!r}."
        )
    return value


def check_label_map(labels: Mapping[str, str], *, what: str = "labels") -> Mapping[str, str]:
    """Kubernetes label keys (optional DNS-subdomain prefix + name) and values."""
    for key, val in labels.items():
        prefix, _, name = key.rpartition("/")
        if prefix:
            check_dns_subdomain(prefix, what=f"{what} key prefix")
        if not name or len(name) > 63 or not _LABEL_NAME.match(name):
            raise ValueError(
                f"{what} key {key!r} is not a valid label key: the name part must be 1-63 "
                "characters of letters, digits, '-', '_' or '.', starting and ending with a "
                "letter or digit. Fix: rename the key."
            )
        if not isinstance(val, str) or len(val) > 63 or not _LABEL_VALUE.match(val):
            raise ValueError(
                f"{what} value {val!r} (key {key!r}) is not a valid label value: at most 63 "
                "characters of letters, digits, '-', '_' or '.', starting and ending with a "
                "letter or digit. Fix: shorten or quote it as a string."
            )
    return labels


def check_annotation_keys(annotations: Mapping[str, str], *, what: str) -> Mapping[str, str]:
    """Annotation keys follow label-key syntax (optional DNS prefix + name); values are free
    text, so only the keys are checked."""
    check_label_map({k: "x" for k in annotations}, what=what)
    return annotations


def check_port(value: int, *, what: str = "port") -> int:
    if not 1 <= value <= 65535:
        raise ValueError(f"{what} must be between 1 and 65535. Fix: use e.g. 50051.")
    return value


def check_cidr(value: str, *, what: str = "CIDR") -> str:
    """An IPv4 or IPv6 network in canonical form (`10.0.0.0/24`, `2001:db8::/64`).

    A bare address gets the cdk8s-plus hint (`Did you mean "10.0.0.1/32"?`); host bits beyond
    the mask and non-canonical spellings are refused with the network they probably meant, since
    Kubernetes would silently widen or re-spell them.
    """
    if not isinstance(value, str) or not value.strip():
        raise ValueError(
            f"a {what} must be a string such as '10.0.0.0/24'. Fix: give an address range."
        )
    if "/" not in value:
        try:
            addr = ipaddress.ip_address(value)
        except ValueError:
            raise ValueError(
                f"{value!r} is not an IPv4 or IPv6 {what}. Fix: write an address range such as "
                "'10.0.0.0/24' or '2001:db8::/64'."
            ) from None
        family, bits = ("IPv4", 32) if addr.version == 4 else ("IPv6", 128)
        raise ValueError(
            f'CIDR mask is missing in {family}: "{value}". Did you mean "{value}/{bits}"? '
            f'Fix: write "{value}/{bits}" for this one address, or add the network\'s prefix '
            "length."
        )
    try:
        net = ipaddress.ip_network(value, strict=False)
        iface = ipaddress.ip_interface(value)
    except ValueError:
        raise ValueError(
            f"{value!r} is not a valid IPv4 or IPv6 {what} (address/prefix-length, prefix at "
            "most 32 for IPv4 and 128 for IPv6). Fix: write e.g. '10.0.0.0/24' or "
            "'2001:db8::/64'."
        ) from None
    if iface.ip != net.network_address:
        raise ValueError(
            f'"{value}" has address bits set beyond its /{net.prefixlen} mask, so it is not the '
            f'start of a network. Did you mean "{net}"? Fix: write the network address.'
        )
    if str(net) != value:
        raise ValueError(
            f'"{value}" is not written in canonical form. Did you mean "{net}"? Fix: write it '
            "as shown (Kubernetes warns about non-canonical CIDRs)."
        )
    return value
