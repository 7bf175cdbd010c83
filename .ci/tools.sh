#!/usr/bin/env bash
# Builds, from Go modules only, the real binaries an end-to-end `pulumi up` against a local
# apiserver needs, into a cache OUTSIDE the repository:
#
#   ${GRPC_KUBE_TOOLS_CACHE:-$HOME/.cache/grpc-kube-tools}/<key>/bin/
#       pulumi, pulumi-language-python, pulumi-language-python-exec,
#       pulumi-resource-kubernetes, kube-apiserver, kube-controller-manager, kubectl
#   plus etcd from Debian (apt-get install etcd-server, binary /usr/bin/etcd).
#
# <key> spells every version, so changing a version below builds anew into a fresh directory.
# Idempotent: when every binary is present and answers its version command, nothing is built.
# stdout: ONLY the bin directory, as the last line (bin=$(bash .ci/tools.sh | tail -1)).
# stderr: progress, and the wall time of each build step.
#
# Why wrapper modules: `go install pkg@version` refuses a module whose go.mod has replace
# directives, and pulumi, pulumi-kubernetes and kubernetes all have them (mostly to sibling
# directories of their git repository that are published as separate modules). So each tool is
# built from a tiny generated module in the cache dir (<key>/src/<tool>/go.mod) that requires
# the tool's module and re-states its replaces, with each "=> ./sibling" turned into a
# requirement of the sibling's published version. Nothing generated lands in the repository.
#
# Versions are what the Go module proxy reachable here actually serves; see the notes at each.
set -euo pipefail

# ---- versions -------------------------------------------------------------------------------
# Pulumi CLI + Python language host. requirements.txt pins the SDK pulumi==3.272.0, but the proxy
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
# Kubernetes control plane + kubectl.
KUBE_VERSION=1.35.4
# etcd comes from Debian bookworm's etcd-server (3.4.23), not built.

CACHE_ROOT=${GRPC_KUBE_TOOLS_CACHE:-$HOME/.cache/grpc-kube-tools}
# RECIPE: bump when this script changes how a binary is built, so old caches are not reused.
RECIPE=1
KEY="pulumi-${PULUMI_VERSION}_k8sprov-${K8S_PROVIDER_VERSION}_kube-${KUBE_VERSION}_r${RECIPE}"
ROOT="$CACHE_ROOT/$KEY"
BIN="$ROOT/bin"
SRC="$ROOT/src"
LOGS="$ROOT/logs"
HERE="$(cd "$(dirname "$0")" && pwd)"

# Keep module downloads and the build cache under the tools cache too unless the caller has set
# them, so one directory (and one `rm -rf`) holds everything the tools cost.
export GOMODCACHE=${GOMODCACHE:-$(go env GOMODCACHE)}
export GOFLAGS="-buildvcs=false ${GOFLAGS:-}"
export GOTOOLCHAIN=local
# 2 cores here; more parallel compiles only add memory pressure.
GO_P=${GRPC_KUBE_TOOLS_GO_P:-2}

log() { echo "tools.sh: $*" >&2; }
mkdir -p "$BIN" "$SRC" "$LOGS"

# ---- helpers --------------------------------------------------------------------------------

# timed NAME CMD...: run CMD with its output in $LOGS/NAME.log, report the wall time; on failure
# show the end of the log.
timed() {
    local name=$1 start rc=0
    shift
    start=$(date +%s)
    log "building $name (log: $LOGS/$name.log)"
    "$@" >"$LOGS/$name.log" 2>&1 || rc=$?
    log "$name: exit=$rc wall=$(($(date +%s) - start))s"
    if [ "$rc" -ne 0 ]; then
        tail -40 "$LOGS/$name.log" >&2
        return "$rc"
    fi
}

# modfile MODULE@VERSION: path of that module's go.mod in the module cache (downloads it).
modfile() {
    go mod download -json "$1" | sed -n 's/^\t"GoMod": "\(.*\)",$/\1/p'
}

# moddir MODULE@VERSION: extracted source directory of that module (downloads it).
moddir() {
    go mod download -json "$1" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p'
}

# replaces GOMOD: the replace directives of GOMOD, one "old => new" per line, both the block
# form and the single-line form.
replaces() {
    awk '
        /^replace \($/ { inblock = 1; next }
        inblock && /^\)/ { inblock = 0; next }
        inblock && /=>/ { sub(/^[ \t]+/, ""); sub(/[ \t]*\/\/.*$/, ""); print; next }
        /^replace [^(]/ { sub(/^replace /, ""); sub(/[ \t]*\/\/.*$/, ""); print }
    ' "$1"
}

# has_version BIN ARGS...: the binary exists and its version command exits 0.
runs() {
    [ -x "$1" ] && "$@" >/dev/null 2>&1
}

# ---- Kubernetes: kube-apiserver, kube-controller-manager, kubectl ---------------------------
# k8s.io/kubernetes requires every k8s.io/* staging module at v0.0.0 and replaces it with
# ./staging/src/k8s.io/<name>. Outside that repo those replaces do not apply, and v0.0.0 does not
# exist on the proxy, so the wrapper requires and pins each staging module at its published
# v0.<minor>.<patch> (the list is read from kubernetes's own go.mod, so it follows the version).
build_kube() {
    local dir="$SRC/kube" kmod staging
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
    cat >"$dir/tools.go" <<'EOF'
//go:build tools

// Package tools only pins the commands this wrapper builds, for go mod tidy.
package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
EOF
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
    local cmd
    for cmd in kube-apiserver kube-controller-manager kubectl; do
        if runs "$BIN/$cmd" --version || runs "$BIN/$cmd" version --client; then continue; fi
        (cd "$dir" && timed "$cmd" go build -p "$GO_P" -trimpath -ldflags "-s -w $ld" \
            -o "$BIN/$cmd" "k8s.io/kubernetes/cmd/$cmd")
    done
}

# ---- Pulumi CLI -----------------------------------------------------------------------------
# pkg/v3's go.mod has `replace github.com/pulumi/pulumi/sdk/v3 => ../sdk` (same git repo) plus a
# fork of atotto/clipboard. The wrapper requires sdk/v3 at the SAME published version (the
# ../sdk of that commit) and repeats every non-local replace verbatim.
# The CLI prints (and the engine compares plugin/SDK versions against) sdk's version.Version,
# which only the linker sets; unset it reports "v3.0.0-dev"-ish garbage.
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
    cat >"$dir/tools.go" <<'EOF'
//go:build tools

// Package tools only pins the command this wrapper builds, for go mod tidy.
package tools

import _ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"
EOF
    (cd "$dir" && timed pulumi-mod-tidy go mod tidy)
}

build_pulumi() {
    runs "$BIN/pulumi" version && return 0
    prep_pulumi
    (cd "$SRC/pulumi" && timed pulumi go build -p "$GO_P" -trimpath \
        -ldflags "-s -w $PULUMI_LDFLAGS" -o "$BIN/pulumi" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi)
}

# ---- pulumi-resource-kubernetes -------------------------------------------------------------
# Three traps in github.com/pulumi/pulumi-kubernetes/provider/v4:
#  1. `replace .../sdk/v4 => ../sdk`: the sdk of that commit is not on the proxy (neither
#     v4.25.0 nor a pseudo-version); the closest served release above the v4.24.0 the provider
#     requires is v4.29.0. Only pkg/provider/{yaml/v2,helm/v4} import it, for plain Go types.
#  2. cmd/pulumi-resource-kubernetes/main.go embeds schema-embed.json and
#     terraform-mapping-embed.json, which `go generate` writes and which are therefore NOT in the
#     module zip: that package does not build from the proxy. The wrapper has its own 10-line
#     main package that calls the same provider.Serve with the module's schema.json (version
#     stamped in, as upstream's generate.go does) and terraform-mapping.json.
#  3. version.Version is set only by the linker (upstream: VERSION without the leading v).
K8S_SDK_VERSION=v4.29.0
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
        echo "	github.com/pulumi/pulumi-kubernetes/sdk/v4 $K8S_SDK_VERSION"
        echo ")"
        echo
        replaces "$kmod" | awk '$3 !~ /^\.\.?\// { print "replace " $0 }'
    } >"$dir/go.mod"
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
    # The provider has no version flag; the plugin protocol's GetPluginInfo is checked in the
    # smoke test. Here: it exists and starts (it prints its gRPC port and waits; stdin EOF ends it).
    [ -x "$BIN/pulumi-resource-kubernetes" ] && return 0
    prep_k8sprov
    (cd "$SRC/pulumi-resource-kubernetes" && timed pulumi-resource-kubernetes go build -p "$GO_P" \
        -trimpath -ldflags "-s -w $K8S_PROVIDER_LDFLAGS" -o "$BIN/pulumi-resource-kubernetes" .)
}

# ---- main -----------------------------------------------------------------------------------
main() {
    local part
    for part in ${GRPC_KUBE_TOOLS_ONLY:-kube pulumi k8sprov}; do
        "build_$part"
    done
    echo "$BIN"
}
if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
    main "$@"
fi
