"""Markdown reference tables generated from the argument models, so the README's reference can
never drift from the code: `tests/test_readme.py` regenerates every table and compares.

    python -m grpc_kube.reference                              # print all tables
    python -m grpc_kube.reference --write README.md docs/*.md  # refresh the tables in place
"""

from __future__ import annotations

import argparse
import collections.abc
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
    import grpc_kube

    out: dict[str, type[BaseModel]] = {}
    for name in grpc_kube.__all__:
        obj = getattr(grpc_kube, name)
        if isinstance(obj, type) and issubclass(obj, BaseModel):
            out[name] = obj
    from grpc_kube.stack import StackConfig

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
    inner = _input_of(annotation)
    if inner is not None:
        return f"Input[{_type_name(inner)}]"
    args = typing.get_args(annotation)
    if typing.get_origin(annotation) in (typing.Union, types.UnionType) and type(None) in args:
        rest = [a for a in args if a is not type(None)]
        without_none = typing.Union[tuple(rest)]  # noqa: UP007 (built from a runtime tuple)
        if len(rest) > 1 and _input_of(without_none) is not None:
            return f"{_type_name(without_none)} | None"
    if typing.get_origin(annotation) in (list, dict):
        names = ", ".join(_type_name(a) for a in args)
        return f"{typing.get_origin(annotation).__name__}[{names}]"
    text = repr(annotation) if not isinstance(annotation, type) else annotation.__name__
    # Drop module paths (`grpc_kube.grpc_service.ProbeArgs` -> `ProbeArgs`), but leave quoted
    # Literal values such as 'v1.5.1' alone.
    text = re.sub(r"(?<!['\w.])(?:[A-Za-z_]\w*\.)+([A-Za-z_]\w*)", r"\1", text)
    return text.replace("typing.", "").replace("NoneType", "None")


def _input_of(annotation: Any) -> Any:
    """T for `pulumi.Input[T]` (`T | Awaitable[T] | Output[T]`), else None."""
    args = typing.get_args(annotation)
    if typing.get_origin(annotation) not in (typing.Union, types.UnionType) or len(args) != 3:
        return None
    plain, awaitable, output = args
    if typing.get_origin(awaitable) is not collections.abc.Awaitable:
        return None
    if typing.get_origin(output) is None or output.__origin__.__name__ != "Output":
        return None
    return plain


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
