/**
 * The scale bench (`npm run bench:scale`, by hand, not in CI): our gateway in Consul mode beside
 * Consul's own Envoy mesh gateway, fed by the same real Consul 1.16.3 servers, for catalogs of
 * 1,000 / 5,000 / 10,000 services (each with one to three instances, each instance with a sidecar)
 * and 2 / 5 / 10 datacenters on loopback.
 *
 * A dc1 gateway's table is dc1's services plus one route per other datacenter (to that
 * datacenter's gateways), so the services go to dc1, the worst case for the gateways measured
 * there, and every other datacenter gets a mesh gateway. The gateways run one after the other on
 * the same servers (ours first, while Consul's caches are cold), so that what Consul spends can be
 * put down to the one running: ours as it is (routes over the agent's xDS stream), ours as it was
 * (`--consul-routes catalog`: a blocking query per service, given 120 s at most), Envoy. For each:
 * - the time from its start to the full table: every service and every other datacenter with a
 *   healthy endpoint;
 * - at rest: resident memory, CPU, its connections to the agent (HTTP and gRPC), and what the
 *   Consul servers spend meanwhile (against the same window with no gateway running);
 * - the time from a catalog change to its use by a new connection, p50/p99 over `--changes` of
 *   each kind: an instance registered (a connection reaches it), the same instance deregistered
 *   (connections refused), dc2's gateway moved to another port (connections reach the new one);
 * - CPU per new connection through the gateway with the big table (`--connections` in a row).
 * Then past the limits (`scale-limits.ts`; `--skip-limits` leaves it out, `--skip-sizes` runs it
 * alone): a slow and a silent Consul, a flood of catalog changes, a table over `--max-routes`.
 *
 * Every loop is bounded: a change waits at most 10 s, a cold start `--cold-start-cap` seconds.
 */
import os from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import { loadBigCatalog } from "../test/support/big-catalog";
import { compileGatewayProgram, type GatewayProgram } from "../test/support/gateway-program";
import { RealConsul, type RealDatacenter } from "../test/support/real-consul";
import { gatewayAddresses, startEnvoyGateway, startOurGateway, type RunningGateway } from "../test/support/real-mesh";
import { rssKiB } from "./processes";
import { type LimitsSettings, runLimits } from "./scale-limits";
import {
  CHANGE_CAP_MS,
  connections,
  cpuSeconds,
  marker,
  ms,
  msUntil,
  percentile,
  probe,
  probeInstance,
  PROBE,
  register,
  remoteGateway,
} from "./scale-support";

interface Settings {
  sizes: Array<{ services: number; datacenters: number }>;
  changes: number;
  connections: number;
  coldStartCapS: number;
  /** The limits phase (`scale-limits.ts`), or `undefined` with `--skip-limits`. */
  limits: LimitsSettings | undefined;
}

function settingsFrom(argv: string[]): Settings {
  const value = (flag: string, fallback: string): string => {
    const i = argv.indexOf(flag);
    return i >= 0 && argv[i + 1] ? argv[i + 1] : fallback;
  };
  const sizes = (argv.includes("--skip-sizes") ? "" : value("--sizes", "1000x2,5000x5,10000x10"))
    .split(",")
    .filter((size) => size !== "")
    .map((size) => {
      const m = /^(\d+)x(\d+)$/.exec(size.trim());
      if (!m || Number(m[2]) < 2) throw new Error(`--sizes: "${size}" is not <services>x<datacenters ≥ 2>`);
      return { services: Number(m[1]), datacenters: Number(m[2]) };
    });
  const count = (flag: string, fallback: number): number => {
    const n = Number(value(flag, String(fallback)));
    if (!Number.isInteger(n) || n < 1) throw new Error(`${flag}: a positive integer, not "${value(flag, "")}"`);
    return n;
  };
  return {
    sizes,
    changes: count("--changes", 100),
    connections: count("--connections", 2000),
    coldStartCapS: count("--cold-start-cap", 600),
    limits: argv.includes("--skip-limits")
      ? undefined
      : {
          services: count("--limits-services", 1000),
          slowMs: count("--slow-ms", 200),
          flood: count("--flood", 10_000),
          changes: Math.min(20, count("--changes", 100)),
        },
  };
}

interface Measured {
  fullTableMs: number;
  rssMiB: number;
  restCpuPct: number;
  agentConnections: { http: number; grpc: number };
  consulRestCpuPct: number;
  changes: Record<"registered" | "deregistered" | "gateway moved", { p50: number; p99: number; missed: number }>;
  cpuPerConnectionMs: number;
}

interface Bed {
  consul: RealConsul;
  dc1: RealDatacenter;
  dc2: RealDatacenter;
  trustDomain: string;
  probeBackend: { port: number; close(): void };
  dc2Gateways: Array<{ port: number; close(): void }>;
  expected: { services: number; gateways: number };
  consulPids: number[];
  settings: Settings;
}

/**
 * Waits until every service and every other datacenter has a healthy endpoint in the gateway
 * (ours: `/routes`; Envoy: clusters with `membership_healthy` above 0, besides its own
 * `local_agent`); throws after the cap with how far it got.
 */
async function waitFullTable(bed: Bed, gateway: RunningGateway, capS: number): Promise<void> {
  const wanted = bed.expected.services + bed.expected.gateways;
  let have = 0;
  const count = async (): Promise<number> => {
    const page = gateway.kind === "ours" ? "/routes" : `/stats?filter=${encodeURIComponent("membership_healthy$")}`;
    const text = await (await fetch(`${gateway.adminUrl}${page}`, { signal: AbortSignal.timeout(10_000) })).text();
    if (gateway.kind === "ours") {
      const table = JSON.parse(text) as { services: RoutedTo[]; gateways: RoutedTo[] };
      return [...table.services, ...table.gateways].filter((route) => route.endpoints.length > 0).length;
    }
    return [...text.matchAll(/^cluster\.(.+)\.membership_healthy: (\d+)$/gm)].filter(
      ([, cluster, healthy]) => cluster !== "local_agent" && Number(healthy) > 0,
    ).length;
  };
  const ms = await msUntil(
    async () => {
      have = await count().catch(() => have);
      return have >= wanted;
    },
    capS * 1000,
    100, // the pages are big at 10,000 services, and reading them costs the gateway too
  );
  if (ms === Infinity) throw new Error(`no full table after ${capS} s: ${have} of ${wanted} routes with endpoints`);
}

interface RoutedTo {
  endpoints: unknown[];
}

async function measure(bed: Bed, gateway: RunningGateway, startedAt: number, capS: number): Promise<Measured> {
  const { dc1, dc2, trustDomain, settings } = bed;
  const pid = gateway.process.pid as number;
  await waitFullTable(bed, gateway, capS).catch((error: Error) => {
    const http = connections(pid, dc1.host, dc1.ports.http);
    throw new Error(`${error.message}, holding ${http} HTTP connections to the agent`);
  });
  const fullTableMs = performance.now() - startedAt;
  const sni = (dc: string) => `${PROBE}.default.${dc}.internal.${trustDomain}`;
  const target = { host: gateway.addresses.lan.host, port: gateway.addresses.lan.port };

  await sleep(5000);
  const restWindowMs = 10_000;
  const [g0, c0] = [cpuSeconds([pid]), cpuSeconds(bed.consulPids)];
  await sleep(restWindowMs);
  const [g1, c1] = [cpuSeconds([pid]), cpuSeconds(bed.consulPids)];
  const rssMiB = rssKiB(pid) / 1024;
  const agentConnections = {
    http: connections(pid, dc1.host, dc1.ports.http),
    grpc: connections(pid, dc1.host, dc1.ports.grpc),
  };

  const series = { registered: [] as number[], deregistered: [] as number[], "gateway moved": [] as number[] };
  for (let i = 0; i < settings.changes; i++) {
    await register(dc1, probeInstance(dc1, bed.probeBackend.port, "passing"));
    series.registered.push(
      await msUntil(async () => (await probe(target.host, target.port, sni("dc1"))) === "P", CHANGE_CAP_MS),
    );
    await dc1.api("PUT", "/v1/catalog/deregister", { Node: "scale-probe-node", ServiceID: `${PROBE}-sidecar-proxy` });
    series.deregistered.push(
      await msUntil(async () => (await probe(target.host, target.port, sni("dc1"))) === undefined, CHANGE_CAP_MS),
    );
    const to = i % 2 === 0 ? 1 : 0;
    await register(dc2, remoteGateway(dc2, bed.dc2Gateways[to].port));
    const tag = to === 1 ? "B" : "A";
    series["gateway moved"].push(
      await msUntil(async () => (await probe(target.host, target.port, sni("dc2"))) === tag, CHANGE_CAP_MS),
    );
  }
  if (settings.changes % 2 === 1) await register(dc2, remoteGateway(dc2, bed.dc2Gateways[0].port));

  await register(dc1, probeInstance(dc1, bed.probeBackend.port, "passing"));
  await msUntil(async () => (await probe(target.host, target.port, sni("dc1"))) === "P", CHANGE_CAP_MS);
  const before = cpuSeconds([pid]);
  let answered = 0;
  for (let i = 0; i < settings.connections; i++)
    if ((await probe(target.host, target.port, sni("dc1"))) === "P") answered++;
  const cpuPerConnectionMs = ((cpuSeconds([pid]) - before) * 1000) / settings.connections;
  if (answered < settings.connections)
    process.stdout.write(`  (${gateway.kind}: ${settings.connections - answered} probe connections not answered)\n`);
  await register(dc1, probeInstance(dc1, bed.probeBackend.port, "critical"));

  const summary = (values: number[]) => ({
    p50: percentile(values, 50),
    p99: percentile(values, 99),
    missed: values.filter((v) => v === Infinity).length,
  });
  return {
    fullTableMs,
    rssMiB,
    restCpuPct: ((g1 - g0) * 100_000) / restWindowMs,
    agentConnections,
    consulRestCpuPct: ((c1 - c0) * 100_000) / restWindowMs,
    changes: {
      registered: summary(series.registered),
      deregistered: summary(series.deregistered),
      "gateway moved": summary(series["gateway moved"]),
    },
    cpuPerConnectionMs,
  };
}

/** The gateways compared, in the order they run. */
const COLUMNS = {
  ours: "ours (xDS, the default)",
  before: "ours before (`--consul-routes catalog`)",
  envoy: "Envoy (Consul's mesh gateway)",
} as const;
type Column = keyof typeof COLUMNS;

/** How long the catalog route source gets for its table: it cannot pass 200 services (HTTP 429). */
const BEFORE_CAP_S = 120;

/** One size's figures: each gateway's (or why it failed), and the bed's. */
interface SizeResult {
  gateways: Record<Column, Measured | string>;
  consulIdleCpuPct: number;
  loadMs: number;
  instances: number;
}

async function runSize(
  program: GatewayProgram,
  settings: Settings,
  size: Settings["sizes"][number],
): Promise<SizeResult> {
  const names = Array.from({ length: size.datacenters }, (_, i) => `dc${i + 1}`);
  const consul = await RealConsul.start({ datacenters: names });
  const closers: Array<() => void> = [];
  try {
    const [dc1, dc2] = [consul.dc("dc1"), consul.dc("dc2")];
    const loadStarted = performance.now();
    const catalog = await loadBigCatalog(dc1, size.services);
    const loadMs = performance.now() - loadStarted;
    const probeBackend = await marker(dc1.host, "P");
    const dc2Gateways = [await marker(dc2.host, "A"), await marker(dc2.host, "B")];
    closers.push(probeBackend.close, ...dc2Gateways.map((g) => g.close));
    await register(dc1, {
      Node: "scale-probe-node",
      Address: dc1.host,
      Service: { ID: PROBE, Service: PROBE, Port: 8080 },
    });
    await register(dc1, probeInstance(dc1, probeBackend.port, "critical"));
    for (const dc of consul.datacenters.slice(1))
      await register(dc, remoteGateway(dc, dc === dc2 ? dc2Gateways[0].port : 1));
    const bed: Bed = {
      consul,
      dc1,
      dc2,
      trustDomain: await consul.trustDomain(),
      probeBackend,
      dc2Gateways,
      expected: { services: size.services, gateways: size.datacenters - 1 },
      consulPids: consul.datacenters.map((dc) => dc.process.pid as number),
      settings,
    };
    await sleep(5000);
    const c0 = cpuSeconds(bed.consulPids);
    await sleep(10_000);
    const consulIdleCpuPct = ((cpuSeconds(bed.consulPids) - c0) * 100_000) / 10_000;

    const gateways: SizeResult["gateways"] = { ours: "not run", before: "not run", envoy: "not run" };
    for (const column of Object.keys(COLUMNS) as Column[]) {
      const addresses = await gatewayAddresses(dc1);
      const startedAt = performance.now();
      const capS = column === "before" ? Math.min(BEFORE_CAP_S, settings.coldStartCapS) : settings.coldStartCapS;
      let gateway: RunningGateway | undefined;
      try {
        gateway =
          column === "envoy"
            ? await startEnvoyGateway(consul, dc1, addresses, undefined, capS * 1000)
            : await startOurGateway(consul, program, dc1, addresses, {
                waitReady: false,
                logLevel: "info",
                routes: column === "ours" ? "xds" : "catalog",
              });
        gateways[column] = await measure(bed, gateway, startedAt, capS);
      } catch (error) {
        gateways[column] = `failed: ${(error as Error).message.split("\n")[0]}`;
      } finally {
        await gateway?.stop();
      }
    }
    return { gateways, consulIdleCpuPct, loadMs, instances: catalog.instances };
  } finally {
    for (const close of closers) close();
    await consul.stop();
  }
}

/** A table row: one cell per column; a column that failed says why in its first row only. */
function row(label: string, gateways: SizeResult["gateways"], cell: (m: Measured) => string, first = false): string {
  const show = (m: Measured | string) => (typeof m !== "string" ? cell(m) : first ? m : "–");
  return `| ${label} | ${(Object.keys(COLUMNS) as Column[]).map((c) => show(gateways[c])).join(" | ")} |`;
}

async function main(): Promise<void> {
  const settings = settingsFrom(process.argv.slice(2));
  const cpus = os.cpus();
  process.stdout.write(
    `scale bench: ${cpus.length} × ${cpus[0]?.model ?? "?"}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node.js ${process.version}, ` +
      `load average ${os
        .loadavg()
        .map((l) => l.toFixed(2))
        .join(" ")}; ${settings.changes} changes of each kind, ` +
      `${settings.connections} connections\n`,
  );
  const program = await compileGatewayProgram();
  try {
    for (const size of settings.sizes) {
      const started = performance.now();
      const r = await runSize(program, settings, size);
      const g = r.gateways;
      const lines = [
        ``,
        `### ${size.services.toLocaleString("en")} services (${r.instances.toLocaleString("en")} instances, each with a sidecar) × ${size.datacenters} datacenters`,
        ``,
        `Catalog loaded in ${ms(r.loadMs)}; Consul servers at rest without a gateway: ${r.consulIdleCpuPct.toFixed(1)} % of a core; load average ${os
          .loadavg()
          .map((l) => l.toFixed(2))
          .join(" ")}; ${ms(performance.now() - started)} for this size.`,
        ``,
        `| | ${Object.values(COLUMNS).join(" | ")} |`,
        `| --- | --- | --- | --- |`,
        row("full table after a cold start", g, (m) => ms(m.fullTableMs), true),
        row("resident memory at rest", g, (m) => `${m.rssMiB.toFixed(0)} MiB`),
        row("CPU at rest", g, (m) => `${m.restCpuPct.toFixed(2)} % of a core`),
        row(
          "connections to the agent (HTTP, gRPC)",
          g,
          (m) => `${m.agentConnections.http}, ${m.agentConnections.grpc}`,
        ),
        row("Consul servers' CPU at rest, with it", g, (m) => `${m.consulRestCpuPct.toFixed(1)} % of a core`),
        ...(["registered", "deregistered", "gateway moved"] as const).map((kind) =>
          row(`change → used: ${kind} (p50 / p99)`, g, (m) => {
            const c = m.changes[kind];
            return `${ms(c.p50)} / ${ms(c.p99)}${c.missed ? ` (${c.missed} over 10 s)` : ""}`;
          }),
        ),
        row("CPU per new connection", g, (m) => `${m.cpuPerConnectionMs.toFixed(3)} ms`),
      ];
      process.stdout.write(`${lines.join("\n")}\n`);
    }
    if (settings.limits) process.stdout.write(`${(await runLimits(program, settings.limits)).join("\n")}\n`);
  } finally {
    await program.remove();
  }
}

main().catch((error: Error) => {
  process.stderr.write(`scale bench: ${error.stack ?? error.message}\n`);
  process.exitCode = 1;
});
