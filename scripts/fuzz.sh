#!/usr/bin/env bash
# fuzz.sh FUZZTIME pkg:FuzzName... runs each fuzz target for FUZZTIME
# (a duration such as 20s or 10m, or an exec count such as 500000x) and
# fails on any finding.
#
# One failure is not a finding: with a duration, Go 1.26's fuzz coordinator
# can report a bare "context deadline exceeded" at the very end of the run
# when a worker is still busy as the deadline fires (golang/go#75804, fixed
# in Go 1.27). A real finding always prints "Failing input written to" or a
# panic, and writes a file under testdata/fuzz. So a run that failed with
# only that line, wrote nothing new, and whose corpus then replays cleanly
# counts as passed, with a warning; every other failure fails.
set -uo pipefail
fuzztime=${1:?usage: fuzz.sh FUZZTIME pkg:FuzzName...}
shift
go=${GO:-go}
log=$(mktemp)
trap 'rm -f "$log"' EXIT
flaked=0
for t in "$@"; do
  pkg=${t%%:*} fn=${t##*:}
  corpus="./$pkg/testdata/fuzz/$fn"
  before=$(ls "$corpus" 2>/dev/null | sort)
  echo "fuzz $fn ($pkg) for $fuzztime"
  if "$go" test -run '^$' -fuzz "^$fn\$" -fuzztime "$fuzztime" "./$pkg" 2>&1 | tee "$log"; then
    continue
  fi
  after=$(ls "$corpus" 2>/dev/null | sort)
  if grep -q 'context deadline exceeded' "$log" &&
     ! grep -Eq 'Failing input written|panic:|fuzz: minimizing|_test\.go:[0-9]+:' "$log" &&
     [ "$before" = "$after" ]; then
    echo "fuzz: $fn: only the coordinator's end-of-run deadline race (golang/go#75804), no input written; replaying its corpus"
    if "$go" test -count=1 -run "^$fn\$" "./$pkg"; then
      flaked=$((flaked + 1))
      continue
    fi
  fi
  echo "fuzz: $fn ($pkg) failed; a failing input, if any, is under $corpus: rerun it with: go test -run '^$fn\$' ./$pkg" >&2
  exit 1
done
[ "$flaked" = 0 ] || echo "fuzz: warning: $flaked target(s) hit the end-of-run deadline race and were replayed instead"
echo "fuzz: every target passed"
