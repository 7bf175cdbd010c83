"""Validation shared by every component: the error type, the base for argument models, and
checks for the Kubernetes names and numbers that components accept.

Every component validates all of its plain input before it registers a single resource, so a
bad argument never leaves half a deployment behind; values that arrive as Outputs are checked by
the same rules when they resolve (see `_inputs.gate`). Errors name the field, the value
received, what is allowed and how to fix it.
"""

from __future__ import annotations

import difflib
import functools
import ipaddress
import re
import typing
from collections.abc import Callable, Iterable, Mapping
from contextvars import ContextVar
from typing import Any, TypeVar

import pulumi
import pydantic
from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic_core import InitErrorDetails

from ._inputs import contains_output, is_output

__all__ = [
    "ArgsModel",
    "FieldError",
    "InvalidArgumentError",
    "check_annotation_keys",
    "check_cidr",
    "check_dns_label",
    "check_dns_subdomain",
    "check_label_map",
    "check_port",
    "check_range",
    "field_validator",
    "model_validator",
    "validate_model",
]

M = TypeVar("M", bound=BaseModel)

# How many ArgsModel validations are running in this context (see ArgsModel.__init__).
_NESTING: ContextVar[int] = ContextVar("grpc_kube_args_nesting", default=0)


class InvalidArgumentError(pulumi.InputPropertiesError, ValueError):
    """Bad input to a grpc-kube component or stack config.

    Raised before any resource registers when the value is plain, and when it resolves when the
    value arrived as an Output (`resolved=True`; the deployment then fails before the resource
    that would carry the value is sent). `problems` holds one line per offending field,
    ``path: message``; `errors` (from `pulumi.InputPropertiesError`) holds the same as property
    paths and reasons.
    """

    def __init__(self, where: str, problems: list[str], *, resolved: bool = False) -> None:
        self.where = where
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        when = " (values that arrived as Outputs, checked when they resolved)" if resolved else ""
        details: list[pulumi.InputPropertyErrorDetails] = []
        for p in problems:
            path, _, reason = p.partition(": ")
            details.append({"property_path": path, "reason": reason or p})
        super().__init__(f"{where}: invalid input{when}\n{lines}", details)


class FieldError(ValueError):
    """Raised by a cross-field check to blame one field: the error line then starts with that
    field's path and value, not with the whole model."""

    def __init__(self, field: str, value: Any, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.value = value


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


# pydantic names the branch of a `pulumi.Input[T]` union in the error location; users wrote
# the field, not the branch.
_INPUT_BRANCHES = ("is-instance[Awaitable]", "is-instance[Output]")


def _user_loc(loc: tuple[int | str, ...]) -> tuple[int | str, ...]:
    return tuple(
        p for p in loc if not (isinstance(p, str) and (p in _INPUT_BRANCHES or _is_branch_tag(p)))
    )


def _is_branch_tag(part: str) -> bool:
    # Union branch tags look like type expressions: `str`, `int`, `list[str]`, `dict[str,str]`,
    # `function-after[_check(), str]`; field names never contain brackets or equal these names.
    return part in ("str", "int", "bool", "float", "none") or "[" in part


def _describe(model: type[BaseModel], err: Mapping[str, Any], prefix: str) -> str:
    loc = _user_loc(tuple(err["loc"]))
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
    if is_output(value):
        return (
            f"{path}: got an Output, but this value decides which resources are created, so it "
            "must be known when the program runs (Outputs resolve only during deployment). "
            "Fix: pass a plain value."
        )
    msg = str(err["msg"])
    blamed = (err.get("ctx") or {}).get("error")
    if isinstance(blamed, FieldError):
        path = prefix + _loc((*loc, blamed.field)) if prefix else _loc((*loc, blamed.field))
        return f"{path}: got {blamed.value!r}; {blamed}"
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, ") :]
        if not loc:  # a cross-field check: its message names the fields; the input is all of them
            return f"{path}: {msg}"
        return f"{path}: got {value!r}; {msg}"
    return f"{path}: got {value!r}; {msg}. Fix: give a value that satisfies this."


def _describe_all(model: type[BaseModel], exc: ValidationError, prefix: str) -> list[str]:
    """One line per problem: a `pulumi.Input[T]` union reports a bad value once per branch, and
    only the plain branch's message says something useful."""
    out: list[str] = []
    for err in exc.errors(include_url=False):
        if any(p in _INPUT_BRANCHES for p in err["loc"] if isinstance(p, str)):
            continue
        line = _describe(model, err, prefix)
        if line not in out:
            out.append(line)
    return out


def validate_model(model: type[M], data: Any, *, where: str, prefix: str = "") -> M:
    """Validate `data` into `model`, turning pydantic's errors into one InvalidArgumentError that
    lists every problem with its full path (`services[0].replicas`)."""
    if isinstance(data, model):
        return data
    token = _NESTING.set(_NESTING.get() + 1)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise InvalidArgumentError(where, _describe_all(model, exc, prefix)) from None
    finally:
        _NESTING.reset(token)


# `pulumi.Input[T]` is `T | Awaitable[T] | Output[T]`, with `Output[T]` as a forward reference
# that pydantic resolves in this namespace (T is free there).
_INPUT_TYPES_NAMESPACE = {"Output": pulumi.Output, "T": Any}


class ArgsModel(BaseModel):
    """Base for component arguments: immutable, and unknown fields are errors, not ignored.

    Fields typed `pulumi.Input[T]` accept Outputs as well as plain values; validators skip
    Outputs, which `_inputs.gate` checks when they resolve. Constructing an args model with bad
    plain values raises InvalidArgumentError (a ValueError) whose message names each field, the
    value and the fix.
    """

    model_config = ConfigDict(
        extra="forbid", frozen=True, arbitrary_types_allowed=True, use_attribute_docstrings=True
    )

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        if not cls.__pydantic_complete__:
            cls.model_rebuild(_types_namespace=_INPUT_TYPES_NAMESPACE)

    def __init__(self, /, *positional: Any, **data: Any) -> None:
        if positional:
            name = type(self).__name__
            raise TypeError(
                f"{name} takes keyword arguments only, got {len(positional)} positional. Fix: "
                f"name each field, e.g. {name}({', '.join(f'{f}=...' for f in self._required())})."
            )
        # pydantic calls this __init__ for nested models too (and from model_validate). Only the
        # outermost call converts errors, so nested problems keep their full path.
        token = _NESTING.set(_NESTING.get() + 1)
        try:
            super().__init__(**data)
        except ValidationError as exc:
            if _NESTING.get() > 1:
                raise
            model = type(self)
            raise InvalidArgumentError(model.__name__, _describe_all(model, exc, "")) from None
        finally:
            _NESTING.reset(token)

    @classmethod
    def _required(cls) -> list[str]:
        return [n for n, f in cls.model_fields.items() if f.is_required()] or ["..."]

    @pydantic.model_validator(mode="before")
    @classmethod
    def _no_numbers_as_strings(cls, data: Any) -> Any:
        """`port: "80"` is a typo, not a port: pydantic's lax mode would turn it into 80, and a
        string of digits means a *named* port in some Kubernetes fields."""
        if not isinstance(data, Mapping):
            return data
        for name, value in data.items():
            field_info = cls.model_fields.get(name)
            if field_info is None or not isinstance(value, str):
                continue
            plain = _plain_types(field_info.annotation)
            if (int in plain or float in plain) and str not in plain:
                raise ValueError(
                    f"{name} must be a number, got the string {value!r}. Fix: write {name}: "
                    f"{value.strip() or 0} without quotes."
                )
        return data


def _plain_types(annotation: Any) -> set[Any]:
    """The plain types a field accepts, looking through Optional and `pulumi.Input[...]`."""
    origin = typing.get_origin(annotation)
    if origin is typing.Union or str(origin) == "<class 'types.UnionType'>":
        out: set[Any] = set()
        for arg in typing.get_args(annotation):
            out |= _plain_types(arg)
        return out
    if origin is not None:  # Awaitable[T], Output[T], list[T], Literal[...]: not a plain number
        return {origin}
    return {annotation}


def check_each(values: Iterable[Any], check: Callable[[Any], object], *, title: str) -> None:
    """Run `check` on every entry of a list and report EVERY bad one under its own index
    (`probe_networks[2]: ...`), not only the first: a list of ten CIDRs with three typos then
    takes one run to fix, not three. For validators: pydantic keeps each line of the
    ValidationError raised, under the field."""
    errors: list[InitErrorDetails] = []
    for i, value in enumerate(values):
        try:
            check(value)
        except ValueError as exc:
            errors.append(
                InitErrorDetails(type="value_error", loc=(i,), input=value, ctx={"error": exc})
            )
    if errors:
        raise ValidationError.from_exception_data(title, errors)


F = TypeVar("F", bound=Callable[..., Any])


def field_validator(*fields: str, **kwargs: Any) -> Callable[[F], Any]:
    """pydantic's field_validator for fields that may hold Outputs: a value that is or holds an
    Output is passed through unchecked here and checked when it resolves (`_inputs.gate`)."""

    def wrap(fn: F) -> Any:
        inner = fn.__func__ if isinstance(fn, classmethod) else fn

        @functools.wraps(inner)
        def skip_outputs(cls: Any, value: Any, *rest: Any) -> Any:
            if contains_output(value):
                return value
            return inner(cls, value, *rest)

        return pydantic.field_validator(*fields, **kwargs)(classmethod(skip_outputs))  # type: ignore[no-untyped-call]

    return wrap


def model_validator(*, mode: str) -> Callable[[F], Any]:
    """pydantic's model_validator(mode="after") for models whose fields may hold Outputs: the
    cross-field check runs once every value is plain, now or when the Outputs resolve."""
    if mode != "after":
        return pydantic.model_validator(mode=mode)  # type: ignore[call-overload,no-any-return]

    def wrap(fn: F) -> Any:
        @functools.wraps(fn)
        def skip_outputs(self: BaseModel) -> Any:
            if contains_output(self):
                return self
            return fn(self)

        return pydantic.model_validator(mode="after")(skip_outputs)

    return wrap


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


def check_range(value: int, *, low: int, high: int | None = None) -> int:
    """An integer within [low, high]; the message gives the range and a fix."""
    if value < low or (high is not None and value > high):
        allowed = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise ValueError(f"must be {allowed}. Fix: use a value {allowed}.")
    return value


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
