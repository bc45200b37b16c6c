#!/usr/bin/env bash
# `npm run images:local`: the base images the stacks run, made from this machine's own binaries,
# for machines that cannot pull images (no registry). Each is `docker import` of a small root
# filesystem; none has a package manager.
#
#   consul-mesh/node-base:local         Node.js (scripts/node-base-image.sh): the gateway's base
#   consul-mesh/consul:1.16.3-local     .tools/bin/consul at /bin/consul, with an entry point that
#                                       runs `consul agent` as the official image's does
#                                       (-data-dir=/consul/data -config-dir=/consul/config), and
#                                       busybox (sh, wget, grep) for the servers' health check
#   consul-mesh/envoy:1.36.4-local      .tools/bin/envoy at /usr/local/bin/envoy and its libraries:
#                                       the base of the sidecar image (images/sidecar/Dockerfile)
#
# Then point the stack at them (the script prints these lines):
#   pulumi config set consulImage consul-mesh/consul:1.16.3-local
#   pulumi config set envoyImage consul-mesh/envoy:1.36.4-local
#   pulumi config set gatewayBaseImage consul-mesh/node-base:local
#
# Needs Docker, `npm run tools` (consul, envoy) and a static busybox (Debian's busybox-static).
# Idempotent: each image carries the sha256 of what it is made from; an image with that label is kept.
set -euo pipefail
cd "$(dirname "$0")/.."

readonly CONSUL_TAG=consul-mesh/consul:1.16.3-local
readonly ENVOY_TAG=consul-mesh/envoy:1.36.4-local
readonly LABEL=consul-mesh.base-sha256

fail() { echo "local-images: $*" >&2; exit 1; }
command -v docker >/dev/null || fail "docker CLI not found"
consul_bin=$(readlink -f .tools/bin/consul 2>/dev/null) || true
envoy_bin=$(readlink -f .tools/bin/envoy 2>/dev/null) || true
[ -x "$consul_bin" ] || fail ".tools/bin/consul not found: run \`npm run tools\` first"
[ -x "$envoy_bin" ] || fail ".tools/bin/envoy not found: run \`npm run tools\` first"
busybox=$(command -v busybox || true)
[ -n "$busybox" ] && file -L "$busybox" | grep -q 'statically linked' ||
  fail "a static busybox is needed for the Consul image's health check: apt-get install busybox-static"

# up_to_date TAG SHA: whether TAG exists with label SHA.
up_to_date() {
  [ "$(docker image inspect --format "{{ index .Config.Labels \"$LABEL\" }}" "$1" 2>/dev/null || true)" = "$2" ]
}

# import ROOT TAG SHA CHANGE...: `docker import` of ROOT as TAG, labelled with SHA.
import() {
  local root=$1 tag=$2 sha=$3
  shift 3
  local changes=(--change "LABEL $LABEL=$sha" --change "ENV PATH=/usr/local/bin:/usr/bin:/bin")
  for c in "$@"; do changes+=(--change "$c"); done
  tar -C "$root" -c . | docker import "${changes[@]}" - "$tag" >/dev/null
  echo "local-images: built $tag" >&2
}

# The files every image has: passwd, group, /tmp.
skeleton() {
  mkdir -p "$1/etc" "$1/tmp" "$1/bin" "$1/usr/local/bin"
  chmod 1777 "$1/tmp"
  printf 'root:x:0:0:root:/root:/bin/sh\nconsul:x:100:1000::/consul:/bin/sh\nenvoy:x:101:101::/tmp:/bin/sh\n' >"$1/etc/passwd"
  printf 'root:x:0:\nconsul:x:1000:\nenvoy:x:101:\n' >"$1/etc/group"
}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

bash scripts/node-base-image.sh >/dev/null

entrypoint='#!/bin/sh
# As the official image: `agent ...` runs a Consul agent with its data and configuration folders.
set -e
if [ "$1" = agent ]; then
  shift
  set -- consul agent -data-dir=/consul/data -config-dir=/consul/config "$@"
elif [ "${1#-}" != "$1" ] || ! command -v "$1" >/dev/null 2>&1; then
  set -- consul "$@"
fi
exec "$@"'
sha=$(cat "$consul_bin" "$busybox" "$0" | sha256sum | cut -d' ' -f1)
if ! up_to_date "$CONSUL_TAG" "$sha"; then
  root="$work/consul"
  skeleton "$root"
  cp "$consul_bin" "$root/bin/consul"
  cp "$busybox" "$root/bin/busybox"
  for applet in sh wget grep; do ln -s busybox "$root/bin/$applet"; done
  printf '%s\n' "$entrypoint" >"$root/usr/local/bin/docker-entrypoint.sh"
  chmod 755 "$root/usr/local/bin/docker-entrypoint.sh"
  mkdir -p "$root/consul/data" "$root/consul/config"
  import "$root" "$CONSUL_TAG" "$sha" \
    'ENTRYPOINT ["docker-entrypoint.sh"]' 'CMD ["agent", "-dev", "-client", "0.0.0.0"]' \
    'VOLUME /consul/data' 'EXPOSE 8300 8301 8302 8500 8502 8600'
fi

sha=$(cat "$envoy_bin" "$0" | sha256sum | cut -d' ' -f1)
if ! up_to_date "$ENVOY_TAG" "$sha"; then
  root="$work/envoy"
  skeleton "$root"
  cp "$envoy_bin" "$root/usr/local/bin/envoy"
  # The shared libraries and the dynamic loader, at the paths the binary asks for.
  while read -r lib; do
    mkdir -p "$root$(dirname "$lib")" && cp -L "$lib" "$root$lib"
  done < <(ldd "$envoy_bin" | awk '/=> \// { print $3 } /^[[:space:]]*\/[^ ]+ \(/ { print $1 }' | sort -u)
  import "$root" "$ENVOY_TAG" "$sha" 'ENTRYPOINT ["envoy"]'
fi

cat <<EOF
pulumi config set consulImage $CONSUL_TAG
pulumi config set envoyImage $ENVOY_TAG
pulumi config set gatewayBaseImage consul-mesh/node-base:local
EOF
