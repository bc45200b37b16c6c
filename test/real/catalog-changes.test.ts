/**
 * Our gateways follow the real catalog through blocking queries: a new `api` instance is routed to
 * within seconds of passing its checks, a stopped one stops receiving connections once its check
 * fails, and a gateway restarted at a new address is used by the other datacenter (the
 * stale-address problem of hashicorp/consul#10132), in `remote` and `local` mode.
 */
import { registerService } from "../../consul/agent";
import { toServiceRegistration } from "../../mesh";
import { eventually, freePorts } from "../support/processes";
import { startEnvoySidecar, startTinyApp, type RunningProxy, type TinyApp } from "../support/real-mesh";
import { WebApiMesh } from "../support/web-api-mesh";

jest.setTimeout(180_000);

const figures: string[] = [];
afterAll(() => {
  if (figures.length) process.stdout.write(`\ncatalog change figures:\n${figures.join("\n")}\n`);
});

/** The endpoints (`host:port`) our gateway routes `api` to, from its `/routes`. */
async function apiEndpoints(adminUrl: string): Promise<string[]> {
  const routes = (await (await fetch(`${adminUrl}/routes`)).json()) as {
    services: Array<{ name: string; endpoints: Array<{ address: string; port: number }> }>;
  };
  return (routes.services.find((s) => s.name === "api")?.endpoints ?? []).map((e) => `${e.address}:${e.port}`).sort();
}

/** The endpoints our gateway routes dc2 to. */
async function dc2GatewayEndpoints(adminUrl: string): Promise<string[]> {
  const routes = (await (await fetch(`${adminUrl}/routes`)).json()) as {
    gateways: Array<{ datacenter: string; endpoints: Array<{ address: string; port: number }> }>;
  };
  return (routes.gateways.find((g) => g.datacenter === "dc2")?.endpoints ?? [])
    .map((e) => `${e.address}:${e.port}`)
    .sort();
}

/** How many of `bodies` each instance answered. */
function tally(bodies: string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const body of bodies) counts[body.trim()] = (counts[body.trim()] ?? 0) + 1;
  return counts;
}

describe("our gateways follow the real catalog", () => {
  const mesh = new WebApiMesh({ gateways: { dc1: "ours", dc2: "ours" } });
  let api2: TinyApp;
  let api2Sidecar: RunningProxy;
  let api2SidecarPort: number;
  beforeAll(async () => {
    await mesh.start();
    await mesh.setMode("upstream", "remote");
    await mesh.awaitEndpoint("remote");
  }, 180_000);
  afterAll(async () => {
    await api2Sidecar?.stop();
    await api2?.close();
    await mesh.stop();
  });

  test("a new api instance is routed to once it passes its checks", async () => {
    api2 = await startTinyApp("api-2", mesh.dc2);
    [api2SidecarPort] = await freePorts(mesh.dc2.host, 1);
    const registration = toServiceRegistration({
      name: "api",
      id: "api-2",
      address: mesh.dc2.host,
      port: api2.port,
      connect: { sidecarService: { port: api2SidecarPort } },
    });
    await registerService(mesh.agent(mesh.dc2), registration);
    api2Sidecar = await startEnvoySidecar(mesh.consul, mesh.dc2, "api-2");
    await eventually(
      "api-2's sidecar to pass its checks",
      async () => ((await mesh.dc2.api("GET", "/v1/health/connect/api?passing")).json as unknown[]).length === 2,
      { timeoutMs: 30_000 },
    );
    const passing = Date.now();
    const want = `${mesh.dc2.host}:${api2SidecarPort}`;
    await eventually(
      "dc2's gateway to route to api-2",
      async () => (await apiEndpoints(mesh.gateways.dc2.adminUrl)).includes(want),
      { timeoutMs: 10_000, intervalMs: 50 },
    );
    const routedMs = Date.now() - passing;
    expect(routedMs).toBeLessThan(5000);
    const results = await mesh.requests(20);
    expect(results.filter((r) => !r.ok)).toEqual([]);
    const counts = tally(results.map((r) => r.body));
    expect(counts["api in dc2"]).toBeGreaterThan(0);
    expect(counts["api-2 in dc2"]).toBeGreaterThan(0);
    figures.push(
      `new instance: in the gateway's table ${routedMs} ms after Consul reported it passing; 20 requests: ${JSON.stringify(counts)}`,
    );
  });

  test("a stopped instance stops receiving connections once its check fails", async () => {
    await api2Sidecar.stop();
    const stopped = Date.now();
    await eventually(
      "api-2 to fail its check",
      async () => ((await mesh.dc2.api("GET", "/v1/health/connect/api?passing")).json as unknown[]).length === 1,
      { timeoutMs: 30_000 },
    );
    const criticalMs = Date.now() - stopped;
    const critical = Date.now();
    const gone = `${mesh.dc2.host}:${api2SidecarPort}`;
    await eventually(
      "dc2's gateway to drop api-2",
      async () => !(await apiEndpoints(mesh.gateways.dc2.adminUrl)).includes(gone),
      { timeoutMs: 10_000, intervalMs: 50 },
    );
    const droppedMs = Date.now() - critical;
    expect(droppedMs).toBeLessThan(5000);
    const results = await mesh.requests(10);
    expect(tally(results.map((r) => r.body))).toEqual({ "api in dc2": 10 });
    figures.push(
      `stopped instance: check critical ${criticalMs} ms after the stop, out of the gateway's table ${droppedMs} ms later; 10/10 requests to the other instance`,
    );
  });

  test.each(["remote", "local"] as const)(
    "dc2's gateway restarted at a new address is used by dc1 (%s mode)",
    async (mode) => {
      await mesh.setMode("upstream", mode);
      await mesh.awaitEndpoint(mode);
      const old = mesh.gateways.dc2;
      await old.stop();
      const restarted = Date.now();
      mesh.gateways.dc2 = await mesh.startGateway(mesh.dc2);
      const wan = `${mesh.gateways.dc2.addresses.wan.host}:${mesh.gateways.dc2.addresses.wan.port}`;
      expect(wan).not.toBe(`${old.addresses.wan.host}:${old.addresses.wan.port}`);
      // remote: web's sidecar dials the new WAN address; local: dc1's gateway forwards to it.
      if (mode === "remote") await mesh.awaitEndpoint("remote");
      else
        await eventually(
          "dc1's gateway to forward to the new address",
          async () => JSON.stringify(await dc2GatewayEndpoints(mesh.gateways.dc1.adminUrl)) === JSON.stringify([wan]),
          { timeoutMs: 30_000, intervalMs: 50 },
        );
      const first = await eventually(
        "a request to succeed again",
        async () => {
          const [result] = await mesh.requests(1);
          return result.ok ? result : undefined;
        },
        { timeoutMs: 30_000, intervalMs: 100 },
      );
      const backMs = Date.now() - restarted;
      expect(first.body).toBe("api in dc2\n");
      const results = await mesh.requests(5);
      expect(results.every((r) => r.ok)).toBe(true);
      figures.push(
        `gateway restart (${mode}): requests through the new address ${backMs} ms after the old gateway stopped`,
      );
    },
  );
});
