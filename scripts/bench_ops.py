#!/usr/bin/env python3
"""Operations-layer benchmarks (issue 10), side by side in one run. Prints a Markdown table.

    python3 scripts/bench_ops.py            (after: swift build -c release)

Generates data/SYNTH_1m.csv (1M bars), data/SYNTHX_1m.csv (10M bars) and data/TINY_1m.csv
(1,000 bars) when missing, then measures, each against real ktrdrd processes:
- 1, 2 and 4 concurrent 1M-bar backtests, data cache warm: submit to stored result, aggregate
  throughput against one (median of 5 rounds);
- GET /api/v1/operations/{id} latency (wrk, p50/p99) while rounds of four 1M-bar backtests
  are computed and stored;
- `ktrdrctl backtest run` through the daemon with the data cache off against `--local`, same
  file and output (median of 7 alternating runs);
- state-directory growth per stored 1M-bar result (database + WAL + result files);
- start-call latency for the 10M-bar file (median of 5, data cache off);
- `ktrdrctl backtest run --local` of sma_crossover on 1M bars (median of 7);
- 10,000 tiny operations (1,000 bars each) submitted in a burst over one socket connection:
  all complete, none lost, operations per second, /metrics counts exact.
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
import threading
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_table import print_table  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, ".build", "release")
K = os.path.join(BIN, "ktrdrctl")
DATA = os.path.join(ROOT, "data")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Daemon:
    def __init__(self, max_concurrent=2, cache_mb=1024):
        self.home = tempfile.mkdtemp(prefix="ktrdr-bench-ops-")
        self.port = free_port()
        log = open(os.path.join(self.home, "ktrdrd.out"), "w")
        self.proc = subprocess.Popen([os.path.join(BIN, "ktrdrd"), "--home", self.home, "--http", f"127.0.0.1:{self.port}",
                                      "--max-concurrent", str(max_concurrent), "--data-cache-mb", str(cache_mb),
                                      "--data-dir", DATA, "--strategies-dir", os.path.join(ROOT, "strategies"),
                                      "--log-level", "warning"], cwd=ROOT, stdout=log, stderr=log)
        self.sock_path = os.path.join(self.home, "run", "ktrdrd.sock")
        for _ in range(300):
            if os.path.exists(self.sock_path):
                try:
                    self.conn = Conn(self.sock_path)
                    return
                except OSError:
                    pass
            time.sleep(0.05)
        raise RuntimeError("daemon did not start: " + open(os.path.join(self.home, "ktrdrd.out")).read()[-2000:])

    def start(self, symbol="SYNTH", **p):
        return self.conn.call("backtest.start", dict(strategy_name="sma_crossover", symbol=symbol, timeframe="1m", **p))["operation_id"]

    def wait(self, op, poll=0.002):
        while True:
            r = self.conn.call("operation.get", {"operation_id": op})
            if r["status"] in ("completed", "failed", "cancelled"):
                return r
            time.sleep(poll)

    def disk(self):
        total = 0
        for dirpath, _, files in os.walk(self.home):
            for f in files:
                if f.startswith("ktrdr.db") or f.endswith(".ktres"):
                    total += os.path.getsize(os.path.join(dirpath, f))
        return total

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=30)
        shutil.rmtree(self.home, ignore_errors=True)


class Conn:
    """One JSON-lines connection to the control socket."""

    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX)
        self.s.connect(path)
        self.f = self.s.makefile("rwb")
        self.f.readline()  # hello
        self.n = 0

    def send(self, method, params):
        self.n += 1
        self.f.write(json.dumps({"id": self.n, "method": method, "params": params}).encode() + b"\n")

    def read(self):
        reply = json.loads(self.f.readline())
        if "error" in reply:
            raise RuntimeError(reply["error"])
        return reply["result"]

    def call(self, method, params=None):
        self.send(method, params or {})
        self.f.flush()
        return self.read()


def secs(s):
    return time.mktime(time.strptime(s[:19], "%Y-%m-%dT%H:%M:%S")) + float("0" + s[19:-1])


def wall(cmd):
    t = time.perf_counter()
    subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True)
    return time.perf_counter() - t


def ensure_data():
    for name, bars in (("SYNTH", 1_000_000), ("SYNTHX", 10_000_000), ("TINY", 1_000)):
        path = os.path.join(DATA, f"{name}_1m.csv")
        if not os.path.exists(path) or sum(1 for _ in open(path)) != bars + 1:
            subprocess.run([K, "data", "generate", "--bars", str(bars), "--seed", "42", "--symbol", name, "--data-dir", DATA], check=True,
                           capture_output=True)


def concurrency(rows):
    d = Daemon(max_concurrent=4)
    try:
        d.wait(d.start())  # warm the cache
        base = None
        for n in (1, 2, 4):
            rates = []
            for _ in range(5):
                ids = [d.start() for _ in range(n)]
                recs = [d.wait(o, poll=0.02) for o in ids]
                assert all(r["status"] == "completed" for r in recs), recs
                # the daemon's own clock: first submitted to last stored (polling adds nothing)
                rates.append(n / (max(secs(r["completed_at"]) for r in recs) - min(secs(r["created_at"]) for r in recs)))
            rate = statistics.median(rates)
            base = base or rate
            rows.append((f"{n} concurrent 1M-bar backtests, cache warm: first submitted to last stored, daemon clock (median of 5)", f"{rate:.2f} backtests/s",
                         f"{rate / base:.2f}x one"))
        # growth per stored result
        before = d.disk()
        ids = [d.start() for _ in range(10)]
        for o in ids:
            d.wait(o)
        time.sleep(1.0)  # idle: the WAL is truncated
        rows.append(("state directory growth per 1M-bar result (database + WAL + result file, 10 results)",
                     f"{(d.disk() - before) / 10 / 1e6:.2f} MB", "before: 67 MB (32 MB curve written to the WAL and the database)"))
    finally:
        d.stop()


def get_latency(rows, max_concurrent):
    d = Daemon(max_concurrent=max_concurrent)
    try:
        d.wait(d.start())  # warm the cache
        # GET latency while four results are computed and stored, round after round
        op = d.start()
        d.wait(op)
        stop = threading.Event()

        def load():
            c = Conn(d.sock_path)
            while not stop.is_set():
                batch = []
                for _ in range(4):
                    c.send("backtest.start", dict(strategy_name="sma_crossover", symbol="SYNTH", timeframe="1m"))
                c.f.flush()
                batch = [c.read()["operation_id"] for _ in range(4)]
                for b in batch:
                    while c.call("operation.get", {"operation_id": b})["status"] not in ("completed", "failed", "cancelled"):
                        time.sleep(0.005)
        th = threading.Thread(target=load)
        th.start()
        time.sleep(0.5)
        for conns in (1,):
            out = subprocess.run(["wrk", "-t1", f"-c{conns}", "-d10s", "--latency", f"http://127.0.0.1:{d.port}/api/v1/operations/{op}"],
                                 capture_output=True, text=True).stdout
            p50 = re.search(r"50%\s+([0-9.]+\w+)", out).group(1)
            p99 = re.search(r"99%\s+([0-9.]+\w+)", out).group(1)
            rps = float(re.search(r"Requests/sec:\s+([0-9.]+)", out).group(1))
            rows.append((f"GET /operations/{{id}} while rounds of four 1M-bar backtests are computed and stored, --max-concurrent {max_concurrent} "
                         f"(wrk, {conns} connection, 10 s)", f"p99 {p99}", f"p50 {p50}, {rps:,.0f} req/s"))
        stop.set()
        th.join()
    finally:
        d.stop()


def overhead(rows):
    base = ["backtest", "run", "sma_crossover", "SYNTH", "1m", "--commission", "0.001", "--slippage", "0"]
    d = Daemon(max_concurrent=2, cache_mb=0)
    try:
        local = [os.path.join(BIN, "ktrdrctl"), *base, "--local", "--data-dir", DATA]
        daemon = [K, *base, "--home", d.home]
        wall(daemon)
        wall(local)
        dt, lt = [], []
        for _ in range(7):
            dt.append(wall(daemon))
            lt.append(wall(local))
        dm, lm = statistics.median(dt), statistics.median(lt)
        rows.append(("`ktrdrctl backtest run --local`, sma_crossover, 1M bars (wall, median of 7)", f"{lm * 1000:.0f} ms",
                     "before: 1,048 ms (592 ms of it loading libtorch)"))
        rows.append(("the same through the daemon, data cache off (wall, median of 7)", f"{dm * 1000:.0f} ms",
                     f"overhead {(dm - lm) * 1000:+.0f} ms = {(dm - lm) / lm * 100:+.1f} % (target < 1 % + 50 ms)"))
        # start-call latency, 10M-bar file, nothing cached
        lat = []
        for _ in range(5):
            t = time.perf_counter()
            op = d.start(symbol="SYNTHX")
            lat.append((time.perf_counter() - t) * 1000)
            d.conn.call("operation.cancel", {"operation_id": op})
        rows.append(("start call for a 10M-bar file, data cache off (median of 5)", f"{statistics.median(lat):.1f} ms",
                     f"max {max(lat):.1f} ms; before: 2,600 ms"))
    finally:
        d.stop()


def burst(rows):
    d = Daemon(max_concurrent=2)
    try:
        n = 10_000
        c = Conn(d.sock_path)
        t = time.perf_counter()
        ids = []
        for i in range(0, n, 100):
            for _ in range(100):
                c.send("backtest.start", dict(strategy_name="sma_crossover", symbol="TINY", timeframe="1m"))
            c.f.flush()
            ids += [c.read()["operation_id"] for _ in range(100)]
        submitted = time.perf_counter() - t
        while True:
            active = c.call("operations.list", {"active_only": True, "limit": 1})["total_count"]
            if active == 0:
                break
            time.sleep(0.05)
        elapsed = time.perf_counter() - t
        listed = c.call("operations.list", {"limit": 1})["total_count"]
        completed = c.call("operations.list", {"status": "completed", "limit": 1})["total_count"]
        metrics = urllib.request.urlopen(f"http://127.0.0.1:{d.port}/metrics").read().decode()
        m = re.search(r'ktrdr_operations\{state="completed"\} ([0-9.e+]+)', metrics)
        exported = int(float(m.group(1))) if m else -1
        rows.append((f"{n:,} tiny operations (1,000 bars) in a burst over one socket connection",
                     f"{n / elapsed:,.0f} ops/s", f"submitted in {submitted:.1f} s, all done in {elapsed:.1f} s; "
                     f"{len(set(ids)):,} ids, {listed:,} stored, {completed:,} completed, /metrics completed = {exported:,}"))
    finally:
        d.stop()


def main():
    ensure_data()
    rows = []
    overhead(rows)
    concurrency(rows)
    get_latency(rows, 2)  # the default on this machine: its cores
    get_latency(rows, 4)
    burst(rows)
    print_table(rows)


if __name__ == "__main__":
    sys.exit(main())
