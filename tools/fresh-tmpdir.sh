#!/usr/bin/env bash
# Runs a command (npm test's suites) with TMPDIR set to a folder made for this run alone, so that
# another run or process cannot put anything there or take anything away: what is in it when the
# suites end, they left (test/temp-leftovers.cjs fails the run then). The folder goes afterwards,
# whatever is in it, so that a failed run leaves nothing in the machine's temporary folder either.
set -uo pipefail
dir="$(mktemp -d "${TMPDIR:-/tmp}/carbonscope-suites.XXXXXX")" || exit 1
trap 'rm -rf "$dir"' EXIT
# GRID_SHARE=process: each spec's Electricity Maps stub is an upstream of its own, on a port the
# system picks; with the host share on, a port used again within the cache's TTL under the same
# test key was answered from another spec's value. The host share's own spec turns it on.
TMPDIR="$dir" CARBONSCOPE_SUITES_TMPDIR="$dir" GRID_SHARE=process "$@"
