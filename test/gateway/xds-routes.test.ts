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
import {
  CLUSTER_TYPE,
  ClusterResource,
  decodeListener,
  DISCOVERY_TYPE_EDS,
  ListenerResource,
  LoadAssignment,
} from "../../gateway/sources/xds-messages";
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

  test("cluster peering: the servers' names, imported services by cluster, exported ones by filter chain", () => {
    const peer = "99999999-2222-3333-4444-555555555555.consul";
    const peered = new Map<string, ClusterResource>(
      [
        eds(`server.dc1.peering.${TD}`), // this cluster's servers, for a peer's
        {
          name: `server.dc9.peering.${peer}`, // a peer's servers, for ours to dial
          type: 0,
          load_assignment: assignment("p", { endpoints: [["203.0.113.5", 8443]] }),
        },
        eds(`db.default.default.cluster-a.external.${peer}`), // imported (mode local)
        eds(`exported~api.default.dc1.internal.${TD}`),
        eds(`api.default.default.cluster-b.external.${TD}`), // our own trust domain: no cluster of Consul's
      ].map((c) => [c.name, c]),
    );
    const peeredAssignments = new Map<string, LoadAssignment>([
      [`server.dc1.peering.${TD}`, assignment("s", { endpoints: [["10.0.0.10", 8503]] })],
      [`db.default.default.cluster-a.external.${peer}`, assignment("d", { endpoints: [["203.0.113.5", 8443]] })],
      [`exported~api.default.dc1.internal.${TD}`, assignment("a", { endpoints: [["10.0.0.3", 21001]] })],
    ]);
    const listeners = new Map<string, ListenerResource>([
      [
        "default:10.0.0.1:8443",
        {
          name: "default:10.0.0.1:8443",
          chains: [
            {
              serverNames: [`API.default.default.cluster-b.external.${TD}`],
              cluster: `exported~api.default.dc1.internal.${TD}`,
              terminates: false,
            },
            { serverNames: [`docs.default.default.cluster-b.external.${TD}`], terminates: true },
            { serverNames: [`*.server.dc1.consul`], cluster: "x", terminates: false },
            { serverNames: [`web.default.default.cluster-b.external.${peer}`], cluster: "y", terminates: false },
            { serverNames: [], terminates: false },
          ],
        },
      ],
    ]);
    expect(routesFromClusters("dc1", TD, peered, peeredAssignments, "consul", listeners).peering).toEqual([
      {
        sni: `db.default.default.cluster-a.external.${peer}`,
        kind: "imported",
        service: "db",
        endpoints: [{ address: "203.0.113.5", port: 8443 }],
      },
      { sni: `server.dc1.peering.${TD}`, kind: "local-servers", endpoints: [{ address: "10.0.0.10", port: 8503 }] },
      { sni: `server.dc9.peering.${peer}`, kind: "peer-servers", endpoints: [{ address: "203.0.113.5", port: 8443 }] },
      {
        sni: `api.default.default.cluster-b.external.${TD}`,
        kind: "exported",
        peer: "cluster-b",
        service: "api",
        endpoints: [{ address: "10.0.0.3", port: 21001 }],
      },
      {
        sni: `docs.default.default.cluster-b.external.${TD}`,
        kind: "exported",
        peer: "cluster-b",
        service: "docs",
        terminates: true,
        endpoints: [],
      },
    ]);
    expect(routesFromClusters("dc1", TD, clusters, assignments).peering).toBeUndefined();
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

describe("decodeListener", () => {
  // Envoy's field numbers (listener.proto, listener_components.proto, tcp_proxy.proto), with fields
  // the gateway does not declare, which it must skip.
  const root = protobuf.parse(
    `
    syntax = "proto3";
    message Any { string type_url = 1; bytes value = 2; }
    message SocketAddress { string address = 2; uint32 port_value = 3; }
    message Address { SocketAddress socket_address = 1; }
    message FilterChainMatch { repeated string server_names = 11; string transport_protocol = 9; }
    message Filter { string name = 1; Any typed_config = 4; }
    message TransportSocket { string name = 1; Any typed_config = 3; }
    message FilterChain { FilterChainMatch filter_chain_match = 1; repeated Filter filters = 3; TransportSocket transport_socket = 6; string name = 7; }
    message Listener { string name = 1; Address address = 2; repeated FilterChain filter_chains = 3; }
    message TcpProxy { string stat_prefix = 1; string cluster = 2; }
  `,
    { keepCase: true },
  ).root;
  const type = (name: string) => root.lookupType(name);
  const any = (typeUrl: string, name: string, value: object) => ({
    type_url: typeUrl,
    value: type(name).encode(type(name).fromObject(value)).finish(),
  });

  test("reads each chain's server names, its TCP proxy's cluster, and whether it terminates TLS", () => {
    const tcp = "type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy";
    const listener = {
      name: "default:10.0.0.1:8443",
      address: { socket_address: { address: "10.0.0.1", port_value: 8443 } },
      filter_chains: [
        {
          filter_chain_match: { server_names: ["api.default.default.b.external.td"], transport_protocol: "tls" },
          filters: [
            {
              name: "envoy.filters.network.tcp_proxy",
              typed_config: any(tcp, "TcpProxy", { stat_prefix: "s", cluster: "exported~api" }),
            },
          ],
          name: "api",
        },
        {
          filter_chain_match: { server_names: ["docs.default.default.b.external.td"] },
          filters: [
            {
              name: "envoy.filters.network.http_connection_manager",
              typed_config: { type_url: "type.googleapis.com/x", value: new Uint8Array() },
            },
          ],
          transport_socket: {
            name: "tls",
            typed_config: { type_url: "type.googleapis.com/y", value: new Uint8Array() },
          },
        },
        { filters: [{ name: "envoy.filters.network.sni_cluster" }] },
      ],
    };
    const bytes = type("Listener").encode(type("Listener").fromObject(listener)).finish();
    expect(decodeListener(bytes)).toEqual({
      name: "default:10.0.0.1:8443",
      chains: [
        { serverNames: ["api.default.default.b.external.td"], cluster: "exported~api", terminates: false },
        { serverNames: ["docs.default.default.b.external.td"], terminates: true },
        { serverNames: [], terminates: false },
      ],
    });
  });
});
