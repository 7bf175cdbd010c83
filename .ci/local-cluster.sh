#!/usr/bin/env bash
# A throwaway Kubernetes control plane on loopback, for end-to-end `pulumi up` tests:
#
#   bash .ci/local-cluster.sh start DIR   # prints DIR/kubeconfig as the last stdout line
#   bash .ci/local-cluster.sh stop DIR    # kills what start started (pidfiles), even half-started
#
# etcd (Debian etcd-server) + kube-apiserver + kube-controller-manager, all bound to 127.0.0.1 on
# free ports, all state (certs, etcd data, logs, pidfiles) under DIR. By default there are no
# nodes, no kubelet, no scheduler: objects are stored and the controllers run (namespace deletion,
# service-account tokens, Deployment -> ReplicaSet -> Pod objects), but no Pod is ever bound, so
# anything that waits for Ready pods (Deployments without pulumi.com/skipAwait) waits until its
# timeout (the kubernetes provider's default for a Deployment is 10 minutes).
#
# LOCAL_CLUSTER_NODES=N (N > 0) adds kube-scheduler and kwok with N simulated nodes: Pods are
# scheduled, kwok marks them Running and Ready (no container ever runs), so Deployments become
# Available and the provider's await succeeds. The fake nodes' InternalIP is 127.0.0.1, so even
# an accidental apiserver -> kubelet call (logs, exec) stays on loopback (and is refused there).
#
# Binaries: kube-* from $GRPC_KUBE_TOOLS_BIN, else from `bash .ci/tools.sh` (which builds them
# once into a cache outside the repo); etcd from PATH or /usr/bin/etcd.
#
# Network: only 127.0.0.1. --service-cluster-ip-range is needed for ClusterIP allocation only:
# nothing here routes or connects to those addresses (no kube-proxy, no containers, no webhooks, and
# the "kubernetes" Service's endpoint reconciler is off).
set -euo pipefail

usage() {
    echo "usage: $0 start|stop DIR" >&2
    exit 2
}
[ $# -eq 2 ] || usage
CMD=$1
DIR=$2
HERE="$(cd "$(dirname "$0")" && pwd)"
log() { echo "local-cluster: $*" >&2; }

# ---- stop -----------------------------------------------------------------------------------
# A pidfile's process is killed only while its command line still names DIR, so a pid that was
# reused by an unrelated process after a crash is left alone.
stop() {
    local f pid name i
    [ -d "$DIR/pids" ] || return 0
    # Reverse start order: controller-manager, apiserver, etcd.
    for name in kwok kube-scheduler kube-controller-manager kube-apiserver etcd; do
        f="$DIR/pids/$name.pid"
        [ -f "$f" ] || continue
        pid=$(cat "$f")
        if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null &&
            tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$DIR"; then
            kill -TERM "$pid" 2>/dev/null || true
            for i in $(seq 1 50); do
                kill -0 "$pid" 2>/dev/null || break
                sleep 0.2
            done
            if kill -0 "$pid" 2>/dev/null; then
                log "$name ($pid) ignored TERM for 10s: KILL"
                kill -KILL "$pid" 2>/dev/null || true
            fi
            log "stopped $name ($pid)"
        fi
        rm -f "$f"
    done
}

if [ "$CMD" = stop ]; then
    DIR=$(cd "$DIR" 2>/dev/null && pwd) || exit 0
    stop
    exit 0
fi
[ "$CMD" = start ] || usage

# ---- start ----------------------------------------------------------------------------------
mkdir -p "$DIR"
DIR=$(cd "$DIR" && pwd)
if [ -n "$(ls "$DIR/pids" 2>/dev/null)" ]; then
    log "$DIR already has pidfiles: stop it first"
    exit 1
fi
mkdir -p "$DIR/pki" "$DIR/logs" "$DIR/pids" "$DIR/etcd"
chmod 700 "$DIR/pki" "$DIR/etcd"
# A failed start leaves nothing running.
on_exit() {
    local rc=$?
    if [ "$rc" -ne 0 ]; then
        log "start failed (exit $rc), stopping what was started"
        stop
    fi
}
trap on_exit EXIT

BIN=${GRPC_KUBE_TOOLS_BIN:-$(bash "$HERE/tools.sh" | tail -1)}
ETCD=$(command -v etcd || echo /usr/bin/etcd)
NODES=${LOCAL_CLUSTER_NODES:-0}
need=("$ETCD" "$BIN/kube-apiserver" "$BIN/kube-controller-manager")
[ "$NODES" -gt 0 ] && need+=("$BIN/kube-scheduler" "$BIN/kwok" "$BIN/kubectl")
for b in "${need[@]}"; do
    [ -x "$b" ] || {
        log "missing $b (etcd: apt-get install etcd-server; kube-*: bash .ci/tools.sh)"
        exit 1
    }
done

# Five free loopback ports, asked of the kernel (bind to port 0), then released.
read -r ETCD_PORT PEER_PORT API_PORT KCM_PORT SCHED_PORT < <(python3 -c '
import socket
socks = [socket.socket() for _ in range(5)]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in socks])
')
API="https://127.0.0.1:$API_PORT"
printf 'etcd=%s etcd_peer=%s apiserver=%s controller_manager=%s scheduler=%s\n' \
    "$ETCD_PORT" "$PEER_PORT" "$API_PORT" "$KCM_PORT" "$SCHED_PORT" >"$DIR/ports"

# ---- certificates ---------------------------------------------------------------------------
pki=$DIR/pki
# cert NAME SUBJECT [EXT]: key + certificate signed by the CA.
cert() {
    local name=$1 subj=$2 ext=${3:-}
    openssl req -new -newkey rsa:2048 -nodes -keyout "$pki/$name.key" -subj "$subj" \
        -out "$pki/$name.csr" 2>/dev/null
    printf '%s\n' "$ext" >"$pki/$name.ext"
    openssl x509 -req -in "$pki/$name.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" \
        -CAcreateserial -days 2 -sha256 -out "$pki/$name.crt" -extfile "$pki/$name.ext" 2>/dev/null
    rm -f "$pki/$name.csr" "$pki/$name.ext"
}
openssl req -x509 -new -newkey rsa:2048 -nodes -days 2 -sha256 -subj "/CN=local-cluster-ca" \
    -keyout "$pki/ca.key" -out "$pki/ca.crt" 2>/dev/null
cert apiserver "/CN=kube-apiserver" \
    "subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc
extendedKeyUsage=serverAuth"
cert admin "/O=system:masters/CN=admin" "extendedKeyUsage=clientAuth"
# The controller-manager's own identity; with --use-service-account-credentials each controller
# then acts as its own service account under the bootstrap RBAC roles (as kubeadm sets it up).
cert controller-manager "/CN=system:kube-controller-manager" "extendedKeyUsage=clientAuth"
cert scheduler "/CN=system:kube-scheduler" "extendedKeyUsage=clientAuth"
# kwok writes node and pod status for every simulated kubelet: admin rights, like a test harness.
cert kwok "/O=system:masters/CN=kwok" "extendedKeyUsage=clientAuth"
# Service-account token signing key pair.
openssl genrsa -out "$pki/sa.key" 2048 2>/dev/null
openssl rsa -in "$pki/sa.key" -pubout -out "$pki/sa.pub" 2>/dev/null

# kubeconfig USER FILE: a self-contained kubeconfig (certificates inlined), so its contents can be
# handed to a program (pulumi_kubernetes.Provider(kubeconfig=...)) as well as its path.
kubeconfig() {
    local user=$1 file=$2
    cat >"$file" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: local
  cluster:
    server: $API
    certificate-authority-data: $(base64 -w0 "$pki/ca.crt")
users:
- name: $user
  user:
    client-certificate-data: $(base64 -w0 "$pki/$user.crt")
    client-key-data: $(base64 -w0 "$pki/$user.key")
contexts:
- name: local
  context:
    cluster: local
    user: $user
current-context: local
EOF
    chmod 600 "$file"
}
kubeconfig admin "$DIR/kubeconfig"
kubeconfig controller-manager "$DIR/controller-manager.kubeconfig"
kubeconfig scheduler "$DIR/scheduler.kubeconfig"
kubeconfig kwok "$DIR/kwok.kubeconfig"

# launch NAME CMD...: start CMD detached (own session, stdin closed), log and pidfile in DIR.
launch() {
    local name=$1
    shift
    setsid "$@" </dev/null >"$DIR/logs/$name.log" 2>&1 &
    echo $! >"$DIR/pids/$name.pid"
    log "started $name (pid $!, log $DIR/logs/$name.log)"
}

# alive NAME: its process is still running (else show the end of its log).
alive() {
    if ! kill -0 "$(cat "$DIR/pids/$1.pid")" 2>/dev/null; then
        log "$1 exited; end of its log:"
        tail -30 "$DIR/logs/$1.log" >&2
        return 1
    fi
}

# ---- etcd -----------------------------------------------------------------------------------
launch etcd "$ETCD" --name local --data-dir "$DIR/etcd" \
    --listen-client-urls "http://127.0.0.1:$ETCD_PORT" \
    --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
    --listen-peer-urls "http://127.0.0.1:$PEER_PORT" \
    --initial-advertise-peer-urls "http://127.0.0.1:$PEER_PORT" \
    --initial-cluster "local=http://127.0.0.1:$PEER_PORT" \
    --initial-cluster-state new --log-level warn
for i in $(seq 1 100); do
    curl -fsS "http://127.0.0.1:$ETCD_PORT/health" >/dev/null 2>&1 && break
    alive etcd
    sleep 0.2
done
curl -fsS "http://127.0.0.1:$ETCD_PORT/health" >/dev/null || {
    log "etcd not healthy after 20s"
    exit 1
}

# ---- kube-apiserver -------------------------------------------------------------------------
# --endpoint-reconciler-type=none: the reconciler would publish the advertise address
#   (127.0.0.1, which Endpoints validation rejects) as the "kubernetes" Service's endpoint.
# The default admission plugins are kept; none of them needs a node.
launch kube-apiserver "$BIN/kube-apiserver" \
    --bind-address 127.0.0.1 --advertise-address 127.0.0.1 --secure-port "$API_PORT" \
    --etcd-servers "http://127.0.0.1:$ETCD_PORT" \
    --tls-cert-file "$pki/apiserver.crt" --tls-private-key-file "$pki/apiserver.key" \
    --client-ca-file "$pki/ca.crt" \
    --authorization-mode Node,RBAC \
    --service-account-issuer "$API" \
    --service-account-key-file "$pki/sa.pub" \
    --service-account-signing-key-file "$pki/sa.key" \
    --service-cluster-ip-range 10.96.0.0/16 \
    --endpoint-reconciler-type none \
    --profiling=false \
    --cert-dir "$DIR/pki/apiserver-generated"

# ---- wait for /readyz -----------------------------------------------------------------------
ready=
for i in $(seq 1 240); do
    if curl -fsS --cacert "$pki/ca.crt" --cert "$pki/admin.crt" --key "$pki/admin.key" \
        "$API/readyz" >/dev/null 2>&1; then
        ready=1
        break
    fi
    alive etcd
    alive kube-apiserver
    sleep 0.5
done
if [ -z "$ready" ]; then
    log "kube-apiserver not ready after 120s; end of its log:"
    tail -30 "$DIR/logs/kube-apiserver.log" >&2
    exit 1
fi

# ---- kube-controller-manager ----------------------------------------------------------------
# Only once the apiserver is ready: before its RBAC bootstrap has run, the controller-manager's
# first read (the extension-apiserver-authentication ConfigMap) is forbidden and it exits.
launch kube-controller-manager "$BIN/kube-controller-manager" \
    --kubeconfig "$DIR/controller-manager.kubeconfig" \
    --authentication-kubeconfig "$DIR/controller-manager.kubeconfig" \
    --authorization-kubeconfig "$DIR/controller-manager.kubeconfig" \
    --bind-address 127.0.0.1 --secure-port "$KCM_PORT" \
    --cert-dir "$DIR/pki/controller-manager-generated" \
    --use-service-account-credentials \
    --service-account-private-key-file "$pki/sa.key" \
    --root-ca-file "$pki/ca.crt" \
    --cluster-signing-cert-file "$pki/ca.crt" --cluster-signing-key-file "$pki/ca.key" \
    --leader-elect=false \
    --profiling=false

# Its /healthz (always allowed, self-signed serving cert) answers once its controllers started.
ready=
for i in $(seq 1 120); do
    if curl -fsSk "https://127.0.0.1:$KCM_PORT/healthz" >/dev/null 2>&1; then
        ready=1
        break
    fi
    alive kube-controller-manager
    sleep 0.5
done
if [ -z "$ready" ]; then
    log "kube-controller-manager not healthy after 60s; end of its log:"
    tail -30 "$DIR/logs/kube-controller-manager.log" >&2
    exit 1
fi

# ---- optional: kube-scheduler + kwok + N simulated nodes ------------------------------------
if [ "$NODES" -gt 0 ]; then
    launch kube-scheduler "$BIN/kube-scheduler" \
        --kubeconfig "$DIR/scheduler.kubeconfig" \
        --authentication-kubeconfig "$DIR/scheduler.kubeconfig" \
        --authorization-kubeconfig "$DIR/scheduler.kubeconfig" \
        --bind-address 127.0.0.1 --secure-port "$SCHED_PORT" \
        --cert-dir "$DIR/pki/scheduler-generated" \
        --leader-elect=false
    # Pod IPs are status values only: no container, no kube-proxy, nothing connects to them. Not
    # loopback, which EndpointSlice validation rejects (Service endpoints, and the provider's
    # Service await, need them): RFC 5737's documentation range 198.51.100.0/24, never routed.
    launch kwok "$BIN/kwok" \
        --kubeconfig "$DIR/kwok.kubeconfig" \
        --config "$BIN/../share/kwok/stages.yaml" \
        --manage-all-nodes=false \
        --manage-nodes-with-annotation-selector kwok.x-k8s.io/node=fake \
        --node-ip 127.0.0.1 --cidr 198.51.100.0/24 \
        --node-lease-duration-seconds 40
    for i in $(seq 0 $((NODES - 1))); do
        cat <<EOF
---
apiVersion: v1
kind: Node
metadata:
  name: kwok-node-$i
  annotations:
    kwok.x-k8s.io/node: fake
    node.alpha.kubernetes.io/ttl: "0"
  labels:
    kubernetes.io/hostname: kwok-node-$i
    kubernetes.io/os: linux
    kubernetes.io/arch: amd64
    type: kwok
status:
  allocatable: {cpu: "32", memory: 256Gi, pods: "110"}
  capacity: {cpu: "32", memory: 256Gi, pods: "110"}
EOF
    done | "$BIN/kubectl" --kubeconfig "$DIR/kubeconfig" apply -f - >&2
    ready=
    for i in $(seq 1 120); do
        if [ "$("$BIN/kubectl" --kubeconfig "$DIR/kubeconfig" get nodes -l type=kwok \
            -o jsonpath='{range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}' \
            2>/dev/null | grep -c '^True$')" -eq "$NODES" ]; then
            ready=1
            break
        fi
        alive kube-scheduler
        alive kwok
        sleep 0.5
    done
    if [ -z "$ready" ]; then
        log "kwok nodes not Ready after 60s; end of kwok's log:"
        tail -30 "$DIR/logs/kwok.log" >&2
        exit 1
    fi
    log "$NODES simulated node(s) Ready (kwok)"
fi

log "ready: $API (kubeconfig $DIR/kubeconfig)"
echo "$DIR/kubeconfig"
