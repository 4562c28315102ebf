#!/usr/bin/env bash
# make push: publishes the API image as one name for both architectures.
# It pushes REGISTRY/IMAGE-amd64 and REGISTRY/IMAGE-arm64 (make image
# built them), joins them in a manifest list REGISTRY/IMAGE with
# `docker manifest` (no buildx needed), checks that the list names
# exactly linux/amd64 and linux/arm64, each the image pushed for it, and
# prints the list's digest: the compose files pin REGISTRY/IMAGE@digest
# and each engine pulls its own architecture.
#
#   scripts/push.sh REGISTRY IMAGE
set -euo pipefail
registry=${1:?usage: scripts/push.sh REGISTRY IMAGE}
image=${2:?usage: scripts/push.sh REGISTRY IMAGE}
name=$registry/$image
arches=(amd64 arm64)

# A plain-HTTP registry on loopback (scripts/local-registry.sh): the
# docker CLI talks to it directly for manifests and must be told.
insecure=()
case $registry in 127.*|localhost|localhost:*|localhost/*) insecure=(--insecure);; esac

refs=()
for arch in "${arches[@]}"; do
  docker tag "$image-$arch" "$name-$arch"
  docker push -q "$name-$arch" >/dev/null
  refs+=("$name-$arch")
done
docker manifest rm "$name" >/dev/null 2>&1 || true # an older local list of that name
docker manifest create "${insecure[@]}" "$name" "${refs[@]}" >/dev/null
digest=$(docker manifest push "${insecure[@]}" --purge "$name")
case $digest in sha256:*) ;; *) echo "push: the registry reported no digest for $name (got: $digest)" >&2; exit 1;; esac

# Read the list back from the registry: each architecture's entry is the
# image pushed for it.
list=$(docker manifest inspect "${insecure[@]}" "$name@$digest")
for arch in "${arches[@]}"; do
  want=$(docker image inspect -f '{{range .RepoDigests}}{{println .}}{{end}}' "$name-$arch" | sed -n "s|^${name%:*}@||p" | head -n 1)
  echo "$list" | grep -A 4 "\"digest\": \"$want\"" | grep -q "\"architecture\": \"$arch\"" ||
    { echo "push: the list $name@$digest does not give linux/$arch as $want, the image pushed for it" >&2; exit 1; }
done
echo "pushed $name: a manifest list for linux/amd64 and linux/arm64, digest $digest"
echo "pin it in docker-compose.yml and docker-compose.fdpass.yml: image: $name@$digest"
