#!/usr/bin/env python3
"""The SMA 10/30 contract (SMA_CROSSOVER.md) in vectorbt and backtesting.py, timed like ktrdr-bench.

    python bench_python.py vectorbt data/SYNTH_1m.csv [--repeats 5] [--bars N]
    python bench_python.py backtesting data/SYNTH_1m.csv [--bars N]

Data is loaded first (not timed); then the backtest call is timed (indicators, signals,
simulation, final value), repeated, median reported. vectorbt's first call JIT-compiles with
numba, so it is run once untimed first (as ktrdr-bench warms up too). Prints one JSON line.
"""
import argparse
import json
import statistics
import sys
import time

import numpy as np
import pandas as pd


def load(path, bars):
    df = pd.read_csv(path, nrows=bars)
    df.index = pd.to_datetime(df["timestamp"], utc=True)
    df = df.rename(columns=str.capitalize)[["Open", "High", "Low", "Close", "Volume"]]
    return df


def run_vectorbt(df):
    import vectorbt as vbt

    # Plain numpy columns: with a tz-aware DatetimeIndex (pandas 3) vectorbt spends ~30x longer
    # in index handling than in its numba simulation, so its best case is measured.
    close = pd.Series(df["Close"].to_numpy())
    open_ = df["Open"].to_numpy()
    fast = close.rolling(10).mean()
    slow = close.rolling(30).mean()
    up = (fast.shift(1) <= slow.shift(1)) & (fast > slow)
    down = (fast.shift(1) >= slow.shift(1)) & (fast < slow)
    # Decided at the close of t, executed at the open of t+1.
    entries = up.shift(1, fill_value=False).to_numpy()
    exits = down.shift(1, fill_value=False).to_numpy()
    pf = vbt.Portfolio.from_signals(close.to_numpy(), entries, exits, price=open_, size=np.inf, size_granularity=1,
                                    fees=0.001, init_cash=100_000.0)
    return float(pf.final_value()), int(pf.trades.count())


def run_backtesting(df):
    from backtesting import Backtest, Strategy

    def sma(x, n):
        return pd.Series(x).rolling(n).mean().to_numpy()

    class SmaCross(Strategy):
        def init(self):
            self.fast = self.I(sma, self.data.Close, 10)
            self.slow = self.I(sma, self.data.Close, 30)

        def next(self):
            f, s = self.fast, self.slow
            if len(f) < 2:
                return
            if not self.position and f[-2] <= s[-2] and f[-1] > s[-1]:
                self.buy()
            elif self.position and f[-2] >= s[-2] and f[-1] < s[-1]:
                self.position.close()

    bt = Backtest(df, SmaCross, cash=100_000, commission=0.001, trade_on_close=False, finalize_trades=True)
    stats = bt.run()
    return float(stats["Equity Final [$]"]), int(stats["# Trades"])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("engine", choices=["vectorbt", "backtesting"])
    ap.add_argument("csv")
    ap.add_argument("--bars", type=int, default=None)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    t_process = time.perf_counter()
    df = load(args.csv, args.bars)
    fn = run_vectorbt if args.engine == "vectorbt" else run_backtesting
    if args.engine == "vectorbt":
        fn(df)  # numba JIT warm-up
    times, result = [], None
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        result = fn(df)
        times.append(time.perf_counter() - t0)
    med = statistics.median(times)
    print(json.dumps({"bench": args.engine, "bars": len(df), "median_s": med, "min_s": min(times), "max_s": max(times),
                      "bars_per_s": len(df) / med, "final_equity": result[0], "trades": result[1],
                      "process_s_incl_repeats": time.perf_counter() - t_process}))


if __name__ == "__main__":
    sys.exit(main())
