"""Scenarios about plugins, models and training: hot reload (P1), ABI refusal (P2), model
errors (B4.4), training then backtesting the new version (T1)."""
import json
import os
import re
import shutil
import subprocess
import time

from harness import KTRDRCTL, ROOT, build_c_plugin
from scenarios import LONG, scenario

NEURO = "neuro_mean_reversion"


def plugins_list(d):
    rc, out, err = d.ctl("plugins", "list", "--json")
    d.check("ktrdrctl plugins list exits 0", rc == 0, "exit 0", f"{rc}: {err}")
    return json.loads(out)


def generation(listing, name, gen):
    return next((p for p in listing["plugins"] if p["name"] == name and p["generation"] == gen), None)


@scenario("P1", "Plugin hot reload", needs_long_data=True)
def p1(d):
    pid = d.pid()
    reference = d.start_backtest(strategy_name="sma_crossover", symbol="SYNTHS", timeframe="1m")
    ref = d.wait_status(reference, ["completed"])
    old_trades = ref["result_summary"]["total_trades"]
    d.check("generation 1 trades many times", old_trades > 100, "> 100 trades", old_trades)
    running = d.start_backtest(**LONG)
    d.wait_status(running, ["running"])
    before = plugins_list(d)
    d.check("the running backtest is on generation 1", running in (generation(before, "sma_crossover", 1) or {}).get("operations", []),
            f"{running} on sma_crossover gen 1", before["plugins"])

    build_c_plugin(os.path.join(d.plugins, "libktrdr_plugin_sma_crossover.so"), NAME="sma_crossover", VERSION="2.0.0-p1")
    t0 = time.time()
    rc, out, err = d.ctl("plugins", "reload")
    d.figure("reload", f"{(time.time() - t0) * 1000:.0f} ms (ktrdrctl round trip)")
    d.check("reload loads the rebuilt plugin as generation 2", rc == 0 and "loaded sma_crossover 2.0.0-p1 (generation 2)" in out,
            "loaded sma_crossover 2.0.0-p1 (generation 2)", f"{rc}: {out}{err}")

    fresh = d.start_backtest(strategy_name="sma_crossover", symbol="SYNTHS", timeframe="1m")
    new = d.wait_status(fresh, ["completed", "failed"])
    d.check("a new backtest runs on the new code", new["status"] == "completed" and new["metadata"]["plugin"]["version"] == "2.0.0-p1"
            and new["result_summary"]["total_trades"] == 1, "completed on 2.0.0-p1 with its 1 trade",
            f"{new['status']} {new['metadata'].get('plugin')} {new.get('result_summary', {}) and new['result_summary']['total_trades']}")
    during = plugins_list(d)
    old_gen = generation(during, "sma_crossover", 1)
    d.check("plugins list shows both generations, the old one still serving the running backtest",
            old_gen is not None and not old_gen["current"] and running in old_gen["operations"] and generation(during, "sma_crossover", 2)["current"],
            "gen 1 (old) with the running op, gen 2 current", during["plugins"])

    done = d.wait_status(running, ["completed", "failed"], timeout=30)
    d.check("the running backtest finishes on the old code", done["status"] == "completed" and done["metadata"]["plugin"]["version"] == "1.0.0"
            and done["result_summary"]["total_trades"] == old_trades, f"completed on 1.0.0 with {old_trades} trades",
            f"{done['status']} {done['metadata'].get('plugin')} {done.get('result_summary')}")
    d.check("the daemon never restarted", d.pid() == pid and d.healthy(), f"pid {pid}", d.pid())
    d.figure("trades old / new code", f"{old_trades} / 1")


@scenario("P2", "Plugin ABI mismatch")
def p2(d):
    build_c_plugin(os.path.join(d.plugins, "libktrdr_plugin_abi99.so"), NAME="sma_abi99", VERSION="9.9.9", ABI_MAJOR=99)
    with open(os.path.join(d.plugins, "libktrdr_plugin_garbage.so"), "wb") as f:
        f.write(b"\x7fELF not really a shared library" * 10)
    rc, out, err = d.ctl("plugins", "reload")
    d.check("reload reports the refusals (exit 3)", rc == 3, 3, f"{rc}: {out}{err}")
    with open(os.path.join(ROOT, "Sources", "KtrdrPluginABI", "include", "ktrdr_plugin.h")) as f:
        header = f.read()
    host = ".".join(re.search(rf"#define KTRDR_PLUGIN_ABI_{part} (\d+)", header).group(1) for part in ("MAJOR", "MINOR"))
    d.check("the message names both ABI versions", "plugin ABI 99.0" in err and f"host ABI {host}" in err, f"plugin ABI 99.0 … host ABI {host}", err)
    d.check("a file that is not a shared library is refused with dlopen's reason", "libktrdr_plugin_garbage.so" in err and "dlopen failed" in err,
            "garbage.so: dlopen failed …", err)
    listing = plugins_list(d)
    d.check("the refused plugins are not loaded", all(p["name"] != "sma_abi99" for p in listing["plugins"]), "no sma_abi99", listing["plugins"])
    d.check("plugins list shows the refusals", len(listing["problems"]) == 2, "2 problems", listing["problems"])

    ok = d.start_backtest(strategy_name="sma_crossover", symbol="GOOG", timeframe="1d")
    d.check("the other plugins keep working", d.wait_status(ok, ["completed", "failed"])["status"] == "completed", "completed", ok)
    for name, plugin, code, status in (("uses_abi99", "sma_abi99", "plugin_invalid", 422), ("uses_missing", "no_such_plugin", "plugin_not_found", 404)):
        with open(os.path.join(d.strategies, f"{name}.yaml"), "w") as f:
            f.write(f"name: {name}\nplugin: {plugin}\ndata: {{symbols: [GOOG], timeframes: [1d]}}\n")
        s, body = d.curl("POST", "/api/v1/backtests/start", {"strategy_name": name, "symbol": "GOOG", "timeframe": "1d"})
        d.check(f"a strategy naming {plugin} is a clear {status} {code}", s == status and body["error"]["code"] == code
                and f"'{plugin}'" in body["error"]["message"], f"{status} {code} naming '{plugin}'", f"{s} {body}")
    d.check("the daemon stays up", d.healthy(), "healthy", d.log_tail(5))


@scenario("B4.4", "Model not found or corrupt")
def b4_4(d):
    start = {"strategy_name": NEURO, "symbol": "EURUSD", "timeframe": "1h"}
    count = d.operation_count()
    s, body = d.curl("POST", "/api/v1/backtests/start", {**start, "model_path": f"{NEURO}/EURUSD_1h_v99"})
    d.check("explicit model_path that does not exist: 404 model_not_found naming the path",
            s == 404 and body["error"]["code"] == "model_not_found" and "EURUSD_1h_v99/model.pt" in body["error"]["message"],
            "404 model_not_found …/EURUSD_1h_v99/model.pt", f"{s} {body}")
    shipped = os.path.join(d.models, NEURO, "EURUSD_1h_v1")
    corrupt = os.path.join(d.models, NEURO, "EURUSD_1h_v50")
    os.makedirs(corrupt)
    shutil.copy(os.path.join(shipped, "metadata.json"), corrupt)
    with open(os.path.join(shipped, "model.pt"), "rb") as f, open(os.path.join(corrupt, "model.pt"), "wb") as g:
        g.write(f.read()[:4000])
    s, body = d.curl("POST", "/api/v1/backtests/start", {**start, "model_path": f"{NEURO}/EURUSD_1h_v50"})
    message = body["error"]["message"] if s != 200 else ""
    d.check("a corrupt model file: 422 model_invalid with libtorch's reason summarised", s == 422 and body["error"]["code"] == "model_invalid"
            and "TorchScript" in message, "422 model_invalid … TorchScript …", f"{s} {body}")
    d.check("no stack trace in the message", not re.search(r"frame #|Exception raised from|\.cpp:\d+", message), "plain message", message)
    s, body = d.curl("POST", "/api/v1/backtests/start", start)
    d.check("latest resolves to the highest version, which is the corrupt one: 422 too", s == 422 and "EURUSD_1h_v50" in json.dumps(body),
            "422 naming v50", f"{s} {body}")
    mismatch = os.path.join(d.models, NEURO, "EURUSD_1h_v51")
    shutil.copytree(shipped, mismatch)
    with open(os.path.join(mismatch, "metadata.json")) as f:
        meta = json.load(f)
    meta["features"] = list(reversed(meta["features"]))
    with open(os.path.join(mismatch, "metadata.json"), "w") as f:
        json.dump(meta, f)
    s, body = d.curl("POST", "/api/v1/backtests/start", {**start, "model_path": f"{NEURO}/EURUSD_1h_v51"})
    d.check("a feature-list mismatch is 422 model_invalid showing both lists", s == 422 and "model (18)" in body["error"]["message"]
            and "strategy (18)" in body["error"]["message"], "model (18): … strategy (18): …", f"{s} {body}")
    s, body = d.curl("POST", "/api/v1/backtests/start", {**start, "model_path": "../../etc"})
    d.check("a model_path outside the models directory is refused", s == 400, 400, f"{s} {body}")
    d.check("no operation was created", d.operation_count() == count, count, d.operation_count())
    ok = d.start_backtest(**start, model_path=f"{NEURO}/EURUSD_1h_v1")
    d.check("the daemon stays up and the shipped model still runs", d.wait_status(ok, ["completed", "failed"])["status"] == "completed",
            "completed", d.log_tail(5))


@scenario("T1", "Training")
def t1(d):
    status, body = d.curl("POST", "/api/v1/trainings/start", {"strategy_name": NEURO, "symbol": "EURUSD", "timeframe": "1h"})
    d.check("POST /trainings/start answers 200 with a training operation", status == 200 and body["operation_id"].startswith("op_training_"),
            "200 op_training_…", f"{status} {body}")
    op = body["operation_id"]
    deadline = time.time() + 60
    while time.time() < deadline and (d.operation(op)["progress"]["context"].get("epoch") or 0) < 2:
        time.sleep(0.05)
    t_cancel = time.time()
    status, body = d.curl("DELETE", f"/api/v1/operations/{op}")
    cancelled = d.wait_status(op, ["cancelled", "completed", "failed"])
    d.check("a training is cancelled within an epoch", cancelled["status"] == "cancelled", "cancelled", cancelled["status"])
    d.figure("training cancel latency", f"{(time.time() - t_cancel) * 1000:.0f} ms")
    leftovers = sorted(os.listdir(os.path.join(d.models, NEURO)))
    d.check("a cancelled training writes no model version and leaves nothing behind", leftovers == ["EURUSD_1h_v1"], ["EURUSD_1h_v1"], leftovers)

    t0 = time.time()
    rc, out, err = d.ctl("train", NEURO, "EURUSD", "1h", timeout=600)
    seconds = time.time() - t0
    d.check("ktrdrctl train exits 0", rc == 0, "exit 0", f"{rc}: {out}{err[-800:]}")
    epochs = re.findall(r"epoch +(\d+)/100 +loss ([0-9.]+) +train_accuracy ([0-9.]+) +val_accuracy ([0-9.]+)", err)
    d.check("per-epoch progress with loss and accuracies", len(epochs) >= 10 and epochs[-1][0] == "100", ">= 10 epoch lines ending at 100",
            err[-600:])
    op = re.search(r"op_training_\d{8}_\d{6}_[0-9a-f]{8}", out).group(0)
    record = d.operation(op)
    d.check("the operation is a completed training with every epoch recorded", record["status"] == "completed"
            and record["operation_type"] == "training" and len(record["metadata"]["epochs"]) == 100, "completed, 100 epochs",
            {k: record.get(k) for k in ("status", "operation_type")})
    new_dir = os.path.join(d.models, NEURO, "EURUSD_1h_v2")
    with open(os.path.join(new_dir, "metadata.json")) as f:
        trained_bars = json.load(f)["data"]["bars"]
    d.check("the bars loaded in the operation's first phase are recorded with it", record["metadata"].get("bars") == trained_bars > 0,
            trained_bars, record["metadata"].get("bars"))
    d.check("a new model version is written", "model v2 written" in out and os.path.exists(os.path.join(new_dir, "model.pt")), new_dir, out)
    with open(os.path.join(new_dir, "metadata.json")) as f:
        new_meta = json.load(f)
    with open(os.path.join(d.models, NEURO, "EURUSD_1h_v1", "metadata.json")) as f:
        shipped = json.load(f)
    keys = ("train_accuracy", "val_accuracy", "test_accuracy", "final_loss")
    # Across machines OpenBLAS picks its kernels by CPU, so the shipped model (trained on one
    # machine) is matched within a stated tolerance: accuracies to 0.02, final loss to 5 %.
    # Measured: an AVX-512 EPYC differed by 0.0009 (train) and 0.0042 (validation).
    close = all(abs(new_meta["training"][k] - shipped["training"][k]) <= 0.02 for k in keys[:3]) and \
        abs(new_meta["training"]["final_loss"] - shipped["training"]["final_loss"]) <= 0.05 * shipped["training"]["final_loss"]
    d.check("same seed and data give the shipped model's accuracies within 0.02 (final loss within 5 %)", close,
            {k: shipped["training"][k] for k in keys}, {k: new_meta["training"][k] for k in keys})
    # On one machine training is exact: a second training gives a byte-identical model file.
    rc, out3, err3 = d.ctl("train", NEURO, "EURUSD", "1h", timeout=600)
    third = os.path.join(d.models, NEURO, "EURUSD_1h_v3", "model.pt")
    d.check("ktrdrctl train (second) exits 0 and writes v3", rc == 0 and os.path.exists(third), "exit 0, v3", f"{rc}: {out3}{err3[-400:]}")
    with open(os.path.join(new_dir, "model.pt"), "rb") as f2, open(third, "rb") as f3:
        same = f2.read() == f3.read()
    d.check("deterministic on this machine: same seed and data twice give byte-identical model.pt", same, "identical v2 and v3", "files differ")

    bt = d.start_backtest(strategy_name=NEURO, symbol="EURUSD", timeframe="1h", model_path=f"{NEURO}/EURUSD_1h_v2")
    result = d.wait_status(bt, ["completed", "failed"])
    d.check("a backtest with the new version completes", result["status"] == "completed" and result["metadata"]["plugin"]["model_version"] == 2,
            "completed on model v2", f"{result['status']} {result['metadata'].get('plugin')} {result.get('error')}")

    # libtorch in ktrdrd against Python's torch.jit.load on the same feature rows.
    # The name `models list` prints is the one predict (and model_path) takes.
    rc, out, err = d.ctl("models", "list", "--json", "--models-dir", d.models)
    listed = {m["path"]: m for m in json.loads(out)} if rc == 0 else {}
    name = f"{NEURO}/EURUSD_1h_v2"
    d.check("models list --json names v2 relative to the models directory", name in listed and listed[name]["version"] == 2,
            name, sorted(listed))
    rc, out, err = d.ctl("models", "predict", name, "--rows", "500", "--strategies-dir", d.strategies, "--data-dir", d.data,
                         "--models-dir", d.models)
    d.check("ktrdrctl models predict exits 0", rc == 0, "exit 0", f"{rc}: {err}")
    check = subprocess.run(["/usr/bin/python3", os.path.join(ROOT, "Scenarios", "fixtures", "torch_crosscheck.py"),
                            os.path.join(new_dir, "model.pt")], input=out, capture_output=True, text=True, timeout=120)
    d.check("Python's torch.jit.load gives the same probabilities to 1e-6", check.returncode == 0 and "max_abs_diff" in check.stdout,
            "max_abs_diff < 1e-6", check.stdout + check.stderr)
    d.figure("training wall time (100 epochs)", f"{seconds:.1f} s")
    d.figure("accuracy train/val/test", "/".join(f"{new_meta['training'][k]:.4f}" for k in keys[:3]))
    d.figure("python cross-check", check.stdout.strip())


# The hostile builds of Scenarios/fixtures/variant_plugin.c (MODE), by what they do.
CRASH_AT_LOAD = {1: "Segmentation fault", 2: "Aborted", 7: "exited with status 3"}


@scenario("X3", "Hostile plugins: crashes at load, bad values and a hung plugin never stop the daemon")
def x3(d):
    d.stop()
    for mode in range(1, 8):
        build_c_plugin(os.path.join(d.plugins, f"libktrdr_plugin_hostile{mode}.so"), NAME=f"hostile{mode}", VERSION="6.6.6", MODE=mode)
        with open(os.path.join(d.strategies, f"uses_hostile{mode}.yaml"), "w") as f:
            f.write(f"name: uses_hostile{mode}\nplugin: hostile{mode}\ndata: {{symbols: [GOOG], timeframes: [1d]}}\n")
    os.environ["KTRDR_CANCEL_GRACE_SECONDS"] = "2"
    try:
        t0 = time.time()
        d.start("--max-concurrent", "1")
    finally:
        del os.environ["KTRDR_CANCEL_GRACE_SECONDS"]
    d.figure("daemon start with 11 plugins probed", f"{(time.time() - t0) * 1000:.0f} ms (ktrdrctl daemon start)")
    pid = d.pid()
    listing = plugins_list(d)
    problems = {os.path.basename(p["file"]): p["message"] for p in listing["problems"]}
    for mode, reason in CRASH_AT_LOAD.items():
        message = problems.get(f"libktrdr_plugin_hostile{mode}.so", "")
        d.check(f"hostile{mode} (crashes at load) is refused by its probe, the daemon starts without it",
                reason in message and "probe" in message and all(p["name"] != f"hostile{mode}" for p in listing["plugins"]),
                f"refused: probe … {reason}", message or listing)
    torch = next((p for p in listing["plugins"] if p["name"] == "torch"), {})
    d.check("the model plugin is checked but not mapped until a strategy needs it", torch.get("mapped") is False, "mapped: false", torch)

    def start(name):
        return d.curl("POST", "/api/v1/backtests/start", {"strategy_name": name, "symbol": "GOOG", "timeframe": "1d"})

    status, body = start("uses_hostile3")
    d.check("a warm-up of INT64_MAX is a 422 plugin_invalid naming the value", status == 422 and body["error"]["code"] == "plugin_invalid"
            and "warmup_bars() returned 9223372036854775807" in body["error"]["message"], "422 plugin_invalid warmup_bars() returned …",
            f"{status} {body}")
    for mode, what in ((5, "signal 7 at bar 40"), (6, "confidence nan at bar 50")):
        op = d.start_backtest(strategy_name=f"uses_hostile{mode}", symbol="GOOG", timeframe="1d")
        done = d.wait_status(op, ["completed", "failed"])
        error = done.get("error") or {}
        d.check(f"hostile{mode}: an out-of-range value is a failed run naming the bar", done["status"] == "failed"
                and error.get("code") == "plugin_invalid" and what in error.get("message", ""), f"failed plugin_invalid … {what}", error)

    stuck = d.start_backtest(strategy_name="uses_hostile4", symbol="GOOG", timeframe="1d")
    d.wait_status(stuck, ["running"])
    queued = d.start_backtest(strategy_name="sma_crossover", symbol="GOOG", timeframe="1d")
    d.check("the only run slot is held by the hung plugin", d.operation(queued)["status"] == "pending", "pending", d.operation(queued)["status"])
    t0 = time.time()
    d.curl("DELETE", f"/api/v1/operations/{stuck}")
    ended = d.wait_status(stuck, ["failed", "cancelled", "completed"], timeout=15)
    d.figure("hung operation ended after DELETE", f"{time.time() - t0:.1f} s (grace 2 s)")
    d.check("DELETE on the hung operation ends it as failed cancel_timeout after the grace period",
            ended["status"] == "failed" and (ended.get("error") or {}).get("code") == "cancel_timeout", "failed cancel_timeout", ended.get("error"))
    d.check("its slot is released: the queued backtest completes", d.wait_status(queued, ["completed", "failed"], timeout=15)["status"] == "completed",
            "completed", d.operation(queued))
    _, metrics = d.curl("GET", "/metrics")
    d.check("/metrics counts the abandoned operation", "ktrdr_operations_abandoned_total 1.0" in metrics or "ktrdr_operations_abandoned_total 1\n" in metrics, "ktrdr_operations_abandoned_total 1",
            [l for l in metrics.splitlines() if "abandoned" in l])

    build_c_plugin(os.path.join(d.plugins, "libktrdr_plugin_late_crash.so"), NAME="late_crash", VERSION="6.6.7", MODE=1)
    rc, out, err = d.ctl("plugins", "reload")
    d.check("a crashing file added later is refused by reload (exit 3), nothing else changes", rc == 3 and "late_crash.so" in err
            and "Segmentation fault" in err and "0 loaded" in out, "exit 3, refused late_crash.so: probe crashed …", f"{rc}: {out}{err}")

    neuro = d.start_backtest(strategy_name=NEURO, symbol="EURUSD", timeframe="1h", start_date="2017-06-01", end_date="2017-06-30")
    d.check("a neural strategy maps the model plugin on first use and completes",
            d.wait_status(neuro, ["completed", "failed"], timeout=60)["status"] == "completed", "completed", d.operation(neuro))
    torch = next((p for p in plugins_list(d)["plugins"] if p["name"] == "torch"), {})
    d.check("the model plugin is mapped now", torch.get("mapped") is True, "mapped: true", torch)
    d.check("the daemon never restarted and stays healthy", d.pid() == pid and d.healthy(), f"pid {pid}", d.pid())
