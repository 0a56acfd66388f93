#!/usr/bin/env bash
# Third call: carbonscope after the fixes, against the real nvidia-smi: monitor and a script's
# awaits (they ended with code 13 before), and run's GPU share by pmon with a foreign load beside.
set -u
here=$(cd "$(dirname "$0")" && pwd)
W=/tmp/devcap3; rm -rf "$W"; mkdir -p "$W"; cd "$W"
mkdir -p /tmp/cs && tar -xzf "$here/node.tgz" -C /tmp/cs && tar -xzf "$here/lib.tgz" -C /tmp/cs
export PATH=/tmp/cs/node/bin:$PATH CARBON_ZONE=DE
export lib=/tmp/cs/lib/node_modules/carbonscope
cs() { node "$lib/dist/src/cli/main.js" "$@"; }
step() { echo "== $(date -u +%T) $*" | tee -a steps.txt; }
step monitor; timeout 30 bash -c "$(declare -f cs); cs monitor --source nvidia-smi --interval 1s --duration 4s"; echo "monitor rc $?" >>steps.txt
step tracker; cat >t.mjs <<JS
import { EmissionsTracker, start, stop } from '$lib/dist/src/index.js';
const t = new EmissionsTracker('job'); await t.start();
const c = process.cpuUsage(); for (;;) { const u = process.cpuUsage(c); if (u.user + u.system >= 3e5) break; }
const f = await t.stop(); console.log(JSON.stringify(f));
const cs = await start(); await cs.firstSample(); console.log('firstSample ok'); await stop();
JS
ENERGY_SOURCE=nvidia-smi timeout 30 node t.mjs >tracker.out 2>tracker.err; echo "tracker rc $?" >>steps.txt
step share-beside; timeout 40 python3 "$here/load2.py" 16 0.3 2>foreign.err & F=$!
sleep 4
timeout 60 bash -c "$(declare -f cs); cs run --source nvidia-smi --json -v -o share.csv -- python3 '$here/load2.py' 10 1.0" >share-beside.json 2>share-beside.err; echo "share-beside rc $?" >>steps.txt
wait $F
step share-alone; timeout 60 bash -c "$(declare -f cs); cs run --source nvidia-smi --json -o share.csv -- python3 '$here/load2.py' 8 1.0" >share-alone.json 2>share-alone.err; echo "share-alone rc $?" >>steps.txt
step idle-beside; timeout 40 python3 "$here/load2.py" 10 1.0 2>foreign2.err & F=$!
sleep 4
timeout 30 bash -c "$(declare -f cs); cs run --source nvidia-smi --json -- sleep 4" >idle-beside.json 2>idle-beside.err; echo "idle-beside rc $?" >>steps.txt
wait $F
step done
tar -czf "$OUT/devcap3.tgz" -C "$W" .
tail -n 30 steps.txt tracker.out tracker.err share-beside.err share-alone.err idle-beside.err | cut -c1-260
