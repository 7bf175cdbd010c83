"""Helpers shared by the components that install Helm charts."""

from __future__ import annotations

from typing import Any

__all__ = ["deep_merge"]


def deep_merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """`extra` merged over `base` as Helm merges values files: maps recursively, anything else
    (lists included) replaced. Neither input is modified."""
    out = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = value
    return out
