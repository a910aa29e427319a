"""Protocol edges against a real ktrdrd: clients that never read, half-close, HTTP/1.0."""
import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
from harness import ROOT, CheckFailed, pip_tool  # noqa: F401
from scenarios import scenario


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS")) / 1024


def greeted(path):
    s = socket.socket(socket.AF_UNIX)
    s.connect(path)
    f = s.makefile("rb")
    json.loads(f.readline())
    return s, f


@scenario("C2", "Control socket: a client that never reads is paused, not buffered; a half-closed client gets its replies")
def c2(d):
    path = os.path.join(d.home, "run", "ktrdrd.sock")
    pid = d.pid()
    before = rss_mb(pid)
    s, f = greeted(path)
    s.settimeout(2.0)  # a send that waits 2 s means the daemon stopped reading
    sent, blocked = 0, False
    for i in range(30000):
        try:
            s.sendall(json.dumps({"id": i, "method": "strategies.list"}).encode() + b"\n")
            sent += 1
        except socket.timeout:
            blocked = True
            break
    grown = rss_mb(pid) - before
    d.check("the daemon stops reading a client that does not read its replies", blocked and sent < 30000,
            "sends block before 30,000 requests", f"sent {sent}, blocked {blocked}")
    d.check("its memory stays bounded", grown < 64, "< 64 MB growth", f"{grown:.1f} MB")
    s.settimeout(30.0)
    ids, errors = [], []
    while len(ids) < sent:  # every request that went out is answered
        reply = json.loads(f.readline())
        ids.append(reply["id"])
        if "result" not in reply:
            errors.append(reply)
    d.check("each reply is a result", not errors, "no errors", errors[:3])
    d.check("every request sent is answered once", sorted(ids) == list(range(sent)), f"ids 0..{sent - 1}", ids[:5])
    s.close()
    d.check("the daemon is healthy after the flood", d.healthy(), "healthy", d.log_tail(5))

    # Half-close after the request (nc -N, socat): the replies still come, then EOF.
    for ending in (b"\n", b""):
        s, f = greeted(path)
        s.sendall(b'{"id": 7, "method": "operations.list", "params": {"limit": 1}}' + ending)
        s.shutdown(socket.SHUT_WR)
        s.settimeout(10.0)
        line = f.readline()
        reply = json.loads(line) if line else None
        d.check(f"a half-closed client gets its reply ({'with' if ending else 'without'} a final newline)",
                reply is not None and reply.get("id") == 7 and "result" in reply, "reply id 7", line)
        d.check("then the daemon closes the connection", f.readline() == b"", "EOF", "more data")
        s.close()
    d.figure("requests sent before the daemon paused the reader", sent)
    d.figure("RSS growth", f"{grown:.1f} MB")


@scenario("H1", "HTTP: an HTTP/1.0 request is answered and closed; errors use the envelope on every route")
def h1(d):
    host, port = d.url.removeprefix("http://").split(":")
    for request, want in ((b"GET /api/v1/health HTTP/1.0\r\n\r\n", b" 200 "),
                          (b"GET /api/v1/nothing-here HTTP/1.0\r\n\r\n", b" 404 ")):
        s = socket.create_connection((host, int(port)), timeout=5)
        s.sendall(request)
        data, t0 = b"", time.time()
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
        except socket.timeout:
            pass
        closed = time.time() - t0 < 4
        s.close()
        head, _, body = data.partition(b"\r\n\r\n")
        d.check(f"{request.split(b' ')[1].decode()} over HTTP/1.0 answers", want in head.split(b"\r\n")[0], want.decode().strip(), head[:80])
        d.check("and the daemon closes the connection after the response", closed, "closed", "left open 4 s")
        if want == b" 404 ":
            envelope = json.loads(body)
            d.check("the 404 is the error envelope", envelope.get("success") is False and envelope["error"]["code"] == "route_not_found",
                    "success false, route_not_found", envelope)
    status, body = d.curl("PATCH", "/api/v1/operations")
    d.check("a wrong method is 405 in the envelope", status == 405 and isinstance(body, dict) and body["error"]["code"] == "method_not_allowed",
            "405 method_not_allowed", f"{status} {body}")


SCHEMATHESIS = "schemathesis==4.32.5"


@scenario("A2", "schemathesis (pinned) against the live OpenAPI document: every check, no failure, no 5xx")
def a2(d):
    exe = pip_tool(d, SCHEMATHESIS, "st")
    work = tempfile.mkdtemp(prefix="ktrdr-st-")  # schemathesis and hypothesis write their caches into the working directory
    try:
        p = subprocess.run([exe, "--config-file", os.path.join(ROOT, "Scenarios", "fixtures", "schemathesis.toml"), "run",
                            d.url + "/api/v1/openapi.json", "-H", f"Authorization: Bearer {d.home_token()}",
                            "--checks", "all", "--max-examples", "25", "--seed", "1", "--no-color"],
                           capture_output=True, text=True, timeout=900, cwd=work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    out = p.stdout + p.stderr
    generated = re.search(r"(\d+) generated, (\d+) passed", out)
    d.check("schemathesis passes: every generated case, every check", p.returncode == 0 and generated is not None
            and generated.group(1) == generated.group(2), "N generated, N passed", out[-3000:])
    d.check("the daemon is healthy afterwards", d.healthy(), "healthy", d.log_tail(5))
    d.figure("cases", generated.group(1))


# Run as another local user: what it tries, and whether each was allowed.
AS_OTHER_USER = r"""
import json, socket, sys, urllib.request
home, url = sys.argv[1], sys.argv[2]
out = {}
def attempt(name, f):
    try:
        f()
        out[name] = "allowed"
    except PermissionError:
        out[name] = "EACCES"
    except urllib.error.HTTPError as e:
        out[name] = e.code
    except Exception as e:
        out[name] = type(e).__name__
def http(method, path):
    return lambda: urllib.request.urlopen(urllib.request.Request(url + path, method=method), timeout=10).read()
attempt("socket", lambda: socket.socket(socket.AF_UNIX).connect(home + "/run/ktrdrd.sock"))
for f in ("ktrdr.db", "ktrdr.db-wal", "run/http-token", "log/ktrdrd.log", "run/ktrdrd.pid"):
    attempt(f, lambda f=f: open(home + "/" + f, "rb").read(1))
attempt("GET /api/v1/operations", http("GET", "/api/v1/operations"))
attempt("POST /api/v1/plugins/reload", http("POST", "/api/v1/plugins/reload"))
attempt("DELETE /api/v1/operations/{id}", http("DELETE", "/api/v1/operations/" + sys.argv[3]))
print(json.dumps(out))
"""


@scenario("S3", "A second local user: the home is tightened, files are private, HTTP reads only")
def s3(d):
    op = d.start_backtest(strategy_name="sma_crossover", symbol="GOOG", timeframe="1d")
    d.wait_status(op, ["completed", "failed"])
    # An existing home as a user might have made it: world-readable directory and database.
    d.stop()
    os.chmod(d.home, 0o755)
    os.chmod(os.path.join(d.home, "ktrdr.db"), 0o644)
    d.start()
    modes = {f: oct(os.stat(os.path.join(d.home, f)).st_mode & 0o777)
             for f in ("", "ktrdr.db", "ktrdr.db-wal", "run/http-token", "run/ktrdrd.sock", "log/ktrdrd.log", "run/ktrdrd.pid")}
    d.check("the home is tightened at start and its files are the owner's only", modes[""] == "0o700"
            and all(m == "0o600" for f, m in modes.items() if f), "home 0o700, files 0o600", modes)
    os.chmod(d.home, 0o711)  # let the other user reach the files, to test their own modes
    try:
        p = subprocess.run(["/usr/bin/python3", "-c", AS_OTHER_USER, d.home, d.url, op], capture_output=True, text=True,
                           user=65534, group=65534, extra_groups=[], cwd="/", timeout=60)
    finally:
        os.chmod(d.home, 0o700)
    got = json.loads(p.stdout) if p.returncode == 0 else {}
    want = {"socket": "EACCES", "ktrdr.db": "EACCES", "ktrdr.db-wal": "EACCES", "run/http-token": "EACCES", "log/ktrdrd.log": "EACCES",
            "run/ktrdrd.pid": "EACCES", "GET /api/v1/operations": "allowed", "POST /api/v1/plugins/reload": 401,
            "DELETE /api/v1/operations/{id}": 401}
    d.check("as nobody: socket and state files refused, HTTP reads allowed, mutating calls 401", got == want, want, got or p.stderr[-400:])
    d.check("the daemon is healthy", d.healthy(), "healthy", d.log_tail(5))
