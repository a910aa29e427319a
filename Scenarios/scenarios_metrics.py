"""Metrics that follow the data: annualisation measured from the bars, checked with numpy."""
import csv
import os
import numpy as np
from scenarios import scenario


def numpy_stats(result):
    """Sharpe, volatility and bars a year from the equity curve alone (SMA_CROSSOVER.md §6)."""
    c = result["equity_curve"]
    e, t = np.array(c["equity"]), np.array(c["timestamps"], dtype=np.float64)
    r = e[1:] / e[:-1] - 1
    p = (len(e) - 1) / ((t[-1] - t[0]) / (365.25 * 86400))
    sd = r.std(ddof=1)
    return {"bars_per_year": p, "sharpe_ratio": r.mean() / sd * np.sqrt(p), "volatility": sd * np.sqrt(p) * 100}


def close(a, b, rel=1e-9):
    return a is not None and abs(a - b) <= rel * abs(b)


def run(d, symbol, timeframe):
    op = d.start_backtest(strategy_name="sma_crossover", symbol=symbol, timeframe=timeframe)
    rec = d.wait_status(op, ["completed", "failed"])
    d.check(f"{symbol} {timeframe} completes", rec["status"] == "completed", "completed", rec.get("error"))
    return d.curl("GET", f"/api/v1/operations/{op}/results")[1]["data"]


@scenario("M2", "Metrics follow the data: bars a year measured from the timestamps, Sharpe and volatility equal numpy's, a wrong label is a warning")
def m2(d):
    figures = []
    for symbol, timeframe, low, high in (("GOOG", "1d", 245, 256), ("EURUSD", "1h", 5500, 6500)):
        result = run(d, symbol, timeframe)
        m, ref = result["metrics"], numpy_stats(result)
        d.check(f"{symbol} {timeframe}: bars a year from the timestamps, as numpy counts them ({low}-{high})",
                close(m["bars_per_year"], ref["bars_per_year"], 1e-12) and low <= m["bars_per_year"] <= high,
                round(ref["bars_per_year"], 2), m["bars_per_year"])
        d.check(f"{symbol} {timeframe}: Sharpe and volatility equal numpy's on the equity curve (relative 1e-9)",
                close(m["sharpe_ratio"], ref["sharpe_ratio"]) and close(m["volatility"], ref["volatility"]),
                {k: ref[k] for k in ("sharpe_ratio", "volatility")}, {k: m[k] for k in ("sharpe_ratio", "volatility")})
        d.check(f"{symbol} {timeframe}: no warning when the label fits", "warnings" not in result, "no warnings", result.get("warnings"))
        figures.append(f"{symbol} {timeframe} {m['bars_per_year']:.1f}")
    # Monthly bars under a daily label: the first bar of every month of GOOG, saved as GOOGM_1d.
    with open(os.path.join(d.data, "GOOG_1d.csv")) as f:
        rows = list(csv.reader(f))
    monthly, seen = [rows[0]], set()
    for row in rows[1:]:
        if row[0][:7] not in seen:
            seen.add(row[0][:7])
            monthly.append(row)
    with open(os.path.join(d.data, "GOOGM_1d.csv"), "w", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows(monthly)
    result = run(d, "GOOGM", "1d")
    m, ref = result["metrics"], numpy_stats(result)
    d.check("monthly bars labelled 1d are annualised as monthly (about 12 a year), as numpy counts them",
            11.5 <= m["bars_per_year"] <= 12.5 and close(m["bars_per_year"], ref["bars_per_year"], 1e-12) and close(m["sharpe_ratio"], ref["sharpe_ratio"]),
            f"{ref['bars_per_year']:.2f}, Sharpe {ref['sharpe_ratio']:.4f}", f"{m['bars_per_year']}, Sharpe {m['sharpe_ratio']}")
    warnings = result.get("warnings") or []
    d.check("and the result warns that the label does not match the bars", len(warnings) == 1 and "timeframe 1d" in warnings[0]
            and "days apart" in warnings[0], "one warning naming the label and the spacing", warnings)
    rc, out, err = d.ctl("backtest", "run", "sma_crossover", "GOOGM", "1d")
    d.check("ktrdrctl prints the warning", rc == 0 and "warning: timeframe 1d" in out + err, "warning: timeframe 1d …", (out + err)[-400:])
    figures.append(f"GOOGM 1d {m['bars_per_year']:.2f}")
    # The same bars under the 1M label (calendar months; 1m is a minute): no warning.
    with open(os.path.join(d.data, "GOOGM_1M.csv"), "w", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows(monthly)
    result = run(d, "GOOGM", "1M")
    d.check("the 1M timeframe takes monthly bars without a warning, about 12 a year", "warnings" not in result
            and 11.5 <= result["metrics"]["bars_per_year"] <= 12.5 and result["timeframe"] == "1M", "1M, no warning, ~12",
            (result["timeframe"], result.get("warnings"), result["metrics"]["bars_per_year"]))
    d.figure("bars a year, measured", ", ".join(figures))

    # Prices near the double limit: a long position whose value overflows is an error, never an infinite result.
    rows = ["timestamp,open,high,low,close,volume"]
    for i in range(70):
        price = 1.0 if i < 35 else (1.0 + (i - 34) if i < 69 else 1e308)
        rows.append(f"{2020 + i // 365}-{1 + (i % 365) // 28:02d}-{1 + (i % 365) % 28:02d}T00:00:00Z,{price},{price},{price},{price},1")
    with open(os.path.join(d.data, "HUGE_1d.csv"), "w") as f:
        f.write("\n".join(rows) + "\n")
    status, body = d.curl("POST", "/api/v1/backtests/start", {"strategy_name": "sma_crossover", "symbol": "HUGE", "timeframe": "1d"})
    rec = d.wait_status(body["data"]["operation_id"], ["completed", "failed"]) if status == 200 else {}
    err = rec.get("error") or {}
    d.check("equity that overflows is a data_invalid failure naming the file and the bar, not an infinite result",
            rec.get("status") == "failed" and err.get("code") == "data_invalid" and "HUGE_1d.csv" in err.get("message", "")
            and "overflow" in err.get("message", ""), "failed, data_invalid, HUGE_1d.csv … overflow", (status, rec.get("status"), err))

