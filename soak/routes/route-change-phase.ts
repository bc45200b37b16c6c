/**
 * The "Route changes under load" phase: while streams echo through the gateway and new
 * connections arrive at a steady rate, one endpoint of the service is removed and another added,
 * by rewriting the routes file and (full run) by changing the real Consul catalog. No new
 * connection may fail, no established stream may break, and the removed endpoint must get no
 * new connection once the gateway serves the new table.
 */
import path from "node:path";
import { serviceSni } from "../../mesh/model/sni";
import { eventually } from "../../test/support/processes";
import type { RealDatacenter } from "../../test/support/real-consul";
import { checkList, formatCount, type Check, type CheckList } from "../check";
import type { SoakChild } from "../child";
import type { SoakSettings } from "../settings";
import { Backends, startClients, type Endpoint } from "../load/backends";
import { ECHO_SNI, writeRoutes } from "../load/routes-file";
import { SoakGateway } from "../load/soak-gateway";
import { SoakError } from "../soak-error";

const HOST = "127.0.1.2";
/** How long after the gateway serves the new table a removed endpoint may still see a connection dialled just before. */
const SWAP_GRACE_MS = 200;

const key = (e: Endpoint) => `${e.address}:${e.port}`;

/** Whether the gateway's `/routes` lists exactly these endpoints for `echo`. */
async function serves(gateway: SoakGateway, endpoints: readonly Endpoint[]): Promise<boolean> {
  const routes = JSON.parse(await gateway.admin("/routes")) as {
    services: Array<{ name: string; endpoints: Endpoint[] }>;
  };
  const listed = (routes.services.find((s) => s.name === "echo")?.endpoints ?? []).map(key).sort();
  return JSON.stringify(listed) === JSON.stringify(endpoints.map(key).sort());
}

/**
 * Streams and arrivals through `gateway`, `change` applied in the middle: records the figures.
 * @param what the source, for the figures' names ("routes file", "Consul catalog").
 */
async function underLoad(
  list: CheckList,
  what: string,
  settings: SoakSettings,
  gateway: SoakGateway,
  clients: SoakChild,
  backends: Backends,
  change: { before: Endpoint[]; after: Endpoint[]; apply(): Promise<void> },
): Promise<void> {
  const { streams, arrivalsPerSecond } = settings.routeChange;
  await clients.call({ type: "startStreams", count: streams, arrivalsPerSecond });
  await new Promise((resolve) => setTimeout(resolve, 2000));
  const applied = Date.now();
  await change.apply();
  await eventually(`the gateway to serve the new ${what} routes`, () => serves(gateway, change.after), {
    timeoutMs: 20_000,
    intervalMs: 50,
  });
  const swapMs = Date.now() - applied;
  await new Promise((resolve) => setTimeout(resolve, SWAP_GRACE_MS));
  const removed = change.before.filter((e) => !change.after.some((a) => key(a) === key(e)));
  const added = change.after.filter((e) => !change.before.some((b) => key(b) === key(e)));
  const atSwap = (await backends.stats()).accepted;
  await new Promise((resolve) => setTimeout(resolve, 3000));
  const result = await clients.call<{
    streams: number;
    broken: number;
    echoes: number;
    arrivals: number;
    arrivalFailures: number;
  }>({ type: "stopStreams" });
  const atEnd = (await backends.stats()).accepted;
  const toRemoved = removed.reduce((sum, e) => sum + (atEnd[key(e)] ?? 0) - (atSwap[key(e)] ?? 0), 0);
  const toAdded = added.reduce((sum, e) => sum + (atEnd[key(e)] ?? 0), 0);
  list.add(
    `${what} change under load: new connections and established streams`,
    `${formatCount(result.arrivals)} new connections at ${arrivalsPerSecond}/s, ${result.arrivalFailures} failed; ` +
      `${result.streams} streams (${formatCount(result.echoes)} echoes), ${result.broken} broken; new table served ${swapMs} ms after the change`,
    `0 failed, 0 broken, ${streams} streams`,
    result.arrivalFailures === 0 && result.broken === 0 && result.streams === streams,
  );
  list.add(
    `${what} change under load: the removed endpoint`,
    `${toRemoved} new connections to it from ${SWAP_GRACE_MS} ms after the new table was served; ${formatCount(toAdded)} to the added one`,
    "0 to the removed one, some to the added one",
    toRemoved === 0 && toAdded > 0,
  );
}

/**
 * Runs the phase: the routes file always, the Consul catalog when a real datacenter is given.
 * @param settings the run's sizes.
 * @param consul real Consul's `dc1`, whose catalog gets the service. Default: none (file only).
 */
export async function routeChangePhase(
  settings: SoakSettings,
  consul?: { dc: RealDatacenter; trustDomain: string; gatewayServiceId: string },
): Promise<Check[]> {
  const list = checkList("Route changes under load");
  const backends = Backends.start(settings.workDir);
  const stops: Array<() => Promise<unknown>> = [() => backends.stop()];
  try {
    const endpoints = await Promise.all([1, 2, 3, 4, 5].map((i) => backends.listen(`127.0.4.${i}`)));
    const routesFile = path.join(settings.workDir, "route-change.json");
    writeRoutes(routesFile, endpoints.slice(0, 4));
    const fileGateway = await SoakGateway.start({
      name: "route-change-file-gateway",
      workDir: settings.workDir,
      host: HOST,
      routes: ["--routes", routesFile],
    });
    stops.unshift(() => fileGateway.stop());
    const fileClients = startClients(settings.workDir, HOST, fileGateway.port, ECHO_SNI);
    stops.unshift(() => fileClients.stop());
    await underLoad(list, "routes file", settings, fileGateway, fileClients, backends, {
      before: endpoints.slice(0, 4),
      after: endpoints.slice(1, 5),
      apply: async () => writeRoutes(routesFile, endpoints.slice(1, 5)),
    });
    if (consul) {
      const { dc, trustDomain, gatewayServiceId } = consul;
      for (const [i, e] of endpoints.slice(0, 4).entries()) await registerProxy(dc, i + 1, e);
      await register(dc, "/v1/agent/service/register", {
        Name: "echo",
        ID: "echo",
        Address: endpoints[0].address,
        Port: endpoints[0].port,
      });
      const consulGateway = await SoakGateway.start({
        name: "route-change-consul-gateway",
        workDir: settings.workDir,
        host: HOST,
        // Unregistered, it streams the routes of dc1's registered gateway (a second mesh gateway in
        // dc1 would change the real mesh's paths under test).
        routes: [
          "--consul",
          dc.httpAddress,
          "--consul-grpc",
          dc.grpcAddress,
          "--no-register",
          "--service-id",
          gatewayServiceId,
        ],
      });
      stops.unshift(() => consulGateway.stop());
      await eventually(
        "the Consul-mode gateway to route echo's four proxies",
        () => serves(consulGateway, endpoints.slice(0, 4)),
        { timeoutMs: 30_000 },
      );
      const consulClients = startClients(
        settings.workDir,
        HOST,
        consulGateway.port,
        serviceSni({ service: "echo", datacenter: "dc1", trustDomain }),
      );
      stops.unshift(() => consulClients.stop());
      await underLoad(list, "Consul catalog", settings, consulGateway, consulClients, backends, {
        before: endpoints.slice(0, 4),
        after: endpoints.slice(1, 5),
        apply: async () => {
          await register(dc, "/v1/agent/service/deregister/echo-proxy-1");
          await registerProxy(dc, 5, endpoints[4]);
        },
      });
      stops.push(async () => {
        for (const id of ["echo", ...[2, 3, 4, 5].map((i) => `echo-proxy-${i}`)])
          await register(dc, `/v1/agent/service/deregister/${id}`);
      });
    }
  } finally {
    for (const stop of stops) await stop().catch(() => undefined);
  }
  return list.checks;
}

/** `echo`'s connect proxy number `n` at `endpoint`, with no check (so passing at once). */
function registerProxy(dc: RealDatacenter, n: number, endpoint: Endpoint): Promise<void> {
  return register(dc, "/v1/agent/service/register", {
    Kind: "connect-proxy",
    Name: "echo-sidecar-proxy",
    ID: `echo-proxy-${n}`,
    Address: endpoint.address,
    Port: endpoint.port,
    Proxy: { DestinationServiceName: "echo" },
  });
}

async function register(dc: RealDatacenter, apiPath: string, body?: unknown): Promise<void> {
  const answer = await dc.api("PUT", apiPath, body);
  if (answer.status !== 200)
    throw new SoakError("E_SOAK_SETUP", `PUT ${apiPath}`, `HTTP ${answer.status} ${answer.text}`);
}
