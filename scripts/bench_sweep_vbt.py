#!/usr/bin/env python3
"""The benchmark grid of issue 12 in vectorbt (its fastest documented way) and backtesting.py.

    .bench/venv/bin/python scripts/bench_sweep_vbt.py vectorbt data/SYNTH_1m.csv
    .bench/venv/bin/python scripts/bench_sweep_vbt.py backtesting data/SYNTH_1m.csv --bars 20000

The grid: fast 5..50 step 5 x slow 20..200 step 10 with fast < slow (174 trials), SMA
crossover long-only, decided at the close and filled at the next open, all-in, fees 0.001 per
side, no slippage, ranked by Sharpe ratio. Data loading is not timed; vectorbt's numba
functions are compiled on a small input first. Prints one JSON line: seconds, trials, trials/s,
the best parameters and peak RSS.
"""
import argparse
import json
import resource
import time

import numpy as np
import pandas as pd

FAST = list(range(5, 55, 5))
SLOW = list(range(20, 210, 10))
PAIRS = [(f, s) for f in FAST for s in SLOW if f < s]


def vectorbt_sweep(close, open_, chunk):
    """All trials in column chunks: all 174 columns at once need more than the 23 GB of this
    machine (vectorbt was OOM-killed at 24 GB), so chunk columns are run one after another."""
    return np.concatenate([vectorbt_columns(close, open_, PAIRS[i:i + chunk]) for i in range(0, len(PAIRS), chunk)])


def vectorbt_columns(close, open_, pairs):
    import vectorbt as vbt

    fast_w = [f for f, _ in pairs]
    slow_w = [s for _, s in pairs]
    c = pd.Series(close)
    # One MA column per trial (window lists), the crossings as 2-D arrays.
    fast = vbt.MA.run(c, window=fast_w).ma.to_numpy()
    slow = vbt.MA.run(c, window=slow_w).ma.to_numpy()
    prev_fast = np.vstack([np.full((1, len(pairs)), np.nan), fast[:-1]])
    prev_slow = np.vstack([np.full((1, len(pairs)), np.nan), slow[:-1]])
    up = (prev_fast <= prev_slow) & (fast > slow)
    down = (prev_fast >= prev_slow) & (fast < slow)
    # Decided at the close of t, filled at the open of t+1.
    entries = np.vstack([np.zeros((1, len(pairs)), bool), up[:-1]])
    exits = np.vstack([np.zeros((1, len(pairs)), bool), down[:-1]])
    # 1-D close and price: vectorbt broadcasts them lazily (flexible indexing), no copies.
    pf = vbt.Portfolio.from_signals(pd.Series(close), entries, exits, price=pd.Series(open_), size=np.inf,
                                    size_granularity=1, fees=0.001, init_cash=100_000.0, freq="1min")
    sharpe = np.asarray(pf.sharpe_ratio())
    return sharpe


def sma(x, n):
    return pd.Series(x).rolling(n).mean().to_numpy()


try:  # module level: Backtest.optimize pickles the strategy class to its worker processes
    from backtesting import Backtest, Strategy

    class SmaCross(Strategy):
        fast_period = 10
        slow_period = 30

        def init(self):
            self.fast = self.I(sma, self.data.Close, self.fast_period)
            self.slow = self.I(sma, self.data.Close, self.slow_period)

        def next(self):
            f, s = self.fast, self.slow
            if len(f) < 2:
                return
            if f[-2] <= s[-2] and f[-1] > s[-1] and not self.position:
                self.buy()
            elif f[-2] >= s[-2] and f[-1] < s[-1] and self.position:
                self.position.close()
except ImportError:
    Backtest = None


def backtesting_sweep(df):
    bt = Backtest(df, SmaCross, cash=100_000, commission=0.001, exclusive_orders=True, finalize_trades=True)
    stats, heat = bt.optimize(fast_period=FAST, slow_period=SLOW, constraint=lambda p: p.fast_period < p.slow_period,
                              maximize="Sharpe Ratio", return_heatmap=True, max_tries=None)
    return stats, heat


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("tool", choices=["vectorbt", "backtesting"])
    ap.add_argument("csv")
    ap.add_argument("--bars", type=int)
    ap.add_argument("--chunk", type=int, default=20, help="vectorbt: trials (columns) per batch")
    a = ap.parse_args()
    df = pd.read_csv(a.csv, nrows=a.bars)
    if a.tool == "vectorbt":
        close, open_ = df["close"].to_numpy(), df["open"].to_numpy()
        vectorbt_sweep(close[:2000], open_[:2000], a.chunk)  # numba compilation, not timed
        t0 = time.perf_counter()
        sharpe = vectorbt_sweep(close, open_, a.chunk)
        seconds = time.perf_counter() - t0
        finite = np.where(np.isfinite(sharpe), sharpe, -np.inf)
        best = PAIRS[int(np.argmax(finite))]
        top = [PAIRS[i] for i in np.argsort(-finite, kind="stable")[:5]]
    else:
        df.index = pd.to_datetime(df["timestamp"], utc=True)
        df = df.rename(columns=str.capitalize)[["Open", "High", "Low", "Close", "Volume"]]
        t0 = time.perf_counter()
        stats, heat = backtesting_sweep(df)
        seconds = time.perf_counter() - t0
        best = (int(stats._strategy.fast_period), int(stats._strategy.slow_period))
        top = [tuple(int(v) for v in k) for k in heat.sort_values(ascending=False).index[:5]]
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"tool": a.tool, "chunk": a.chunk if a.tool == "vectorbt" else None, "bars": len(df), "trials": len(PAIRS), "seconds": seconds, "trials_per_s": len(PAIRS) / seconds,
                      "best": best, "top5": top, "peak_rss_mb": rss_mb}))


if __name__ == "__main__":
    main()
