#!/usr/bin/env bash
# Prints what one mocha run's output (a file) says of its failures: mocha's "N failing" list and
# a leftover-files line (at most 200 lines), or the end of the output of a run that printed no
# closing "tests:" line (it crashed). Nothing for a run that passed. tools/test-suites.sh prints
# these again at the end, where a CI page that keeps only the end of the output shows them.
set -u
plain="$(sed 's/\x1b\[[0-9;]*m//g' "$1")"
if ! grep -qE '^tests: [0-9]+ passed' <<<"$plain"; then
  echo "a run that ended without its closing line; its last lines:"
  tail -30 <<<"$plain"
  exit 0
fi
{
  sed -n '/^ *[0-9][0-9]* failing$/,/^tests: /p' <<<"$plain" |
    grep -v -e '^tests: ' -e '^leftover temp files: '
  grep '^leftover temp files: ' <<<"$plain"
} | head -200
# head closes the pipe early on a long list: what it kept is the answer, not sed's SIGPIPE.
exit 0
