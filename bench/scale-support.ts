/**
 * What the scale bench's phases share (`scale-bench.ts`, the sizes; `scale-limits.ts`, past the
 * limits): markers that answer through the gateway, probes, polling with a cap, percentiles, CPU
 * and connections of a process, and the catalog registrations they make.
 */
import { execFileSync } from "node:child_process";
import net from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { syntheticHello } from "../test/gateway/helpers";
import type { RealDatacenter } from "../test/support/real-consul";
import { cpuTimes } from "./processes";

/** Milliseconds as a table shows them. */
export function ms(value: number): string {
  return value === Infinity ? "never" : value >= 10_000 ? `${(value / 1000).toFixed(1)} s` : `${Math.round(value)} ms`;
}

/** How long a change may take to be used before it counts as missed. */
export const CHANGE_CAP_MS = 10_000;
/** The service the benches probe through the gateway. */
export const PROBE = "scale-probe";

/** A TCP listener that answers the first bytes of each connection with its one-letter tag. */
export async function marker(host: string, tag: string): Promise<{ port: number; close(): void }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => undefined);
    socket.once("data", () => socket.end(tag));
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () => {
      for (const socket of sockets) socket.destroy();
      server.close();
    },
  };
}

/** One new connection through `gateway` with this SNI: the tag that answered, or `undefined` (refused, closed, 2 s). */
export function probe(host: string, port: number, sni: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (tag: string | undefined) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(tag);
    };
    const timer = setTimeout(() => done(undefined), 2000);
    socket.on("connect", () => socket.write(syntheticHello(sni)));
    socket.once("data", (data) => done(data.toString("utf8", 0, 1)));
    socket.on("error", () => done(undefined));
    socket.on("close", () => done(undefined));
  });
}

/** Milliseconds until `check` holds (polled every `intervalMs`), or `Infinity` after the cap. */
export async function msUntil(check: () => Promise<boolean>, capMs: number, intervalMs = 2): Promise<number> {
  const started = performance.now();
  while (performance.now() - started < capMs) {
    if (await check()) return performance.now() - started;
    await sleep(intervalMs);
  }
  return Infinity;
}

/** The p-th percentile of `values` (nearest rank). */
export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/** CPU seconds (user + system) the processes have used. */
export function cpuSeconds(pids: number[]): number {
  return pids.reduce((sum, pid) => {
    const t = cpuTimes(pid);
    return sum + t.user + t.system;
  }, 0);
}

/** Established TCP connections of a process to `host:port`, from `ss`. */
export function connections(pid: number, host: string, port: number): number {
  const out = execFileSync("ss", ["-Htnp", "state", "established", "dst", `${host}:${port}`], { encoding: "utf8" });
  return out.split("\n").filter((line) => line.includes(`pid=${pid},`)).length;
}

/** A catalog registration in `dc`; throws unless Consul accepts it. */
export async function register(dc: RealDatacenter, body: unknown): Promise<void> {
  const answer = await dc.api("PUT", "/v1/catalog/register", body);
  if (answer.status !== 200) throw new Error(`catalog register in ${dc.name}: ${answer.status} ${answer.text}`);
}

/** The mesh gateway of a datacenter other than dc1, at `port` on its host (a catalog registration). */
export function remoteGateway(dc: RealDatacenter, port: number): unknown {
  const address = { Address: dc.host, Port: port };
  return {
    Node: `scale-gateway-${dc.name}`,
    Address: dc.host,
    Service: {
      ID: "mesh-gateway",
      Service: "mesh-gateway",
      Kind: "mesh-gateway",
      ...address,
      TaggedAddresses: { lan: address, wan: address },
    },
    Checks: [{ CheckID: "gateway-alive", Name: "alive", Status: "passing", ServiceID: "mesh-gateway" }],
  };
}

/** The probe service's one instance in dc1: a sidecar at `port`, passing or critical. */
export function probeInstance(dc: RealDatacenter, port: number, status: "passing" | "critical"): unknown {
  return {
    Node: "scale-probe-node",
    Address: dc.host,
    Service: {
      ID: `${PROBE}-sidecar-proxy`,
      Service: `${PROBE}-sidecar-proxy`,
      Kind: "connect-proxy",
      Port: port,
      Proxy: { DestinationServiceName: PROBE, DestinationServiceID: PROBE, LocalServicePort: 8080 },
    },
    Checks: [{ CheckID: "probe-sidecar", Name: "sidecar", Status: status, ServiceID: `${PROBE}-sidecar-proxy` }],
  };
}
