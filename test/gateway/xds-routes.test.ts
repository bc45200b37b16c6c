/**
 * The xDS route source's pure parts: a mesh gateway's clusters and endpoints read back into a
 * routes file, and where the agent's gRPC server is; and a stream it cannot read (a server of
 * the test's, since a real agent never sends one). The stream itself runs against a real agent
 * in `test/real/big-catalog` and `test/real/mesh-gateway-dropin`.
 */
import * as grpc from "@grpc/grpc-js";
import protobuf from "protobufjs";
import { ConsulClient } from "../../consul/client";
import { ConsulError } from "../../consul/errors";
import { XdsRouteSource } from "../../gateway/sources/xds-route-source";
import { routesFromClusters, trustDomainOfClusters, usableEndpoints } from "../../gateway/sources/xds-routes";
import { CLUSTER_TYPE, ClusterResource, DISCOVERY_TYPE_EDS, LoadAssignment } from "../../gateway/sources/xds-messages";
import { consulBaseUrl, consulGrpcAddress } from "../../consul/settings";
import { ConsulAddressError } from "../../consul/errors";

const TD = "11111111-2222-3333-4444-555555555555.consul";

function assignment(
  name: string,
  ...localities: Array<{ priority?: number; endpoints: Array<[string, number, number?]> }>
): LoadAssignment {
  return {
    cluster_name: name,
    endpoints: localities.map((l) => ({
      priority: l.priority ?? 0,
      lb_endpoints: l.endpoints.map(([address, port, health]) => ({
        health_status: health ?? 0,
        endpoint: { hostname: "", address: { socket_address: { address, port_value: port } } },
      })),
    })),
  };
}

describe("usableEndpoints", () => {
  test("keeps UNKNOWN and HEALTHY endpoints, priority 0 first, and drops the rest", () => {
    const a = assignment(
      "web",
      { priority: 1, endpoints: [["10.0.0.9", 21000]] },
      {
        endpoints: [
          ["10.0.0.1", 21000, 0],
          ["10.0.0.2", 21000, 1],
          ["10.0.0.3", 21000, 2], // UNHEALTHY
          ["10.0.0.4", 21000, 3], // DRAINING
          ["10.0.0.5", 21000, 5], // DEGRADED
          ["10.0.0.6", 0, 1], // no port
        ],
      },
    );
    expect(usableEndpoints(a)).toEqual([
      { address: "10.0.0.1", port: 21000 },
      { address: "10.0.0.2", port: 21000 },
      { address: "10.0.0.9", port: 21000 },
    ]);
    expect(usableEndpoints(undefined)).toEqual([]);
  });
});

describe("routesFromClusters", () => {
  const eds = (name: string): ClusterResource => ({ name, type: DISCOVERY_TYPE_EDS });
  const clusters = new Map<string, ClusterResource>(
    [
      eds(`web.default.dc1.internal.${TD}`),
      eds(`v2.api.default.dc1.internal.${TD}`),
      eds(`dc2.internal.${TD}`),
      eds(`db.default.dc2.internal.${TD}`), // another DC's service: reached through its gateway
      eds(`dc1.internal.${TD}`), // this DC's own gateways
      eds(`server.dc1.peering.${TD}`), // the peering control plane: not a route
      {
        name: `static.default.dc1.internal.${TD}`,
        type: 0,
        load_assignment: assignment("static", { endpoints: [["10.1.0.1", 8080]] }),
      },
    ].map((c) => [c.name, c]),
  );
  const assignments = new Map<string, LoadAssignment>([
    [
      `web.default.dc1.internal.${TD}`,
      assignment("web", {
        endpoints: [
          ["10.0.0.1", 21000],
          ["10.0.0.2", 21000, 2],
        ],
      }),
    ],
    [`v2.api.default.dc1.internal.${TD}`, assignment("api", { endpoints: [["10.0.0.3", 21001]] })],
    [`dc2.internal.${TD}`, assignment("dc2", { endpoints: [["198.51.100.7", 443]] })],
  ]);

  test("local services (with subsets) and other datacenters' gateways; nothing else", () => {
    expect(routesFromClusters("DC1", TD, clusters, assignments)).toEqual({
      datacenter: "dc1",
      trustDomain: TD,
      services: [
        {
          name: "static",
          namespace: "default",
          partition: "default",
          endpoints: [{ address: "10.1.0.1", port: 8080 }],
        },
        {
          name: "api",
          namespace: "default",
          partition: "default",
          subset: "v2",
          endpoints: [{ address: "10.0.0.3", port: 21001 }],
        },
        { name: "web", namespace: "default", partition: "default", endpoints: [{ address: "10.0.0.1", port: 21000 }] },
      ],
      gateways: [{ datacenter: "dc2", partition: "default", endpoints: [{ address: "198.51.100.7", port: 443 }] }],
    });
  });

  test("an EDS cluster whose endpoints have not come yet routes nowhere rather than anywhere", () => {
    const routes = routesFromClusters(
      "dc1",
      TD,
      new Map([[`web.default.dc1.internal.${TD}`, eds(`web.default.dc1.internal.${TD}`)]]),
      new Map(),
    );
    expect(routes.services).toEqual([{ name: "web", namespace: "default", partition: "default", endpoints: [] }]);
  });

  test("clusters of another trust domain are left out", () => {
    const other = `web.default.dc1.internal.99999999-2222-3333-4444-555555555555.consul`;
    expect(routesFromClusters("dc1", TD, new Map([[other, eds(other)]]), new Map()).services).toEqual([]);
  });
});

describe("routesFromClusters: server clusters (WAN federation through the gateways)", () => {
  const eds = (name: string): ClusterResource => ({ name, type: DISCOVERY_TYPE_EDS });
  const names = [
    "dc1-server.server.dc1.consul",
    "server.dc1.consul",
    "server.dc2.consul",
    "server.dc3.consul",
    `dc2.internal.${TD}`,
  ];
  const clusters = new Map(names.map((n) => [n, eds(n)]));
  const assignments = new Map([
    ["dc1-server.server.dc1.consul", assignment("a", { endpoints: [["10.1.0.2", 8300]] })],
    ["server.dc1.consul", assignment("b", { endpoints: [["10.1.0.2", 8300]] })],
    ["server.dc2.consul", assignment("c", { endpoints: [["198.51.100.7", 443]] })],
    ["server.dc3.consul", assignment("d", { endpoints: [["198.51.100.9", 443]] })],
    [`dc2.internal.${TD}`, assignment("e", { endpoints: [["198.51.100.7", 443]] })],
  ]);

  test("local servers by node; another datacenter's gateways, from its server cluster when it has no other", () => {
    const routes = routesFromClusters("dc1", TD, clusters, assignments);
    expect(routes.wanFederation).toEqual({
      domain: "consul",
      servers: [{ node: "dc1-server", endpoints: [{ address: "10.1.0.2", port: 8300 }] }],
    });
    expect(routes.gateways).toEqual([
      { datacenter: "dc2", partition: "default", endpoints: [{ address: "198.51.100.7", port: 443 }] },
      { datacenter: "dc3", partition: "default", endpoints: [{ address: "198.51.100.9", port: 443 }] },
    ]);
  });

  test("under another domain, or without server clusters, no server routes", () => {
    expect(routesFromClusters("dc1", TD, clusters, assignments, "example.org").wanFederation).toBeUndefined();
    const only = new Map([[`dc2.internal.${TD}`, eds(`dc2.internal.${TD}`)]]);
    expect(routesFromClusters("dc1", TD, only, assignments).wanFederation).toBeUndefined();
  });
});

describe("trustDomainOfClusters", () => {
  const td = "11111111-2222-3333-4444-555555555555.consul";
  test("reads the trust domain from service and gateway cluster names, whatever names the service has", () => {
    expect(trustDomainOfClusters([`dc2.internal.${td}`])).toBe(td);
    expect(trustDomainOfClusters([`internal.internal.dc1.internal.${td}`])).toBe(td);
    expect(trustDomainOfClusters([`v1.api.default.dc1.internal.${td}`])).toBe(td);
    expect(trustDomainOfClusters([`api.default.team.dc1.internal-v1.${td.toUpperCase()}`])).toBe(td);
  });
  test("none from names of other shapes, or no names", () => {
    expect(trustDomainOfClusters([])).toBeUndefined();
    expect(
      trustDomainOfClusters(["local_agent", "server.dc1.consul", "api.default.peer1.external.x.consul"]),
    ).toBeUndefined();
  });
});

describe("consulGrpcAddress", () => {
  test("beside the HTTP agent: 8502 in the clear, 8503 for an https agent", () => {
    expect(consulGrpcAddress(consulBaseUrl("consul.local:8500"))).toEqual({ address: "consul.local:8502", tls: false });
    expect(consulGrpcAddress(consulBaseUrl("https://consul.local:8501"))).toEqual({
      address: "consul.local:8503",
      tls: true,
    });
    expect(consulGrpcAddress(consulBaseUrl("[::1]:8500"))).toEqual({ address: "[::1]:8502", tls: false });
  });

  test("CONSUL_GRPC_ADDR as Consul reads it: host:port in the clear, https:// for TLS", () => {
    const base = consulBaseUrl("c:8500");
    expect(consulGrpcAddress(base, "10.0.0.5:9502")).toEqual({ address: "10.0.0.5:9502", tls: false });
    expect(consulGrpcAddress(base, "http://10.0.0.5:9502")).toEqual({ address: "10.0.0.5:9502", tls: false });
    expect(consulGrpcAddress(base, "https://consul.local:8503")).toEqual({ address: "consul.local:8503", tls: true });
    expect(() => consulGrpcAddress(base, "ftp://c:1")).toThrow(ConsulAddressError);
    expect(() => consulGrpcAddress(base, "https://c")).toThrow(ConsulAddressError);
  });
});

describe("XdsRouteSource on a stream it cannot read", () => {
  // An agent never sends this; a broken or foreign server might. The gateway must say so and
  // retry, never crash: a cluster whose bytes are not a Cluster (length past the end).
  const METHOD = "/envoy.service.discovery.v3.AggregatedDiscoveryService/DeltaAggregatedResources";

  function malformedClusterAnswer(): Buffer {
    const any = protobuf.Writer.create()
      .uint32(10)
      .string(CLUSTER_TYPE)
      .uint32(18)
      .bytes(Buffer.from([0x0a, 0xff]));
    const resource = protobuf.Writer.create()
      .uint32(26)
      .string("api.default.dc1.internal." + TD);
    resource.uint32(18).bytes(any.finish());
    const answer = protobuf.Writer.create().uint32(18).bytes(resource.finish());
    answer.uint32(34).string(CLUSTER_TYPE).uint32(42).string("1");
    return Buffer.from(answer.finish());
  }

  test("reports E_CONSUL_XDS naming the type and keeps running", async () => {
    const server = new grpc.Server();
    const identity = (b: Buffer) => b;
    server.addService(
      {
        DeltaAggregatedResources: {
          path: METHOD,
          requestStream: true,
          responseStream: true,
          requestSerialize: identity,
          requestDeserialize: identity,
          responseSerialize: identity,
          responseDeserialize: identity,
        },
      },
      {
        DeltaAggregatedResources: (call: grpc.ServerDuplexStream<Buffer, Buffer>) => {
          call.once("data", () => call.write(malformedClusterAnswer()));
          call.on("error", () => undefined);
        },
      },
    );
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (error, bound) =>
        error ? reject(error) : resolve(bound),
      ),
    );
    const errors: Error[] = [];
    const source = new XdsRouteSource({
      // Nothing answers on port 1: the roots watch fails too, which is reported apart.
      client: new ConsulClient({ address: "http://127.0.0.1:1" }),
      server: { address: `127.0.0.1:${port}` },
      datacenter: "dc1",
      proxyId: "mesh-gateway",
      trustDomain: TD,
      initialLoadTimeoutMs: 2000,
      retryMinMs: 60_000,
    });
    try {
      await source.start({ onTable: () => undefined, onError: (error) => errors.push(error) });
      const unread = errors.find((e) => /could not be read/.test(e.message));
      expect(unread).toBeInstanceOf(ConsulError);
      expect((unread as ConsulError).code).toBe("E_CONSUL_XDS");
      expect(unread?.message).toContain(CLUSTER_TYPE);
      expect(source.status()).toMatchObject({ loaded: false });
    } finally {
      await source.close();
      server.forceShutdown();
    }
  });
});
