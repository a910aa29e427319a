#!/usr/bin/env python3
"""Remote execution benchmark (issue 13), in one run. Prints a Markdown table.

    sudo python3 scripts/bench_remote.py      (after: swift build -c release; root for ip netns)

A server on the host and one worker in its own network namespace over a veth pair
(Scenarios/cluster.py). On 1M generated 1m bars (data/SYNTH_1m.csv), sma_crossover:
- the whole job, local on the server against remote through the worker: wall time from the
  start call to the completed record (polled every 5 ms), data caches warm on both sides
  (the data file already shipped), alternating, median of 7;
- proxied `GET /api/v1/operations/{id}` while a remote run is in progress (keep-alive client):
  p50 and p99 of 2,000 reads (a read goes to the worker when the server's copy is > 20 ms old);
- cancel through the server: DELETE of a running remote operation until both sides are
  cancelled (the call returns the final record), median and max of 10;
- a 1,000-trial sweep (fast 5..54 x slow 60..250 step 10) on EURUSD 1h (5,000 bars, so that
  a trial's compute is small and dispatch shows), local against distributed over two workers
  in two namespaces (all on the same 2 cores: the difference per trial is the overhead), median of 3.
"""
import http.client
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "Scenarios"))
from cluster import TOKEN, Host  # noqa: E402

BIN = os.path.join(ROOT, ".build", "release")
K = os.path.join(BIN, "ktrdrctl")
RUN = {"strategy_name": "sma_crossover", "symbol": "SYNTH", "timeframe": "1m", "commission": 0.001, "slippage": 0}


class Api:
    def __init__(self, host, port, token=None):
        self.c = http.client.HTTPConnection(host, port, timeout=30)
        self.h = {"Content-Type": "application/json"} | ({"Authorization": f"Bearer {token}"} if token else {})

    def call(self, method, path, body=None):
        self.c.request(method, path, body=json.dumps(body) if body is not None else None, headers=self.h)
        r = self.c.getresponse()
        return r.status, json.loads(r.read())


def start(home, http, args, env, netns=None):
    prefix = ["ip", "netns", "exec", netns] if netns else []
    p = subprocess.run([*prefix, K, "daemon", "start", "--home", home, "--http", http, "--data-dir", os.path.join(home, "data"),
                        "--strategies-dir", os.path.join(ROOT, "strategies"), "--plugins-dir", BIN, "--", *args],
                       capture_output=True, text=True, env=dict(os.environ, **env))
    if p.returncode != 0:
        sys.exit(f"cannot start ktrdrd: {p.stdout}{p.stderr}")


def wait(api, op, statuses=("completed", "failed", "cancelled")):
    while True:
        _, b = api.call("GET", f"/api/v1/operations/{op}")
        if b["data"]["status"] in statuses:
            return b["data"]
        time.sleep(0.005)


def job(api, **extra):
    t0 = time.perf_counter()
    _, b = api.call("POST", "/api/v1/backtests/start", dict(RUN, **extra))
    r = wait(api, b["operation_id"])
    assert r["status"] == "completed", r
    return time.perf_counter() - t0, r


def main():
    data = os.path.join(ROOT, "data", "SYNTH_1m.csv")
    if not os.path.exists(data):
        subprocess.run([K, "data", "generate", "--bars", "1000000", "--symbol", "SYNTH", "--data-dir", os.path.join(ROOT, "data")], check=True)
    tmp = tempfile.mkdtemp(prefix="ktrdr-bench-remote-")
    host, host2 = Host(7), Host(8)
    if not host.ok or not host2.ok:
        sys.exit(f"network namespaces unavailable: {host.error if not host.ok else host2.error}")
    server, worker, worker2 = os.path.join(tmp, "s"), os.path.join(tmp, "w"), os.path.join(tmp, "w2")
    for d in (server, worker, worker2):
        os.makedirs(os.path.join(d, "data"))
    shutil.copy(data, os.path.join(server, "data"))
    shutil.copy(os.path.join(ROOT, "data", "EURUSD_1h.csv"), os.path.join(server, "data"))
    env = {"KTRDR_WORKER_TOKEN": TOKEN}
    try:
        start(worker, f"{host.addr}:8001", ["--role", "worker"], env, netns=host.ns)
        start(worker2, f"{host2.addr}:8001", ["--role", "worker"], env, netns=host2.ns)
        start(server, "127.0.0.1:18300", ["--isolation", "none", "--worker", f"http://{host.addr}:8001", "--worker", f"http://{host2.addr}:8001"], env)
        api = Api("127.0.0.1", 18300)
        job(api, mode="local")
        job(api, mode="remote")  # ships the data file, warms the worker's cache
        local, remote = [], []
        for _ in range(7):
            local.append(job(api, mode="local")[0])
            remote.append(job(api, mode="remote")[0])
        lm, rm = statistics.median(local), statistics.median(remote)

        _, b = api.call("POST", "/api/v1/backtests/start", dict(RUN, mode="remote", pace_bars_per_second=100000))
        op = b["operation_id"]
        reads = []
        for _ in range(2000):
            t0 = time.perf_counter()
            api.call("GET", f"/api/v1/operations/{op}")
            reads.append((time.perf_counter() - t0) * 1000)
        api.call("DELETE", f"/api/v1/operations/{op}")
        reads.sort()

        cancels = []
        for _ in range(10):
            _, b = api.call("POST", "/api/v1/backtests/start", dict(RUN, mode="remote", pace_bars_per_second=100000))
            op = b["operation_id"]
            while not wait(api, op, ("running",)).get("progress", {}).get("percentage"):
                time.sleep(0.01)
            t0 = time.perf_counter()
            _, c = api.call("DELETE", f"/api/v1/operations/{op}")
            cancels.append((time.perf_counter() - t0) * 1000)
            assert c["data"]["status"] == "cancelled", c
        sweep = [K, "sweep", "run", "sma_crossover", "EURUSD", "1h", "--param", "fast_period=5:54:1", "--param", "slow_period=60:250:10",
                 "--home", server, "--json"]
        times = {"local": [], "remote": []}
        for _ in range(3):
            for mode in ("local", "remote"):
                t0 = time.perf_counter()
                p = subprocess.run(sweep + [f"--{'no-' if mode == 'local' else ''}remote"], capture_output=True, text=True)
                times[mode].append(time.perf_counter() - t0)
                assert p.returncode == 0 and len(json.loads(p.stdout)["trials"]) == 1000, p.stderr
        sl, sr = statistics.median(times["local"]), statistics.median(times["remote"])
        print(f"machine: {os.cpu_count()} cores, {time.strftime('%Y-%m-%d')}; worker in a network namespace over veth; 1M bars")
        print()
        print("| measure | figure | target |")
        print("|---|---|---|")
        print(f"| 1M-bar backtest, local (median of 7) | {lm * 1000:.0f} ms (runs: {', '.join(f'{x * 1000:.0f}' for x in local)}) | |")
        print(f"| same, remote through one worker (median of 7) | {rm * 1000:.0f} ms (runs: {', '.join(f'{x * 1000:.0f}' for x in remote)}) | |")
        print(f"| remote overhead | {(rm / lm - 1) * 100:+.1f} % | < 5 % |")
        print(f"| proxied GET /operations/{{id}} during a remote run, 2,000 reads | p50 {reads[1000]:.2f} ms, p99 {reads[1980]:.2f} ms, max {reads[-1]:.2f} ms | p99 < 2 ms |")
        print(f"| cancel through the server, both sides cancelled (10) | median {statistics.median(cancels):.0f} ms, max {max(cancels):.0f} ms | < 250 ms |")
        print(f"| 1,000-trial sweep on 5,000 bars, local (median of 3) | {sl:.2f} s | |")
        print(f"| same, distributed over two workers and the server (same 2 cores) | {sr:.2f} s | |")
        print(f"| dispatch overhead per trial | {(sr - sl) / 1000 * 1000:+.2f} ms | |")
    finally:
        for home in (server, worker, worker2):
            subprocess.run([K, "daemon", "stop", "--home", home], capture_output=True)
        host.remove()
        host2.remove()
        if os.environ.get("KEEP"):
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
