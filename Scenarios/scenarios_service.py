"""Scenarios about the service as a whole: restart, shutdown, security, bad input, API contract."""
import json
import os
import signal
import sqlite3
import sys
import subprocess
import time

from harness import KTRDRCTL, CheckFailed, Daemon  # noqa: F401
from scenarios import LONG, scenario


@scenario("R1", "Restart keeps history", needs_long_data=True)
def r1(d):
    done = d.start_backtest(strategy_name="sma_crossover", symbol="EURUSD", timeframe="1h")
    before = d.wait_status(done, ["completed"])
    status, res_before = d.curl("GET", f"/api/v1/operations/{done}/results")
    d.stop()
    d.start()
    after = d.operation(done)
    d.check("completed operation survives a restart", after == before, before["status"], after)
    status, res_after = d.curl("GET", f"/api/v1/operations/{done}/results")
    d.check("its full result survives (trades and curve identical)", res_after == res_before, "identical", status)
    running = d.start_backtest(**LONG)
    time.sleep(1.0)
    d.check("running before the kill", d.operation(running)["status"] == "running", "running", d.operation(running)["status"])
    d.kill9()
    d.start()
    r = d.operation(running)
    d.check("killed run is failed/interrupted after restart", r["status"] == "failed" and r["error"]["code"] == "interrupted",
            "failed / interrupted", (r["status"], r.get("error")))
    db = sqlite3.connect(os.path.join(d.home, "ktrdr.db"))
    check = db.execute("PRAGMA integrity_check").fetchone()[0]
    db.close()
    d.check("PRAGMA integrity_check", check == "ok", "ok", check)


@scenario("X1", "Bad input everywhere: documented errors, daemon stays healthy")
def x1(d):
    cases = [
        ("malformed JSON", "POST", "/api/v1/backtests/start", "{oops", 400, "invalid_json"),
        ("wrong type", "POST", "/api/v1/backtests/start", json.dumps({"strategy_name": 5, "symbol": "GOOG", "timeframe": "1d"}), 400, "validation_error"),
        ("missing field", "POST", "/api/v1/backtests/start", json.dumps({"symbol": "GOOG", "timeframe": "1d"}), 400, "validation_error"),
        ("oversized body", "POST", "/api/v1/backtests/start", json.dumps({"strategy_name": "x" * 200000}), 413, "payload_too_large"),
        ("unknown operation id", "GET", "/api/v1/operations/op_backtesting_20990101_000000_deadbeef", None, 404, "operation_not_found"),
        ("garbage operation id", "GET", "/api/v1/operations/..%2F..%2Fetc", None, 404, "operation_not_found"),
        ("bad timeframe", "POST", "/api/v1/backtests/start", json.dumps({"strategy_name": "sma_crossover", "symbol": "GOOG", "timeframe": "2d"}), 400, "invalid_timeframe"),
        ("bad date", "POST", "/api/v1/backtests/start", json.dumps({"strategy_name": "sma_crossover", "symbol": "GOOG", "timeframe": "1d", "start_date": "2010-13-45"}), 400, "invalid_date"),
        ("bad limit", "GET", "/api/v1/operations?limit=abc", None, 400, "bad_request"),
    ]
    for field in ("strategy_name", "symbol"):
        for evil in ("../../etc/passwd", "..", "a/b", "%2e%2e"):
            body = {"strategy_name": "sma_crossover", "symbol": "GOOG", "timeframe": "1d"}
            body[field] = evil
            cases.append((f"path traversal in {field}: {evil}", "POST", "/api/v1/backtests/start", json.dumps(body), 400, "invalid_name"))
    for name, method, path, raw, want_status, want_code in cases:
        status, body = d.curl(method, path, raw=raw)
        d.check(name, status == want_status and isinstance(body, dict) and body.get("error", {}).get("code") == want_code,
                f"{want_status} {want_code}", f"{status} {body}")
    # nothing a user sends is silently ignored: unknown fields are a 400 naming them
    status, body = d.curl("POST", "/api/v1/backtests/start", {"strategy_name": "sma_crossover", "symbl": "GOOG", "timeframe": "1d", "colour": "blue"})
    message = body.get("error", {}).get("message", "") if isinstance(body, dict) else ""
    d.check("unknown fields are a 400 unknown_field naming each, with a did-you-mean", status == 400
            and body["error"]["code"] == "unknown_field" and "'colour'" in message and "'symbl' (did you mean 'symbol'?)" in message,
            "400 unknown_field naming 'colour' and 'symbl' (did you mean 'symbol'?)", f"{status} {body}")
    d.check("no operation was created for it", d.operation_count() == 0, 0, d.operation_count())
    d.check("daemon healthy afterwards", d.healthy(), "healthy", "unhealthy")
    d.figure("bad requests checked", len(cases))


@scenario("A1", "OpenAPI document covers every route and describes real responses")
def a1(d):
    import jsonschema
    status, doc = d.curl("GET", "/api/v1/openapi.json")
    d.check("served", status == 200 and doc["openapi"].startswith("3.1"), "3.1 document", status)
    routes = {("get", "/health"), ("get", "/metrics"), ("get", "/api/v1/openapi.json"), ("post", "/api/v1/backtests/start"),
              ("get", "/api/v1/operations"), ("get", "/api/v1/operations/{id}"), ("delete", "/api/v1/operations/{id}"),
              ("get", "/api/v1/operations/{id}/metrics"), ("get", "/api/v1/operations/{id}/results"), ("get", "/api/v1/strategies"),
              ("get", "/api/v1/models"), ("get", "/api/v1/plugins"), ("get", "/api/v1/health")}
    documented = {(m, p) for p, item in doc["paths"].items() for m in item if m in ("get", "post", "delete")}
    d.check("every route documented", routes <= documented, sorted(routes), sorted(routes - documented))
    components = doc["components"]

    def validate(name, instance, schema_ref):
        schema = {"$ref": schema_ref, "components": components}
        try:
            jsonschema.validate(instance, schema, cls=jsonschema.Draft202012Validator)
            d.check(f"{name} validates", True, "", "")
        except jsonschema.ValidationError as e:
            d.check(f"{name} validates", False, schema_ref, f"{e.message} at {list(e.absolute_path)}")

    s, health = d.curl("GET", "/health"); validate("GET /health", health, "#/components/schemas/Health")
    s, wrapped = d.curl("GET", "/api/v1/health"); validate("GET /api/v1/health", wrapped, "#/components/schemas/HealthEnvelope")
    s, started = d.curl("POST", "/api/v1/backtests/start", {"strategy_name": "sma_crossover", "symbol": "GOOG", "timeframe": "1d"})
    validate("POST /backtests/start", started, "#/components/schemas/Started")
    op = started["operation_id"]
    d.wait_status(op, ["completed"])
    s, one = d.curl("GET", f"/api/v1/operations/{op}"); validate("GET /operations/{id}", one, "#/components/schemas/OperationEnvelope")
    s, lst = d.curl("GET", "/api/v1/operations"); validate("GET /operations", lst, "#/components/schemas/OperationListEnvelope")
    s, met = d.curl("GET", f"/api/v1/operations/{op}/metrics"); validate("GET /operations/{id}/metrics", met, "#/components/schemas/MetricsEnvelope")
    s, res = d.curl("GET", f"/api/v1/operations/{op}/results"); validate("GET /operations/{id}/results", res, "#/components/schemas/ResultEnvelope")
    s, err = d.curl("POST", "/api/v1/backtests/start", {"strategy_name": "nope", "symbol": "GOOG", "timeframe": "1d"})
    validate("error envelope", err, "#/components/schemas/Error")
    s, conflict = d.curl("DELETE", f"/api/v1/operations/{op}"); validate("409 envelope", conflict, "#/components/schemas/Error")
    sweep = {"strategy_name": "sma_crossover", "symbol": "GOOG", "timeframe": "1d", "grid": {"fast_period": "5:15:5", "slow_period": [30, 40]}}
    validate("a sweep request", sweep, "#/components/schemas/SweepRequest")
    s, started = d.curl("POST", "/api/v1/sweeps/start", sweep); validate("POST /sweeps/start", started, "#/components/schemas/Started")
    d.wait_status(started["operation_id"], ["completed"])
    s, res = d.curl("GET", f"/api/v1/operations/{started['operation_id']}/results")
    validate("GET /operations/{id}/results of a sweep", res, "#/components/schemas/SweepResultEnvelope")
    s, text = d.curl("GET", "/metrics")
    d.check("Prometheus metrics", 'ktrdr_operations{state="completed"} 2' in text and "ktrdr_http_request_duration_seconds_bucket" in text,
            "operations by state, latency histogram", text[:300])
    check_prometheus_text(d, text)


def check_prometheus_text(d, text):
    """The exposition parsed by Prometheus' own Python parser, with promtool's naming rules."""
    try:
        from prometheus_client.parser import text_string_to_metric_families
    except ImportError:  # a python3 other than Debian's (pyenv): use the apt package (pure Python), lowest priority
        sys.path.append("/usr/lib/python3/dist-packages")
        from prometheus_client.parser import text_string_to_metric_families
    families = {f.name: f for f in text_string_to_metric_families(text)}
    problems = []
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split()
            if kind == "counter" and not name.endswith("_total"):
                problems.append(f"counter {name} without _total")
            if kind != "counter" and name.endswith("_total"):
                problems.append(f"{kind} {name} ends in _total")
            if kind == "gauge" and name.endswith(("_count", "_sum", "_bucket")):
                problems.append(f"gauge {name} ends in a histogram suffix")
    d.check("promtool's naming rules hold (counters _total, no reserved suffix on gauges)", not problems, "no problems", problems)
    requests = [s for s in families.get("ktrdr_http_requests", families.get("ktrdr_http_requests_total")).samples] \
        if ("ktrdr_http_requests" in families or "ktrdr_http_requests_total" in families) else []
    labelled = [s.labels for s in requests if s.labels.get("route") == "/api/v1/operations/{id}" and s.labels.get("method") == "GET"]
    d.check("HTTP metrics carry method, route template and status", labelled and all(set(l) >= {"method", "route", "status"} for l in labelled),
            "route=/api/v1/operations/{id}, method=GET, status", [s.labels for s in requests][:6])
    d.check("no unbounded route labels (ids fold into the template)", not any("op_" in s.labels.get("route", "") for s in requests), "templates only",
            sorted({s.labels.get("route") for s in requests}))
    info = [s for f in families.values() for s in f.samples if s.name == "ktrdr_build_info"]
    d.check("ktrdr_build_info with the version", len(info) == 1 and info[0].labels.get("version") and info[0].value == 1, "1 sample, version label",
            [(s.labels, s.value) for s in info])


@scenario("R2", "Graceful shutdown records running operations", needs_long_data=True)
def r2(d):
    op = d.start_backtest(**LONG)
    time.sleep(0.8)
    pid = d.pid()
    os.kill(pid, signal.SIGTERM)
    deadline = time.time() + 15
    while time.time() < deadline:
        try:
            os.kill(pid, 0)
            time.sleep(0.05)
        except ProcessLookupError:
            break
    d.check("ktrdrd exits on SIGTERM", time.time() < deadline, "exited", "still running")
    d.check("log shows the operations were cancelled before exit", "shutting down: cancelling operations" in d.log(), "shutting down…", d.log_tail(6))
    d.start()
    r = d.operation(op)
    d.check("the running operation was recorded as cancelled (not interrupted)", r["status"] == "cancelled", "cancelled", (r["status"], r.get("error")))


@scenario("S1", "Security defaults: loopback unless a token is set")
def s1(d):
    # The default daemon (loopback, no KTRDR_API_TOKEN): reads open, mutating calls need the
    # token it wrote to its home, which only its owner can read.
    token_file = os.path.join(d.home, "run", "http-token")
    mode = os.stat(token_file).st_mode & 0o777 if os.path.exists(token_file) else None
    d.check("without KTRDR_API_TOKEN the daemon writes a per-home token, mode 0600", mode == 0o600, "0600", mode and oct(mode))

    def call(method, path, auth):
        cmd = ["curl", "-s", "-o", "-", "-w", "\n%{http_code}", "-X", method, d.url + path] + (["-H", auth] if auth else [])
        text, _, status = subprocess.run(cmd, capture_output=True, text=True).stdout.rpartition("\n")
        return status, text
    status, _ = call("GET", "/api/v1/operations", None)
    d.check("loopback reads need no token", status == "200", "200", status)
    status, body = call("POST", "/api/v1/plugins/reload", None)
    d.check("a mutating call without the token is 401 in the envelope", status == "401" and '"unauthorized"' in body, "401 unauthorized", f"{status} {body[:200]}")
    status, body = call("DELETE", "/api/v1/operations/op_backtest_20260101_000000_00000000", "Authorization: Bearer wrong")
    d.check("a wrong token is 401 too", status == "401", "401", status)
    status, body = call("POST", "/api/v1/plugins/reload", f"Authorization: Bearer {d.home_token()}")
    d.check("with the home's token the call runs", status == "200", "200", f"{status} {body[:200]}")
    env = {k: v for k, v in os.environ.items() if k != "KTRDR_API_TOKEN"}
    p = subprocess.run([KTRDRCTL, "plugins", "reload", "--home", d.home, "--url", d.url], capture_output=True, text=True, timeout=60, env=env)
    d.check("ktrdrctl --url reads the home's token for mutating calls", p.returncode == 0, "exit 0", f"{p.returncode}: {p.stderr[-300:]}")

    ktrdrd = os.path.join(os.path.dirname(KTRDRCTL), "ktrdrd")
    port = str(__import__("harness").free_port())
    env = {k: v for k, v in os.environ.items() if k != "KTRDR_API_TOKEN"}
    p = subprocess.run([ktrdrd, "--home", d.home + "/other", "--http", f"0.0.0.0:{port}"], capture_output=True, text=True, timeout=30, env=env)
    d.check("non-loopback bind without a token is refused at startup", p.returncode != 0 and "KTRDR_API_TOKEN" in p.stderr,
            "exit != 0, message names KTRDR_API_TOKEN", f"exit {p.returncode}: {p.stderr[-300:]}")
    env["KTRDR_API_TOKEN"] = "s3cret-token"
    proc = subprocess.Popen([ktrdrd, "--home", d.home + "/tok", "--http", f"127.0.0.1:{port}", "--data-dir", d.data, "--strategies-dir", d.strategies],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    try:
        url = f"http://127.0.0.1:{port}"
        for _ in range(100):
            if subprocess.run(["curl", "-s", url + "/health"], capture_output=True).returncode == 0:
                break
            time.sleep(0.1)
        no = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", url + "/api/v1/operations"], capture_output=True, text=True).stdout
        yes = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-H", "Authorization: Bearer s3cret-token", url + "/api/v1/operations"],
                             capture_output=True, text=True).stdout
        health = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", url + "/health"], capture_output=True, text=True).stdout
        d.check("with a token, requests without it get 401", no == "401", "401", no)
        d.check("with the bearer token, 200", yes == "200", "200", yes)
        d.check("/health stays open for probes", health == "200", "200", health)
    finally:
        proc.terminate()
        proc.wait(timeout=15)


@scenario("S2", "Operating the daemon: SIGHUP reloads plugins and reopens the log; a busy port fails at once")
def s2(d):
    pid = d.pid()
    log = os.path.join(d.home, "log", "ktrdrd.log")
    rotated = log + ".1"
    os.rename(log, rotated)  # what logrotate does before it signals
    os.kill(pid, signal.SIGHUP)
    deadline = time.time() + 10
    while time.time() < deadline and not (os.path.exists(log) and "SIGHUP" in open(log).read()):
        time.sleep(0.05)
    alive = subprocess.run(["kill", "-0", str(pid)]).returncode == 0
    d.check("SIGHUP does not end the daemon", alive and d.healthy(), "alive and healthy", f"alive={alive}")
    text = open(log).read() if os.path.exists(log) else ""
    d.check("SIGHUP reopens the log file at its path (after a rotation)", "SIGHUP: log reopened, plugins reloaded" in text,
            "a new ktrdrd.log with the SIGHUP line", text[-300:] or "(no new log file)")
    mode = os.stat(log).st_mode & 0o777 if os.path.exists(log) else None
    d.check("the reopened log is private (0600)", mode == 0o600, "0600", mode and oct(mode))
    d.check("the rotated file is left alone", "SIGHUP" not in open(rotated).read(), "no SIGHUP line in ktrdrd.log.1", "")
    op = d.start_backtest(strategy_name="sma_crossover", symbol="GOOG", timeframe="1d")
    d.check("the daemon still runs backtests after SIGHUP", d.wait_status(op, ["completed", "failed"])["status"] == "completed", "completed", "")

    import socket
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    holder.listen(1)
    busy = holder.getsockname()[1]
    try:
        t0 = time.time()
        p = subprocess.run([KTRDRCTL, "daemon", "start", "--home", d.home + "/busy", "--http", f"127.0.0.1:{busy}", "--data-dir", d.data,
                            "--strategies-dir", d.strategies, "--models-dir", d.models, "--plugins-dir", d.plugins],
                           capture_output=True, text=True, timeout=60)
        rc, err = p.returncode, p.stderr
        seconds = time.time() - t0
    finally:
        holder.close()
    d.check("daemon start on a busy port fails, naming the port", rc != 0 and f"127.0.0.1:{busy}" in err and "port_in_use" in err,
            f"exit != 0, port_in_use 127.0.0.1:{busy}", f"exit {rc}: {err[-400:]}")
    d.check("and says so at once, not after the 30 s wait", seconds < 10, "< 10 s", f"{seconds:.1f} s")
    d.figure("busy-port failure reported after", f"{seconds:.2f} s")


@scenario("M1", "Memory goes back to the system once the daemon is idle")
def m1(d):
    d.generate(1_000_000, symbol="BIG")
    pid = d.pid()

    def rss_mb():
        with open(f"/proc/{pid}/status") as f:
            return next(int(line.split()[1]) for line in f if line.startswith("VmRSS")) / 1024
    for _ in range(4):  # a burst: 8 backtests of 1M bars, two at a time
        ops = [d.start_backtest(strategy_name="sma_crossover", symbol="BIG", timeframe="1m") for _ in range(2)]
        for op in ops:
            d.check("burst backtest completes", d.wait_status(op, ["completed", "failed"])["status"] == "completed", "completed", op)
    busy = rss_mb()
    deadline = time.time() + 20
    while time.time() < deadline and "idle: free memory returned" not in d.log():
        time.sleep(0.2)
    time.sleep(0.3)
    idle = rss_mb()
    line = next((line for line in d.log().splitlines() if "idle: free memory returned" in line), "")
    d.check("after 5 s without work the daemon releases its free heap", line != "", "an 'idle: free memory returned' log line", d.log_tail(5))
    d.check("resident memory falls by at least a third", idle < busy * 2 / 3, f"< {busy * 2 / 3:.0f} MB", f"{busy:.0f} -> {idle:.0f} MB")
    d.figure("RSS after an 8-backtest burst / when idle", f"{busy:.0f} MB / {idle:.0f} MB")


@scenario("X2", "Full disk: a start that cannot be recorded is refused; nothing accepted is lost")
def x2(d):
    d.check("runs as root (mounts a tmpfs)", os.geteuid() == 0, "uid 0", os.geteuid())
    d.stop()  # this scenario runs its own ktrdrd, with its state on an 8 MB tmpfs
    state = os.path.join(d.home, "state")
    os.makedirs(state)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m,mode=700", "tmpfs", state], check=True)
    out = open(os.path.join(d.home, "ktrdrd-x2.log"), "w")
    filler = os.path.join(state, "filler")

    def launch():
        p = subprocess.Popen([os.path.join(os.path.dirname(KTRDRCTL), "ktrdrd"), "--home", state, "--http", f"127.0.0.1:{d.port}",
                              "--data-dir", d.data, "--strategies-dir", d.strategies, "--models-dir", d.models, "--plugins-dir", d.plugins],
                             stdout=out, stderr=out)
        for _ in range(200):
            try:
                if d.healthy():
                    # This daemon's home is the tmpfs: its mutating calls need the token it wrote there.
                    with open(os.path.join(state, "run", "http-token")) as f:
                        d.token = f.read().strip()
                    return p
            except Exception:
                pass
            time.sleep(0.05)
        raise CheckFailed("ktrdrd on the tmpfs did not start")

    def fill():
        try:
            with open(filler, "ab") as f:
                while True:
                    f.write(b"\0" * 65536)
                    f.flush()
        except OSError:  # full (even opening can fail once the daemon's writes took the last blocks)
            pass

    proc = launch()
    try:
        first = d.start_backtest(strategy_name="sma_crossover", symbol="GOOG", timeframe="1d")
        d.check("a backtest completes on the small disk", d.wait_status(first, ["completed", "failed"])["status"] == "completed", "completed",
                d.operation(first))
        fill()
        status, body = d.curl("POST", "/api/v1/backtests/start", {"strategy_name": "sma_crossover", "symbol": "GOOG", "timeframe": "1d"})
        code = body.get("error", {}).get("code") if isinstance(body, dict) else None
        d.check("a start on a full disk is refused with 507 storage_full", status == 507 and code == "storage_full", "507 storage_full",
                f"{status} {body}")
        listed = d.curl("GET", "/api/v1/operations?limit=100")[1]["data"]["total_count"]
        d.check("no operation exists for the refused start", listed == 1, 1, listed)
        # Accepted with room, then the disk fills while it runs: its end must not be lost.
        os.remove(filler)
        paced = d.start_backtest(strategy_name="sma_crossover", symbol="EURUSD", timeframe="1h", pace_bars_per_second=4000)
        time.sleep(0.3)
        fill()
        ended = d.wait_status(paced, ["completed", "failed", "cancelled"], timeout=30)
        d.check("an operation that ends on a full disk is visible in a terminal state", ended["status"] in ("completed", "failed"),
                "completed or failed", ended["status"])
        os.remove(filler)
        time.sleep(2.5)  # the daemon retries the record's write every 2 s
        proc.terminate()
        proc.wait(timeout=30)
        proc = launch()
        after = d.operation(paced)
        d.check("after space returns and a restart, the operation is still there, ended",
                after is not None and after["status"] in ("completed", "failed") and after["status"] == ended["status"],
                ended["status"], after and (after["status"], after.get("error")))
        d.check("the first result is intact", d.curl("GET", f"/api/v1/operations/{first}/results?equity_curve=false")[0] == 200, 200, "")
        d.figure("ended on the full disk as", f"{ended['status']} {(ended.get('error') or {}).get('code', '')}".strip())
    finally:
        d.token = None
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        subprocess.run(["umount", state], check=False)
