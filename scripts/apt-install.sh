#!/usr/bin/env bash
# Installs the Debian packages a make target needs (nginx, prometheus,
# qemu), as root where apt-get is, updating the package lists only when
# an install from the present ones fails; elsewhere it says how to
# install them and fails.
#
#   scripts/apt-install.sh "nginx is missing" nginx
set -euo pipefail
why=${1:?usage: scripts/apt-install.sh WHY PACKAGE...}
shift
if [ "$(id -u 2>/dev/null)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "make: $why; installing Debian's $*"
  apt-get install -y -qq "$@" >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null; }
else
  echo "make: $why: install with: sudo apt-get install -y $*" >&2
  exit 1
fi
