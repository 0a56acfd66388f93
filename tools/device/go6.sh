#!/usr/bin/env bash
# After the 150 ms stop grace: what `run -- true` costs beside the real nvidia-smi, against the
# estimate alone, and that no nvidia-smi is left running after it.
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p /tmp/cs && tar -xzf "$here/node.tgz" -C /tmp/cs && tar -xzf "$here/lib.tgz" -C /tmp/cs
export PATH=/tmp/cs/node/bin:$PATH CARBON_ZONE=DE
main=/tmp/cs/lib/node_modules/carbonscope/dist/src/cli/main.js
for src in nvidia-smi estimate nvidia-smi estimate nvidia-smi estimate; do
  s=$(date +%s%N); node "$main" run --source "$src" -- true 2>/dev/null
  echo "run --source $src -- true: $(( ($(date +%s%N) - s) / 1000000 )) ms"
done | tee "$OUT/run-true.txt"
sleep 0.5; echo "nvidia-smi still running: $(pgrep -c nvidia-smi)" | tee -a "$OUT/run-true.txt"
