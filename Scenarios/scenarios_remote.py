"""Scenarios of remote execution (B3.x and the fault scenarios RW1-RW5): a real server and
real workers, each worker in its own network namespace over a veth link (cluster.py)."""
import hashlib
import json
import os
import signal
import subprocess
import time

from cluster import TOKEN, make_workers, start_server
from harness import CheckFailed
from scenarios import scenario

# EURUSD 1h, 2017-06-01 .. 2017-07-31: 1,032 bars, for quick runs.
RANGE = {"strategy_name": "sma_crossover", "symbol": "EURUSD", "timeframe": "1h", "start_date": "2017-06-01", "end_date": "2017-07-31"}
# 200,000 generated 1m bars (the engine reports every 2,048 bars, 1 %), paced to last 10 s.
LONG = {"strategy_name": "sma_crossover", "symbol": "SYNTHS", "timeframe": "1m", "pace_bars_per_second": 20000}


def _timed_get(d, path):
    t0 = time.perf_counter()
    status, body = d.curl("GET", path)
    return status, body, (time.perf_counter() - t0) * 1000


def _cleanup(workers):
    for w in workers:
        try:
            w.cleanup()
        except Exception:
            pass


def _wait(pred, timeout, what):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(0.05)
    raise CheckFailed(f"timed out after {timeout}s waiting for {what}")


def _dispatched(d, op):
    """The remote operation id once the server has dispatched `op`."""
    return _wait(lambda: (d.operation(op) or {}).get("metadata", {}).get("remote_operation_id"), 20, "dispatch")


def _results_digest(d, op):
    status, body = d.curl("GET", f"/api/v1/operations/{op}/results")
    d.check(f"results of {op} readable", status == 200, "200", f"{status} {str(body)[:300]}")
    return hashlib.sha256(json.dumps(body["data"], sort_keys=True).encode()).hexdigest(), body["data"]


@scenario("B3.1", "Worker, direct start: the worker runs a backtest on its own")
def b3_1(d):
    [w] = make_workers(d, 1)
    try:
        subprocess.run(["cp", os.path.join(d.data, "EURUSD_1h.csv"), w.data], check=True)
        w.start()
        status, health = w.curl("GET", "/health")
        d.check("worker /health says role worker, with capacity, plugins and cache", status == 200 and health.get("role") == "worker"
                and health["worker"]["capacity"] >= 1 and any(p["name"] == "sma_crossover" for p in health["worker"]["plugins"]) and "blobs" in health["worker"],
                "role worker, capacity, plugins, blobs", health)
        status, body = w.curl("POST", "/api/v1/backtests/start", RANGE, headers=["Authorization: Bearer wrong"])
        d.check("a call without the worker token is refused", status == 401, "401", f"{status} {body}")
        op = w.start_backtest(**RANGE)
        r = w.wait_status(op, ("completed", "failed"), timeout=30)
        d.check("direct run completes on the worker", r["status"] == "completed" and r["metadata"]["mode"] == "local", "completed, mode local", r["status"])
        d.check("the worker's log shows its local run", "backtest computed and stored" in w.log() and op in w.log(), "local run logged", w.log_tail())
        status, local = d.curl("POST", "/api/v1/backtests/start", RANGE)
        d.wait_status(local["operation_id"], ("completed",))
        d.check("same result as the server computes locally", _results_digest(w, op)[0] == _results_digest(d, local["operation_id"])[0], "equal", "differs")
    finally:
        _cleanup([w])


@scenario("B3.2", "Server to worker proxy (USE_REMOTE_BACKTEST_SERVICE), data shipped once by SHA-256")
def b3_2(d):
    [w] = make_workers(d, 1)
    try:
        w.start()
        d.check("the worker's data directory is empty", os.listdir(w.data) == [], "[]", os.listdir(w.data))
        start_server(d, [], env={"USE_REMOTE_BACKTEST_SERVICE": "true", "REMOTE_BACKTEST_SERVICE_URL": w.url})
        d.check("startup log states remote mode and the worker", "mode=remote" in d.log() and w.url in d.log(), f"mode=remote workers={w.url}", d.log_tail(5))
        op = d.start_backtest(**RANGE)
        r = d.wait_status(op, ("completed", "failed"), timeout=30)
        m = r["metadata"]
        d.check("server operation is remote with worker_url, remote_operation_id, attempt", r["status"] == "completed" and m["mode"] == "remote"
                and m["worker_url"] == w.url and m.get("remote_operation_id") and m.get("attempt") == 1, "completed remote on the worker", r)
        remote = w.operation(m["remote_operation_id"])
        d.check("both ids queryable; the worker's names the server's", remote is not None and remote["status"] == "completed"
                and remote["metadata"]["server_operation_id"] == op, op, remote and remote["metadata"])
        log = d.log()
        d.check("server log shows the remote registration and no local run", "remote operation registered" in log and "backtest computed and stored" not in log,
                "registered, no local run", [line for line in log.splitlines() if op in line][-4:])
        sha = hashlib.sha256(open(os.path.join(d.data, "EURUSD_1h.csv"), "rb").read()).hexdigest()
        status, health = w.curl("GET", "/health")
        d.check("the worker now holds the data file by its SHA-256", sha in health["worker"]["blobs"], sha, health["worker"]["blobs"])
        d.check("the data file was sent once", log.count("data file sent to worker") == 1, 1, log.count("data file sent to worker"))
        op2 = d.start_backtest(**dict(RANGE, start_date="2017-08-01", end_date="2017-09-30"))
        d.wait_status(op2, ("completed",), timeout=30)
        d.check("a second run on the same file sends nothing", d.log().count("data file sent to worker") == 1, 1, d.log().count("data file sent to worker"))
        rc, out, err = d.ctl("backtest", "run", "sma_crossover", "EURUSD", "1h", "--start", "2017-06-01", "--end", "2017-07-31", "--remote", "--json")
        d.check("ktrdrctl backtest run --remote gives the same metrics", rc == 0 and json.loads(out)["metrics"]["final_equity"] == r["result_summary"]["final_equity"],
                r["result_summary"]["final_equity"], f"exit {rc}: {err[-300:]}")
        rc, out, err = d.ctl("workers", "--home", d.home)
        d.check("ktrdrctl workers lists the worker, healthy", rc == 0 and w.url in out and " yes " in out, w.url, out + err)
        status, local = d.curl("POST", "/api/v1/backtests/start", dict(RANGE, mode="local"))
        d.wait_status(local["operation_id"], ("completed",))
        d.check("the remote result equals the local one, byte for byte", _results_digest(d, op)[0] == _results_digest(d, local["operation_id"])[0], "equal", "differs")
    finally:
        _cleanup([w])


@scenario("B3.3", "Remote progress through the server within one point of the worker's; result stored on the server", needs_long_data=True)
def b3_3(d):
    [w] = make_workers(d, 1)
    try:
        w.start()
        start_server(d, [w])
        op = d.start_backtest(**LONG, mode="remote")
        rid = _dispatched(d, op)
        gaps, reads, seen = [], [], []
        while True:
            before = w.operation(rid)["progress"]["percentage"]
            status, body, ms = _timed_get(d, f"/api/v1/operations/{op}")
            after = w.operation(rid)["progress"]["percentage"]
            reads.append(ms)
            through = body["data"]["progress"]["percentage"]
            seen.append(through)
            gaps.append(max(0, before - through, through - after))
            if body["data"]["status"] in ("completed", "failed", "cancelled"):
                break
            time.sleep(0.1)
        reads.sort()
        d.check("progress seen moving through the server", len(set(seen)) >= 5, ">= 5 distinct values", sorted(set(seen))[:20])
        d.check("progress through the server within 1 point of the worker's", max(gaps) <= 1.0, "<= 1.0", max(gaps))
        d.check("each proxied read under 50 ms", reads[-1] < 50, "< 50 ms", f"max {reads[-1]:.1f} ms")
        r = d.wait_status(op, ("completed",), timeout=30)
        d.check("both reach 100", r["progress"]["percentage"] == 100 and w.operation(rid)["progress"]["percentage"] == 100, 100, r["progress"])
        digest, _ = _results_digest(d, op)
        w.stop()
        d.check("the result is stored on the server (read with the worker stopped)", _results_digest(d, op)[0] == digest, digest, "differs")
        d.figure("proxied read p50", f"{reads[len(reads) // 2]:.1f} ms")
        d.figure("proxied read max", f"{reads[-1]:.1f} ms")
        d.figure("max progress gap", f"{max(gaps):.2f} points")
    finally:
        _cleanup([w])


@scenario("B3.4", "Remote cancellation: DELETE on the server cancels on the worker", needs_long_data=True)
def b3_4(d):
    [w] = make_workers(d, 1)
    try:
        w.start()
        start_server(d, [w])
        op = d.start_backtest(**LONG, mode="remote")
        rid = _dispatched(d, op)
        _wait(lambda: w.operation(rid)["progress"]["percentage"] > 5, 20, "progress on the worker")
        t0 = time.perf_counter()
        status, body = d.curl("DELETE", f"/api/v1/operations/{op}")
        ms = (time.perf_counter() - t0) * 1000
        d.check("DELETE through the server answers cancelled", status == 200 and body["data"]["status"] == "cancelled", "200 cancelled", f"{status} {body}")
        d.check("cancel through the server under 250 ms", ms < 250, "< 250 ms", f"{ms:.0f} ms")
        d.check("the worker's operation is cancelled too", w.operation(rid)["status"] == "cancelled", "cancelled", w.operation(rid)["status"])
        d.check("both stay healthy", d.healthy() and w.healthy(), "both ok", "")
        d.figure("cancel through the server", f"{ms:.0f} ms")
    finally:
        _cleanup([w])


@scenario("RW1", "Worker lost: kill -9 mid-run retries on the other worker, then worker_lost when none is left", needs_long_data=True)
def rw1(d):
    workers = make_workers(d, 2)
    try:
        for w in workers:
            w.start()
        start_server(d, workers, "--worker-deadline", "2", "--remote-retries", "1")
        op = d.start_backtest(**LONG, mode="remote")
        first = _wait(lambda: (d.operation(op) or {}).get("metadata", {}).get("worker_url"), 20, "dispatch")
        victim = next(w for w in workers if w.url == first)
        other = next(w for w in workers if w is not victim)
        time.sleep(0.5)
        victim.kill9()
        t0 = time.time()
        r = d.wait_status(op, ("completed", "failed"), timeout=40)
        d.check("retried on the other worker and completed (attempt 2)", r["status"] == "completed" and r["metadata"]["attempt"] == 2
                and r["metadata"]["worker_url"] == other.url, f"completed on {other.url}, attempt 2", r["metadata"])
        d.check("the server logged the lost worker", "worker lost" in d.log(), "worker lost", d.log_tail(5))
        op2 = d.start_backtest(**LONG, mode="remote")
        _dispatched(d, op2)
        time.sleep(0.5)
        other.kill9()
        t1 = time.time()
        r2 = d.wait_status(op2, ("completed", "failed"), timeout=30)
        lost_after = time.time() - t1
        d.check("with no worker left: failed worker_lost", r2["status"] == "failed" and r2["error"]["code"] == "worker_lost", "failed worker_lost", r2.get("error"))
        d.check("within the deadline (2 s) plus a second", lost_after < 3.5, "< 3.5 s", f"{lost_after:.1f} s")
        d.check("the server stays healthy", d.healthy(), "ok", "")
        d.figure("worker_lost after kill -9", f"{lost_after:.1f} s")
    finally:
        _cleanup(workers)


@scenario("RW2", "Partition: the link cut mid-run, the attempt is superseded on the other worker; after healing the stale result is refused", needs_long_data=True)
def rw2(d):
    workers = make_workers(d, 2)
    try:
        if any(w.host is None for w in workers):
            raise CheckFailed("partition needs network namespaces (root and `ip`); not available here")
        for w in workers:
            w.start()
        start_server(d, workers, "--worker-deadline", "2", "--remote-retries", "1")
        op = d.start_backtest(**LONG, mode="remote")
        m = _wait(lambda: (d.operation(op) or {}).get("metadata", {}).get("remote_operation_id") and d.operation(op)["metadata"], 20, "dispatch")
        cut = next(w for w in workers if w.url == m["worker_url"])
        stale_id, stale_lease = m["remote_operation_id"], m["remote_lease"]
        time.sleep(0.5)
        cut.host.cut()
        r = d.wait_status(op, ("completed", "failed"), timeout=40)
        d.check("completed once, on attempt 2, on the other worker", r["status"] == "completed" and r["metadata"]["attempt"] == 2
                and r["metadata"]["worker_url"] != cut.url, "completed attempt 2", r["metadata"])
        digest, _ = _results_digest(d, op)
        cut.host.heal()
        stale = _wait(lambda: (cut.operation(stale_id) or {}).get("status") in ("cancelled", "failed", "completed") and cut.operation(stale_id), 10, "stale attempt's end")
        d.check("the cut worker stopped the stale attempt itself (lease expired)", stale["status"] == "cancelled" and stale["error"]["code"] == "lease_expired",
                "cancelled lease_expired", stale.get("error"))
        status, body = cut.curl("GET", f"/api/v1/operations/{stale_id}/result-package", headers=[f"X-Ktrdr-Lease: {stale_lease}", f"Authorization: Bearer {TOKEN}"])
        d.check("the stale attempt's result is refused (409)", status == 409, "409", f"{status} {str(body)[:200]}")
        time.sleep(1)
        r2 = d.operation(op)
        d.check("the operation is unchanged after healing (ended once)", r2["status"] == "completed" and r2["metadata"]["attempt"] == 2
                and r2["completed_at"] == r["completed_at"] and _results_digest(d, op)[0] == digest, r["completed_at"], r2["completed_at"])
    finally:
        _cleanup(workers)


@scenario("RW3", "Server restart (kill -9) mid-run: the remote operation is re-adopted and completes", needs_long_data=True)
def rw3(d):
    [w] = make_workers(d, 1)
    try:
        w.start()
        start_server(d, [w])
        op = d.start_backtest(**LONG, mode="remote")
        rid = _dispatched(d, op)
        time.sleep(0.5)
        d.kill9()
        start_server(d, [w])
        d.check("the server log says it re-adopted the operation", "remote operation re-adopted" in d.log(), "re-adopted", d.log_tail(5))
        r = d.wait_status(op, ("completed", "failed"), timeout=40)
        d.check("re-adopted and completed, same remote operation", r["status"] == "completed" and r["metadata"]["remote_operation_id"] == rid,
                "completed", r.get("error") or r["status"])
        d.check("its result is stored on the server", _results_digest(d, op)[0] == _results_digest(w, rid)[0], "equal", "differs")
    finally:
        _cleanup([w])


@scenario("RW4", "Two workers: eight backtests spread across both; each equals its local run")
def rw4(d):
    workers = make_workers(d, 2)
    try:
        for w in workers:
            w.start()
        start_server(d, workers)
        ops = [d.start_backtest(**RANGE, mode="remote", pace_bars_per_second=2000, params={"fast_period": 5 + i, "slow_period": 30}) for i in range(8)]
        records = [d.wait_status(op, ("completed", "failed"), timeout=60) for op in ops]
        d.check("all eight completed", all(r["status"] == "completed" for r in records), "8 completed", [r["status"] for r in records])
        per = {w.url: sum(1 for r in records if r["metadata"]["worker_url"] == w.url) for w in workers}
        d.check("spread across both workers", all(n >= 2 for n in per.values()), ">= 2 each", per)
        status, local = d.curl("POST", "/api/v1/backtests/start", dict(RANGE, mode="local", params={"fast_period": 12, "slow_period": 30}))
        d.wait_status(local["operation_id"], ("completed",))
        d.check("a remote result equals its local run", _results_digest(d, ops[7])[0] == _results_digest(d, local["operation_id"])[0], "equal", "differs")
        d.figure("per worker", per)
    finally:
        _cleanup(workers)


@scenario("RW5", "Workers register themselves (--server): used while they heartbeat, forgotten when they stop")
def rw5(d):
    [w] = make_workers(d, 1)
    try:
        server_host = "10.231.1.1" if w.host else "127.0.0.1"
        d.stop()
        time.sleep(0.2)
        env = dict(os.environ, KTRDR_WORKER_TOKEN=TOKEN, KTRDR_API_TOKEN="scenario-api-token-abcdef")
        from harness import KTRDRCTL
        p = subprocess.run([KTRDRCTL, "daemon", "start", "--home", d.home, "--http", f"0.0.0.0:{d.port}", "--data-dir", d.data, "--strategies-dir", d.strategies,
                            "--models-dir", d.models, "--plugins-dir", d.plugins, "--", "--accept-workers", "--worker-deadline", "2"],
                           capture_output=True, text=True, env=env, timeout=60)
        d.check("server starts accepting registrations", p.returncode == 0, "exit 0", p.stdout + p.stderr)
        d.token = "scenario-api-token-abcdef"
        w.start("--server", f"http://{server_host}:{d.port}", "--heartbeat", "0.5")
        listed = _wait(lambda: [x for x in d.curl("GET", "/api/v1/workers")[1]["data"] if x["healthy"]], 15, "registration")
        d.check("the worker registered itself", listed[0]["url"] == w.url and listed[0]["source"] == "registered", w.url, listed)
        status, body = d.curl("POST", "/api/v1/workers/register", raw=json.dumps(listed[0]["info"]), headers=["Authorization: Bearer wrong"])
        d.check("a registration without the worker token is refused", status == 401, "401", f"{status} {body}")
        status, body = d.curl("POST", "/api/v1/workers/register", raw=json.dumps(dict(listed[0]["info"], colour="blue")),
                              headers=[f"Authorization: Bearer {TOKEN}"])
        d.check("a registration with a field the server does not know is refused naming it, not ignored",
                status == 400 and body["error"]["code"] == "unknown_field" and "'colour'" in body["error"]["message"], "400 unknown_field 'colour'", f"{status} {body}")
        op = d.start_backtest(**RANGE, mode="remote")
        r = d.wait_status(op, ("completed", "failed"), timeout=30)
        d.check("a backtest runs on the registered worker", r["status"] == "completed" and r["metadata"]["worker_url"] == w.url, w.url, r.get("error") or r["metadata"])
        w.stop()
        _wait(lambda: d.curl("GET", "/api/v1/workers")[1]["data"] == [], 15, "the silent worker to be forgotten")
        d.check("the server forgot the stopped worker", "worker forgotten" in d.log(), "worker forgotten", d.log_tail(5))
    finally:
        _cleanup([w])


@scenario("RW6", "A sweep across two workers and the server: same trials as a local sweep; a worker killed mid-sweep loses nothing", needs_long_data=True)
def rw6(d):
    workers = make_workers(d, 2)
    try:
        for w in workers:
            w.start()
        start_server(d, workers, "--worker-deadline", "2")
        grid = ["--param", "fast_period=5:40:1", "--param", "slow_period=50:200:10", "--where", "fast_period < slow_period"]
        run = ["sweep", "run", "sma_crossover", "SYNTHS", "1m", *grid, "--json"]
        rc, out, err = d.ctl(*run, "--remote", timeout=600)
        d.check("the distributed sweep completes", rc == 0, "exit 0", err[-400:])
        remote = json.loads(out)
        rc, out, err = d.ctl(*run, "--no-remote", timeout=600)
        local = json.loads(out)
        by_index = {t["index"]: t for t in local["trials"]}
        d.check("every trial equals the local sweep's, metric by metric", len(remote["trials"]) == len(local["trials"]) == 576
                and all(by_index[t["index"]]["metrics"] == t["metrics"] for t in remote["trials"]), 576, len(remote["trials"]))
        shares = {w.url: 0 for w in workers}
        for line in d.log().splitlines():
            if "worker's share of the sweep" in line:
                for url in shares:
                    if url in line:
                        shares[url] += int(line.split("trials=")[1].split()[0])
        d.check("both workers took trials", all(n > 0 for n in shares.values()), "> 0 each",
                f"{shares}; " + " | ".join(line[-220:] for line in d.log().splitlines() if "sweep" in line or "worker" in line)[-1500:])
        d.figure("worker shares", shares)
        # A worker killed mid-sweep: its batch goes back to the queue; nothing lost or doubled.
        status, body = d.curl("POST", "/api/v1/sweeps/start", {"strategy_name": "sma_crossover", "symbol": "SYNTHS", "timeframe": "1m", "mode": "remote",
                                                               "grid": {"fast_period": "5:40:1", "slow_period": "50:200:10"}, "where": "fast_period < slow_period"})
        d.check("second sweep starts", status == 200, 200, body)
        op = body["operation_id"]
        _wait(lambda: "sweep distributed" in d.log().split(op)[-1] or (d.operation(op) or {}).get("status") == "completed", 30, "distribution")
        time.sleep(1.0)
        workers[0].kill9()
        r = d.wait_status(op, ("completed", "failed"), timeout=600)
        status, res = d.curl("GET", f"/api/v1/operations/{op}/results")
        indices = sorted(t["index"] for t in res["data"]["trials"])
        d.check("completed with every trial exactly once", r["status"] == "completed" and indices == list(range(576)), "0..575 once",
                f"{r['status']}, {len(indices)} trials, {len(set(indices))} distinct")
        d.check("same best trial as the local sweep", res["data"]["trials"][0]["params"] == local["trials"][0]["params"], local["trials"][0]["params"], res["data"]["trials"][0]["params"])
    finally:
        _cleanup(workers)
