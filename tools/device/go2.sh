#!/usr/bin/env bash
# Second call: the per-process views nvidia-smi gives (compute apps, pmon), idle and under two loads.
set -u
here=$(cd "$(dirname "$0")" && pwd)
W=/tmp/devcap2; rm -rf "$W"; mkdir -p "$W"; cd "$W"
mkdir -p /tmp/cs && tar -xzf "$here/node.tgz" -C /tmp/cs; export PATH=/tmp/cs/node/bin:$PATH
q='--query-compute-apps=gpu_uuid,pid,process_name,used_gpu_memory --format=csv,noheader,nounits'
{ nvidia-smi --help-query-compute-apps; } >help-compute-apps.txt 2>&1
{ nvidia-smi pmon -h; } >help-pmon.txt 2>&1
{ echo "== idle compute-apps"; nvidia-smi $q; echo "rc $?"; echo "== idle pmon -c 2 -s u"; timeout 10 nvidia-smi pmon -c 2 -s u; echo "rc $?"; } >idle.txt 2>&1
{ nvidia-smi -q -d ACCOUNTING; nvidia-smi --query-accounted-apps=gpu_uuid,pid,gpu_util,mem_util,max_memory_usage,time --format=csv; nvidia-smi -q -d PIDS; } >accounting-idle.txt 2>&1
timeout 40 python3 "$here/load2.py" 22 1.0 2>loadA.err & A=$!
timeout 40 python3 "$here/load2.py" 18 0.3 2>loadB.err & B=$!
sleep 8
{ echo "== A=$A B=$B"; ps -eo pid,ppid,comm | grep -i python; echo "== compute-apps"; nvidia-smi $q; echo "rc $?"; nvidia-smi --query-compute-apps=pid,used_memory --format=csv; } >load-apps.txt 2>&1
timeout 10 node "$here/stamp2.mjs" 4.5 nvidia-smi pmon -s u -d 1 >pmon-piped.txt 2>&1
timeout 10 node "$here/stamp2.mjs" 3.5 nvidia-smi pmon -s um -d 1 >pmon-um-piped.txt 2>&1
{ nvidia-smi -q -d PIDS; nvidia-smi -q -d ACCOUNTING; nvidia-smi --query-gpu=index,utilization.gpu,utilization.memory --format=csv; } >load-q.txt 2>&1
timeout 6 node "$here/stamp2.mjs" 2.5 nvidia-smi --query-compute-apps=pid,used_gpu_memory --format=csv,noheader,nounits -lms 500 >apps-loop-piped.txt 2>&1
wait
timeout 10 node "$here/stamp2.mjs" 2.5 nvidia-smi pmon -s u -d 1 >pmon-after.txt 2>&1
tar -czf "$OUT/devcap2.tgz" -C "$W" .
tail -n 40 load-apps.txt pmon-piped.txt apps-loop-piped.txt idle.txt loadA.err loadB.err | cut -c1-200
