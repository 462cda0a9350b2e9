"""A private network of test hosts: each host is a network namespace with one address on a bridge
that lives in a hub namespace of its own, so nothing in the machine's own namespace changes and
no traffic can leave. Made by the test (root, `ip netns`), torn down afterwards.

    with network(["target", "worker1"]) as net:
        net.popen("target", [...server...])
        net.popen("worker1", [...load...], env=env)
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

SUBNET = "10.231.7"  # private, and only inside the hub's bridge


class NetnsUnavailable(RuntimeError):
    pass


def _ip(*args: str) -> None:
    proc = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=30)
    if proc.returncode != 0:
        raise NetnsUnavailable(f"`ip {' '.join(args)}` failed: {proc.stderr.strip() or proc.returncode}")


class Network:
    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.addresses: dict[str, str] = {}
        self.procs: list[subprocess.Popen] = []

    def __getitem__(self, host: str) -> str:
        return self.addresses[host]

    def ns(self, host: str) -> str:
        return f"{self.prefix}-{host}"

    def command(self, host: str, cmd: list[str]) -> list[str]:
        return ["ip", "netns", "exec", self.ns(host), *cmd]

    def popen(self, host: str, cmd: list[str], **kwargs) -> subprocess.Popen:
        proc = subprocess.Popen(self.command(host, cmd), **kwargs)
        self.procs.append(proc)
        return proc

    def wait_port(self, host: str, port: int, timeout: float = 20) -> None:
        """Until something listens on host:port, as seen from the host itself."""
        code = f"import socket; socket.create_connection(('{self[host]}', {port}), 1)"
        probe = [sys.executable, "-c", code]
        deadline = time.monotonic() + timeout
        while subprocess.run(self.command(host, probe), capture_output=True).returncode != 0:
            if time.monotonic() > deadline:
                raise TimeoutError(f"nothing listens on {self[host]}:{port} after {timeout:.0f} s")
            time.sleep(0.2)


@contextmanager
def network(hosts: list[str]) -> Iterator[Network]:
    """Hosts 10.231.7.10, .11, ... in that order; every process started through the network is
    stopped and every namespace deleted on exit."""
    if shutil.which("ip") is None:
        raise NetnsUnavailable("no `ip` command (Debian: apt-get install iproute2)")
    if os.geteuid() != 0:
        raise NetnsUnavailable("network namespaces need root (CAP_SYS_ADMIN)")
    net = Network(f"ps{os.getpid()}")
    hub = f"{net.prefix}-hub"
    made: list[str] = []
    try:
        _ip("netns", "add", hub)
        made.append(hub)
        _ip("-n", hub, "link", "add", "br0", "type", "bridge")
        _ip("-n", hub, "link", "set", "br0", "up")
        for i, host in enumerate(hosts):
            ns, port = net.ns(host), f"p{i}"
            _ip("netns", "add", ns)
            made.append(ns)
            _ip("link", "add", port, "netns", hub, "type", "veth", "peer", "name", "eth0", "netns", ns)
            _ip("-n", hub, "link", "set", port, "master", "br0", "up")
            net.addresses[host] = f"{SUBNET}.{10 + i}"
            _ip("-n", ns, "addr", "add", f"{net.addresses[host]}/24", "dev", "eth0")
            _ip("-n", ns, "link", "set", "eth0", "up")
            _ip("-n", ns, "link", "set", "lo", "up")
        yield net
    finally:
        for proc in net.procs:  # politely first: nginx's master stops its workers on SIGTERM
            if proc.poll() is None:
                proc.terminate()
        for proc in net.procs:
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        for ns in reversed(made):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=30)
