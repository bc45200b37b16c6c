/**
 * The faults of a real mesh, with traffic flowing from `web` (dc1) to `api` (dc2) in `local` mode,
 * so that every request crosses both of our gateways (Consul Connect mTLS end to end, with the
 * client's and api's certificates from Consul's CA): the local Consul server crashes for 30 s; a
 * remote gateway is killed and comes back on another port; the upstream dies mid-stream; a gateway
 * gets SIGTERM with streams in flight.
 */
import { eventually } from "../support/processes";
import { connectIdentity, connectRequest, gatewayAddresses, gatewayMetric, httpRequest, startOurGateway, type RunningGateway } from "../support/real-mesh";
import { WebApiMesh } from "../support/web-api-mesh";

jest.setTimeout(240_000);

const figures: string[] = [];
afterAll(() => {
  if (figures.length) process.stdout.write(`\nmesh fault figures:\n${figures.join("\n")}\n`);
});

type Request = () => Promise<{ ok: boolean; body: string }>;

/** Through web's sidecar: the whole mesh path. */
const throughSidecar = (mesh: WebApiMesh): Request => async () => (await mesh.requests(1))[0];

/** Requests every `everyMs` until stopped (at most `max`), recording each outcome. */
function traffic(request: Request, everyMs = 200, max = 1000) {
  const outcomes: Array<{ ok: boolean; body: string; at: number }> = [];
  let running = true;
  const done = (async () => {
    while (running && outcomes.length < max) {
      const started = Date.now();
      const result = await request();
      outcomes.push({ ok: result.ok, body: result.body, at: started });
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, everyMs - (Date.now() - started))));
    }
  })();
  return {
    outcomes,
    async stop() {
      running = false;
      await done;
      return outcomes;
    },
  };
}

describe("faults of a real mesh (our gateways, local mode)", () => {
  const mesh = new WebApiMesh({ gateways: { dc1: "ours", dc2: "ours" } });
  beforeAll(async () => {
    await mesh.start();
    await mesh.setMode("upstream", "local");
    await mesh.awaitEndpoint("local");
  }, 180_000);
  afterAll(() => mesh.stop());

  test("dc1's Consul server crashes for 30 s: the gateway keeps its last good routes, says stale, and recovers", async () => {
    // As web's sidecar would, but without it: Envoy sidecars drop their listeners for a while
    // when their agent restarts, which is Consul's behaviour, not the gateway's.
    const identity = await connectIdentity(mesh.dc1, "web");
    const gateway = mesh.gateways.dc1;
    const lan = gateway.addresses.lan;
    const load = traffic(() =>
      connectRequest(lan.host, lan.port, mesh.upstreamCluster, `spiffe://${mesh.trustDomain}/ns/default/dc/dc2/svc/api`, identity),
    );
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(load.outcomes.length).toBeGreaterThan(0);
    expect(load.outcomes.every((o) => o.ok && o.body === "api in dc2\n")).toBe(true);
    const crash = mesh.consul.crashAndRestart("dc1", 30_000);
    await eventually("dc1's gateway to report its source stale", async () => (await gatewayMetric(gateway, "sni_gateway_route_source_stale")) === 1, { timeoutMs: 20_000 });
    const readyz = await fetch(`${gateway.adminUrl}/readyz`);
    expect(readyz.status).toBe(503);
    expect(await readyz.json()).toMatchObject({ stale: true });
    await crash;
    const restarted = Date.now();
    let lastReadyz = "";
    await eventually("dc1's gateway to be fresh again", async () => {
      lastReadyz = await (await fetch(`${gateway.adminUrl}/readyz`)).text();
      return (await gatewayMetric(gateway, "sni_gateway_route_source_stale")) === 0;
    }, { timeoutMs: 60_000, describe: () => `readyz: ${lastReadyz}\n${gateway.process.tail(3)}` });
    const recoveredMs = Date.now() - restarted;
    expect((await fetch(`${gateway.adminUrl}/readyz`)).status).toBe(200);
    const outcomes = await load.stop();
    const failed = outcomes.filter((o) => !o.ok).map((o) => ({ ...o, sinceRestartMs: o.at - restarted }));
    expect(failed).toEqual([]);
    expect(outcomes.length).toBeGreaterThan(100);
    figures.push(`consul crash: ${outcomes.length} requests over ${Math.round((outcomes.at(-1)!.at - outcomes[0].at) / 1000)} s, 0 failed; fresh again ${recoveredMs} ms after the server restarted`);
  });

  test("a remote gateway killed: dc1's gateway fails over to the other at once, then uses its replacement on a new port", async () => {
    const second = await startOurGateway(mesh.consul, mesh.program, mesh.dc2, await gatewayAddresses(mesh.dc2), { serviceId: "mesh-gateway-ours-dc2-b" });
    try {
      const wanOf = (g: RunningGateway) => `${g.addresses.wan.host}:${g.addresses.wan.port}`;
      const dc2Gateways = async () => {
        const routes = (await (await fetch(`${mesh.gateways.dc1.adminUrl}/routes`)).json()) as { gateways: Array<{ datacenter: string; endpoints: Array<{ address: string; port: number }> }> };
        return (routes.gateways.find((g) => g.datacenter === "dc2")?.endpoints ?? []).map((e) => `${e.address}:${e.port}`).sort();
      };
      await eventually("dc1's gateway to know both dc2 gateways", async () => (await dc2Gateways()).length === 2, { timeoutMs: 30_000 });
      const load = traffic(throughSidecar(mesh), 100);
      await new Promise((resolve) => setTimeout(resolve, 500));
      const killed = mesh.gateways.dc2;
      await killed.process.stop("SIGKILL");
      const killedAt = Date.now();
      await eventually("dc1's gateway to drop the killed gateway once its check fails", async () => !(await dc2Gateways()).includes(wanOf(killed)), { timeoutMs: 30_000 });
      const droppedMs = Date.now() - killedAt;
      mesh.gateways.dc2 = await mesh.startGateway(mesh.dc2);
      await eventually("dc1's gateway to use the replacement", async () => (await dc2Gateways()).includes(wanOf(mesh.gateways.dc2)), { timeoutMs: 30_000 });
      await new Promise((resolve) => setTimeout(resolve, 500));
      const outcomes = await load.stop();
      // A request in flight through the killed gateway dies with it; every one started after the
      // kill goes through the other gateway.
      const failed = outcomes.filter((o) => !o.ok);
      expect(failed.filter((o) => o.at >= killedAt)).toEqual([]);
      expect(failed.length).toBeLessThanOrEqual(1);
      const failovers = await gatewayMetric(mesh.gateways.dc1, "sni_gateway_upstream_connect_failures_total");
      figures.push(`remote gateway killed: ${outcomes.length} requests, ${failed.length} failed (in flight at the kill), ${failovers} connects failed over to the other gateway; the killed one out of the table ${droppedMs} ms after the kill`);
    } finally {
      await second.stop();
    }
  });

  test("SIGTERM with streams in flight: they finish within the drain grace, new connections are refused, exit 0", async () => {
    const streams = [0, 1, 2].map(() => httpRequest(mesh.bindHost, mesh.bindPort, 30_000, "/stream?ms=3000"));
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const gateway = mesh.gateways.dc1;
    const signalled = Date.now();
    await gateway.process.stop("SIGTERM", 20_000);
    const exitedMs = Date.now() - signalled;
    expect(await gateway.process.exited).toBe(0);
    const results = await Promise.all(streams);
    expect(results.map((r) => [r.ok, r.body.endsWith("api done\n")])).toEqual([[true, true], [true, true], [true, true]]);
    // Drained and gone: nothing accepts on its address now.
    const [refused] = await mesh.requests(1);
    expect(refused.ok).toBe(false);
    mesh.gateways.dc1 = await mesh.startGateway(mesh.dc1);
    await mesh.awaitEndpoint("local");
    await eventually("requests through the new dc1 gateway", async () => (await mesh.requests(1))[0].ok, { timeoutMs: 30_000 });
    figures.push(`SIGTERM: 3/3 in-flight streams finished, exit 0 after ${exitedMs} ms`);
  });

  test("the upstream dies mid-stream: the client's stream is closed, not left hanging, and the gateways hold no connection", async () => {
    const stream = httpRequest(mesh.bindHost, mesh.bindPort, 30_000, "/stream?ms=20000");
    await new Promise((resolve) => setTimeout(resolve, 1500));
    await mesh.apiSidecar.process.stop("SIGKILL");
    const killedAt = Date.now();
    const result = await stream;
    const closedMs = Date.now() - killedAt;
    expect(result.ok).toBe(false);
    expect(result.body).toContain("tick");
    expect(closedMs).toBeLessThan(5000);
    for (const gateway of [mesh.gateways.dc1, mesh.gateways.dc2]) {
      await eventually(`${gateway.name} to hold no connection`, async () => (await gatewayMetric(gateway, "sni_gateway_active_connections")) === 0, { timeoutMs: 10_000 });
    }
    figures.push(`upstream killed mid-stream: the client saw the close ${closedMs} ms later`);
  });
});

