/**
 * `npm run soak`: the gateway's reliability at scale, measured and held to targets, figures in
 * `RELIABILITY.md`. Phases: bad input (fuzzing), load, route changes under load, faults of a
 * real mesh, security. Bounded in count and time, loopback only; exits 1 when any figure misses
 * its target.
 *
 *   npm run soak -- [--quick] [--report FILE] [--seed N] [--keep]
 *
 * It runs from its sources (`node -r ./soak/ts-register.js soak/main.ts`, after `tsc --noEmit`).
 * `--quick` (inside `npm test`): small sizes, no real Consul, no report unless `--report`.
 * The full run writes `RELIABILITY.md` (or `--report FILE`). `--keep` keeps the run's folder
 * (routes files, every process's log), which is also kept when a figure fails.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import type { WebApiMesh } from "../test/support/web-api-mesh";
import { checkList, type Check } from "./check";
import { fuzzPhase } from "./fuzz/fuzz-phase";
import { loadPhase } from "./load/load-phase";
import { machineFacts } from "./machine";
import { meshFaultsPhase, startRealMesh } from "./mesh/mesh-phase";
import { CORPUS_DIR, REPO_ROOT } from "./paths";
import { renderReport, summaryLine } from "./report";
import { routeChangePhase } from "./routes/route-change-phase";
import { securityPhase } from "./security/security-phase";
import { TokenWitness } from "./security/token-witness";
import { soakSettings } from "./settings";
import { SoakError } from "./soak-error";

const DEFAULT_SEED = 20261201;

/** Runs a phase; one that throws fails a figure of its own, naming why. */
async function phase(name: string, run: () => Promise<Check[]>): Promise<Check[]> {
  process.stdout.write(`== ${name}\n`);
  try {
    return await run();
  } catch (error) {
    const list = checkList(name);
    list.add("the phase completed", `no: ${(error as Error).message.split("\n")[0]}`, "yes", false);
    return list.checks;
  }
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      quick: { type: "boolean", default: false },
      report: { type: "string" },
      seed: { type: "string" },
      keep: { type: "boolean", default: false },
    },
  });
  const quick = values.quick === true;
  const seed = values.seed !== undefined ? Number(values.seed) : DEFAULT_SEED;
  const report = values.report ?? (quick ? undefined : path.join(REPO_ROOT, "RELIABILITY.md"));
  const started = new Date();
  const machine = machineFacts();
  const workDir = mkdtempSync(path.join(os.tmpdir(), "soak-"));
  const settings = soakSettings(quick, workDir);
  process.stdout.write(
    `soak${quick ? " --quick" : ""}: ${machine.cores} cores, Node.js ${machine.node}, open files ${machine.openFiles.soft}; files in ${workDir}\n`,
  );

  // The real mesh and the token gateway start while the fuzzer runs: they mostly wait.
  const meshStarting: Promise<WebApiMesh | Error> | undefined = quick
    ? undefined
    : startRealMesh().catch((error: Error) => error);
  const quickWitness = quick ? TokenWitness.start(workDir).catch((error: Error) => error) : undefined;
  const checks: Check[] = [];
  let mesh: WebApiMesh | undefined;
  try {
    checks.push(
      ...(await phase("Bad input", () =>
        fuzzPhase({ cases: settings.fuzzCases, runSeed: seed, corpusDir: CORPUS_DIR }),
      )),
    );
    checks.push(...(await phase("Load", () => loadPhase(settings))));
    let witness: TokenWitness | Error | undefined;
    if (meshStarting) {
      const started = await meshStarting;
      if (started instanceof Error) {
        checks.push(
          ...(await phase("Faults of a real mesh", () =>
            Promise.reject(new SoakError("E_SOAK_SETUP", "the real mesh", `did not start: ${started.message}`)),
          )),
        );
      } else mesh = started;
    }
    const real = mesh;
    checks.push(
      ...(await phase("Route changes under load", () =>
        routeChangePhase(
          settings,
          real && { dc: real.dc1, trustDomain: real.trustDomain, gatewayServiceId: real.gateways.dc1.serviceId },
        ),
      )),
    );
    if (real) {
      // Lives through the faults (the Consul crash gives it errors to log), checked in "Security".
      witness = await TokenWitness.start(workDir, { ...real.dc1, gatewayServiceId: real.gateways.dc1.serviceId }).catch(
        (error: Error) => error,
      );
      checks.push(...(await phase("Faults of a real mesh", () => meshFaultsPhase(real))));
    } else if (quickWitness) witness = await quickWitness;
    checks.push(...(await phase("Security", () => securityPhase(settings, witness))));
  } finally {
    await mesh?.stop().catch(() => undefined);
  }
  const failed = checks.some((c) => !c.pass);
  if (report) {
    writeFileSync(
      report,
      renderReport({ started, durationMs: Date.now() - started.getTime(), quick, seed, machine, checks }),
    );
    process.stdout.write(`report: ${path.relative(process.cwd(), report) || report}\n`);
  }
  if (failed || values.keep) process.stdout.write(`kept: ${workDir}\n`);
  else rmSync(workDir, { recursive: true, force: true });
  process.stdout.write(`duration: ${Math.round((Date.now() - started.getTime()) / 1000)} s\n${summaryLine(checks)}\n`);
  return failed ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error: Error) => {
    process.stderr.write(`soak: ${error.stack ?? error.message}\n`);
    process.exit(1);
  },
);
