# Installs what Marquee's build and tests need, skipping whatever is already
# there. Sourced by scripts/start, scripts/test and .ci/run; not run directly.
#
#   setup_build   Rust wasm32 target, trunk, wasm-bindgen CLI, wasm-opt (npm)
#   setup_test    Chromium (Debian) and Playwright (npm), after setup_build,
#                 and nx-27017 (a MongoDB wire-protocol server) for the store tests

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
  setup_mongo_standin
}

# nx-27017 speaks MongoDB's wire protocol (on SQLite): the MongoDB store's
# tests run against it here; users run a real MongoDB (docker-compose.yml).
NX_VENV="${MARQUEE_TOOLS_DIR:-$HOME/.cache/marquee}/nx-27017"
setup_mongo_standin() {
  if [ ! -x "$NX_VENV/bin/nx-27017" ]; then
    say "installing nx-27017 (a MongoDB wire-protocol server for the store tests; once)"
    command -v python3 >/dev/null || die "python3 not found: install it, then run this again"
    if ! python3 -m venv "$NX_VENV" 2>/dev/null; then
      as_root apt-get update -qq
      as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
      rm -rf "$NX_VENV"
      python3 -m venv "$NX_VENV"
    fi
    "$NX_VENV/bin/pip" install -q nx-27017
  fi
}

# A TCP port that was free a moment ago.
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# Builds the dashboard into dist/ (trunk, wasm-bindgen and wasm-opt; offline).
build_frontend() {
  say "building the dashboard (trunk build --release)"
  (cd "$REPO_ROOT" && trunk build --release --offline)
}
