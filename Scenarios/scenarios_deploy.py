"""D1: the deployment files (deploy/) checked offline: systemd units with systemd-analyze,
Kubernetes manifests and the kustomize output against the Kubernetes schema
(kubernetes-validate, pinned, in a private venv), the compose file parsed; and the fields
that wire server to workers compared across files."""
import os
import re
import shutil
import subprocess
import tempfile

import yaml

from harness import BIN, ROOT, pip_tool
from scenarios import scenario

DEPLOY = os.path.join(ROOT, "deploy")
VALIDATOR = "kubernetes-validate==1.37.0"


def _docs(text):
    return [x for x in yaml.safe_load_all(text) if x]


def _flags(args):
    return {a for a in args if a.startswith("--")}


@scenario("D1", "Deployment files validated offline: systemd units, Kubernetes manifests and kustomize output, compose file")
def d1(d):
    help_text = subprocess.run([os.path.join(BIN, "ktrdrd"), "--help"], capture_output=True, text=True).stdout
    known = set(re.findall(r"--[a-z][a-z-]+", help_text))

    # systemd: verify with the built binary in place of /usr/local/bin/ktrdrd; any warning fails.
    tmp = tempfile.mkdtemp(prefix="ktrdr-deploy-")
    try:
        units = sorted(f for f in os.listdir(os.path.join(DEPLOY, "systemd")) if f.endswith(".service"))
        d.check("two systemd units (server, worker)", units == ["ktrdrd-worker.service", "ktrdrd.service"], 2, units)
        for unit in units:
            text = open(os.path.join(DEPLOY, "systemd", unit)).read()
            with open(os.path.join(tmp, unit), "w") as f:
                f.write(text.replace("/usr/local/bin/ktrdrd", os.path.join(BIN, "ktrdrd")))
            for key in ("NoNewPrivileges=yes", "ProtectSystem=strict", "DynamicUser=yes", "StateDirectory=", "UMask=0077"):
                d.check(f"{unit} sets {key}", key in text, key, "missing")
            used = _flags(re.findall(r"--[a-z][a-z-]+", text.split("ExecStart=")[1].split("\n\n")[0].split("KillSignal")[0]))
            d.check(f"{unit}: every ktrdrd option exists", used <= known, sorted(used), sorted(used - known))
        p = subprocess.run(["systemd-analyze", "verify", "--man=no", *[os.path.join(tmp, u) for u in units]], capture_output=True, text=True)
        d.check("systemd-analyze verify: no error, no warning", p.returncode == 0 and p.stderr.strip() == "", "exit 0, silent", p.stderr[-600:])

        # Kubernetes: render base and production overlay (tokens.env made from its example in a copy).
        k8s = os.path.join(tmp, "k8s")
        shutil.copytree(os.path.join(DEPLOY, "k8s"), k8s)
        shutil.copy(os.path.join(k8s, "overlays", "production", "tokens.env.example"), os.path.join(k8s, "overlays", "production", "tokens.env"))
        exe = pip_tool(d, VALIDATOR, "kubernetes-validate")
        rendered = {}
        for name, path in (("base", "base"), ("production", "overlays/production")):
            p = subprocess.run(["kubectl", "kustomize", os.path.join(k8s, path)], capture_output=True, text=True)
            d.check(f"kubectl kustomize {path}", p.returncode == 0, "exit 0", p.stderr[-400:])
            out = os.path.join(tmp, f"{name}.yaml")
            with open(out, "w") as f:
                f.write(p.stdout)
            rendered[name] = _docs(p.stdout)
        plain = [os.path.join(k8s, "base", f) for f in sorted(os.listdir(os.path.join(k8s, "base"))) if f != "kustomization.yaml"]
        p = subprocess.run([exe, "--strict", *plain, os.path.join(tmp, "base.yaml"), os.path.join(tmp, "production.yaml")], capture_output=True, text=True)
        errors = [line for line in (p.stdout + p.stderr).splitlines() if not line.startswith("INFO")]
        d.check("kubernetes-validate --strict: manifests and kustomize output", p.returncode == 0 and not errors, "all passed", errors[:5])
        passed = len([line for line in p.stdout.splitlines() if " passed " in line])
        d.figure("resources validated", passed)

        # Wiring across the rendered production objects.
        objs = {(o["kind"], o["metadata"]["name"].rsplit("-", 1)[0] if o["kind"] in ("ConfigMap", "Secret") else o["metadata"]["name"]): o for o in rendered["production"]}
        server, worker = objs[("StatefulSet", "ktrdr-server")], objs[("Deployment", "ktrdr-worker")]
        svc, headless = objs[("Service", "ktrdr-server")], objs[("Service", "ktrdr-server-headless")]
        config, secret = objs[("ConfigMap", "ktrdr-config")], objs[("Secret", "ktrdr-tokens")]
        sc, wc = server["spec"]["template"]["spec"]["containers"][0], worker["spec"]["template"]["spec"]["containers"][0]
        d.check("StatefulSet governed by the headless service", server["spec"]["serviceName"] == headless["metadata"]["name"] and headless["spec"]["clusterIP"] == "None",
                headless["metadata"]["name"], server["spec"]["serviceName"])
        d.check("the server keeps its state on a volume claim", server["spec"]["volumeClaimTemplates"][0]["metadata"]["name"] in [m["name"] for m in sc["volumeMounts"]]
                and "/var/lib/ktrdr" in sc["args"], "state claim at --home", sc["volumeMounts"])
        server_port = int(sc["args"][sc["args"].index("--http") + 1].split(":")[1])
        d.check("server --http port = container port = service target", server_port == sc["ports"][0]["containerPort"] and svc["spec"]["ports"][0]["targetPort"] == sc["ports"][0]["name"],
                server_port, (sc["ports"], svc["spec"]["ports"]))
        url = config["data"]["KTRDR_SERVER_URL"]
        d.check("workers reach the server at http://<service>:<port>", url == f"http://{svc['metadata']['name']}:{svc['spec']['ports'][0]['port']}", url, svc["spec"]["ports"])
        d.check("worker --server is the configured server URL", wc["args"][wc["args"].index("--server") + 1] == "$(KTRDR_SERVER_URL)"
                and any(e["name"] == "KTRDR_SERVER_URL" for e in wc["env"]), "$(KTRDR_SERVER_URL)", wc["args"])
        worker_port = int(wc["args"][wc["args"].index("--http") + 1].split(":")[1])
        d.check("worker advertises its pod IP on its own port", wc["args"][wc["args"].index("--advertise-url") + 1] == f"http://$(POD_IP):{worker_port}"
                and worker_port == wc["ports"][0]["containerPort"], worker_port, wc["args"])
        for c, who in ((sc, "server"), (wc, "worker")):
            refs = [e["valueFrom"]["secretKeyRef"] for e in c["env"] if "secretKeyRef" in e.get("valueFrom", {})]
            d.check(f"{who}: KTRDR_WORKER_TOKEN from the tokens secret", any(r["key"] == "KTRDR_WORKER_TOKEN" and r["name"] == secret["metadata"]["name"] for r in refs),
                    secret["metadata"]["name"], refs)
            for probe in ("readinessProbe", "livenessProbe"):
                d.check(f"{who} {probe} on /health of its port", c[probe]["httpGet"]["path"] == "/health" and c[probe]["httpGet"]["port"] == c["ports"][0]["name"], "/health", c[probe])
            d.check(f"{who} has resource requests and limits", {"cpu", "memory"} <= set(c["resources"]["requests"]) and "memory" in c["resources"]["limits"], "set", c["resources"])
            d.check(f"{who}: every ktrdrd option exists", _flags(c["args"]) <= known, "known", sorted(_flags(c["args"]) - known))
        d.check("the server accepts registrations", "--accept-workers" in sc["args"], "--accept-workers", sc["args"])
        pdb, hpa = objs[("PodDisruptionBudget", "ktrdr-worker")], objs[("HorizontalPodAutoscaler", "ktrdr-worker")]
        d.check("PDB selects the worker pods", pdb["spec"]["selector"]["matchLabels"].items() <= worker["spec"]["template"]["metadata"]["labels"].items(), "match", pdb["spec"]["selector"])
        d.check("HPA scales the worker Deployment on the server's pending operations", hpa["spec"]["scaleTargetRef"]["name"] == worker["metadata"]["name"]
                and hpa["spec"]["metrics"][0]["object"]["metric"]["name"] == "ktrdr_operations_pending", "ktrdr-worker", hpa["spec"])
        d.check("the overlay replaced the placeholder tokens", b"change-me" not in __import__("base64").b64decode(secret["data"]["KTRDR_WORKER_TOKEN"]), "replaced", secret["data"])

        # Compose: one server, N workers registering with it.
        compose = yaml.safe_load(open(os.path.join(DEPLOY, "compose.yaml")))
        s, w = compose["services"]["server"], compose["services"]["worker"]
        d.check("compose: server accepts workers and needs both tokens", "--accept-workers" in s["command"] and "KTRDR_WORKER_TOKEN" in s["environment"]
                and "KTRDR_API_TOKEN" in s["environment"], "tokens, --accept-workers", s)
        wcmd = " ".join(w["command"])
        d.check("compose: workers register with http://server:8000", "--server http://server:8000" in wcmd and "8000:8000" in s["ports"][0], "http://server:8000", wcmd)
        d.check("compose: healthchecks on /health", "/health" in " ".join(s["healthcheck"]["test"]) and "/health" in " ".join(w["healthcheck"]["test"]), "/health", "")
        d.check("compose: options exist", _flags(s["command"]) | _flags(wcmd.split()) <= known, "known", sorted((_flags(s["command"]) | _flags(wcmd.split())) - known))
        docker = open(os.path.join(DEPLOY, "container", "Dockerfile")).read()
        stages = re.findall(r"^FROM .* AS (\w+)", docker, re.M)
        d.check("Dockerfile: build and runtime stages, non-root, libtorch runtime", stages == ["build", "runtime"] and "USER 10001" in docker and "libtorch1.13" in docker,
                "build, runtime", stages)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
