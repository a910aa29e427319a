#!/usr/bin/env python3
"""Isolation benchmark (issue 13): a 1M-bar backtest in a worker process of the daemon
(--isolation process) against on the daemon's own threads (--isolation none), side by side.

    python3 scripts/bench_isolation.py      (after: swift build -c release)

data/SYNTH_1m.csv (1M generated bars), sma_crossover, fees 0.001. Each daemon runs the job
twice first (data cache warm; in a worker process the file is in its blob store and cache),
then 9 times, alternating between the two daemons; wall time from the start call to the
completed record (polled every 5 ms). Prints a Markdown table.
"""
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_remote import K, ROOT, RUN, Api, job, start  # noqa: E402


def main():
    data = os.path.join(ROOT, "data", "SYNTH_1m.csv")
    if not os.path.exists(data):
        subprocess.run([K, "data", "generate", "--bars", "1000000", "--symbol", "SYNTH", "--data-dir", os.path.join(ROOT, "data")], check=True)
    tmp = tempfile.mkdtemp(prefix="ktrdr-bench-iso-")
    homes = {"none": os.path.join(tmp, "none"), "process": os.path.join(tmp, "process")}
    apis = {}
    try:
        for i, (mode, home) in enumerate(homes.items()):
            os.makedirs(os.path.join(home, "data"))
            shutil.copy(data, os.path.join(home, "data"))
            start(home, f"127.0.0.1:{18400 + i}", ["--isolation", mode], {})
            apis[mode] = Api("127.0.0.1", 18400 + i)
            job(apis[mode])
            job(apis[mode])
        times = {m: [] for m in homes}
        for _ in range(9):
            for m in homes:
                times[m].append(job(apis[m])[0])
        a, b = statistics.median(times["none"]), statistics.median(times["process"])
        print(f"machine: {os.cpu_count()} cores, {time.strftime('%Y-%m-%d')}; 1M bars, data cache warm")
        print()
        print("| isolation | median of 9 | runs (ms) |")
        print("|---|---|---|")
        for m in homes:
            print(f"| {m} | {statistics.median(times[m]) * 1000:.0f} ms | {', '.join(f'{x * 1000:.0f}' for x in times[m])} |")
        print(f"| overhead of a worker process | {(b - a) * 1000:+.0f} ms, {(b / a - 1) * 100:+.1f} % | target < 5 % |")
    finally:
        for home in homes.values():
            subprocess.run([K, "daemon", "stop", "--home", home], capture_output=True)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
