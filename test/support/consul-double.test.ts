import { ConsulDouble } from "./consul-double";

/** The double's own contract: what the gateway and the components rely on it to do like Consul. */
describe("ConsulDouble", () => {
  let consul: ConsulDouble;
  afterEach(() => consul?.close());

  async function call(method: string, path: string, body?: unknown, token?: string) {
    const res = await fetch(`${consul.url}${path}`, {
      method,
      headers: token ? { "X-Consul-Token": token } : {},
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: res.status, index: res.headers.get("x-consul-index"), text, json };
  }

  it("registers a service with its sidecar and deregisters both", async () => {
    consul = await ConsulDouble.start();
    const reg = await call("PUT", "/v1/agent/service/register", {
      Name: "web",
      Port: 8080,
      Connect: { SidecarService: { Port: 21000, Proxy: { Upstreams: [{ DestinationName: "api", LocalBindPort: 10000 }] } } },
    });
    expect(reg.status).toBe(200);
    const services = (await call("GET", "/v1/agent/services")).json as Record<string, Record<string, unknown>>;
    expect(Object.keys(services).sort()).toEqual(["web", "web-sidecar-proxy"]);
    expect(services["web-sidecar-proxy"]).toMatchObject({ Kind: "connect-proxy", Port: 21000, Proxy: { DestinationServiceName: "web" } });

    const connect = (await call("GET", "/v1/health/connect/web?passing")).json as Array<{ Service: { ID: string } }>;
    expect(connect.map((e) => e.Service.ID)).toEqual(["web-sidecar-proxy"]);

    expect((await call("PUT", "/v1/agent/service/deregister/web")).status).toBe(200);
    expect((await call("GET", "/v1/agent/services")).json).toEqual({});
    const again = await call("PUT", "/v1/agent/service/deregister/web");
    expect(again.status).toBe(404);
    expect(again.text).toContain('Unknown service ID "web"');
  });

  it("rejects requests without an accepted token when ACLs are on", async () => {
    consul = await ConsulDouble.start({ tokens: ["secret-token"] });
    expect((await call("GET", "/v1/agent/services")).status).toBe(403);
    expect((await call("GET", "/v1/agent/services", undefined, "wrong")).status).toBe(403);
    expect((await call("GET", "/v1/agent/services", undefined, "secret-token")).status).toBe(200);
    expect(consul.requests.map((r) => r.token)).toEqual([undefined, "wrong", "secret-token"]);
  });

  it("blocks a query until the index moves, and answers with the new index", async () => {
    consul = await ConsulDouble.start({ federatedDatacenters: ["dc2"] });
    const first = await call("GET", "/v1/catalog/services?dc=dc2");
    const index = Number(first.index);
    expect(index).toBeGreaterThanOrEqual(1);

    const started = Date.now();
    const blocked = call("GET", `/v1/health/service/mesh-gateway?dc=dc2&passing&index=${index}&wait=20s`);
    await new Promise((r) => setTimeout(r, 100));
    await call("PUT", "/v1/catalog/register", {
      Datacenter: "dc2",
      Node: "gw-node",
      Address: "10.0.2.5",
      Service: { Service: "mesh-gateway", Kind: "mesh-gateway", Port: 8443, TaggedAddresses: { wan: { Address: "198.51.100.2", Port: 8443 } } },
    });
    const answer = await blocked;
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(Number(answer.index)).toBeGreaterThan(index);
    expect(answer.json).toMatchObject([{ Node: { Node: "gw-node" }, Service: { Kind: "mesh-gateway", TaggedAddresses: { wan: { Address: "198.51.100.2" } } } }]);
  });

  it("returns after wait without a change, and reports a lower index after a reset", async () => {
    consul = await ConsulDouble.start();
    const index = Number((await call("GET", "/v1/catalog/services")).index);
    const timedOut = await call("GET", `/v1/catalog/services?index=${index}&wait=200ms`);
    expect(Number(timedOut.index)).toBe(index);
    consul.setIndex("dc1", 1);
    expect(Number((await call("GET", "/v1/catalog/services")).index)).toBe(1);
  });

  it("filters services by ServiceKind and hides unhealthy instances from ?passing", async () => {
    consul = await ConsulDouble.start({ federatedDatacenters: ["dc2"] });
    for (const [id, kind] of [["gw", "mesh-gateway"], ["api", ""]]) {
      await call("PUT", "/v1/catalog/register", { Datacenter: "dc2", Node: "n", Address: "10.0.0.1", Service: { ID: id, Service: id, Kind: kind, Port: 1 } });
    }
    const filter = encodeURIComponent('ServiceKind == "mesh-gateway"');
    expect((await call("GET", `/v1/catalog/services?dc=dc2&filter=${filter}`)).json).toEqual({ gw: [] });
    expect((await call("GET", `/v1/catalog/services?dc=dc2&filter=${encodeURIComponent("Kind matches x")}`)).status).toBe(400);
    consul.setServiceHealth("dc2", "gw", "maintenance");
    expect((await call("GET", "/v1/health/service/gw?dc=dc2&passing")).json).toEqual([]);
    expect(((await call("GET", "/v1/health/service/gw?dc=dc2")).json as unknown[]).length).toBe(1);
    expect((await call("GET", "/v1/catalog/services?dc=dc9")).status).toBe(500);
  });

  it("stores config entries like Consul, refusing proxy-defaults not named global", async () => {
    consul = await ConsulDouble.start();
    expect((await call("PUT", "/v1/config", { Kind: "proxy-defaults", Name: "global", MeshGateway: { Mode: "local" } })).json).toBe(true);
    expect((await call("PUT", "/v1/config", { Kind: "proxy-defaults", Name: "other" })).status).toBe(500);
    expect((await call("PUT", "/v1/config", { Kind: "service-defaults", Name: "web", MeshGateway: { Mode: "sideways" } })).status).toBe(500);
    const entry = (await call("GET", "/v1/config/proxy-defaults/global")).json;
    expect(entry).toMatchObject({ Kind: "proxy-defaults", Name: "global", MeshGateway: { Mode: "local" } });
    expect((await call("GET", "/v1/config/service-defaults/web")).status).toBe(404);
  });

  it("injects faults and delays for the next matching requests only", async () => {
    consul = await ConsulDouble.start();
    consul.injectFault({ pathPrefix: "/v1/catalog/datacenters", status: 503, count: 1 });
    expect((await call("GET", "/v1/catalog/datacenters")).status).toBe(503);
    expect((await call("GET", "/v1/catalog/datacenters")).json).toEqual(["dc1"]);
  });
});
