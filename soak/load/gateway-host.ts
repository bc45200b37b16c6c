/**
 * One gateway for the soak, in a process of its own: the `sni-gateway` command itself (its
 * `main`, with the arguments given), plus an IPC channel through which the soak reads what no
 * metric shows: open file descriptors, resident memory, event-loop resources (timers, sockets)
 * and the open-file limit. SIGTERM drains and exits as the command does.
 *
 * Forked by the soak with `--expose-gc` and the `sni-gateway` arguments.
 */
import { readdirSync, readFileSync } from "node:fs";
import { main } from "../../gateway/main";
import { serveRequests } from "../child";
import { SoakError } from "../soak-error";

/** What a probe of the gateway process reads. */
export interface GatewayProbe {
  /** Open file descriptors. */
  fds: number;
  /** The process's open-file limit (soft, as in force). */
  fdLimit: number;
  /** Resident memory, in bytes, after a full garbage collection. */
  rssBytes: number;
  /** Event-loop resources by type (`Timeout`, `TCPSocketWrap`, …). */
  resources: Record<string, number>;
}

function probe(): GatewayProbe {
  (globalThis as { gc?: () => void }).gc?.();
  const resources: Record<string, number> = {};
  for (const type of process.getActiveResourcesInfo()) resources[type] = (resources[type] ?? 0) + 1;
  const limit = /^Max open files\s+(\d+)/m.exec(readFileSync("/proc/self/limits", "utf8"));
  return {
    fds: readdirSync("/proc/self/fd").length,
    fdLimit: limit ? Number(limit[1]) : NaN,
    rssBytes: process.memoryUsage.rss(),
    resources,
  };
}

serveRequests(async (request) => {
  if (request.type === "probe") return probe();
  throw new SoakError("E_SOAK_HELPER", "gateway host", `unknown request ${request.type}`);
});
main(process.argv.slice(2)).then(
  (code) => {
    if (code !== 0) process.exit(code);
  },
  (error: Error) => {
    process.stderr.write(`gateway-host: ${error.stack ?? error.message}\n`);
    process.exit(1);
  },
);
