#!/usr/bin/env bash
# Runs the whole test suite: the unused-dependency check, then unit, property, per-service and
# whole-system tests, each store test on SQLite and PostgreSQL, against real nats-servers the
# tests start themselves.
set -euo pipefail
source "$(dirname "$0")/scripts/common.sh"
cd "$(repo_root)"
ensure_nats_server
ensure_postgres
ensure_python_grpc
ensure_cargo_machete
export CMS_TEST_POSTGRES_URL="${CMS_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432}"
echo "checking for unused dependencies (cargo machete)"
cargo machete
cargo build --workspace --bins
cargo test --workspace --no-fail-fast "$@"
