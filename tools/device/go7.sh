#!/usr/bin/env bash
# Stop 55's one device call: the shared capture (as issue 20 asks of every task that draws the
# machine), then carbonscope's cost per request on dedicated cores (overhead.mjs), which the
# 2-core VM at home cannot give: there the servers and the load share two vCPUs with other tenants.
set -u
here=$(cd "$(dirname "$0")" && pwd)
W=/tmp/devcap; rm -rf "$W"; mkdir -p "$W"
step() { echo "== $(date -u +%T) $*" | tee -a "$W/steps.txt"; }
step capture; timeout 90 bash "$here/capture-power.sh" "$W/capture" >"$W/capture.log" 2>&1
mkdir -p /tmp/cs && tar -xzf "$here/node.tgz" -C /tmp/cs && tar -xzf "$here/lib.tgz" -C /tmp/cs
export PATH=/tmp/cs/node/bin:$PATH
cp "$here"/hello-http.mjs "$here"/hello-koa.mjs "$here"/loadgen.mjs /tmp/cs/lib/
{ node --version; nproc; command -v taskset perf; uptime; } >"$W/env.txt" 2>&1
step overhead; timeout 240 node "$here/overhead.mjs" /tmp/cs/lib "$W/overhead.json" 12 >"$W/overhead.txt" 2>&1
step done; uptime >>"$W/env.txt"
tar -czf "$OUT/devcap.tgz" -C "$W" .
cat "$W/env.txt"; tail -n 8 "$W/capture/nvidia-smi-load.csv"; cat "$W/overhead.txt" | cut -c1-400
