#!/usr/bin/env python3
"""Issue-4 benchmarks in one run (release build): the plugin ABI against compiled-in code,
batched inference in ktrdrd against Python's torch on the same TorchScript file and rows,
neuro_mean_reversion over 1M generated bars end to end through a daemon, and training time per
epoch on EURUSD 1h against the same MLP trained in Python. Prints a Markdown table.

    python3 scripts/bench_neuro.py [--runs 7]
Uses /usr/bin/python3 (Debian's python3-torch) for the Python side."""
import argparse, datetime, json, os, platform, shutil, statistics, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REL = os.path.join(ROOT, ".build", "release")
K = os.path.join(REL, "ktrdrctl")
MODEL = "neuro_mean_reversion/EURUSD_1h_v1"

TORCH_SIDE = r'''
import json, statistics, sys, time, torch
torch.set_num_threads(1)
model = torch.jit.load(sys.argv[1]); model.eval()
rows, runs = int(sys.argv[2]), int(sys.argv[3])
g = torch.Generator().manual_seed(42)
x = torch.rand(rows, 18, generator=g, dtype=torch.float64)
def infer():
    with torch.inference_mode():
        for s in range(0, rows, 65536):
            torch.softmax(model(x[s:s + 65536].to(torch.float32)), 1).to(torch.float64)
infer(); ts = []
for _ in range(runs):
    t0 = time.perf_counter(); infer(); ts.append(time.perf_counter() - t0)
# The same MLP trained as ktrdrd does: 3441 rows x 18, batch 32, Adam 1e-3, dropout 0.2.
n = 3441
X = torch.rand(n, 18, generator=g); Y = torch.randint(0, 3, (n,), generator=g)
net = torch.nn.Sequential(torch.nn.Linear(18, 50), torch.nn.ReLU(), torch.nn.Dropout(0.2),
                          torch.nn.Linear(50, 25), torch.nn.ReLU(), torch.nn.Dropout(0.2), torch.nn.Linear(25, 3))
opt = torch.optim.Adam(net.parameters(), lr=1e-3); epochs = []
for e in range(10):
    t0 = time.perf_counter(); net.train()
    for idx in torch.randperm(n, generator=g).split(32):
        loss = torch.nn.functional.cross_entropy(net(X[idx]), Y[idx]); opt.zero_grad(); loss.backward(); opt.step()
    net.eval()
    with torch.no_grad(): (net(X).argmax(1) == Y).float().mean()
    epochs.append(time.perf_counter() - t0)
print(json.dumps({"inference_median_s": statistics.median(ts), "epoch_median_s": statistics.median(epochs)}))
'''


def run(*args, **kw):
    return subprocess.run(args, capture_output=True, text=True, check=True, cwd=ROOT, **kw)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=7)
    a = ap.parse_args()
    run("swift", "build", "-c", "release")
    if not os.path.exists(os.path.join(ROOT, "data", "SYNTH_1m.csv")):
        run(K, "data", "generate", "--bars", "1000000")

    bench = [json.loads(l) for l in run(os.path.join(REL, "ktrdr-bench"), "--sizes", "1000000", "--repeats", str(max(a.runs, 9)),
                                        "--json").stdout.splitlines() if l.startswith("{")]
    by = {b["bench"]: b for b in bench}
    py = json.loads(run("/usr/bin/python3", "-c", TORCH_SIDE, os.path.join(ROOT, "models", MODEL, "model.pt"), "1000000",
                        str(a.runs)).stdout)

    home = tempfile.mkdtemp(prefix="ktrdr-bench-")
    models = os.path.join(home, "models")
    shutil.copytree(os.path.join(ROOT, "models"), models)
    run(K, "daemon", "start", "--home", home, "--http", "127.0.0.1:18777", "--models-dir", models)
    try:
        walls = []
        for i in range(a.runs + 1):
            t0 = time.perf_counter()
            run(K, "backtest", "run", "neuro_mean_reversion", "SYNTH", "1m", "--model-path", MODEL, "--home", home, "--json")
            walls.append(time.perf_counter() - t0)
        cold, warm = walls[0], statistics.median(walls[1:])
        epochs = []
        for _ in range(3):
            out = run(K, "train", "neuro_mean_reversion", "EURUSD", "1h", "--home", home, "--json").stdout
            record = json.loads(out[:out.rindex("}") + 1])
            t = record["metadata"]["training_result"]["metadata"]["training"]
            epochs.append(t["seconds"] / t["epochs_run"])
    finally:
        run(K, "daemon", "stop", "--home", home)
        shutil.rmtree(home, ignore_errors=True)

    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    print(f"Machine: {cpu}, {os.cpu_count()} cores; {platform.platform()}; {datetime.datetime.utcnow():%Y-%m-%d %H:%M} UTC\n")
    print("| measurement | value | comparison (same run) |")
    print("|---|---:|---|")
    s, r = by["signals_via_plugin_abi"], by["run_via_plugin_abi"]
    print(f"| sma_crossover signals, 1M bars, through the plugin C ABI | {s['median_s']*1000:.2f} ms | compiled in: {s['compiled_in_median_ms']} ms, overhead {s['overhead_pct']} % |")
    print(f"| sma_crossover whole run, 1M bars, through the plugin C ABI | {r['median_s']*1000:.2f} ms | compiled in: {r['compiled_in_median_ms']} ms, overhead {r['overhead_pct']} % |")
    m = by["model_inference"]
    print(f"| inference alone, 1M rows x 18, shipped model, ktrdrd (torch plugin) | {m['rate']/1e6:.2f} M rows/s | Python torch.jit.load, same file and batches: {1e6/py['inference_median_s']/1e6:.2f} M rows/s |")
    print(f"| neuro_mean_reversion, 1M generated bars, through the daemon (wall, warm, median of {a.runs}) | {warm*1000:.0f} ms | first run (CSV load): {cold*1000:.0f} ms; target < 2 s |")
    print(f"| training, EURUSD 1h (3,441 train rows, batch 32, Adam), per epoch (median of 3 trainings) | {statistics.median(epochs)*1000:.1f} ms | Python torch, same MLP and batches: {py['epoch_median_s']*1000:.1f} ms |")


if __name__ == "__main__":
    main()
