"""X4: isolation `process`: backtests run in supervised worker processes of the daemon, so a
plugin that crashes, aborts or hangs ends one operation and one process, never the daemon."""
import os
import subprocess
import time

from harness import BIN, CheckFailed, build_c_plugin
from scenarios import scenario

REFERENCE = "545054.3120499998"  # sma_crossover GOOG 1d, fees 0.001, no slippage (TA-Lib-checked in unit tests)


def _ready(d):
    status, h = d.curl("GET", "/health")
    return h.get("worker_processes_ready", 0), h.get("worker_process_restarts", 0), h.get("capacity", 0)


def _wait_whole(d, timeout=5):
    t0 = time.time()
    while time.time() - t0 < timeout:
        ready, restarts, capacity = _ready(d)
        if ready == capacity:
            return time.time() - t0
        time.sleep(0.02)
    raise CheckFailed(f"worker pool not whole after {timeout}s: {_ready(d)}")


@scenario("X4", "Isolation: a plugin that segfaults, aborts or hangs ends one operation, never the daemon; the pool is whole again within a second", needs_long_data=True)
def x4(d):
    d.stop()
    for mode in (4, 8, 9):
        build_c_plugin(os.path.join(d.plugins, f"libktrdr_plugin_hostile{mode}.so"), NAME=f"hostile{mode}", VERSION="6.6.6", MODE=mode)
        with open(os.path.join(d.strategies, f"uses_hostile{mode}.yaml"), "w") as f:
            f.write(f"name: uses_hostile{mode}\nplugin: hostile{mode}\ndata: {{symbols: [GOOG], timeframes: [1d]}}\n")
    os.environ["KTRDR_CANCEL_GRACE_SECONDS"] = "2"
    try:
        d.start("--", "--isolation", "process")
    finally:
        del os.environ["KTRDR_CANCEL_GRACE_SECONDS"]
    worker = subprocess.run([os.path.join(BIN, "ktrdrd"), "--role", "worker", "--isolation", "process", "--http", "127.0.0.1:0",
                             "--home", os.path.join(d.home, "w")], capture_output=True, text=True, timeout=30)
    d.check("a worker given --isolation process refuses to start, saying why (not ignored)",
            worker.returncode != 0 and "--isolation process is a server's option" in worker.stderr, "refused", f"{worker.returncode}: {worker.stderr[-300:]}")
    pid = d.pid()
    ready, _, capacity = _ready(d)
    d.check("the daemon starts with one worker process per run slot", ready == capacity >= 1, f"{capacity} ready", ready)

    op = d.start_backtest(strategy_name="sma_crossover", symbol="GOOG", timeframe="1d", commission=0.001, slippage=0)
    r = d.wait_status(op, ("completed", "failed"))
    d.check("a backtest in a worker process equals the reference", r["status"] == "completed" and str(r["result_summary"]["final_equity"]) == REFERENCE
            and r["metadata"]["worker_url"].startswith("unix:"), REFERENCE, r.get("error") or r["result_summary"]["final_equity"])

    for mode, sig in ((8, "signal 11"), (9, "signal 6")):
        # A long run beside it, in the other process: it must not notice.
        bystander = d.start_backtest(strategy_name="sma_crossover", symbol="SYNTHS", timeframe="1m", pace_bars_per_second=100000)
        d.wait_status(bystander, ("running",))
        crash = d.start_backtest(strategy_name=f"uses_hostile{mode}", symbol="GOOG", timeframe="1d")
        r = d.wait_status(crash, ("completed", "failed"), timeout=30)
        t_failed = time.time()
        d.check(f"hostile{mode}: the operation fails with plugin_crashed and the signal", r["status"] == "failed" and r["error"]["code"] == "plugin_crashed"
                and sig in r["error"]["message"], f"failed plugin_crashed … {sig}", r.get("error"))
        whole = _wait_whole(d) + (time.time() - t_failed) * 0
        d.check(f"hostile{mode}: the pool is whole again within a second", whole < 1.0, "< 1 s", f"{whole:.2f} s")
        d.figure(f"pool whole after hostile{mode}", f"{whole * 1000:.0f} ms")
        b = d.wait_status(bystander, ("completed", "failed"), timeout=60)
        d.check(f"hostile{mode}: the operation beside it completes", b["status"] == "completed", "completed", b.get("error"))
        d.check(f"hostile{mode}: the daemon is the same process and healthy", d.pid() == pid and d.healthy(), pid, d.pid())

    stuck = d.start_backtest(strategy_name="uses_hostile4", symbol="GOOG", timeframe="1d")
    d.wait_status(stuck, ("running",))
    time.sleep(0.3)
    _, restarts_before, _ = _ready(d)
    d.curl("DELETE", f"/api/v1/operations/{stuck}")
    r = d.wait_status(stuck, ("failed", "cancelled"), timeout=15)
    d.check("a hung plugin: cancel_timeout, and its process is killed and started again", r["status"] == "failed" and r["error"]["code"] == "cancel_timeout"
            and "killed" in r["error"]["message"], "failed cancel_timeout … killed", r.get("error"))
    _wait_whole(d)
    _, restarts_after, _ = _ready(d)
    d.check("the pool replaced the killed process", restarts_after == restarts_before + 1, restarts_before + 1, restarts_after)
    op = d.start_backtest(strategy_name="sma_crossover", symbol="GOOG", timeframe="1d", commission=0.001, slippage=0)
    r = d.wait_status(op, ("completed", "failed"))
    d.check("afterwards a backtest still equals the reference", r["status"] == "completed" and str(r["result_summary"]["final_equity"]) == REFERENCE,
            REFERENCE, r.get("error"))
