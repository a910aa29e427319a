"""Scenarios of the research loop: parameters for one run (PA1), sweeps (SW1-SW3), walk-forward (WF1, WF2 for the neural strategy)."""
import calendar
import csv
import datetime
import hashlib
import json
import os
import re
import subprocess
import time

from harness import ROOT, pip_tool
from scenarios import scenario



def _written_file():
    """sma_crossover.yaml with the values of the run written in by hand: the independent way."""
    with open(os.path.join(ROOT, "strategies", "sma_crossover.yaml")) as f:
        text = f.read()
    text = re.sub(r"(?m)^name: sma_crossover$", "name: sma_fast5", text)
    text = re.sub(r"(?m)^  fast_period: 10$", "  fast_period: 5", text)
    text = re.sub(r"(?m)^  slow_period: 30$", "  slow_period: 40", text)
    text = re.sub(r"(?m)^  history_required: 30$", "  history_required: 40", text)
    assert text.count("sma_fast5") == 1 and "fast_period: 5\n" in text and "history_required: 40" in text
    return text


SMA_FILE = _written_file()


@scenario("PA1", "Parameters for one run: --param, --set, params and overrides, checked as the file", strategies={"sma_fast5": SMA_FILE})
def pa1(d):
    given = ["--param", "fast_period=5", "--param", "slow_period=40", "--set", "data.history_required=40"]
    base = ["backtest", "run", "sma_crossover", "GOOG", "1d", "--json"]
    rc, out, err = d.ctl(*base, *given)
    d.check("a daemon run with --param completes", rc == 0, "exit 0", f"{rc}: {err}")
    daemon = json.loads(out)
    rc, out, err = d.ctl(*base, *given, "--local", "--data-dir", d.data, "--strategies-dir", d.strategies)
    d.check("the same run with --local completes", rc == 0, "exit 0", f"{rc}: {err}")
    local = json.loads(out)
    rc, out, err = d.ctl("backtest", "run", "sma_fast5", "GOOG", "1d", "--json", "--local", "--data-dir", d.data, "--strategies-dir", d.strategies)
    written = json.loads(out)
    d.check("--param gives exactly the trades of a file with those values written in (daemon and --local)",
            daemon["trades"] == written["trades"] == local["trades"] and daemon["metrics"] == written["metrics"],
            f"{len(written['trades'])} identical trades", f"daemon {len(daemon['trades'])}, local {len(local['trades'])}")
    rc, out, err = d.ctl("backtest", "run", "sma_crossover", "GOOG", "1d", "--json")
    default = json.loads(out)
    d.check("and not the file's own parameters' trades", default["trades"] != daemon["trades"], "different trades", len(default["trades"]))
    d.figure("trades with fast 5 / slow 40 against the file's 10 / 30", f"{len(daemon['trades'])} / {len(default['trades'])}")

    status, body = d.curl("POST", "/api/v1/backtests/start", {"strategy_name": "sma_crossover", "symbol": "GOOG", "timeframe": "1d",
                                                              "params": {"fast_period": 5, "slow_period": 40},
                                                              "overrides": {"data.history_required": 40}})
    op = d.wait_status(body["operation_id"], ["completed", "failed"])
    with open(os.path.join(d.strategies, "sma_crossover.yaml"), "rb") as f:
        file_sha = hashlib.sha256(f.read()).hexdigest()
    meta = op["metadata"]
    d.check("the record keeps the values given, the parameters in effect and the file's SHA-256",
            meta["parameters"]["params"] == {"fast_period": 5, "slow_period": 40} and meta["params"] == {"fast_period": 5, "slow_period": 40}
            and meta["parameters"]["overrides"] == {"data.history_required": 40} and meta["strategy_sha256"] == file_sha,
            f"params 5/40, sha256 {file_sha[:12]}…", {k: meta.get(k) for k in ("parameters", "params", "strategy_sha256")})
    rc, out, err = d.ctl("ops", "show", body["operation_id"])
    d.check("ops show prints them", '"fast_period" : 5' in out or '"fast_period": 5' in out, "fast_period 5 in ops show", out[:300])

    for args, code, words in (
            (["--param", "fast_period=50"], 3, ["fast_period (50) must be below slow_period (30)"]),
            (["--param", "fast_perod=5"], 3, ["params.fast_perod", "did you mean 'fast_period'?", "given 5 for this run"]),
            (["--set", "decisions.confidence_threshold=high"], 3, ["decisions.confidence_threshold", "expected a number", "given high"]),
            (["--set", "plugin=rsi_mean_reversion"], 3, ["cannot be overridden"]),
            (["--param", "fast_period=x"], 2, ["'x' is not a number"])):
        rc, out, err = d.ctl("backtest", "run", "sma_crossover", "GOOG", "1d", *args)
        d.check(f"{' '.join(args)} is refused naming it", rc == code and all(w in err for w in words), f"exit {code}: {words}", f"{rc}: {err[:400]}")
    rc, out, err = d.ctl("strategies", "validate", "sma_crossover", "--strategies-dir", d.strategies, "--param", "fast_period=40")
    d.check("strategies validate runs the plugin's checks, as a run does", rc == 3 and "fast_period (40) must be below slow_period (30)" in err,
            "exit 3: fast_period (40) must be below slow_period (30)", f"{rc}: {out}{err}")
    rc, out, err = d.ctl("strategies", "validate", "sma_fast5", "--strategies-dir", d.strategies)
    d.check("and says so when the plugin accepts the file", rc == 0 and "plugin sma_crossover 1.0.0 accepts it, warm-up 40 bars" in out,
            "valid … plugin sma_crossover 1.0.0 accepts it, warm-up 40 bars", f"{rc}: {out}{err}")
    status, body = d.curl("POST", "/api/v1/backtests/start", {"strategy_name": "sma_crossover", "symbol": "GOOG", "timeframe": "1d",
                                                              "params": {"slow_period": 0}})
    d.check("an API value the plugin refuses is a 422 naming the parameter and the value", status == 422
            and body["error"]["code"] == "strategy_invalid" and re.search(r"params\.slow_period.*given 0", json.dumps(body)),
            "422 strategy_invalid params.slow_period … given 0", f"{status} {body}")


GRID = ["--param", "fast_period=5:50:5", "--param", "slow_period=20:200:10", "--where", "fast_period < slow_period"]


READ_PARQUET = """
import json, sys, pyarrow.parquet as pq
t = pq.read_table(sys.argv[1])
rows = [{k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in r.items()} for r in t.to_pylist()]
print(json.dumps({"schema": {f.name: str(f.type) for f in t.schema}, "rows": rows}))
"""


def read_parquet(d, path):
    """The file as pyarrow reads it (pinned, in its own venv): column types and rows."""
    python = pip_tool(d, "pyarrow==26.0.1", "python")
    p = subprocess.run([python, "-c", READ_PARQUET, path], capture_output=True, text=True, timeout=120)
    d.check(f"pyarrow reads {os.path.basename(path)}", p.returncode == 0, "exit 0", p.stderr[-600:])
    return json.loads(p.stdout)


def check_exports(d, sweep, single_op):
    """Sweep trials, trades and the equity curve as Parquet (read back by pyarrow) and CSV, against the JSON."""
    files = {k: os.path.join(d.home, k) for k in ("trials.parquet", "trials.csv", "trades.parquet", "equity.parquet", "trades.csv")}
    rc, out, err = d.ctl("sweep", "show", sweep["operation_id"], "--parquet", files["trials.parquet"], "--csv", files["trials.csv"])
    d.check("sweep show --parquet --csv exits 0", rc == 0, "exit 0", err[-300:])
    table = read_parquet(d, files["trials.parquet"])
    want = [dict({"rank": i + 1, "index": t["index"], "status": t["status"]}, **t["params"], **t["metrics"]) for i, t in enumerate(sweep["trials"])]
    d.check("every trial, in rank order, with every metric: the Parquet rows equal the JSON (nulls as nulls)",
            table["rows"] == want, f"{len(want)} rows", [(a, b) for a, b in zip(table["rows"], want) if a != b][:1] or len(table["rows"]))
    d.check("Parquet types: int64 rank, double parameters and metrics, string status",
            table["schema"]["rank"] == "int64" and table["schema"]["fast_period"] == "double" and table["schema"]["status"] == "string"
            and table["schema"]["sharpe_ratio"] == "double", "int64 / double / string", table["schema"])
    with open(files["trials.csv"]) as f:
        rows = list(csv.DictReader(f))
    d.check("the CSV has the same rows", len(rows) == len(want) and all(float(r["sharpe_ratio"]) == w["sharpe_ratio"] for r, w in zip(rows, want)),
            len(want), len(rows))
    rc, out, err = d.ctl("ops", "results", single_op, "--trades-parquet", files["trades.parquet"], "--equity-parquet", files["equity.parquet"],
                         "--trades-csv", files["trades.csv"])
    d.check("ops results --trades-parquet --equity-parquet --trades-csv exits 0", rc == 0, "exit 0", err[-300:])
    result = d.curl("GET", f"/api/v1/operations/{single_op}/results")[1]["data"]
    trades = read_parquet(d, files["trades.parquet"])
    as_json = [dict(t, entry_time=t["entry_time"].replace("Z", "+00:00"), exit_time=t["exit_time"].replace("Z", "+00:00")) for t in result["trades"]]
    d.check("the trades as Parquet equal the result's trades (times as UTC timestamps)", trades["rows"] == as_json
            and trades["schema"]["entry_time"] == "timestamp[us, tz=UTC]", f"{len(as_json)} trades", (trades["schema"], trades["rows"][:1], as_json[:1]))
    curve = read_parquet(d, files["equity.parquet"])
    c = result["equity_curve"]
    d.check("the equity curve as Parquet equals the result's", [r["equity"] for r in curve["rows"]] == c["equity"]
            and [r["position"] for r in curve["rows"]] == c["position"] and len(curve["rows"]) == len(c["timestamps"]),
            f"{len(c['equity'])} points", len(curve["rows"]))
    with open(files["trades.csv"]) as f:
        rows = list(csv.DictReader(f))
    d.check("the trades CSV has every trade", len(rows) == len(result["trades"]) and rows[0]["entry_time"] == result["trades"][0]["entry_time"],
            len(result["trades"]), len(rows))
    d.figure("Parquet rows read back by pyarrow (trials, trades, curve)", f"{len(table['rows'])}, {len(trades['rows'])}, {len(curve['rows'])}")


@scenario("SW1", "A grid sweep equals the same grid run one backtest at a time")
def sw1(d):
    rc, out, err = d.ctl("sweep", "run", "sma_crossover", "GOOG", "1d", *GRID, "--json", timeout=300)
    d.check("ktrdrctl sweep run exits 0", rc == 0, "exit 0", f"{rc}: {err[-500:]}")
    sweep = json.loads(out)
    d.check("174 trials, all completed", sweep["trials_total"] == 174 and sweep["trials_completed"] == 174 and sweep["trials_failed"] == 0,
            "174/174", {k: sweep[k] for k in ("trials_total", "trials_completed", "trials_failed")})
    # The independent search: every grid point as its own backtest through the API.
    singles, singles_ops = {}, {}
    for fast in range(5, 55, 5):
        for slow in range(20, 210, 10):
            if fast >= slow:
                continue
            op = d.start_backtest(strategy_name="sma_crossover", symbol="GOOG", timeframe="1d", commission=0.001, slippage=0.0005,
                                  initial_capital=100000, params={"fast_period": fast, "slow_period": slow})
            singles[(fast, slow)] = d.wait_status(op, ["completed", "failed"])["result_summary"]
            singles_ops[(fast, slow)] = op
    by_params = {(t["params"]["fast_period"], t["params"]["slow_period"]): t["metrics"] for t in sweep["trials"]}
    differing = [k for k in singles if singles[k] != by_params.get(k)]
    d.check("every trial's metrics are bit-identical to its single backtest (all 27 metrics, compared as JSON numbers)",
            not differing and len(by_params) == len(singles) == 174, "0 differences over 174 trials", differing[:5])
    # Best by Sharpe, ties by grid order (the order the singles were run in).
    best = max(singles, key=lambda k: (singles[k]["sharpe_ratio"] if singles[k]["sharpe_ratio"] is not None else float("-inf"),
                                       -list(singles).index(k)))
    top = sweep["trials"][0]["params"]
    d.check("the sweep's best trial is the independent search's best", (top["fast_period"], top["slow_period"]) == best,
            best, top)
    ranked = [t["metrics"]["sharpe_ratio"] for t in sweep["trials"]]
    d.check("trials are ranked by sharpe_ratio, best first", ranked == sorted(ranked, reverse=True), "descending", ranked[:5])
    d.check("the re-run command names the best parameters", f"--param fast_period={best[0]} --param slow_period={best[1]}" in sweep["rerun"],
            f"fast_period={best[0]} slow_period={best[1]}", sweep["rerun"])
    d.figure("best (fast, slow) and its Sharpe", f"{best} {singles[best]['sharpe_ratio']:.4f}")
    report = os.path.join(d.home, "report.html")
    rc, out, err = d.ctl("sweep", "show", sweep["operation_id"], "--html", report, "--curves", "3")
    page = open(report).read() if os.path.exists(report) else ""
    filled = len(re.findall(r"<rect [^>]*><title>fast_period=", page))
    d.check("sweep show --html writes the report: a heatmap cell per trial, the top 3 equity curves, the guards", rc == 0 and filled == 174
            and page.count("<polyline") == 3 and "Deflated Sharpe ratio" in page and "Probability of backtest overfitting" in page,
            "174 cells, 3 curves, both guards", f"{rc} cells {filled} curves {page.count('<polyline')} {err[-300:]}")
    check_exports(d, sweep, next(iter(singles_ops.values())))
    o = sweep["overfitting"]
    d.check("the overfitting guards are reported with the ranking", o and 0 <= o["deflated_sharpe_ratio"] <= 1 and 0 <= o["pbo"] <= 1
            and o["pbo_splits"] == 12870 and o["trials"] == 174, "DSR and PBO in [0, 1], 12,870 splits", o)
    d.figure("deflated Sharpe ratio / PBO of the GOOG grid", f"{o['deflated_sharpe_ratio']:.3f} / {o['pbo']:.3f}")


@scenario("SW2", "Sweep cancelled mid-way keeps its trials; a sweep killed with kill -9 resumes after restart", needs_long_data=True)
def sw2(d):
    body = {"strategy_name": "sma_crossover", "symbol": "SYNTHS", "timeframe": "1m",
            "grid": {"fast_period": "5:60:5", "slow_period": "100:400:20"}, "where": "fast_period < slow_period"}

    def start():
        status, r = d.curl("POST", "/api/v1/sweeps/start", body)
        d.check("sweep starts", status == 200, 200, f"{status} {r}")
        return r["operation_id"], r["data"]["progress"]["items_total"]

    def wait_done(op, at_least):
        for _ in range(600):
            o = d.operation(op)
            if (o["progress"]["context"].get("trials_done") or 0) >= at_least or o["status"] in ("completed", "failed", "cancelled"):
                return o
            time.sleep(0.02)
        return o

    op, total = start()
    wait_done(op, 5)
    status, cancelled = d.curl("DELETE", f"/api/v1/operations/{op}")
    final = d.wait_status(op, ["cancelled", "completed", "failed"])
    _, res = d.curl("GET", f"/api/v1/operations/{op}/results")
    kept = res["data"]["trials_completed"]
    d.check("cancel stops the remaining trials: the sweep ends cancelled", final["status"] == "cancelled", "cancelled", final["status"])
    d.check("its finished trials stay, ranked", 5 <= kept < total and res["data"]["status"] == "cancelled", f"5 ≤ trials < {total}",
            f"{kept} of {total}")
    d.figure("trials kept after cancel", f"{kept} of {total}")

    op, total = start()
    before = wait_done(op, 6)["progress"]["context"]["trials_done"]
    d.kill9()
    d.start()
    done = d.wait_status(op, ["completed", "failed", "cancelled"], timeout=120)
    _, res = d.curl("GET", f"/api/v1/operations/{op}/results")
    indices = sorted(t["index"] for t in res["data"]["trials"])
    d.check("after kill -9 and a restart the sweep resumes and completes", done["status"] == "completed", "completed", done.get("error"))
    d.check("every trial exactly once", indices == list(range(total)), f"indices 0..{total - 1}", indices[:10])
    d.check("the log says it resumed with the trials already done", "sweep resumed after a restart" in d.log(), "sweep resumed …", d.log_tail(5))
    d.figure("trials done before kill -9", f"{before} of {total}")


@scenario("SW3", "Bad sweep requests are refused with a clear error")
def sw3(d):
    base = {"strategy_name": "sma_crossover", "symbol": "GOOG", "timeframe": "1d"}
    cases = [
        ("empty grid", {**base, "grid": {}}, 400, "invalid_request", "no parameters to sweep"),
        ("unknown parameter", {**base, "grid": {"fast_perod": "5:50:5"}}, 422, "strategy_invalid", "did you mean 'fast_period'?"),
        ("10^7 trials", {**base, "grid": {"fast_period": "1:10000:1", "slow_period": "1:1000:1"}}, 400, "invalid_request", "10,000,000 points"),
        ("condition naming an unknown parameter", {**base, "grid": {"fast_period": "5:50:5"}, "where": "fast_period < slow"}, 400, "invalid_request",
         "unknown parameter 'slow'"),
        ("no trial meets the condition", {**base, "grid": {"fast_period": "5:50:5"}, "where": "fast_period > 100"}, 400, "invalid_request",
         "no trial meets"),
        ("unknown rank metric", {**base, "grid": {"fast_period": "5:25:5"}, "rank": "sharpe"}, 400, "invalid_request", "did you mean 'sharpe_ratio'?"),
        ("bad range", {**base, "grid": {"fast_period": "50:5:5"}}, 400, "invalid_request", "below start"),
        ("unknown field", {**base, "grid": {"fast_period": "5:25:5"}, "samples_count": 3}, 400, "unknown_field", "samples_count"),
        ("random without samples", {**base, "grid": {"fast_period": "5:25:5"}, "method": "random"}, 400, "invalid_request", "samples"),
    ]
    for name, body, want, code, words in cases:
        status, r = d.curl("POST", "/api/v1/sweeps/start", body)
        error = r.get("error", {}) if isinstance(r, dict) else {}
        d.check(f"{name}: {want} {code}", status == want and error.get("code") == code and words in json.dumps(error), f"{want} {code} '{words}'",
                f"{status} {r}")
    d.check("no operation was created", d.operation_count() == 0, 0, d.operation_count())


WF_GRID = ["--param", "fast_period=5:20:5", "--param", "slow_period=20:60:10", "--where", "fast_period < slow_period"]


def _altered_copy(d, symbol, from_bar, factor):
    """data/EURUSD_1h.csv with every price from bar `from_bar` on scaled and jittered: bars no
    in-sample part before them may see."""
    src = os.path.join(d.data, "EURUSD_1h.csv")
    with open(src) as f:
        lines = f.read().splitlines()
    out = [lines[0]]
    for i, line in enumerate(lines[1:]):
        if i >= from_bar:
            t, o, h, l, c, v = line.split(",")
            wiggle = 1 + 0.002 * ((i * 7919) % 13 - 6)
            o, h, l, c = (float(x) * factor * wiggle for x in (o, h, l, c))
            line = f"{t},{o:.5f},{max(o, h, l, c):.5f},{min(o, h, l, c):.5f},{c:.5f},{v}"
        out.append(line)
    with open(os.path.join(d.data, f"{symbol}_1h.csv"), "w") as f:
        f.write("\n".join(out) + "\n")


@scenario("WF1", "Walk-forward: choices made on training bars only, checked against single backtests")
def wf1(d):
    def run(symbol):
        rc, out, err = d.ctl("walkforward", "run", "sma_crossover", symbol, "1h", *WF_GRID, "--train", "1000", "--test", "500", "--json", timeout=300)
        d.check(f"ktrdrctl walkforward run on {symbol} exits 0", rc == 0, "exit 0", f"{rc}: {err[-600:]}")
        return json.loads(out)

    base = run("EURUSD")
    windows = base["windows"]
    d.check("7 windows of 1,000 training and 500 test bars, each with a choice and both runs' metrics",
            base["windows_total"] == 7 and len(windows) == 7 and all(w["params"] and w["in_sample"] and w["out_of_sample"] for w in windows)
            and all(w["train_bars"] == 1000 and w["test_bars"] == 500 for w in windows), "7 complete windows",
            [(w["index"], w["params"], w.get("error")) for w in windows])
    d.check("test parts tile: each starts where its training ends", all(w["train_end"] < w["test_start"] for w in windows)
            and all(a["test_end"] < b["test_start"] for a, b in zip(windows, windows[1:])), "ordered, non-overlapping", windows[:2])
    # The independent check: window 2's choice is the best in-sample Sharpe among single backtests over its dates.
    w = windows[2]
    best, best_params = None, None
    for fast in range(5, 25, 5):
        for slow in range(20, 70, 10):
            if fast >= slow:
                continue
            op = d.start_backtest(strategy_name="sma_crossover", symbol="EURUSD", timeframe="1h", start_date=w["train_start"],
                                  end_date=w["train_end"], params={"fast_period": fast, "slow_period": slow})
            m = d.wait_status(op, ["completed", "failed"])["result_summary"]
            if m and m["sharpe_ratio"] is not None and (best is None or m["sharpe_ratio"] > best):
                best, best_params = m["sharpe_ratio"], {"fast_period": fast, "slow_period": slow}
    d.check("window 3's choice is the best of the same grid run as single backtests on its training dates",
            w["params"] == best_params and w["in_sample"]["sharpe_ratio"] == best, best_params, (w["params"], w["in_sample"]["sharpe_ratio"]))
    op = d.start_backtest(strategy_name="sma_crossover", symbol="EURUSD", timeframe="1h", start_date=w["test_start"], end_date=w["test_end"],
                          params=w["params"])
    single = d.wait_status(op, ["completed", "failed"])["result_summary"]
    d.check("its test run is that backtest on the test dates, bit for bit", single == w["out_of_sample"], "identical metrics",
            {k: (single[k], w["out_of_sample"][k]) for k in single if single[k] != w["out_of_sample"][k]})
    s = base["out_of_sample"]
    d.check("the stitched out-of-sample record covers every test bar", s["bars"] == 7 * 500 and s["trades"] > 0, "3,500 bars", s)
    d.figure("walk-forward efficiency", s.get("walk_forward_efficiency"))

    # Calendar windows: three months in sample, one out, a month apart.
    rc, out, err = d.ctl("walkforward", "run", "sma_crossover", "EURUSD", "1h", *WF_GRID, "--train", "3mo", "--test", "1mo", "--json", timeout=300)
    d.check("walkforward run --train 3mo --test 1mo exits 0", rc == 0, "exit 0", f"{rc}: {err[-600:]}")
    spans = json.loads(out)["windows"] if rc == 0 else []
    day = lambda iso: datetime.datetime.fromisoformat(iso.replace("Z", "+00:00"))  # noqa: E731

    def months_after(t, n):
        y, m = divmod(t.year * 12 + t.month - 1 + n, 12)
        return t.replace(year=y, month=m + 1, day=min(t.day, calendar.monthrange(y, m + 1)[1]))
    first = day(spans[0]["train_start"]) if spans else None
    ok = [day(w["test_start"]) >= months_after(first, 3 + w["index"]) > day(w["train_end"])
          and months_after(first, 4 + w["index"]) > day(w["test_end"]) for w in spans]
    d.check("each window: 3 calendar months in sample then 1 out, counted from the first window's start", len(spans) >= 5 and all(ok),
            ">= 5 windows, every boundary on its month", [(w["train_start"], w["test_start"], w["test_end"], w["train_bars"]) for w in spans])
    d.figure("calendar windows (3mo/1mo)", len(spans))

    # No look-ahead: alter every bar from window 4's test part on; windows 1-4 must choose the same.
    first_test = 60 + 3 * 500 + 1000
    _altered_copy(d, "EURUSDX", first_test, 1.07)
    altered = run("EURUSDX")
    same = [a["params"] == b["params"] and a["in_sample"] == b["in_sample"] for a, b in zip(windows[:4], altered["windows"][:4])]
    d.check("altering the bars after a window's training leaves that window's choice and in-sample metrics unchanged (windows 1-4)",
            all(same), [True] * 4, same)
    d.check("while the altered bars do change what runs on them", altered["windows"][3]["out_of_sample"] != windows[3]["out_of_sample"],
            "window 4's test metrics differ", altered["windows"][3]["out_of_sample"]["total_return_pct"])


@scenario("WF2", "Walk-forward of the neural strategy: each window trains its own model on its training bars only")
def wf2(d):
    epochs = ["--set", "model.training.epochs=40", "--set", "decisions.confidence_threshold=0.45"]

    def run(symbol):
        rc, out, err = d.ctl("walkforward", "run", "neuro_mean_reversion", symbol, "1h", *epochs, "--train", "1500", "--test", "500",
                             "--json", timeout=600)
        d.check(f"ktrdrctl walkforward run neuro_mean_reversion {symbol} exits 0", rc == 0, "exit 0", f"{rc}: {err[-600:]}")
        return json.loads(out) if rc == 0 else {"windows": [], "windows_total": 0}

    base = run("EURUSD")
    windows = base["windows"]
    d.check("6 windows of 1,500 training and 500 test bars, each with its own model and both runs' metrics",
            base["windows_total"] == 6 and len(windows) == 6 and all(w.get("model") and w["in_sample"] and w["out_of_sample"] for w in windows)
            and all(w["train_bars"] == 1500 and w["test_bars"] == 500 and w["params"] == {} for w in windows), "6 complete windows",
            [(w["index"], w.get("model"), w.get("error")) for w in windows])
    metas = []
    for w in windows:
        with open(os.path.join(d.models, w["model"], "metadata.json")) as f:
            metas.append(json.load(f))
    d.check("each model's metadata says it was trained on exactly its window's training bars",
            all(m["data"]["start"] == w["train_start"] and m["data"]["end"] == w["train_end"] and m["data"]["bars"] == w["train_bars"]
                and m["training"]["epochs"] == 40 for m, w in zip(metas, windows)),
            "data.start/end/bars = the window's", [(m["data"], w["train_start"], w["train_end"]) for m, w in zip(metas, windows)][:2])
    rc, out, err = d.ctl("models", "list", "--json", "--models-dir", d.models)
    listed = {m["path"] for m in json.loads(out)} if rc == 0 else set()
    d.check("models list shows them by the names the windows give", all(any(p.endswith(w["model"]) for p in listed) for w in windows),
            "6 window models listed", sorted(listed)[:8])

    # The independent check: window 3's runs are single backtests with its model on its dates.
    w = windows[2]
    for part, start, end in (("in_sample", w["train_start"], w["train_end"]), ("out_of_sample", w["test_start"], w["test_end"])):
        op = d.start_backtest(strategy_name="neuro_mean_reversion", symbol="EURUSD", timeframe="1h", start_date=start, end_date=end,
                              model_path=w["model"], overrides={"model.training.epochs": 40, "decisions.confidence_threshold": 0.45})
        single = d.wait_status(op, ["completed", "failed"])["result_summary"]
        d.check(f"window 3's {part.replace('_', '-')} metrics are a backtest with --model-path {w['model']} on those dates, bit for bit",
                single == w[part], "identical metrics", {k: (single[k], w[part][k]) for k in (single or {}) if single[k] != w[part][k]})
    s = base["out_of_sample"]
    d.check("the stitched out-of-sample record covers every test bar, and the models trade", s["bars"] == 6 * 500 and s["trades"] > 0,
            "3,000 bars, trades > 0", s)
    d.figure("neural walk-forward: out-of-sample return % / trades", f"{s['total_return_pct']:.2f} / {s['trades']}")

    # No look-ahead: alter every bar from window 4's test part on (bar 200 + 3 * 500 + 1500).
    _altered_copy(d, "EURUSDX", 3200, 1.07)
    altered = run("EURUSDX")["windows"]

    def model_bytes(w):
        with open(os.path.join(d.models, w["model"], "model.pt"), "rb") as f:
            return hashlib.sha256(f.read()).hexdigest()
    same = [model_bytes(a) == model_bytes(b) and a["in_sample"] == b["in_sample"] for a, b in zip(windows[:4], altered[:4])]
    d.check("altering the bars after a window's training leaves its model byte-identical and its in-sample metrics unchanged (windows 1-4)",
            len(altered) == 6 and all(same), [True] * 4, same)
    d.check("while the altered bars do change what runs on them", len(altered) == 6 and altered[3]["out_of_sample"] != windows[3]["out_of_sample"],
            "window 4's test metrics differ", altered[3]["out_of_sample"]["total_return_pct"] if len(altered) == 6 else None)
    rc, out, err = d.ctl("walkforward", "run", "neuro_mean_reversion", "EURUSD", "1h", "--param", "period=5:10:5", "--train", "1500", "--test", "500")
    d.check("a grid for a model strategy is refused, saying why", rc != 0 and "trains one model per window" in err, "refused", f"{rc}: {err[-300:]}")
