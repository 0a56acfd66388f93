#!/usr/bin/env bash
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p /tmp/cs && tar -xzf "$here/node.tgz" -C /tmp/cs && tar -xzf "$here/lib.tgz" -C /tmp/cs
export PATH=/tmp/cs/node/bin:$PATH
timeout 60 node "$here/exit-time.mjs" 2>&1 | tee "$OUT/exit-time.txt"
for i in 1 2; do s=$(date +%s%N); node /tmp/cs/lib/node_modules/carbonscope/dist/src/cli/main.js run --source estimate -- true 2>/dev/null; echo "estimate run true: $(( ($(date +%s%N) - s) / 1000000 )) ms"; done | tee -a "$OUT/exit-time.txt"
