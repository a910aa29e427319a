#!/usr/bin/env python3
"""Runs the scenario suite against freshly started real processes.

    python3 Scenarios/run.py            # all scenarios
    python3 Scenarios/run.py B1.3 C1    # some, by id

Each scenario gets its own ktrdrd (temporary state directory, free port). A failing check
prints what it expected, what it got, and the tail of the daemon's log. The last line is
`scenarios: N passed, N failed`. Each scenario's actual results (date, PASS/FAIL per check, the
figures measured) go to `Scenarios/results/<ID>.md` (or `$KTRDR_SCENARIO_RESULTS`), which git
ignores: running the suite never changes a tracked file.
"""
import datetime
import os
import sys
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import KTRDRCTL, ROOT, CheckFailed, Daemon  # noqa: E402
from scenarios import SCENARIOS  # noqa: E402

RESULTS = os.environ.get("KTRDR_SCENARIO_RESULTS", os.path.join(os.path.dirname(os.path.abspath(__file__)), "results"))


def write_actual(sid, title, ok, daemon, seconds, failure):
    os.makedirs(RESULTS, exist_ok=True)
    lines = [f"# {sid} — {title}: actual results", "", f"Run {datetime.datetime.utcnow():%Y-%m-%d %H:%M} UTC: **{'PASS' if ok else 'FAIL'}** in {seconds:.1f} s", ""]
    for name, passed, expected, got in daemon.checks:
        lines.append(f"- {'PASS' if passed else 'FAIL'}: {name}")
    if failure:
        lines.append(f"- FAIL: {failure.splitlines()[0]}")
    for k, v in daemon.figures.items():
        lines.append(f"- measured: {k} = {v}")
    with open(os.path.join(RESULTS, f"{sid}.md"), "w") as f:
        f.write("\n".join(lines) + "\n")


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
