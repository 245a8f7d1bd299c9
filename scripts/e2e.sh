#!/usr/bin/env bash
# Runs the Playwright suite (end2end/) in a fresh network namespace whose only interface is
# loopback: the servers and the browsers reach 127.0.0.1 (and 10.99.0.1, below) and nothing
# else, so no test can pass by talking to, or wait on, the outside world.
#
#   scripts/e2e.sh [playwright test arguments...]
#
# Expects the dev build (cargo leptos build) and end2end/node_modules to be in place:
# inside the namespace there is no registry to install from.
set -euo pipefail
cd "$(dirname "$0")/.."

# The server binary the Playwright config starts: the dev build, or the release build for
# the benchmarks (make bench).
binary=${DUET_E2E_BINARY:-target/debug/duet}
[ -x "$binary" ] || { echo "error: $binary is missing; build it first (make build, make release)" >&2; exit 1; }
[ -d end2end/node_modules ] || { echo "error: end2end/node_modules is missing; run make e2e-setup" >&2; exit 1; }

# Every run starts with an empty chat database (playwright.config.ts points the server here).
rm -rf target/e2e-data target/e2e-data-turn-*

# A second, non-loopback address on the namespace's loopback interface: the HTTPS server
# offers it as its LAN address, and pages opened there are secure contexts only thanks to
# HTTPS (end2end/tests/https.spec.ts). It is reachable from inside the namespace only.
export DUET_E2E_LAN_IP=10.99.0.1

# Creating a network namespace needs root. sudo resets PATH, so hand ours over (node, npm).
run_as_root=()
[ "$(id -u)" -eq 0 ] || run_as_root=(sudo -E env "PATH=$PATH")

# The local playwright binary, not npx, which may try the registry when something is off.
exec "${run_as_root[@]}" unshare --net sh -c \
    'ip link set lo up && ip addr add "$DUET_E2E_LAN_IP/32" dev lo &&
     cd end2end && exec ./node_modules/.bin/playwright test "$@"' sh "$@"
