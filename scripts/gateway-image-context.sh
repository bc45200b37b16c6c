#!/usr/bin/env bash
# Prepares the Docker build context of the gateway image, with no network access (what goes in:
# components/images/gateway-image-context.ts, which GatewayImage also runs for an installed package).
#
# Usage: scripts/gateway-image-context.sh [OUTDIR]   (default: dist/gateway-image)
# Then:  docker build --build-arg BASE_IMAGE=... -t TAG OUTDIR
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [ ! -f "$root/dist/components/images/gateway-image-context.js" ]; then
  echo "gateway-image-context: $root/dist is missing: run \`npm ci && npm run build\` first" >&2
  exit 1
fi
exec node "$root/dist/components/images/gateway-image-context.js" "${1:-$root/dist/gateway-image}"
