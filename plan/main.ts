#!/usr/bin/env node
/**
 * The `consul-mesh` command. One subcommand today: `plan` (see `consul-mesh plan --help`).
 */
import { runPlan } from "./plan-command";

const USAGE = `Usage: consul-mesh plan [options]   (consul-mesh plan --help for the options)\n`;

/**
 * Runs the CLI.
 * @param argv - Arguments after the program name.
 * @returns The exit status.
 */
export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === "plan")
    return runPlan(rest, {
      stdout: (t) => process.stdout.write(t),
      stderr: (t) => process.stderr.write(t),
      env: process.env,
    });
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
