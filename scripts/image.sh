#!/usr/bin/env bash
# make image: the API image for linux/amd64 and linux/arm64.
#
# The binaries are cross-compiled (CGO_ENABLED=0: static, no C toolchain
# for the other architecture): amd64 for the contest machine's Haswell
# (GOAMD64=v3, the AVX2 kernels), arm64 for any ARMv8 core (NEON is in
# every one). Both images hold the same artifact file: its data is
# little-endian, and so are both architectures as Linux runs them.
#
# Docker 20.10's engine keeps one architecture per local name, so each
# image gets its own tag, IMAGE-amd64 and IMAGE-arm64, and IMAGE names
# the one for this machine (what the compose files run locally). One
# name for both architectures is a manifest list in a registry: make
# push (scripts/push.sh).
#
#   scripts/image.sh IMAGE ARTIFACT
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
image=${1:?usage: scripts/image.sh IMAGE ARTIFACT}
artifact=${2:?usage: scripts/image.sh IMAGE ARTIFACT}
arches=(amd64 arm64)

digest=$(sha256sum "$artifact" | cut -d' ' -f1)
pin=$(sed -n 's/^FRAUDKNN_ARTIFACT_SHA256=//p' .env 2>/dev/null || true)
if [ -n "$pin" ] && [ "$pin" != "$digest" ]; then
  echo "image: $artifact has SHA-256 $digest, but .env pins $pin: the compose files would refuse to start it." >&2
  echo "       Built from new references on purpose? Pin the new artifact: make pin (and commit .env)." >&2
  echo "       Otherwise rebuild the artifact from the references the pin was made from." >&2
  exit 1
fi

rm -rf build/image
for arch in "${arches[@]}"; do
  ctx=build/image/linux-$arch
  # The socket folder: only the shared uid (65534, set by the Dockerfile)
  # may create sockets in it; others (nginx) may reach the sockets.
  mkdir -p "$ctx/sockets" && chmod 0755 "$ctx/sockets"
  # GOAMD64 matters to the amd64 build only.
  CGO_ENABLED=0 GOOS=linux GOARCH=$arch GOAMD64=v3 $GO build -trimpath -ldflags="-s -w" -o "$ctx/" ./cmd/api ./cmd/lb
  # One artifact for both: a hard link where the file system allows it.
  ln "$artifact" "$ctx/index.fknn" 2>/dev/null || cp "$artifact" "$ctx/index.fknn"
  # The label carries the artifact's SHA-256: what .env pins can be
  # compared with what the image holds without starting it.
  docker build -q --no-cache --platform "linux/$arch" --label "fraudknn.artifact.sha256=$digest" \
    -f Dockerfile -t "$image-$arch" "$ctx" >/dev/null
  # A builder that ignored --platform would give an image that the
  # manifest list (make push) files under the wrong architecture.
  got=$(docker image inspect -f '{{.Os}}/{{.Architecture}}' "$image-$arch")
  [ "$got" = "linux/$arch" ] || { echo "image: $image-$arch was built as $got, not linux/$arch" >&2; exit 1; }
done
# The same file on both, checked: the arm64 build of cmd/indexer checks
# the artifact as an arm64 API would before serving it (layout, CRCs,
# the pinned digest), under qemu-aarch64 when this machine is not arm64.
CGO_ENABLED=0 GOOS=linux GOARCH=arm64 $GO build -o build/image/indexer-arm64 ./cmd/indexer
runner=()
[ "$(uname -m)" = aarch64 ] || runner=(qemu-aarch64)
if [ ${#runner[@]} -eq 0 ] || command -v qemu-aarch64 >/dev/null 2>&1; then
  "${runner[@]}" build/image/indexer-arm64 -check "$artifact" -digest "$digest" | sed 's/^/image: arm64 indexer -check: /' ||
    { echo "image: the arm64 indexer refuses $artifact: the arm64 image would not serve it" >&2; exit 1; }
  echo "image: the arm64 build checked $artifact as an arm64 API would (${runner[*]:-natively}): the same file serves both"
else
  echo "image: qemu-aarch64 is missing (Debian's qemu-user), so the artifact was not checked by an arm64 build here"
fi
host=$($GO env GOHOSTARCH)
docker tag "$image-$host" "$image"
echo "image: built $image-amd64 and $image-arm64 (linux/amd64 and linux/arm64, one artifact, SHA-256 $digest); $image is the $host one"
[ -n "$pin" ] || echo "image: .env pins no artifact yet: make pin writes this one"
