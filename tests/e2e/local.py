"""The deploy step on a machine with no cluster: a local Kubernetes control plane that stays up
between commands, with the dev stack deployed on it by the real Pulumi engine.

    python tests/e2e/local.py up     # build what is missing, start the cluster, pulumi up dev
    python tests/e2e/local.py down   # pulumi destroy, stop everything, remove the state

Everything lives under $GRPC_KUBE_LOCAL (default ~/.cache/grpc-kube-local): the cluster, the
Pulumi state (file backend) and a copy of the project whose dev stack is set to use what the
local cluster already has (see run.py). `up` prints the environment to use `pulumi` and
`kubectl` on it yourself.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import run as e2e
import standin

STATE = Path(os.environ.get("GRPC_KUBE_LOCAL", Path.home() / ".cache" / "grpc-kube-local"))
STACK = "dev"


def tools() -> Path:
    out = subprocess.run(
        ["bash", str(e2e.ROOT / ".ci" / "tools.sh")], stdout=subprocess.PIPE, text=True, check=True
    ).stdout
    return Path(out.strip().splitlines()[-1])


def _alive(pidfile: Path) -> bool:
    try:
        os.kill(int(pidfile.read_text()), 0)
    except (OSError, ValueError):
        return False
    return True


def up() -> int:
    env = e2e.Env(tools(), STATE)
    cluster = STATE / "cluster"
    if not _alive(cluster / "pids" / "kube-apiserver.pid"):
        cluster.mkdir(parents=True, exist_ok=True)
        env.run(["bash", str(e2e.ROOT / ".ci" / "local-cluster.sh"), "start", str(cluster)])
    e2e.apply_platform_crds(env)
    pidfile = STATE / "standin.pid"
    if not _alive(pidfile):
        log = open(STATE / "standin.log", "a")  # noqa: SIM115 (the daemon keeps it)
        p = subprocess.Popen(
            [sys.executable, str(Path(standin.__file__))],
            env=env.env,
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
        pidfile.write_text(str(p.pid))
    project = STATE / "project"
    if not project.exists():
        e2e.project_copy(env)
        e2e.use_what_the_cluster_has(project, STACK, standin.linkerd_charts(STATE / "charts"))
        e2e.pulumi(env, project, STACK, "stack", "init", check=False)
    p = e2e.pulumi(env, project, STACK, "up", "--yes", "--skip-preview", check=False)
    print(p.stdout[-4000:])
    if p.returncode != 0:
        print(p.stderr[-4000:], file=sys.stderr)
        return 1
    keys = ("PATH", "KUBECONFIG", "PULUMI_HOME", "PULUMI_BACKEND_URL", "PULUMI_CONFIG_PASSPHRASE")
    print("\nThe dev stack runs on a local API server. To use it yourself:")
    for k in keys:
        print(f"  export {k}='{env.env[k]}'")
    print(f"  cd {project} && pulumi stack output --stack {STACK} && kubectl get all -A")
    print(f"Tear it down: python {Path(__file__).relative_to(e2e.ROOT)} down")
    return 0


def down() -> int:
    if not STATE.exists():
        return 0
    env = e2e.Env(tools(), STATE)
    project = STATE / "project"
    status = 0
    if project.exists() and _alive(STATE / "cluster" / "pids" / "kube-apiserver.pid"):
        p = e2e.pulumi(env, project, STACK, "destroy", "--yes", "--skip-preview", check=False)
        status = p.returncode
        print(p.stdout[-2000:])
    pidfile = STATE / "standin.pid"
    if _alive(pidfile):
        os.kill(int(pidfile.read_text()), signal.SIGTERM)
    subprocess.run(
        ["bash", str(e2e.ROOT / ".ci" / "local-cluster.sh"), "stop", str(STATE / "cluster")],
        check=False,
    )
    shutil.rmtree(STATE, ignore_errors=True)
    return status


def main(argv: list[str]) -> int:
    if argv not in (["up"], ["down"]):
        print(__doc__, file=sys.stderr)
        return 2
    return up() if argv == ["up"] else down()


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
