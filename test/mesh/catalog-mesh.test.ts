import {
  catalogMeshFragment,
  planRoutes,
  type CatalogNodeJson,
  type CatalogServiceJson,
  type ConsulCatalogAnswers,
  type HealthCheckJson,
  type HealthEntryJson,
} from "../../mesh";

// Shaped as Consul 1.16.3 answers `GET /v1/health/service/:name?dc=` (captured from the real agent), less indexes.
const NODE = {
  ID: "0b147783-024b-8732-ecfd-ac43d71aa6c2",
  Node: "primary-server",
  Address: "127.39.1.1",
  Datacenter: "primary",
  TaggedAddresses: { lan: "127.39.1.1", lan_ipv4: "127.39.1.1", wan: "127.39.1.1", wan_ipv4: "127.39.1.1" },
  Meta: { "consul-network-segment": "", "consul-version": "1.16.3" },
} as CatalogNodeJson;
const SERF: HealthCheckJson = { CheckID: "serfHealth", Name: "Serf Health Status", Status: "passing", ServiceID: "" };

function entry(
  service: Partial<CatalogServiceJson> & { Service: string },
  checks: HealthCheckJson[] = [SERF],
  node = NODE,
): HealthEntryJson {
  return {
    Node: node,
    Service: {
      ID: service.Service,
      Tags: [],
      Address: "",
      Meta: null,
      Port: 8181,
      Weights: { Passing: 1, Warning: 1 },
      EnableTagOverride: false,
      Proxy: { Mode: "", MeshGateway: {}, Expose: {} },
      Connect: {},
      PeerName: "",
      ...service,
    } as CatalogServiceJson,
    Checks: checks,
  };
}

/** A connect proxy as the catalog shows it: `Datacenter: ""` for a same-datacenter upstream. */
function proxy(
  mode: string,
  upstreams: { name: string; dc?: string; mode?: string }[],
  id = "web-sidecar-proxy",
): HealthEntryJson {
  return entry({
    Kind: "connect-proxy",
    ID: id,
    Service: "web-sidecar-proxy",
    TaggedAddresses: { "consul-virtual": { Address: "240.0.0.1", Port: 8181 } },
    Proxy: {
      DestinationServiceName: "web",
      Mode: "",
      MeshGateway: mode ? { Mode: mode } : {},
      Expose: {},
      Upstreams: upstreams.map((u, k) => ({
        DestinationType: "service",
        DestinationName: u.name,
        Datacenter: u.dc ?? "",
        LocalBindPort: 10000 + k,
        MeshGateway: u.mode ? { Mode: u.mode } : {},
      })),
    } as CatalogServiceJson["Proxy"],
  });
}

/** Answers with `entries` as the catalog of `datacenter`. */
function answers(entries: HealthEntryJson[][], more: Partial<ConsulCatalogAnswers> = {}, datacenter = "primary") {
  const perDatacenter = [{ datacenter, healthEntries: entries }];
  const read: ConsulCatalogAnswers = { datacenters: ["primary", "secondary"], perDatacenter };
  return { ...read, ...more };
}

/** The fields of a route the live plan must get right. */
function decisions(a: ConsulCatalogAnswers) {
  const { routes } = planRoutes(catalogMeshFragment(a).mesh);
  return routes.map((r) => `${r.destination.name}@${r.destination.datacenter}: ${r.mode} by ${r.decidedBy}`);
}

const PROXY_DEFAULTS_LOCAL = { Kind: "proxy-defaults", Name: "global", Config: null, MeshGateway: { Mode: "local" } };
const WEB_DEFAULTS_REMOTE = { Kind: "service-defaults", Name: "web", MeshGateway: { Mode: "remote" } };

describe("catalogMeshFragment", () => {
  it("lists every datacenter, the primary and the trust domain, each with its origin", () => {
    const trustDomain = "d9e845bb-a70b-a03f-1d3d-08611841a86d.consul";
    const fragment = catalogMeshFragment(answers([], { primaryDatacenter: "primary", trustDomain }));
    expect(fragment.mesh).toEqual({
      primaryDatacenter: "primary",
      trustDomain,
      datacenters: [{ name: "primary" }, { name: "secondary" }],
      services: [],
      gateways: [],
      serviceDefaults: [],
    });
    expect(fragment.origins.datacenters).toEqual(["Consul primary: datacenter", "Consul secondary: datacenter"]);
    expect(fragment.origins.mesh).toBe("Consul: agent configuration and Connect CA roots");
    expect(fragment.problems).toEqual([]);
  });

  it("an agent federating through the mesh gateways: the mesh says so, and its route plan has the servers' paths", () => {
    const fragment = catalogMeshFragment(answers([], { primaryDatacenter: "primary", throughGateways: true }));
    expect(fragment.mesh.wanFederation).toEqual({ mode: "mesh-gateways" });
    expect(catalogMeshFragment(answers([], { primaryDatacenter: "primary" })).mesh.wanFederation).toBeUndefined();
    expect(planRoutes(fragment.mesh).servers?.map((p) => `${p.from}>${p.to}`)).toEqual([
      "primary>secondary",
      "secondary>primary",
    ]);
  });

  it("maps a sidecar to a connect-proxy service and keeps the service it fronts, not Consul's own", () => {
    const web = entry({ Service: "web" });
    const consul = entry({ Service: "consul", Port: 8300 });
    const sidecar = proxy("remote", [{ name: "api", dc: "secondary", mode: "remote" }, { name: "db" }]);
    const fragment = catalogMeshFragment(answers([[consul], [web], [sidecar]]));
    expect(fragment.mesh.services).toEqual([
      { name: "web", port: 8181, datacenter: "primary", node: "primary-server" },
      {
        name: "web-sidecar-proxy",
        kind: "connect-proxy",
        port: 8181,
        proxy: {
          destinationServiceName: "web",
          meshGateway: { mode: "remote" },
          upstreams: [
            { destinationName: "api", datacenter: "secondary", localBindPort: 10000 },
            { destinationName: "db", localBindPort: 10001 },
          ],
        },
        datacenter: "primary",
        node: "primary-server",
      },
    ]);
    expect(fragment.origins.services).toEqual([
      "Consul primary: service web (id web, node primary-server)",
      "Consul primary: service web-sidecar-proxy (id web-sidecar-proxy, node primary-server)",
    ]);
  });

  it("keeps an instance ID that differs from the name, and a Connect-native service", () => {
    const native = entry({ Service: "billing", ID: "billing-1", Connect: { Native: true } });
    const fragment = catalogMeshFragment(answers([[native], [proxy("", [], "web-proxy-2")]]));
    expect(fragment.mesh.services!.map((s) => [s.name, s.id])).toEqual([
      ["billing", "billing-1"],
      ["web-sidecar-proxy", "web-proxy-2"],
    ]);
  });

  describe("names the level that decided, although the agent merged the modes into the registration", () => {
    it("proxy-defaults: the instance and its upstreams show its mode", () => {
      const merged = proxy("local", [{ name: "api", dc: "secondary", mode: "local" }]);
      const a = answers([[merged]], { proxyDefaults: PROXY_DEFAULTS_LOCAL });
      expect(decisions(a)).toEqual(["api@secondary: local by proxy-defaults"]);
    });

    it("service-defaults of the downstream service, over proxy-defaults", () => {
      const merged = proxy("remote", [{ name: "api", dc: "secondary", mode: "remote" }]);
      const a = answers([[merged]], { proxyDefaults: PROXY_DEFAULTS_LOCAL, serviceDefaults: [WEB_DEFAULTS_REMOTE] });
      expect(decisions(a)).toEqual(["api@secondary: remote by service-defaults"]);
    });

    it("the instance, when it sets another mode than the entries; its upstreams inherit it", () => {
      const merged = proxy("remote", [{ name: "api", dc: "secondary", mode: "remote" }]);
      const a = answers([[merged]], { proxyDefaults: PROXY_DEFAULTS_LOCAL });
      expect(decisions(a)).toEqual(["api@secondary: remote by instance"]);
    });

    it("the upstream, when it sets another mode than the instance", () => {
      const merged = proxy("local", [
        { name: "api", dc: "secondary", mode: "remote" },
        { name: "db", dc: "secondary", mode: "local" },
        { name: "logging", dc: "secondary", mode: "none" },
      ]);
      expect(decisions(answers([[merged]], { proxyDefaults: PROXY_DEFAULTS_LOCAL }))).toEqual([
        "api@secondary: remote by upstream",
        "db@secondary: local by proxy-defaults",
        "logging@secondary: none by upstream",
      ]);
    });

    it("no level: none by default", () => {
      const a = answers([[proxy("", [{ name: "api", dc: "secondary" }])]]);
      expect(decisions(a)).toEqual(["api@secondary: none by default"]);
    });
  });

  it("leaves out prepared-query and peered upstreams with a problem each, naming the Consul field", () => {
    const sidecar = proxy("", [{ name: "api", dc: "secondary" }]);
    sidecar.Service.Proxy!.Upstreams!.unshift(
      { DestinationType: "prepared_query", DestinationName: "api-failover", Datacenter: "", LocalBindPort: 10007 },
      { DestinationType: "service", DestinationName: "billing", DestinationPeer: "partner", LocalBindPort: 10008 },
    );
    const fragment = catalogMeshFragment(answers([[sidecar]]));
    expect(fragment.mesh.services![0].proxy!.upstreams!.map((u) => u.destinationName)).toEqual(["api"]);
    const origin = "Consul primary: service web-sidecar-proxy (id web-sidecar-proxy, node primary-server)";
    expect(fragment.problems).toEqual([
      {
        origin,
        field: "Proxy.Upstreams[0]",
        message: expect.stringMatching(/^upstream prepared_query "api-failover" is not planned: only service/),
      },
      {
        origin,
        field: "Proxy.Upstreams[1]",
        message: expect.stringMatching(/^upstream "billing" of cluster peer "partner" is not planned: peering/),
      },
    ]);
  });

  describe("mesh gateways", () => {
    const SECONDARY_NODE = { ...NODE, Node: "secondary-server", Address: "127.39.2.1" };
    SECONDARY_NODE.TaggedAddresses = { lan: "127.39.2.1", wan: "203.0.113.2" };
    type Tagged = CatalogServiceJson["TaggedAddresses"];
    function gateway(id: string, checks: HealthCheckJson[], tagged: Tagged, address = "127.39.2.1") {
      const service = { Kind: "mesh-gateway", ID: id, Service: "mesh-gateway", Address: address, Port: 9000 };
      return entry({ ...service, TaggedAddresses: tagged }, checks, SECONDARY_NODE);
    }
    const ttl = (status: string): HealthCheckJson => ({ CheckID: "service:gw", Name: "ttl", Status: status });

    it("take their LAN and WAN addresses from TaggedAddresses, else as Consul dials them", () => {
      const tagged = gateway("gw-1", [SERF], {
        lan: { Address: "127.39.2.1", Port: 9000 },
        lan_ipv4: { Address: "127.39.2.1", Port: 9000 },
        wan: { Address: "127.39.2.1", Port: 9001 },
        // Consul adds wan_ipv4 with the service port, whatever the wan port: not used.
        wan_ipv4: { Address: "127.39.2.1", Port: 9000 },
      });
      const untagged = gateway("gw-2", [SERF], null, "");
      const fragment = catalogMeshFragment(answers([[tagged, untagged]], {}, "secondary"));
      expect(fragment.mesh.gateways).toEqual([
        {
          datacenter: "secondary",
          name: "mesh-gateway",
          id: "gw-1",
          node: "secondary-server",
          port: 9000,
          address: "127.39.2.1",
          taggedAddresses: { lan: { address: "127.39.2.1", port: 9000 }, wan: { address: "127.39.2.1", port: 9001 } },
        },
        {
          datacenter: "secondary",
          name: "mesh-gateway",
          id: "gw-2",
          node: "secondary-server",
          port: 9000,
          address: "127.39.2.1",
          taggedAddresses: { lan: { address: "127.39.2.1", port: 9000 }, wan: { address: "203.0.113.2", port: 9000 } },
        },
      ]);
      expect(fragment.origins.gateways).toEqual([
        "Consul secondary: service mesh-gateway (id gw-1, node secondary-server)",
        "Consul secondary: service mesh-gateway (id gw-2, node secondary-server)",
      ]);
    });

    it("have the worst status of their node's and their own checks, index for index", () => {
      const criticalNode = { ...SERF, Status: "critical" };
      const checks = [
        [SERF, ttl("passing")],
        [SERF, ttl("warning")],
        [criticalNode, ttl("passing")],
        [SERF, ttl("maintenance")],
        [],
      ];
      const gateways = checks.map((list, i) => gateway(`gw-${i}`, list, null));
      const fragment = catalogMeshFragment(answers([gateways], {}, "secondary"));
      expect(fragment.gatewayHealth).toEqual(["passing", "warning", "critical", "critical", "passing"]);
    });
  });

  it("reads proxy-defaults and service-defaults, Consul's empty values left out", () => {
    const fragment = catalogMeshFragment(
      answers([], {
        proxyDefaults: { ...PROXY_DEFAULTS_LOCAL, Config: { protocol: "tcp" } },
        serviceDefaults: [
          WEB_DEFAULTS_REMOTE,
          { Kind: "service-defaults", Name: "api", Protocol: "http", MeshGateway: {} },
        ],
      }),
    );
    expect(fragment.mesh.proxyDefaults).toEqual({
      kind: "proxy-defaults",
      name: "global",
      meshGateway: { mode: "local" },
      config: { protocol: "tcp" },
    });
    expect(fragment.mesh.serviceDefaults).toEqual([
      { kind: "service-defaults", name: "web", meshGateway: { mode: "remote" } },
      { kind: "service-defaults", name: "api", protocol: "http" },
    ]);
    expect(fragment.origins).toMatchObject({
      proxyDefaults: "Consul: proxy-defaults global",
      serviceDefaults: ["Consul: service-defaults web", "Consul: service-defaults api"],
    });
    const withoutConfig = catalogMeshFragment(answers([], { proxyDefaults: PROXY_DEFAULTS_LOCAL }));
    expect(withoutConfig.mesh.proxyDefaults).not.toHaveProperty("config");
  });
});
