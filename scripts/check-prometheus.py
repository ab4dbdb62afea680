"""Checks the Prometheus and Grafana set-up against a real Prometheus.

1. `promtool check config` passes on the compose scrape config
   (deploy/prometheus/prometheus.yml), and every PromQL expression of the
   Grafana dashboard (deploy/grafana/dashboards/marquee.json) parses
   (`promtool check rules`, each as a recording rule).
2. A real Prometheus scrapes a running `marquee serve` (its ticks through
   Kafka, an alert sink configured), and every expression of the dashboard
   returns data through Prometheus's HTTP API.

usage: check-prometheus.py PROMETHEUS PROMTOOL MARQUEE --kafka-brokers B --kafka-prefix P [--self-test]

--self-test also asks for an expression of a metric Marquee does not have,
and fails unless the check reports it.
"""

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRAPE_CONFIG = os.path.join(REPO, "deploy/prometheus/prometheus.yml")
DASHBOARD = os.path.join(REPO, "deploy/grafana/dashboards/marquee.json")
# What Grafana substitutes before sending a query.
GRAFANA_VARIABLES = {"$__rate_interval": "20s", "$__interval": "5s", "$__range": "5m"}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def expressions(dashboard):
    found = []
    for panel in dashboard["panels"]:
        for target in panel.get("targets", []):
            expr = target["expr"]
            for variable, value in GRAFANA_VARIABLES.items():
                expr = expr.replace(variable, value)
            found.append((panel["title"], expr))
    return found


def wait_for(url, seconds):
    deadline = time.time() + seconds
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            if time.time() > deadline:
                raise
            time.sleep(0.2)


def query(prometheus, expr):
    url = f"{prometheus}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
    with urllib.request.urlopen(url, timeout=5) as answer:
        body = json.load(answer)
    if body["status"] != "success":
        raise RuntimeError(f"{expr}: {body}")
    return body["data"]["result"]


def without_data(prometheus, exprs, seconds):
    """The expressions that still return nothing after `seconds`."""
    waiting = list(exprs)
    deadline = time.time() + seconds
    while waiting and time.time() < deadline:
        waiting = [(title, expr) for title, expr in waiting if not query(prometheus, expr)]
        if waiting:
            time.sleep(1)
    return waiting


def promtool_checks(promtool, exprs, work):
    subprocess.run([promtool, "check", "config", SCRAPE_CONFIG], check=True)
    rules = os.path.join(work, "dashboard-rules.yml")
    with open(rules, "w") as f:
        f.write("groups:\n  - name: dashboard\n    rules:\n")
        for i, (_, expr) in enumerate(exprs):
            f.write(f"      - record: dashboard:expr{i}\n        expr: {json.dumps(expr)}\n")
    subprocess.run([promtool, "check", "rules", rules], check=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("prometheus")
    parser.add_argument("promtool")
    parser.add_argument("marquee")
    parser.add_argument("--kafka-brokers", required=True)
    parser.add_argument("--kafka-prefix", required=True)
    parser.add_argument("--self-test", action="store_true")
    args = parser.parse_args()
    with open(DASHBOARD) as f:
        exprs = expressions(json.load(f))
    processes = []
    with tempfile.TemporaryDirectory() as work:
        promtool_checks(args.promtool, exprs, work)
        try:
            marquee_port, prometheus_port = free_port(), free_port()
            alerts = os.path.join(work, "alerts.toml")
            with open(alerts, "w") as f:
                f.write('[[sink]]\nname = "ops"\ntype = "webhook"\n')
            env = {k: v for k, v in os.environ.items() if not k.startswith(("MARQUEE_", "ALPHAVANTAGE_"))}
            env.update(MARQUEE_WEBHOOK_URL="http://127.0.0.1:9/hook",
                       MARQUEE_WEBHOOK_SECRET="whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
            prefix = args.kafka_prefix
            processes.append(subprocess.Popen([
                args.marquee, "serve", "--listen", f"127.0.0.1:{marquee_port}", "--data-dir", work,
                "--static-dir", work, "--alerts-config", alerts, "--kafka-brokers", args.kafka_brokers,
                "--kafka-ticks-topic", f"{prefix}.ticks", "--kafka-bars-topic", f"{prefix}.bars",
                "--kafka-alerts-topic", f"{prefix}.alerts", "--kafka-heartbeats-topic", f"{prefix}.heartbeats",
                "--kafka-receiver-group", f"{prefix}-receivers",
            ], env=env, stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, "marquee.log"), "w")))
            wait_for(f"http://127.0.0.1:{marquee_port}/health/live", 30)
            config = os.path.join(work, "prometheus.yml")
            with open(config, "w") as f:
                f.write("global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: marquee\n"
                        f"    static_configs:\n      - targets: ['127.0.0.1:{marquee_port}']\n"
                        "        labels: {role: all}\n")
            prometheus = f"http://127.0.0.1:{prometheus_port}"
            processes.append(subprocess.Popen([
                args.prometheus, f"--config.file={config}", f"--storage.tsdb.path={work}/tsdb",
                f"--web.listen-address=127.0.0.1:{prometheus_port}",
            ], stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, "prometheus.log"), "w")))
            wait_for(f"{prometheus}/-/ready", 30)
            missing = without_data(prometheus, exprs, 60)
            for title, expr in missing:
                print(f"deploy/grafana: panel {title!r}: {expr} returns no data", file=sys.stderr)
            if missing:
                with open(os.path.join(work, "marquee.log")) as log:
                    sys.stderr.write(log.read()[-3000:])
                sys.exit(1)
            print(f"Prometheus scraped marquee; all {len(exprs)} expressions of the Grafana dashboard return data")
            if args.self_test:
                planted = [("planted", "sum(rate(marquee_stage_processd_total[20s]))")]
                if not without_data(prometheus, planted, 3):
                    sys.exit("the Prometheus check missed an expression of a metric marquee does not have")
                print("the Prometheus check catches an expression without data")
        finally:
            for process in processes:
                process.terminate()
            for process in processes:
                try:
                    process.wait(10)
                except subprocess.TimeoutExpired:
                    process.kill()


if __name__ == "__main__":
    main()
