"""The README documents what the code does: reference tables are generated from the argument
models (and must be current), every field is documented, and the commands it gives exist."""

from __future__ import annotations

import re
from pathlib import Path

from grpc_kube.reference import markdown_table, models, refresh

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
# The README and the topic documents it links to carry the generated reference tables.
DOCS = {
    p.relative_to(ROOT).as_posix(): p.read_text()
    for p in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
}


def test_every_argument_field_has_a_description() -> None:
    missing = [
        f"{name}.{field}"
        for name, model in models().items()
        for field, info in model.model_fields.items()
        if not (info.description or "").strip()
    ]
    assert missing == [], f"document these fields (attribute docstrings): {missing}"


def test_reference_tables_are_current() -> None:
    stale = [name for name, text in DOCS.items() if refresh(text) != text]
    assert stale == [], (
        f"stale reference tables in {stale}: run "
        "`python -m grpc_kube.reference --write README.md docs/*.md`"
    )


def test_reference_covers_every_public_args_model() -> None:
    named = {m for text in DOCS.values() for m in re.findall(r"<!-- reference:(\w+) -->", text)}
    assert set(models()) <= named, f"add reference blocks for: {sorted(set(models()) - named)}"


def test_readme_links_every_topic_document() -> None:
    for name in DOCS:
        if name.startswith("docs/"):
            assert f"({name})" in README, f"README must link {name}"


def test_tables_show_documented_defaults() -> None:
    table = markdown_table(models()["GrpcServiceArgs"])
    assert "| `port` | `Input[int]` | `80` |" in table
    assert "| `container_port` | `Input[int]` | `50051` |" in table


def test_ci_runs_the_readme_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text()
    for command in ("pip install -q -r requirements-dev.txt", "python -m pytest"):
        assert command in ci
    assert "pip install -r requirements-dev.txt" in README
    assert "python -m pytest" in README


def _python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README, re.DOTALL)


def test_readme_python_examples_run() -> None:
    """Every Python example in the README runs as written: under Pulumi mocks when it declares
    resources (as `pulumi up` would run it), as plain Python when it drives the harness itself."""
    import pulumi

    from grpc_kube.testing import run_program

    blocks = _python_blocks()
    assert len(blocks) >= 4
    for block in blocks:
        if "run_program(" in block:
            exec(compile(block, "README.md", "exec"), {"__name__": "readme"})
        else:
            run_program(lambda b=block: exec(compile(b, "README.md", "exec"), {"pulumi": pulumi}))
