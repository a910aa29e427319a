#!/usr/bin/env python3
"""Daemon benchmarks, side by side in one run (issue 3). Prints a Markdown table.

    python3 scripts/bench_daemon.py        (after: swift build -c release; data/SYNTH_1m.csv present)

- 1M-bar backtest through the daemon (`ktrdrctl backtest run`, wall time from command start to
  the result table) against `ktrdrctl backtest run --local` (in-process engine, same file, same
  output): overhead = daemon - local, median of 7 alternating runs;
- cancel-to-`cancelled` latency: 20 paced runs cancelled over the control socket; client-observed
  round trip (the cancel call returns once the operation is cancelled) and the engine-side figure
  from the daemon log;
- GET /api/v1/operations/{id} under wrk load while 8 backtests run: p50/p99 latency and requests/s;
- 1, 2 and 4 concurrent 1M-bar backtests: aggregate engine throughput (bars/s) against one.
"""
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_table import print_table  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
K = os.path.join(ROOT, ".build", "release", "ktrdrctl")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Daemon:
    def __init__(self, max_concurrent):
        self.home = tempfile.mkdtemp(prefix="ktrdr-bench-")
        self.port = free_port()
        subprocess.run([K, "daemon", "start", "--home", self.home, "--http", f"127.0.0.1:{self.port}", "--max-concurrent", str(max_concurrent)],
                       check=True, cwd=ROOT, capture_output=True)
        self.sock = os.path.join(self.home, "run", "ktrdrd.sock")

    def restart_without_cache(self):
        """Same home, data cache off: every request reads the CSV, as --local does."""
        subprocess.run([K, "daemon", "stop", "--home", self.home], cwd=ROOT, capture_output=True)
        log = open(os.path.join(self.home, "log", "ktrdrd.log"), "a")
        subprocess.Popen([os.path.join(os.path.dirname(K), "ktrdrd"), "--home", self.home, "--http", f"127.0.0.1:{self.port}",
                          "--data-cache-mb", "0", "--max-concurrent", "8", "--data-dir", os.path.join(ROOT, "data"),
                          "--strategies-dir", os.path.join(ROOT, "strategies")],
                         cwd=ROOT, stdout=log, stderr=log, start_new_session=True)
        for _ in range(100):
            try:
                self.call("daemon.status")
                return
            except OSError:
                time.sleep(0.1)

    def call(self, method, params=None):
        s = socket.socket(socket.AF_UNIX)
        s.connect(self.sock)
        f = s.makefile("rwb")
        f.readline()
        f.write(json.dumps({"id": 1, "method": method, "params": params or {}}).encode() + b"\n")
        f.flush()
        reply = json.loads(f.readline())
        s.close()
        if "error" in reply:
            raise RuntimeError(reply["error"])
        return reply["result"]

    def start(self, **p):
        return self.call("backtest.start", dict(strategy_name="sma_crossover", symbol="SYNTH", timeframe="1m", **p))["operation_id"]

    def wait(self, op):
        while True:
            r = self.call("operation.get", {"operation_id": op})
            if r["status"] in ("completed", "failed", "cancelled"):
                return r
            time.sleep(0.01)

    def log(self):
        return open(os.path.join(self.home, "log", "ktrdrd.log")).read()

    def stop(self):
        subprocess.run([K, "daemon", "stop", "--home", self.home], cwd=ROOT, capture_output=True)
        shutil.rmtree(self.home, ignore_errors=True)


def wall(cmd):
    t = time.perf_counter()
    subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True)
    return time.perf_counter() - t


def main():
    rows = []
    d = Daemon(max_concurrent=8)
    try:
        # 1. daemon vs in-process, same request and output
        base = ["backtest", "run", "sma_crossover", "SYNTH", "1m", "--commission", "0.001", "--slippage", "0"]
        wall([K, *base, "--home", d.home])  # warm the page cache and the daemon
        daemon_t, local_t = [], []
        for _ in range(7):
            daemon_t.append(wall([K, *base, "--home", d.home]))
            local_t.append(wall([K, *base, "--local"]))
        dm, lm = statistics.median(daemon_t), statistics.median(local_t)
        engine = [r["duration_seconds"] for r in d.call("operations.list", {"limit": 7})["operations"]]
        em = statistics.median(engine)
        rows.append(("1M bars: `ktrdrctl backtest run` through the daemon, data cache warm (wall)", f"{dm*1000:.0f} ms", ""))
        rows.append(("1M bars: `ktrdrctl backtest run --local` (wall)", f"{lm*1000:.0f} ms", ""))
        rows.append(("1M bars: engine time inside the daemon (operation duration)", f"{em*1000:.1f} ms", ""))
        rows.append(("daemon overhead, data cache warm (daemon - local)", f"{(dm-lm)*1000:+.0f} ms", f"{(dm-lm)/lm*100:+.1f} % of the local wall time"))
        d.restart_without_cache()
        cold = [wall([K, *base, "--home", d.home]) for _ in range(7)]
        cm = statistics.median(cold)
        rows.append(("1M bars through the daemon, data cache off (wall)", f"{cm*1000:.0f} ms", ""))
        rows.append(("daemon overhead, data cache off (daemon - local)", f"{(cm-lm)*1000:+.0f} ms", f"{(cm-lm)/lm*100:+.1f} % of the local wall time"))
        d.stop()
        d = Daemon(max_concurrent=8)

        # 2. cancel latency
        rtts = []
        for _ in range(20):
            op = d.start(pace_bars_per_second=200000)
            time.sleep(0.15)
            t = time.perf_counter()
            r = d.call("operation.cancel", {"operation_id": op})
            rtts.append((time.perf_counter() - t) * 1000)
            assert r["status"] == "cancelled", r
        engine_ms = [float(x) for x in re.findall(r"cancel_latency_ms=([0-9.]+)", d.log())][-20:]
        rows.append(("cancel → `cancelled`, client round trip (20 runs)", f"median {statistics.median(rtts):.1f} ms", f"max {max(rtts):.1f} ms"))
        rows.append(("cancel → engine stopped, daemon log (20 runs, paced: 1 chunk = 10 ms)", f"median {statistics.median(engine_ms):.1f} ms",
                     f"max {max(engine_ms):.1f} ms"))

        # 3. wrk on GET /operations/{id} with 8 backtests running
        ops = [d.start(pace_bars_per_second=50000) for _ in range(8)]
        time.sleep(0.5)
        if shutil.which("wrk"):
            out = subprocess.run(["wrk", "-t2", "-c16", "-d8s", "--latency", f"http://127.0.0.1:{d.port}/api/v1/operations/{ops[0]}"],
                                 capture_output=True, text=True).stdout
            rps = re.search(r"Requests/sec:\s+([0-9.]+)", out).group(1)
            p50 = re.search(r"50%\s+([0-9.]+\w+)", out).group(1)
            p99 = re.search(r"99%\s+([0-9.]+\w+)", out).group(1)
            running = sum(d.call("operation.get", {"operation_id": o})["status"] == "running" for o in ops)
            rows.append((f"GET /operations/{{id}} under wrk (2 threads, 16 connections, 8 s), {running} backtests running",
                         f"{float(rps):,.0f} req/s", f"p50 {p50}, p99 {p99}"))
        else:
            rows.append(("wrk", "not installed (apt-get install wrk)", ""))
        for o in ops:
            d.call("operation.cancel", {"operation_id": o})

        # 4. concurrency scaling
        base_rate = None
        base_engine = None
        def secs(s):
            return time.mktime(time.strptime(s[:19], "%Y-%m-%dT%H:%M:%S")) + float("0" + s[19:-1])
        for n in (1, 2, 4):
            spans, engines = [], []
            for _ in range(3):  # median of 3 rounds
                ids = [d.start() for _ in range(n)]
                recs = [d.wait(o) for o in ids]
                spans.append(max(secs(r["completed_at"]) for r in recs) - min(secs(r["started_at"]) for r in recs))
                log = d.log()
                engines.append(max(int(re.search(r"engine_ms=(\d+) operation_id=" + o, log).group(1)) for o in ids) / 1000)
            rate = n * 1_000_000 / statistics.median(spans)
            engine_rate = n * 1_000_000 / statistics.median(engines)
            base_rate = base_rate or rate
            base_engine = base_engine or engine_rate
            rows.append((f"{n} concurrent 1M-bar backtests: aggregate throughput, compute + store (median of 3)", f"{rate/1e6:.1f} M bars/s",
                         f"{rate/base_rate:.2f}x one"))
            rows.append((f"{n} concurrent 1M-bar backtests: aggregate engine throughput, signals + loop + metrics (median of 3)",
                         f"{engine_rate/1e6:.1f} M bars/s", f"{engine_rate/base_engine:.2f}x one"))
    finally:
        d.stop()
    print_table(rows)


if __name__ == "__main__":
    sys.exit(main())
