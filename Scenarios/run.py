#!/usr/bin/env python3
"""Runs the scenario suite against freshly started real processes.

    python3 Scenarios/run.py            # all scenarios
    python3 Scenarios/run.py B1.3 C1    # some, by id

Each scenario gets its own ktrdrd (temporary state directory, free port). A failing check
prints what it expected, what it got, and the tail of the daemon's log. The last line is
`scenarios: N passed, N failed`. Each scenario's document gets its "Actual Results" section
rewritten with the date, PASS/FAIL per check and the figures measured.
"""
import datetime
import os
import re
import sys
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import KTRDRCTL, ROOT, CheckFailed, Daemon  # noqa: E402
from scenarios import SCENARIOS  # noqa: E402

DOCS = os.path.dirname(os.path.abspath(__file__))


def write_actual(sid, title, ok, daemon, seconds, failure):
    doc = os.path.join(DOCS, f"{sid}.md")
    if not os.path.exists(doc):
        return
    with open(doc) as f:
        text = f.read()
    lines = [f"## Actual Results", "", f"Run {datetime.datetime.utcnow():%Y-%m-%d %H:%M} UTC: **{'PASS' if ok else 'FAIL'}** in {seconds:.1f} s", ""]
    for name, passed, expected, got in daemon.checks:
        lines.append(f"- {'PASS' if passed else 'FAIL'}: {name}")
    if failure:
        lines.append(f"- FAIL: {failure.splitlines()[0]}")
    for k, v in daemon.figures.items():
        lines.append(f"- measured: {k} = {v}")
    text = re.sub(r"## Actual Results.*", "\n".join(lines) + "\n", text, flags=re.S)
    with open(doc, "w") as f:
        f.write(text)


def main(ids):
    if not os.access(KTRDRCTL, os.X_OK):
        print(f"error: {KTRDRCTL} not built (swift build -c release)")
        print("scenarios: 0 passed, 1 failed")
        return 1
    chosen = ids or list(SCENARIOS)
    unknown = [i for i in chosen if i not in SCENARIOS]
    if unknown:
        print(f"unknown scenario ids: {unknown}; known: {', '.join(SCENARIOS)}")
        return 2
    passed = failed = 0
    for sid in chosen:
        title, fn, long_data, strategies = SCENARIOS[sid]
        d = Daemon(extra_strategies=strategies)
        t0 = time.time()
        failure = None
        try:
            if long_data:
                d.generate(200_000)
            d.start()
            fn(d)
        except CheckFailed as e:
            failure = str(e)
        except Exception:
            failure = "unexpected error:\n" + traceback.format_exc()
        seconds = time.time() - t0
        if failure:
            failed += 1
            print(f"FAIL {sid} {title} ({seconds:.1f} s)")
            print("  " + failure.replace("\n", "\n  "))
            print("  daemon log tail:\n    " + d.log_tail().replace("\n", "\n    "))
        else:
            passed += 1
            figures = ", ".join(f"{k} {v}" for k, v in d.figures.items())
            print(f"PASS {sid} {title} ({seconds:.1f} s){': ' + figures if figures else ''}")
        write_actual(sid, title, failure is None, d, seconds, failure)
        d.cleanup()
    print(f"scenarios: {passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
