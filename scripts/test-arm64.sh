#!/usr/bin/env bash
# test-arm64.sh [FUZZTIME] checks the arm64 build on any Linux machine
# under qemu-user emulation: knn's tests with the NEON kernels required
# (and the pure-Go ones with -tags purego),
# each kernel fuzz target (NEON against the pure-Go twin) for FUZZTIME
# (default 10s), then, when the artifact and the payloads are there, the
# in-process replay of every shared payload with a brute-force sample.
# Emulation proves results, not speed: no timing it prints means anything
# for real arm64 hardware (docs/SEARCH.md, "Kernels").
#
# The fuzz coordinator starts its workers by exec'ing the test binary, so
# the kernel must hand arm64 binaries to qemu by itself (binfmt_misc, as
# Debian's qemu-user-binfmt or qemu-user-static registers it); the tests
# and the replay run through qemu-aarch64 directly.
set -euo pipefail
fuzztime=${1:-10s}
go=${GO:-go}
qemu=${QEMU:-qemu-aarch64}
artifact=${ARTIFACT:-build/index.fknn}
payloads=${PAYLOADS:-../shared/data/test-data.json.gz}
brute=${BRUTE:-50}
mkdir -p build
log=$(mktemp)
trap 'rm -f "$log"' EXIT

echo "== arm64 under $qemu: knn tests, NEON kernels required"
FRAUDKNN_EXPECT_KERNELS=neon GOARCH=arm64 "$go" test -count=1 -exec "$qemu" ./knn/...
echo "test-arm64: knn passed with the NEON kernels active (TestKernelChoice requires them)"
FRAUDKNN_EXPECT_KERNELS=go GOARCH=arm64 "$go" test -count=1 -tags purego -exec "$qemu" -run '^TestKernelChoice$' ./knn
echo "test-arm64: -tags purego still forces the pure-Go kernels on arm64"

echo "== arm64 under $qemu: kernel fuzz targets against the pure-Go kernels, $fuzztime each"
if [ ! -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ]; then
  echo "test-arm64: this kernel does not run arm64 binaries through qemu (no binfmt_misc entry qemu-aarch64), which the fuzz workers need: install Debian's qemu-user-binfmt (or qemu-user-static)" >&2
  exit 1
fi
# -fuzz builds in the coverage instrumentation the fuzzer is guided by;
# go test -fuzz itself cannot run a binary through -exec.
bin=$PWD/build/knn-fuzz-arm64.test
GOARCH=arm64 "$go" test -c -fuzz=. -o "$bin" ./knn
for fn in FuzzScanKernel FuzzBoundsKernel FuzzCentroidKernel FuzzNearestTwoKernel; do
  echo "fuzz $fn (knn, arm64) for $fuzztime"
  before=$(ls "knn/testdata/fuzz/$fn" 2>/dev/null | sort || true)
  # TestKernelChoice runs first: the fuzzing must compare the NEON kernels.
  if (cd knn && FRAUDKNN_EXPECT_KERNELS=neon "$qemu" "$bin" -test.run '^TestKernelChoice$' \
      -test.fuzz "^$fn\$" -test.fuzztime "$fuzztime" -test.fuzzcachedir "$PWD/../build/fuzzcache-arm64") 2>&1 | tee "$log"; then
    :
  elif grep -q 'context deadline exceeded' "$log" && ! grep -Eq 'Failing input written|panic:|_test\.go:[0-9]+:' "$log" &&
       [ "$before" = "$(ls "knn/testdata/fuzz/$fn" 2>/dev/null | sort)" ] &&
       (cd knn && "$qemu" "$bin" -test.run "^$fn\$" >/dev/null); then
    # Go 1.26's end-of-run race (see scripts/fuzz.sh): no input written,
    # and the corpus replays cleanly.
    echo "fuzz: $fn: only the coordinator's end-of-run deadline race, no input written; its corpus replays cleanly"
  else
    echo "test-arm64: $fn failed under emulation; a failing input, if any, is under knn/testdata/fuzz/$fn: rerun it with: GOARCH=arm64 go test -exec $qemu -run '^$fn\$' ./knn" >&2
    exit 1
  fi
  # A run that never fuzzed (no worker started) must not pass quietly.
  execs=$(grep -o 'execs: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*' || true)
  if [ -z "$execs" ] || [ "$execs" -eq 0 ]; then
    echo "test-arm64: $fn ran no fuzz input under emulation" >&2
    exit 1
  fi
  echo "fuzz: $fn: $execs inputs against the pure-Go kernels"
done

if [ ! -f "$artifact" ] || [ ! -f "$payloads" ]; then
  echo "test-arm64: ok; the replay did not run: $artifact or $payloads is absent"
  exit 0
fi
echo "== arm64 under $qemu: in-process replay of every payload, $brute against brute force"
GOARCH=arm64 "$go" -C harness build -o ../build/replay-arm64 ./cmd/replay
"$qemu" build/replay-arm64 -artifact "$artifact" -payloads "$payloads" -brute "$brute" | tee "$log"
grep -q 'kernels neon$' "$log" || { echo "test-arm64: the replay did not run the NEON kernels" >&2; exit 1; }
echo "test-arm64: ok"
