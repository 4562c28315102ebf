#!/usr/bin/env bash
# make compose-check: runs the compose files on a real Docker engine and
# checks them end to end (harness/cmd/composecheck; docs/DEPLOY.md).
# On a fresh Debian machine, as root, it first gets what it needs, each
# step skipped when already done:
#   - the Docker engine: Debian's docker.io, started when not running;
#   - Compose v2, built pinned from its Go module into .tools/bin and
#     installed as the docker CLI plugin (Debian's docker-compose is v1);
#   - the API image (make image), k6 (make k6), the harness (make tools);
#   - when the nginx image the compose file pins is absent (no registry),
#     a local STAND-IN for it (scripts/nginx-standin.sh), never pushed.
# Exit status: 0 passed, 1 a check failed, 3 skipped because the engine
# cannot be installed or started here (the reason is in
# build/compose-check-skipped.txt and on the last line of the output).
#
#   scripts/compose-check.sh [compose files...]   (default: both)
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
COMPOSE_VERSION=v5.6.0
COMPOSE_BIN=.tools/bin/docker-compose
DOCKERD_FLAGS=${DOCKERD_FLAGS:---iptables=false}
files=("$@")
[ ${#files[@]} -gt 0 ] || files=(docker-compose.yml docker-compose.fdpass.yml)
start=$(date +%s)
say() { echo "compose-check: $*"; }
mkdir -p build
rm -f build/compose-check-skipped.txt

skip() {
  echo "compose-check: SKIPPED: $*" | tee build/compose-check-skipped.txt >&2
  exit 3
}

[ "$(id -u)" = 0 ] || { echo "compose-check: run it as root: it installs and starts the engine, reads the socket volume and kills an API from the host" >&2; exit 1; }

# The engine.
if ! command -v dockerd >/dev/null 2>&1; then
  say "installing Debian's docker.io (the engine)"
  (apt-get install -y -qq docker.io >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io >/dev/null; }) \
    || skip "the Docker engine cannot be installed here: apt-get install docker.io failed"
fi
if ! docker info >/dev/null 2>&1; then
  # Machines of this kind manage no firewall rules (no iptables);
  # published ports are served by docker-proxy.
  say "starting dockerd $DOCKERD_FLAGS (log: /var/log/fraudknn-dockerd.log)"
  # It outlives this script: it must inherit no descriptor but the three
  # standard ones (a lock the caller holds, say, would stay held).
  (
    for fd in /proc/$BASHPID/fd/*; do
      fd=${fd##*/}
      [ "$fd" -gt 2 ] && eval "exec $fd>&-"
    done
    exec setsid dockerd $DOCKERD_FLAGS >/var/log/fraudknn-dockerd.log 2>&1 < /dev/null
  ) &
  for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 0.5; done
  docker info >/dev/null 2>&1 || skip "the Docker engine does not start here; dockerd's log ends with: $(tail -n 3 /var/log/fraudknn-dockerd.log | tr '\n' ' ')"
fi
say "engine $(docker version -f '{{.Server.Version}}' 2>/dev/null), storage $(docker info -f '{{.Driver}}' 2>/dev/null)"

# Compose v2, pinned, as the docker CLI plugin.
if ! "$COMPOSE_BIN" version 2>/dev/null | grep -q "$COMPOSE_VERSION"; then
  say "building Compose $COMPOSE_VERSION from its Go module into $COMPOSE_BIN (a few minutes the first time)"
  t0=$(date +%s)
  moddir=$($GO mod download -json "github.com/docker/compose/v5@$COMPOSE_VERSION" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
  [ -d "$moddir" ] || { echo "compose-check: cannot download github.com/docker/compose/v5@$COMPOSE_VERSION" >&2; exit 1; }
  mkdir -p "$(dirname "$COMPOSE_BIN")"
  $GO -C "$moddir" build -trimpath -ldflags "-s -w -X github.com/docker/compose/v5/internal.Version=$COMPOSE_VERSION" -o "$PWD/$COMPOSE_BIN" ./cmd
  say "built Compose $COMPOSE_VERSION in $(( $(date +%s) - t0 )) s"
fi
plugins=${DOCKER_CONFIG:-$HOME/.docker}/cli-plugins
if ! cmp -s "$COMPOSE_BIN" "$plugins/docker-compose"; then
  say "installing Compose $COMPOSE_VERSION as the docker CLI plugin: $plugins/docker-compose"
  mkdir -p "$plugins" && cp "$COMPOSE_BIN" "$plugins/docker-compose"
fi
docker compose version | grep -q "$COMPOSE_VERSION" || { echo "compose-check: docker compose does not run Compose $COMPOSE_VERSION from $plugins" >&2; exit 1; }

# The images and the harness.
GO=$GO make --no-print-directory image k6 tools nginx
for f in "${files[@]}"; do
  for image in $(sed -n 's/^ *image: *\(nginx:[^ ]*\)$/\1/p' "$f"); do
    docker image inspect "$image" >/dev/null 2>&1 && [ -z "$(docker image inspect -f '{{index .Config.Labels "fraudknn.standin"}}' "$image")" ] && continue
    scripts/nginx-standin.sh "$image"
  done
done

# The check itself.
set +e
bin/composecheck -broken -arm64 "${ARM64_PAYLOADS:-1000}" -payloads "${PAYLOADS:-../shared/data/test-data.json.gz}" "${files[@]}"
rc=$?
set -e
say "took $(( $(date +%s) - start )) s in all"
exit $rc
