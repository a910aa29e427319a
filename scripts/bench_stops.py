#!/usr/bin/env python3
"""Stops benchmark (issue 14), side by side in one run. Prints a Markdown table.

    python3 scripts/bench_stops.py        (after: swift build -c release; scripts/bench.sh makes .bench/venv)

The SMA contract (10/30 crossover, long-only, all-in whole units, fees 0.001 per side, no
slippage, decided at the close and filled at the next open) with a 2 % stop-loss and a 4 %
take-profit from the entry price, on data/SYNTH_1m.csv (1M generated bars):
- ktrdrd: `ktrdrctl backtest run --local` of a strategy file with `trading.stop_loss: 0.02`
  and `take_profit: 0.04` (process wall time: start, CSV load, run, output; median of 5);
- vectorbt: `Portfolio.from_signals` with `sl_stop=STOP, tp_stop=TARGET` and open/high/low
  (data in memory, numba compiled first; median of 5);
- backtesting.py: the same strategy with `sl`/`tp` set on each trade from its entry price, on
  the first 200,000 bars, scaled to 1M.
"""
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
K = os.path.join(ROOT, ".build", "release", "ktrdrctl")
PY = os.path.join(ROOT, ".bench", "venv", "bin", "python")
CSV = os.path.join(ROOT, "data", "SYNTH_1m.csv")
BENCH = os.path.join(ROOT, ".build", "release", "ktrdr-bench")
# One-minute bars move little: a 0.2 % stop and a 0.4 % target are hit in about a third of the trades.
STOP, TARGET = 0.002, 0.004

PEER = r'''
import json, sys, time
import numpy as np, pandas as pd
tool, path, bars = sys.argv[1], sys.argv[2], int(sys.argv[3])
STOP, TARGET = float(sys.argv[4]), float(sys.argv[5])
df = pd.read_csv(path, nrows=bars)
o, h, l, c = (df[k].to_numpy() for k in ("open", "high", "low", "close"))
def sma(x, n):
    return pd.Series(x).rolling(n).mean().to_numpy()
if tool == "vectorbt":
    import vectorbt as vbt
    def run(n):
        f, s = sma(c[:n], 10), sma(c[:n], 30)
        pf_, ps_ = np.r_[np.nan, f[:-1]], np.r_[np.nan, s[:-1]]
        up, down = (pf_ <= ps_) & (f > s), (pf_ >= ps_) & (f < s)
        entries, exits = np.r_[False, up[:-1]], np.r_[False, down[:-1]]
        pf = vbt.Portfolio.from_signals(pd.Series(c[:n]), entries, exits, price=pd.Series(o[:n]), open=pd.Series(o[:n]),
                                        high=pd.Series(h[:n]), low=pd.Series(l[:n]), sl_stop=STOP, tp_stop=TARGET, size=np.inf,
                                        size_granularity=1, fees=0.001, init_cash=100_000.0, freq="1min")
        return pf
    run(5000)
    times = []
    for _ in range(5):
        t0 = time.perf_counter(); pf = run(len(c)); times.append(time.perf_counter() - t0)
    trades = pf.trades.records_readable
    print(json.dumps({"seconds": sorted(times)[2], "trades": int(len(trades)), "final_equity": float(pf.value().iloc[-1])}))
else:
    from backtesting import Backtest
    sys.path.insert(0, SCRIPTS)
    from bench_sweep_vbt import SmaCross  # the sweep benchmark's SMA 10/30 crossover
    class SmaStops(SmaCross):
        def next(self):
            for t in self.trades:  # levels from the entry price, once the entry has filled
                if t.sl is None:
                    t.sl, t.tp = t.entry_price * (1 - STOP), t.entry_price * (1 + TARGET)
            super().next()
    frame = df.copy()
    frame.index = pd.to_datetime(frame["timestamp"], utc=True)
    frame = frame.rename(columns=str.capitalize)[["Open", "High", "Low", "Close", "Volume"]]
    t0 = time.perf_counter()
    stats = Backtest(frame, SmaStops, cash=100_000, commission=0.001, exclusive_orders=True, finalize_trades=True).run()
    seconds = time.perf_counter() - t0
    print(json.dumps({"seconds": seconds, "trades": int(stats["# Trades"]), "final_equity": float(stats["Equity Final [$]"])}))
'''


def peer(tool, bars):
    p = subprocess.run([PY, "-c", PEER.replace("SCRIPTS", repr(os.path.join(ROOT, "scripts"))), tool, CSV, str(bars), str(STOP), str(TARGET)],
                       capture_output=True, text=True, timeout=3600)
    if p.returncode != 0:
        raise RuntimeError(f"{tool}: {p.stderr[-2000:]}")
    return json.loads(p.stdout.strip().splitlines()[-1])


def ktrdr():
    with open(os.path.join(ROOT, "strategies", "sma_crossover.yaml")) as f:
        text = f.read().replace("name: sma_crossover", "name: sma_stops", 1)
    text = text.replace("  allow_short: false", f"  allow_short: false\n  stop_loss: {STOP}\n  take_profit: {TARGET}")
    with tempfile.TemporaryDirectory() as d:
        with open(os.path.join(d, "sma_stops.yaml"), "w") as f:
            f.write(text)
        args = [K, "backtest", "run", "--local", "sma_stops", "SYNTH", "1m", "--commission", "0.001", "--slippage", "0", "--json",
                "--strategies-dir", d, "--data-dir", os.path.join(ROOT, "data")]
        times, result = [], None
        for _ in range(6):
            t0 = time.perf_counter()
            p = subprocess.run(args, capture_output=True, text=True, timeout=600)
            times.append(time.perf_counter() - t0)
            if p.returncode != 0:
                raise RuntimeError(p.stderr[-2000:])
            result = json.loads(p.stdout)
    reasons = {}
    for t in result["trades"]:
        reasons[t["exit_reason"]] = reasons.get(t["exit_reason"], 0) + 1
    return {"seconds": statistics.median(times[1:]), "trades": len(result["trades"]), "final_equity": result["metrics"]["final_equity"],
            "reasons": reasons}


def ktrdr_in_memory():
    """Signals and engine on the same 1M bars generated in memory (ktrdr-bench), median of 7."""
    p = subprocess.run([BENCH, "--stops", f"{STOP},{TARGET}", "--repeats", "7", "--json"], capture_output=True, text=True, timeout=600)
    if p.returncode != 0:
        raise RuntimeError(p.stderr[-2000:])
    return json.loads(p.stdout.strip().splitlines()[-1])


def main():
    if not os.path.exists(CSV):
        sys.exit(f"{CSV} missing: ktrdrctl data generate --bars 1000000")
    print(f"Machine: {os.uname().machine}, {os.cpu_count()} cores; {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}\n")
    ours = ktrdr()
    memory = ktrdr_in_memory()
    vbt = peer("vectorbt", 1_000_000)
    bt_bars = 200_000
    bt = peer("backtesting", bt_bars)
    bt_scaled = bt["seconds"] * 1_000_000 / bt_bars
    print("| measurement | value | note |\n|---|---:|---|")
    print(f"| ktrdrd engine with stop {STOP:.1%} and target {TARGET:.1%}, 1M bars in memory: signals + engine (median of 7) | "
          f"{memory['median_s'] * 1000:.1f} ms | {memory['trades']} trades ({memory['reasons']}); final equity {memory['final_equity']:.2f} |")
    print(f"| ktrdrd, `backtest run --local`, same rules on data/SYNTH_1m.csv (process wall: start, CSV load, run; median of 5) | "
          f"{ours['seconds'] * 1000:.0f} ms | {ours['trades']} trades: {', '.join(f'{k} {v}' for k, v in sorted(ours['reasons'].items()))}; "
          f"final equity {ours['final_equity']:.2f} |")
    print(f"| vectorbt `from_signals(sl_stop, tp_stop)` with open/high/low, data in memory (median of 5) | {vbt['seconds'] * 1000:.0f} ms | "
          f"{vbt['trades']} trades; final equity {vbt['final_equity']:.2f} |")
    print(f"| backtesting.py with sl/tp set from each entry price, {bt_bars:,} bars, scaled to 1M | {bt_scaled:.1f} s | "
          f"{bt['seconds']:.1f} s measured; {bt['trades']} trades on its bars |")
    print(f"| ktrdrd in memory against vectorbt in memory | {vbt['seconds'] / memory['median_s']:.1f}x | |")
    print(f"| ktrdrd whole process against vectorbt in memory | {vbt['seconds'] / ours['seconds']:.2f}x | |")
    print(f"| ktrdrd in memory against backtesting.py (scaled) | {bt_scaled / memory['median_s']:.0f}x | |")


if __name__ == "__main__":
    main()
