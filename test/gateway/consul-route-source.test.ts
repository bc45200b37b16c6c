/**
 * Consul mode against the contract double (Consul's documented HTTP API): routes from the
 * catalog with blocking queries, token header, index rules, faults and timeouts, and the
 * gateway's own registration and deregistration.
 */
import { GATEWAY_TOKEN_RIGHTS } from "../../mesh/render/gateway-acl-rules";
import { Writable } from "node:stream";
import pino from "pino";
import { startGateway, GatewayHandle } from "../../gateway";
import { nextIndex } from "../../gateway/sources/blocking-watch";
import { ConsulClient } from "../../consul/client";
import { connectEndpoint, gatewayWanEndpoint } from "../../gateway/sources/catalog-entries";
import { routesFromCatalog } from "../../gateway/sources/consul-route-source";
import { routeTableToRoutesFile } from "../../gateway/routing/route-table";
import { toGatewayRegistration } from "../../mesh/render/gateway-registration";
import { serviceSni } from "../../mesh/model/sni";
import { ConsulDouble } from "../support/consul-double";
import { createTestPki, TestPki } from "../../demo/pki";
import { httpGet, metricValue, startTlsBackend, TlsBackend, tlsRequest, waitFor } from "./helpers";

const TOKEN = "3f0b6c1e-gateway-token";
const FAST = {
  waitMs: 1500,
  minIntervalMs: 20,
  retryMinMs: 50,
  retryMaxMs: 100,
  datacentersIntervalMs: 200,
  debounceMs: 20,
  pollIntervalMs: 200,
};

async function put(double: ConsulDouble, path: string, body: unknown, token = TOKEN): Promise<void> {
  const res = await fetch(`${double.url}${path}`, {
    method: "PUT",
    headers: { "X-Consul-Token": token },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
}

async function registerRemoteGateway(
  double: ConsulDouble,
  id: string,
  wan: { Address: string; Port: number },
  key = "wan",
): Promise<void> {
  await put(double, "/v1/catalog/register", {
    Datacenter: "dc2",
    Node: `node-${id}`,
    Address: "10.2.0.1",
    Service: {
      ID: id,
      Service: "mesh-gateway",
      Kind: "mesh-gateway",
      Port: 8443,
      Address: "10.2.0.9",
      TaggedAddresses: { lan: { Address: "10.2.0.9", Port: 8443 }, [key]: wan },
    },
  });
}

describe("pure pieces", () => {
  test("nextIndex: keeps the answered index, resets when it goes backwards, never blocks below 1", () => {
    expect(nextIndex(0, 42)).toBe(42);
    expect(nextIndex(42, 42)).toBe(42);
    expect(nextIndex(42, 50)).toBe(50);
    expect(nextIndex(42, 7)).toBe(0);
    expect(nextIndex(0, 0)).toBe(1);
    expect(nextIndex(5, undefined)).toBe(0);
  });

  test("WAN endpoint: TaggedAddresses.wan (any case), else the service address, else the node's", () => {
    const node = { Node: "n", Address: "10.0.0.1" };
    expect(
      gatewayWanEndpoint({
        Node: node,
        Service: { Port: 8443, Address: "10.0.0.2", TaggedAddresses: { WAN: { Address: "198.51.100.7", Port: 443 } } },
      }),
    ).toEqual({ address: "198.51.100.7", port: 443 });
    expect(
      gatewayWanEndpoint({
        Node: node,
        Service: { Port: 8443, Address: "10.0.0.2", TaggedAddresses: { wan: { Address: "gw.example.com" } } },
      }),
    ).toEqual({ address: "gw.example.com", port: 8443 });
    expect(gatewayWanEndpoint({ Node: node, Service: { Port: 8443, Address: "10.0.0.2" } })).toEqual({
      address: "10.0.0.2",
      port: 8443,
    });
    expect(gatewayWanEndpoint({ Node: node, Service: { Port: 8443, Address: "" } })).toEqual({
      address: "10.0.0.1",
      port: 8443,
    });
    expect(gatewayWanEndpoint({ Node: node, Service: { Port: 0 } })).toBeUndefined();
    expect(connectEndpoint({ Node: node, Service: { Port: 21000, Address: "" } })).toEqual({
      address: "10.0.0.1",
      port: 21000,
    });
    // Ports as every layer checks them (mesh/model/port.ts): a WAN entry's port 0 falls back to the service's; 65536 is none.
    expect(
      gatewayWanEndpoint({ Node: node, Service: { Port: 8443, TaggedAddresses: { wan: { Address: "gw", Port: 0 } } } }),
    ).toEqual({ address: "gw", port: 8443 });
    expect(connectEndpoint({ Node: node, Service: { Port: 65536, Address: "10.0.0.2" } })).toBeUndefined();
  });

  test("routesFromCatalog: local connect endpoints and remote gateways; the local datacenter's own gateways are not routes", () => {
    const routes = routesFromCatalog(
      "dc1",
      "td.consul",
      new Map([
        ["web", [{ Service: { Port: 21000, Address: "10.0.0.5", Namespace: "ns1" } }]],
        ["idle", []],
      ]),
      new Map([
        [
          "dc2",
          new Map([
            [
              "mesh-gateway",
              [
                { Service: { Kind: "mesh-gateway", Port: 8443, Address: "10.2.0.1" } },
                { Service: { Kind: "connect-proxy", Port: 1, Address: "x" } },
              ],
            ],
          ]),
        ],
        ["dc1", new Map([["mesh-gateway", [{ Service: { Kind: "mesh-gateway", Port: 8443, Address: "10.1.0.1" } }]]])],
      ]),
    );
    expect(routes).toEqual({
      datacenter: "dc1",
      trustDomain: "td.consul",
      services: [
        { name: "web", namespace: "ns1", partition: "default", endpoints: [{ address: "10.0.0.5", port: 21000 }] },
      ],
      gateways: [{ datacenter: "dc2", partition: "default", endpoints: [{ address: "10.2.0.1", port: 8443 }] }],
    });
  });
});

describe("routesFromCatalog with server routes", () => {
  test("the local servers by node, and the federation states' gateways for a datacenter the catalog has none of", () => {
    const gw = (address: string) => ({ Service: { Kind: "mesh-gateway", Port: 8443, Address: address } });
    const routes = routesFromCatalog(
      "dc1",
      "td.consul",
      new Map(),
      new Map([["dc2", new Map([["mesh-gateway", [gw("10.2.0.1")]]])]]),
      {
        domain: "consul",
        servers: [
          { Node: { Node: "DC1-Server" }, Service: { Service: "consul", Port: 8300, Address: "10.1.0.2" } },
          { Node: { Node: "no-port" }, Service: { Service: "consul", Address: "10.1.0.3" } },
        ],
        federationGateways: { dc1: [gw("10.1.0.1")], dc2: [gw("10.2.0.9")], DC3: [gw("10.3.0.1")] },
      },
    );
    expect(routes.gateways).toEqual([
      { datacenter: "dc2", partition: "default", endpoints: [{ address: "10.2.0.1", port: 8443 }] },
      { datacenter: "dc3", partition: "default", endpoints: [{ address: "10.3.0.1", port: 8443 }] },
    ]);
    expect(routes.wanFederation).toEqual({
      domain: "consul",
      servers: [{ node: "dc1-server", endpoints: [{ address: "10.1.0.2", port: 8300 }] }],
    });
  });
});

describe("Consul mode against the contract double", () => {
  let double: ConsulDouble;
  let pki: TestPki;
  let web: TlsBackend;
  let gw: GatewayHandle;
  let admin: string;

  beforeAll(async () => {
    double = await ConsulDouble.start({ datacenter: "dc1", federatedDatacenters: ["dc2"], tokens: [TOKEN] });
    pki = await createTestPki();
    const webName = serviceSni({ service: "web", datacenter: "dc1", trustDomain: double.trustDomain });
    const cert = await pki.issue([webName]);
    // The TLS backend stands in for web's sidecar: its connect endpoint.
    web = await startTlsBackend("web", cert.key, cert.cert, "127.0.0.41");
    await put(double, "/v1/agent/service/register", {
      Name: "web",
      Port: 8080,
      Connect: { SidecarService: { Address: "127.0.0.41", Port: web.port } },
    });
    await registerRemoteGateway(double, "gw-a", { Address: "127.0.0.51", Port: 9443 }, "WAN");
    await registerRemoteGateway(double, "gw-b", { Address: "127.0.0.52", Port: 9443 });
    double.setServiceHealth("dc2", "gw-b", "maintenance");
    gw = await startGateway({
      datacenter: "dc1",
      trustDomain: "00000000-0000-0000-0000-000000000000.consul", // superseded by Consul's CA roots
      listen: [{ host: "127.0.0.40", port: 0 }],
      admin: { host: "127.0.0.1", port: 0 },
      routes: { via: "catalog", consul: { address: double.url, token: TOKEN, requestTimeoutMs: 2000 }, watch: FAST },
      register: { address: "127.0.0.40", wanAddress: { address: "198.51.100.7", port: 443 } },
      logLevel: "silent",
    });
    admin = `http://127.0.0.1:${gw.adminAddress?.port}`;
  });

  afterAll(async () => {
    await gw?.close(0);
    await double?.close();
    await web?.close();
    await pki?.cleanup();
  });

  test("the first table: local connect endpoints, remote gateways at their WAN address (healthy only), trust domain from the CA roots", async () => {
    expect(routeTableToRoutesFile(gw.table()!)).toEqual({
      datacenter: "dc1",
      trustDomain: double.trustDomain,
      services: [
        {
          name: "web",
          namespace: "default",
          partition: "default",
          endpoints: [{ address: "127.0.0.41", port: web.port }],
        },
      ],
      gateways: [{ datacenter: "dc2", partition: "default", endpoints: [{ address: "127.0.0.51", port: 9443 }] }],
    });
    const ready = await httpGet(`${admin}/readyz`);
    expect(ready.status).toBe(200);
    expect(JSON.parse(ready.body)).toMatchObject({ ready: true, source: "consul" });
  });

  test("a client verifies web's certificate through the gateway, routed from the catalog", async () => {
    const name = serviceSni({ service: "web", datacenter: "dc1", trustDomain: double.trustDomain });
    const r = await tlsRequest("127.0.0.40", gw.listenAddresses[0].port, name, pki.caCert, "via consul");
    expect(r).toEqual({
      ok: true,
      greeting: "hello from web",
      echo: "via consul",
      farewell: "bye from web",
      authorized: true,
    });
  });

  test("every request carries the token in X-Consul-Token; the documented paths and parameters are used", () => {
    expect(double.requests.length).toBeGreaterThan(5);
    for (const r of double.requests.filter((r) => r.path.startsWith("/v1/"))) expect(r.token).toBe(TOKEN);
    const paths = new Set(double.requests.map((r) => r.path));
    for (const p of [
      "/v1/catalog/datacenters",
      "/v1/catalog/services",
      "/v1/health/service/mesh-gateway",
      "/v1/health/connect/web",
      "/v1/agent/connect/ca/roots",
    ]) {
      expect(paths).toContain(p);
    }
    const remote = double.requests.find((r) => r.path === "/v1/catalog/services" && r.query.dc === "dc2");
    expect(remote?.query.filter).toBe('ServiceKind == "mesh-gateway"');
    const local = double.requests.find((r) => r.path === "/v1/catalog/services" && r.query.dc === "dc1");
    expect(local?.query.filter).toBe('ServiceKind == ""');
    // Sidecars and gateways are not watched as destinations.
    expect(paths).not.toContain("/v1/health/connect/web-sidecar-proxy");
    const health = double.requests.find((r) => r.path === "/v1/health/service/mesh-gateway");
    expect(health?.query).toMatchObject({ dc: "dc2", passing: "" });
    const connect = double.requests.filter((r) => r.path === "/v1/health/connect/web");
    expect(connect[0].query).toMatchObject({ passing: "" });
    // Blocking: after the first answer, requests carry index (>= 1) and wait.
    const blocking = connect.filter((r) => r.query.index !== undefined);
    expect(blocking.length).toBeGreaterThan(0);
    for (const r of blocking) {
      expect(Number(r.query.index)).toBeGreaterThanOrEqual(1);
      expect(r.query.wait).toBe("1500ms");
    }
  });

  test("registration: exactly the body of `consul connect envoy -gateway=mesh -register`", () => {
    const reg = double.requests.filter(
      (r) =>
        r.method === "PUT" &&
        r.path === "/v1/agent/service/register" &&
        (r.body as { Kind?: string })?.Kind === "mesh-gateway",
    );
    expect(reg).toHaveLength(1);
    const expected = toGatewayRegistration({
      address: "127.0.0.40",
      port: gw.listenAddresses[0].port,
      wanAddress: { address: "198.51.100.7", port: 443 },
    });
    expect(reg[0].body).toEqual(expected);
    expect(expected).toMatchObject({
      Kind: "mesh-gateway",
      ID: "mesh-gateway",
      Name: "mesh-gateway",
      TaggedAddresses: {
        lan: { Address: "127.0.0.40", Port: gw.listenAddresses[0].port },
        wan: { Address: "198.51.100.7", Port: 443 },
      },
      Check: { TCP: `127.0.0.40:${gw.listenAddresses[0].port}` },
    });
    expect(double.agentServices()["mesh-gateway"]).toMatchObject({
      Kind: "mesh-gateway",
      Port: gw.listenAddresses[0].port,
    });
  });

  test("changes arrive through blocking queries: a gateway recovering, a sidecar failing", async () => {
    double.setServiceHealth("dc2", "gw-b", "passing");
    await waitFor(() => gw.table()?.gateways.get("dc2/default")?.endpoints.length === 2, 3000, "gw-b back");
    double.setServiceHealth("dc1", "web-sidecar-proxy", "critical");
    await waitFor(
      () =>
        gw.table()?.services.get("default/default/web/")?.endpoints.length === 0 ||
        !gw.table()?.services.has("default/default/web/"),
      3000,
      "web gone",
    );
    double.setServiceHealth("dc1", "web-sidecar-proxy", "passing");
    await waitFor(() => gw.table()?.services.get("default/default/web/")?.endpoints.length === 1, 3000, "web back");
  });

  test("a new datacenter's gateways appear once Consul lists it", async () => {
    await registerRemoteGateway(double, "gw-c", { Address: "127.0.0.53", Port: 9443 });
    await waitFor(() => gw.table()?.gateways.get("dc2/default")?.endpoints.length === 3, 3000, "gw-c");
  });

  test("the index going backwards: the watch resets to a plain read (no index), then blocks again", async () => {
    const from = double.requests.length;
    double.setIndex("dc1", 3);
    await waitFor(
      () => double.requests.slice(from).some((r) => r.path === "/v1/health/connect/web" && r.query.index === undefined),
      3000,
      "a reset read",
    );
    await waitFor(
      () => double.requests.slice(from).some((r) => r.path === "/v1/health/connect/web" && r.query.index === "3"),
      3000,
      "blocking on the new index",
    );
    expect(gw.table()?.services.get("default/default/web/")?.endpoints.length).toBe(1);
  });

  test("an index of 0 from Consul: blocks on 1, and the loop stays rate-limited", async () => {
    const from = double.requests.length;
    double.setIndex("dc1", 0);
    await new Promise((r) => setTimeout(r, 500));
    const recent = double.requests.slice(from).filter((r) => r.path === "/v1/health/connect/web");
    for (const r of recent) if (r.query.index !== undefined) expect(Number(r.query.index)).toBeGreaterThanOrEqual(1);
    // minIntervalMs is 20: at most ~25 requests in 500 ms for this watch, not thousands.
    expect(recent.length).toBeLessThan(40);
    double.setIndex("dc1", 100);
  });

  test("5xx answers: the last good table stays, /readyz reports stale, then recovers", async () => {
    double.injectFault({ pathPrefix: "/v1/health/connect/web", status: 500, count: 12 });
    double.setIndex("dc1", double.index("dc1") + 1);
    await waitFor(async () => (await httpGet(`${admin}/readyz`)).status === 503, 3000, "stale");
    const body = JSON.parse((await httpGet(`${admin}/readyz`)).body);
    expect(body).toMatchObject({
      ready: false,
      routesLoaded: true,
      stale: true,
      lastError: expect.stringContaining("HTTP 500"),
    });
    expect(gw.table()?.services.get("default/default/web/")?.endpoints.length).toBe(1);
    const metrics = (await httpGet(`${admin}/metrics`)).body;
    expect(metricValue(metrics, "sni_gateway_route_reload_failures_total", { source: "consul" })).toBeGreaterThan(0);
    expect(metricValue(metrics, "sni_gateway_route_source_stale")).toBe(1);
    await waitFor(async () => (await httpGet(`${admin}/readyz`)).status === 200, 5000, "fresh again");
  });

  test("after a failure the watch reads afresh (no index), so a Consul back with nothing new is seen at once", async () => {
    // Found against real Consul: resuming the blocking query with the old index hung for `wait`
    // on a restarted server whose index had not moved, leaving the gateway unready for minutes.
    double.injectFault({ pathPrefix: "/v1/health/connect/web", status: 503, count: 1 });
    const from = double.requests.length;
    double.setIndex("dc1", double.index("dc1") + 1);
    await waitFor(
      () => double.requests.slice(from).some((r) => r.path === "/v1/health/connect/web" && r.query.index === undefined),
      5000,
      "a fresh read after the failure",
    );
    await waitFor(async () => (await httpGet(`${admin}/readyz`)).status === 200, 5000, "fresh again");
    expect(metricValue((await httpGet(`${admin}/metrics`)).body, "sni_gateway_route_source_stale", {})).toBe(0);
  });

  test("a request that gets no answer in time fails with a timeout", async () => {
    const client = new ConsulClient({ address: double.url, token: TOKEN, requestTimeoutMs: 200 });
    double.injectFault({ pathPrefix: "/v1/agent/self", status: 0, delayMs: 600 });
    await expect(client.get("/v1/agent/self")).rejects.toMatchObject({
      code: "E_CONSUL_TIMEOUT",
      message: `GET ${double.url}/v1/agent/self: no complete answer within 200 ms`,
    });
    client.close();
    await new Promise((r) => setTimeout(r, 500));
  });

  test("the gateway's watch times out on a stalled answer, reports stale, retries and recovers", async () => {
    // requestTimeoutMs is 2000: a 2500 ms stall on the (non-blocking) datacenters poll times out.
    double.injectFault({ pathPrefix: "/v1/catalog/datacenters", status: 0, delayMs: 2500 });
    await waitFor(
      async () =>
        JSON.parse((await httpGet(`${admin}/readyz`)).body).lastError?.includes("no complete answer within 2000 ms") ===
        true,
      4000,
      "timeout reported",
    );
    await waitFor(async () => (await httpGet(`${admin}/readyz`)).status === 200, 3000, "fresh after the timeout");
    await new Promise((r) => setTimeout(r, 600)); // let the double finish the stalled answer
  });

  test("errors name the request and never include the token", async () => {
    const bad = new ConsulClient({ address: double.url, token: "wrong-token", deniedHint: GATEWAY_TOKEN_RIGHTS });
    const error = await bad.get("/v1/catalog/services").catch((e: Error) => e);
    expect(error).toMatchObject({ code: "E_CONSUL_HTTP_STATUS", status: 403 });
    expect((error as Error).message).toContain("/v1/catalog/services: HTTP 403");
    expect((error as Error).message).toContain("node:read");
    expect((error as Error).message).not.toContain("wrong-token");
    bad.close();
  });

  test("close: deregisters the gateway from the agent", async () => {
    await gw.close(0);
    const dereg = double.requests.filter(
      (r) => r.method === "PUT" && r.path === "/v1/agent/service/deregister/mesh-gateway",
    );
    expect(dereg).toHaveLength(1);
    expect(dereg[0].token).toBe(TOKEN);
    expect(double.agentServices()["mesh-gateway"]).toBeUndefined();
  });
});

describe("Consul unreachable", () => {
  test("after Consul goes away the last good table stays and keeps routing; readiness reports it", async () => {
    const double = await ConsulDouble.start({ datacenter: "dc1" });
    await put(double, "/v1/agent/service/register", {
      Name: "api",
      Port: 1,
      Connect: { SidecarService: { Address: "127.0.0.61", Port: 21000 } },
    });
    const gw = await startGateway({
      datacenter: "dc1",
      listen: [{ host: "127.0.0.60", port: 0 }],
      admin: { host: "127.0.0.1", port: 0 },
      routes: { via: "catalog", consul: { address: double.url, requestTimeoutMs: 500 }, watch: FAST },
      logLevel: "silent",
    });
    try {
      const admin = `http://127.0.0.1:${gw.adminAddress?.port}`;
      expect((await httpGet(`${admin}/readyz`)).status).toBe(200);
      await double.close();
      await waitFor(async () => (await httpGet(`${admin}/readyz`)).status === 503, 3000, "stale");
      expect(JSON.parse((await httpGet(`${admin}/readyz`)).body).lastError).toMatch(
        /ECONNREFUSED|socket hang up|ECONNRESET/,
      );
      expect(JSON.parse((await httpGet(`${admin}/routes`)).body).services).toEqual([
        {
          name: "api",
          namespace: "default",
          partition: "default",
          endpoints: [{ address: "127.0.0.61", port: 21000 }],
        },
      ]);
    } finally {
      await gw.close(0);
    }
  });

  test("no Consul at start: the gateway starts unready and retries registration", async () => {
    const double = await ConsulDouble.start();
    const url = double.url;
    await double.close();
    const gw = await startGateway({
      datacenter: "dc1",
      listen: [{ host: "127.0.0.62", port: 0 }],
      admin: { host: "127.0.0.1", port: 0 },
      routes: {
        via: "catalog",
        consul: { address: url, requestTimeoutMs: 300 },
        watch: { ...FAST, initialLoadTimeoutMs: 300 },
      },
      register: { address: "127.0.0.62" },
      logLevel: "silent",
    });
    try {
      const ready = await httpGet(`http://127.0.0.1:${gw.adminAddress?.port}/readyz`);
      expect(ready.status).toBe(503);
      expect(JSON.parse(ready.body)).toMatchObject({ ready: false, routesLoaded: false });
      expect(gw.registration?.isRegistered).toBe(false);
    } finally {
      await gw.close(0);
    }
  });
});

describe("another datacenter failing", () => {
  test("a remote datacenter's catalog failing keeps its last good gateways and does not make this gateway unready", async () => {
    const double = await ConsulDouble.start({ datacenter: "dc1", federatedDatacenters: ["dc2"], tokens: [TOKEN] });
    await registerRemoteGateway(double, "gw-a", { Address: "127.0.0.51", Port: 9443 });
    const gw = await startGateway({
      datacenter: "dc1",
      listen: [{ host: "127.0.0.63", port: 0 }],
      admin: { host: "127.0.0.1", port: 0 },
      routes: { via: "catalog", consul: { address: double.url, token: TOKEN, requestTimeoutMs: 500 }, watch: FAST },
      logLevel: "silent",
    });
    try {
      const admin = `http://127.0.0.1:${gw.adminAddress?.port}`;
      expect((await httpGet(`${admin}/readyz`)).status).toBe(200);
      // dc2 stops answering (as Consul does when a WAN peer is down: "No path to datacenter").
      double.injectFault({ pathPrefix: "/v1/health/service/", status: 500, count: 1000 });
      double.setIndex("dc2", double.index("dc2") + 1);
      await waitFor(
        async () =>
          metricValue((await httpGet(`${admin}/metrics`)).body, "sni_gateway_route_reload_failures_total", {
            source: "consul",
          }) >= 2,
        3000,
        "dc2 failures counted",
      );
      const ready = await httpGet(`${admin}/readyz`);
      expect(ready.status).toBe(200);
      expect(gw.table()?.gateways.get("dc2/default")?.endpoints).toEqual([{ address: "127.0.0.51", port: 9443 }]);
    } finally {
      await gw.close(0);
      await double.close();
    }
  });
});

describe("the token never leaks", () => {
  test("not in logs (debug level, with failing requests and registration), /metrics, /routes or /readyz", async () => {
    const double = await ConsulDouble.start({ datacenter: "dc1", federatedDatacenters: ["dc2"], tokens: [TOKEN] });
    await registerRemoteGateway(double, "gw-a", { Address: "127.0.0.51", Port: 9443 });
    let logs = "";
    const logger = pino(
      { level: "trace" },
      new Writable({
        write(chunk: Buffer, _enc, cb) {
          logs += chunk.toString("utf8");
          cb();
        },
      }),
    );
    double.injectFault({ pathPrefix: "/v1/agent/service/register", status: 403, count: 1 });
    const gw = await startGateway({
      datacenter: "dc1",
      listen: [{ host: "127.0.0.64", port: 0 }],
      admin: { host: "127.0.0.1", port: 0 },
      routes: { via: "catalog", consul: { address: double.url, token: TOKEN, requestTimeoutMs: 500 }, watch: FAST },
      register: { address: "127.0.0.64" },
      logger,
    });
    try {
      const admin = `http://127.0.0.1:${gw.adminAddress?.port}`;
      double.injectFault({ pathPrefix: "/v1/health/service/", status: 500, count: 3 });
      double.injectFault({ pathPrefix: "/v1/catalog/services", status: 403, count: 3 });
      double.setIndex("dc1", double.index("dc1") + 1);
      double.setIndex("dc2", double.index("dc2") + 1);
      await waitFor(() => /HTTP 403/.test(logs) && /HTTP 500/.test(logs), 3000, "failures logged");
      await waitFor(() => gw.registration?.isRegistered === true, 5000, "registered after a retry");
      const served = await Promise.all(
        ["/metrics", "/routes", "/readyz"].map(async (p) => (await httpGet(`${admin}${p}`)).body),
      );
      for (const text of [logs, ...served]) expect(text).not.toContain(TOKEN);
    } finally {
      await gw.close(0);
      await double.close();
    }
    expect(logs).toContain('"event":"deregistered"');
    expect(logs).not.toContain(TOKEN);
  });
});
