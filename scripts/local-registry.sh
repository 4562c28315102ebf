#!/usr/bin/env bash
# A registry on 127.0.0.1:5000 for trying make push on a machine that
# reaches no registry: Debian's docker-registry (the open-source
# distribution registry), installed when missing, no authentication,
# loopback only, its storage in /var/lib/fraudknn-registry. It keeps
# running after this script; `scripts/local-registry.sh stop` ends it.
# The engine treats 127.0.0.0/8 as an insecure (plain HTTP) registry
# by default, so no engine setting changes.
#
#   scripts/local-registry.sh [stop]
set -euo pipefail
addr=127.0.0.1:5000
pidfile=/run/fraudknn-registry.pid
if [ "${1:-}" = stop ]; then
  [ -f "$pidfile" ] && kill "$(cat "$pidfile")" && rm -f "$pidfile" && echo "local-registry: stopped"
  exit 0
fi
if curl -fsS "http://$addr/v2/" >/dev/null 2>&1; then
  echo "local-registry: a registry already answers on $addr"; exit 0
fi
if ! command -v docker-registry >/dev/null 2>&1; then
  [ "$(id -u)" = 0 ] || { echo "local-registry: install Debian's docker-registry (sudo apt-get install -y docker-registry)" >&2; exit 1; }
  echo "local-registry: installing Debian's docker-registry"
  apt-get install -y -qq docker-registry >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-registry >/dev/null; }
fi
mkdir -p /var/lib/fraudknn-registry
conf=/var/lib/fraudknn-registry/config.yml
cat > "$conf" <<CONF
version: 0.1
storage:
  filesystem:
    rootdirectory: /var/lib/fraudknn-registry/data
  delete:
    enabled: true
http:
  addr: $addr
CONF
# Detached, and holding no descriptor of the caller's (a lock, say).
(
  for fd in /proc/$BASHPID/fd/*; do fd=${fd##*/}; [ "$fd" -gt 2 ] && eval "exec $fd>&-"; done
  exec setsid docker-registry serve "$conf" >/var/log/fraudknn-registry.log 2>&1 </dev/null
) &
echo $! > "$pidfile"
for _ in $(seq 1 40); do curl -fsS "http://$addr/v2/" >/dev/null 2>&1 && break; sleep 0.25; done
curl -fsS "http://$addr/v2/" >/dev/null || { echo "local-registry: it does not answer on $addr; its log: $(tail -n 3 /var/log/fraudknn-registry.log)" >&2; exit 1; }
echo "local-registry: docker-registry $(docker-registry --version 2>/dev/null | awk '{print $NF}') answers on $addr (log: /var/log/fraudknn-registry.log)"
