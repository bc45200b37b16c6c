#!/usr/bin/env bash
# Builds a minimal Node.js base image from this machine's own Node.js, for machines that
# cannot pull images (no registry): `docker import` of a root filesystem holding only
#   - the node binary (and /usr/bin/env for `#!/usr/bin/env node` scripts), the shared
#     libraries `ldd` lists and the dynamic loader,
#   - CA certificates (/etc/ssl/certs/ca-certificates.crt),
#   - /etc/passwd, /etc/group (root and a non-root user `node`, uid/gid 1000), /etc/nsswitch.conf,
#   - /tmp (mode 1777).
# No shell, no package manager, no npm: only `node` (and `env`). Images built on it must use exec-form
# RUN/CMD/ENTRYPOINT/HEALTHCHECK with node.
#
# Usage: scripts/node-base-image.sh [TAG]     (default TAG: consul-mesh/node-base:local)
# Env:   NODE_BIN   node binary to package (default: the `node` on PATH)
#        FORCE=1    rebuild even when an image for this exact node binary exists
#
# Idempotent: the image carries a label with the sha256 of the node binary and this script;
# when an image with TAG and that label exists, the script prints the tag and exits at once.
set -euo pipefail

TAG="${1:-consul-mesh/node-base:local}"
NODE_BIN="$(readlink -f "${NODE_BIN:-$(command -v node)}")"
LABEL_KEY="consul-mesh.base-sha256"

command -v docker >/dev/null || { echo "node-base-image: docker CLI not found" >&2; exit 1; }
[ -x "$NODE_BIN" ] || { echo "node-base-image: node binary not found: $NODE_BIN" >&2; exit 1; }

# What the image is made from: this script and the node binary.
node_sha="$(cat "$NODE_BIN" "${BASH_SOURCE[0]}" | sha256sum | cut -d' ' -f1)"
existing="$(docker image inspect --format "{{ index .Config.Labels \"$LABEL_KEY\" }}" "$TAG" 2>/dev/null || true)"
if [ "$existing" = "$node_sha" ] && [ "${FORCE:-0}" != "1" ]; then
  echo "$TAG"
  exit 0
fi

root="$(mktemp -d)"
trap 'rm -rf "$root"' EXIT

copy() { # copy a file into the root filesystem at the same path, following symlinks
  local src="$1" dst="$root$1"
  mkdir -p "$(dirname "$dst")"
  cp -L "$src" "$dst"
}

mkdir -p "$root/usr/local/bin" "$root/usr/bin" "$root/etc/ssl/certs" "$root/tmp" "$root/home/node" "$root/app"
chmod 1777 "$root/tmp"
cp -L "$NODE_BIN" "$root/usr/local/bin/node"
# /usr/bin/env, so that `#!/usr/bin/env node` scripts (npm bins) run as in official images.
ENV_BIN="$(readlink -f /usr/bin/env)"
cp -L "$ENV_BIN" "$root/usr/bin/env"

# Shared libraries and the dynamic loader, at the paths the binaries ask for.
while read -r lib; do
  [ -n "$lib" ] && copy "$lib"
done < <(ldd "$NODE_BIN" "$ENV_BIN" | awk '/=> \// { print $3 } /^[[:space:]]*\/[^ ]+ \(/ { print $1 }' | sort -u)

# Name resolution (Docker's embedded DNS via /etc/resolv.conf, which Docker mounts) needs
# glibc's NSS modules for `files` and `dns`.
for mod in libnss_files.so.2 libnss_dns.so.2 libresolv.so.2; do
  for dir in /lib/x86_64-linux-gnu /lib/aarch64-linux-gnu /lib64 /lib /usr/lib/x86_64-linux-gnu /usr/lib64; do
    if [ -e "$dir/$mod" ]; then copy "$dir/$mod"; break; fi
  done
done

if [ -f /etc/ssl/certs/ca-certificates.crt ]; then
  cp -L /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/ca-certificates.crt"
else
  echo "node-base-image: warning: no /etc/ssl/certs/ca-certificates.crt on this machine" >&2
fi

cat >"$root/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/usr/sbin/nologin
node:x:1000:1000:node:/home/node:/usr/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
EOF
cat >"$root/etc/group" <<'EOF'
root:x:0:
node:x:1000:
nogroup:x:65534:
EOF
printf 'passwd: files\ngroup: files\nhosts: files dns\n' >"$root/etc/nsswitch.conf"
printf '127.0.0.1 localhost\n::1 localhost\n' >"$root/etc/hosts"

old_id="$(docker image inspect --format '{{.Id}}' "$TAG" 2>/dev/null || true)"
node_version="$("$NODE_BIN" --version)"
chown -R 0:0 "$root"
chown 1000:1000 "$root/home/node"
tar --numeric-owner -C "$root" -c . |
  docker import \
    --change "ENV PATH=/usr/local/bin:/usr/bin:/bin" \
    --change "ENV NODE_VERSION=${node_version#v}" \
    --change "ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt" \
    --change "WORKDIR /app" \
    --change "LABEL $LABEL_KEY=$node_sha" \
    --change "LABEL org.opencontainers.image.description=\"Minimal Node.js $node_version from the build machine\"" \
    --change 'CMD ["node"]' \
    - "$TAG" >/dev/null
# A rebuild leaves the previous image untagged: remove it (ignored when still in use).
if [ -n "$old_id" ] && [ "$old_id" != "$(docker image inspect --format '{{.Id}}' "$TAG")" ]; then
  docker image rm "$old_id" >/dev/null 2>&1 || true
fi
echo "$TAG"
