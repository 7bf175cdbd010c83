"""Markdown reference tables generated from the argument models, so the README's reference can
never drift from the code: `tests/test_readme.py` regenerates every table and compares.

    python -m grpc_kube.reference                              # print all tables
    python -m grpc_kube.reference --write README.md docs/*.md  # refresh the tables in place
"""

from __future__ import annotations

import argparse
import collections.abc
import importlib
import re
import sys
import types
import typing
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

__all__ = ["markdown_table", "models", "refresh"]


def models() -> dict[str, type[BaseModel]]:
    """Every public argument model, by class name."""
    # This package, by whatever name it is imported (grpc_kube when installed).
    package = importlib.import_module(__package__ or "grpc_kube")

    out: dict[str, type[BaseModel]] = {}
    for name in package.__all__:
        obj = getattr(package, name)
        if isinstance(obj, type) and issubclass(obj, BaseModel):
            out[name] = obj
    from .stack import StackConfig

    out["StackConfig"] = StackConfig
    for model in list(out.values()):
        for field in model.model_fields.values():
            _collect(field.annotation, out)
    return dict(sorted(out.items()))


def _collect(annotation: Any, out: dict[str, type[BaseModel]]) -> None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        if annotation.__name__ not in out:
            out[annotation.__name__] = annotation
            for field in annotation.model_fields.values():
                _collect(field.annotation, out)
        return
    for arg in getattr(annotation, "__args__", ()) or ():
        _collect(arg, out)


def _type_name(annotation: Any) -> str:
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Annotated:  # validators attached to a type
        return _type_name(args[0])
    if origin in (typing.Union, types.UnionType):
        return " | ".join(_union_parts(args))
    if origin in (list, dict, tuple, collections.abc.Sequence):
        name = "list" if origin is collections.abc.Sequence else origin.__name__
        return f"{name}[{', '.join('...' if a is Ellipsis else _type_name(a) for a in args)}]"
    text = repr(annotation) if not isinstance(annotation, type) else annotation.__name__
    # Drop module paths (`grpc_kube.grpc_service.ProbeArgs` -> `ProbeArgs`), but leave quoted
    # Literal values such as 'v1.5.1' alone.
    text = re.sub(r"(?<!['\w.])(?:[A-Za-z_]\w*\.)+([A-Za-z_]\w*)", r"\1", text)
    return text.replace("typing.", "").replace("NoneType", "None")


def _union_parts(args: tuple[Any, ...]) -> list[str]:
    """A union's members, each `pulumi.Input[T]` (`T | Awaitable[T] | Output[T]`) shown as
    `Input[T]` and None last."""
    awaited = [typing.get_args(a)[0] for a in args if _is_awaitable(a)]
    parts: list[str] = []
    for a in args:
        if _is_awaitable(a) or _is_output(a) or a is type(None):
            continue
        parts.append(f"Input[{_type_name(a)}]" if a in awaited else _type_name(a))
    for t in awaited:  # an Input whose plain type is a union (e.g. int | str)
        if t not in args:
            parts.append(f"Input[{_type_name(t)}]")
    if type(None) in args:
        parts.append("None")
    return parts


def _is_awaitable(a: Any) -> bool:
    return typing.get_origin(a) is collections.abc.Awaitable


def _is_output(a: Any) -> bool:
    origin = typing.get_origin(a) or a
    return getattr(origin, "__name__", "") == "Output"


def _default(field: Any) -> str:
    if field.is_required():
        return "**required**"
    value = field.default
    if value is PydanticUndefined:
        value = field.default_factory() if field.default_factory else None
    if isinstance(value, BaseModel):
        return f"`{type(value).__name__}()`"
    return f"`{value!r}`"


def markdown_table(model: type[BaseModel]) -> str:
    rows = ["| field | type | default | description |", "|---|---|---|---|"]
    for name, field in model.model_fields.items():
        desc = " ".join((field.description or "").split()).replace("|", "\\|")
        kind = _type_name(field.annotation).replace("|", "\\|")
        rows.append(f"| `{name}` | `{kind}` | {_default(field)} | {desc} |")
    return "\n".join(rows)


# A block is its opening marker, any body (possibly empty) and the closing marker.
_BLOCK = re.compile(
    r"(<!-- reference:(?P<name>\w+) -->\n)"
    r"(?P<body>(?:(?!<!-- reference:).)*?)"
    r"(<!-- /reference -->)",
    re.DOTALL,
)


def refresh(text: str) -> str:
    """`text` with every reference block regenerated."""
    known = models()

    def sub(m: re.Match[str]) -> str:
        name = m.group("name")
        if name not in known:
            raise KeyError(f"README names unknown model {name!r}; known: {sorted(known)}")
        return m.group(1) + markdown_table(known[name]) + "\n" + m.group(4)

    return _BLOCK.sub(sub, text)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Markdown reference of the argument models")
    parser.add_argument(
        "--write", type=Path, nargs="+", help="refresh the reference blocks in these files"
    )
    args = parser.parse_args(argv)
    if args.write:
        for path in args.write:
            path.write_text(refresh(path.read_text()))
        return 0
    for name, model in models().items():
        sys.stdout.write(f"### {name}\n\n{markdown_table(model)}\n\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
