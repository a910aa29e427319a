"""Scenarios of the research loop: parameters from the command line and the API (PA1)."""
import hashlib
import json
import os
import re

from harness import ROOT
from scenarios import scenario



def _written_file():
    """sma_crossover.yaml with the values of the run written in by hand: the independent way."""
    with open(os.path.join(ROOT, "strategies", "sma_crossover.yaml")) as f:
        text = f.read()
    text = re.sub(r"(?m)^name: sma_crossover$", "name: sma_fast5", text)
    text = re.sub(r"(?m)^  fast_period: 10$", "  fast_period: 5", text)
    text = re.sub(r"(?m)^  slow_period: 30$", "  slow_period: 40", text)
    text = re.sub(r"(?m)^  history_required: 30$", "  history_required: 40", text)
    assert text.count("sma_fast5") == 1 and "fast_period: 5\n" in text and "history_required: 40" in text
    return text


SMA_FILE = _written_file()


@scenario("PA1", "Parameters for one run: --param, --set, params and overrides, checked as the file", strategies={"sma_fast5": SMA_FILE})
def pa1(d):
    given = ["--param", "fast_period=5", "--param", "slow_period=40", "--set", "data.history_required=40"]
    base = ["backtest", "run", "sma_crossover", "GOOG", "1d", "--json"]
    rc, out, err = d.ctl(*base, *given)
    d.check("a daemon run with --param completes", rc == 0, "exit 0", f"{rc}: {err}")
    daemon = json.loads(out)
    rc, out, err = d.ctl(*base, *given, "--local", "--data-dir", d.data, "--strategies-dir", d.strategies)
    d.check("the same run with --local completes", rc == 0, "exit 0", f"{rc}: {err}")
    local = json.loads(out)
    rc, out, err = d.ctl("backtest", "run", "sma_fast5", "GOOG", "1d", "--json", "--local", "--data-dir", d.data, "--strategies-dir", d.strategies)
    written = json.loads(out)
    d.check("--param gives exactly the trades of a file with those values written in (daemon and --local)",
            daemon["trades"] == written["trades"] == local["trades"] and daemon["metrics"] == written["metrics"],
            f"{len(written['trades'])} identical trades", f"daemon {len(daemon['trades'])}, local {len(local['trades'])}")
    rc, out, err = d.ctl("backtest", "run", "sma_crossover", "GOOG", "1d", "--json")
    default = json.loads(out)
    d.check("and not the file's own parameters' trades", default["trades"] != daemon["trades"], "different trades", len(default["trades"]))
    d.figure("trades with fast 5 / slow 40 against the file's 10 / 30", f"{len(daemon['trades'])} / {len(default['trades'])}")

    status, body = d.curl("POST", "/api/v1/backtests/start", {"strategy_name": "sma_crossover", "symbol": "GOOG", "timeframe": "1d",
                                                              "params": {"fast_period": 5, "slow_period": 40},
                                                              "overrides": {"data.history_required": 40}})
    op = d.wait_status(body["operation_id"], ["completed", "failed"])
    with open(os.path.join(d.strategies, "sma_crossover.yaml"), "rb") as f:
        file_sha = hashlib.sha256(f.read()).hexdigest()
    meta = op["metadata"]
    d.check("the record keeps the values given, the parameters in effect and the file's SHA-256",
            meta["parameters"]["params"] == {"fast_period": 5, "slow_period": 40} and meta["params"] == {"fast_period": 5, "slow_period": 40}
            and meta["parameters"]["overrides"] == {"data.history_required": 40} and meta["strategy_sha256"] == file_sha,
            f"params 5/40, sha256 {file_sha[:12]}…", {k: meta.get(k) for k in ("parameters", "params", "strategy_sha256")})
    rc, out, err = d.ctl("ops", "show", body["operation_id"])
    d.check("ops show prints them", '"fast_period" : 5' in out or '"fast_period": 5' in out, "fast_period 5 in ops show", out[:300])

    for args, code, words in (
            (["--param", "fast_period=50"], 3, ["fast_period (50) must be below slow_period (30)"]),
            (["--param", "fast_perod=5"], 3, ["params.fast_perod", "did you mean 'fast_period'?", "given 5 for this run"]),
            (["--set", "decisions.confidence_threshold=high"], 3, ["decisions.confidence_threshold", "expected a number", "given high"]),
            (["--set", "plugin=rsi_mean_reversion"], 3, ["cannot be overridden"]),
            (["--param", "fast_period=x"], 64, ["'x' is not a number"])):
        rc, out, err = d.ctl("backtest", "run", "sma_crossover", "GOOG", "1d", *args)
        d.check(f"{' '.join(args)} is refused naming it", rc == code and all(w in err for w in words), f"exit {code}: {words}", f"{rc}: {err[:400]}")
    status, body = d.curl("POST", "/api/v1/backtests/start", {"strategy_name": "sma_crossover", "symbol": "GOOG", "timeframe": "1d",
                                                              "params": {"slow_period": 0}})
    d.check("an API value the plugin refuses is a 422 naming the parameter and the value", status == 422
            and body["error"]["code"] == "strategy_invalid" and re.search(r"params\.slow_period.*given 0", json.dumps(body)),
            "422 strategy_invalid params.slow_period … given 0", f"{status} {body}")
