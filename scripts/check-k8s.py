"""Checks the Kubernetes manifests in deploy/k8s without a cluster.

1. Every object validates against the Kubernetes schemas (kubernetes-validate,
   offline, strict: unknown fields are errors).
2. What a schema cannot see: each Deployment runs a role of `marquee serve`
   with only variables it reads (from its --help), with the shared store,
   Kafka and the cluster secret a split role needs; probes ask paths that a
   running `marquee` answers (not 404); selectors of the Services and
   PodDisruptionBudgets match pods; the receivers are as many as the ticks
   topic has partitions (docker-compose.yml's kafka-topics); exactly one
   driver, never two during a rollout; every container has requests and
   limits and secrets only from Secrets.

usage: check-k8s.py KUSTOMIZE_DIR COMPOSE_FILE MARQUEE_BINARY [--self-test]

The base is rendered by `kubectl kustomize` where kubectl is installed, and
otherwise by reading its `resources` (with its namespace) here.
--self-test also breaks a copy of the objects in known ways and fails unless
every one of them is caught.
"""

import copy
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

import kubernetes_validate
import yaml

KUBERNETES_VERSION = "1.32.0"
ROLES = {"ingest", "driver", "receiver", "gateway"}
SECRET_LIKE = re.compile(r"TOKEN|SECRET|PASSWORD|API_KEY|ACCESS_KEY")


def marquee_env_names(binary):
    help_text = subprocess.run([binary, "serve", "--help"], check=True, capture_output=True, text=True).stdout
    return set(re.findall(r"\[env: ([A-Z0-9_]+)=", help_text)) | {"MARQUEE_OPERATOR_TOKEN", "MARQUEE_CLUSTER_SECRET"}


def answered_paths(binary, paths):
    """What a running `marquee serve` answers each path: its status, or
    "html" for the dashboard's pages (a fallback, not a health route)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with tempfile.TemporaryDirectory() as data:
        server = subprocess.Popen(
            [binary, "serve", "--listen", f"127.0.0.1:{port}", "--data-dir", data, "--static-dir", data],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            env={k: v for k, v in os.environ.items() if not k.startswith(("MARQUEE_", "ALPHAVANTAGE_"))})
        try:
            deadline = time.time() + 30
            statuses = {}
            for path in paths:
                while True:
                    try:
                        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as answer:
                            statuses[path] = kind(answer.status, answer.headers)
                        break
                    except urllib.error.HTTPError as error:
                        statuses[path] = kind(error.code, error.headers)
                        break
                    except (urllib.error.URLError, ConnectionError):
                        if time.time() > deadline:
                            raise
                        time.sleep(0.2)
            return statuses
        finally:
            server.terminate()
            server.wait(10)


def kind(status, headers):
    return "html" if (headers.get("content-type") or "").startswith("text/html") else status


def ticks_partitions(compose):
    command = " ".join(compose["services"]["kafka-topics"]["command"])
    return int(re.search(r"--partitions (\d+)", command).group(1))


def matches(selector, labels):
    return all(labels.get(k) == v for k, v in (selector or {}).items())


def probe_paths(objects):
    return {probe["httpGet"]["path"]
            for obj in objects if obj["kind"] == "Deployment"
            for c in obj["spec"]["template"]["spec"]["containers"]
            for probe in (c.get("readinessProbe"), c.get("livenessProbe")) if probe and "httpGet" in probe}


def problems(objects, known_env, partitions, statuses):
    found = []
    for obj in objects:
        name = f"{obj.get('kind')}/{obj.get('metadata', {}).get('name')}"
        try:
            kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as error:
            found.append(f"{name}: schema: {'/'.join(str(p) for p in error.path)}: {error.message}")
        except kubernetes_validate.SchemaNotFoundError as error:
            found.append(f"{name}: no schema: {error}")
    config_maps = {}
    for obj in objects:
        if obj["kind"] == "ConfigMap":
            config_maps[obj["metadata"]["name"]] = obj.get("data") or {}
            for key in obj.get("data") or {}:
                if key.startswith("MARQUEE_") and key not in known_env:
                    found.append(f"ConfigMap/{obj['metadata']['name']}: {key} is not read by marquee")
                if SECRET_LIKE.search(key):
                    found.append(f"ConfigMap/{obj['metadata']['name']}: {key} is a secret: keep it in a Secret")
    deployments = [o for o in objects if o["kind"] == "Deployment"]
    pods = {d["metadata"]["name"]: d["spec"]["template"]["metadata"].get("labels", {}) for d in deployments}
    roles = {}
    for d in deployments:
        name = f"Deployment/{d['metadata']['name']}"
        spec = d["spec"]
        if not matches(spec["selector"].get("matchLabels"), pods[d["metadata"]["name"]]):
            found.append(f"{name}: its selector does not match its pods")
        for c in spec["template"]["spec"]["containers"]:
            args = c.get("args") or []
            role = args[args.index("--role") + 1] if "--role" in args else None
            if role not in ROLES:
                found.append(f"{name}: runs no role of marquee serve (--role one of {sorted(ROLES)})")
                continue
            roles[role] = d
            env = {e["name"]: e for e in c.get("env") or []}
            for var, entry in env.items():
                if var.startswith("MARQUEE_") and var not in known_env:
                    found.append(f"{name}: sets {var}, which marquee does not read")
                if SECRET_LIKE.search(var) and "value" in entry:
                    found.append(f"{name}: {var} is written in the manifest, not taken from a Secret")
            # What the container really gets: its env and the ConfigMaps it names.
            has = set(env)
            for source in c.get("envFrom") or []:
                has |= set(config_maps.get((source.get("configMapRef") or {}).get("name"), {}))
            for var in ("MARQUEE_KAFKA_BROKERS", "MARQUEE_MONGODB_URL", "MARQUEE_CLUSTER_SECRET",
                        "MARQUEE_OPERATOR_TOKEN", "MARQUEE_ADVERTISE_URL"):
                if var not in has:
                    found.append(f"{name}: the {role} role needs {var}")
            resources = c.get("resources") or {}
            for kind in ("requests", "limits"):
                if not {"cpu", "memory"} <= set(resources.get(kind) or {}):
                    found.append(f"{name}: no cpu and memory {kind}")
            for probe in ("readinessProbe", "livenessProbe"):
                path = ((c.get(probe) or {}).get("httpGet") or {}).get("path")
                # Liveness must hold while an engine is down (200 always); readiness may say 503.
                allowed = (200,) if probe == "livenessProbe" else (200, 503)
                if path is None:
                    found.append(f"{name}: no HTTP {probe}")
                elif statuses.get(path) not in allowed:
                    found.append(f"{name}: its {probe} asks {path}, which marquee answers {statuses.get(path)}")
                elif probe == "livenessProbe" and path != "/health/live":
                    found.append(f"{name}: liveness on {path} restarts pods whenever an engine is down: use /health/live")
    for role in ROLES - set(roles):
        found.append(f"no Deployment runs the {role} role")
    if "receiver" in roles and roles["receiver"]["spec"].get("replicas", 1) != partitions:
        found.append(f"the receivers are {roles['receiver']['spec'].get('replicas', 1)}, "
                     f"but the ticks topic has {partitions} partitions")
    if "driver" in roles:
        spec = roles["driver"]["spec"]
        if spec.get("replicas", 1) != 1 or spec.get("strategy", {}).get("type") != "Recreate":
            found.append("the driver must be exactly one, recreated (a rolling update runs two)")
    for obj in objects:
        selector = None
        if obj["kind"] == "Service" and obj["spec"].get("type") != "ExternalName":
            selector = obj["spec"].get("selector")
        elif obj["kind"] == "PodDisruptionBudget":
            selector = obj["spec"].get("selector", {}).get("matchLabels")
        if selector is not None and not any(matches(selector, labels) for labels in pods.values()):
            found.append(f"{obj['kind']}/{obj['metadata']['name']}: selects no pods")
    return found


def self_test(objects, known_env, partitions, statuses):
    def deployment(objs, role):
        return next(o for o in objs if o["kind"] == "Deployment" and role in o["spec"]["template"]["spec"]["containers"][0]["args"])

    def container(objs, role):
        return deployment(objs, role)["spec"]["template"]["spec"]["containers"][0]

    breakages = {
        "an unknown field": lambda o: container(o, "gateway").update(imagePullPolicyy="Always"),
        "a wrong type": lambda o: deployment(o, "gateway")["spec"].update(replicas="two"),
        "an unknown MARQUEE_ variable": lambda o: container(o, "driver")["env"].append(
            {"name": "MARQUEE_KAFKA_BROKER", "value": "kafka:9092"}),
        "a secret in the manifest": lambda o: container(o, "driver")["env"].append(
            {"name": "MARQUEE_OPERATOR_TOKEN", "value": "hunter2"}),
        "a probe on a missing route": lambda o: container(o, "gateway")["livenessProbe"]["httpGet"].update(
            path="/healthz"),
        "no limits": lambda o: container(o, "receiver")["resources"].pop("limits"),
        "liveness on /health": lambda o: container(o, "driver")["livenessProbe"]["httpGet"].update(path="/health"),
        "no envFrom of the engines": lambda o: container(o, "gateway").pop("envFrom"),
        "a secret in the ConfigMap": lambda o: next(x for x in o if x["kind"] == "ConfigMap")["data"].update(
            MARQUEE_CLUSTER_SECRET="hunter2"),
        "receivers not matching the partitions": lambda o: deployment(o, "receiver")["spec"].update(replicas=5),
        "two drivers": lambda o: deployment(o, "driver")["spec"].update(replicas=2),
        "a Service selecting nothing": lambda o: next(
            x for x in o if x["kind"] == "Service" and "selector" in x["spec"])["spec"]["selector"].update(
            {"app.kubernetes.io/component": "gatewy"}),
    }
    missed = []
    for what, change in breakages.items():
        broken = copy.deepcopy(objects)
        change(broken)
        if not problems(broken, known_env, partitions, statuses):
            missed.append(what)
    return missed


def render(directory):
    """The base's objects, and what rendered them."""
    try:
        text = subprocess.run(["kubectl", "kustomize", directory], check=True, capture_output=True, text=True).stdout
        return [o for o in yaml.safe_load_all(text) if o], "kubectl kustomize"
    except FileNotFoundError:
        pass
    with open(os.path.join(directory, "kustomization.yaml")) as f:
        kustomization = yaml.safe_load(f)
    objects = []
    for resource in kustomization["resources"]:
        with open(os.path.join(directory, resource)) as f:
            objects.extend(o for o in yaml.safe_load_all(f) if o)
    for obj in objects:
        obj["metadata"].setdefault("namespace", kustomization.get("namespace"))
    return objects, "its resources (no kubectl here)"


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    directory, compose_path, binary = sys.argv[1:4]
    objects, renderer = render(directory)
    with open(compose_path) as f:
        partitions = ticks_partitions(yaml.safe_load(f))
    known_env = marquee_env_names(binary)
    statuses = answered_paths(binary, sorted(probe_paths(objects) | {"/healthz"}))
    found = problems(objects, known_env, partitions, statuses)
    for problem in found:
        print(f"deploy/k8s: {problem}", file=sys.stderr)
    if found:
        sys.exit(1)
    kinds = ", ".join(sorted({o["kind"] for o in objects}))
    print(f"deploy/k8s, rendered by {renderer}, is valid against Kubernetes {KUBERNETES_VERSION} "
          f"({len(objects)} objects: {kinds}); probes answered: {statuses}")
    if "--self-test" in sys.argv:
        missed = self_test(objects, known_env, partitions, statuses)
        if missed:
            sys.exit(f"the Kubernetes check missed: {', '.join(missed)}")
        print("the Kubernetes check catches every planted mistake")


if __name__ == "__main__":
    main()
