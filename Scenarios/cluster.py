"""A server and workers on separate hosts: each worker runs in its own network namespace,
joined to the host (where the server runs) by a veth pair, so that server-worker traffic
crosses a real network link that `ip link set ... down` can cut. Without namespaces (not
root, no `ip`), workers fall back to loopback ports and the scenario says so."""
import os
import subprocess
import time

from harness import KTRDRCTL, Daemon

TOKEN = "scenario-worker-token-0123456789"


def _ip(*args):
    return subprocess.run(["ip", *args], capture_output=True, text=True)


class Host:
    """One namespace with a veth link to the host: host side 10.231.N.1, worker 10.231.N.2."""

    def __init__(self, n):
        tag = f"{os.getpid() % 10000}{n}"
        self.ns = f"ktw{tag}"
        self.host_if = f"kvh{tag}"
        self.ns_if = f"kvw{tag}"
        self.addr = f"10.231.{n}.2"
        self.ok = False
        # A run killed before its cleanup leaves its link with this subnet: remove it first.
        stale = _ip("-o", "addr", "show", "to", f"10.231.{n}.0/24").stdout.split()
        if len(stale) > 1:
            _ip("link", "del", stale[1].split("@")[0])
        steps = [
            ["netns", "add", self.ns],
            ["link", "add", self.host_if, "type", "veth", "peer", "name", self.ns_if],
            ["link", "set", self.ns_if, "netns", self.ns],
            ["addr", "add", f"10.231.{n}.1/24", "dev", self.host_if],
            ["link", "set", self.host_if, "up"],
            ["-n", self.ns, "addr", "add", f"{self.addr}/24", "dev", self.ns_if],
            ["-n", self.ns, "link", "set", self.ns_if, "up"],
            ["-n", self.ns, "link", "set", "lo", "up"],
        ]
        for step in steps:
            r = _ip(*step)
            if r.returncode != 0:
                self.error = f"ip {' '.join(step)}: {r.stderr.strip()}"
                self.remove()
                return
        self.ok = True

    def cut(self):
        _ip("link", "set", self.host_if, "down")

    def heal(self):
        _ip("link", "set", self.host_if, "up")

    def remove(self):
        _ip("link", "del", self.host_if)
        _ip("netns", "del", self.ns)


class Worker(Daemon):
    """A `ktrdrd --role worker` with an empty data directory, in its own namespace when it can."""

    def __init__(self, n, use_netns=True):
        super().__init__()
        for name in os.listdir(self.data):  # data arrives from the server, by SHA-256
            os.remove(os.path.join(self.data, name))
        self.host = Host(n) if use_netns else None
        if self.host is not None and not self.host.ok:
            self.fallback_reason = self.host.error
            self.host = None
        self.addr = self.host.addr if self.host else "127.0.0.1"
        self.url = f"http://{self.addr}:{self.port}"
        self.token = TOKEN

    def start(self, *extra, env=None):
        prefix = ["ip", "netns", "exec", self.host.ns] if self.host else []
        environment = dict(os.environ, KTRDR_WORKER_TOKEN=TOKEN, **(env or {}))
        p = subprocess.run([*prefix, KTRDRCTL, "daemon", "start", "--home", self.home, "--http", f"{self.addr}:{self.port}",
                            "--data-dir", self.data, "--strategies-dir", self.strategies, "--models-dir", self.models,
                            "--plugins-dir", self.plugins, "--", "--role", "worker", *extra],
                           capture_output=True, text=True, env=environment, timeout=60)
        self.check(f"worker {self.url} starts", p.returncode == 0, "exit 0", p.stdout + p.stderr)
        return self

    def cleanup(self):
        super().cleanup()
        if self.host:
            self.host.remove()


def start_server(d, workers, *extra, env=None):
    """Restarts the scenario's daemon `d` as a server handing work to `workers`."""
    d.stop()
    time.sleep(0.2)
    args = []
    for w in workers:
        args += ["--worker", w.url]
    environment = dict(os.environ, KTRDR_WORKER_TOKEN=TOKEN, **(env or {}))
    p = subprocess.run([KTRDRCTL, "daemon", "start", "--home", d.home, "--http", f"127.0.0.1:{d.port}", "--data-dir", d.data,
                        "--strategies-dir", d.strategies, "--models-dir", d.models, "--plugins-dir", d.plugins, "--", *args, *extra],
                       capture_output=True, text=True, env=environment, timeout=60)
    d.check("server starts with workers", p.returncode == 0, "exit 0", p.stdout + p.stderr)


def make_workers(d, count):
    """`count` workers, in namespaces when possible; records which in the figures."""
    workers = [Worker(i + 1) for i in range(count)]
    fallback = [w.fallback_reason for w in workers if getattr(w, "fallback_reason", None)]
    if fallback:
        print(f"  note: network namespaces unavailable ({fallback[0]}); workers on loopback ports")
        d.figure("workers", "loopback fallback (no netns)")
    else:
        d.figure("workers", f"{count} network namespaces over veth")
    return workers
