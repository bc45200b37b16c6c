/**
 * The gateway image's Docker build context, prepared from this package as it is installed, with
 * no network: in a clone of the repository (after `npm ci && npm run build`) or in a user's
 * `node_modules` (the package is installed from npm, its dependencies wherever npm put them).
 *
 *   OUTDIR/Dockerfile                            gateway/Dockerfile
 *   OUTDIR/app/package.json                      the package manifest
 *   OUTDIR/app/dist/**.js                        the compiled modules the gateway requires (its
 *                                                own, the Consul client's, the mesh model's)
 *   OUTDIR/app/node_modules/...                  the gateway's production dependencies only: the
 *                                                package's dependencies its code requires, and all
 *                                                they depend on, resolved as Node resolves them,
 *                                                without TypeScript sources, typings, source maps
 *   OUTDIR/app/build/Release/splice_relay.node   the zero-copy relay addon, when it was built
 *                                                (without it the image runs the TypeScript pump)
 *   OUTDIR/rootfs/usr/local/bin/sni-gateway  ->  /app/dist/gateway/main.js
 *   OUTDIR/rootfs/etc/sni-gateway/               where MeshGateway uploads the routes file
 *
 * Run as a program (`node dist/components/images/gateway-image-context.js OUTDIR`) by
 * `scripts/gateway-image-context.sh`; called by `GatewayImage` when no context is given and none
 * was prepared.
 */
import * as fs from "node:fs";
import * as path from "node:path";

/** What a preparation copied. */
export interface PreparedContext {
  /** The context folder. */
  dir: string;
  /** The dependency packages copied, by name. */
  packages: string[];
  /** Whether the splice relay addon was copied. */
  addon: boolean;
}

/**
 * The folder of package `name` as Node resolves it from `fromDir`, and the folder whose
 * `node_modules` holds it; `undefined` when it is not installed.
 */
function resolveDir(name: string, fromDir: string): { dir: string; base: string } | undefined {
  for (let base = fromDir; ; base = path.dirname(base)) {
    const dir = path.join(base, "node_modules", name);
    if (fs.existsSync(path.join(dir, "package.json"))) return { dir, base };
    if (path.dirname(base) === base) return undefined;
  }
}

/** Not needed at run time: TypeScript sources and typings, source maps. */
const SKIP = /(\.d\.[cm]?ts|\.[cm]?ts|\.map)$/;

/**
 * The compiled files `main` requires, transitively through relative `require`s (itself
 * included), and the packages they require: what the gateway needs of the package and no more.
 */
function requiredModules(main: string): { files: string[]; required: Set<string> } {
  const files = new Set<string>();
  const required = new Set<string>();
  const queue = [main];
  while (queue.length > 0) {
    const file = queue.pop() as string;
    if (files.has(file)) continue;
    files.add(file);
    for (const [, spec] of fs.readFileSync(file, "utf8").matchAll(/\brequire\("([^"]+)"\)/g)) {
      if (!spec.startsWith(".")) {
        required.add(/^(?:@[^/]+\/)?[^/]+/.exec(spec)?.[0] ?? spec);
        continue;
      }
      const base = path.resolve(path.dirname(file), spec);
      const target = [`${base}.js`, path.join(base, "index.js"), base].find((f) =>
        fs.statSync(f, { throwIfNoEntry: false })?.isFile(),
      );
      if (!target) throw new Error(`gateway image context: ${file} requires ${spec}, which is not built`);
      queue.push(target);
    }
  }
  return { files: [...files].sort(), required };
}

/**
 * Prepares the build context in `outDir` (emptied first).
 * @param outDir - The context folder.
 * @param root - The package's root (its `package.json`, `dist/`, `gateway/Dockerfile`).
 * @throws Error naming what is missing: `dist/` not built, a dependency not installed.
 */
export function prepareGatewayImageContext(outDir: string, root: string): PreparedContext {
  const main = path.join(root, "dist", "gateway", "main.js");
  if (!fs.existsSync(main)) throw new Error(`gateway image context: ${main} is missing: run \`npm run build\` first`);
  fs.rmSync(outDir, { recursive: true, force: true });
  const app = path.join(outDir, "app");
  fs.mkdirSync(app, { recursive: true });
  fs.mkdirSync(path.join(outDir, "rootfs", "usr", "local", "bin"), { recursive: true });
  fs.mkdirSync(path.join(outDir, "rootfs", "etc", "sni-gateway"), { recursive: true });
  fs.copyFileSync(path.join(root, "gateway", "Dockerfile"), path.join(outDir, "Dockerfile"));
  fs.copyFileSync(path.join(root, "package.json"), path.join(app, "package.json"));
  fs.symlinkSync("/app/dist/gateway/main.js", path.join(outDir, "rootfs", "usr", "local", "bin", "sni-gateway"));
  const addon = path.join(root, "build", "Release", "splice_relay.node");
  const hasAddon = fs.existsSync(addon);
  if (hasAddon) {
    fs.mkdirSync(path.join(app, "build", "Release"), { recursive: true });
    fs.copyFileSync(addon, path.join(app, "build", "Release", "splice_relay.node"));
  }

  // The compiled JavaScript the gateway requires, and nothing else (no maps, no typings).
  const { files, required } = requiredModules(main);
  for (const file of files) {
    const target = path.join(app, path.relative(root, file));
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.copyFileSync(file, target);
  }
  fs.chmodSync(path.join(app, "dist", "gateway", "main.js"), 0o755);

  const manifest = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8")) as {
    dependencies?: Record<string, string>;
  };
  // Package folder -> its name and its place under app/: as installed below another copied
  // package, else at the top of app/node_modules (wherever npm hoisted it: the package's own
  // node_modules in a clone, the project's, a workspace's).
  const found = new Map<string, { name: string; place: string }>();
  const queue = Object.keys(manifest.dependencies ?? {})
    .filter((name) => required.has(name))
    .map((name) => ({ name, from: root, needed: true }));
  while (queue.length > 0) {
    const { name, from, needed } = queue.shift() as (typeof queue)[number];
    const resolved = resolveDir(name, from);
    if (!resolved) {
      if (needed) throw new Error(`gateway image context: dependency "${name}" (needed by ${from}) is not installed`);
      continue;
    }
    const { dir, base } = resolved;
    if (found.has(dir)) continue;
    const parent = found.get(base);
    found.set(dir, { name, place: path.join(parent ? parent.place : "", "node_modules", name) });
    const pkg = JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8")) as {
      dependencies?: Record<string, string>;
      optionalDependencies?: Record<string, string>;
      peerDependencies?: Record<string, string>;
      peerDependenciesMeta?: Record<string, { optional?: boolean }>;
    };
    for (const dep of Object.keys(pkg.dependencies ?? {})) queue.push({ name: dep, from: dir, needed: true });
    for (const dep of Object.keys(pkg.optionalDependencies ?? {})) queue.push({ name: dep, from: dir, needed: false });
    for (const dep of Object.keys(pkg.peerDependencies ?? {}))
      queue.push({ name: dep, from: dir, needed: pkg.peerDependenciesMeta?.[dep]?.optional !== true });
  }
  for (const [dir, { place }] of [...found].sort()) {
    const own = path.join(dir, "node_modules");
    fs.cpSync(dir, path.join(app, place), { recursive: true, filter: (f) => f !== own && !SKIP.test(f) });
  }
  const packages = [...new Set([...found.values()].map((p) => p.name))].sort();
  return { dir: outDir, packages, addon: hasAddon };
}

if (require.main === module) {
  const [outDir] = process.argv.slice(2);
  const root = path.resolve(__dirname, "..", "..", "..");
  const prepared = prepareGatewayImageContext(path.resolve(outDir ?? path.join(root, "dist", "gateway-image")), root);
  if (!prepared.addon)
    process.stderr.write(
      "gateway-image-context: warning: build/Release/splice_relay.node is missing (npm ci builds it with g++): " +
        "the image will use the TypeScript pump\n",
    );
  process.stdout.write(`gateway-image-context: ${prepared.packages.length} packages: ${prepared.packages.join(" ")}\n`);
}
