"""Scenarios of data onboarding (DI1: data import with time zones, data check) and of orders and exits (OX1)."""
import datetime
import hashlib
import json
import math
import os
import subprocess
from zoneinfo import ZoneInfo

from harness import ROOT
from scenarios import scenario
from scenarios_research import read_parquet

NY = ZoneInfo("America/New_York")


def _bars(path):
    """(timestamp, open, high, low, close, volume) rows of a ktrdr CSV, as text."""
    with open(path) as f:
        return [tuple(line.split(",")) for line in f.read().splitlines()[1:]]


def _utc(iso):
    return datetime.datetime.fromisoformat(iso.replace("Z", "+00:00"))


def _write(path, lines):
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


@scenario("DI1", "Data onboarding: Yahoo and Binance files imported with time zones, checked, backtested and exported")
def di1(d):
    goog = _bars(os.path.join(d.data, "GOOG_1d.csv"))
    eur = _bars(os.path.join(d.data, "EURUSD_1h.csv"))

    # Yahoo daily download: Adj Close, and null rows on three weekdays the file has no bar for.
    have = {r[0][:10] for r in goog}
    nulls = [day for day in ("2005-01-17", "2006-07-04", "2010-12-24") if day not in have]
    rows = [(r[0][:10], f"{r[0][:10]},{r[1]},{r[2]},{r[3]},{r[4]},{float(r[4]) * 0.98:.4f},{r[5]}") for r in goog]
    rows += [(day, f"{day},null,null,null,null,null,null") for day in nulls]
    rows.sort()
    source = os.path.join(d.home, "GOOG-yahoo.csv")
    _write(source, ["Date,Open,High,Low,Close,Adj Close,Volume"] + [line for _, line in rows])
    rc, out, err = d.ctl("data", "import", source, "--format", "yahoo", "--symbol", "GOOGY", "--timeframe", "1d", "--data-dir", d.data)
    d.check("data import --format yahoo exits 0 and says what it left out", rc == 0 and f"left out {len(nulls)} rows" in out
            and "Adj Close" in out, f"left out {len(nulls)} rows", f"{rc}: {out}{err}")
    d.check("the imported bars are GOOG_1d's, value for value", _bars(os.path.join(d.data, "GOOGY_1d.csv")) == goog,
            f"{len(goog)} bars", len(_bars(os.path.join(d.data, "GOOGY_1d.csv"))))
    with open(os.path.join(d.data, "GOOGY_1d.import.json")) as f:
        record = json.load(f)
    with open(source, "rb") as f:
        sha = hashlib.sha256(f.read()).hexdigest()
    null_lines = sorted(2 + [day for day, _ in rows].index(day) for day in nulls)
    d.check("the record beside the file: source SHA-256, column mapping, the null rows' lines",
            record["source_sha256"] == sha and record["columns"]["timestamp"] == "Date" and record["unused_columns"] == ["Adj Close"]
            and [s["line"] for s in record["skipped"]] == null_lines and record["rows_written"] == len(goog),
            f"sha {sha[:12]}, skipped lines {null_lines}", record)
    rc, out, err = d.ctl("data", "import", source, "--format", "yahoo", "--symbol", "GOOGY", "--timeframe", "1d", "--data-dir", d.data)
    d.check("importing over an existing file needs --force", rc == 3 and "give --force" in err, "exit 3", f"{rc}: {err}")

    results = {}
    for symbol in ("GOOG", "GOOGY"):
        rc, out, err = d.ctl("backtest", "run", "sma_crossover", symbol, "1d", "--json")
        results[symbol] = json.loads(out) if rc == 0 else {}
    d.check("a backtest of the imported file equals the original's, trade for trade",
            results["GOOGY"].get("trades") == results["GOOG"]["trades"] and results["GOOGY"]["metrics"] == results["GOOG"]["metrics"],
            f"{len(results['GOOG']['trades'])} trades", len(results["GOOGY"].get("trades", [])))
    op = d.start_backtest(strategy_name="sma_crossover", symbol="GOOGY", timeframe="1d")
    d.wait_status(op, ["completed", "failed"])
    parquet = os.path.join(d.home, "googy-trades.parquet")
    rc, out, err = d.ctl("ops", "results", op, "--trades-parquet", parquet)
    table = read_parquet(d, parquet) if rc == 0 else {"rows": []}
    d.check("its trades exported as Parquet read back by pyarrow", rc == 0 and len(table["rows"]) == len(results["GOOG"]["trades"])
            and table["rows"][0]["entry_price"] == results["GOOG"]["trades"][0]["entry_price"], "rows = trades", f"{rc}: {err[-300:]}")

    # yfinance intraday: New York times with their offsets; then naive New York times with --tz.
    local = [(_utc(r[0]).astimezone(NY), r) for r in eur]
    _write(os.path.join(d.home, "eur-offsets.csv"), ["Datetime,Open,High,Low,Close,Adj Close,Volume"]
           + [f"{t.isoformat(sep=' ')},{r[1]},{r[2]},{r[3]},{r[4]},{r[4]},{r[5]}" for t, r in local])
    rc, out, err = d.ctl("data", "import", os.path.join(d.home, "eur-offsets.csv"), "--format", "yahoo", "--symbol", "EURNY",
                         "--timeframe", "1h", "--data-dir", d.data)
    d.check("times with a -04:00/-05:00 offset become the original UTC bars", rc == 0 and _bars(os.path.join(d.data, "EURNY_1h.csv")) == eur,
            f"{len(eur)} bars", f"{rc}: {err[-300:]}")
    # The same bars as naive New York wall times with --tz: across four DST changes (FX is shut
    # on the Sunday mornings when clocks change, so no wall time is repeated or skipped).
    ambiguous = [t for t, _ in local if t.replace(fold=0).utcoffset() != t.replace(fold=1).utcoffset()]
    _write(os.path.join(d.home, "eur-naive.csv"), ["Datetime,Open,High,Low,Close,Volume"]
           + [f"{t.strftime('%Y-%m-%d %H:%M:%S')},{r[1]},{r[2]},{r[3]},{r[4]},{r[5]}" for t, r in local])
    rc, out, err = d.ctl("data", "import", os.path.join(d.home, "eur-naive.csv"), "--format", "yahoo", "--symbol", "EURNV", "--timeframe", "1h",
                         "--tz", "America/New_York", "--data-dir", d.data)
    d.check("naive New York times with --tz America/New_York become the original UTC bars, EDT and EST alike",
            rc == 0 and not ambiguous and _bars(os.path.join(d.data, "EURNV_1h.csv")) == eur, f"{len(eur)} bars", f"{rc}: {err[-300:]}")
    _write(os.path.join(d.home, "fallback.csv"), ["Datetime,Open,High,Low,Close,Volume", "2024-11-02 23:00:00,1,1,1,1,1",
                                                  "2024-11-03 00:30:00,1,1,1,1,1", "2024-11-03 01:30:00,1,1,1,1,1"])
    rc, out, err = d.ctl("data", "import", os.path.join(d.home, "fallback.csv"), "--format", "yahoo", "--symbol", "FALLB", "--timeframe", "1h",
                         "--tz", "America/New_York", "--data-dir", d.data)
    d.check("a naive time the zone repeats (01:30 on the fall-back night) is refused naming its line, and nothing is written",
            rc == 3 and "fallback.csv:4: column 'Datetime'" in err and "happens twice in America/New_York" in err
            and not os.path.exists(os.path.join(d.data, "FALLB_1h.csv")), "exit 3, line 4", f"{rc}: {err[-300:]}")

    # Binance klines: open time in ms, no header, six more columns.
    klines = [f"{int(_utc(r[0]).timestamp() * 1000)},{r[1]},{r[2]},{r[3]},{r[4]},{r[5]},{int(_utc(r[0]).timestamp() * 1000) + 3599999},0,1,0,0,0"
              for r in eur]
    _write(os.path.join(d.home, "klines.csv"), klines)
    rc, out, err = d.ctl("data", "import", os.path.join(d.home, "klines.csv"), "--format", "binance", "--symbol", "EURBN", "--timeframe", "1h",
                         "--data-dir", d.data)
    d.check("Binance klines (ms open times) become the original bars", rc == 0 and _bars(os.path.join(d.data, "EURBN_1h.csv")) == eur,
            f"{len(eur)} bars", f"{rc}: {err[-300:]}")
    rc, out, err = d.ctl("data", "import", os.path.join(d.home, "klines.csv"), "--format", "binance", "--symbol", "EURBX", "--timeframe", "1h",
                         "--tz", "Europe/London", "--data-dir", d.data)
    d.check("a time zone given for epoch times is refused, not ignored", rc == 3 and "does not apply" in err, "exit 3", f"{rc}: {err}")

    # data check: the shipped file's gaps against an independent count, then a file with defects.
    rc, out, err = d.ctl("data", "check", os.path.join(d.data, "EURUSD_1h.csv"), "--json")
    report = json.loads(out) if out.strip() else {}
    times = [_utc(r[0]).timestamp() for r in eur]
    missing = [int(b - a) // 3600 - 1 for a, b in zip(times, times[1:]) if b - a > 3600]

    def is_weekend_gap(a, b):
        """Every calendar day strictly between the two bars is a Saturday or Sunday, one of them a Saturday."""
        day_a, day_b = (datetime.datetime.fromtimestamp(t, datetime.timezone.utc).date() for t in (a, b))
        between = [day_a + datetime.timedelta(days=k) for k in range(1, (day_b - day_a).days)]
        return bool(between) and all(x.weekday() >= 5 for x in between) and any(x.weekday() == 5 for x in between)
    weekend = sum(1 for a, b in zip(times, times[1:]) if b - a > 3600 and is_weekend_gap(a, b))
    classes = report.get("gaps", {})
    d.check("data check counts EURUSD 1h's gaps and missing bars as an independent count does; classes add up",
            rc == 0 and sum(c["gaps"] for c in classes.values()) == len(missing) and sum(c["missing_bars"] for c in classes.values()) == sum(missing)
            and classes.get("weekend", {}).get("gaps", 0) == weekend > 0 and report["defects"] == 0,
            f"{len(missing)} gaps, {sum(missing)} bars, {weekend} over a weekend", classes)
    d.figure("EURUSD 1h gaps by class", ", ".join(f"{k} {v['gaps']}" for k, v in sorted(classes.items())))
    bad = list(eur[:200])
    bad[50] = bad[49]  # a repeated time
    bad[80] = (bad[80][0], "0", *bad[80][2:])  # a zero open
    bad[120] = (bad[120][0], bad[120][1], bad[120][3], bad[120][2], *bad[120][4:])  # high and low swapped
    _write(os.path.join(d.data, "BAD_1h.csv"), ["timestamp,open,high,low,close,volume"] + [",".join(r) for r in bad])
    rc, out, err = d.ctl("data", "check", os.path.join(d.data, "BAD_1h.csv"), "--json")
    report = json.loads(out) if out.strip() else {}
    swapped = float(bad[120][2]) < float(bad[120][3])
    d.check("a file with a repeated time, a zero price and high below low: each reported at its line, exit 3",
            rc == 3 and [f["line"] for f in report["duplicates"]["first"]] == [52] and [f["line"] for f in report["non_positive_prices"]["first"]] == [82]
            and (not swapped or [f["line"] for f in report["ohlc_inconsistent"]["first"]][-1] == 122) and "refuses" in report["strict_loader"],
            "lines 52, 82, 122", {k: report.get(k) for k in ("duplicates", "non_positive_prices", "ohlc_inconsistent", "strict_loader")})

    rc, out, err = d.ctl("backtest", "run", "sma_crossover", "GOOG", "1d", "--start", "2030-01-01")
    d.check("insufficient_data states the file's range", rc == 3 and "the file holds bars from 2004-08-19T00:00:00Z to 2013-03-01T00:00:00Z" in err,
            "the file's first and last bar", err[-400:])
    rc, out, err = d.ctl("backtest", "run", "sma_crossover", "GOOGX", "1d")
    d.check("data_not_found lists the data sets there are", rc == 4 and "GOOGY 1d" in err and "EURUSD 1h" in err, "GOOGY 1d, EURUSD 1h …", err[-400:])


def _exits_file():
    with open(os.path.join(ROOT, "strategies", "sma_crossover.yaml")) as f:
        text = f.read()
    text = text.replace("name: sma_crossover", "name: sma_exits", 1)
    text = text.replace("  allow_short: false", "  allow_short: true\n  stop_loss: 0.06\n  take_profit: {atr: 6, period: 14}\n"
                        "  trailing_stop: 0.10\n  sizing: {risk: 0.02}")
    assert "stop_loss: 0.06" in text and "name: sma_exits" in text
    return text


@scenario("OX1", "Orders and exits through the daemon: stops, targets, trailing stops, stop-and-reverse and risk sizing "
          "equal an independent implementation; ops compare", strategies={"sma_exits": _exits_file()})
def ox1(d):
    rc, out, err = d.ctl("backtest", "run", "sma_exits", "GOOG", "1d", "--commission", "0.001", "--slippage", "0.0005", "--json")
    d.check("a backtest with exits through the daemon completes", rc == 0, "exit 0", f"{rc}: {err[-400:]}")
    daemon = json.loads(out)
    rc, out, err = d.ctl("backtest", "run", "sma_exits", "GOOG", "1d", "--commission", "0.001", "--slippage", "0.0005", "--json",
                         "--local", "--data-dir", d.data, "--strategies-dir", d.strategies)
    local = json.loads(out) if rc == 0 else {}
    d.check("--local gives the same trades", local.get("trades") == daemon["trades"], f"{len(daemon['trades'])} trades", len(local.get("trades", [])))
    # The independent computation: canonical SMA(10)/SMA(30) crossings, then the reference rules.
    rows = _bars(os.path.join(d.data, "GOOG_1d.csv"))
    close = [float(r[4]) for r in rows]

    def sma(n, t):
        return sum(close[t - n + 1:t + 1]) / n if t >= n - 1 else math.nan
    signal = [0]
    for t in range(1, len(close)):
        f0, s0, f1, s1 = sma(10, t - 1), sma(30, t - 1), sma(10, t), sma(30, t)
        signal.append(1 if f0 <= s0 and f1 > s1 else (-1 if f0 >= s0 and f1 < s1 else 0))
    case = {"open": [float(r[1]) for r in rows], "high": [float(r[2]) for r in rows], "low": [float(r[3]) for r in rows], "close": close,
            "signal": signal, "first": 0, "settings": daemon["settings"]}
    p = subprocess.run(["/usr/bin/python3", os.path.join(ROOT, "scripts", "execution_reference.py")], input=json.dumps(case),
                       capture_output=True, text=True, timeout=120)
    d.check("the numpy reference runs", p.returncode == 0, "exit 0", p.stderr[-400:])
    reference = json.loads(p.stdout)["trades"] if p.returncode == 0 else []
    iso = [r[0] for r in rows]
    ours = [(t["side"], t["entry_time"], t["exit_time"], t["exit_reason"], t["quantity"], t["entry_price"], t["exit_price"]) for t in daemon["trades"]]
    theirs = [(1 if r["side"] > 0 else -1, iso[r["entry_bar"]], iso[r["exit_bar"]], r["reason"], float.fromhex(r["quantity"]),
               float.fromhex(r["entry_price"]), float.fromhex(r["exit_price"])) for r in reference]
    side = {"long": 1, "short": -1, 1: 1, -1: -1}
    ours = [(side[o[0]],) + o[1:] for o in ours]
    d.check("every trade equals the independent implementation's: sides, times, reasons, quantities and prices bit for bit",
            ours == theirs, f"{len(theirs)} trades", next(((a, b) for a, b in zip(ours, theirs) if a != b), (len(ours), len(theirs))))
    reasons = sorted({t["exit_reason"] for t in daemon["trades"]})
    d.check("the run uses every kind of exit and both sides", {"stop_loss", "take_profit", "trailing_stop", "signal"} <= set(reasons)
            and {side[t["side"]] for t in daemon["trades"]} == {1, -1}, "stop_loss, take_profit, trailing_stop, signal; long and short", reasons)
    d.figure("exits on GOOG 1d", ", ".join(f"{r} {sum(1 for t in daemon['trades'] if t['exit_reason'] == r)}" for r in reasons))
    status, body = d.curl("POST", "/api/v1/backtests/start", {"strategy_name": "sma_exits", "symbol": "GOOG", "timeframe": "1d",
                                                              "overrides": {"trading.sizing": "all"}})
    d.check("a wrong trading field is refused naming it", status in (400, 422) and "trading.sizing" in json.dumps(body), "422 trading.sizing",
            f"{status} {body}")
    # ops compare: the plain contract against the same signals with exits.
    ids = []
    for name in ("sma_crossover", "sma_exits"):
        op = d.start_backtest(strategy_name=name, symbol="GOOG", timeframe="1d", commission=0.001, slippage=0.0005)
        d.wait_status(op, ["completed", "failed"])
        ids.append(op)
    page = os.path.join(d.home, "compare.html")
    rc, out, err = d.ctl("ops", "compare", *ids, "--json")
    rows = json.loads(out) if rc == 0 else []
    summaries = [d.operation(i)["result_summary"] for i in ids]
    d.check("ops compare --json gives each run's metrics as its result has them", [r["metrics"] for r in rows] == summaries,
            "2 rows equal the results", rows[:1])
    rc, out, err = d.ctl("ops", "compare", *ids, "--chart", page)
    with open(page) as f:
        html = f.read()
    d.check("ops compare prints the metrics side by side and writes overlaid curves (inline SVG, nothing fetched)",
            rc == 0 and "sharpe_ratio" in out and all(i[-8:] in out for i in ids)
            and all(html.count(f'data-operation="{i}"') == 2 for i in ids) and "http://" not in html.replace("http://www.w3.org/2000/svg", "")
            and "https://" not in html, "2 equity + 2 drawdown polylines", f"{rc}: {err[-200:]}")
    rc, out, err = d.ctl("ops", "compare", ids[0])
    d.check("one id is a usage error", rc == 2 and "give 2 to 8 operation ids" in err, "exit 2", f"{rc}: {err[-200:]}")
