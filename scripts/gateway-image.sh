#!/usr/bin/env bash
# Builds the gateway image in one step: compile, stage the context, docker build.
#
# Usage: scripts/gateway-image.sh [--local-base] [--no-build] [TAG]
#   TAG            image name (default: consul-mesh/sni-gateway:latest, what GatewayImage
#                  and the components use by default)
#   --local-base   build on the local base image from scripts/node-base-image.sh (for
#                  machines without an image registry) instead of node:20-bookworm-slim
#   --no-build     skip `npm run build` (dist/ is current)
# Prints the tag.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tag="consul-mesh/sni-gateway:latest"
local_base=0
build=1
for arg in "$@"; do
  case "$arg" in
    --local-base) local_base=1 ;;
    --no-build) build=0 ;;
    -*) echo "gateway-image: unknown option $arg" >&2; exit 2 ;;
    *) tag="$arg" ;;
  esac
done

cd "$root"
if [ "$build" = 1 ]; then npm run build --silent >&2; fi
bash scripts/gateway-image-context.sh "$root/dist/gateway-image" >&2
args=()
if [ "$local_base" = 1 ]; then
  args+=(--build-arg "BASE_IMAGE=$(bash scripts/node-base-image.sh)")
fi
docker build -q "${args[@]}" -t "$tag" "$root/dist/gateway-image" >&2
echo "$tag"
