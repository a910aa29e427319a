#!/usr/bin/env python3
"""Fuzzes a running ktrdrd's control socket: mutated JSON-lines requests over several
connections, each read concurrently. Checks that every line gets exactly one reply (or is
skipped as blank), that no reply is a 500, and that the daemon stays up and answers.

    python3 scripts/fuzz_socket.py --home ~/.ktrdr [--lines 50000] [--connections 4] [--seed 1]

Prints the figures (lines sent, replies, error codes seen, RSS before and after).
"""
import argparse
import collections
import json
import os
import random
import socket
import sys
import threading
import time

METHODS = ["backtest.start", "training.start", "sweep.start", "walkforward.start", "operations.list", "operation.get", "operation.cancel",
           "operation.metrics", "operation.results", "strategies.list", "models.list", "plugins.list", "workers.list", "daemon.status"]
VALUES = [None, True, False, 0, -1, 1.5, 2**63, -2**63 - 1, 1e308, "", "x" * 300, "../../etc/passwd", "op_backtesting_20260101_000000_00000000",
          "GOOG", "1d", "sma_crossover", "\u0000", "\ud7ff\u00e9", [], {}, [1, 2], {"a": {"b": {"c": []}}}]
FIELDS = ["strategy_name", "symbol", "timeframe", "start_date", "end_date", "operation_id", "cursor", "limit", "offset", "params", "grid",
          "train", "test", "equity_curve", "status", "initial_capital", "commission", "pace_bars_per_second", "symbl"]


def line(rng, i):
    """One request line: mostly well-formed envelopes with hostile params, some raw garbage."""
    kind = rng.random()
    if kind < 0.08:
        return bytes(rng.randrange(256) for _ in range(rng.randrange(1, 200))).replace(b"\n", b" ")
    request = {"id": i, "method": rng.choice(METHODS + ["nope", "", "daemon.shutdown_typo"])}
    if rng.random() < 0.9:
        request["params"] = {rng.choice(FIELDS): rng.choice(VALUES) for _ in range(rng.randrange(0, 5))}
    if rng.random() < 0.05:
        request["params"] = rng.choice(VALUES)
    text = json.dumps(request).encode()
    if kind < 0.16:  # truncated or corrupted JSON
        cut = rng.randrange(1, len(text))
        text = text[:cut] if rng.random() < 0.5 else text[:cut] + b"}" + text[cut:]
    if "daemon.shutdown" in text.decode(errors="replace") and b"typo" not in text:
        text = text.replace(b"daemon.shutdown", b"daemon.status")  # never stop the daemon under test
    return text


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        return next(int(x.split()[1]) for x in f if x.startswith("VmRSS")) / 1024


def connection(path, lines, results):
    s = socket.socket(socket.AF_UNIX)
    s.connect(path)
    f = s.makefile("rb")
    f.readline()  # greeting
    replies = []
    expected = sum(1 for x in lines if x.strip(b" \t"))

    def reader():
        while len(replies) < expected:
            raw = f.readline()
            if not raw:
                break
            replies.append(json.loads(raw))
    t = threading.Thread(target=reader)
    t.start()
    for x in lines:
        s.sendall(x + b"\n")
    t.join(timeout=300)
    s.close()
    results.append((expected, replies))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--home", default=os.path.expanduser(os.environ.get("KTRDR_HOME", "~/.ktrdr")))
    ap.add_argument("--lines", type=int, default=50000)
    ap.add_argument("--connections", type=int, default=4)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    path = os.path.join(a.home, "run", "ktrdrd.sock")
    pid = int(open(os.path.join(a.home, "run", "ktrdrd.pid")).read())
    rng = random.Random(a.seed)
    per = a.lines // a.connections
    batches = [[line(rng, c * per + i) for i in range(per)] for c in range(a.connections)]
    before = rss_mb(pid)
    t0 = time.time()
    results = []
    threads = [threading.Thread(target=connection, args=(path, b, results)) for b in batches]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    took = time.time() - t0
    expected = sum(e for e, _ in results)
    replies = [r for _, rs in results for r in rs]
    codes = collections.Counter(r["error"]["code"] if "error" in r else "ok" for r in replies)
    statuses = collections.Counter(r["error"].get("status") for r in replies if "error" in r)
    alive = os.path.exists(f"/proc/{pid}")
    s = socket.socket(socket.AF_UNIX)
    s.connect(path)
    f = s.makefile("rwb")
    f.readline()
    f.write(b'{"id": "last", "method": "daemon.status"}\n')
    f.flush()
    answered = json.loads(f.readline()).get("id") == "last"
    print(json.dumps({"lines": a.lines, "connections": a.connections, "seconds": round(took, 1), "replies": len(replies), "expected": expected,
                      "codes": dict(codes.most_common()), "statuses": {str(k): v for k, v in statuses.items()},
                      "rss_mb_before": round(before, 1), "rss_mb_after": round(rss_mb(pid), 1), "alive": alive, "answers_after": answered}, indent=1))
    ok = alive and answered and len(replies) == expected and 500 not in statuses
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
