#!/usr/bin/env bash
# Installs the tools duet's build and tests need, each only when it is missing or at the
# wrong version, so running this before every build costs a few version checks.
#
#   scripts/tools.sh STEP...
#
#   rust          the toolchain rust-toolchain.toml names, with rustfmt, clippy and the wasm
#                 target, and a C compiler (SQLite is compiled into duet)
#   cargo-leptos  cargo-leptos, exactly the version below
#   wasm-bindgen  the wasm-bindgen CLI, exactly the version of the wasm-bindgen crate in Cargo.lock
#   wasm-opt      binaryen's wasm-opt >= 116 for release builds: a native one on PATH if
#                 there is one, else binaryen's Node.js build from npm (scripts/wasm-opt/)
#   valgrind      valgrind and vgdb (apt): the bench counts the relay's instructions with them
#   e2e-system    chromium, ip, unshare, node >= 20, npm and coturn (apt)
#   e2e-npm       end2end/node_modules from end2end/package-lock.json
set -euo pipefail
cd "$(dirname "$0")/.."

CARGO_LEPTOS_VERSION=0.3.11
# Debian's binaryen (108) is too old to read what current rustc and wasm-bindgen emit.
WASM_OPT_MIN_BINARYEN=116
# npm's binaryen (its version in scripts/wasm-opt/package-lock.json) installs in seconds;
# compiling binaryen's C++ for a native one takes 15-25 minutes on two cores.
WASM_OPT_NPM_DIR=scripts/wasm-opt
# @playwright/test and npm's binaryen need it.
NODE_MIN_MAJOR=20

# As the Makefile orders them: cargo's tools, then npm's wasm-opt, then the system's.
export PATH="$HOME/.cargo/bin:$PWD/$WASM_OPT_NPM_DIR/node_modules/.bin:$PATH"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo

say() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Second word of `TOOL --version` ("cargo-leptos 0.3.11" -> 0.3.11), empty if TOOL is absent.
version_of() { { "$@" --version 2>/dev/null || true; } | awk 'NR == 1 { print $2 }'; }

# A build of the same crate may already be under way (another make, or a manual install);
# a second one would take as long again and race it for ~/.cargo/bin, so wait for it.
wait_for_other_install() {
    local crate=$1
    while pgrep -f "cargo install $crate( |$)" >/dev/null; do
        say "another 'cargo install $crate' is running; waiting for it"
        sleep 15
    done
}

APT_UPDATED=""
apt_install() {
    command -v apt-get >/dev/null || die "missing $*, and no apt-get to install it with"
    if [ -z "$APT_UPDATED" ]; then
        $SUDO apt-get update
        APT_UPDATED=1
    fi
    say "installing $* (apt)"
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y "$@"
}

# cargo install builds C (ring) and C++ (binaryen) code.
need_c_compiler() {
    command -v cc >/dev/null && command -v c++ >/dev/null || apt_install build-essential
}

# Playwright and npm's wasm-opt run on Node.js.
need_node() {
    local missing=()
    command -v node >/dev/null || missing+=(nodejs)
    command -v npm >/dev/null || missing+=(npm)
    [ ${#missing[@]} -eq 0 ] || apt_install "${missing[@]}"
    local major
    major=$(node -p 'process.versions.node.split(".")[0]')
    [ "$major" -ge "$NODE_MIN_MAJOR" ] ||
        die "node $(node --version) is too old; install node >= $NODE_MIN_MAJOR"
}

step_rust() {
    command -v rustup >/dev/null && command -v cargo >/dev/null ||
        die "rustup and cargo are not installed; install rustup (https://rustup.rs) and run this again"
    # duet itself compiles C: SQLite, bundled by rusqlite.
    need_c_compiler
    local channel
    channel=$(sed -n 's/^channel *= *"\(.*\)"/\1/p' rust-toolchain.toml)
    [ -n "$channel" ] || die "no channel found in rust-toolchain.toml"
    # Named explicitly rather than by a bare `rustup toolchain install`, which only rustup
    # >= 1.28 reads from rust-toolchain.toml; fmt, clippy and the wasm build need these parts.
    if rustup toolchain list | grep -q "^$channel-" &&
        rustup component list --toolchain "$channel" --installed | grep -q '^rustfmt-' &&
        rustup component list --toolchain "$channel" --installed | grep -q '^clippy-' &&
        rustup target list --toolchain "$channel" --installed | grep -qx wasm32-unknown-unknown; then
        return
    fi
    say "installing Rust $channel"
    rustup toolchain install "$channel" --profile minimal \
        --component rustfmt,clippy --target wasm32-unknown-unknown
}

step_cargo_leptos() {
    [ "$(version_of cargo-leptos)" = "$CARGO_LEPTOS_VERSION" ] && return
    wait_for_other_install cargo-leptos
    [ "$(version_of cargo-leptos)" = "$CARGO_LEPTOS_VERSION" ] && return
    need_c_compiler
    say "installing cargo-leptos $CARGO_LEPTOS_VERSION (about 20 minutes)"
    # From the repository, so rust-toolchain.toml's compiler builds it: 0.3.11 needs rustc >= 1.96.
    cargo install cargo-leptos --version "$CARGO_LEPTOS_VERSION" --locked
}

step_wasm_bindgen() {
    local want
    want=$(awk '$0 == "name = \"wasm-bindgen\"" { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
    [ -n "$want" ] || die "no wasm-bindgen package in Cargo.lock"
    # The CLI must match the crate exactly, or the generated JS and the WASM disagree.
    [ "$(version_of wasm-bindgen)" = "$want" ] && return
    wait_for_other_install wasm-bindgen-cli
    [ "$(version_of wasm-bindgen)" = "$want" ] && return
    need_c_compiler
    say "installing wasm-bindgen-cli $want"
    # Not --locked: its lockfile names a crate version the registry no longer has.
    cargo install wasm-bindgen-cli --version "$want"
}

step_wasm_opt() {
    local have
    # Prints e.g. "wasm-opt version 116 (version_116)". A native one >= 116 (cargo's or the
    # system's) is kept; npm's is already first after cargo's on PATH once installed.
    have=$({ wasm-opt --version 2>/dev/null || true; } | sed -n 's/.*version \([0-9][0-9]*\).*/\1/p' | head -n 1)
    [ -n "$have" ] && [ "$have" -ge "$WASM_OPT_MIN_BINARYEN" ] && return
    need_node
    say "installing wasm-opt (npm binaryen, into $WASM_OPT_NPM_DIR)"
    (cd "$WASM_OPT_NPM_DIR" && npm ci --no-audit --no-fund)
}

step_valgrind() {
    command -v valgrind >/dev/null && command -v vgdb >/dev/null || apt_install valgrind
}

step_e2e_system() {
    local missing=()
    [ -x /usr/bin/chromium ] || missing+=(chromium) # the path playwright.config.ts names
    command -v ip >/dev/null || missing+=(iproute2)
    command -v unshare >/dev/null || missing+=(util-linux)
    # The real TURN server the TURN tests relay through (end2end/turn-servers.ts starts it).
    command -v turnserver >/dev/null || missing+=(coturn)
    [ ${#missing[@]} -eq 0 ] || apt_install "${missing[@]}"
    need_node
}

step_e2e_npm() {
    # npm rewrites node_modules/.package-lock.json on every install: a cheap "installed from
    # this lockfile" stamp.
    if [ end2end/node_modules/.package-lock.json -nt end2end/package-lock.json ]; then
        return
    fi
    say "installing end2end/node_modules (npm ci)"
    # Playwright drives Debian's chromium; never fetch its own browsers.
    (cd end2end && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund)
}

[ $# -gt 0 ] || die "usage: $0 rust|cargo-leptos|wasm-bindgen|wasm-opt|valgrind|e2e-system|e2e-npm..."
for step in "$@"; do
    case $step in
        rust) step_rust ;;
        cargo-leptos) step_cargo_leptos ;;
        wasm-bindgen) step_wasm_bindgen ;;
        wasm-opt) step_wasm_opt ;;
        valgrind) step_valgrind ;;
        e2e-system) step_e2e_system ;;
        e2e-npm) step_e2e_npm ;;
        *) die "unknown step: $step" ;;
    esac
done
