#!/usr/bin/env python3
"""Independent reference of ktrdr's execution rules with exits and sizing (issue 14), written
from README "Orders and exits", not from the Swift code. Reads one JSON case (a file named as
the argument, or stdin):

    {"open": [...], "high": [...], "low": [...], "close": [...], "signal": [-1|0|1, ...],
     "first": 0, "settings": {initial_capital, commission, slippage, position_size, whole_units,
     allow_short, confidence_threshold, position_awareness, min_signal_separation,
     stop_loss, take_profit, trailing_stop (a number or {"atr": k, "period": n}),
     sizing ({"cash": x} | {"units": x} | {"risk": x}, or absent)}}

and prints {"trades": [...], "equity": [...]} with every float in hexadecimal (float.hex). Rules:
- a signal at close[t] fills at open[t+1]; BUY while short (and SELL while long when shorts are
  allowed) closes and opens the other way at that open; the last bar liquidates at its close;
- exits are placed at entry from the fill price: a fraction of it, or k x ATR(period) of the bar
  before the entry (TA-Lib ATR, Wilder smoothing);
- on each bar with a position: if held through the open and the open is beyond the stop (the
  tighter of stop_loss and the trailing level) or the target, fill at the open; else if the bar's
  low (high for shorts) reaches the stop, fill at the stop; else if it reaches the target, fill
  there (both inside one bar: the stop first); then the trailing extreme moves with the bar;
- every fill pays slippage against the trader and commission on its value.
"""
import json
import math
import sys

import numpy as np


def atr(high, low, close, period):
    n = len(close)
    out = np.full(n, np.nan)
    if n <= period:
        return out
    tr = np.full(n, np.nan)
    for t in range(1, n):
        tr[t] = max(high[t] - low[t], abs(high[t] - close[t - 1]), abs(low[t] - close[t - 1]))
    avg = 0.0
    for t in range(1, period + 1):
        avg += tr[t]
    avg /= period
    out[period] = avg
    for t in range(period + 1, n):
        avg = (avg * (period - 1) + tr[t]) / period
        out[t] = avg
    return out


def simulate(case):
    o, h, l, c = (np.asarray(case[k], dtype=np.float64) for k in ("open", "high", "low", "close"))
    sig = case["signal"]
    s = case["settings"]
    first, last = case.get("first", 0), len(c) - 1
    fee, slip = s["commission"], s["slippage"]
    exits = {}
    for name in ("stop_loss", "take_profit", "trailing_stop"):
        spec = s.get(name)
        if spec is None:
            continue
        if isinstance(spec, dict):
            exits[name] = ("atr", spec["atr"], atr(h, l, c, spec.get("period", 14)))
        else:
            exits[name] = ("fraction", spec, None)

    def distance(name, fill, t):
        kind, value, column = exits[name]
        if kind == "fraction":
            return fill * value
        return value * column[t - 1] if t > 0 else math.nan

    cash = s["initial_capital"]
    pos = None  # dict: side, qty, entry_bar, entry_price, entry_fee, stop, take, trail_dist, extreme
    pending = None  # ("enter", side) | ("exit",) | ("reverse", side)
    last_exec = -10**9
    trades, equity = [], []

    def close(t, price, reason):
        nonlocal cash, pos
        side = pos["side"]
        fill = price * (1 - slip) if side > 0 else price * (1 + slip)
        exit_fee = pos["qty"] * fill * fee
        cash += side * pos["qty"] * fill - exit_fee
        gross = pos["qty"] * (fill - pos["entry_price"]) * side
        trades.append({"side": side, "entry_bar": pos["entry_bar"], "exit_bar": t, "entry_price": pos["entry_price"], "exit_price": fill,
                       "quantity": pos["qty"], "net_pnl": gross - pos["entry_fee"] - exit_fee, "reason": reason})
        pos = None

    def enter(t, side):
        nonlocal cash, pos
        fill = o[t] * (1 + slip) if side > 0 else o[t] * (1 - slip)
        stop_dist = distance("stop_loss", fill, t) if "stop_loss" in exits else math.nan
        affordable = cash / (fill * (1 + fee))
        sizing = s.get("sizing")
        if sizing is None:
            qty = s["position_size"] * cash / (fill * (1 + fee))
        elif "cash" in sizing:
            qty = min(sizing["cash"], cash) / (fill * (1 + fee))
        elif "units" in sizing:
            qty = min(sizing["units"], affordable)
        else:
            qty = min(sizing["risk"] * cash / stop_dist, affordable) if stop_dist > 0 else 0.0
        if s["whole_units"]:
            qty = float(math.floor(qty))
        if not (fill > 0 and qty > 0 and math.isfinite(qty)):
            return
        entry_fee = qty * fill * fee
        cash -= side * qty * fill + entry_fee
        pos = {"side": side, "qty": qty, "entry_bar": t, "entry_price": fill, "entry_fee": entry_fee, "extreme": fill,
               "stop": fill - side * stop_dist if "stop_loss" in exits else math.nan,
               "take": fill + side * distance("take_profit", fill, t) if "take_profit" in exits else math.nan}
        if "trailing_stop" in exits:
            kind, value, _ = exits["trailing_stop"]
            pos["trail"] = (kind, value if kind == "fraction" else distance("trailing_stop", fill, t))

    def check_exits(t):
        side = pos["side"]
        levels = []
        if not math.isnan(pos["stop"]):
            levels.append((pos["stop"], "stop_loss"))
        if "trail" in pos:
            kind, d = pos["trail"]
            x = pos["extreme"]
            trail = (x * (1 - d) if side > 0 else x * (1 + d)) if kind == "fraction" else x - side * d
            if not math.isnan(trail):
                levels.append((trail, "trailing_stop"))
        stop, stop_reason = (None, None)
        if levels:
            # the tighter level; on a tie the stop_loss (listed first) is kept
            stop, stop_reason = levels[0]
            for value, why in levels[1:]:
                if (side > 0 and value > stop) or (side < 0 and value < stop):
                    stop, stop_reason = value, why
        take = pos["take"]

        def past_stop(p):
            return stop is not None and (p <= stop if side > 0 else p >= stop)

        def past_take(p):
            return not math.isnan(take) and (p >= take if side > 0 else p <= take)
        if t > pos["entry_bar"]:
            if past_stop(o[t]):
                return close(t, o[t], stop_reason)
            if past_take(o[t]):
                return close(t, o[t], "take_profit")
        if past_stop(l[t] if side > 0 else h[t]):
            return close(t, stop, stop_reason)
        if past_take(h[t] if side > 0 else l[t]):
            return close(t, take, "take_profit")
        pos["extreme"] = max(pos["extreme"], h[t]) if side > 0 else min(pos["extreme"], l[t])

    for t in range(first, last + 1):
        if pending is not None:
            if pending[0] in ("exit", "reverse") and pos is not None:
                close(t, o[t], "signal")
            if pending[0] in ("enter", "reverse"):
                enter(t, pending[1])
            pending = None
        if pos is not None and exits:
            check_exits(t)
        if t == last:
            if pos is not None:
                close(t, c[t], "end_of_data")
        elif sig[t] != 0 and 1.0 >= s["confidence_threshold"] and t - last_exec >= s["min_signal_separation"]:
            side = pos["side"] if pos else 0
            if sig[t] > 0:
                pending = ("reverse", 1) if side < 0 else (("enter", 1) if side == 0 else None)
            else:
                if side > 0:
                    pending = ("reverse", -1) if s["allow_short"] else ("exit",)
                elif side == 0 and s["allow_short"]:
                    pending = ("enter", -1)
            if pending is not None or not s["position_awareness"]:
                last_exec = t
        equity.append(cash + (pos["side"] * pos["qty"] * c[t] if pos else 0.0))
    return {"trades": trades, "equity": equity}


def exact(result):
    """Every float as its hexadecimal form (float.hex), so that no decimal conversion rounds it."""
    return {"trades": [{k: (float(v).hex() if isinstance(v, (float, np.floating)) else v) for k, v in t.items()} for t in result["trades"]],
            "equity": [float(v).hex() for v in result["equity"]]}


if __name__ == "__main__":
    with open(sys.argv[1]) if len(sys.argv) > 1 else sys.stdin as f:
        print(json.dumps(exact(simulate(json.load(f)))))
