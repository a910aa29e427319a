"""The executable checks, one function per scenario document (see <ID>.md)."""
import fcntl
import json
import os
import re
import signal
import socket
import sqlite3
import stat
import struct
import subprocess
import termios
import time

from harness import KTRDRCTL, ROOT, CheckFailed, Daemon

SCENARIOS = {}
# Long enough runs to observe progress and cancel mid-way: 200,000 generated 1-minute bars,
# replayed at 50,000 bars/s, take 4 s (the engine alone would take ~4 ms).
LONG = dict(strategy_name="sma_crossover", symbol="SYNTHS", timeframe="1m", pace_bars_per_second=50000)


def scenario(sid, title, needs_long_data=False, strategies=None):
    def register(fn):
        SCENARIOS[sid] = (title, fn, needs_long_data, strategies)
        return fn
    return register


@scenario("B1.1", "Local backtest, smoke")
def b1_1(d):
    t0 = time.time()
    rc, out, err = d.ctl("backtest", "run", "neuro_mean_reversion", "EURUSD", "1h", "--start", "2017-06-01", "--end", "2017-06-30", "--json")
    elapsed = time.time() - t0
    d.check("ktrdrctl backtest run exits 0", rc == 0, "exit 0", f"exit {rc}: {err}")
    result = json.loads(out)
    for key in ("total_return", "sharpe_ratio", "max_drawdown", "total_trades", "win_rate"):
        d.check(f"metrics has {key}", key in result["metrics"], key, sorted(result["metrics"]))
    d.check("one month of hourly bars traded", 400 <= result["bars"] <= 560, "400..560 bars", result["bars"])
    d.check("the neural strategy ran", result["strategy"] == "neuro_mean_reversion", "neuro_mean_reversion", result["strategy"])
    d.check("whole scenario under 5 s", elapsed < 5, "< 5 s", f"{elapsed:.2f} s")
    op = re.search(r"op_backtesting_\d{8}_\d{6}_[0-9a-f]{8}", err)
    d.check("operation id printed", op is not None, "op_backtesting_… on stderr", err)
    d.check("log shows the local bridge registered for the operation",
            re.search(r"operation_id=" + op.group(0) + r".*registered local progress bridge", d.log()) is not None,
            f"registered local progress bridge … {op.group(0)}", d.log_tail(5))
    d.figure("wall time", f"{elapsed:.2f} s")
    d.figure("bars", result["bars"])


@scenario("B1.2", "Local progress tracking", needs_long_data=True)
def b1_2(d):
    op = d.start_backtest(**LONG)
    seen, items, steps = [], [], []
    deadline = time.time() + 30
    while time.time() < deadline:
        rc, out, _ = d.ctl("ops", "show", op)
        r = json.loads(out)
        p = r["progress"]
        if not seen or p["percentage"] != seen[-1]:
            seen.append(p["percentage"])
            items.append(p["items_processed"])
            steps.append(p["current_step"])
        if r["status"] in ("completed", "failed", "cancelled"):
            break
        time.sleep(0.15)
    d.check("completed", r["status"] == "completed", "completed", r["status"])
    d.check("at least 5 distinct percentages", len(set(seen)) >= 5, ">= 5", seen)
    d.check("percentages increase", seen == sorted(seen), "monotonic", seen)
    d.check("items_processed grows to items_total", items == sorted(items) and r["progress"]["items_processed"] == r["progress"]["items_total"] == 200000,
            "monotonic, ending at 200000", (items[-3:], r["progress"]))
    d.check("current_step names the bar date", any(re.search(r"\[\d{4}-\d{2}-\d{2} \d{2}:\d{2}\]", s) for s in steps), "Backtesting SYNTHS 1m [YYYY-MM-DD HH:MM]", steps[:3])
    d.check("ends at 100", r["progress"]["percentage"] == 100, 100, r["progress"]["percentage"])
    d.figure("distinct percentages observed", len(set(seen)))
    d.figure("duration", f"{r['duration_seconds']:.2f} s")


@scenario("B1.3", "Local cancellation", needs_long_data=True)
def b1_3(d):
    op = d.start_backtest(**LONG)
    while True:
        r = d.operation(op)
        if r["progress"]["percentage"] >= 30 or r["status"] != "running":
            break
        time.sleep(0.02)
    d.check("cancel mid-run (30-70 %)", 30 <= r["progress"]["percentage"] <= 70, "30..70", r["progress"]["percentage"])
    t0 = time.time()
    rc, out, err = d.ctl("ops", "cancel", op)
    d.check("ktrdrctl ops cancel exits 0", rc == 0, "exit 0", err)
    r1 = d.operation(op)
    d.check("status cancelled", r1["status"] == "cancelled", "cancelled", r1["status"])
    m = re.search(r"cancel_latency_ms=([0-9.]+) operation_id=" + op, d.log())
    d.check("engine log shows the cancel latency", m is not None, "cancel_latency_ms=…", d.log_tail(5))
    latency = float(m.group(1))
    d.check("cancelled within 100 ms of the request", latency < 100, "< 100 ms", f"{latency} ms")
    time.sleep(0.4)
    r2 = d.operation(op)
    d.check("progress frozen afterwards", r2["progress"] == r1["progress"] and r2["status"] == "cancelled", r1["progress"], r2["progress"])
    op2 = d.start_backtest(strategy_name="sma_crossover", symbol="GOOG", timeframe="1d")
    d.check("a new backtest completes right after", d.wait_status(op2, ["completed", "failed"])["status"] == "completed", "completed", "?")
    d.figure("cancel latency (engine log)", f"{latency} ms")
    d.figure("cancelled at", f"{r1['progress']['percentage']} %")


BAD_STRATEGY = """name: broken
plugin: neuro
indicators:
  - name: rsi
    feature_id: rsi_14
    period: 14
fuzzy_sets:
  rsi_14:
    oversold: {type: triangular, parameters: [35, 20, 0]}
model:
  type: mlp
training:
  seed: 1
"""


@scenario("B1.4", "Invalid strategy config", strategies={"broken": BAD_STRATEGY})
def b1_4(d):
    before = d.operation_count()
    status, body = d.curl("POST", "/api/v1/backtests/start", {"strategy_name": "broken", "symbol": "EURUSD", "timeframe": "1h"})
    d.check("synchronous 422", status == 422, 422, f"{status} {body}")
    d.check("error code strategy_invalid", body["error"]["code"] == "strategy_invalid", "strategy_invalid", body["error"])
    paths = {p["path"] for p in body["error"].get("problems", [])}
    d.check("missing section reported with its path", "data" in paths, "data", paths)
    d.check("bad fuzzy set reported with its YAML path", "fuzzy_sets.rsi_14.oversold.parameters" in paths, "fuzzy_sets.rsi_14.oversold.parameters", paths)
    lines = [p.get("line") for p in body["error"]["problems"] if p["path"].startswith("fuzzy_sets")]
    d.check("line of the bad set given", lines == [9], [9], lines)
    d.check("no operation created", d.operation_count() == before, before, d.operation_count())
    d.check("daemon healthy", d.healthy(), "healthy", "unhealthy")
    d.figure("problems reported", len(body["error"]["problems"]))


@scenario("B2.1", "Backtest via API, local mode")
def b2_1(d):
    status, body = d.curl("POST", "/api/v1/backtests/start", {"strategy_name": "sma_crossover", "symbol": "EURUSD", "timeframe": "1h"})
    d.check("200 started", status == 200 and body["success"] and body["status"] == "started" and body["mode"] == "local",
            "{success: true, status: started, mode: local}", body)
    op = body["operation_id"]
    status, listed = d.curl("GET", "/api/v1/operations?operation_type=backtesting")
    d.check("listed by operation_type=backtesting", op in [o["operation_id"] for o in listed["data"]["operations"]], op, listed)
    d.check("completes", d.wait_status(op, ["completed", "failed"])["status"] == "completed", "completed", "?")
    status, res = d.curl("GET", f"/api/v1/operations/{op}/results")
    d.check("results 200", status == 200, 200, status)
    data = res["data"]
    d.check("result has trades", len(data["trades"]) > 10, "> 10 trades", len(data["trades"]))
    curve = data["equity_curve"]
    d.check("result has the equity curve", len(curve["equity"]) == data["bars"] == len(curve["timestamps"]) == len(curve["drawdown_pct"]),
            data["bars"], len(curve["equity"]))
    d.figure("trades", len(data["trades"]))


@scenario("B2.2", "API progress polling", needs_long_data=True)
def b2_2(d):
    op = d.start_backtest(**LONG)
    states, pcts, items = [], [], []
    deadline = time.time() + 30
    while time.time() < deadline:
        r = d.operation(op)
        states.append(r["status"])
        pcts.append(r["progress"]["percentage"])
        items.append(r["progress"]["items_processed"])
        if r["status"] in ("completed", "failed", "cancelled"):
            break
        time.sleep(0.1)
    d.check("running then completed", "running" in states and states[-1] == "completed", "running … completed", states[:3] + states[-2:])
    d.check("percentage monotonic", pcts == sorted(pcts), "monotonic", pcts)
    d.check("items_processed monotonic", items == sorted(items), "monotonic", items)
    d.check("several distinct readings", len(set(pcts)) >= 5, ">= 5", len(set(pcts)))
    d.figure("polls", len(pcts))


@scenario("B2.3", "API cancellation", needs_long_data=True)
def b2_3(d):
    op = d.start_backtest(**LONG)
    time.sleep(0.8)
    status, body = d.curl("DELETE", f"/api/v1/operations/{op}")
    d.check("DELETE 200", status == 200, 200, f"{status} {body}")
    d.check("status cancelled", body["data"]["status"] == "cancelled", "cancelled", body["data"]["status"])
    status2, body2 = d.curl("DELETE", f"/api/v1/operations/{op}")
    d.check("second DELETE idempotent", status2 == 200 and body2["data"]["status"] == "cancelled", "200 cancelled", f"{status2} {body2}")
    done = d.start_backtest(strategy_name="sma_crossover", symbol="GOOG", timeframe="1d")
    d.check("a new backtest starts and completes", d.wait_status(done, ["completed", "failed"])["status"] == "completed", "completed", "?")
    status3, body3 = d.curl("DELETE", f"/api/v1/operations/{done}")
    d.check("DELETE on a completed operation is 409", status3 == 409 and body3["error"]["code"] == "operation_finished", "409 operation_finished",
            f"{status3} {body3}")
    d.check("the completed one is unchanged", d.operation(done)["status"] == "completed", "completed", d.operation(done)["status"])


@scenario("B2.4", "API error: missing data")
def b2_4(d):
    before = d.operation_count()
    status, body = d.curl("POST", "/api/v1/backtests/start", {"strategy_name": "sma_crossover", "symbol": "NOSUCH", "timeframe": "1h"})
    d.check("404 data_not_found", status == 404 and body["error"]["code"] == "data_not_found", "404 data_not_found", f"{status} {body}")
    d.check("names the file path looked for", os.path.join(d.data, "NOSUCH_1h.csv") in body["error"]["message"], d.data + "/NOSUCH_1h.csv", body["error"]["message"])
    d.check("no operation created", d.operation_count() == before, before, d.operation_count())


@scenario("B4.1", "Unknown strategy")
def b4_1(d):
    status, body = d.curl("POST", "/api/v1/backtests/start", {"strategy_name": "no_such_strategy", "symbol": "EURUSD", "timeframe": "1h"})
    d.check("404 strategy_not_found", status == 404 and body["error"]["code"] == "strategy_not_found", "404 strategy_not_found", f"{status} {body}")
    d.check("names the file looked for", os.path.join(d.strategies, "no_such_strategy.yaml") in body["error"]["message"], "…/no_such_strategy.yaml", body)
    status, body = d.curl("POST", "/api/v1/backtests/start", {"strategy_name": "sma_crosover", "symbol": "EURUSD", "timeframe": "1h"})
    message = body["error"]["message"]
    d.check("a misspelled strategy gets the closest name and the list", "did you mean 'sma_crossover'?" in message
            and "strategies here:" in message and "sma_crossover" in body["error"]["details"]["available"].split(","),
            "did you mean 'sma_crossover'? strategies here: …", message)
    text = json.dumps(body)
    d.check("no stack trace", not re.search(r"Thread \d|\.swift:\d+|backtrace|Fatal", text), "plain message", text)
    rc, out, err = d.ctl("strategies", "list", "--json", "--strategies-dir", d.strategies)
    listed = {s["name"]: s for s in json.loads(out)} if rc == 0 else {}
    api = {s["name"]: s for s in d.curl("GET", "/api/v1/strategies")[1]["data"]}
    d.check("strategies list --json is what the API lists", listed == api and listed.get("sma_crossover", {}).get("valid") is True,
            "the API's list, sma_crossover valid", f"{rc} {sorted(listed)} vs {sorted(api)} {err[-200:]}")


@scenario("B4.2", "Missing data via ktrdrctl")
def b4_2(d):
    rc, out, err = d.ctl("backtest", "run", "sma_crossover", "NOSUCH", "1d")
    d.check("exit code 4 (not found)", rc == 4, 4, f"{rc}: {err}")
    d.check("message names the path", "data_not_found" in err and "NOSUCH_1d.csv" in err, "error [data_not_found] … NOSUCH_1d.csv", err)
    rc, out, err = d.ctl("backtest", "run", "sma_crossover", "GOG", "1d")
    d.check("a misspelled symbol gets the closest data set and the list", rc == 4 and "did you mean 'GOOG 1d'?" in err and "data sets here:" in err,
            "exit 4, did you mean 'GOOG 1d'?", f"{rc}: {err}")
    p = subprocess.run([KTRDRCTL, "backtst", "run"], capture_output=True, text=True)
    d.check("a misspelled command: exit 2 (usage), the closest command and the list", p.returncode == 2
            and "did you mean 'backtest'?" in p.stderr and "commands:" in p.stderr, "exit 2, did you mean 'backtest'?", f"{p.returncode}: {p.stderr}")
    rc, out, err = d.ctl("backtest", "run", "sma_crossover", "GOOG", "1d", "--data-dir", d.data)
    d.check("--data-dir on a daemon run is refused, not ignored (exit 2)", rc == 2 and "--data-dir apply to --local runs" in err,
            "exit 2 naming --data-dir", f"{rc}: {err[:300]}")
    p = subprocess.run([KTRDRCTL, "backtest", "run", "--local", "sma_crossover", "GOOG", "1d", "--pace", "100"], capture_output=True, text=True)
    d.check("--pace on a --local run is refused (exit 2)", p.returncode == 2 and "--pace apply to runs through the daemon" in p.stderr,
            "exit 2 naming --pace", f"{p.returncode}: {p.stderr[:300]}")
    p = subprocess.run([KTRDRCTL, "backtest", "run", "sma_crossover", "GOOG", "1d", "--no-such-option"], capture_output=True, text=True)
    d.check("an unknown option exits 2, as --help documents", p.returncode == 2 and "--no-such-option" in p.stderr, "exit 2", f"{p.returncode}: {p.stderr[:300]}")


@scenario("B4.3", "Cancellation during execution via ktrdrctl (Ctrl-C)", needs_long_data=True)
def b4_3(d):
    p = subprocess.Popen([KTRDRCTL, "backtest", "run", "sma_crossover", "SYNTHS", "1m", "--pace", "50000", "--home", d.home],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(1.5)
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=15)
    d.check("exit code 130", p.returncode == 130, 130, f"{p.returncode}: {err[-400:]}")
    op = re.search(r"op_backtesting_\d{8}_\d{6}_[0-9a-f]{8}", err).group(0)
    d.check("operation cancelled", d.operation(op)["status"] == "cancelled", "cancelled", d.operation(op)["status"])
    d.check("'cancelled' is reported once", len(re.findall(r"\bcancelled\b", err)) == 1, "one line", err[-400:])
    d.check("no terminal control codes into a pipe", "\x1b" not in err and "\r" not in err, "plain lines", repr(err[-200:]))


@scenario("B4.6", "The progress bar on an 80-column terminal redraws in place")
def b4_6(d):
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    p = subprocess.Popen([KTRDRCTL, "backtest", "run", "sma_crossover", "EURUSD", "1h", "--pace", "20000", "--home", d.home],
                         stdout=subprocess.PIPE, stderr=slave, text=True)
    os.close(slave)
    err = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the last writer closed
            break
        if not chunk:
            break
        err += chunk
    p.wait(timeout=60)
    os.close(master)
    frames = [f.split(b"\r\n")[0].split(b"\n")[0].decode() for f in err.split(b"\r\x1b[2K")[1:]]
    drawn = [f for f in frames if "bars/s" in f or "…" in f]
    d.check("frames are drawn", len(drawn) >= 3, ">= 3 frames", len(drawn))
    d.check("each frame fits in 80 columns", all(len(f) < 80 for f in drawn), "< 80 characters", max(map(len, drawn), default=0))
    d.check("no frame shows 1970 or a zero ETA before any bar", not any("1970-01-01" in f or "ETA 0.0s" in f for f in drawn[:1]),
            "— for date and ETA", drawn[:1])
    d.figure("frames on the 80-column terminal", len(drawn))


@scenario("B4.5", "Insufficient data")
def b4_5(d):
    status, body = d.curl("POST", "/api/v1/backtests/start", {"strategy_name": "sma_crossover", "symbol": "GOOG", "timeframe": "1d",
                                                             "start_date": "2004-08-25", "end_date": "2004-12-31"})
    d.check("422 insufficient_data", status == 422 and body["error"]["code"] == "insufficient_data", "422 insufficient_data", f"{status} {body}")
    d.check("states needed and found", body["error"]["details"] == {"needed": "30", "found": "4"}, {"needed": "30", "found": "4"}, body["error"])


@scenario("C1", "Control socket", needs_long_data=True)
def c1(d):
    path = os.path.join(d.home, "run", "ktrdrd.sock")
    mode = stat.S_IMODE(os.stat(path).st_mode)
    d.check("socket file mode 0600", mode == 0o600, "0o600", oct(mode))
    s = socket.socket(socket.AF_UNIX)
    s.connect(path)
    f = s.makefile("rwb")
    greeting = json.loads(f.readline())
    d.check("greeting", greeting["ktrdr"]["protocol"] == 1 and "operation.watch" in greeting["ktrdr"]["capabilities"], "ktrdr greeting", greeting)
    f.write(b"{not json\n"); f.flush()
    err = json.loads(f.readline())
    d.check("malformed line gets an error reply", err["error"]["code"] == "invalid_json", "invalid_json", err)
    f.write(b'{"id": 1, "method": "daemon.status", "unknown_field": true}\n'); f.flush()
    ok = json.loads(f.readline())
    d.check("connection still usable; unknown fields ignored", ok["id"] == 1 and ok["result"]["pid"] == d.pid(), "daemon.status reply", ok)
    f.write(b"x" * 300000 + b"\n"); f.flush()
    big = json.loads(f.readline())
    d.check("oversized line refused", big["error"]["code"] == "line_too_long", "line_too_long", big)
    f.write(json.dumps({"id": 2, "method": "backtest.start", "params": LONG}).encode() + b"\n"); f.flush()
    op = json.loads(f.readline())["result"]["operation_id"]
    f.write(json.dumps({"id": "w", "method": "operation.watch", "params": {"operation_id": op}}).encode() + b"\n"); f.flush()
    first = json.loads(f.readline())
    d.check("watch sends the state at once", first["id"] == "w" and first["result"]["operation_id"] == op, "reply with the record", first)
    events, t0 = [], time.time()
    while True:
        line = json.loads(f.readline())
        events.append((time.time(), line))
        if line["data"]["status"] in ("completed", "failed", "cancelled"):
            break
    rate = len(events) / max(1e-9, events[-1][0] - t0)
    d.check("progress events stream", len(events) >= 10 and all(e[1]["event"] == "operation.progress" for e in events), ">= 10 events", len(events))
    d.check("coalesced to about 10 a second", rate <= 12, "<= 12/s", f"{rate:.1f}/s")
    d.check("terminal state is the last event", events[-1][1]["data"]["status"] == "completed", "completed", events[-1][1]["data"]["status"])
    d.check("admin call logs the peer uid", re.search(r"method=daemon.status peer_uid=" + str(os.getuid()), d.log()) is not None,
            f"peer_uid={os.getuid()}", d.log_tail(5))
    d.figure("watch events", len(events))
    d.figure("event rate", f"{rate:.1f}/s")


# Scenarios about the service as a whole (restart, shutdown, security, bad input, API contract).
from scenarios_service import *  # noqa: E402,F401,F403
from scenarios_plugins import *  # noqa: E402,F401,F403
from scenarios_research import *  # noqa: E402,F401,F403
from scenarios_remote import *  # noqa: E402,F401,F403
from scenarios_deploy import *  # noqa: E402,F401,F403
from scenarios_isolation import *  # noqa: E402,F401,F403
from scenarios_protocol import *  # noqa: E402,F401,F403
from scenarios_metrics import *  # noqa: E402,F401,F403
from scenarios_data import *  # noqa: E402,F401,F403
