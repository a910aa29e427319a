#!/usr/bin/env python3
"""Reference indicator values for the Swift tests.

TA-Lib (PyPI `ta-lib`, which bundles the C library) computes every indicator it has,
called with its defaults; indicators TA-Lib lacks (VWAP, Donchian, Keltner) are computed
here with plain numpy, independently of the Swift code.

    python3 -m venv /tmp/talib && /tmp/talib/bin/pip install ta-lib numpy
    /tmp/talib/bin/python scripts/make_indicator_fixtures.py

Writes Tests/KtrdrCoreTests/Fixtures/indicators_<SYMBOL>_<tf>.csv (repr of each float, `nan`).
"""
import csv
import os
import sys

import numpy as np
import talib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def load(path):
    with open(path) as f:
        rows = list(csv.DictReader(f))
    cols = {k: np.array([float(r[k]) for r in rows]) for k in ("open", "high", "low", "close", "volume")}
    return cols


def rolling(x, n, fn):
    out = np.full(len(x), np.nan)
    if len(x) >= n:
        win = np.lib.stride_tricks.sliding_window_view(x, n)
        out[n - 1:] = fn(win, axis=1)
    return out


def compute(d):
    o, h, l, c, v = d["open"], d["high"], d["low"], d["close"], d["volume"]
    out = {}
    out["sma20"] = talib.SMA(c, 20)
    out["ema20"] = talib.EMA(c, 20)
    out["rsi14"] = talib.RSI(c, 14)
    out["macd"], out["macd_signal"], out["macd_hist"] = talib.MACD(c, 12, 26, 9)
    out["bb_upper"], out["bb_middle"], out["bb_lower"] = talib.BBANDS(c, 20, 2, 2, 0)
    out["atr14"] = talib.ATR(h, l, c, 14)
    out["stoch_k"], out["stoch_d"] = talib.STOCH(h, l, c, 14, 3, 0, 3, 0)
    out["willr14"] = talib.WILLR(h, l, c, 14)
    out["cci20"] = talib.CCI(h, l, c, 20)
    out["roc10"] = talib.ROC(c, 10)
    out["mom10"] = talib.MOM(c, 10)
    out["obv"] = talib.OBV(c, v)
    out["adx14"] = talib.ADX(h, l, c, 14)
    out["mfi14"] = talib.MFI(h, l, c, v, 14)
    out["sar"] = talib.SAR(h, l, 0.02, 0.2)
    # Not in TA-Lib: plain numpy definitions.
    tp = (h + l + c) / 3.0
    pv = rolling(tp * v, 20, np.sum)
    vs = rolling(v, 20, np.sum)
    with np.errstate(invalid="ignore", divide="ignore"):
        out["vwap20"] = np.where(vs > 0, pv / vs, np.nan)
    out["donchian_upper"] = rolling(h, 20, np.max)
    out["donchian_lower"] = rolling(l, 20, np.min)
    out["donchian_middle"] = (out["donchian_upper"] + out["donchian_lower"]) / 2
    mid = talib.EMA(c, 20)
    rng = talib.ATR(h, l, c, 10)
    ok = ~np.isnan(mid) & ~np.isnan(rng)
    out["keltner_middle"] = np.where(ok, mid, np.nan)
    out["keltner_upper"] = np.where(ok, mid + 2.0 * rng, np.nan)
    out["keltner_lower"] = np.where(ok, mid - 2.0 * rng, np.nan)
    return out


def main():
    for name in ("GOOG_1d", "EURUSD_1h"):
        d = load(os.path.join(ROOT, "data", f"{name}.csv"))
        out = compute(d)
        path = os.path.join(ROOT, "Tests", "KtrdrCoreTests", "Fixtures", f"indicators_{name}.csv")
        keys = list(out)
        with open(path, "w") as f:
            f.write(",".join(keys) + "\n")
            for i in range(len(d["close"])):
                f.write(",".join("nan" if np.isnan(out[k][i]) else repr(float(out[k][i])) for k in keys) + "\n")
        print(f"wrote {path}: {len(d['close'])} rows x {len(keys)} columns (ta-lib {talib.__version__})", file=sys.stderr)


if __name__ == "__main__":
    main()
