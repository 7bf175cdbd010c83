"""Arguments that may be `pulumi.Input`s: plain values, or Outputs of other resources.

A Pulumi user passes an image another resource pushed, or a namespace another resource created,
as an Output. grpc-kube checks every argument twice over, with the same rules:

- a plain value is checked at once, before anything registers (the model's validators);
- a value that arrives as an Output is skipped then, and checked when it resolves (`gate`): the
  component's children receive the value only through that check, so a bad value fails the
  deployment with an error naming the property, before the child that would carry it is sent.

`lift` computes with values that may be Outputs: plainly when they are all plain (so the plain
path behaves exactly as before), inside `Output.all(...).apply` otherwise. `DeferredChecks` does
the same for checks across several values (and objects), which no one model validates.

Values that decide *which* resources exist (e.g. `headless`, `mesh`, `tls`) stay plain: Pulumi
must know the set of resources when the program runs, and a preview would otherwise be wrong.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import Any, TypeVar, cast

import pulumi
from pydantic import BaseModel

__all__ = [
    "DeferredChecks",
    "contains_output",
    "fmt",
    "gate",
    "is_output",
    "lift",
    "plain",
    "to_output",
]

R = TypeVar("R")
T = TypeVar("T")


def plain(value: pulumi.Input[T]) -> T:
    """`value`, known to be plain: for checks that run only once every value is (the model
    validators of `_validation`), so the type checker sees `T`, not `Input[T]`."""
    if is_output(value):
        raise TypeError(f"expected a plain value here, got {type(value).__name__}")
    return cast(T, value)


def is_output(value: Any) -> bool:
    """True for a value only known during deployment (an Output, or any awaitable)."""
    return isinstance(value, pulumi.Output) or inspect.isawaitable(value)


def contains_output(value: Any) -> bool:
    """True if `value` is an Output or holds one (in a model, list, tuple or dict)."""
    if is_output(value):
        return True
    if isinstance(value, BaseModel):
        return any(contains_output(getattr(value, f)) for f in type(value).model_fields)
    if isinstance(value, Mapping):
        return any(contains_output(k) or contains_output(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return any(contains_output(v) for v in value)
    return False


def lift(fn: Callable[..., R], *values: Any) -> Any:
    """`fn(*values)` now when every value is plain, else an Output of it once they resolve.
    Values nested in lists and dicts are resolved too."""
    if not any(contains_output(v) for v in values):
        return fn(*values)
    return pulumi.Output.all(*[_deep_output(v) for v in values]).apply(lambda vs: fn(*vs))


def fmt(template: str, *values: Any) -> Any:
    """`template.format(*values)`, plain when every value is plain."""
    return lift(lambda *vs: template.format(*vs), *values)


def to_output(value: Any) -> pulumi.Output[Any]:
    """Any value, plain or not (nested Outputs included), as one Output."""
    return _deep_output(value)


def _deep_output(value: Any) -> pulumi.Output[Any]:
    if isinstance(value, BaseModel):
        names = list(type(value).model_fields)
        return pulumi.Output.all(*[_deep_output(getattr(value, n)) for n in names]).apply(
            lambda vs: value.model_copy(update=dict(zip(names, vs, strict=True)))
        )
    if isinstance(value, tuple):
        return pulumi.Output.all(*[_deep_output(v) for v in value]).apply(tuple)
    return pulumi.Output.from_input(value)


# --- resolution-time checks ------------------------------------------------------------------


def _output_paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[tuple[Any, ...], Any]]:
    """Every Output inside `value`, with its path (field names and indices)."""
    if is_output(value):
        return [(path, value)]
    out: list[tuple[tuple[Any, ...], Any]] = []
    if isinstance(value, BaseModel):
        for name in type(value).model_fields:
            out += _output_paths(getattr(value, name), (*path, name))
    elif isinstance(value, Mapping):
        for k, v in value.items():
            out += _output_paths(v, (*path, k))
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            out += _output_paths(v, (*path, i))
    return out


def _replace(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    """A copy of `value` with the leaf at `path` replaced (models copied without validation)."""
    if not path:
        return new
    head, rest = path[0], path[1:]
    if isinstance(value, BaseModel):
        return value.model_copy(update={head: _replace(getattr(value, head), rest, new)})
    if isinstance(value, Mapping):
        return {**value, head: _replace(value[head], rest, new)}
    if isinstance(value, tuple):
        return (*value[:head], _replace(value[head], rest, new), *value[head + 1 :])
    items = list(value)
    items[head] = _replace(items[head], rest, new)
    return items


def _plain_data(value: Any) -> Any:
    """A model as the data it was built from (nested models as dicts), for re-validation."""
    if isinstance(value, BaseModel):
        return {n: _plain_data(getattr(value, n)) for n in value.model_fields_set}
    if isinstance(value, Mapping):
        return {k: _plain_data(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain_data(v) for v in value]
    return value


M = TypeVar("M", bound=BaseModel)


def gate(args: M, *, where: str) -> M:
    """`args` with each Output inside it replaced by one that resolves only after the whole
    model, with every Output's value filled in, passes validation again. Plain args come back
    unchanged. A failure raises InvalidArgumentError (a `pulumi.InputPropertiesError`) whose
    details name each property path, so the deployment stops before any child is sent a bad
    value."""
    from ._validation import InvalidArgumentError, validate_model

    found = _output_paths(args)
    if not found:
        return args
    model = type(args)

    def check(values: list[Any]) -> bool:
        resolved: Any = args
        for (path, _), value in zip(found, values, strict=True):
            resolved = _replace(resolved, path, value)
        try:
            validate_model(model, _plain_data(resolved), where=where)
        except InvalidArgumentError as exc:
            raise InvalidArgumentError(where, exc.problems, resolved=True) from None
        return True

    checked = pulumi.Output.all(*[_deep_output(o) for _, o in found]).apply(check)
    gated: Any = args
    for path, value in found:
        gated = _replace(
            gated,
            path,
            pulumi.Output.all(checked, value).apply(_second),
        )
    return gated  # type: ignore[no-any-return]


def _second(pair: list[Any]) -> Any:
    return pair[1]


class DeferredChecks:
    """Checks across values that may be Outputs, with the plain-value rule of every component:
    a check whose values are all plain runs at once and its problems join `now` (raised with the
    component's other problems before anything registers); one that involves an Output runs when
    its values resolve, and every value passed through `guard` is released only once all of
    those checks passed and every value given to `wait_for` resolved. One failure holds back
    every guarded value, and the problems of all deferred checks fail the deployment together
    (InvalidArgumentError, `resolved=True`), so a bad value sends none of the objects that would
    only make sense together (a default-deny NetworkPolicy without its allows would cut a
    namespace off)."""

    def __init__(self, where: str) -> None:
        self.where = where
        self.now: list[str] = []
        self._later: list[tuple[Callable[..., list[str]], tuple[Any, ...]]] = []
        self._verdict: pulumi.Output[bool] | None = None

    def check(self, problems: Callable[..., list[str]], *values: Any) -> None:
        """Run `problems(*values)` (a list of problem lines, empty when all is well) now when
        every value is plain, else once they resolve."""
        if not any(contains_output(v) for v in values):
            self.now += problems(*values)
            return
        self._later.append((problems, values))
        self._verdict = None

    def wait_for(self, value: Any) -> None:
        """Hold the guarded values until `value` has resolved: for a gated model, which fails
        the deployment itself when a value in it does. Nothing to wait for when it is plain."""
        if contains_output(value):
            self.check(_no_problems, value)

    def guard(self, value: Any) -> Any:
        """`value` (nested Outputs allowed), released only after every deferred check made so
        far passed; `value` itself when nothing was deferred."""
        if not self._later:
            return value
        return pulumi.Output.all(self._checked(), to_output(value)).apply(_second)

    def _checked(self) -> pulumi.Output[bool]:
        """One Output for all deferred checks, shared by every `guard` until a check is added:
        it resolves to True, or fails listing the problems of every failed check."""
        if self._verdict is not None:
            return self._verdict
        from ._validation import InvalidArgumentError

        later = list(self._later)
        where = self.where

        def run(resolved: list[list[Any]]) -> bool:
            found = [
                line
                for (problems, _), values in zip(later, resolved, strict=True)
                for line in problems(*values)
            ]
            if found:
                raise InvalidArgumentError(where, found, resolved=True)
            return True

        self._verdict = pulumi.Output.all(
            *[pulumi.Output.all(*[to_output(v) for v in values]) for _, values in later]
        ).apply(run)
        return self._verdict


def _no_problems(*_: Any) -> list[str]:
    return []
