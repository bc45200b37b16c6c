import { describeConsulContract } from "./consul-contract";
import { ConsulDouble } from "./consul-double";

/** The contract the double shares with real Consul (test/real/consul-contract.test.ts runs it there). */
describe("ConsulDouble: the Consul contract", () => {
  describeConsulContract(async ({ acl }) => {
    const double = await ConsulDouble.start({
      federatedDatacenters: ["dc2"],
      tokens: acl ? ["management-token"] : undefined,
    });
    return { url: double.url, token: acl ? "management-token" : undefined, close: () => double.close() };
  });
});

/** What only the double does: the controls tests use to make Consul misbehave on cue. */
describe("ConsulDouble: test controls", () => {
  let consul: ConsulDouble;
  afterEach(() => consul?.close());

  async function call(method: string, path: string, token?: string) {
    const res = await fetch(`${consul.url}${path}`, { method, headers: token ? { "X-Consul-Token": token } : {} });
    const text = await res.text();
    return { status: res.status, index: Number(res.headers.get("x-consul-index")), text };
  }

  it("records every request with its token", async () => {
    consul = await ConsulDouble.start({ tokens: ["secret-token"] });
    await call("GET", "/v1/agent/self");
    await call("GET", "/v1/agent/self", "wrong");
    await call("GET", "/v1/agent/self", "secret-token");
    expect(consul.requests.map((r) => r.token)).toEqual([undefined, "wrong", "secret-token"]);
  });

  it("reports a lower index after setIndex, as after a snapshot restore", async () => {
    consul = await ConsulDouble.start();
    expect((await call("GET", "/v1/catalog/services")).index).toBeGreaterThan(1);
    consul.setIndex("dc1", 1);
    expect((await call("GET", "/v1/catalog/services")).index).toBe(1);
  });

  it("puts a service in maintenance, hiding it from ?passing", async () => {
    consul = await ConsulDouble.start();
    expect(JSON.parse((await call("GET", "/v1/health/service/consul?passing")).text)).toHaveLength(1);
    consul.setServiceHealth("dc1", "consul", "maintenance");
    expect(JSON.parse((await call("GET", "/v1/health/service/consul?passing")).text)).toEqual([]);
  });

  it("injects faults and delays for the next matching requests only", async () => {
    consul = await ConsulDouble.start();
    consul.injectFault({ pathPrefix: "/v1/catalog/datacenters", status: 503, count: 1 });
    expect((await call("GET", "/v1/catalog/datacenters")).status).toBe(503);
    expect(JSON.parse((await call("GET", "/v1/catalog/datacenters")).text)).toEqual(["dc1"]);
  });
});
