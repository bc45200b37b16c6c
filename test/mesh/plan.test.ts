import fc from "fast-check";
import {
  defaultMesh,
  formatRoutePlan,
  planRoutes,
  serviceSni,
  DEFAULT_TRUST_DOMAIN,
  type Mesh,
  type MeshGatewaySpec,
  type MeshService,
  type RouteHop,
  validateMesh,
} from "../../mesh";

const TD = DEFAULT_TRUST_DOMAIN;

describe("planRoutes on the default mesh", () => {
  const plan = planRoutes(defaultMesh());

  it("plans one route per upstream, in declaration order", () => {
    expect(plan.trustDomain).toBe(TD);
    expect(plan.routes.map((r) => r.destination.name)).toEqual(["api", "db", "logging"]);
  });

  it("remote: dials the destination datacenter's gateway at its WAN address", () => {
    const r = plan.routes[0];
    expect(r).toEqual({
      path: "services[0].connect.sidecarService.proxy.upstreams[0]",
      source: { service: "web", proxy: "web", datacenter: "dc1", namespace: "default", partition: "default" },
      destination: { name: "api", namespace: "default", partition: "default", datacenter: "dc2" },
      localBindPort: 10000,
      mode: "remote",
      decidedBy: "upstream",
      usesGateway: true,
      sni: `api.default.dc2.internal.${TD}`,
      hops: [
        { kind: "service", name: "web", datacenter: "dc1" },
        {
          kind: "mesh-gateway",
          name: "mesh-gateway",
          datacenter: "dc2",
          address: "WAN",
          endpoints: ["mesh-gateway-dc2:8443"],
        },
        { kind: "service", name: "api", datacenter: "dc2" },
      ],
      text: "web (dc1) → mesh-gateway dc2 WAN → api (dc2)",
    });
  });

  it("local: the local gateway on its LAN address, then the remote one on WAN", () => {
    expect(plan.routes[1].text).toBe("web (dc1) → mesh-gateway dc1 LAN → mesh-gateway dc2 WAN → db (dc2)");
    expect(plan.routes[1].hops).toHaveLength(4);
    expect(plan.routes[1].usesGateway).toBe(true);
  });

  it("none: direct", () => {
    expect(plan.routes[2]).toMatchObject({
      mode: "none",
      usesGateway: false,
      text: "web (dc1) → logging (dc2) direct",
    });
    expect(plan.routes[2].hops).toHaveLength(2);
  });

  it("the SNI is always the destination service's", () => {
    for (const r of plan.routes) {
      expect(r.sni).toBe(
        serviceSni({ service: r.destination.name, datacenter: r.destination.datacenter, trustDomain: TD }),
      );
    }
  });
});

describe("planRoutes", () => {
  const base = (): Mesh => ({
    trustDomain: "abc.consul",
    datacenters: [{ name: "dc1" }, { name: "dc2" }],
    gateways: [{ datacenter: "dc1", name: "gw-east" }, { datacenter: "dc2" }],
    services: [],
  });

  it("never uses a gateway within one datacenter, whatever the mode", () => {
    const m = base();
    m.proxyDefaults = { kind: "proxy-defaults", name: "global", meshGateway: { mode: "local" } };
    m.services = [
      {
        name: "web",
        datacenter: "dc1",
        port: 1,
        connect: {
          sidecarService: {
            proxy: { upstreams: [{ destinationName: "cache", localBindPort: 9000, meshGateway: { mode: "remote" } }] },
          },
        },
      },
    ];
    const [r] = planRoutes(m).routes;
    expect(r).toMatchObject({
      mode: "remote",
      decidedBy: "upstream",
      usesGateway: false,
      text: "web (dc1) → cache (dc1) direct",
    });
    expect(r.destination.datacenter).toBe("dc1");
  });

  it("covers the connect-proxy form, with service-defaults of the downstream and the gateway's name", () => {
    const m = base();
    m.serviceDefaults = [
      { kind: "service-defaults", name: "web-sidecar-proxy", meshGateway: { mode: "remote" } },
      { kind: "service-defaults", name: "web", meshGateway: { mode: "local" } },
    ];
    m.proxyDefaults = { kind: "proxy-defaults", name: "global", meshGateway: { mode: "none" } };
    const proxy: MeshService = {
      name: "web-sidecar-proxy",
      kind: "connect-proxy",
      datacenter: "dc1",
      port: 8181,
      proxy: {
        destinationServiceName: "web",
        upstreams: [{ destinationName: "api", datacenter: "dc2", localBindPort: 10000 }],
      },
    };
    m.services = [proxy];
    const [r] = planRoutes(m).routes;
    expect(r).toMatchObject({
      path: "services[0].proxy.upstreams[0]",
      source: { service: "web", proxy: "web-sidecar-proxy", datacenter: "dc1" },
      mode: "local",
      decidedBy: "service-defaults",
      text: "web (dc1) → gw-east dc1 LAN → mesh-gateway dc2 WAN → api (dc2)",
    });
  });

  it("falls back through instance, proxy-defaults and the default", () => {
    const m = base();
    const up = (port: number) => ({ destinationName: "api", datacenter: "dc2", localBindPort: port });
    m.services = [
      {
        name: "a",
        datacenter: "dc1",
        port: 1,
        connect: { sidecarService: { proxy: { meshGateway: { mode: "remote" }, upstreams: [up(1)] } } },
      },
      { name: "b", datacenter: "dc1", port: 1, connect: { sidecarService: { proxy: { upstreams: [up(2)] } } } },
    ];
    expect(planRoutes(m).routes.map((r) => [r.mode, r.decidedBy])).toEqual([
      ["remote", "instance"],
      ["none", "default"],
    ]);
    m.proxyDefaults = { kind: "proxy-defaults", name: "global", meshGateway: { mode: "local" } };
    expect(planRoutes(m).routes.map((r) => [r.mode, r.decidedBy])).toEqual([
      ["remote", "instance"],
      ["local", "proxy-defaults"],
    ]);
  });

  it("takes service-defaults from the downstream only: the destination's entry does not decide (documented difference from Consul's chain fallback)", () => {
    const m = base();
    m.services = [
      {
        name: "web",
        datacenter: "dc1",
        port: 1,
        connect: {
          sidecarService: { proxy: { upstreams: [{ destinationName: "api", datacenter: "dc2", localBindPort: 1 }] } },
        },
      },
      { name: "api", datacenter: "dc2", port: 1, connect: { sidecarService: {} } },
    ];
    m.serviceDefaults = [{ kind: "service-defaults", name: "api", meshGateway: { mode: "local" } }];
    expect(planRoutes(m).routes.map((r) => [r.mode, r.decidedBy])).toEqual([["none", "default"]]);
    m.serviceDefaults.push({ kind: "service-defaults", name: "web", meshGateway: { mode: "remote" } });
    expect(planRoutes(m).routes.map((r) => [r.mode, r.decidedBy])).toEqual([["remote", "service-defaults"]]);
  });

  it("uses the partition form of the SNI and inherits the source's namespace", () => {
    const m = base();
    m.services = [
      {
        name: "web",
        namespace: "team",
        datacenter: "dc1",
        port: 1,
        connect: {
          sidecarService: {
            proxy: {
              upstreams: [{ destinationName: "api", destinationPartition: "p2", datacenter: "dc2", localBindPort: 1 }],
            },
          },
        },
      },
    ];
    const [r] = planRoutes(m).routes;
    expect(r.destination).toEqual({ name: "api", namespace: "team", partition: "p2", datacenter: "dc2" });
    expect(r.sni).toBe("api.team.p2.dc2.internal-v1.abc.consul");
  });

  it("plans nothing for a mesh without upstreams, and never throws on an invalid one", () => {
    expect(planRoutes(base()).routes).toEqual([]);
    const m = base();
    m.services = [
      {
        name: "web",
        datacenter: "dc1",
        port: 1,
        connect: {
          sidecarService: {
            proxy: {
              upstreams: [
                { destinationName: "x", datacenter: "dc9", localBindPort: 1, meshGateway: { mode: "remote" } },
              ],
            },
          },
        },
      },
    ];
    expect(planRoutes(m).routes[0].text).toBe("web (dc1) → mesh-gateway dc9 WAN → x (dc9)");
  });
});

describe("planRoutes: the gateways' addresses", () => {
  /** The gateway hops of web (dc1) → api (dc2) in mode local, with `gateways`. */
  const gatewayHops = (gateways: MeshGatewaySpec[]) => {
    const m: Mesh = {
      datacenters: [{ name: "dc1" }, { name: "dc2" }],
      gateways,
      services: [
        {
          name: "web",
          datacenter: "dc1",
          port: 1,
          connect: {
            sidecarService: {
              proxy: {
                upstreams: [
                  { destinationName: "api", datacenter: "dc2", localBindPort: 1, meshGateway: { mode: "local" } },
                ],
              },
            },
          },
        },
      ],
    };
    return planRoutes(m).routes[0].hops.filter((hop) => hop.kind === "mesh-gateway");
  };

  it("lists every gateway of the datacenter, LAN from its own and WAN from another, tagged addresses first", () => {
    const hops = gatewayHops([
      { datacenter: "dc1", address: "10.0.0.1" },
      {
        datacenter: "dc2",
        name: "gw-a",
        address: "10.1.0.9",
        taggedAddresses: { lan: { address: "10.1.0.1", port: 8443 }, wan: { address: "203.0.113.1", port: 443 } },
      },
      { datacenter: "dc2", name: "gw-b", address: "10.1.0.2", port: 9443 },
    ]);
    expect(hops).toEqual([
      { kind: "mesh-gateway", name: "mesh-gateway", datacenter: "dc1", address: "LAN", endpoints: ["10.0.0.1:8443"] },
      {
        kind: "mesh-gateway",
        name: "gw-a",
        datacenter: "dc2",
        address: "WAN",
        endpoints: ["203.0.113.1:443", "10.1.0.2:9443"],
      },
    ]);
  });

  it("dials WAN at the LAN address (on the gateway's port, as Consul does) when no WAN address is tagged, with brackets around IPv6", () => {
    const hops = gatewayHops([
      { datacenter: "dc1", address: "fd00::1", port: 8444 },
      {
        datacenter: "dc2",
        address: "10.1.0.9",
        port: 1000,
        taggedAddresses: { lan: { address: "10.1.0.1", port: 8443 } },
      },
    ]);
    expect(hops.map((hop) => hop.kind === "mesh-gateway" && hop.endpoints)).toEqual([
      ["[fd00::1]:8444"],
      ["10.1.0.1:1000"],
    ]);
  });

  it("leaves out a gateway with no address: no endpoints, named in the table", () => {
    const hops = gatewayHops([{ datacenter: "dc1" }]);
    expect(hops.map((hop) => hop.kind === "mesh-gateway" && [hop.name, hop.endpoints])).toEqual([
      ["mesh-gateway", []],
      ["mesh-gateway", []],
    ]);
    const plan = planRoutes({
      datacenters: [{ name: "dc1" }, { name: "dc2" }],
      services: [
        {
          name: "web",
          datacenter: "dc1",
          port: 1,
          connect: {
            sidecarService: {
              proxy: {
                upstreams: [
                  { destinationName: "api", datacenter: "dc2", localBindPort: 1, meshGateway: { mode: "remote" } },
                ],
              },
            },
          },
        },
      ],
    });
    expect(formatRoutePlan(plan)).toContain("web (dc1) → mesh-gateway dc2 WAN (no address) → api (dc2)");
  });

  it("gives each hop a list of its own, so that changing one route's changes no other", () => {
    const [api, db] = planRoutes(defaultMesh()).routes;
    const endpointsOf = (hop: RouteHop) => (hop.kind === "mesh-gateway" ? hop.endpoints : undefined);
    expect(endpointsOf(api.hops[1])).toEqual(["mesh-gateway-dc2:8443"]);
    expect(endpointsOf(db.hops[2])).toEqual(["mesh-gateway-dc2:8443"]);
    expect(endpointsOf(api.hops[1])).not.toBe(endpointsOf(db.hops[2]));
  });
});

describe("planRoutes on malformed input", () => {
  it("plans nothing, without throwing, for names that cannot become text (a counterexample fast-check found)", () => {
    const input = {
      datacenters: {},
      services: [
        {
          name: {},
          datacenter: { toString: 0 },
          kind: [],
          proxy: { upstreams: [{ destinationName: "", datacenter: [], meshGateway: 0 }] },
        },
      ],
    };
    expect(planRoutes(input as unknown as Mesh).routes).toEqual([]);
  });

  it("never throws: skips upstreams that are not objects and upstream lists that are not lists", () => {
    const loose = (x: unknown) => x as never;
    const m: Mesh = {
      datacenters: [{ name: "dc1" }],
      services: [
        {
          name: "a",
          datacenter: "dc1",
          port: 1,
          connect: {
            sidecarService: { proxy: { upstreams: loose([null, 7, { destinationName: "b", localBindPort: 2 }]) } },
          },
        },
        { name: "c", datacenter: "dc1", port: 1, connect: { sidecarService: { proxy: { upstreams: loose("x") } } } },
        { name: "d", datacenter: "dc1", port: 1, connect: loose({ sidecarService: null }) },
        loose(null),
      ],
    };
    expect(() => planRoutes(m)).not.toThrow();
    expect(planRoutes(m).routes.map((r) => r.path)).toEqual(["services[0].connect.sidecarService.proxy.upstreams[2]"]);
  });

  it("never throws on arbitrary input (property)", () => {
    const loose = fc.oneof(fc.anything(), fc.array(fc.anything(), { maxLength: 3 }));
    const proxy = fc.record({
      upstreams: fc.oneof(
        loose,
        fc.array(fc.oneof(loose, fc.record({ destinationName: fc.string(), datacenter: loose, meshGateway: loose })), {
          maxLength: 3,
        }),
      ),
      meshGateway: loose,
    });
    const service = fc.record({
      name: loose,
      datacenter: loose,
      kind: loose,
      proxy: fc.oneof(loose, proxy),
      connect: fc.oneof(
        loose,
        fc.record({ sidecarService: fc.oneof(loose, fc.record({ proxy: fc.oneof(loose, proxy) })) }),
      ),
    });
    const shaped = fc.record({
      datacenters: loose,
      services: fc.oneof(loose, fc.array(service, { maxLength: 3 })),
      gateways: loose,
      serviceDefaults: loose,
      proxyDefaults: loose,
      trustDomain: loose,
    });
    fc.assert(
      fc.property(fc.oneof(fc.anything(), shaped), (input) => {
        expect(Array.isArray(planRoutes(input as Mesh).routes)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });
});

describe("formatRoutePlan", () => {
  it("prints a header and one aligned line per route, the hops with their addresses last", () => {
    const lines = formatRoutePlan(planRoutes(defaultMesh())).split("\n");
    expect(lines).toHaveLength(5);
    expect(lines[4]).toBe("");
    expect(lines[0].split(/\s{2,}/)).toEqual([
      "SOURCE",
      "UPSTREAM",
      "DATACENTER",
      "BIND PORT",
      "MODE",
      "DECIDED BY",
      "SNI",
      "HOPS",
    ]);
    expect(lines[1].split(/\s{2,}/)).toEqual([
      "web (dc1)",
      "api",
      "dc2",
      "10000",
      "remote",
      "upstream",
      `api.default.dc2.internal.${TD}`,
      "web (dc1) → mesh-gateway dc2 WAN (mesh-gateway-dc2:8443) → api (dc2)",
    ]);
    expect(lines[2]).toContain(
      "web (dc1) → mesh-gateway dc1 LAN (mesh-gateway-dc1:8443) → mesh-gateway dc2 WAN (mesh-gateway-dc2:8443) → db (dc2)",
    );
    expect(lines[3]).toMatch(/ {2}web \(dc1\) → logging \(dc2\) direct$/);
    for (const column of ["UPSTREAM", "BIND PORT", "SNI", "HOPS"]) {
      const at = lines[0].indexOf(column);
      for (const row of lines.slice(1, 4))
        expect([row[at - 1], row[at - 2], row[at]]).toEqual([" ", " ", expect.stringMatching(/\S/)]);
    }
  });

  it("says so when there is nothing to route", () => {
    expect(formatRoutePlan({ trustDomain: TD, routes: [] })).toBe("no upstreams: nothing to route\n");
  });
});

describe("planRoutes: the servers' paths, with WAN federation through the gateways", () => {
  test("between every two datacenters, through both gateways, with the server SNI name; in the table too", () => {
    const mesh = { ...defaultMesh(), wanFederation: { mode: "mesh-gateways" as const } };
    const plan = planRoutes(mesh);
    expect(plan.servers?.map((p) => [p.from, p.to, p.sni, p.text])).toEqual([
      ["dc1", "dc2", "server.dc2.consul", "consul (dc1) → mesh-gateway dc1 LAN → mesh-gateway dc2 WAN → consul (dc2)"],
      ["dc2", "dc1", "server.dc1.consul", "consul (dc2) → mesh-gateway dc2 LAN → mesh-gateway dc1 WAN → consul (dc1)"],
    ]);
    expect(formatRoutePlan(plan)).toContain("Consul servers, through the gateways:");
    expect(planRoutes(defaultMesh()).servers).toBeUndefined();
    expect(formatRoutePlan(planRoutes(defaultMesh()))).not.toContain("Consul servers");
  });
});

describe("planRoutes and validateMesh: upstreams to a cluster peer's services", () => {
  const PEER_TD = "99999999-2222-3333-4444-555555555555.consul";
  const web = (mode?: "local" | "remote" | "none", peer = "cluster-a"): MeshService => ({
    name: "web",
    datacenter: "dc1",
    port: 8080,
    connect: {
      sidecarService: {
        proxy: {
          upstreams: [
            {
              destinationName: "api",
              destinationPeer: peer,
              localBindPort: 9191,
              ...(mode ? { meshGateway: { mode } } : {}),
            },
          ],
        },
      },
    },
  });
  const mesh = (service: MeshService, peers: Mesh["peers"]): Mesh => ({
    datacenters: [{ name: "dc1" }],
    gateways: [{ datacenter: "dc1", address: "10.0.0.5", port: 8443 }],
    services: [service],
    peers,
  });

  test("through the local gateway (local) or straight to the peer's gateways (remote, none), with the peered SNI", () => {
    const peers = [{ name: "cluster-a", remoteName: "cluster-b", trustDomain: PEER_TD, throughGateways: true }];
    const local = planRoutes(mesh(web("local"), peers)).routes[0];
    expect(local).toMatchObject({
      destination: { name: "api", datacenter: "", peer: "cluster-a" },
      mode: "local",
      usesGateway: true,
      sni: `api.default.default.cluster-b.external.${PEER_TD}`,
      text: "web (dc1) → mesh-gateway dc1 LAN → mesh-gateway peer cluster-a WAN → api (peer cluster-a)",
    });
    for (const mode of ["remote", "none"] as const)
      expect(planRoutes(mesh(web(mode), peers)).routes[0].text).toBe(
        "web (dc1) → mesh-gateway peer cluster-a WAN → api (peer cluster-a)",
      );
    expect(formatRoutePlan(planRoutes(mesh(web("local"), peers)))).toContain("peer cluster-a");
    // What peers does not say is a placeholder, never a made-up name.
    expect(planRoutes(mesh(web(), [{ name: "cluster-a" }])).routes[0].sni).toBe(
      "api.default.default.<peer's name for this cluster>.external.<peer's trust domain>",
    );
  });

  test("a problem per missing piece, each naming its field", () => {
    const at = "services[0].connect.sidecarService.proxy.upstreams[0]";
    const problems = (m: Mesh) => validateMesh(m).map((p) => p.path);
    expect(problems(mesh(web("local", "nobody"), [{ name: "cluster-a" }]))).toEqual([`${at}.destinationPeer`]);
    expect(problems(mesh(web("local"), [{ name: "cluster-a", exportedServices: ["db"] }]))).toEqual([
      `${at}.destinationName`,
    ]);
    expect(
      problems({
        ...mesh(web("local"), [{ name: "cluster-a", throughGateways: true }]),
        datacenters: [{ name: "dc1", tls: { enabled: false } }],
        gateways: [],
      }),
    ).toEqual(["peers[0].throughGateways", "datacenters[0].tls.enabled"]);
    expect(
      problems(
        mesh(web(), [
          { name: "Bad Name", trustDomain: "nope", datacenter: "dc9" },
          { name: "cluster-a" },
          { name: "cluster-a" },
        ]),
      ),
    ).toEqual(["peers[0].name", "peers[0].trustDomain", "peers[0].datacenter", "peers[2].name"]);
    const both = web();
    both.connect!.sidecarService!.proxy!.upstreams![0].datacenter = "dc1";
    expect(problems(mesh(both, [{ name: "cluster-a" }]))).toEqual([`${at}.datacenter`]);
    expect(
      problems(mesh(web("local"), [{ name: "cluster-a", exportedServices: ["api"], throughGateways: true }])),
    ).toEqual([]);
  });
});

describe("planRoutes: services exported to cluster peers", () => {
  const TD = "11111111-2222-3333-4444-555555555555.consul";
  const mesh: Mesh = {
    trustDomain: TD,
    datacenters: [{ name: "dc1" }],
    gateways: [{ datacenter: "dc1" }],
    services: [
      { name: "api", datacenter: "dc1", port: 1, connect: { sidecarService: {} } },
      { name: "docs", datacenter: "dc1", port: 2, connect: { sidecarService: {} } },
    ],
    serviceDefaults: [{ kind: "service-defaults", name: "docs", protocol: "http" }],
    peers: [{ name: "cluster-b", exports: ["api", "docs"] }],
  };

  test("each with its peered SNI and protocol; one a gateway must terminate is flagged, in the table too", () => {
    const plan = planRoutes(mesh);
    expect(plan.exports).toEqual([
      {
        service: "api",
        peer: "cluster-b",
        sni: `api.default.default.cluster-b.external.${TD}`,
        protocol: "tcp",
        terminatedAtGateway: false,
      },
      {
        service: "docs",
        peer: "cluster-b",
        sni: `docs.default.default.cluster-b.external.${TD}`,
        protocol: "http",
        terminatedAtGateway: true,
      },
    ]);
    expect(formatRoutePlan(plan)).toContain("Exported to cluster peers:");
    expect(formatRoutePlan(plan)).toMatch(/docs +cluster-b +http .*refused: a gateway must terminate mTLS/);
    expect(validateMesh(mesh)).toEqual([]);
  });

  test("an export of a service not declared is a problem at its field", () => {
    const bad = { ...mesh, peers: [{ name: "cluster-b", exports: ["nothere"] }] };
    expect(validateMesh(bad).map((p) => p.path)).toEqual(["peers[0].exports[0]"]);
  });
});
