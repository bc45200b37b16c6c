/**
 * The real `sni-gateway` program for tests that run it as a process: `gateway/main.ts` and what
 * it imports, compiled once per test file into a temporary folder.
 */
import { execFile } from "node:child_process";
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);
const ROOT = path.join(__dirname, "../..");

/** The compiled program: its `main.js` and the environment it needs to find its packages. */
export interface GatewayProgram {
  /** The temporary folder (tests may keep their own files there too). */
  dir: string;
  /** Absolute path of the compiled `gateway/main.js`. */
  main: string;
  /** Environment for the child: `PATH` and `NODE_PATH` (the repository's `node_modules`). */
  env: NodeJS.ProcessEnv;
  /** Removes the compiled files. */
  remove(): Promise<void>;
}

/** Compiles `gateway/main.ts` into a new temporary folder (about 5 s). */
export function compileGatewayProgram(): Promise<GatewayProgram> {
  return compileProgram("gateway/main.ts");
}

/**
 * Compiles one of the repository's programs and what it imports into a new temporary folder.
 * @param entry - Its entry point, relative to the repository, e.g. `cli/main.ts`.
 * @param parent - Folder to create that temporary folder in. Default: the system's.
 */
export async function compileProgram(entry: string, parent = os.tmpdir()): Promise<GatewayProgram> {
  const outDir = await fs.mkdtemp(path.join(parent, "program-"));
  await run(
    process.execPath,
    [
      path.join(ROOT, "node_modules/typescript/bin/tsc"),
      path.join(ROOT, entry),
      "--outDir",
      outDir,
      "--rootDir",
      ROOT,
      "--module",
      "commonjs",
      "--target",
      "ES2022",
      "--esModuleInterop",
      "--skipLibCheck",
      "--strict",
      "--types",
      "node",
      "--resolveJsonModule",
    ],
    { cwd: ROOT },
  );
  // The native relay's addon, where the compiled gateway looks for it (beside the package root's `dist/`).
  await fs.symlink(path.join(ROOT, "build"), path.join(outDir, "build"));
  return {
    dir: outDir,
    main: path.join(outDir, entry.replace(/\.ts$/, ".js")),
    env: { PATH: process.env.PATH, NODE_PATH: path.join(ROOT, "node_modules") },
    remove: () => fs.rm(outDir, { recursive: true, force: true }),
  };
}
