#!/usr/bin/env bash
# A throwaway PostgreSQL server for tests (functions/db-bootstrap and anything else that needs one).
#
#   eval "$(scripts/pg-test-server.sh start)"   # exports PG_TEST_URL, PG_TEST_DIR (and PG_TEST_CA)
#   ...run tests...
#   scripts/pg-test-server.sh stop               # stops the server and deletes $PG_TEST_DIR
#
#   scripts/pg-test-server.sh stop <dir>         # same, for an explicit PG_TEST_DIR
#
# `start` prints ONLY `export NAME=value` lines on stdout (progress goes to stderr), so `eval` is safe.
# It:
#   - finds the server binaries (pg_ctl, initdb, postgres: on PATH, $PG_BIN, or the newest
#     /usr/lib/postgresql/<v>/bin); if there are none, installs Debian's `postgresql` package with
#     apt-get (as root, or through passwordless sudo), without starting the distribution's own
#     cluster;
#   - creates a cluster in a fresh temp dir ($PG_TEST_TMP or /tmp). PostgreSQL refuses to run as
#     root, so as root the cluster belongs to the `postgres` system user (created if missing);
#     otherwise it belongs to the calling user;
#   - listens on 127.0.0.1 only, on a free port (or $PG_TEST_PORT), socket inside the temp dir;
#   - auth: the superuser `postgres` is trusted over TCP from 127.0.0.1 (no password); every other
#     role must log in with a real scram-sha-256 password check (password_encryption=scram-sha-256);
#   - TLS: when openssl is available, makes a throwaway CA and a server certificate for 127.0.0.1
#     and localhost, turns `ssl` on (plain connections are still accepted) and exports
#     PG_TEST_CA=<CA certificate file>, so clients can test certificate verification;
#   - PG_TEST_SSL=off starts it without TLS (for builds without SSL support);
#   - exports PG_TEST_URL=postgresql://postgres@127.0.0.1:<port>/postgres (superuser) and
#     PG_TEST_DIR=<temp dir> (what `stop` needs).
# Exit status is non-zero, with the reason on stderr, when no server can be had.
set -euo pipefail

log() { printf 'pg-test-server: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

find_bin_dir() {
  if [[ -n "${PG_BIN:-}" && -x "${PG_BIN}/pg_ctl" ]]; then echo "$PG_BIN"; return 0; fi
  local p
  if p="$(command -v pg_ctl 2>/dev/null)" && [[ -x "$(dirname "$p")/initdb" ]]; then
    dirname "$(readlink -f "$p")"; return 0
  fi
  local d best=""
  for d in /usr/lib/postgresql/*/bin; do # newest major version wins
    if [[ -x "$d/pg_ctl" && -x "$d/initdb" && -x "$d/postgres" ]]; then
      if [[ -z "$best" ]] || [[ "$(printf '%s\n%s\n' "$best" "$d" | sort -V | tail -n 1)" == "$d" ]]; then best="$d"; fi
    fi
  done
  [[ -n "$best" ]] && echo "$best"
}

install_postgres() {
  local sudo=()
  if [[ "$(id -u)" != 0 ]]; then
    sudo -n true 2>/dev/null || die "no PostgreSQL server binaries found, not root and no passwordless sudo: install the 'postgresql' package (or set PG_BIN)"
    sudo=(sudo -n)
  fi
  command -v apt-get >/dev/null || die "no PostgreSQL server binaries found and no apt-get: install PostgreSQL (or set PG_BIN)"
  log "installing Debian's postgresql package (apt-get)"
  # policy-rc.d exit 101 stops the package's postinst from starting the distribution's own cluster.
  local policy=/usr/sbin/policy-rc.d created_policy=0
  if [[ ! -e "$policy" ]]; then
    printf '#!/bin/sh\nexit 101\n' | "${sudo[@]}" tee "$policy" >/dev/null && "${sudo[@]}" chmod +x "$policy" && created_policy=1
  fi
  local ok=1
  {
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
      "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql
  } >&2 || ok=0
  if [[ $created_policy == 1 ]]; then "${sudo[@]}" rm -f "$policy"; fi
  [[ $ok == 1 ]] || die "apt-get install postgresql failed"
}

port_is_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

pick_port() {
  local p
  for _ in $(seq 1 50); do
    p=$((20000 + (RANDOM * 32768 + RANDOM) % 40000))
    if port_is_free "$p"; then echo "$p"; return 0; fi
  done
  die "no free TCP port found"
}

# as_owner CMD...: runs CMD as the cluster owner.
as_owner() {
  if [[ "$OWNER" == "$(id -un)" ]]; then "$@"; return; fi
  if command -v runuser >/dev/null; then runuser -u "$OWNER" -- "$@"; return; fi
  local q; printf -v q '%q ' "$@"
  su -s /bin/sh "$OWNER" -c "$q"
}

# make_certs DIR: DIR/ca.crt, and DIR/server.{crt,key} signed by it for 127.0.0.1 and localhost.
make_certs() {
  local d="$1"
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=pg-test-server CA" \
    -keyout "$d/ca.key" -out "$d/ca.crt" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
  openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout "$d/server.key" -out "$d/server.csr"
  printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n' >"$d/server.ext"
  openssl x509 -req -in "$d/server.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" -CAcreateserial -days 2 \
    -extfile "$d/server.ext" -out "$d/server.crt"
  chmod 0644 "$d/ca.crt" "$d/server.crt"
}

cmd_start() {
  local bin
  bin="$(find_bin_dir)" || { install_postgres; bin="$(find_bin_dir)" || die "postgresql installed but no server binaries found"; }
  log "using $("$bin/postgres" --version) from $bin"

  OWNER="$(id -un)"
  if [[ "$(id -u)" == 0 ]]; then
    OWNER=postgres
    if ! id -u "$OWNER" >/dev/null 2>&1; then
      log "creating system user $OWNER"
      useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$OWNER" >&2 ||
        die "cannot create the $OWNER user"
    fi
  fi

  local base dir port
  base="${PG_TEST_TMP:-/tmp}"
  dir="$(mktemp -d "$base/pg-test.XXXXXX")"
  chmod 0755 "$dir"
  [[ "$OWNER" == "$(id -un)" ]] || chown "$OWNER" "$dir"

  as_owner "$bin/initdb" -D "$dir/data" -U postgres -E UTF8 --locale=C --no-sync \
    --auth-local=trust --auth-host=scram-sha-256 >"$dir/initdb.log" 2>&1 ||
    { cat "$dir/initdb.log" >&2; rm -rf "$dir"; die "initdb failed"; }

  # Superuser trusted from loopback; every other role must pass a real scram-sha-256 check.
  as_owner sh -c "cat > '$dir/data/pg_hba.conf'" <<'EOF'
# TYPE  DATABASE  USER      ADDRESS        METHOD
local   all       postgres                 trust
host    all       postgres  127.0.0.1/32   trust
host    all       all       127.0.0.1/32   scram-sha-256
EOF

  local ssl_opts="" ca=""
  if [[ "${PG_TEST_SSL:-on}" == "off" ]]; then
    log "PG_TEST_SSL=off: starting without TLS"
  elif command -v openssl >/dev/null; then
    if make_certs "$dir" >"$dir/openssl.log" 2>&1; then
      install -o "$OWNER" -m 0644 "$dir/server.crt" "$dir/data/server.crt"
      install -o "$OWNER" -m 0600 "$dir/server.key" "$dir/data/server.key"
      ssl_opts="-c ssl=on -c ssl_cert_file=server.crt -c ssl_key_file=server.key"
      ca="$dir/ca.crt"
    else
      log "openssl failed (see $dir/openssl.log); starting without TLS"
    fi
  else
    log "no openssl: starting without TLS"
  fi

  local attempt
  for attempt in 1 2 3; do
    port="${PG_TEST_PORT:-$(pick_port)}"
    if as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 start \
      -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$dir -c password_encryption=scram-sha-256 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=100 $ssl_opts" \
      >/dev/null 2>>"$dir/pg_ctl.log"; then
      log "started on 127.0.0.1:$port (data $dir/data, log $dir/server.log)"
      printf 'export PG_TEST_DIR=%q\n' "$dir"
      if [[ -n "$ca" ]]; then printf 'export PG_TEST_CA=%q\n' "$ca"; fi
      printf 'export PG_TEST_URL=%q\n' "postgresql://postgres@127.0.0.1:$port/postgres"
      return 0
    fi
    log "start on port $port failed (attempt $attempt)"
    [[ -z "${PG_TEST_PORT:-}" ]] || break
  done
  cat "$dir/pg_ctl.log" "$dir/server.log" >&2 2>/dev/null || true
  rm -rf "$dir"
  die "postgres did not start"
}

cmd_stop() {
  local dir="${1:-${PG_TEST_DIR:-}}"
  [[ -n "$dir" ]] || die "stop: pass the directory or set PG_TEST_DIR"
  [[ -d "$dir" ]] || { log "stop: $dir does not exist (already stopped?)"; return 0; }
  [[ "$(basename "$dir")" == pg-test.* ]] || die "stop: $dir is not a pg-test-server directory"
  if [[ -f "$dir/data/postmaster.pid" ]]; then
    local bin
    bin="$(find_bin_dir)" || die "stop: no pg_ctl found"
    OWNER="$(stat -c %U "$dir/data")"
    as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate -w -t 30 stop >/dev/null 2>&1 ||
      log "stop: pg_ctl stop failed (server not running?)"
  fi
  rm -rf "$dir"
  log "stopped and removed $dir"
}

case "${1:-}" in
  start) cmd_start ;;
  stop) shift; cmd_stop "${1:-}" ;;
  *)
    echo "usage: eval \"\$($0 start)\"   # exports PG_TEST_URL, PG_TEST_DIR, PG_TEST_CA (when TLS is on)" >&2
    echo "       $0 stop [dir]            # default dir: \$PG_TEST_DIR" >&2
    exit 2
    ;;
esac
