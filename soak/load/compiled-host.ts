/**
 * The gateway host compiled to JavaScript, once per soak run. Everything else in the soak runs
 * from its sources through the TypeScript compiler; the gateway must not, or the compiler would
 * sit in the very process whose memory the soak measures.
 */
import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { REPO_ROOT } from "../paths";

const run = promisify(execFile);
let compiled: Promise<string> | undefined;

/**
 * The path of the compiled `gateway-host.js` (compiled on the first call, about 5 s).
 * @param workDir the run's folder, where the compiled files go.
 */
export function compiledGatewayHost(workDir: string): Promise<string> {
  compiled ??= (async () => {
    const outDir = path.join(workDir, "gateway-host");
    const tsc = path.join(REPO_ROOT, "node_modules/typescript/bin/tsc");
    const options = [
      "--outDir",
      outDir,
      "--rootDir",
      REPO_ROOT,
      "--module",
      "commonjs",
      "--target",
      "ES2022",
      "--esModuleInterop",
      "--skipLibCheck",
      "--strict",
      "--types",
      "node",
    ];
    await run(
      process.execPath,
      [tsc, path.join(REPO_ROOT, "soak/load/gateway-host.ts"), ...options, "--resolveJsonModule"],
      { cwd: REPO_ROOT },
    );
    return path.join(outDir, "soak/load/gateway-host.js");
  })();
  return compiled;
}
