#!/usr/bin/env bash
# go7.sh's overhead part again, with the Prometheus exporter installed (go7.sh's register servers
# lacked it, so they exported nothing), and a second Koa pair for the per-process spread.
set -u
here=$(cd "$(dirname "$0")" && pwd)
W=/tmp/devcap; rm -rf "$W"; mkdir -p "$W"
step() { echo "== $(date -u +%T) $*" | tee -a "$W/steps.txt"; }
# the capture ran once, in go7.sh
mkdir -p /tmp/cs && tar -xzf "$here/node.tgz" -C /tmp/cs && tar -xzf "$here/lib.tgz" -C /tmp/cs
export PATH=/tmp/cs/node/bin:$PATH
cp "$here"/hello-http.mjs "$here"/hello-koa.mjs "$here"/loadgen.mjs /tmp/cs/lib/
{ node --version; nproc; command -v taskset perf; uptime; } >"$W/env.txt" 2>&1
step overhead; VARIANTS=http,httpRegister,koa,koaAgain,koaRegister timeout 240 node "$here/overhead.mjs" /tmp/cs/lib "$W/overhead.json" 12 >"$W/overhead.txt" 2>&1
step done; uptime >>"$W/env.txt"
tar -czf "$OUT/devcap.tgz" -C "$W" .
cat "$W/env.txt"; tail -n 8 "$W/capture/nvidia-smi-load.csv"; cat "$W/overhead.txt" | cut -c1-400
