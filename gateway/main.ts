#!/usr/bin/env -S node --max-semi-space-size=4
/**
 * The `sni-gateway` command: parses flags and environment (see `--help`), starts the gateway,
 * and on SIGTERM/SIGINT drains and exits 0. SIGHUP re-reads the routes file.
 */
import { HELP, parseCommandLine } from "./cli/options";
import { CliError } from "./errors";
import { withoutCredentials } from "../consul/errors";
import { FileRouteSource } from "./sources/file-route-source";
import { type GatewayOptions, startGateway } from "./gateway";
import { formatHostPort } from "./net/host-port";
import { createLogger } from "./admin/logger";

/**
 * Runs the CLI.
 * @param argv arguments after the program name.
 * @returns the process exit code (the process stays up while the gateway runs).
 */
export async function main(argv: string[]): Promise<number> {
  let command;
  try {
    command = parseCommandLine(argv);
  } catch (error) {
    if (error instanceof CliError) {
      process.stderr.write(`sni-gateway: ${error.message}\nRun 'sni-gateway --help' for usage.\n`);
      return 2;
    }
    throw error;
  }
  if (command.kind === "help") {
    process.stdout.write(HELP);
    return 0;
  }
  const options = command.options;
  const logger = createLogger(options.logLevel);
  logger.info({ event: "starting", ...describeOptions(options) }, "sni-gateway starting");
  let gateway;
  try {
    gateway = await startGateway({ ...options, logger });
  } catch (error) {
    logger.fatal({ event: "start-failed", error: (error as Error).message }, "sni-gateway could not start");
    return 1;
  }
  const handle = gateway;
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ event: "signal", signal }, `${signal}: draining`);
    handle.close(options.drainGraceMs).then(
      () => process.exit(0),
      (error: Error) => {
        logger.error({ event: "stop-failed", error: error.message }, "error while stopping");
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGHUP", () => {
    if (handle.source instanceof FileRouteSource) void handle.source.reload();
  });
  return 0;
}

/**
 * A summary of options safe to log (no token, no credentials in the agent address).
 * @param options - The parsed options.
 */
export function describeOptions(options: GatewayOptions): Record<string, unknown> {
  const routes = options.routes;
  return {
    datacenter: options.datacenter,
    trustDomain: options.trustDomain,
    listen: options.listen.map(formatHostPort),
    admin: options.admin ? formatHostPort(options.admin) : undefined,
    routes:
      "file" in routes
        ? { file: routes.file }
        : "consul" in routes
          ? { consul: withoutCredentials(routes.consul.address), aclToken: Boolean(routes.consul.token) }
          : "static",
  };
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      if (code !== 0) process.exit(code);
    },
    (error: Error) => {
      process.stderr.write(`sni-gateway: ${error.stack ?? error.message}\n`);
      process.exit(1);
    },
  );
}
