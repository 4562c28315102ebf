# Functions the stand-in builders (scripts/*-standin.sh) share; sourced,
# not run. A stand-in is an image built from the host's Debian package of
# a program (its binary, shared libraries and dynamic loader), labelled
# fraudknn.standin by its Dockerfile and tagged with the name of the image
# it stands in for, where no registry can be reached.

# standin_keep_real TOOL NAME ends the script with status 0 when an image
# NAME is present and is not a stand-in: a real image is never replaced.
standin_keep_real() {
  local tool=$1 name=$2
  if docker image inspect "$name" >/dev/null 2>&1; then
    if [ -z "$(docker image inspect -f '{{index .Config.Labels "fraudknn.standin"}}' "$name")" ]; then
      echo "$tool: $name is present and is not a stand-in (a real image); using it"
      exit 0
    fi
  fi
}

# standin_binary TOOL PROGRAM DEFAULT prints where PROGRAM is (DEFAULT
# when it is not on the PATH), or says which package to install and fails.
standin_binary() {
  local tool=$1 program=$2 path
  path=$(command -v "$program" || echo "$3")
  [ -x "$path" ] || { echo "$tool: Debian's $program package is missing: apt-get install -y $program" >&2; return 1; }
  echo "$path"
}

# standin_rootfs TOOL BINARY AT makes a fresh build context build/TOOL
# (in $ctx) whose rootfs/ (in $root) holds BINARY at its own path and at
# AT, where the image runs it, with the shared libraries and the dynamic
# loader it needs (ldd names the loader by the path the binary asks for).
standin_rootfs() {
  local tool=$1 bin=$2 at=$3 lib
  ctx=build/$tool
  rm -rf "$ctx" && mkdir -p "$ctx/rootfs"
  root=$ctx/rootfs
  standin_copy "$bin"
  [ "$bin" = "$at" ] || { mkdir -p "$root$(dirname "$at")" && cp -L "$bin" "$root$at"; }
  for lib in $(ldd "$bin" | grep -o '/[^ ]*'); do standin_copy "$lib"; done
}

# standin_copy FILE copies FILE, links followed, to the same path in $root.
standin_copy() { mkdir -p "$root$(dirname "$1")" && cp -L "$1" "$root$1"; }

# standin_build TOOL NAME builds $ctx with harness/TOOL/Dockerfile and
# tags the image NAME.
standin_build() { docker build -q -t "$2" -f "harness/$1/Dockerfile" "$ctx" >/dev/null; }
