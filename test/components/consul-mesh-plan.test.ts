import { consulMeshProblems } from "../../components/plans/consul-mesh-args";
import { planConsulMesh } from "../../components/plans/consul-mesh-plan";
import { DEFAULT_TRUST_DOMAIN, defaultMesh, planRoutes, renderGatewayRoutes, type Mesh } from "../../mesh";

/** The default mesh, ACLs on in every datacenter (the default) and said so. */
function withAcls(): Mesh {
  const mesh = defaultMesh();
  mesh.datacenters = mesh.datacenters.map((dc) => ({ ...dc, acl: { enabled: true } }));
  return mesh;
}

const UPSTREAM = (j: number) => `services[0].connect.sidecarService.proxy.upstreams[${j}]`;

describe("ConsulMesh plan", () => {
  test("the default mesh: a federation, two datacenters, a gateway each, four services, in Consul mode", () => {
    const plan = planConsulMesh("mesh", defaultMesh());
    expect(plan.mesh).toEqual(defaultMesh());
    expect(plan.datacenterNames).toEqual(["dc1", "dc2"]);
    expect(plan.primary).toBe("dc1");
    expect(plan.routesOf(DEFAULT_TRUST_DOMAIN).routePlan).toEqual(planRoutes(defaultMesh()));
    expect(plan.routeSummary).toHaveLength(3);
    expect(plan.routesOf(DEFAULT_TRUST_DOMAIN).routesFiles).toEqual({});
    expect(plan.wan).toEqual({
      resourceName: "mesh-wan",
      args: {
        datacenters: [
          { name: "dc1", primaryDatacenter: "dc1", servers: undefined },
          { name: "dc2", primaryDatacenter: "dc1", servers: undefined },
        ],
        primaryDatacenter: "dc1",
        subnet: "10.250.0.0/24",
        resourcePrefix: "consul-mesh",
      },
    });
    // Secure by default: a management token, a CA and a gossip key for the federation.
    expect(plan.generatedToken).toBe("mesh-management-token");
    expect(plan.certificateAuthority).toBe("mesh-ca");
    expect(plan.gossipKey).toBe("mesh-gossip-key");
    expect(plan.datacenters.map((dc) => [dc.resourceName, dc.args.lanSubnet, dc.args.httpHostPort])).toEqual([
      ["mesh-dc1", "10.250.1.0/24", 8500],
      ["mesh-dc2", "10.250.2.0/24", 8501],
    ]);
    // Pinned to the model's trust domain, which has Consul's form; none drawn.
    expect(plan.trustDomain).toBe(DEFAULT_TRUST_DOMAIN);
    expect(plan.generatedTrustDomain).toBeUndefined();
    expect(plan.pinsServers).toBe(true);
    expect(plan.gateways).toEqual([
      {
        resourceName: "mesh-gateway-dc1-mesh-gateway",
        datacenter: "dc1",
        args: {
          serviceName: "mesh-gateway",
          port: 8443,
          slot: 0,
          // Host names are the containers' aliases; Consul is given their IP addresses.
          lanAddress: undefined,
          wanAddress: undefined,
          aliases: ["mesh-gateway-dc1"],
          proxyConfig: undefined,
          resourcePrefix: "consul-mesh",
        },
        routes: { source: "consul" },
      },
      expect.objectContaining({ resourceName: "mesh-gateway-dc2-mesh-gateway", datacenter: "dc2" }),
    ]);
    expect(plan.intentions.map((i) => i.args.destination)).toEqual(["api", "db", "logging"]);
    expect(plan.services.map((s) => [s.resourceName, s.datacenter, s.workload])).toEqual([
      ["mesh-service-dc1-web", "dc1", undefined],
      ["mesh-service-dc2-api", "dc2", undefined],
      ["mesh-service-dc2-db", "dc2", undefined],
      ["mesh-service-dc2-logging", "dc2", undefined],
    ]);
    expect(plan.services[0].service).toBe(plan.mesh.services![0]);
    expect(plan.demoUrl).toBeUndefined();
  });

  test("through the gateways: the federation's mode, and the primary's gateways as the secondaries reach them", () => {
    const mesh: Mesh = { ...defaultMesh(), wanFederation: { mode: "mesh-gateways" } };
    mesh.gateways = [...(mesh.gateways ?? []), { datacenter: "dc1", name: "edge", port: 9443 }];
    const plan = planConsulMesh("mesh", mesh);
    expect(plan.wan?.args.mode).toBe("mesh-gateways");
    expect(plan.primaryGateways).toEqual(["mesh-gateway-dc1:8443", "edge-dc1:9443"]);
    expect(planConsulMesh("mesh", defaultMesh()).primaryGateways).toBeUndefined();
  });

  test("a lone datacenter: no federation; a gateway's model address stands for its WAN address", () => {
    const plan = planConsulMesh("m", {
      datacenters: [{ name: "solo" }],
      gateways: [{ datacenter: "solo", address: "10.1.2.3" }],
      trustDomain: "example.consul",
    });
    expect(plan.wan).toBeUndefined();
    expect(plan.gateways[0].args).toMatchObject({ lanAddress: "10.1.2.3", wanAddress: "10.1.2.3" });
    expect(plan.gateways[0].args.aliases).toEqual(["mesh-gateway-solo"]);
    // A trust domain Consul cannot be made to use is not pinned.
    expect(plan.trustDomain).toBe("example.consul");
    expect(plan.generatedTrustDomain).toBeUndefined();
    expect(plan.pinsServers).toBe(false);
  });

  test("ACLs: one management token to generate unless given; an intention per declared destination", () => {
    const plan = planConsulMesh("mesh", withAcls());
    expect(plan.generatedToken).toBe("mesh-management-token");
    expect(plan.datacenters.every((dc) => dc.aclEnabled)).toBe(true);
    expect(plan.intentions).toEqual(
      ["api", "db", "logging"].map((destination) => ({
        resourceName: `mesh-intentions-${destination}`,
        args: { destination, sources: [{ name: "web", action: "allow" }] },
      })),
    );
    expect(planConsulMesh("mesh", { ...withAcls(), initialManagementToken: "given" }).generatedToken).toBeUndefined();
    expect(planConsulMesh("mesh", { ...withAcls(), allowDeclaredUpstreams: false }).intentions).toEqual([]);
    // ACLs off: no intentions written.
    const open = defaultMesh();
    open.datacenters = open.datacenters.map((dc) => ({
      ...dc,
      acl: { enabled: false },
      tls: { enabled: false },
      gossipEncryption: { enabled: false },
    }));
    const plain = planConsulMesh("mesh", open);
    expect([plain.intentions, plain.generatedToken, plain.certificateAuthority, plain.gossipKey]).toEqual([
      [],
      undefined,
      undefined,
      undefined,
    ]);
  });

  test("intentions given: written as given, in place of the declared entry of their destination", () => {
    const intentions = [
      {
        destination: "db",
        sources: [
          { name: "*", action: "deny" as const },
          { name: "web", action: "allow" as const },
        ],
      },
    ];
    expect(consulMeshProblems({ ...withAcls(), intentions })).toEqual([]);
    const plan = planConsulMesh("mesh", { ...withAcls(), intentions });
    expect(plan.intentions.map((i) => i.args)).toEqual([
      { destination: "api", sources: [{ name: "web", action: "allow" }] },
      intentions[0],
      { destination: "logging", sources: [{ name: "web", action: "allow" }] },
    ]);
  });

  test("an upstream no intention allows under deny is a problem at preview, at the upstream", () => {
    // No declared entries, and only db allowed: api and logging would carry nothing.
    const problems = consulMeshProblems({
      ...withAcls(),
      allowDeclaredUpstreams: false,
      intentions: [{ destination: "db", sources: [{ name: "web", action: "allow" }] }],
    });
    expect(problems.map((p) => p.path)).toEqual([UPSTREAM(0), UPSTREAM(2)]);
    expect(problems[0].message).toMatch(/no intention allows web -> api \(ACL default policy deny\)/);
    // An entry that denies a declared upstream: refused by name; `*` allow covers every source.
    expect(
      consulMeshProblems({
        ...withAcls(),
        intentions: [{ destination: "api", sources: [{ name: "web", action: "deny" }] }],
      }).map((p) => p.path),
    ).toEqual([UPSTREAM(0)]);
    expect(
      consulMeshProblems({
        ...withAcls(),
        allowDeclaredUpstreams: false,
        intentions: ["api", "db", "logging"].map((destination) => ({
          destination,
          sources: [{ name: "*", action: "allow" as const }],
        })),
      }),
    ).toEqual([]);
    // With default_policy allow, no entry is needed.
    const allow = defaultMesh();
    allow.datacenters = allow.datacenters.map((dc) => ({ ...dc, acl: { enabled: true, defaultPolicy: "allow" } }));
    expect(consulMeshProblems({ ...allow, allowDeclaredUpstreams: false })).toEqual([]);
    // Bad entries, each at its field.
    expect(
      consulMeshProblems({
        ...withAcls(),
        intentions: [
          { destination: "*", sources: [] },
          { destination: "api", sources: [{ name: "web", action: "maybe" as "allow" }] },
          { destination: "api", sources: [{ name: "web", action: "allow" }] },
        ],
      }).map((p) => p.path),
    ).toEqual([
      "intentions[0].destination",
      "intentions[0].sources",
      "intentions[1].sources[0].action",
      "intentions[2].destination",
    ]);
  });

  test("file mode, several gateways per datacenter: slots in order, one routes file per datacenter", () => {
    const mesh = defaultMesh();
    mesh.gateways = [
      { datacenter: "dc1" },
      { datacenter: "dc2", name: "east" },
      { datacenter: "dc1", name: "second", port: 9443, proxyConfig: { a: 1 } },
      { datacenter: "dc2" },
    ];
    const plan = planConsulMesh("m", { ...mesh, routeSource: "file", resourcePrefix: "p", wanSubnet: "10.7.0.0/24" });
    const { routesFiles } = plan.routesOf(DEFAULT_TRUST_DOMAIN);
    expect(plan.gateways.map((g) => [g.resourceName, g.args.slot])).toEqual([
      ["m-gateway-dc1-mesh-gateway", 0],
      ["m-gateway-dc2-east", 0],
      ["m-gateway-dc1-second", 1],
      ["m-gateway-dc2-mesh-gateway", 1],
    ]);
    expect(Object.keys(routesFiles).sort()).toEqual(["dc1/mesh-gateway", "dc1/second", "dc2/east", "dc2/mesh-gateway"]);
    expect(routesFiles["dc1/second"]).toBe(routesFiles["dc1/mesh-gateway"]);
    expect(plan.gateways[2].routes).toEqual({ source: "file", file: "dc1/second" });
    expect(plan.gateways[2].args).toMatchObject({ port: 9443, proxyConfig: { a: 1 }, resourcePrefix: "p" });
    // Gateways without an address are routed at their planned WAN addresses (slot j of datacenter d).
    expect(routesFiles["dc1/mesh-gateway"].gateways[0].endpoints).toEqual([
      { address: "10.7.0.40", port: 8443 },
      { address: "10.7.0.41", port: 8443 },
    ]);
  });

  test("file mode in a lone datacenter: the routes file of its own services, no other gateway", () => {
    const mesh: Mesh = {
      datacenters: [{ name: "dc1" }],
      gateways: [{ datacenter: "dc1" }],
      services: defaultMesh()
        .services!.filter((s) => s.datacenter === "dc2")
        .map((s) => ({ ...s, datacenter: "dc1" })),
    };
    const plan = planConsulMesh("m", { ...mesh, routeSource: "file", lanSubnets: { dc1: "10.8.0.0/24" } });
    const { routesFiles } = plan.routesOf(DEFAULT_TRUST_DOMAIN);
    expect(routesFiles["dc1/mesh-gateway"]).toEqual(renderGatewayRoutes(mesh, "dc1"));
    expect(routesFiles["dc1/mesh-gateway"].gateways).toEqual([]);
    expect(plan.datacenters[0].args.lanSubnet).toBe("10.8.0.0/24");
  });

  test("workloads: at their LAN addresses, the demo published by the first service with upstreams", () => {
    const plan = planConsulMesh("mesh", { ...defaultMesh(), workloads: { demoHostPort: 9090 } });
    expect(plan.demoUrl).toBe("http://127.0.0.1:9090/");
    const [web, api] = plan.services;
    expect(web.service.address).toBe("10.250.1.30");
    expect(web.workload).toMatchObject({
      key: "dc1/web",
      resourceName: "mesh-workload-dc1-web",
      otherDatacenters: ["dc2"],
      args: {
        serviceId: "web",
        serviceName: "web",
        port: 8080,
        lanAddress: "10.250.1.30",
        aliases: ["web-dc1"],
        hostPort: 9090,
        resourcePrefix: "consul-mesh",
      },
    });
    expect(web.workload?.args.upstreams?.map((u) => u.name)).toEqual(["api", "db", "logging"]);
    expect(api.workload?.args.lanAddress).toBe("10.250.2.30");
    expect(api.workload?.args.hostPort).toBeUndefined();
    expect(planConsulMesh("mesh", { ...defaultMesh(), workloads: {} }).demoUrl).toBe("http://127.0.0.1:8080/");
  });

  test("names carry a service's partition and namespace when they are not the default", () => {
    const mesh: Mesh = {
      datacenters: [{ name: "dc1" }],
      services: [
        { name: "a", datacenter: "dc1", port: 80, namespace: "n1", partition: "p1", connect: { sidecarService: {} } },
        { name: "b", id: "b-1", datacenter: "dc1", port: 81, namespace: "n2", connect: { sidecarService: {} } },
      ],
    };
    const plan = planConsulMesh("m", { ...mesh, workloads: {} });
    expect(plan.services.map((s) => [s.resourceName, s.workload?.resourceName, s.workload?.key])).toEqual([
      ["m-service-dc1-p1-n1-a", "m-workload-dc1-p1-n1-a", "dc1/a"],
      ["m-service-dc1-n2-b-1", "m-workload-dc1-n2-b-1", "dc1/b-1"],
    ]);
    expect(plan.demoUrl).toBeUndefined();
  });

  test("config entries as declared, written in the primary", () => {
    const plan = planConsulMesh("m", {
      datacenters: [{ name: "dc1" }],
      proxyDefaults: { kind: "proxy-defaults", name: "global", meshGateway: { mode: "local" }, config: { x: 1 } },
      serviceDefaults: [{ kind: "service-defaults", name: "web", protocol: "http", meshGateway: { mode: "remote" } }],
    });
    expect(plan.proxyDefaults).toEqual({
      resourceName: "m-proxy-defaults",
      args: { name: "global", meshGateway: { mode: "local" }, config: { x: 1 } },
    });
    expect(plan.serviceDefaults).toEqual([
      {
        resourceName: "m-service-defaults-web",
        args: { service: "web", protocol: "http", meshGateway: { mode: "remote" } },
      },
    ]);
    expect(planConsulMesh("m", { datacenters: [{ name: "dc1" }] }).proxyDefaults).toBeUndefined();
  });

  test("no trust domain given: one to draw, pinning the servers; the routes name whichever trust domain they are given", () => {
    const { trustDomain: _, ...mesh } = defaultMesh();
    const plan = planConsulMesh("m", { ...mesh, routeSource: "file" });
    expect(plan.trustDomain).toBeUndefined();
    expect(plan.generatedTrustDomain).toBe("m-trust-domain");
    expect(plan.pinsServers).toBe(true);
    const drawn = "5fcd4b81-a2ca-405a-ac62-0fac602c1949.consul";
    const routes = plan.routesOf(drawn);
    expect(routes.routePlan).toEqual(planRoutes({ ...mesh, trustDomain: drawn }));
    expect(routes.routePlan.routes[0].sni).toBe(`api.default.dc2.internal.${drawn}`);
    expect(routes.routePlanText).toContain(`api.default.dc2.internal.${drawn}`);
    for (const dc of ["dc1", "dc2"])
      expect(routes.routesFiles[`${dc}/mesh-gateway`]).toEqual(
        renderGatewayRoutes({ ...mesh, trustDomain: drawn }, dc),
      );
    // What the plan decides beside the SNI names does not wait for the trust domain.
    expect(plan.routeSummary).toEqual(planConsulMesh("m", defaultMesh()).routeSummary);
    expect(plan.gateways.map((g) => g.args)).toEqual(
      planConsulMesh("m", { ...defaultMesh(), routeSource: "file" }).gateways.map((g) => g.args),
    );
  });
});
