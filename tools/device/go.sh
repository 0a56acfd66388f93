#!/usr/bin/env bash
# One device call: the shared capture, then carbonscope itself (packed tarball, Node 20) against the
# real nvidia-smi and powercap tree. Everything lands in $W, tarred into $OUT at the end.
set -u
here=$(cd "$(dirname "$0")" && pwd)
W=${W:-/tmp/devcap}; rm -rf "$W"; mkdir -p "$W"
step() { echo "== $(date -u +%T) $*" | tee -a "$W/steps.txt"; }
step capture; timeout 90 bash "$here/capture-power.sh" "$W/capture" >"$W/capture.log" 2>&1
{ nvidia-smi --version; nvidia-smi --query-gpu=index,mig.mode.current,persistence_mode,power.management,power.default_limit,clocks.sm --format=csv; } >"$W/smi-extra.txt" 2>&1
mkdir -p /tmp/cs && tar -xzf "$here/node.tgz" -C /tmp/cs && tar -xzf "$here/lib.tgz" -C /tmp/cs
export PATH=/tmp/cs/node/bin:$PATH
cs() { node /tmp/cs/lib/node_modules/carbonscope/dist/src/cli/main.js "$@"; }
node --version >"$W/node-version.txt" 2>&1
step stamp; timeout 10 node "$here/stamp2.mjs" 3 nvidia-smi --query-gpu=index,uuid,name,power.draw --format=csv,noheader,nounits -lms 200 >"$W/stamp-piped.txt" 2>&1
cd "$W"
step run-gpu; timeout 60 bash -c "$(declare -f cs); cs run --source nvidia-smi --interval 500ms --json -v -o emissions-gpu.csv -- python3 '$here/load.py' 10" >run-gpu.json 2>run-gpu.err
step run-auto; timeout 60 bash -c "$(declare -f cs); cs run --json -v -o emissions-auto.csv -- python3 '$here/load.py' 5" >run-auto.json 2>run-auto.err
step run-idle; timeout 30 bash -c "$(declare -f cs); cs run --source nvidia-smi --json -v -- sleep 4" >run-idle.json 2>run-idle.err
step monitor; (sleep 2; timeout 20 python3 "$here/load.py" 4) & timeout 30 bash -c "$(declare -f cs); cs monitor --source nvidia-smi --interval 1s --duration 9s -v" >monitor.out 2>monitor.err; wait
step done
tar -czf "$OUT/devcap.tgz" -C "$W" .
cp "$W/steps.txt" "$OUT/steps.txt"
cd "$W"; tail -n 25 capture/nvidia-smi-load.csv run-gpu.err run-auto.err monitor.err stamp-piped.txt 2>&1 | cut -c1-300
