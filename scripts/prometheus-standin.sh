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
. scripts/standin.sh
name=${1:?usage: scripts/prometheus-standin.sh IMAGE (the name docker-compose.observe.yml gives)}
standin_keep_real prometheus-standin "$name"
prom=$(standin_binary prometheus-standin prometheus /usr/bin/prometheus)
standin_rootfs prometheus-standin "$prom" /usr/bin/prometheus
mkdir -p "$root/etc/prometheus" "$root/tmp" "$ctx/data"
printf 'root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n' > "$root/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' > "$root/etc/group"
chmod 1777 "$root/tmp"
# The database folder's contents (none yet; the Dockerfile gives the
# folder to the user Prometheus runs as: COPY makes what it copies
# root's, so a chown here would not survive). A marker, so that COPY has a
# file to carry the folder's owner; the database ignores it.
touch "$ctx/data/.fraudknn-standin"
standin_build prometheus-standin "$name"
echo "prometheus-standin: built $name as a STAND-IN from Debian's prometheus $("$prom" --version 2>&1 | head -1 | awk '{print $3}'), never push it"
