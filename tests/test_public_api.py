"""The package's public surface: every exported name resolves, the type-checking imports list
exactly the exports, and the light tools do not import Pulumi."""

from __future__ import annotations

import re
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
    # Read as text, not with ast.parse: CPython 3.11.7's AST constructor can raise a spurious
    # "recursion depth mismatch" SystemError late in a long test run.
    block = INIT.read_text().split("if TYPE_CHECKING:", 1)[1]
    typed = set(re.findall(r"^    from \.\w+ import (\w+) as \1$", block, re.MULTILINE))
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
