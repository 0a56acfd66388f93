#!/usr/bin/env bash
# Stop 54 (pmon edges): the MIG query's real answer and its time, then run's GPU share against the
# real nvidia-smi pmon: alone (no GPU named as unshared), and `sleep` beside a load (0 J: unknown).
set -u
here=$(cd "$(dirname "$0")" && pwd)
W=/tmp/devcap4; rm -rf "$W"; mkdir -p "$W"; cd "$W"
mkdir -p /tmp/cs && tar -xzf "$here/node.tgz" -C /tmp/cs && tar -xzf "$here/lib.tgz" -C /tmp/cs
export PATH=/tmp/cs/node/bin:$PATH CARBON_ZONE=DE
export lib=/tmp/cs/lib/node_modules/carbonscope
cs() { node "$lib/dist/src/cli/main.js" "$@"; }
step() { echo "== $(date -u +%T.%N | cut -c1-12) $*" | tee -a steps.txt; }
step mig
for i in 1 2 3; do
  s=$(date +%s%N); nvidia-smi --query-gpu=index,mig.mode.current --format=csv,noheader >>mig.txt 2>&1; echo "rc $? $(( ($(date +%s%N) - s) / 1000000 )) ms" >>mig.txt
done
nvidia-smi --query-gpu=index,mig.mode.current,mig.mode.pending --format=csv >>mig.txt 2>&1
step share-alone
timeout 60 bash -c "$(declare -f cs); cs run --source nvidia-smi --json -o share.csv -- python3 '$here/load2.py' 6 1.0" >share-alone.json 2>share-alone.err; echo "share-alone rc $?" >>steps.txt
step idle-beside; timeout 40 python3 "$here/load2.py" 9 1.0 2>foreign.err & F=$!
sleep 4
timeout 30 bash -c "$(declare -f cs); cs run --source nvidia-smi --json -o share.csv -- sleep 3" >idle-beside.json 2>idle-beside.err; echo "idle-beside rc $?" >>steps.txt
wait $F
step start-cost
for i in 1 2 3; do
  s=$(date +%s%N); timeout 30 bash -c "$(declare -f cs); cs run --source nvidia-smi -- true" >/dev/null 2>>start.err; echo "run true: $(( ($(date +%s%N) - s) / 1000000 )) ms" >>steps.txt
done
step done
cp mig.txt steps.txt share-alone.json share-alone.err idle-beside.json idle-beside.err share.csv "$OUT/" 2>/dev/null
tail -n 40 mig.txt steps.txt share-alone.err idle-beside.err | cut -c1-300
