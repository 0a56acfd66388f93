#!/usr/bin/env bash
# The real OpenTelemetry Collector, built from otel-collector/ (main.go, go.mod, go.sum) with Go.
#   tools/otelcol.sh --path          builds it when missing, prints the binary's path
#   tools/otelcol.sh ARGS...         builds it when missing, runs it with ARGS
#                                    (npm run otelcol -- --config otel-collector/config.yaml)
# The binary is cached outside the repository under a name made of the Collector release and a
# hash of the manifest, so a change to main.go, go.mod or go.sum builds a new one and an unchanged
# manifest never builds twice. CARBONSCOPE_CACHE_DIR overrides the cache folder.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
manifest="$root/otel-collector"
cache="${CARBONSCOPE_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/carbonscope}"

version="$(sed -n 's|^[[:space:]]*go\.opentelemetry\.io/collector/otelcol v\([^[:space:]]*\).*|\1|p' \
  "$manifest/go.mod")"
[[ -n "$version" ]] || {
  echo "otelcol: no go.opentelemetry.io/collector/otelcol requirement in $manifest/go.mod" >&2
  exit 1
}
hash="$(cat "$manifest/main.go" "$manifest/go.mod" "$manifest/go.sum" | sha256sum | cut -c1-12)"
bin="$cache/otelcol-$version-$hash"

if [[ ! -x "$bin" ]]; then
  command -v go >/dev/null 2>&1 || {
    echo "otelcol: missing go: install Go $(sed -n 's/^go //p' "$manifest/go.mod") or later to build the OpenTelemetry Collector $version from otel-collector/" >&2
    exit 1
  }
  mkdir -p "$cache"
  echo "otelcol: building the OpenTelemetry Collector $version into $bin (once; a few minutes)" >&2
  started=$SECONDS
  # A temporary name, then a rename: a second build running at the same time never sees half a
  # binary, and a failed build leaves nothing behind.
  tmp="$(mktemp "$bin.XXXXXX")"
  if ! (cd "$manifest" && go build -mod=readonly -trimpath -buildvcs=false \
    -ldflags="-s -w -X main.version=$version" -o "$tmp" .) >&2; then
    rm -f "$tmp"
    echo "otelcol: go build of otel-collector/ failed (output above)" >&2
    exit 1
  fi
  chmod 755 "$tmp"
  mv -f "$tmp" "$bin"
  echo "otelcol: built in $((SECONDS - started)) s" >&2
fi

if [[ "${1:-}" == "--path" ]]; then
  echo "$bin"
  exit 0
fi
exec "$bin" "$@"
