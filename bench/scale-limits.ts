/**
 * Past the limits, the last phase of `npm run bench:scale`: our gateway in Consul mode (xDS, the
 * default) on a catalog of `--limits-services` services in dc1 and a second datacenter, when
 * - Consul is slow: the agent's HTTP and gRPC ports behind a proxy adding `--slow-ms` to every
 *   chunk each way (`delay-proxy.ts`): the full table, changes used, memory;
 * - Consul falls silent: that proxy holding every byte, connections open: how long until
 *   `/readyz` says so, and whether the last good table still serves; then how long after Consul
 *   answers again it is fresh;
 * - the catalog floods: `--flood` writes (an instance registered or deregistered, 8 at a time)
 *   while a connection is probed every 50 ms: answers, peak memory, and how long after the last
 *   write the table is the catalog's;
 * - the table outgrows `--max-routes`: a gateway started with room for 10 more routes sees 20
 *   more services: how long until `/readyz` and the metrics say so, whether the last good table
 *   still serves, and how long until it is ready again once they are gone.
 * Every wait is capped (`CAP_S`).
 */
import os from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import { loadBigCatalog } from "../test/support/big-catalog";
import type { GatewayProgram } from "../test/support/gateway-program";
import { RealConsul, type RealDatacenter } from "../test/support/real-consul";
import { gatewayAddresses, startOurGateway, type RunningGateway } from "../test/support/real-mesh";
import { delayProxy } from "./delay-proxy";
import { rssKiB } from "./processes";
import {
  CHANGE_CAP_MS,
  cpuSeconds,
  marker,
  ms,
  msUntil,
  percentile,
  probe,
  PROBE,
  probeInstance,
  register,
  remoteGateway,
} from "./scale-support";

/** What the limits phase is given. */
export interface LimitsSettings {
  /** Services in dc1. */
  services: number;
  /** Delay the slow agent adds to each chunk, each way, in ms. */
  slowMs: number;
  /** Catalog writes in the flood. */
  flood: number;
  /** Changes timed through the slow agent. */
  changes: number;
}

/** Cap of every wait of this phase, in seconds. */
const CAP_S = 180;
/** Catalog writes in flight during the flood. */
const FLOOD_IN_FLIGHT = 8;
/** Distinct instances the flood flips. */
const FLOOD_INSTANCES = 50;

interface Bed {
  consul: RealConsul;
  dc1: RealDatacenter;
  sni: string;
  /** Routes of the full table: every service, the probe, and dc2. */
  routes: number;
  /** The probe service's backend. */
  probePort: number;
}

/** Routes with endpoints in the gateway's `/routes`, or -1 when it does not answer. */
async function routesWithEndpoints(gateway: RunningGateway): Promise<number> {
  try {
    const answer = await fetch(`${gateway.adminUrl}/routes`, { signal: AbortSignal.timeout(10_000) });
    if (answer.status !== 200) return -1;
    const table = (await answer.json()) as {
      services: Array<{ endpoints: unknown[] }>;
      gateways: Array<{ endpoints: unknown[] }>;
    };
    return [...table.services, ...table.gateways].filter((route) => route.endpoints.length > 0).length;
  } catch {
    return -1;
  }
}

async function readyz(gateway: RunningGateway): Promise<{ status: number; body: string }> {
  try {
    const answer = await fetch(`${gateway.adminUrl}/readyz`, { signal: AbortSignal.timeout(5000) });
    return { status: answer.status, body: (await answer.text()).trim() };
  } catch (error) {
    return { status: 0, body: (error as Error).message };
  }
}

async function metric(gateway: RunningGateway, name: string): Promise<number> {
  const text = await (await fetch(`${gateway.adminUrl}/metrics`, { signal: AbortSignal.timeout(10_000) })).text();
  return [...text.matchAll(new RegExp(`^sni_gateway_${name}(?:\\{[^}]*\\})? (\\S+)$`, "gm"))].reduce(
    (sum, m) => sum + Number(m[1]),
    0,
  );
}

async function start(bed: Bed, program: GatewayProgram, options: Parameters<typeof startOurGateway>[4]) {
  const addresses = await gatewayAddresses(bed.dc1);
  const startedAt = performance.now();
  const gateway = await startOurGateway(bed.consul, program, bed.dc1, addresses, {
    waitReady: false,
    logLevel: "info",
    ...options,
  });
  const target = { host: addresses.lan.host, port: addresses.lan.port };
  const answers = async () => (await probe(target.host, target.port, bed.sni)) === "P";
  return { gateway, startedAt, answers };
}

/** Probes every `everyMs` while `during` runs: how many answered, of how many. */
async function probing(answers: () => Promise<boolean>, during: Promise<unknown>, everyMs: number): Promise<string> {
  let done = false;
  let tried = 0;
  let answered = 0;
  const loop = (async () => {
    while (!done) {
      tried++;
      if (await answers()) answered++;
      await sleep(everyMs);
    }
  })();
  await during.finally(() => (done = true));
  await loop;
  return `${answered} of ${tried}`;
}

async function slowAndSilent(bed: Bed, program: GatewayProgram, settings: LimitsSettings): Promise<string[]> {
  const { dc1 } = bed;
  const http = await delayProxy(dc1.host, { host: dc1.host, port: dc1.ports.http }, settings.slowMs);
  const grpc = await delayProxy(dc1.host, { host: dc1.host, port: dc1.ports.grpc }, settings.slowMs);
  const { gateway, startedAt, answers } = await start(bed, program, {
    agent: { http: `http://${http.address}`, grpc: grpc.address },
  });
  try {
    const full = await msUntil(async () => (await routesWithEndpoints(gateway)) >= bed.routes, CAP_S * 1000, 100);
    const fullMs = full === Infinity ? Infinity : performance.now() - startedAt;
    const used: number[] = [];
    for (let i = 0; i < settings.changes; i++) {
      await register(dc1, probeInstance(dc1, bed.probePort, "critical"));
      await msUntil(async () => !(await answers()), CHANGE_CAP_MS);
      await register(dc1, probeInstance(dc1, bed.probePort, "passing"));
      used.push(await msUntil(answers, CHANGE_CAP_MS));
    }
    const rssSlow = rssKiB(gateway.process.pid as number) / 1024;

    http.pause();
    grpc.pause();
    const silentAt = performance.now();
    const noticed = msUntil(async () => (await readyz(gateway)).status === 503, CAP_S * 1000, 500);
    const served = await probing(answers, noticed, 1000);
    const noticedMs = await noticed;
    const said = await readyz(gateway);
    const stale = await metric(gateway, "route_source_stale");
    const rssSilent = rssKiB(gateway.process.pid as number) / 1024;
    const silentFor = performance.now() - silentAt;

    http.resume();
    grpc.resume();
    const freshMs = await msUntil(async () => (await readyz(gateway)).status === 200, CAP_S * 1000, 100);
    return [
      `| Consul slow (+${settings.slowMs} ms each way, HTTP and gRPC) | full table after a cold start ${ms(fullMs)}; a change used after ${ms(percentile(used, 50))} p50 / ${ms(percentile(used, 99))} p99 (${used.length} changes); ${rssSlow.toFixed(0)} MiB |`,
      `| Consul silent (every byte held, connections open) | \`/readyz\` 503 after ${ms(noticedMs)} (\`${said.body.slice(0, 160)}\`), \`route_source_stale\` ${stale}; probes answered by the last good table meanwhile: ${served}; ${rssSilent.toFixed(0)} MiB after ${ms(silentFor)} silent; ready again ${ms(freshMs)} after Consul answers |`,
    ];
  } finally {
    await gateway.stop();
    http.close();
    grpc.close();
  }
}

function floodInstance(dc: RealDatacenter, n: number): unknown {
  return {
    Node: "scale-flood-node",
    Address: dc.host,
    Service: {
      ID: `scale-flood-${n}-sidecar-proxy`,
      Service: "scale-flood-sidecar-proxy",
      Kind: "connect-proxy",
      Port: 30000 + n,
      Proxy: {
        DestinationServiceName: "scale-flood",
        DestinationServiceID: `scale-flood-${n}`,
        LocalServicePort: 8080,
      },
    },
  };
}

async function flood(bed: Bed, program: GatewayProgram, settings: LimitsSettings): Promise<string[]> {
  const { dc1 } = bed;
  const { gateway, answers } = await start(bed, program, {});
  const pid = gateway.process.pid as number;
  try {
    await msUntil(async () => (await routesWithEndpoints(gateway)) >= bed.routes, CAP_S * 1000, 100);
    const rssBefore = rssKiB(pid) / 1024;
    let peak = rssBefore;
    let writing = true;
    const sampler = (async () => {
      while (writing) {
        peak = Math.max(peak, rssKiB(pid) / 1024);
        await sleep(200);
      }
    })();
    const cpu0 = cpuSeconds([pid]);
    const began = performance.now();
    let next = 0;
    const writer = async () => {
      for (let k = next++; k < settings.flood; k = next++) {
        const n = k % FLOOD_INSTANCES;
        // Even rounds register each instance, odd rounds deregister it: the catalog ends as it began.
        if (Math.floor(k / FLOOD_INSTANCES) % 2 === 0) await register(dc1, floodInstance(dc1, n));
        else
          await dc1.api("PUT", "/v1/catalog/deregister", {
            Node: "scale-flood-node",
            ServiceID: `scale-flood-${n}-sidecar-proxy`,
          });
      }
    };
    const writes = Promise.all(Array.from({ length: FLOOD_IN_FLIGHT }, writer));
    const served = await probing(answers, writes, 50);
    const floodMs = performance.now() - began;
    // When the last round registered instances the table ends with the flood service, else without it.
    const lastRoundRegisters = Math.floor((settings.flood - 1) / FLOOD_INSTANCES) % 2 === 0;
    const settled = await msUntil(
      async () => (await routesWithEndpoints(gateway)) === bed.routes + (lastRoundRegisters ? 1 : 0),
      CAP_S * 1000,
      50,
    );
    writing = false;
    await sampler;
    const cpu = cpuSeconds([pid]) - cpu0;
    return [
      `| a flood of catalog changes (${settings.flood} writes, ${FLOOD_IN_FLIGHT} in flight, ${ms(floodMs)}) | probes answered meanwhile: ${served}; the table is the catalog's ${ms(settled)} after the last write; memory ${rssBefore.toFixed(0)} → peak ${peak.toFixed(0)} MiB; gateway CPU ${cpu.toFixed(2)} s |`,
    ];
  } finally {
    await gateway.stop();
  }
}

async function overLimit(bed: Bed, program: GatewayProgram): Promise<string[]> {
  const { dc1 } = bed;
  const maxRoutes = bed.routes + 10;
  const { gateway, answers } = await start(bed, program, { args: ["--max-routes", String(maxRoutes)] });
  try {
    await msUntil(async () => (await routesWithEndpoints(gateway)) >= bed.routes, CAP_S * 1000, 100);
    // On catalog nodes of their own (10 services a node), removed whole afterwards.
    const first = Math.ceil((bed.routes + 1000) / 10) * 10;
    await loadBigCatalog(dc1, 20, first);
    const refused = await msUntil(async () => (await readyz(gateway)).status === 503, CAP_S * 1000, 50);
    const said = await readyz(gateway);
    const failures = await metric(gateway, "route_reload_failures_total");
    let answered = 0;
    for (let i = 0; i < 20; i++) if (await answers()) answered++;
    const held = await routesWithEndpoints(gateway);
    for (let node = first / 10; node < (first + 20) / 10; node++)
      await dc1.api("PUT", "/v1/catalog/deregister", { Node: `big-node-${node}` });
    const readyAgain = await msUntil(async () => (await readyz(gateway)).status === 200, CAP_S * 1000, 50);
    return [
      `| a table over \`--max-routes ${maxRoutes}\` (20 services more than the ${bed.routes} routes held) | \`/readyz\` 503 after ${ms(refused)} (\`${said.body.slice(0, 160)}\`), \`route_reload_failures_total\` ${failures}; the last good table (${held} routes) answered ${answered} of 20 probes; ready again ${ms(readyAgain)} after the services went |`,
    ];
  } finally {
    await gateway.stop();
  }
}

/**
 * Runs the limits phase.
 * @param program - The compiled gateway.
 * @param settings - Sizes and counts.
 * @returns the Markdown lines of its table.
 */
export async function runLimits(program: GatewayProgram, settings: LimitsSettings): Promise<string[]> {
  const consul = await RealConsul.start({ datacenters: ["dc1", "dc2"] });
  const closers: Array<() => void> = [];
  try {
    const [dc1, dc2] = [consul.dc("dc1"), consul.dc("dc2")];
    await loadBigCatalog(dc1, settings.services);
    const backend = await marker(dc1.host, "P");
    const dc2Gateway = await marker(dc2.host, "A");
    closers.push(backend.close, dc2Gateway.close);
    await register(dc1, {
      Node: "scale-probe-node",
      Address: dc1.host,
      Service: { ID: PROBE, Service: PROBE, Port: 8080 },
    });
    await register(dc1, probeInstance(dc1, backend.port, "passing"));
    await register(dc2, remoteGateway(dc2, dc2Gateway.port));
    const trustDomain = await consul.trustDomain();
    const bed: Bed = {
      consul,
      dc1,
      sni: `${PROBE}.default.dc1.internal.${trustDomain}`,
      routes: settings.services + 2,
      probePort: backend.port,
    };
    const rows = [
      ...(await slowAndSilent(bed, program, settings)),
      ...(await flood(bed, program, settings)),
      ...(await overLimit(bed, program)),
    ];
    return [
      ``,
      `### Past the limits: ${settings.services.toLocaleString("en")} services × 2 datacenters, our gateway (xDS)`,
      ``,
      `Load average ${os
        .loadavg()
        .map((l) => l.toFixed(2))
        .join(" ")}.`,
      ``,
      `| case | what happened |`,
      `| --- | --- |`,
      ...rows,
    ];
  } finally {
    for (const close of closers) close();
    await consul.stop();
  }
}
