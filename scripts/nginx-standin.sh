#!/usr/bin/env bash
# Builds the stand-in for the nginx image a compose file pins
# (harness/nginx-standin/Dockerfile says what it is and is not) and tags
# it with that name locally: for make compose-check on machines that
# cannot pull images. It never replaces a real image already present.
#
#   scripts/nginx-standin.sh nginx:1.27.4-alpine
set -euo pipefail
cd "$(dirname "$0")/.."
name=${1:?usage: scripts/nginx-standin.sh IMAGE (the name docker-compose.yml pins)}
case $name in *@*)
  echo "nginx-standin: $name is pinned by digest; no local image can stand in for it: the engine must pull it from its registry" >&2; exit 1;;
esac

if docker image inspect "$name" >/dev/null 2>&1; then
  if [ -z "$(docker image inspect -f '{{index .Config.Labels "fraudknn.standin"}}' "$name")" ]; then
    echo "nginx-standin: $name is present and is not a stand-in (a real image); using it"
    exit 0
  fi
fi
nginx=$(command -v nginx || echo /usr/sbin/nginx)
[ -x "$nginx" ] || { echo "nginx-standin: Debian's nginx package is missing: apt-get install -y nginx" >&2; exit 1; }

ctx=build/nginx-standin
rm -rf "$ctx" && mkdir -p "$ctx/rootfs"
root=$ctx/rootfs
copy() { mkdir -p "$root$(dirname "$1")" && cp -L "$1" "$root$1"; }
copy "$nginx"
[ "$nginx" = /usr/sbin/nginx ] || { mkdir -p "$root/usr/sbin" && cp -L "$nginx" "$root/usr/sbin/nginx"; }
# The shared libraries, and the dynamic loader (ldd names it by the path
# the binary asks for).
for lib in $(ldd "$nginx" | grep -o '/[^ ]*'); do copy "$lib"; done
# Debian's build starts its worker as nobody:nogroup; uid 101 is the
# real image's worker user.
mkdir -p "$root/etc" "$root/etc/nginx" "$root/var/log/nginx" "$root/var/lib/nginx" "$root/run" "$root/tmp" "$root/usr/share/nginx"
printf 'root:x:0:0:root:/root:/sbin/nologin\nnobody:x:101:101:nginx worker (stand-in):/nonexistent:/sbin/nologin\n' > "$root/etc/passwd"
printf 'root:x:0:\nnogroup:x:101:\nnobody:x:101:\n' > "$root/etc/group"
[ -f /etc/nginx/mime.types ] && cp /etc/nginx/mime.types "$root/etc/nginx/"
chmod 1777 "$root/tmp"
docker build -q -t "$name" -f harness/nginx-standin/Dockerfile "$ctx" >/dev/null
echo "nginx-standin: built $name as a STAND-IN from Debian's nginx $("$nginx" -v 2>&1 | sed 's/.*nginx\///'), for this check only; never push it"
