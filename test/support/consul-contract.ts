/**
 * The contract our Consul double promises: what the gateway and the components rely on Consul's
 * HTTP API to do. The same tests run against the double (`consul-double.test.ts`) and against
 * the real agent (`test/real/consul-contract.test.ts`), so the double cannot drift from Consul.
 */
import net from "node:net";
import { eventually } from "./processes";
import { callApi } from "./real-consul";

/** A Consul to run the contract against: dc1's agent, with dc2 in its WAN federation. */
export interface ContractTarget {
  /** Base URL of dc1's HTTP API. */
  url: string;
  /** The management token, when ACLs are on. */
  token?: string;
  /** Stops it. */
  close(): Promise<void>;
}

/** Starts a target, with ACLs on (`default_policy = deny`) or off. */
export type ContractTargetFactory = (options: { acl: boolean }) => Promise<ContractTarget>;

/** One call as the contract's tests make it: with the target's token unless `token` is given (`""`: none). */
function call(target: ContractTarget, method: string, path: string, body?: unknown, token = target.token) {
  return callApi(target.url, method, path, body, token);
}

/** A TCP listener on 127.0.0.1, where Consul's default sidecar check connects. */
async function listener(): Promise<{ port: number; close(): Promise<void> }> {
  const server = net.createServer((socket) => socket.destroy());
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Registers a service in dc2's catalog (forwarded by dc1's agent), optionally with a failing check. */
function catalogRegister(target: ContractTarget, id: string, kind: string, status?: "critical") {
  const check = status
    ? { Check: { Node: "n", CheckID: `${id}-check`, Name: `${id} check`, Status: status, ServiceID: id } }
    : {};
  return call(target, "PUT", "/v1/catalog/register", {
    Datacenter: "dc2",
    Node: "n",
    Address: "127.0.2.9",
    Service: {
      ID: id,
      Service: id,
      Kind: kind,
      Port: 8443,
      TaggedAddresses: { wan: { Address: "127.0.2.10", Port: 8443 } },
    },
    ...check,
  });
}

/**
 * Defines the contract's tests in the current `describe`.
 * @param start - Starts the target for each test.
 */
export function describeConsulContract(start: ContractTargetFactory): void {
  let target: ContractTarget | undefined;
  afterEach(async () => {
    await target?.close();
    target = undefined;
  });

  it("registers a service with its sidecar, checks the sidecar by TCP, and deregisters both", async () => {
    target = await start({ acl: false });
    const sidecarPort = await listener();
    try {
      const reg = await call(target, "PUT", "/v1/agent/service/register", {
        Name: "web",
        Port: 8080,
        Connect: {
          SidecarService: {
            Port: sidecarPort.port,
            Proxy: { Upstreams: [{ DestinationName: "api", LocalBindPort: 10000 }] },
          },
        },
      });
      expect(reg.status).toBe(200);
      const services = (await call(target, "GET", "/v1/agent/services")).json as Record<
        string,
        Record<string, unknown>
      >;
      expect(Object.keys(services).sort()).toEqual(["web", "web-sidecar-proxy"]);
      expect(services["web-sidecar-proxy"]).toMatchObject({
        Kind: "connect-proxy",
        Port: sidecarPort.port,
        Proxy: {
          DestinationServiceName: "web",
          DestinationServiceID: "web",
          Upstreams: [{ DestinationName: "api", LocalBindPort: 10000 }],
        },
      });
      const connect = (await call(target, "GET", "/v1/health/connect/web")).json as Array<{ Service: { ID: string } }>;
      expect(connect.map((e) => e.Service.ID)).toEqual(["web-sidecar-proxy"]);
      // The sidecar passes its default checks once something listens on its port.
      // (Consul runs a new TCP check first after a random part of its 10 s interval.)
      let checks = "";
      await eventually(
        "the sidecar to pass its checks",
        async () => {
          checks = (await call(target as ContractTarget, "GET", "/v1/agent/checks")).text;
          const passing = (await call(target as ContractTarget, "GET", "/v1/health/connect/web?passing"))
            .json as Array<{ Service: { ID: string } }>;
          return passing.length === 1 && passing[0].Service.ID === "web-sidecar-proxy";
        },
        { timeoutMs: 35_000, describe: () => `checks: ${checks}` },
      );

      expect((await call(target, "PUT", "/v1/agent/service/deregister/web")).status).toBe(200);
      expect((await call(target, "GET", "/v1/agent/services")).json).toEqual({});
      const again = await call(target, "PUT", "/v1/agent/service/deregister/web");
      expect(again.status).toBe(404);
      expect(again.text).toContain('Unknown service ID "web"');
    } finally {
      await sidecarPort.close();
    }
  });

  it("drops a proxy block from a service without a proxy kind, and refuses a connect-proxy without its destination", async () => {
    target = await start({ acl: false });
    expect(
      (
        await call(target, "PUT", "/v1/agent/service/register", {
          Name: "web-sidecar-proxy",
          Port: 8181,
          Proxy: { DestinationServiceName: "web" },
        })
      ).status,
    ).toBe(200);
    const stored = (await call(target, "GET", "/v1/agent/service/web-sidecar-proxy")).json as Record<string, unknown>;
    expect(stored).toMatchObject({ ID: "web-sidecar-proxy", Port: 8181 });
    expect(stored.Proxy).toBeUndefined();
    expect(stored.Kind ?? "").toBe("");
    const noDestination = await call(target, "PUT", "/v1/agent/service/register", {
      Name: "p",
      Kind: "connect-proxy",
      Port: 8182,
    });
    expect(noDestination.status).toBe(400);
    expect(noDestination.text).toContain("Proxy.DestinationServiceName must be non-empty for Connect proxy services");
  });

  it("with ACLs on: anonymous writes are denied, unknown tokens are not found, reads are filtered", async () => {
    target = await start({ acl: true });
    const body = { Name: "web", Port: 8080 };
    const anonymous = await call(target, "PUT", "/v1/agent/service/register", body, "");
    expect(anonymous.status).toBe(403);
    expect(anonymous.text).toMatch(/Permission denied/);
    const unknown = await call(
      target,
      "PUT",
      "/v1/agent/service/register",
      body,
      "00000000-1111-2222-3333-444444444444",
    );
    expect(unknown.status).toBe(403);
    expect(unknown.text).toMatch(/ACL not found/);
    expect((await call(target, "PUT", "/v1/agent/service/register", body)).status).toBe(200);
    expect(Object.keys((await call(target, "GET", "/v1/agent/services")).json as object)).toEqual(["web"]);
    // An anonymous read is not refused: Consul answers with what the anonymous token may see.
    // Without service:read nothing says it was filtered (X-Consul-Results-Filtered-By-ACLs is
    // sent when a token reads a service but not its nodes: see test/real/gateway-acl.test.ts).
    const lists = [
      ["/v1/agent/services", {}, null],
      ["/v1/catalog/services", {}, null],
      ["/v1/health/service/consul", [], null],
    ] as const;
    for (const [path, empty, header] of lists) {
      const filtered = await call(target, "GET", path, undefined, "");
      expect([path, filtered.status, filtered.json, filtered.filtered]).toEqual([path, 200, empty, header]);
    }
    // What no ACL guards: the datacenter list and the CA roots.
    expect((await call(target, "GET", "/v1/catalog/datacenters", undefined, "")).json).toEqual(["dc1", "dc2"]);
    expect((await call(target, "GET", "/v1/agent/connect/ca/roots", undefined, "")).status).toBe(200);
    // Reads of a single object the anonymous token may not see are refused.
    for (const path of ["/v1/agent/self", "/v1/health/connect/web", "/v1/agent/service/web"]) {
      const refused = await call(target, "GET", path, undefined, "");
      expect([path, refused.status, refused.text]).toEqual([path, 403, expect.stringMatching(/Permission denied/)]);
    }
  });

  it("blocks a query on another datacenter until its index moves, and answers with the new index", async () => {
    target = await start({ acl: false });
    const first = await call(target, "GET", "/v1/health/service/gw?dc=dc2&passing");
    expect(first.index).toBeGreaterThanOrEqual(1);
    const started = Date.now();
    const blocked = call(target, "GET", `/v1/health/service/gw?dc=dc2&passing&index=${first.index}&wait=20s`);
    await new Promise((r) => setTimeout(r, 200));
    expect((await catalogRegister(target, "gw", "mesh-gateway")).status).toBe(200);
    const answer = await blocked;
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(answer.index).toBeGreaterThan(first.index as number);
    expect(answer.json).toMatchObject([
      {
        Node: { Node: "n", Address: "127.0.2.9" },
        Service: { Kind: "mesh-gateway", TaggedAddresses: { wan: { Address: "127.0.2.10", Port: 8443 } } },
      },
    ]);
  });

  it("returns after wait without a change, with the same index", async () => {
    target = await start({ acl: false });
    const index = (await call(target, "GET", "/v1/catalog/services")).index;
    const started = Date.now();
    const timedOut = await call(target, "GET", `/v1/catalog/services?index=${index}&wait=300ms`);
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    expect(timedOut.index).toBe(index);
  });

  it("filters services by ServiceKind, hides failing instances from ?passing, and refuses unknown datacenters", async () => {
    target = await start({ acl: false });
    expect((await catalogRegister(target, "gw", "mesh-gateway")).status).toBe(200);
    expect((await catalogRegister(target, "api", "")).status).toBe(200);
    const filter = encodeURIComponent('ServiceKind == "mesh-gateway"');
    expect((await call(target, "GET", `/v1/catalog/services?dc=dc2&filter=${filter}`)).json).toEqual({ gw: [] });
    // Typical services include `consul` itself, which every datacenter's servers register.
    const typical = encodeURIComponent('ServiceKind == ""');
    expect((await call(target, "GET", `/v1/catalog/services?dc=dc2&filter=${typical}`)).json).toEqual({
      api: [],
      consul: [],
    });
    // A filter Consul cannot evaluate is an HTTP 500 (not a 400), locally and forwarded.
    for (const dc of ["dc1", "dc2"]) {
      const refused = await call(
        target,
        "GET",
        `/v1/catalog/services?dc=${dc}&filter=${encodeURIComponent("Kind matches x")}`,
      );
      expect([dc, refused.status, refused.text]).toEqual([
        dc,
        500,
        expect.stringContaining("Failed to create boolean expression evaluator"),
      ]);
    }
    expect((await catalogRegister(target, "gw", "mesh-gateway", "critical")).status).toBe(200);
    expect((await call(target, "GET", "/v1/health/service/gw?dc=dc2&passing")).json).toEqual([]);
    expect(((await call(target, "GET", "/v1/health/service/gw?dc=dc2")).json as unknown[]).length).toBe(1);
    const unknown = await call(target, "GET", "/v1/catalog/services?dc=dc9");
    expect(unknown.status).toBe(500);
    expect(unknown.text).toMatch(/No path to datacenter/);
  });

  it("stores config entries, refusing a proxy-defaults not named global but not an unknown mode", async () => {
    target = await start({ acl: false });
    expect(
      (
        await call(target, "PUT", "/v1/config", {
          Kind: "proxy-defaults",
          Name: "global",
          MeshGateway: { Mode: "local" },
        })
      ).json,
    ).toBe(true);
    const badName = await call(target, "PUT", "/v1/config", { Kind: "proxy-defaults", Name: "other" });
    expect(badName.status).toBe(500);
    expect(badName.text).toContain('invalid name ("other"), only "global" is supported');
    // Consul 1.16 validates no mode: an unknown one is stored as written (validateMesh catches it).
    const badMode = await call(target, "PUT", "/v1/config", {
      Kind: "service-defaults",
      Name: "web",
      MeshGateway: { Mode: "sideways" },
    });
    expect(badMode.status).toBe(200);
    expect((await call(target, "GET", "/v1/config/service-defaults/web")).json).toMatchObject({
      MeshGateway: { Mode: "sideways" },
    });
    expect((await call(target, "DELETE", "/v1/config/service-defaults/web")).status).toBe(200);
    const entry = await call(target, "GET", "/v1/config/proxy-defaults/global");
    expect(entry.json).toMatchObject({ Kind: "proxy-defaults", Name: "global", MeshGateway: { Mode: "local" } });
    expect((await call(target, "GET", "/v1/config/service-defaults/web")).status).toBe(404);
    expect((await call(target, "DELETE", "/v1/config/proxy-defaults/global")).status).toBe(200);
    expect((await call(target, "GET", "/v1/config/proxy-defaults/global")).status).toBe(404);
  });
}
