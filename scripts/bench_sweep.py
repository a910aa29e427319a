#!/usr/bin/env python3
"""Sweep benchmark (issue 12), side by side in one run. Prints a Markdown table.

    python3 scripts/bench_sweep.py        (after: swift build -c release; scripts/bench.sh makes .bench/venv)

On data/SYNTH_1m.csv (1M generated bars), the grid fast 5..50 step 5 x slow 20..200 step 10
with fast < slow (174 trials), ranked by Sharpe, fees 0.001 per side, no slippage:
- ktrdrd: `ktrdrctl sweep run` through the daemon, wall time from submit to ranked table
  (data cache warm, median of 3), the daemon's peak RSS, and five trials (the best, the worst,
  three between) re-run as single backtests and compared metric by metric;
- vectorbt (scripts/bench_sweep_vbt.py: vbt.MA.run with window lists, Portfolio.from_signals,
  numba warm, in column chunks);
- backtesting.py `Backtest.optimize` on the first 20,000 bars, its rate scaled to 1M bars.
"""
import json
import os
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_ops import BIN, DATA, K, ROOT, Daemon  # noqa: E402
from bench_table import print_table  # noqa: E402

GRID = ["--param", "fast_period=5:50:5", "--param", "slow_period=20:200:10", "--where", "fast_period < slow_period"]
COSTS = ["--commission", "0.001", "--slippage", "0"]
PY = os.path.join(ROOT, ".bench", "venv", "bin", "python")


def ctl(home, *args):
    p = subprocess.run([K, *args, "--home", home], capture_output=True, text=True, cwd=ROOT)
    if p.returncode != 0:
        raise RuntimeError(f"ktrdrctl {' '.join(args)}: {p.stderr[-1000:]}")
    return p.stdout


def peak_rss_mb(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main():
    rows = []
    d = Daemon()
    try:
        ctl(d.home, "backtest", "run", "sma_crossover", "SYNTH", "1m", *COSTS, "--json")  # warms the data cache
        walls, result = [], None
        for _ in range(3):
            t0 = time.perf_counter()
            result = json.loads(ctl(d.home, "sweep", "run", "sma_crossover", "SYNTH", "1m", *GRID, *COSTS, "--json"))
            walls.append(time.perf_counter() - t0)
        wall = statistics.median(walls)
        trials = result["trials_completed"]
        k_rate = trials / wall
        rss = peak_rss_mb(d.proc.pid)
        best = result["trials"][0]["params"]
        k_best = (int(best["fast_period"]), int(best["slow_period"]))
        picks = [result["trials"][i] for i in sorted({0, len(result["trials"]) - 1, 40, 90, 140})]
        same = 0
        for t in picks:
            p = t["params"]
            single = json.loads(ctl(d.home, "backtest", "run", "sma_crossover", "SYNTH", "1m", *COSTS, "--json",
                                    "--param", f"fast_period={int(p['fast_period'])}", "--param", f"slow_period={int(p['slow_period'])}"))
            same += single["metrics"] == t["metrics"]
        rows.append((f"ktrdrd sweep, {trials} trials on 1M bars, submit to ranked table (median of 3)", f"{wall:.2f} s",
                     f"{k_rate:.1f} trials/s; runs {', '.join(f'{w:.2f}' for w in walls)} s"))
        rows.append(("ktrdrd peak RSS (daemon, data cache included)", f"{rss:.0f} MB", "target < 1 GB"))
        rows.append(("trials re-run as single backtests, metrics bit-identical", f"{same} of {len(picks)}", "best, worst and three between"))
    finally:
        d.stop()

    vbt = json.loads(subprocess.run([PY, os.path.join(ROOT, "scripts", "bench_sweep_vbt.py"), "vectorbt", os.path.join(DATA, "SYNTH_1m.csv"),
                                     "--chunk", "20"], capture_output=True, text=True, check=True).stdout.strip().splitlines()[-1])
    rows.append((f"vectorbt, same grid (column chunks of {vbt['chunk']}; all 174 at once was OOM-killed at 24 GB)", f"{vbt['seconds']:.1f} s",
                 f"{vbt['trials_per_s']:.2f} trials/s, peak RSS {vbt['peak_rss_mb'] / 1024:.1f} GB"))
    bars = 20_000
    bt = json.loads(subprocess.run([PY, os.path.join(ROOT, "scripts", "bench_sweep_vbt.py"), "backtesting", os.path.join(DATA, "SYNTH_1m.csv"),
                                    "--bars", str(bars)], capture_output=True, text=True, check=True).stdout.strip().splitlines()[-1])
    bt_rate = bt["trials_per_s"] * bars / 1_000_000
    rows.append((f"backtesting.py Backtest.optimize on {bars:,} bars, scaled to 1M", f"{bt['seconds']:.1f} s for {bars:,} bars",
                 f"{bt_rate:.3f} trials/s at 1M bars (scaled)"))
    rows.append(("ktrdrd against vectorbt, trials per second", f"{k_rate / vbt['trials_per_s']:.1f}x", "target >= 20x"))
    rows.append(("ktrdrd against backtesting.py (scaled)", f"{k_rate / bt_rate:.0f}x", ""))
    v_best = tuple(vbt["best"])
    rows.append(("best (fast, slow) by Sharpe: ktrdrd / vectorbt", f"{k_best} / {v_best}",
                 "same" if k_best == v_best else f"differ; vectorbt top 5 {vbt['top5']}"))
    print_table(rows)


if __name__ == "__main__":
    main()
