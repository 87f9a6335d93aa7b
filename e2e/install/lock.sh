#!/usr/bin/env bash
# Regenerates the hashed lock files e2e/lock/<component>.txt from e2e/lock/<component>.in,
# as e2e/lock/components.json describes them (input, optional exclude list, optional exclude-newer date).
#
#   e2e/install/lock.sh                 # every Python component
#   e2e/install/lock.sh openwebui mcpo  # only these
#
# Resolves for CPython 3.11 on x86_64 Linux (the images' Python), from PyPI only. Needs uv
# (install.sh installs the pinned one under the cache; else `pip install uv`) and jq.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
LOCK_DIR="$(cd "$HERE/../lock" && pwd)"
COMPONENTS="$LOCK_DIR/components.json"
CACHE="${OWUI_E2E_CACHE:-$HOME/.cache/owui-e2e}"

die() { echo "lock: $*" >&2; exit 1; }
command -v jq >/dev/null || die "jq is missing (apt-get install jq)"

UV_PIN="$(jq -r .uv "$COMPONENTS")"
UV_VERSION="${UV_PIN#uv==}"
UV="$CACHE/tools/uv-$UV_VERSION/bin/uv"
if [[ ! -x "$UV" ]]; then
  UV="$(command -v uv || true)"
  [[ -n "$UV" ]] || die "uv not found: run 'pnpm e2e:install' first (it installs $UV_PIN) or 'pip install $UV_PIN'"
fi
export UV_PYTHON_DOWNLOADS=never
export UV_CACHE_DIR="${UV_CACHE_DIR:-$CACHE/uv-cache}"

if [[ $# -gt 0 ]]; then names=("$@"); else mapfile -t names < <(jq -r '.python | keys[]' "$COMPONENTS"); fi

for name in "${names[@]}"; do
  spec="$(jq -c --arg n "$name" '.python[$n] // empty' "$COMPONENTS")"
  [[ -n "$spec" ]] || die "no Python component '$name' in $COMPONENTS"
  input="$(jq -r '.input' <<<"$spec")"
  lock="$(jq -r '.lock' <<<"$spec")"
  exclude="$(jq -r '.exclude // empty' <<<"$spec")"
  newer="$(jq -r '.excludeNewer // empty' <<<"$spec")"
  args=(pip compile "$input" -o "$lock" --quiet
        --python-version 3.11 --python-platform x86_64-unknown-linux-gnu
        --generate-hashes --index-url https://pypi.org/simple
        --custom-compile-command "e2e/install/lock.sh $name")
  [[ -n "$exclude" ]] && args+=(--excludes "$exclude")
  [[ -n "$newer" ]] && args+=(--exclude-newer "$newer")
  start=$SECONDS
  (cd "$LOCK_DIR" && "$UV" "${args[@]}") || die "resolving $name failed"
  echo "lock $name -> e2e/lock/$lock ($(grep -c '^[a-zA-Z0-9]' "$LOCK_DIR/$lock") packages, $((SECONDS - start))s)"
done
