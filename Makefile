# duet: `make run` builds a release and serves it; `make test` is what CI runs (.ci/run).
# Each target first installs the tools it needs (scripts/tools.sh) and skips those present.

SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help
# The steps of `test` run in the order listed and stop at the first failure, even under -j.
.NOTPARALLEL:

# cargo-installed tools first, then npm's wasm-opt (scripts/tools.sh wasm-opt), so both
# win over distribution packages (Debian's binaryen 108 is too old a wasm-opt).
export PATH := $(HOME)/.cargo/bin:$(CURDIR)/scripts/wasm-opt/node_modules/.bin:$(PATH)

TOOLS := scripts/tools.sh
# Extra arguments for `playwright test`, e.g. make e2e ARGS='-g cancel'.
ARGS ?=

# The environment cargo-leptos 0.3.11 gives cargo (Project::to_envs in its
# src/config/project.rs), i.e. [package.metadata.leptos] in Cargo.toml. Plain cargo gets the
# same, or each would throw away what the other compiled: leptos reads LEPTOS_OUTPUT_NAME
# with option_env!, and a change of RUSTFLAGS rebuilds every crate. First what a dev and a
# release build share, then each one's own.
LEPTOS_PROJECT_ENV := \
	LEPTOS_OUTPUT_NAME=duet \
	LEPTOS_SITE_PKG_DIR=pkg \
	LEPTOS_SITE_ADDR=127.0.0.1:3000 \
	LEPTOS_RELOAD_PORT=3001 \
	LEPTOS_LIB_DIR=. \
	LEPTOS_BIN_DIR=.
LEPTOS_BUILD_ENV := \
	$(LEPTOS_PROJECT_ENV) \
	LEPTOS_SITE_ROOT=target/site \
	LEPTOS_JS_MINIFY=false \
	LEPTOS_HASH_FILES=false \
	RUSTFLAGS='--cfg erase_components'
CARGO := env $(LEPTOS_BUILD_ENV) cargo
# cargo-leptos builds the WASM in its own target directory; checking it there reuses the
# build scripts and proc macros that build compiled.
FRONT_TARGET_DIR := target/front

# The release build's site is kept apart from the dev build's (target/site), so `make run`
# and `make test` never serve each other's files. Its WASM, JS and CSS are named after a
# hash of their contents (browsers may cache them for a year) and come with brotli and
# gzip copies (--precompress) that the server sends instead.
RELEASE_SITE := LEPTOS_SITE_ROOT=target/site-release LEPTOS_HASH_FILES=true
# What the release server needs at run time to find that site.
RELEASE_RUN_ENV := $(RELEASE_SITE) LEPTOS_SITE_PKG_DIR=pkg LEPTOS_OUTPUT_NAME=duet
# What cargo-leptos gives cargo for the release build (no --cfg erase_components), for
# the bench's own build of duet.
RELEASE_BUILD_ENV := \
	$(LEPTOS_PROJECT_ENV) \
	$(RELEASE_SITE) \
	LEPTOS_HASH_FILE_NAME=hash.txt \
	LEPTOS_JS_MINIFY=true

.PHONY: help setup toolchain bench-setup e2e-setup release-setup run build release bench test fmt clippy unit e2e clean

help:
	@echo 'make run        build a release and serve it (DUET_SITE_ADDR=host:port to move it,'
	@echo '                DUET_TLS=1 for HTTPS)'
	@echo 'make test       fmt, clippy (server and WASM), cargo test, dev build, Playwright'
	@echo 'make bench      the benchmark suite on the release build; report in target/bench/'
	@echo 'make e2e        dev build + Playwright only (ARGS=... goes to playwright test)'
	@echo 'make setup      install the Rust toolchain, cargo-leptos and wasm-bindgen if missing'
	@echo 'make clean      remove build output and test reports (keeps installed tools)'

# --- tools -------------------------------------------------------------------

toolchain:
	@$(TOOLS) rust

setup: toolchain
	@$(TOOLS) cargo-leptos wasm-bindgen

# valgrind for the bench's instruction counts (its smoke run is part of `unit`).
bench-setup:
	@$(TOOLS) valgrind

# Chromium, ip, unshare, node and Playwright for the browser tests.
e2e-setup:
	@$(TOOLS) e2e-system e2e-npm

# Release builds run wasm-opt; dev builds don't, so only `run` installs it.
release-setup: setup
	@$(TOOLS) wasm-opt

# --- run ---------------------------------------------------------------------

release: release-setup
	env $(RELEASE_SITE) cargo leptos build --release --precompress

run: release
	env $(RELEASE_RUN_ENV) target/release/duet

# --- bench -------------------------------------------------------------------

# The benchmark suite against the release build: the browser half (Playwright, call set-up
# and page load) writes target/bench/browser.json, then the server half (the relay's
# instructions per frame under valgrind's callgrind, which are the relay budgets; relay
# wall clock, as information; idle sockets; page weight) adds its figures and writes
# target/bench/report.md and report.json. Fails if a budget is missed. Needs valgrind.
# Parameters: see benches/bench/main.rs and end2end/bench.config.ts.
# Both halves measure the release build's binary. The server half is built in a target
# directory of its own: its dev-dependencies add features to a few shared crates
# (tempfile's rustix, for one), so in target/ it and the release build would each compile
# duet again after the other, on every run (~2 minutes each with LTO).
bench: release bench-setup e2e-setup
	rm -rf target/bench
	mkdir -p target/bench
	DUET_E2E_BINARY=target/release/duet DUET_BENCH_RUNS=$${DUET_BENCH_RUNS:-20} \
		DUET_BENCH_OUT=../target/bench/browser.json scripts/e2e.sh -c bench.config.ts
	env $(RELEASE_BUILD_ENV) DUET_BENCH_BINARY=target/release/duet \
		cargo bench --features ssr --bench bench --target-dir target/bench-build

# --- test --------------------------------------------------------------------

test: setup e2e-setup fmt clippy unit build e2e

fmt: toolchain
	cargo fmt --all --check

clippy: toolchain
	$(CARGO) clippy --all-targets --features ssr -- -D warnings
	$(CARGO) clippy --lib --features hydrate --target wasm32-unknown-unknown \
		--target-dir $(FRONT_TARGET_DIR) -- -D warnings

unit: toolchain bench-setup
	$(CARGO) test --features ssr

# Dev build: server target/debug/duet, site target/site.
build: setup
	cargo leptos build

e2e: e2e-setup build
	scripts/e2e.sh $(ARGS)

clean:
	cargo clean
	rm -rf end2end/test-results end2end/playwright-report end2end/blob-report
