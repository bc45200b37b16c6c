#!/usr/bin/env node
/**
 * The `consul-mesh` command: `plan` (see `consul-mesh plan --help`) and `diff` (`consul-mesh diff --help`).
 */
import { runDiff } from "./diff-command";
import { runPlan } from "./plan-command";

const USAGE =
  `Usage: consul-mesh plan [options]   the route plan of a mesh (consul-mesh plan --help)\n` +
  `       consul-mesh diff [options]   which upstreams change between two plans (consul-mesh diff --help)\n`;

/**
 * Runs the CLI.
 * @param argv - Arguments after the program name.
 * @returns The exit status.
 */
export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const io = {
    stdout: (t: string) => process.stdout.write(t),
    stderr: (t: string) => process.stderr.write(t),
    env: process.env,
  };
  if (command === "plan") return runPlan(rest, io);
  if (command === "diff") return runDiff(rest, io);
  if (command === "--help" || command === "-h") {
    process.stdout.write(USAGE);
    return 0;
  }
  process.stderr.write(
    `consul-mesh: ${command ? `unknown command ${JSON.stringify(command)}` : "no command"}\n${USAGE}`,
  );
  return 2;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (status) => (process.exitCode = status),
    (error: unknown) => {
      process.stderr.write(`consul-mesh: ${(error as Error).stack ?? String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
