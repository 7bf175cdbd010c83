"""The package's public surface: every exported name resolves, the type-checking imports list
exactly the exports, and the light tools do not import Pulumi."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import grpc_kube

INIT = Path(grpc_kube.__file__)


def test_every_export_resolves_to_its_module_object() -> None:
    for name in grpc_kube.__all__:
        obj = getattr(grpc_kube, name)
        module = __import__(f"grpc_kube{grpc_kube._EXPORTS[name]}", fromlist=[name])
        assert obj is getattr(module, name), name


def test_type_checking_imports_match_the_exports() -> None:
    tree = ast.parse(INIT.read_text())
    typed: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and getattr(node.test, "id", "") == "TYPE_CHECKING":
            for stmt in node.body:
                if isinstance(stmt, ast.ImportFrom):
                    typed |= {a.name for a in stmt.names}
    assert typed == set(grpc_kube.__all__)


def test_unknown_name_is_an_attribute_error() -> None:
    try:
        grpc_kube.NoSuchThing  # type: ignore[attr-defined]  # noqa: B018
    except AttributeError as exc:
        assert "NoSuchThing" in str(exc)
    else:
        raise AssertionError("expected AttributeError")


def test_probe_import_does_not_load_pulumi() -> None:
    code = "import sys, grpc_kube.balance_probe; print('pulumi' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
