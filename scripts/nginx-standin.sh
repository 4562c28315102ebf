#!/usr/bin/env bash
# Builds the stand-in for the nginx image a compose file pins
# (harness/nginx-standin/Dockerfile says what it is and is not) and tags
# it with that name locally: for make compose-check on machines that
# cannot pull images. It never replaces a real image already present.
#
#   scripts/nginx-standin.sh nginx:1.27.4-alpine
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/standin.sh
name=${1:?usage: scripts/nginx-standin.sh IMAGE (the name docker-compose.yml pins)}
case $name in *@*)
  echo "nginx-standin: $name is pinned by digest; no local image can stand in for it: the engine must pull it from its registry" >&2; exit 1;;
esac

standin_keep_real nginx-standin "$name"
nginx=$(standin_binary nginx-standin nginx /usr/sbin/nginx)
standin_rootfs nginx-standin "$nginx" /usr/sbin/nginx
# Debian's build starts its worker as nobody:nogroup; uid 101 is the
# real image's worker user.
mkdir -p "$root/etc" "$root/etc/nginx" "$root/var/log/nginx" "$root/var/lib/nginx" "$root/run" "$root/tmp" "$root/usr/share/nginx"
printf 'root:x:0:0:root:/root:/sbin/nologin\nnobody:x:101:101:nginx worker (stand-in):/nonexistent:/sbin/nologin\n' > "$root/etc/passwd"
printf 'root:x:0:\nnogroup:x:101:\nnobody:x:101:\n' > "$root/etc/group"
[ -f /etc/nginx/mime.types ] && cp /etc/nginx/mime.types "$root/etc/nginx/"
chmod 1777 "$root/tmp"
standin_build nginx-standin "$name"
echo "nginx-standin: built $name as a STAND-IN from Debian's nginx $("$nginx" -v 2>&1 | sed 's/.*nginx\///'), for this check only; never push it"
