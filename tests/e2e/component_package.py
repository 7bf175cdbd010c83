"""The component package for real: the plugin in provider/ serves its schema to the Pulumi CLI,
SDKs are generated from that schema, and the TypeScript, Go and YAML programs in examples/
deploy a GrpcService behind a GrpcIngress with a ZeroTrustPolicy on the local API server, are
checked object by object, previewed quietly and destroyed.

How the SDKs are made here, and why: `pulumi package add` asks the program's language host to
generate and link the SDK (the GeneratePackage and Link calls). The Node.js, Go and Python hosts
this machine can build from Go modules predate those calls, so this script does what they would:
`grpc-kube-sdkgen` (built by .ci/language-hosts.sh from Pulumi's own code generators) writes the
SDK, npm / `go mod` link it, and the examples' Pulumi.yaml carry the `packages:` entry that
`package add` writes. With a current Pulumi CLI a user runs `pulumi package add` instead (README
"From other languages").
"""

from __future__ import annotations

import json
import shutil
import sys
import time
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from run import Checks, Env

EXAMPLES = {"yaml": "greeter-yaml", "typescript": "greeter-ts", "go": "greeter-go"}
IMAGE = "ghcr.io/grpc-kube/greeter:0.1.0"
TLS_STANDIN = Path(__file__).resolve().parent / "tls_provider" / "pulumi-resource-tls"


def install_plugins(env: Env) -> None:
    """`get-schema` installs the plugin's dependencies and would download the kubernetes and tls
    providers its Python packages name; give it the built ones under those versions."""
    for kind, name, binary in (
        ("resource", "kubernetes", env.bin / "pulumi-resource-kubernetes"),
        ("resource", "tls", TLS_STANDIN),
    ):
        env.run(
            [
                "pulumi",
                "plugin",
                "install",
                kind,
                name,
                version(f"pulumi_{name}"),
                "--file",
                str(binary),
            ]
        )


def schema_shape(schema: dict[str, Any]) -> dict[str, Any]:
    """What other languages see of a schema: components with their inputs (and which are
    required) and outputs, and the types' properties. The CLI re-serializes what the plugin
    serves (it drops some item descriptions), so texts are not compared here; the unit tests
    compare the committed schema with the analyzer's output in full."""
    return {
        "resources": {
            token: (
                sorted(r.get("inputProperties", {})),
                sorted(r.get("requiredInputs", [])),
                sorted(r.get("properties", {})),
            )
            for token, r in schema["resources"].items()
        },
        "types": {t: sorted(v.get("properties", {})) for t, v in schema.get("types", {}).items()},
    }


def get_schema(c: Checks, env: Env, project: Path) -> Path | None:
    out = env.work / "grpc-kube-schema.json"
    p = env.run(["pulumi", "package", "get-schema", str(project / "provider")], check=False)
    if not c.check("package: pulumi package get-schema", p.returncode == 0, p.stderr[-3000:]):
        return None
    out.write_text(p.stdout)
    served = json.loads(p.stdout)
    committed = json.loads((project / "provider" / "schema.json").read_text())

    def same() -> str | None:
        if served.get("name") != "grpc-kube":
            return f"package name {served.get('name')!r}"
        if schema_shape(served) != schema_shape(committed):
            return "the schema the plugin serves differs from provider/schema.json"
        return None

    c.run("package: the plugin serves the committed schema", same)
    return out


def prepare(env: Env, lang: str, directory: Path, schema: Path) -> None:
    """Generate and link the SDK, then compile the program (`tsc`, `go build`)."""
    if lang == "yaml":
        return  # YAML reads the schema through the `packages:` entry; no SDK
    sdk = directory / "sdks" / "grpc-kube"
    shutil.rmtree(sdk, ignore_errors=True)
    env.run(
        ["grpc-kube-sdkgen", "nodejs" if lang == "typescript" else "go", str(schema), str(sdk)],
        cwd=directory,
    )
    if lang == "typescript":
        env.run(["npm", "install", "--no-audit", "--no-fund"], cwd=directory, timeout=900)
        env.run(["npx", "tsc", "--noEmit"], cwd=directory)
    else:
        env.run(["go", "mod", "tidy"], cwd=directory, timeout=900)
        env.run(
            ["go", "build", "-o", str(env.work / f"example-{lang}"), "."],
            cwd=directory,
            timeout=900,
        )


def check_objects(c: Checks, env: Env, lang: str, ns: str, outputs: dict[str, Any]) -> None:
    name = f"example {lang}"

    def namespace() -> str | None:
        got = env.kubectl("get", "namespace", ns)["metadata"].get("annotations", {})
        if got.get("linkerd.io/inject") != "enabled":
            return f"annotations {got}"
        return None

    def deployment() -> str | None:
        dep = env.kubectl("get", "deployment", "greeter", "-n", ns)
        spec = dep["spec"]
        image = spec["template"]["spec"]["containers"][0]["image"]
        if spec["replicas"] != 2 or image != IMAGE:
            return f"replicas {spec['replicas']}, image {image}"
        if dep.get("status", {}).get("readyReplicas") != 2:
            return f"status {dep.get('status')}"
        return None

    def service() -> str | None:
        port = env.kubectl("get", "service", "greeter", "-n", ns)["spec"]["ports"][0]
        if port.get("appProtocol") != "kubernetes.io/h2c" or port["targetPort"] != "grpc":
            return f"port {port}"
        return None

    def ingress() -> str | None:
        ing = env.kubectl("get", "ingress", outputs["ingressName"], "-n", ns)
        notes = ing["metadata"].get("annotations", {})
        rule = ing["spec"]["rules"][0]
        backend = rule["http"]["paths"][0]["backend"]["service"]
        if notes.get("nginx.ingress.kubernetes.io/backend-protocol") != "GRPC":
            return f"annotations {notes}"
        if rule["host"] != EXAMPLES[lang] + ".example.com" or backend["name"] != "greeter":
            return f"rule {rule}"
        return None

    def policies() -> str | None:
        items = env.kubectl("get", "networkpolicy", "-n", ns)["items"]
        names = sorted(p["metadata"]["name"] for p in items)
        if names != sorted(outputs["policyNames"]):
            return f"policies {names}, outputs {outputs['policyNames']}"
        deny = [
            p
            for p in items
            if p["spec"]["podSelector"] == {}
            and not p["spec"].get("ingress")
            and not p["spec"].get("egress")
        ]
        if not deny:
            return "no default-deny policy"
        # The controller reaches the greeter on its port and, meshed, the proxy's inbound port.
        ports = {
            port["port"]
            for p in items
            for rule in p["spec"].get("ingress", [])
            if any(
                peer.get("podSelector", {}).get("matchLabels", {}).get("app.kubernetes.io/name")
                == "ingress-nginx"
                for peer in rule.get("from", [])
            )
            for port in rule.get("ports", [])
        }
        if ports != {50051, 4143}:
            return f"ports open to the ingress controller: {sorted(ports)}"
        return None

    for what, fn in (
        ("namespace meshed", namespace),
        ("Deployment ready with the image", deployment),
        ("Service speaks h2c", service),
        ("Ingress for gRPC to the service", ingress),
        ("default deny and the controller's allow", policies),
    ):
        c.run(f"{name}: {what}", fn)


def run_example(c: Checks, env: Env, project: Path, lang: str, schema: Path) -> None:
    directory = project / "examples" / lang
    stack = f"example-{lang}"
    ns = EXAMPLES[lang]
    name = f"example {lang}"

    def pulumi(*args: str, check: bool = False) -> Any:
        return env.run(
            ["pulumi", *args, "--stack", stack, "--non-interactive"],
            cwd=directory,
            check=check,
            timeout=900,
        )

    started = time.time()
    try:
        prepare(env, lang, directory, schema)
    except Exception as exc:
        c.check(f"{name}: SDK generated and program compiled", False, str(exc)[-3000:])
        return
    c.check(f"{name}: SDK generated and program compiled", True)
    env.run(["pulumi", "stack", "init", stack, "--non-interactive"], cwd=directory, check=False)
    p = pulumi("up", "--yes", "--skip-preview")
    if not c.check(f"{name}: pulumi up", p.returncode == 0, (p.stdout + p.stderr)[-4000:]):
        return
    outputs = json.loads(pulumi("stack", "output", "--json", check=True).stdout)
    check_objects(c, env, lang, ns, outputs)
    p = pulumi("preview", "--expect-no-changes", "--diff")
    c.check(f"{name}: a second preview is quiet", p.returncode == 0, (p.stdout + p.stderr)[-3000:])
    p = pulumi("destroy", "--yes", "--skip-preview")
    if c.check(f"{name}: pulumi destroy", p.returncode == 0, (p.stdout + p.stderr)[-3000:]):

        def gone() -> str | None:
            deadline = time.time() + 120
            while time.time() < deadline:
                names = {n["metadata"]["name"] for n in env.kubectl("get", "namespaces")["items"]}
                if ns not in names:
                    return None
                time.sleep(2)
            return f"namespace {ns} still there"

        c.run(f"{name}: destroy leaves nothing", gone)
    print(f"{name}: {time.time() - started:.0f} s", flush=True)


def check_python_sdk(c: Checks, env: Env, schema: Path) -> None:
    """The Python SDK generates too and imports (for a Python program that prefers the package
    to the library, e.g. to pin the plugin's version apart from its own)."""

    def generated() -> str | None:
        sdk, target = env.work / "sdk-python", env.work / "sdk-python-installed"
        env.run(["grpc-kube-sdkgen", "python", str(schema), str(sdk)])
        # Installed, as `package add` links it (the SDK reads its version from its metadata).
        pip = [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target"]
        env.run([*pip, str(target), str(sdk)])
        code = "import pulumi_grpc_kube as g; print(' '.join(n for n in dir(g) if n[0].isupper()))"
        names = env.run([sys.executable, "-c", code], cwd=target).stdout.split()
        missing = {"GrpcService", "GrpcIngress", "ZeroTrustPolicy"} - set(names)
        return f"missing {sorted(missing)} in {names}" if missing else None

    c.run("package: the Python SDK generates and imports", generated)


def run_examples(c: Checks, env: Env, project: Path, languages: list[str]) -> None:
    install_plugins(env)
    schema = get_schema(c, env, project)
    if schema is None:
        return
    check_python_sdk(c, env, schema)
    for lang in languages:
        run_example(c, env, project, lang, schema)
