"""Scenario harness: real ktrdrd processes in fresh state directories on free ports,
driven with ktrdrctl and curl exactly as a user would. Standard library only."""
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.environ.get("KTRDR_BIN_DIR", os.path.join(ROOT, ".build", "release"))
KTRDRCTL = os.path.join(BIN, "ktrdrctl")


def pip_tool(d, requirement, command):
    """A pinned tool from PyPI in its own venv under .build/ (made once): the path of `command`."""
    venv = os.path.join(ROOT, ".build", requirement.split("==")[0] + "-venv")
    exe = os.path.join(venv, "bin", command)
    if not os.access(exe, os.X_OK):
        p = subprocess.run(["python3", "-m", "venv", venv], capture_output=True, text=True)
        d.check("python3 -m venv works (python3-venv)", p.returncode == 0, "exit 0", p.stderr[-400:])
        p = subprocess.run([os.path.join(venv, "bin", "pip"), "install", "-q", requirement], capture_output=True, text=True, timeout=900)
        d.check(f"pip install {requirement}", p.returncode == 0, "exit 0", p.stderr[-400:])
    return exe


class CheckFailed(Exception):
    pass


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Daemon:
    """One ktrdrd with its own home, port, data and strategies directories."""

    def __init__(self, extra_strategies=None):
        self.home = tempfile.mkdtemp(prefix="ktrdr-scn-")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.data = os.path.join(self.home, "data")
        self.strategies = os.path.join(self.home, "strategies")
        shutil.copytree(os.path.join(ROOT, "data"), self.data, ignore=shutil.ignore_patterns("SYNTH*"))
        shutil.copytree(os.path.join(ROOT, "strategies"), self.strategies)
        # Private copies: scenarios add, rebuild and train without touching the repository.
        self.models = os.path.join(self.home, "models")
        shutil.copytree(os.path.join(ROOT, "models"), self.models)
        self.plugins = os.path.join(self.home, "plugins")
        os.makedirs(self.plugins)
        for name in sorted(os.listdir(BIN)):
            if name.startswith("libktrdr_plugin_") and name.endswith(".so"):
                shutil.copy2(os.path.join(BIN, name), self.plugins)
        for name, text in (extra_strategies or {}).items():
            with open(os.path.join(self.strategies, name + ".yaml"), "w") as f:
                f.write(text)
        self.checks = []
        self.figures = {}

    # --- processes -------------------------------------------------------------------------
    def start(self, *extra):
        rc, out, err = self.ctl("daemon", "start", "--http", f"127.0.0.1:{self.port}", "--data-dir", self.data,
                                "--strategies-dir", self.strategies, "--models-dir", self.models, "--plugins-dir", self.plugins, *extra)
        self.check("daemon starts", rc == 0, "exit 0", f"exit {rc}: {out}{err}")
        return self

    def stop(self):
        self.ctl("daemon", "stop")

    def pid(self):
        with open(os.path.join(self.home, "run", "ktrdrd.pid")) as f:
            return int(f.read().strip())

    def kill9(self):
        os.kill(self.pid(), signal.SIGKILL)
        time.sleep(0.3)

    def generate(self, bars, symbol="SYNTHS"):
        rc, out, err = self.ctl("data", "generate", "--bars", str(bars), "--symbol", symbol, "--data-dir", self.data)
        self.check(f"generate {bars} bars", rc == 0, "exit 0", err)

    def log_tail(self, n=25):
        try:
            with open(os.path.join(self.home, "log", "ktrdrd.log")) as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return "(no log)"

    def log(self):
        with open(os.path.join(self.home, "log", "ktrdrd.log")) as f:
            return f.read()

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.home, ignore_errors=True)

    # --- clients ---------------------------------------------------------------------------
    def ctl(self, *args, timeout=120, stdin=None):
        if args[0] in ("daemon", "ops", "backtest", "plugins", "train", "sweep", "walkforward") and "--local" not in args:
            # --home belongs to ktrdrctl: before a "--" that passes the rest on to ktrdrd.
            cut = args.index("--") if "--" in args else len(args)
            args = (*args[:cut], "--home", self.home, *args[cut:])
        p = subprocess.run([KTRDRCTL, *args], capture_output=True, text=True, timeout=timeout, cwd=ROOT, input=stdin)
        return p.returncode, p.stdout, p.stderr

    def curl(self, method, path, body=None, raw=None, headers=()):
        """curl as a user would; returns (status, parsed JSON or text)."""
        cmd = ["curl", "-s", "-o", "-", "-w", "\n%{http_code}", "-X", method, self.url + path]
        for h in headers:
            cmd += ["-H", h]
        token = getattr(self, "token", None) or self.home_token()
        if token and not any(h.lower().startswith("authorization:") for h in headers):
            cmd += ["-H", f"Authorization: Bearer {token}"]
        if body is not None or raw is not None:
            cmd += ["-H", "Content-Type: application/json", "--data-binary", "@-"]
        data = raw if raw is not None else (json.dumps(body) if body is not None else None)
        p = subprocess.run(cmd, capture_output=True, text=True, input=data, timeout=60)
        text, _, status = p.stdout.rpartition("\n")
        try:
            return int(status), json.loads(text)
        except ValueError:
            return int(status or 0), text

    def home_token(self):
        """The token a daemon without KTRDR_API_TOKEN writes for its mutating HTTP calls."""
        try:
            with open(os.path.join(self.home, "run", "http-token")) as f:
                return f.read().strip()
        except (OSError, AttributeError):
            return None

    def start_backtest(self, **params):
        status, body = self.curl("POST", "/api/v1/backtests/start", params)
        self.check("backtest starts", status == 200, "200", f"{status} {body}")
        return body["operation_id"]

    def operation(self, op):
        status, body = self.curl("GET", f"/api/v1/operations/{op}")
        return body["data"] if status == 200 else None

    def wait_status(self, op, statuses, timeout=60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            r = self.operation(op)
            if r and r["status"] in statuses:
                return r
            time.sleep(0.05)
        raise CheckFailed(f"operation {op} did not reach {statuses} in {timeout}s (last: {r and r['status']})")

    def operation_count(self):
        status, body = self.curl("GET", "/api/v1/operations?limit=1000")
        return body["data"]["total_count"]

    def healthy(self):
        status, body = self.curl("GET", "/health")
        return status == 200 and body.get("status") == "ok"

    # --- checks ----------------------------------------------------------------------------
    def check(self, name, ok, expected, got):
        self.checks.append((name, bool(ok), expected, got))
        if not ok:
            raise CheckFailed(f"{name}\n    expected: {expected}\n    got:      {str(got)[:800]}")

    def figure(self, name, value):
        self.figures[name] = value


def build_c_plugin(out_path, **defines):
    """Compiles Scenarios/fixtures/variant_plugin.c (a strategy plugin written in C against
    ktrdr_plugin.h) into `out_path`; `defines` become -D flags (NAME, VERSION, ABI_MAJOR, MODE)."""
    src = os.path.join(ROOT, "Scenarios", "fixtures", "variant_plugin.c")
    flags = []
    for k, v in defines.items():
        flags.append(f"-D{k}={json.dumps(v) if isinstance(v, str) else v}")
    tmp = out_path + ".build"
    subprocess.run(["cc", "-shared", "-fPIC", "-O2", "-I", os.path.join(ROOT, "Sources", "KtrdrPluginABI", "include"),
                    *flags, src, "-o", tmp], check=True, capture_output=True, text=True)
    # Overwrite in place, as a rebuild does: the daemon must not be running the mapped original.
    with open(tmp, "rb") as f, open(out_path, "wb") as g:
        g.write(f.read())
    os.remove(tmp)
