#!/usr/bin/env node
/**
 * Builds the splice relay addon (native/splice_relay.c → build/Release/splice_relay.node) with
 * the node-gyp that comes with npm, against the headers of the Node.js that runs this script
 * (`--nodedir`), so nothing is ever downloaded. Run by `npm ci` / `npm install` (package.json
 * `install`); see docs/splice-relay.md.
 *
 * Never fails the install: when the addon cannot be built (not Linux, no compiler, no headers…)
 * it prints one warning line saying why, and the gateway uses its TypeScript pump.
 * `SNI_GATEWAY_SKIP_ADDON=1` skips the build. When `build/` is already configured for the same
 * headers and node-gyp, only `node-gyp build` runs (make: nothing to do when up to date).
 */
"use strict";
const { spawnSync } = require("node:child_process");
const fs = require("node:fs");
const path = require("node:path");

const ROOT = path.join(__dirname, "..");
const BUILD = path.join(ROOT, "build");
const OUTPUT = path.join(BUILD, "Release", "splice_relay.node");
const PREFIX = "sni-gateway: splice relay addon";
const FALLBACK = "the gateway will use its TypeScript pump";

/** Prints the one warning line of a build that did not happen. */
function warn(why) {
  console.warn(`${PREFIX} not built: ${why}; ${FALLBACK}`);
}

/** The first file of `candidates` that exists, or `undefined`. */
function firstExisting(candidates) {
  return candidates.find((file) => file && fs.existsSync(file));
}

/** A command found on PATH (no subprocess), or `undefined`. */
function which(command) {
  if (command.includes("/")) return fs.existsSync(command) ? command : undefined;
  const dirs = (process.env.PATH || "").split(path.delimiter).filter(Boolean);
  return firstExisting(dirs.map((dir) => path.join(dir, command)));
}

/** npm's own node-gyp: the one npm names during its scripts, else the one next to npm. */
function findNodeGyp() {
  const candidates = [process.env.npm_config_node_gyp];
  if (process.env.npm_execpath) {
    // npm_execpath is npm's bin/npm-cli.js: node-gyp is in npm's node_modules.
    candidates.push(path.join(path.dirname(process.env.npm_execpath), "../node_modules/node-gyp/bin/node-gyp.js"));
  }
  const globalModules = [
    path.join(path.dirname(process.execPath), "../lib/node_modules"),
    path.join(path.dirname(process.execPath), "node_modules"),
  ];
  try {
    const npm = path.dirname(require.resolve("npm/package.json", { paths: globalModules }));
    candidates.push(path.join(npm, "node_modules/node-gyp/bin/node-gyp.js"));
  } catch {
    // npm is not next to node: try a node-gyp of the project's own.
  }
  try {
    candidates.push(require.resolve("node-gyp/bin/node-gyp.js", { paths: [ROOT] }));
  } catch {
    // none
  }
  return firstExisting(candidates);
}

/** The Node.js install prefix whose headers node-gyp can use offline (`include/node/node_api.h` and `common.gypi`). */
function findNodeDir() {
  const prefixes = [
    process.env.npm_config_nodedir,
    path.resolve(path.dirname(process.execPath), ".."),
    "/usr/local",
    "/usr",
  ];
  return prefixes.find(
    (dir) =>
      dir &&
      fs.existsSync(path.join(dir, "include/node/node_api.h")) &&
      fs.existsSync(path.join(dir, "include/node/common.gypi")),
  );
}

/** Whether build/ was configured for these headers by this node-gyp: then `node-gyp build` is enough. */
function configuredFor(nodeDir, nodeGyp) {
  try {
    const config = fs.readFileSync(path.join(BUILD, "config.gypi"), "utf8");
    const makefile = fs.readFileSync(path.join(BUILD, "Makefile"), "utf8");
    const gypDir = path.resolve(path.dirname(nodeGyp), "..");
    return config.includes(`"nodedir": ${JSON.stringify(nodeDir)}`) && makefile.includes(gypDir);
  } catch {
    return false;
  }
}

/** The first line of a failed build's output that says what went wrong, shortened. */
function firstError(output) {
  const lines = output.split("\n").map((line) => line.trim());
  const found =
    lines.find((line) => /\berror\b/i.test(line) && !line.startsWith("gyp ERR!")) ??
    lines.find(
      (line) => line.startsWith("gyp ERR!") && !/ (stack|cwd|node -v|node-gyp -v|command|not ok|System)/.test(line),
    ) ??
    lines.filter(Boolean).pop() ??
    "no output";
  return found.length > 200 ? `${found.slice(0, 197)}...` : found;
}

function runNodeGyp(nodeGyp, command, nodeDir, env) {
  const result = spawnSync(process.execPath, [nodeGyp, command, `--nodedir=${nodeDir}`, "--release"], {
    cwd: ROOT,
    env,
    encoding: "utf8",
    maxBuffer: 16 * 1024 * 1024,
  });
  return { ok: result.status === 0, output: `${result.stdout || ""}\n${result.stderr || ""}\n${result.error || ""}` };
}

function main() {
  if (process.env.SNI_GATEWAY_SKIP_ADDON === "1") {
    console.log(`${PREFIX} skipped (SNI_GATEWAY_SKIP_ADDON=1); ${FALLBACK}`);
    return;
  }
  if (process.platform !== "linux") return warn(`splice(2) is Linux only, this is ${process.platform}`);
  const nodeGyp = findNodeGyp();
  if (!nodeGyp) return warn("node-gyp not found (it comes with npm)");
  const nodeDir = findNodeDir();
  if (!nodeDir) {
    return warn(
      `no Node.js headers (include/node/node_api.h) under ${path.resolve(path.dirname(process.execPath), "..")}`,
    );
  }
  const env = { ...process.env };
  const cc = env.CC || "cc";
  if (!which(cc)) return warn(`no C compiler (${cc} not found; install gcc or g++)`);
  if (!which("make")) return warn("make not found");
  if (!env.PYTHON && !which("python3") && !which("python")) return warn("python3 not found (node-gyp needs it)");
  // gyp links with the C++ compiler by default; a C compiler alone links this C-only addon too.
  if (!env.LINK && !which(env.CXX || "c++") && !which("g++")) env.LINK = cc;

  const began = process.hrtime.bigint();
  let result = configuredFor(nodeDir, nodeGyp) ? runNodeGyp(nodeGyp, "build", nodeDir, env) : undefined;
  if (!result || !result.ok) result = runNodeGyp(nodeGyp, "rebuild", nodeDir, env);
  if (!result.ok) return warn(`node-gyp failed: ${firstError(result.output)}`);
  try {
    const addon = require(OUTPUT);
    if (typeof addon.Relay !== "function") throw new Error("it has no Relay");
  } catch (error) {
    return warn(`it was built but does not load: ${error instanceof Error ? error.message : String(error)}`);
  }
  const seconds = Number(process.hrtime.bigint() - began) / 1e9;
  console.log(`${PREFIX} ready: ${path.relative(ROOT, OUTPUT)} (${seconds.toFixed(1)} s)`);
}

try {
  main();
} catch (error) {
  warn(`unexpected: ${error instanceof Error ? error.message : String(error)}`);
}
