#!/usr/bin/env bash
# Builds, from Go modules only, the real binaries an end-to-end `pulumi up` against a local
# apiserver needs, into a cache OUTSIDE the repository:
#
#   ${GRPC_KUBE_TOOLS_CACHE:-$HOME/.cache/grpc-kube-tools}/<key>/bin/
#       pulumi, pulumi-language-python, pulumi-language-python-exec,
#       pulumi-resource-kubernetes, kube-apiserver, kube-controller-manager, kube-scheduler,
#       kubectl, kwok (+ <key>/share/kwok/stages.yaml)
#   plus etcd from Debian (apt-get install etcd-server, binary /usr/bin/etcd).
#
#   bin=$(bash .ci/tools.sh | tail -1)     # stdout: only the bin dir, as the last line
#
# <key> spells every version, so changing a version below builds anew into a fresh directory.
# Idempotent: when every binary is present and answers its version (or -help) command, nothing
# is built or downloaded. stderr: progress and the wall time of each step; each step's full
# output is in <key>/logs/. Go's own caches are the usual ones (go env GOMODCACHE GOCACHE).
# Cold on this 2-core machine: ~22 min with the module cache warm (the kubernetes provider ~9,
# kube-apiserver ~6, pulumi ~4), plus downloads; Go's build cache grows by ~8.5 GB.
# Knobs: GRPC_KUBE_TOOLS_CACHE (cache root), GRPC_KUBE_TOOLS_GO_P (go build -p, default 2),
# GRPC_KUBE_TOOLS_ONLY (subset of: etcd kube kwok pulumi langpython k8sprov).
#
# Why wrapper modules: `go install pkg@version` refuses a module whose go.mod has replace
# directives, and pulumi, pulumi-kubernetes and kubernetes all have them (mostly to sibling
# directories of their git repository that are published as separate modules). So each tool is
# built from a tiny generated module in the cache dir (<key>/src/<tool>/go.mod) that requires
# the tool's module and re-states its replaces, with each "=> ./sibling" turned into a
# requirement of the sibling's published version. Nothing generated lands in the repository.
#
# Plugin wiring (both measured with this CLI):
#  - PATH: put bin/ first on PATH. The CLI finds pulumi-language-python next to its own
#    executable, and pulumi-resource-kubernetes on PATH as an "ambient" plugin, whatever version
#    the program asks for (it warns "using pulumi-resource-kubernetes from $PATH" and, as the
#    version differs, "expected to have version >=4.34.2, but has 4.25.0"). Nothing is copied.
#  - or `pulumi plugin install resource kubernetes 4.34.2 --file bin/pulumi-resource-kubernetes`
#    (copies 295 MB into $PULUMI_HOME/plugins) and PULUMI_IGNORE_AMBIENT_PLUGINS=1.
#  Either way set PULUMI_HOME to a scratch dir, PULUMI_SKIP_UPDATE_CHECK=1 (no network),
#  PULUMI_CONFIG_PASSPHRASE and a file:// backend (PULUMI_BACKEND_URL or `pulumi login`).
#
# Not built: pulumi-resource-tls. The proxy serves no version of github.com/pulumi/pulumi-tls/*
# (list and v5.6.2: "403 This module version is not available") nor a usable
# github.com/hashicorp/terraform-provider-tls, so a program that creates tls resources fails at
# "Could not automatically download and install resource plugin 'pulumi-resource-tls' at version
# v5.6.2" (the CLI's download from get.pulumi.com cannot resolve here).
set -euo pipefail

# ---- versions -------------------------------------------------------------------------------
# Pulumi CLI. requirements.txt pins the SDK pulumi==3.272.0, but the proxy
# refuses github.com/pulumi/pulumi/pkg/v3@v3.272.0 and @v3.273.0 ("403 This module version is not
# available"); v3.274.0 is the closest served version >= the SDK pin. A CLI newer than the SDK is
# the normal, supported direction.
PULUMI_VERSION=3.274.0
# Kubernetes provider. The Python SDK pin is pulumi-kubernetes==4.34.2, but the proxy serves
# exactly one version of github.com/pulumi/pulumi-kubernetes/provider/v4 (that submodule has no
# semver tags, so only pseudo-versions exist): the commit f47bc2d6f199 tagged v4.25.0. v4.34.2's
# commit (and the sdk/v4 tag) are refused. The engine uses a provider found on PATH whatever
# version the program asks for (see "plugin wiring" below), so the 4.34.2 SDK drives this 4.25.0
# binary; the resources we use (core/v1, apps/v1, networking/v1) are unchanged between them.
K8S_PROVIDER_VERSION=4.25.0
K8S_PROVIDER_MODVER=v4.0.0-20260115033456-f47bc2d6f199
# Python language host: see build_langpython for why it is 3.68.0.
LANGHOST_SDK_VERSION=3.68.0
# Kubernetes control plane + kubectl.
KUBE_VERSION=1.35.4
# kwok (simulated kubelets: fake Nodes that turn Ready and Pods bound to them Running/Ready).
KWOK_VERSION=0.8.0
# etcd comes from Debian bookworm's etcd-server (3.4.23), not built.

# RECIPE: bump when this script changes how a binary is built, so old caches are not reused.
RECIPE=1
KEY="pulumi-${PULUMI_VERSION}_langpy-${LANGHOST_SDK_VERSION}_k8sprov-${K8S_PROVIDER_VERSION}_kube-${KUBE_VERSION}_kwok-${KWOK_VERSION}_r${RECIPE}"
# The cache layout under $GRPC_KUBE_TOOLS_CACHE/<KEY>, the Go settings and the build helpers,
# shared by tools.sh and language-hosts.sh.
. "$(dirname "${BASH_SOURCE[0]}")/go-build-lib.sh"

# ---- Kubernetes: kube-apiserver, kube-controller-manager, kubectl ---------------------------
# k8s.io/kubernetes requires every k8s.io/* staging module at v0.0.0 and replaces it with
# ./staging/src/k8s.io/<name>. Outside that repo those replaces do not apply, and v0.0.0 does not
# exist on the proxy, so the wrapper requires and pins each staging module at its published
# v0.<minor>.<patch> (the list is read from kubernetes's own go.mod, so it follows the version).
# kube-scheduler only matters with local-cluster.sh's simulated nodes (LOCAL_CLUSTER_NODES).
KUBE_CMDS="kube-apiserver kube-controller-manager kube-scheduler kubectl"

# kube_runs CMD: the binary is there and reports its version.
kube_runs() {
    if [ "$1" = kubectl ]; then runs "$BIN/kubectl" version --client; else runs "$BIN/$1" --version; fi
}

build_kube() {
    local dir="$SRC/kube" kmod staging cmd missing=
    for cmd in $KUBE_CMDS; do kube_runs "$cmd" || missing=1; done
    [ -n "$missing" ] || return 0
    mkdir -p "$dir"
    kmod=$(modfile "k8s.io/kubernetes@v$KUBE_VERSION")
    staging="v0.${KUBE_VERSION#1.}"
    {
        echo "// Generated by .ci/tools.sh: wrapper to build k8s.io/kubernetes v$KUBE_VERSION binaries."
        echo "module grpc-kube-tools/kube"
        echo
        grep -E '^(go|godebug) ' "$kmod"
        echo
        echo "require k8s.io/kubernetes v$KUBE_VERSION"
        echo
        replaces "$kmod" | awk -v v="$staging" '$3 ~ /^\.\/staging\// {
            printf "require %s %s\nreplace %s => %s %s\n", $1, v, $1, $1, v }'
        # Non-staging replaces of kubernetes (none at 1.35) would be repeated verbatim.
        replaces "$kmod" | awk '$3 !~ /^\.\// { print "replace " $0 }'
    } >"$dir/go.mod"
    rm -f "$dir/go.sum"
    tools_go "$dir" k8s.io/kubernetes/cmd/kube-apiserver \
        k8s.io/kubernetes/cmd/kube-controller-manager k8s.io/kubernetes/cmd/kube-scheduler \
        k8s.io/kubernetes/cmd/kubectl
    (cd "$dir" && timed kube-mod-tidy go mod tidy)
    # The version variables hack/lib/version.sh sets; without them the binaries report
    # v0.0.0-master and kubectl warns about version skew.
    local ld="" k v
    for k in client-go/pkg/version component-base/version; do
        for v in "gitVersion=v$KUBE_VERSION" "gitMajor=${KUBE_VERSION%%.*}" \
            "gitMinor=$(echo "$KUBE_VERSION" | cut -d. -f2)" "gitTreeState=clean" \
            "buildDate=1970-01-01T00:00:00Z"; do
            ld="$ld -X k8s.io/$k.$v"
        done
    done
    for cmd in $KUBE_CMDS; do
        kube_runs "$cmd" && continue
        (cd "$dir" && timed "$cmd" go build -p "$GO_P" -trimpath -ldflags "-s -w $ld" \
            -o "$BIN/$cmd" "k8s.io/kubernetes/cmd/$cmd")
    done
}

# ---- Pulumi CLI -----------------------------------------------------------------------------
# pkg/v3's go.mod has `replace github.com/pulumi/pulumi/sdk/v3 => ../sdk` (same git repo) plus a
# fork of atotto/clipboard. The wrapper requires sdk/v3 at the SAME published version (the
# ../sdk of that commit) and repeats every non-local replace verbatim.
# The CLI prints (and the engine compares plugin/SDK versions against) sdk's version.Version,
# which only the linker sets (upstream's Makefile does the same -X); unset, it is empty.
PULUMI_LDFLAGS="-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$PULUMI_VERSION"

prep_pulumi() {
    local dir="$SRC/pulumi" pmod
    mkdir -p "$dir"
    pmod=$(modfile "github.com/pulumi/pulumi/pkg/v3@v$PULUMI_VERSION")
    {
        echo "// Generated by .ci/tools.sh: wrapper to build the pulumi CLI v$PULUMI_VERSION."
        echo "module grpc-kube-tools/pulumi"
        echo
        grep -E '^go ' "$pmod"
        echo
        echo "require ("
        echo "	github.com/pulumi/pulumi/pkg/v3 v$PULUMI_VERSION"
        echo "	github.com/pulumi/pulumi/sdk/v3 v$PULUMI_VERSION"
        echo ")"
        echo
        replaces "$pmod" | awk '$3 !~ /^\.\.?\// { print "replace " $0 }'
    } >"$dir/go.mod"
    rm -f "$dir/go.sum"
    tools_go "$dir" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi
    (cd "$dir" && timed pulumi-mod-tidy go mod tidy)
}

build_pulumi() {
    runs "$BIN/pulumi" version && return 0
    prep_pulumi
    (cd "$SRC/pulumi" && timed pulumi go build -p "$GO_P" -trimpath \
        -ldflags "-s -w $PULUMI_LDFLAGS" -o "$BIN/pulumi" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi)
}

# ---- pulumi-language-python (+ its exec shim) ------------------------------------------------
# The CLI runs a `runtime: python` project through the language host pulumi-language-python,
# which is not part of the CLI. Since 2023 its source is its own module,
# github.com/pulumi/pulumi/sdk/python/cmd/pulumi-language-python/v3, and the proxy refuses every
# version of it ("403 This module version is not available"). Before that it was a package of
# sdk/v3 itself, and v3.68.0 still contains it: that is what is built here, upstream's real
# host, 3.68.0 next to a 3.274.0 CLI and a 3.272.0 Python SDK. (The proxy's version list hides
# newer ones: v3.79.0 is the last that contains it. .ci/language-hosts.sh builds that one with a
# fix for running plugins, and the e2e puts it first on PATH; this one runs the Python stacks.)
# Measured to work (pulumi up / preview --expect-no-changes / destroy), with one difference: it
# predates the engine passing runtime options in the RunRequest, so `runtime.options.virtualenv`
# in Pulumi.yaml is NOT honoured; it runs the first `python` on PATH, so put the venv's bin/ first
# on PATH (or activate it). The host runs the program through `pulumi-language-python-exec`, a
# Python script found on PATH next to it; the current one (from sdk/v3 v$PULUMI_VERSION, same
# command-line contract: --monitor --engine --project --stack --pwd --dry_run --parallel
# --organization PROGRAM) is copied into bin.
# The Automation API's inline programs (pulumi.automation with program=) do not need either: the
# Python process serves the language runtime itself and hands the CLI --client=ADDR.

prep_langpython() {
    local dir="$SRC/pulumi-language-python" smod
    mkdir -p "$dir"
    smod=$(modfile "github.com/pulumi/pulumi/sdk/v3@v$LANGHOST_SDK_VERSION")
    {
        echo "// Generated by .ci/tools.sh: wrapper to build pulumi-language-python v$LANGHOST_SDK_VERSION."
        echo "module grpc-kube-tools/pulumi-language-python"
        echo
        grep -E '^go ' "$smod"
        echo
        echo "require github.com/pulumi/pulumi/sdk/v3 v$LANGHOST_SDK_VERSION"
        echo
        replaces "$smod" | awk '$3 !~ /^\.\.?\// { print "replace " $0 }'
    } >"$dir/go.mod"
    rm -f "$dir/go.sum"
    tools_go "$dir" github.com/pulumi/pulumi/sdk/v3/python/cmd/pulumi-language-python
    (cd "$dir" && timed langpython-mod-tidy go mod tidy)
}

build_langpython() {
    local exec_src
    # Plugins have no version flag; `-help` (Go's flag package: usage, exit 0) proves it runs.
    if ! runs "$BIN/pulumi-language-python" -help; then
        prep_langpython
        (cd "$SRC/pulumi-language-python" && timed pulumi-language-python go build -p "$GO_P" \
            -trimpath -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$LANGHOST_SDK_VERSION" \
            -o "$BIN/pulumi-language-python" github.com/pulumi/pulumi/sdk/v3/python/cmd/pulumi-language-python)
    fi
    if [ ! -x "$BIN/pulumi-language-python-exec" ]; then
        exec_src="$(moddir "github.com/pulumi/pulumi/sdk/v3@v$PULUMI_VERSION")/python/cmd/pulumi-language-python-exec"
        install -m 0755 "$exec_src" "$BIN/pulumi-language-python-exec"
    fi
}

# ---- pulumi-resource-kubernetes -------------------------------------------------------------
# Three traps in github.com/pulumi/pulumi-kubernetes/provider/v4:
#  1. `replace .../sdk/v4 => ../sdk`: the sdk of that commit is not on the proxy (neither
#     v4.25.0, nor the v4.24.0 the provider requires, nor a pseudo-version). Only plain Go types
#     are used from it (kubernetes.UntypedArgs, yaml/v2.RegisterResource, helm/v4 RepositoryOpts
#     and PostRenderer), all present in the served v4.22.2. The next served release, v4.29.0,
#     does NOT work: it requires sdk/v3 v3.226.0, MVS lifts sdk/v3 to that, and pkg/v3 v3.215.0
#     (which the provider needs) no longer compiles against it (pkg and sdk move in lockstep).
#     So the wrapper replaces sdk/v4 by v4.22.2, whose own sdk/v3 requirement (v3.153.1) is older.
#  2. cmd/pulumi-resource-kubernetes/main.go embeds schema-embed.json and
#     terraform-mapping-embed.json, which `go generate` writes and which are therefore NOT in the
#     module zip: that package does not build from the proxy. The wrapper has its own 10-line
#     main package that calls the same provider.Serve with the module's schema.json (version
#     stamped in, as upstream's generate.go does) and terraform-mapping.json.
#  3. version.Version is set only by the linker (upstream: VERSION without the leading v).
K8S_SDK_VERSION=v4.22.2
K8S_PROVIDER_LDFLAGS="-X github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version.Version=$K8S_PROVIDER_VERSION"

prep_k8sprov() {
    local dir="$SRC/pulumi-resource-kubernetes" kmod kdir
    mkdir -p "$dir"
    kmod=$(modfile "github.com/pulumi/pulumi-kubernetes/provider/v4@$K8S_PROVIDER_MODVER")
    kdir=$(moddir "github.com/pulumi/pulumi-kubernetes/provider/v4@$K8S_PROVIDER_MODVER")
    {
        echo "// Generated by .ci/tools.sh: wrapper to build pulumi-resource-kubernetes $K8S_PROVIDER_VERSION."
        echo "module grpc-kube-tools/pulumi-resource-kubernetes"
        echo
        grep -E '^go ' "$kmod"
        echo
        echo "require ("
        echo "	github.com/pulumi/pulumi-kubernetes/provider/v4 $K8S_PROVIDER_MODVER"
        echo ")"
        echo
        echo "replace github.com/pulumi/pulumi-kubernetes/sdk/v4 => github.com/pulumi/pulumi-kubernetes/sdk/v4 $K8S_SDK_VERSION"
        replaces "$kmod" | awk '$3 !~ /^\.\.?\// { print "replace " $0 }'
    } >"$dir/go.mod"
    rm -f "$dir/go.sum"
    VERSION=$K8S_PROVIDER_VERSION python3 - "$kdir/cmd/pulumi-resource-kubernetes" "$dir" <<'EOF'
import json, os, sys
src, dst = sys.argv[1:3]
schema = json.load(open(os.path.join(src, "schema.json")))
schema["version"] = os.environ["VERSION"]
json.dump(schema, open(os.path.join(dst, "schema-embed.json"), "w"), separators=(",", ":"))
mapping = json.load(open(os.path.join(src, "terraform-mapping.json")))
json.dump(mapping, open(os.path.join(dst, "terraform-mapping-embed.json"), "w"), separators=(",", ":"))
EOF
    cat >"$dir/main.go" <<'EOF'
// Command pulumi-resource-kubernetes: the upstream main, minus its go:generate step (see tools.sh).
package main

import (
	_ "embed"

	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/provider"
	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version"
)

//go:embed schema-embed.json
var pulumiSchema []byte

//go:embed terraform-mapping-embed.json
var terraformMapping []byte

func main() {
	provider.Serve("kubernetes", version.Version, pulumiSchema, terraformMapping)
}
EOF
    (cd "$dir" && timed k8sprov-mod-tidy go mod tidy)
}

build_k8sprov() {
    # No version flag either (the engine asks GetPluginInfo over gRPC); -help proves it runs.
    runs "$BIN/pulumi-resource-kubernetes" -help && return 0
    prep_k8sprov
    (cd "$SRC/pulumi-resource-kubernetes" && timed pulumi-resource-kubernetes go build -p "$GO_P" \
        -trimpath -ldflags "-s -w $K8S_PROVIDER_LDFLAGS" -o "$BIN/pulumi-resource-kubernetes" .)
}

# ---- kwok ------------------------------------------------------------------------------------
# sigs.k8s.io/kwok has no replace directives, so plain `go install module/cmd@version` works.
# kwok does nothing without Stage definitions (it exits "no stages found"); upstream's default
# ones (what kwokctl embeds: node initialise + lease heartbeat, pod ready/complete/delete) ship
# in the module zip under kustomize/stage and are concatenated into share/kwok/stages.yaml.
build_kwok() {
    local stages="$ROOT/share/kwok/stages.yaml" kdir f
    if ! runs "$BIN/kwok" --version; then
        GOBIN="$BIN" timed kwok go install -p "$GO_P" -trimpath \
            -ldflags "-s -w -X sigs.k8s.io/kwok/pkg/consts.Version=$KWOK_VERSION" \
            "sigs.k8s.io/kwok/cmd/kwok@v$KWOK_VERSION"
    fi
    if [ ! -s "$stages" ]; then
        kdir=$(moddir "sigs.k8s.io/kwok@v$KWOK_VERSION")
        mkdir -p "$(dirname "$stages")"
        for f in node/fast/node-initialize node/heartbeat-with-lease/node-heartbeat-with-lease \
            pod/fast/pod-ready pod/fast/pod-complete pod/fast/pod-delete; do
            echo "---"
            cat "$kdir/kustomize/stage/$f.yaml"
        done >"$stages.tmp"
        mv "$stages.tmp" "$stages"
    fi
}

# ---- etcd (Debian) --------------------------------------------------------------------------
# bookworm's etcd-server is 3.4.23, older than the etcd 3.5+ kubernetes 1.35 documents; measured
# here: kube-apiserver 1.35.4 stores, watches and deletes through it (namespace deletion, pulumi
# up/preview/destroy, kwok-driven pods all work). Its postinst enables a system etcd on :2379
# where systemd runs; local-cluster.sh runs its own etcd per DIR on a free port, so the system
# one is switched off again.
ensure_etcd() {
    if command -v etcd >/dev/null 2>&1 && etcd --version >/dev/null 2>&1; then return 0; fi
    local sudo=()
    [ "$(id -u)" -eq 0 ] || sudo=(sudo)
    export DEBIAN_FRONTEND=noninteractive
    timed etcd-apt sh -c "${sudo[*]} apt-get update -qq &&
        ${sudo[*]} apt-get install -y -qq --no-install-recommends etcd-server"
    if [ -d /run/systemd/system ]; then
        "${sudo[@]}" systemctl disable --now etcd >/dev/null 2>&1 || true
    fi
    etcd --version >/dev/null
}

# ---- main -----------------------------------------------------------------------------------
main() {
    local part
    for part in ${GRPC_KUBE_TOOLS_ONLY:-etcd kube kwok pulumi langpython k8sprov}; do
        if [ "$part" = etcd ]; then ensure_etcd; else "build_$part"; fi
    done
    echo "$BIN"
}
if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
    main "$@"
fi
