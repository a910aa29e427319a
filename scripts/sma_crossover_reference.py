#!/usr/bin/env python3
"""Independent plain-Python implementation of ../shared/spec/SMA_CROSSOVER.md.

No numpy, no ktrdrd code: float() parsing (correctly rounded), ascending window sums,
next-open fills, whole units, commission 0.001 per side, forced liquidation at the last close.

    python3 scripts/sma_crossover_reference.py data/GOOG_1d.csv

Prints one line per trade: entry_time,entry_price,exit_time,exit_price,size,pnl,fees
(floats as repr, bit-exact) and a final line `final_equity,<repr>`.
"""
import csv
import sys

CASH0, FEE, FAST, SLOW = 100000.0, 0.001, 10, 30


def sma(x, n):
    out = [None] * len(x)
    for t in range(n - 1, len(x)):
        s = 0.0
        for k in range(t - n + 1, t + 1):
            s += x[k]
        out[t] = s / float(n)
    return out


def lt(a, b):
    return a is not None and b is not None and a < b


def le(a, b):
    return a is not None and b is not None and a <= b


def main(path):
    with open(path) as f:
        rows = list(csv.DictReader(f))
    ts = [r["timestamp"] for r in rows]
    o = [float(r["open"]) for r in rows]
    c = [float(r["close"]) for r in rows]
    fast, slow = sma(c, FAST), sma(c, SLOW)
    n = len(c)
    cash, q, pending = CASH0, 0, None
    entry = None
    trades = []
    for t in range(n):
        if pending == "ENTER":
            size = int(cash / (o[t] * (1 + FEE)) // 1)
            if size >= 1:
                fee = size * o[t] * FEE
                cash -= size * o[t] + fee
                q = size
                entry = (t, o[t], fee)
        elif pending == "EXIT":
            fee = q * o[t] * FEE
            cash += q * o[t] - fee
            trades.append((entry, t, o[t], q, fee))
            q = 0
        pending = None
        up = t > 0 and le(fast[t - 1], slow[t - 1]) and lt(slow[t], fast[t])
        down = t > 0 and le(slow[t - 1], fast[t - 1]) and lt(fast[t], slow[t])
        if t == n - 1 and q > 0:
            fee = q * c[t] * FEE
            cash += q * c[t] - fee
            trades.append((entry, t, c[t], q, fee))
            q = 0
        elif q == 0 and up and t < n - 1:
            pending = "ENTER"
        elif q > 0 and down and t < n - 1:
            pending = "EXIT"
    for (eb, ep, efee), xb, xp, size, xfee in trades:
        pnl = size * (xp - ep) - efee - xfee
        print(f"{ts[eb]},{ep!r},{ts[xb]},{xp!r},{size},{pnl!r},{efee + xfee!r}")
    print(f"final_equity,{cash!r}")


if __name__ == "__main__":
    main(sys.argv[1])
