#!/usr/bin/env bash
# Prepares the Docker build context of the gateway image, with no network access:
#   OUTDIR/Dockerfile                      gateway/Dockerfile
#   OUTDIR/app/package.json                the package manifest
#   OUTDIR/app/dist/{gateway,mesh}/**.js   the compiled gateway and the mesh model (`npm run build`)
#   OUTDIR/app/node_modules/...            the gateway's production dependencies only: the
#                                          package's `dependencies` that the copied code requires,
#                                          and all they depend on, copied from ./node_modules (after
#                                          `npm ci`) by Node's module resolution, without
#                                          TypeScript sources, typings and source maps
#   OUTDIR/app/build/Release/splice_relay.node  the zero-copy relay addon (`npm ci` builds it;
#                                          without it the image runs the TypeScript pump: a warning here)
#   OUTDIR/rootfs/usr/local/bin/sni-gateway -> /app/dist/gateway/main.js
#   OUTDIR/rootfs/etc/sni-gateway/         where MeshGateway uploads the routes file
#
# Usage: scripts/gateway-image-context.sh [OUTDIR]   (default: dist/gateway-image)
# Then:  docker build --build-arg BASE_IMAGE=... -t TAG OUTDIR
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="${1:-$root/dist/gateway-image}"

if [ ! -f "$root/dist/gateway/main.js" ]; then
  echo "gateway-image-context: $root/dist/gateway/main.js is missing: run \`npm run build\` first" >&2
  exit 1
fi
if [ ! -d "$root/node_modules" ]; then
  echo "gateway-image-context: $root/node_modules is missing: run \`npm ci\` first" >&2
  exit 1
fi

rm -rf "$out"
mkdir -p "$out/app" "$out/rootfs/usr/local/bin" "$out/rootfs/etc/sni-gateway"
cp "$root/gateway/Dockerfile" "$out/Dockerfile"
cp "$root/package.json" "$out/app/package.json"
ln -s /app/dist/gateway/main.js "$out/rootfs/usr/local/bin/sni-gateway"
addon="$root/build/Release/splice_relay.node"
if [ -f "$addon" ]; then
  mkdir -p "$out/app/build/Release"
  cp "$addon" "$out/app/build/Release/"
else
  echo "gateway-image-context: warning: $addon is missing (npm ci builds it with g++): the image will use the TypeScript pump" >&2
fi

node - "$root" "$out/app" <<'EOF'
const fs = require("fs");
const path = require("path");
const [root, app] = process.argv.slice(2);

// Compiled JavaScript of the gateway and the model it imports (no maps, no typings).
for (const dir of ["gateway", "mesh"]) {
  const src = path.join(root, "dist", dir);
  fs.cpSync(src, path.join(app, "dist", dir), {
    recursive: true,
    filter: (file) => fs.statSync(file).isDirectory() || file.endsWith(".js"),
  });
}
fs.chmodSync(path.join(app, "dist", "gateway", "main.js"), 0o755);

// Production dependencies of the gateway: the package's dependencies that the copied code
// requires (not those of the components or of consul-mesh plan), resolved as Node resolves them.
const nodeModules = path.join(root, "node_modules");
const pkg = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8"));
const required = new Set();
for (const dir of ["gateway", "mesh"]) {
  for (const file of fs.readdirSync(path.join(app, "dist", dir), { recursive: true })) {
    if (!file.endsWith(".js")) continue;
    const text = fs.readFileSync(path.join(app, "dist", dir, file), "utf8");
    for (const [, name] of text.matchAll(/require\("((?:@[^/"]+\/)?[^/".][^/"]*)[^"]*"\)/g)) required.add(name);
  }
}
const wanted = Object.keys(pkg.dependencies || {}).filter((name) => required.has(name));

function resolveDir(name, fromDir) {
  for (let dir = fromDir; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, "node_modules", name);
    if (fs.existsSync(path.join(candidate, "package.json"))) return candidate;
    if (path.dirname(dir) === dir) return undefined;
  }
}

const found = new Map(); // package dir -> name
const queue = wanted.map((name) => ({ name, from: root, required: true }));
while (queue.length > 0) {
  const { name, from, required } = queue.shift();
  const dir = resolveDir(name, from);
  if (!dir) {
    if (required) throw new Error(`gateway-image-context: dependency "${name}" (needed by ${from}) is not installed`);
    continue;
  }
  if (found.has(dir)) continue;
  if (!dir.startsWith(nodeModules + path.sep)) {
    throw new Error(`gateway-image-context: "${name}" resolves outside ${nodeModules}: ${dir}`);
  }
  found.set(dir, name);
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8"));
  for (const dep of Object.keys(manifest.dependencies || {})) queue.push({ name: dep, from: dir, required: true });
  for (const dep of Object.keys(manifest.optionalDependencies || {})) queue.push({ name: dep, from: dir, required: false });
  for (const dep of Object.keys(manifest.peerDependencies || {})) {
    const optional = manifest.peerDependenciesMeta?.[dep]?.optional === true;
    queue.push({ name: dep, from: dir, required: !optional });
  }
}

// Not needed at run time: TypeScript sources and typings, source maps.
const SKIP = /(\.d\.[cm]?ts|\.[cm]?ts|\.map)$/;
for (const dir of [...found.keys()].sort()) {
  const target = path.join(app, path.relative(root, dir));
  const own = path.join(dir, "node_modules");
  fs.cpSync(dir, target, { recursive: true, filter: (file) => file !== own && !SKIP.test(file) });
}
console.log(`gateway-image-context: ${found.size} packages: ${[...new Set(found.values())].sort().join(" ")}`);
EOF
