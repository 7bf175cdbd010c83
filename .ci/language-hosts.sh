#!/usr/bin/env bash
# Builds, from Go modules only, the Pulumi language hosts that let TypeScript, Go and YAML
# programs consume this project's components through a Pulumi component package (a Python-source
# plugin: PulumiPlugin.yaml `runtime: python` + __main__.py calling
# pulumi.provider.experimental.component_provider_host), into a cache OUTSIDE the repository:
#
#   ${GRPC_KUBE_TOOLS_CACHE:-$HOME/.cache/grpc-kube-tools}/<key>/bin/
#       pulumi-language-nodejs, pulumi-language-go, pulumi-language-yaml,
#       pulumi-language-python (+ -exec): the newest served host, v3.79.0, with one fix (see
#           build_python); it stands in for tools.sh's v3.68.0 host when this bin is first on PATH
#       grpc-kube-sdkgen: TypeScript/Go SDK generation for a component package (see build_sdkgen)
#
#   hosts=$(bash .ci/language-hosts.sh | tail -1)   # stdout: only the bin dir, as the last line
#   export PATH="$hosts:$(bash .ci/tools.sh | tail -1):$PATH"
#
# Standalone: it neither reads nor changes .ci/tools.sh's cache (that script builds the pulumi
# CLI, tools.sh's own pulumi-language-python and the rest). The CLI takes a language host from
# PATH first, so putting this bin dir on PATH BEFORE tools.sh's is all the wiring there is (the
# CLI then warns "using pulumi-language-<lang> from $PATH at ...": harmless).
# <key> spells every version, so changing a version below builds anew into a fresh directory.
# Idempotent: when every binary is present and answers `-help`/`-h`, nothing is built or
# downloaded (a warm run takes well under a second). stderr: progress and the wall time of each
# step; each step's full output is in <key>/logs/. Go's own caches are the usual ones
# (go env GOMODCACHE GOCACHE). Cold on this 2-core machine: ~5 min with empty Go caches (~2 GB
# of modules, ~1 GB of build cache); ~40-60 s after tools.sh has filled them.
# Knobs: GRPC_KUBE_TOOLS_CACHE (cache root), GRPC_KUBE_TOOLS_GO_P (go build -p, default 2),
# GRPC_KUBE_LANGHOSTS_ONLY (subset of: nodejs go yaml python sdkgen).
#
# What these hosts do with the 3.274.0 CLI (measured: pulumi up / stack output / destroy of a
# TypeScript, a Go and a YAML program, each creating a component of a Python component package):
# they run programs, install dependencies and report required plugins, but the nodejs and go
# hosts predate the GeneratePackage and Link RPCs and yaml 1.25.0 predates Link, which
# `pulumi package add` needs (gen-sdk needs GeneratePackage). So `pulumi package add PLUGIN_DIR`
# fails with these hosts and the route that works is:
#   - in Pulumi.yaml, by hand, what `package add` would have written:
#         packages:
#           <name>: <path to the plugin dir, absolute or relative to the project>
#     (without it the engine tries to download pulumi-resource-<name> and fails);
#   - YAML: nothing else; resources `type: <name>:<Component>` or `<name>:index:<Component>`;
#   - TypeScript / Go: generate the SDK with grpc-kube-sdkgen (built below) and link it:
#         pulumi package get-schema PLUGIN_DIR > schema.json
#         grpc-kube-sdkgen nodejs schema.json sdks/<name> && npm install ./sdks/<name>
#         grpc-kube-sdkgen go schema.json sdks/<name> && go mod edit \
#             -require=example.com/pulumi-<name>/sdk/go@v0.0.0 \
#             -replace=example.com/pulumi-<name>/sdk/go=./sdks/<name>    (then go mod tidy)
#     The generated SDKs require @pulumi/pulumi ^3.269.0 (npm: 3.270.0; it declares node >= 22
#     but runs on this machine's node 20 with an EBADENGINE warning) and
#     github.com/pulumi/pulumi/sdk/v3 >= v3.269.0 (served; v3.274.0 needs Go >= 1.26.6).
# The Python plugin is run with the first `python` on PATH (put the project's venv bin/ on PATH,
# with pulumi and the components installed). `pulumi package get-schema/add` also "install the
# plugin's dependencies": the Python host, which gets no virtualenv option from this CLI, runs
# `python -m venv <plugin dir>` (bin/ include/ lib/ lib64 pyvenv.cfg appear IN the plugin dir),
# upgrades pip/setuptools/wheel there and `pip install -r requirements.txt` if the plugin dir
# has one; that venv is then not used. `pulumi up/preview/destroy` do not do this.
set -euo pipefail

# ---- versions -------------------------------------------------------------------------------
# Upstream moved each language host out of github.com/pulumi/pulumi/sdk/v3 into a module of its
# own (github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3,
# .../sdk/go/pulumi-language-go/v3, .../sdk/python/cmd/pulumi-language-python/v3), so that they
# can import pkg/v3's code generators. The proxy refuses every version of those modules ("403 This
# module version is not available"; likewise without the /v3 suffix; @latest is 404). So each host
# is built from the newest SERVED sdk/v3 release that still contains it as a package.
# NB: the proxy's version list for sdk/v3 is incomplete (it omits e.g. v3.63.0 to v3.66.0,
# v3.69.0 to v3.72.0, v3.72.2, v3.76.0, v3.78.x, v3.79.0 and v3.206.0, which all answer 200), so
# each boundary below was found by downloading the versions on both sides of it:
#  - nodejs: sdk/v3 v3.68.0 has nodejs/cmd/pulumi-language-nodejs; v3.69.0 no longer has it.
NODEJS_HOST_SDK_VERSION=3.68.0
#  - go: sdk/v3 v3.66.0 has go/pulumi-language-go; v3.67.0 no longer has it (v3.66.1: 403).
GO_HOST_SDK_VERSION=3.66.0
#  - python: sdk/v3 v3.79.0 has python/cmd/pulumi-language-python; v3.80.0 no longer has it.
#    (tools.sh builds v3.68.0, believing it the newest: it is not.) Built with one fix, see
#    build_python; v3.68.0 and v3.79.0 have the same bug there.
PYTHON_HOST_SDK_VERSION=3.79.0
# YAML: github.com/pulumi/pulumi-yaml is its own repository with no replace directives, so a
# plain `go install module/cmd@version` works. v1.25.0 is the newest version the proxy serves
# (its list: v1.11.1 v1.25.0; @latest: 404; v1.26.0: 403). It requires pkg/v3 and sdk/v3
# v3.206.0, both served.
YAML_VERSION=1.25.0
# The pulumi CLI version tools.sh builds. Used for (a) pulumi-language-python-exec, copied next to
# the Python host as tools.sh does (the host runs programs through it and refuses to start without
# it), and (b) grpc-kube-sdkgen (see build_sdkgen), so SDKs are generated by the same pkg/v3 code
# generators as this CLI's `pulumi package add` would drive.
PULUMI_VERSION=3.274.0

# RECIPE: bump when this script changes how a binary is built, so old caches are not reused.
RECIPE=2
KEY="langhosts-nodejs-${NODEJS_HOST_SDK_VERSION}_go-${GO_HOST_SDK_VERSION}_yaml-${YAML_VERSION}_pyfix-${PYTHON_HOST_SDK_VERSION}_cli-${PULUMI_VERSION}_r${RECIPE}"
# The cache layout under $GRPC_KUBE_TOOLS_CACHE/<KEY>, the Go settings and the build helpers,
# shared by tools.sh and language-hosts.sh.
. "$(dirname "${BASH_SOURCE[0]}")/go-build-lib.sh"

# ---- pulumi-language-nodejs and pulumi-language-go, from an old sdk/v3 -------------------------
# `go install pkg@version` refuses sdk/v3 (its go.mod has a replace directive: golang.org/x/text
# pinned to v0.3.6), so, as tools.sh does for pulumi-language-python, each host is built from a
# tiny generated wrapper module (<key>/src/<host>/go.mod) that requires sdk/v3 at that version
# and repeats its non-local replaces verbatim.
# The host reports sdk's version.Version in GetPluginInfo; only the linker sets it (upstream's
# Makefile does the same -X); unset, it is empty.

# build_sdk_host NAME SDK_VERSION PACKAGE: build the language host NAME from PACKAGE of
# github.com/pulumi/pulumi/sdk/v3@vSDK_VERSION into $BIN/NAME.
build_sdk_host() {
    local name=$1 ver=$2 pkg=$3 dir="$SRC/$1" smod
    runs "$BIN/$name" -help && return 0
    mkdir -p "$dir"
    smod=$(modfile "github.com/pulumi/pulumi/sdk/v3@v$ver")
    {
        echo "// Generated by .ci/language-hosts.sh: wrapper to build $name from sdk/v3 v$ver."
        echo "module grpc-kube-tools/$name"
        echo
        grep -E '^go ' "$smod"
        echo
        echo "require github.com/pulumi/pulumi/sdk/v3 v$ver"
        echo
        replaces "$smod" | awk '$3 !~ /^\.\.?\// { print "replace " $0 }'
    } >"$dir/go.mod"
    rm -f "$dir/go.sum"
    {
        printf '//go:build tools\n\n'
        printf '// Package tools only pins the command this wrapper builds, for go mod tidy.\n'
        printf 'package tools\n\nimport _ "%s"\n' "$pkg"
    } >"$dir/tools.go"
    (cd "$dir" && timed "$name-mod-tidy" go mod tidy)
    (cd "$dir" && timed "$name" go build -p "$GO_P" -trimpath \
        -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$ver" \
        -o "$BIN/$name" "$pkg")
}

build_nodejs() {
    build_sdk_host pulumi-language-nodejs "$NODEJS_HOST_SDK_VERSION" \
        github.com/pulumi/pulumi/sdk/v3/nodejs/cmd/pulumi-language-nodejs
}

build_go() {
    build_sdk_host pulumi-language-go "$GO_HOST_SDK_VERSION" \
        github.com/pulumi/pulumi/sdk/v3/go/pulumi-language-go
}

# ---- pulumi-language-python, with its RunPlugin fixed ----------------------------------------
# A component package written in Python is a plugin the CLI starts through the Python host's
# RunPlugin RPC. The served Python hosts (sdk/v3 <= v3.79.0, including tools.sh's v3.68.0) run
# `python <RunPluginRequest.program>` in <RunPluginRequest.pwd>. The 3.274.0 CLI no longer fills
# `program`: it sends the plugin's directory in a newer field, `info` (a ProgramInfo, field 5;
# its program_directory is field 2), which these hosts do not know, and `pwd` is the CLI's own
# working directory. So the plugin only starts when the CLI runs in the plugin's directory
# (`cd plugin && pulumi package get-schema .`); from a TypeScript/Go/YAML project that uses the
# plugin by path (Pulumi.yaml `packages:`) it fails with "python3: can't find '__main__' module
# in '<project dir>'" and "Detected that <plugin dir> exited prematurely".
# This builds the upstream host (main.go copied from the module cache) with one function added:
# when `program` is empty, it is taken from the unknown field info.program_directory. Everything
# else is upstream. Put this bin dir BEFORE tools.sh's on PATH so the CLI picks this one (it then
# warns "using pulumi-language-python from $PATH at ... expected <tools.sh's>"); it then also runs
# the Python programs themselves (`runtime: python` projects), as tools.sh's host would.

build_python() {
    local name=pulumi-language-python dir="$SRC/pulumi-language-python" smod sdir
    if [ ! -x "$BIN/$name-exec" ]; then
        sdir=$(go mod download -json "github.com/pulumi/pulumi/sdk/v3@v$PULUMI_VERSION" |
            sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
        install -m 0755 "$sdir/python/cmd/$name-exec" "$BIN/$name-exec"
    fi
    runs "$BIN/$name" -help && return 0
    mkdir -p "$dir"
    smod=$(modfile "github.com/pulumi/pulumi/sdk/v3@v$PYTHON_HOST_SDK_VERSION")
    sdir=$(go mod download -json "github.com/pulumi/pulumi/sdk/v3@v$PYTHON_HOST_SDK_VERSION" |
        sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
    {
        echo "// Generated by .ci/language-hosts.sh: $name v$PYTHON_HOST_SDK_VERSION + RunPlugin fix."
        echo "module grpc-kube-tools/$name"
        echo
        grep -E '^go ' "$smod"
        echo
        echo "require github.com/pulumi/pulumi/sdk/v3 v$PYTHON_HOST_SDK_VERSION"
        echo
        replaces "$smod" | awk '$3 !~ /^\.\.?\// { print "replace " $0 }'
    } >"$dir/go.mod"
    rm -f "$dir/go.sum"
    # upstream main.go, with the program path of RunPlugin going through runPluginProgram.
    sed 's/^\targs := \[\]string{req\.Program}$/\targs := []string{runPluginProgram(req)}/' \
        "$sdir/python/cmd/$name/main.go" >"$dir/main.go"
    grep -q 'runPluginProgram(req)' "$dir/main.go" || { log "$name: patch did not apply"; return 1; }
    cat >"$dir/runplugin_program.go" <<'EOF'
// Added by .ci/language-hosts.sh (not upstream): see build_python there.
package main

import (
	"google.golang.org/protobuf/encoding/protowire"

	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// runPluginProgram is req.Program or, when a newer engine left it empty, the program_directory
// (field 2) of the ProgramInfo it sent as RunPluginRequest.info (field 5), which this version's
// generated code keeps only as unknown bytes.
func runPluginProgram(req *pulumirpc.RunPluginRequest) string {
	if req.Program != "" {
		return req.Program
	}
	if info := bytesField(req.ProtoReflect().GetUnknown(), 5); info != nil {
		if dir := bytesField(info, 2); dir != nil {
			return string(dir)
		}
	}
	return req.Program
}

// bytesField returns the last length-delimited field num in the wire-format message b, or nil.
func bytesField(b []byte, num protowire.Number) []byte {
	var found []byte
	for len(b) > 0 {
		n, typ, l := protowire.ConsumeTag(b)
		if l < 0 {
			return found
		}
		b = b[l:]
		if n == num && typ == protowire.BytesType {
			v, m := protowire.ConsumeBytes(b)
			if m < 0 {
				return found
			}
			found, b = v, b[m:]
			continue
		}
		m := protowire.ConsumeFieldValue(n, typ, b)
		if m < 0 {
			return found
		}
		b = b[m:]
	}
	return found
}
EOF
    (cd "$dir" && timed "$name-mod-tidy" go mod tidy)
    (cd "$dir" && timed "$name" go build -p "$GO_P" -trimpath \
        -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$PYTHON_HOST_SDK_VERSION" \
        -o "$BIN/$name" .)
}

# ---- pulumi-language-yaml ---------------------------------------------------------------------
# Upstream's Makefile stamps github.com/pulumi/pulumi-yaml/pkg/version.Version (no leading v).
build_yaml() {
    runs "$BIN/pulumi-language-yaml" -help && return 0
    GOBIN="$BIN" timed pulumi-language-yaml go install -p "$GO_P" -trimpath \
        -ldflags "-s -w -X github.com/pulumi/pulumi-yaml/pkg/version.Version=$YAML_VERSION" \
        "github.com/pulumi/pulumi-yaml/cmd/pulumi-language-yaml@v$YAML_VERSION"
}

# ---- grpc-kube-sdkgen: SDK generation without GeneratePackage ----------------------------------
# `pulumi package add PLUGIN` and `pulumi package gen-sdk` have the language host generate the SDK
# (GeneratePackage RPC) and, for add, link it (Link RPC). The hosts above predate both: with them
# the CLI fails with "failed to generate SDK: method GeneratePackage not implemented" (nodejs
# 3.68.0) or "failed to generate SDK: unknown method GeneratePackage for service
# pulumirpc.LanguageRuntime" (go 3.66.0),
# and yaml 1.25.0 generates but fails at "linking package: method Link not implemented".
# Upstream's newer hosts implement GeneratePackage as: bind the schema, call pkg/v3's
# codegen/nodejs, codegen/go or codegen/python GeneratePackage, write the files.
# grpc-kube-sdkgen is exactly that (with `pulumi package add`'s options), as a command built
# from pkg/v3 v$PULUMI_VERSION:
#   pulumi package get-schema PLUGIN_DIR > schema.json
#   grpc-kube-sdkgen nodejs|go|python schema.json OUTDIR
# and the linking is done by hand (npm: a file: dependency; go: require + replace in go.mod).
# Wrapper module as tools.sh's for the CLI: pkg/v3 and sdk/v3 at the same version, pkg's
# non-local replaces repeated; the same module graph lets Go reuse the CLI build's compiled
# packages.
build_sdkgen() {
    local name=grpc-kube-sdkgen dir="$SRC/grpc-kube-sdkgen" pmod
    runs "$BIN/$name" -h && return 0
    mkdir -p "$dir"
    pmod=$(modfile "github.com/pulumi/pulumi/pkg/v3@v$PULUMI_VERSION")
    {
        echo "// Generated by .ci/language-hosts.sh: $name, from pkg/v3 v$PULUMI_VERSION's code generators."
        echo "module grpc-kube-tools/$name"
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
    cat >"$dir/main.go" <<'EOF'
// Command grpc-kube-sdkgen: what `pulumi package add` does before linking, without a language
// host. Written by .ci/language-hosts.sh (not upstream): see build_sdkgen there.
//
//	grpc-kube-sdkgen nodejs|go|python SCHEMA.json OUTDIR
//
// It binds SCHEMA (as printed by `pulumi package get-schema`) and writes the SDK that
// pulumi-language-nodejs / pulumi-language-go's GeneratePackage RPC would, with the options
// `pulumi package add` uses: SupportPack on, and for nodejs a local SDK (TypeScript sources that
// its own postinstall script compiles with tsc when npm installs it). References to other
// packages' types are resolved through the plugins, as the CLI does.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	gogen "github.com/pulumi/pulumi/pkg/v3/codegen/go"
	pygen "github.com/pulumi/pulumi/pkg/v3/codegen/python"
	"github.com/pulumi/pulumi/pkg/v3/codegen/convert"
	"github.com/pulumi/pulumi/pkg/v3/codegen/nodejs"
	"github.com/pulumi/pulumi/pkg/v3/codegen/schema"
	pkghost "github.com/pulumi/pulumi/pkg/v3/host"
	"github.com/pulumi/pulumi/pkg/v3/resource/plugin"
	pkgWorkspace "github.com/pulumi/pulumi/pkg/v3/workspace"
	"github.com/pulumi/pulumi/sdk/v3/go/common/diag"
	"github.com/pulumi/pulumi/sdk/v3/go/common/diag/colors"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "grpc-kube-sdkgen:", err)
		os.Exit(1)
	}
}

const usage = "usage: grpc-kube-sdkgen nodejs|go|python SCHEMA.json OUTDIR"

func run(args []string) error {
	if len(args) == 1 && (args[0] == "-h" || args[0] == "-help" || args[0] == "--help") {
		fmt.Println(usage)
		return nil
	}
	if len(args) != 3 || (args[0] != "nodejs" && args[0] != "go" && args[0] != "python") {
		return fmt.Errorf("%s", usage)
	}
	language, schemaPath, out := args[0], args[1], args[2]
	raw, err := os.ReadFile(schemaPath)
	if err != nil {
		return err
	}
	var spec schema.PackageSpec
	if err := json.Unmarshal(raw, &spec); err != nil {
		return fmt.Errorf("%s: %w", schemaPath, err)
	}

	ctx := context.Background()
	sink := diag.DefaultSink(os.Stderr, os.Stderr, diag.FormatOptions{Color: colors.Never})
	host, err := pkghost.New(ctx, sink, sink, nil, pkgWorkspace.EnsureLanguageInstalled,
		schema.NewLoaderServerFromContext, convert.NewMapperServerFromContext, nil)
	if err != nil {
		return err
	}
	defer host.Close()
	cwd, err := os.Getwd()
	if err != nil {
		return err
	}
	pctx, err := plugin.NewContext(ctx, sink, sink, host, nil, cwd, nil, true, nil, nil)
	if err != nil {
		return err
	}
	defer pctx.Close()
	loader := schema.NewPluginLoader(pctx)

	// As `pulumi package add` (cmd/pulumi/packages.InstallPackage) and the hosts' GeneratePackage.
	pkg, diags, err := schema.BindSpec(spec, loader, schema.ValidationOptions{AllowDanglingReferences: true})
	if err != nil {
		return err
	}
	if diags.HasErrors() {
		return diags
	}
	pkg.SupportPack = true

	var files map[string][]byte
	switch language {
	case "nodejs":
		files, err = nodejs.GeneratePackage("pulumi-language-nodejs", pkg, nil, nil, true /*local*/, loader)
	case "go":
		files, err = gogen.GeneratePackage("pulumi-language-go", pkg, nil)
	case "python":
		files, err = pygen.GeneratePackage("pulumi-language-python", pkg, nil, loader)
	}
	if err != nil {
		return err
	}
	if err := os.RemoveAll(out); err != nil {
		return err
	}
	for name, data := range files {
		p := filepath.Join(out, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			return err
		}
	}
	fmt.Fprintf(os.Stderr, "grpc-kube-sdkgen: wrote the %s SDK of %s (%d files) to %s\n",
		language, pkg.Name, len(files), out)
	return nil
}
EOF
    (cd "$dir" && timed "$name-mod-tidy" go mod tidy)
    (cd "$dir" && timed "$name" go build -p "$GO_P" -trimpath -ldflags "-s -w" -o "$BIN/$name" .)
}

# ---- main -----------------------------------------------------------------------------------
main() {
    local part
    for part in ${GRPC_KUBE_LANGHOSTS_ONLY:-nodejs go yaml python sdkgen}; do
        "build_$part"
    done
    echo "$BIN"
}
if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
    main "$@"
fi
