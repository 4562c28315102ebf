#!/usr/bin/env bash
# Builds a STAND-IN for the Prometheus image docker-compose.observe.yml
# names, from the host's Debian prometheus package, where no registry can
# be reached (harness/prometheus-standin/Dockerfile says what it is and is
# not), and tags it with that name. A real image of that name, already
# present, is left alone.
#
#   scripts/prometheus-standin.sh prom/prometheus:v2.42.0
set -euo pipefail
cd "$(dirname "$0")/.."
name=${1:?usage: scripts/prometheus-standin.sh IMAGE (the name docker-compose.observe.yml gives)}
if docker image inspect "$name" >/dev/null 2>&1; then
  if [ -z "$(docker image inspect -f '{{index .Config.Labels "fraudknn.standin"}}' "$name")" ]; then
    echo "prometheus-standin: $name is present and is not a stand-in (a real image); using it"
    exit 0
  fi
fi
prom=$(command -v prometheus || echo /usr/bin/prometheus)
[ -x "$prom" ] || { echo "prometheus-standin: Debian's prometheus package is missing: apt-get install -y prometheus" >&2; exit 1; }

ctx=build/prometheus-standin
rm -rf "$ctx" && mkdir -p "$ctx/rootfs"
root=$ctx/rootfs
copy() { mkdir -p "$root$(dirname "$1")" && cp -L "$1" "$root$1"; }
copy "$prom"
[ "$prom" = /usr/bin/prometheus ] || { mkdir -p "$root/usr/bin" && cp -L "$prom" "$root/usr/bin/prometheus"; }
# The shared libraries, and the dynamic loader (ldd names it by the path
# the binary asks for).
for lib in $(ldd "$prom" | grep -o '/[^ ]*'); do copy "$lib"; done
mkdir -p "$root/etc/prometheus" "$root/tmp" "$ctx/data"
printf 'root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n' > "$root/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' > "$root/etc/group"
chmod 1777 "$root/tmp"
# The database folder's contents (none yet; the Dockerfile gives the
# folder to the user Prometheus runs as). A marker, so that COPY has a
# file to carry the folder's owner; the database ignores it.
touch "$ctx/data/.fraudknn-standin"
docker build -q -t "$name" -f harness/prometheus-standin/Dockerfile "$ctx" >/dev/null
echo "prometheus-standin: built $name as a STAND-IN from Debian's prometheus $("$prom" --version 2>&1 | head -1 | awk '{print $3}'), never push it"
