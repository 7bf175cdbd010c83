# Shared by .ci/tools.sh and .ci/language-hosts.sh, sourced once each has set KEY (every
# version it builds, spelled out): the cache layout, the Go settings, running a build step with
# its log, and reading Go modules from the module cache.

CACHE_ROOT=${GRPC_KUBE_TOOLS_CACHE:-$HOME/.cache/grpc-kube-tools}
ROOT="$CACHE_ROOT/$KEY"
BIN="$ROOT/bin"
SRC="$ROOT/src"
LOGS="$ROOT/logs"

# No VCS stamping (there is no VCS in a module zip); never switch Go toolchains behind our back.
export GOFLAGS="-buildvcs=false ${GOFLAGS:-}"
export GOTOOLCHAIN=local
# 2 cores here; more parallel compiles only add memory pressure.
GO_P=${GRPC_KUBE_TOOLS_GO_P:-2}

log() { echo "$(basename "$0"): $*" >&2; }
command -v go >/dev/null || { log "needs the go command (Go >= 1.26)"; exit 1; }
mkdir -p "$BIN" "$SRC" "$LOGS"

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

# tools_go DIR PACKAGE...: a tools.go that imports the commands a wrapper module builds, so
# `go mod tidy` keeps their dependencies in its go.mod.
tools_go() {
    local dir=$1 pkg
    shift
    {
        printf '//go:build tools\n\n'
        printf '// Package tools only pins the commands this wrapper builds, for go mod tidy.\n'
        printf 'package tools\n\nimport (\n'
        for pkg in "$@"; do printf '\t_ "%s"\n' "$pkg"; done
        printf ')\n'
    } >"$dir/tools.go"
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

# runs BIN ARGS...: the binary exists and `BIN ARGS` (a version or help command) exits 0.
# Plugins and language hosts have no version flag; `-help` (Go's flag package: usage, exit 0)
# proves they run.
runs() {
    [ -x "$1" ] && "$@" >/dev/null 2>&1
}
