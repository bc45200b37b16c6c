/**
 * A catalog beyond Consul's default `http_max_conns_per_client` (200) against a real agent:
 * with routes from the agent's xDS server (the default) our gateway is ready with every service
 * while holding one gRPC stream and a handful of HTTP connections, and follows changes; with
 * `--consul-routes catalog` (a blocking query per service) the agent answers 429 and the
 * gateway never becomes ready, which is why xDS is the default.
 */
import { execFileSync } from "node:child_process";
import { startGateway } from "../../gateway";
import { loadBigCatalog, type BigCatalog } from "../support/big-catalog";
import { compileGatewayProgram, type GatewayProgram } from "../support/gateway-program";
import { setTimeout as sleep } from "node:timers/promises";
import { eventually } from "../support/processes";
import { RealConsul, type RealDatacenter } from "../support/real-consul";
import { gatewayAddresses, startOurGateway, type RunningGateway } from "../support/real-mesh";

jest.setTimeout(180_000);

/** Past the agent's default 200 connections per client address, with room to spare. */
const SERVICES = 600;

const figures: string[] = [];
afterAll(() => {
  if (figures.length) process.stdout.write(`\nbig catalog figures:\n${figures.join("\n")}\n`);
});

interface Routes {
  services: Array<{ name: string; endpoints: Array<{ address: string; port: number }> }>;
}

async function routes(gateway: RunningGateway): Promise<Routes> {
  return (await (await fetch(`${gateway.adminUrl}/routes`, { signal: AbortSignal.timeout(10_000) })).json()) as Routes;
}

function endpointsOf(table: Routes, name: string): string[] | undefined {
  return table.services
    .find((s) => s.name === name)
    ?.endpoints.map((e) => `${e.address}:${e.port}`)
    .sort();
}

/** Established TCP connections of a process to `host:port`, from `ss`. */
function connections(pid: number, host: string, port: number): number {
  const out = execFileSync("ss", ["-Htnp", "state", "established", "dst", `${host}:${port}`], { encoding: "utf8" });
  return out.split("\n").filter((line) => line.includes(`pid=${pid},`)).length;
}

describe(`a real agent with ${SERVICES} services`, () => {
  let consul: RealConsul;
  let dc: RealDatacenter;
  let program: GatewayProgram;
  let catalog: BigCatalog;
  let gateway: RunningGateway | undefined;

  beforeAll(async () => {
    [consul, program] = await Promise.all([RealConsul.start({ datacenters: ["dc1"] }), compileGatewayProgram()]);
    dc = consul.dc("dc1");
    const started = Date.now();
    catalog = await loadBigCatalog(dc, SERVICES);
    figures.push(
      `catalog: ${SERVICES} services, ${catalog.instances} instances with sidecars, loaded in ${Date.now() - started} ms`,
    );
  }, 120_000);

  afterAll(async () => {
    await gateway?.stop();
    await consul?.stop();
    await program?.remove();
  });

  test("xDS (the default): ready with every service's sidecars over one stream and a few HTTP connections, then the stream alone", async () => {
    const started = Date.now();
    gateway = await startOurGateway(consul, program, dc, await gatewayAddresses(dc));
    const table = await routes(gateway);
    figures.push(`xds: ready with ${table.services.length} services ${Date.now() - started} ms after the start`);
    expect(table.services).toHaveLength(SERVICES);
    for (const name of catalog.services)
      expect([name, endpointsOf(table, name)]).toEqual([name, catalog.endpoints(name)]);
    const pid = gateway.process.pid as number;
    const held = { http: connections(pid, dc.host, dc.ports.http), grpc: connections(pid, dc.host, dc.ports.grpc) };
    figures.push(`xds: connections to the agent: ${held.http} HTTP, ${held.grpc} gRPC`);
    expect(held.grpc).toBe(1);
    expect(held.http).toBeLessThanOrEqual(4);
    // At rest, as Envoy: the stream only (the roots are read once, idle HTTP connections close after 5 s).
    const restStarted = Date.now();
    while (connections(pid, dc.host, dc.ports.http) > 0 && Date.now() - restStarted < 12_000)
      await new Promise((resolve) => setTimeout(resolve, 250));
    const rest = { http: connections(pid, dc.host, dc.ports.http), grpc: connections(pid, dc.host, dc.ports.grpc) };
    figures.push(`xds: at rest ${Date.now() - restStarted} ms later: ${rest.http} HTTP, ${rest.grpc} gRPC`);
    expect(rest).toEqual({ http: 0, grpc: 1 });
    expect(gateway.process.log()).not.toMatch(/"event":"(routes-error|acl-filtered)"/);
  });

  test("xDS: a new service and a deregistered one reach the table", async () => {
    if (!gateway) throw new Error("needs the gateway of the test before");
    const running = gateway;
    let started = Date.now();
    const added = await loadBigCatalog(dc, 1, SERVICES);
    const name = added.services[0];
    await eventually(
      "the new service in the table",
      async () => endpointsOf(await routes(running), name) !== undefined,
      {
        timeoutMs: 15_000,
        intervalMs: 20,
      },
    );
    expect(endpointsOf(await routes(running), name)).toEqual(added.endpoints(name));
    figures.push(`xds: a new service routed ${Date.now() - started} ms after its registration`);

    started = Date.now();
    const gone = catalog.services[0];
    const node = (await dc.api("GET", `/v1/catalog/service/${gone}`)).json as Array<{
      Node: string;
      ServiceID: string;
    }>;
    for (const instance of node) {
      await dc.api("PUT", "/v1/catalog/deregister", { Node: instance.Node, ServiceID: instance.ServiceID });
      await dc.api("PUT", "/v1/catalog/deregister", {
        Node: instance.Node,
        ServiceID: `${instance.ServiceID}-sidecar-proxy`,
      });
    }
    await eventually(
      "the deregistered service out of the table",
      async () => endpointsOf(await routes(running), gone) === undefined,
      {
        timeoutMs: 15_000,
        intervalMs: 20,
      },
    );
    figures.push(`xds: a deregistered service out of the table ${Date.now() - started} ms after`);
  });

  test("xDS: a service-resolver subset is routed to its instances only", async () => {
    if (!gateway) throw new Error("needs the gateway of the test before");
    const running = gateway;
    const name = catalog.services[1];
    const all = catalog.endpoints(name);
    expect(all).toHaveLength(2);
    const resolver = {
      Kind: "service-resolver",
      Name: name,
      Subsets: { first: { Filter: "Service.Port == 21000" } },
    };
    expect((await dc.api("PUT", "/v1/config", resolver)).status).toBe(200);
    const subset = async () =>
      (await routes(running)).services
        .find((s) => s.name === name && (s as { subset?: string }).subset === "first")
        ?.endpoints.map((e) => `${e.address}:${e.port}`);
    await eventually("the subset in the table", async () => (await subset()) !== undefined, { timeoutMs: 15_000 });
    expect(await subset()).toEqual(all.filter((e) => e.endsWith(":21000")));
  });

  test("catalog: a blocking query per service gets HTTP 429 from the agent and the gateway is never ready", async () => {
    const catalogGateway = await startOurGateway(consul, program, dc, await gatewayAddresses(dc), {
      routes: "catalog",
      waitReady: false,
      serviceId: "mesh-gateway-catalog",
    });
    try {
      await eventually("the agent to refuse the gateway's queries", () => /429/.test(catalogGateway.process.log()), {
        timeoutMs: 30_000,
        describe: () => catalogGateway.process.tail(10),
      });
      // Past the source's initial load time (10 s), still not ready.
      await sleep(11_000);
      const ready = await fetch(`${catalogGateway.adminUrl}/readyz`, { signal: AbortSignal.timeout(5000) });
      expect(ready.status).toBe(503);
      figures.push(`catalog: 429 from the agent, /readyz ${ready.status} 11 s later`);
    } finally {
      await catalogGateway.stop();
    }
  });

  test("xDS for a service ID the agent does not have: not ready, and /readyz says why", async () => {
    const gateway = await startGateway({
      datacenter: dc.name,
      listen: [{ host: dc.host, port: 0 }],
      admin: { host: dc.host, port: 0 },
      routes: {
        consul: { address: dc.httpAddress },
        grpc: { address: dc.grpcAddress },
        proxyId: "no-such-gateway",
        watch: { initialLoadTimeoutMs: 2000 },
      },
      logLevel: "silent",
    });
    try {
      const readyz = await fetch(`http://${dc.host}:${gateway.adminAddress?.port}/readyz`);
      expect(readyz.status).toBe(503);
      expect(((await readyz.json()) as { lastError?: string }).lastError).toMatch(
        /no service with ID "no-such-gateway" is registered with the agent/,
      );
    } finally {
      await gateway.close(0);
    }
  });
});
