/**
 * WAN federation through the mesh gateways on real Consul 1.16.3 with Envoy sidecars: the servers'
 * own RPC and gossip go only through the gateways (each server advertises a WAN address nothing
 * answers on, and secondaries know only the primary's gateway, `primary_gateways`), with Envoy
 * as the reference gateway, ours, and a mix. Each case checks that the datacenters federate, that
 * the gateways carried server traffic, service traffic in every mode, a datacenter added after the
 * others, and the primary's gateway restarted while the secondaries keep their federation.
 */
import tls from "node:tls";
import type { EffectiveMode } from "../../mesh";
import { eventually } from "../support/processes";
import type { RealDatacenter } from "../support/real-consul";
import { gatewayMetric, trafficSeen, type GatewayKind, type RunningGateway } from "../support/real-mesh";
import { median, WebApiMesh } from "../support/web-api-mesh";

jest.setTimeout(300_000);

const REQUESTS = 10;

const figures: string[] = [];
afterAll(() => {
  if (figures.length) process.stdout.write(`\nWAN federation through the gateways:\n${figures.join("\n")}\n`);
});

/** The datacenters `dc` lists in `/v1/catalog/datacenters`, sorted. */
async function datacentersSeen(dc: RealDatacenter): Promise<string[]> {
  const answer = await dc.api("GET", "/v1/catalog/datacenters");
  return answer.status === 200 ? [...(answer.json as string[])].sort() : [];
}

/** The alive WAN members `dc` sees (`consul members -wan`), as `<node>.<dc>`, sorted. */
async function wanMembers(dc: RealDatacenter): Promise<string[]> {
  const answer = await dc.api("GET", "/v1/agent/members?wan=1");
  const members = (answer.json ?? []) as Array<{ Name: string; Status: number }>;
  return members
    .filter((m) => m.Status === 1)
    .map((m) => m.Name)
    .sort();
}

/** Opens a TLS connection to `gateway` with `sni` and resolves how it ended: never with a handshake for a refused name. */
function tryServerName(gateway: RunningGateway, sni: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = tls.connect({ host: gateway.addresses.wan.host, port: gateway.addresses.wan.port, servername: sni });
    const timer = setTimeout(() => done("no answer in 5 s"), 5000);
    const done = (how: string) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(how);
    };
    socket.on("secureConnect", () => done("handshake"));
    socket.on("error", (error) => done(`closed (${(error as NodeJS.ErrnoException).code ?? error.message})`));
    socket.on("close", () => done("closed"));
  });
}

describe.each([
  ["envoy", "envoy", "xds"],
  ["ours", "ours", "xds"],
  ["ours", "envoy", "xds"],
  ["ours", "ours", "catalog"],
] as Array<[GatewayKind, GatewayKind, "xds" | "catalog"]>)(
  "WAN federation through the gateways: %s in dc1, %s in dc2 (ours from %s)",
  (k1, k2, ourRoutes) => {
    const mesh = new WebApiMesh({ gateways: { dc1: k1, dc2: k2 }, secure: true, throughGateways: true, ourRoutes });
    const label = `${k1}/${k2}${ourRoutes === "catalog" ? " (catalog)" : ""}`;
    let startedAt = 0;

    beforeAll(async () => {
      startedAt = Date.now();
      await mesh.start();
    }, 240_000);
    afterAll(() => mesh.stop());

    test("the datacenters federate through the gateways alone, which carry the servers' traffic", async () => {
      figures.push(`${label}: two datacenters federated and the mesh up in ${Date.now() - startedAt} ms`);
      for (const dc of [mesh.dc1, mesh.dc2]) {
        expect(await datacentersSeen(dc)).toEqual(["dc1", "dc2"]);
        expect(await wanMembers(dc)).toEqual(["dc1-server.dc1", "dc2-server.dc2"]);
      }
      // RPC forwarded to the other datacenter: through the gateways, the only path.
      const remote = await mesh.dc1.api("GET", "/v1/catalog/services?dc=dc2");
      expect(remote.status).toBe(200);
      expect(Object.keys(remote.json as object)).toContain("api");
      for (const gateway of Object.values(mesh.gateways))
        expect(await trafficSeen(gateway, "server")).toBeGreaterThan(0);
    });

    test("server names of an unknown node or datacenter are refused and counted, never forwarded", async () => {
      const ours = Object.values(mesh.gateways).filter((g) => g.kind === "ours");
      for (const gateway of ours) {
        for (const [sni, reason] of [
          [`nobody.server.${gateway.datacenter}.consul`, "unknown-server"],
          ["server.dc9.consul", "unknown-datacenter"],
        ]) {
          const before = await gatewayMetric(gateway, "sni_gateway_route_rejections_total", { reason });
          expect(await tryServerName(gateway, sni)).toMatch(/^closed/);
          expect(await gatewayMetric(gateway, "sni_gateway_route_rejections_total", { reason })).toBe(before + 1);
        }
        const routes = (await (await fetch(`${gateway.adminUrl}/routes`)).json()) as {
          wanFederation?: { servers: Array<{ node: string }> };
        };
        expect(routes.wanFederation?.servers.map((s) => s.node)).toEqual([`${gateway.datacenter}-server`]);
      }
    });

    test.each(["none", "remote", "local"] as EffectiveMode[])("service traffic, mode %s", async (mode) => {
      await mesh.setMode(mode === "none" ? undefined : "upstream", mode === "none" ? undefined : mode);
      await mesh.awaitEndpoint(mode);
      const { dc1, dc2 } = mesh.gateways;
      const before = { dc1: await trafficSeen(dc1, "service"), dc2: await trafficSeen(dc2, "service") };
      const served = mesh.api.served;
      const results = await eventually(
        `${REQUESTS} answers from api (${mode})`,
        async () => {
          const batch = await mesh.requests(1);
          return batch[0].ok ? [...batch, ...(await mesh.requests(REQUESTS - 1))] : undefined;
        },
        { timeoutMs: 30_000 },
      );
      expect(results.map((r) => r.body)).toEqual(Array(REQUESTS).fill("api in dc2\n"));
      expect(mesh.api.served - served).toBe(REQUESTS);
      const after = { dc1: await trafficSeen(dc1, "service"), dc2: await trafficSeen(dc2, "service") };
      expect(after.dc2 - before.dc2).toBe(mode === "none" ? 0 : REQUESTS);
      expect(after.dc1 - before.dc1).toBe(mode === "local" ? REQUESTS : 0);
      figures.push(
        `${label} ${mode}: ${REQUESTS}/${REQUESTS} requests, p50 ${median(results.map((r) => r.ms)).toFixed(2)} ms`,
      );
    });

    test("a third datacenter added later federates through its gateway; all three see each other", async () => {
      const started = Date.now();
      const dc3 = await mesh.consul.addDatacenter("dc3");
      figures.push(`${label}: dc3 added and seen by every datacenter in ${Date.now() - started} ms`);
      for (const dc of [mesh.dc1, mesh.dc2, dc3]) {
        expect(await datacentersSeen(dc)).toEqual(["dc1", "dc2", "dc3"]);
        expect(await wanMembers(dc)).toEqual(["dc1-server.dc1", "dc2-server.dc2", "dc3-server.dc3"]);
      }
      // dc2's gateways reach dc3 through the federation states the primary replicates: soon, not at once.
      const rpcStarted = Date.now();
      await eventually(
        "dc3 to read dc2's catalog through the gateways",
        async () => {
          const answer = await dc3.api("GET", "/v1/catalog/services?dc=dc2");
          return answer.status === 200 && Object.keys(answer.json as object).includes("api");
        },
        { timeoutMs: 60_000 },
      );
      figures.push(`${label}: dc3 read dc2's catalog ${Date.now() - rpcStarted} ms after that`);
    });

    test("the primary's gateway restarted: the secondaries keep their federation, traffic flows again", async () => {
      const old = mesh.gateways.dc1;
      await old.stop();
      const down = Date.now();
      mesh.gateways.dc1 = await mesh.startGateway(mesh.dc1, old.addresses);
      const back = Date.now();
      for (const dc of [mesh.dc2, mesh.consul.dc("dc3")])
        expect(await datacentersSeen(dc)).toEqual(["dc1", "dc2", "dc3"]);
      await eventually(
        "dc2 to reach dc1's catalog through the new gateway",
        async () => (await mesh.dc2.api("GET", "/v1/catalog/services?dc=dc1")).status === 200,
        { timeoutMs: 60_000 },
      );
      const served = await eventually(
        "a request through the gateways again",
        async () => {
          const [result] = await mesh.requests(1);
          return result.ok ? result : undefined;
        },
        { timeoutMs: 60_000 },
      );
      expect(served.body).toBe("api in dc2\n");
      figures.push(
        `${label}: primary's gateway down ${back - down} ms; dc1's catalog from dc2 and traffic again ${Date.now() - back} ms after`,
      );
    });
    test("a gateway killed with its twin taking over: the federation and traffic carry on", async () => {
      const first = mesh.gateways.dc2;
      const twin = await mesh.startGateway(mesh.dc2, undefined, `${first.serviceId}-twin`);
      await eventually(
        "both of dc2's gateways passing",
        async () =>
          ((await mesh.dc2.api("GET", "/v1/health/service/mesh-gateway?passing")).json as unknown[]).length === 2,
        { timeoutMs: 30_000 },
      );
      await first.process.stop("SIGKILL");
      const killed = Date.now();
      mesh.gateways.dc2 = twin;
      await eventually(
        "dc1 to read dc2's catalog through the twin",
        async () => (await mesh.dc1.api("GET", "/v1/catalog/services?dc=dc2")).status === 200,
        { timeoutMs: 60_000 },
      );
      const rpcMs = Date.now() - killed;
      const served = await eventually(
        "a request through the twin",
        async () => {
          const [result] = await mesh.requests(1);
          return result.ok ? result : undefined;
        },
        { timeoutMs: 60_000 },
      );
      expect(served.body).toBe("api in dc2\n");
      expect(await trafficSeen(twin, "service")).toBeGreaterThan(0);
      for (const dc of [mesh.dc1, mesh.consul.dc("dc3")])
        expect(await datacentersSeen(dc)).toEqual(["dc1", "dc2", "dc3"]);
      figures.push(
        `${label}: dc2's gateway killed: dc1 read dc2's catalog through its twin ${rpcMs} ms after, a request answered ${Date.now() - killed} ms after`,
      );
    });
  },
);
