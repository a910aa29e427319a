"""Shared by the benchmark scripts: the machine line and the Markdown table."""
import os
import time


def print_table(rows):
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    print(f"Machine: {cpu}, {os.cpu_count()} cores; {time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC\n")
    print("| measurement | value | note |")
    print("|---|---:|---|")
    for r in rows:
        print(f"| {r[0]} | {r[1]} | {r[2]} |")
