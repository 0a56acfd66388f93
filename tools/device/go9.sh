#!/usr/bin/env bash
# After this stop's `run` changes (helper, run-edges): the CodeCarbon CSV's number format and
# gpu_utilization_percent, and --json's measurement.gpuShare, against the real nvidia-smi/pmon.
# Prepared in stop 55, when no machine was lent for it; ran in stop 56 (its output: call7 of
# packages/carbonscope/test/fixtures/energy/h200). node.tgz and lib.tgz: a node binary and
# `npm install --prefix lib` of the packed library, carried (git ignores them).
set -u
here=$(cd "$(dirname "$0")" && pwd)
W=/tmp/devcap9; rm -rf "$W"; mkdir -p "$W"; cd "$W"
mkdir -p /tmp/cs && tar -xzf "$here/node.tgz" -C /tmp/cs && tar -xzf "$here/lib.tgz" -C /tmp/cs
export PATH=/tmp/cs/node/bin:$PATH CARBON_ZONE=DE
export lib=/tmp/cs/lib/node_modules/carbonscope
cs() { node "$lib/dist/src/cli/main.js" "$@"; }
step() { echo "== $(date -u +%T) $*" | tee -a steps.txt; }
step load; timeout 60 bash -c "$(declare -f cs); cs run --source nvidia-smi --json -o emissions.csv -- python3 '$here/load.py' 8" >load.json 2>load.err; echo "load rc $?" >>steps.txt
step idle; timeout 30 bash -c "$(declare -f cs); cs run --json -o emissions.csv -- sleep 2" >idle.json 2>idle.err; echo "idle rc $?" >>steps.txt
step true; timeout 30 bash -c "$(declare -f cs); cs run --source nvidia-smi --json -- true" >true.json 2>true.err; echo "true rc $?" >>steps.txt
step done
cp -r "$W" "$OUT/call7"
cat steps.txt; cat emissions.csv; for f in load idle true; do echo "--- $f"; head -c 1500 $f.json; echo; tail -n 3 $f.err; done
