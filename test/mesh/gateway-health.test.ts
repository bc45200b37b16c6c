import { gatewayHealthProblems, type GatewayHealthInput, type Mesh, type MeshGatewaySpec, type MeshService, type Mode } from "../../mesh";

type Health = "passing" | "warning" | "critical";

const PROXY_ORIGIN = "Consul primary: service web-sidecar-proxy (id web-sidecar-proxy, node primary-server)";

function webProxy(mode: Mode, datacenter = "secondary"): MeshService {
  return {
    name: "web-sidecar-proxy",
    kind: "connect-proxy",
    port: 21000,
    datacenter: "primary",
    proxy: { destinationServiceName: "web", meshGateway: { mode }, upstreams: [{ destinationName: "api", datacenter, localBindPort: 10000 }] },
  };
}

/** A live-looking input: `gateways` lists each gateway's datacenter and health. */
function input(service: MeshService, gateways: [string, Health | undefined][]): GatewayHealthInput {
  const specs: MeshGatewaySpec[] = gateways.map(([datacenter], i) => ({ datacenter, name: "mesh-gateway", port: 9000 + i }));
  const mesh: Mesh = { datacenters: [{ name: "primary" }, { name: "secondary" }], services: [service], gateways: specs };
  return {
    mesh,
    origins: {
      datacenters: ["Consul primary: datacenter", "Consul secondary: datacenter"],
      services: [PROXY_ORIGIN],
      gateways: gateways.map(([dc], i) => `Consul ${dc}: service mesh-gateway (id gw-${i}, node ${dc}-server)`),
      serviceDefaults: [],
    },
    gatewayHealth: gateways.map(([, health]) => health),
  };
}

describe("gatewayHealthProblems", () => {
  it("remote: every gateway of the destination critical names the proxy, the upstream and each gateway", () => {
    const problems = gatewayHealthProblems(input(webProxy("remote"), [["primary", "passing"], ["secondary", "critical"], ["secondary", "critical"]]));
    expect(problems).toEqual([
      {
        origin: PROXY_ORIGIN,
        field: "proxy.upstreams[0]",
        message:
          "upstream api (secondary) of web-sidecar-proxy goes through a mesh gateway of secondary (mode remote, decided by instance), " +
          "but every one is critical, so this traffic fails until one passes: " +
          "Consul secondary: service mesh-gateway (id gw-1, node secondary-server) is critical; " +
          "Consul secondary: service mesh-gateway (id gw-2, node secondary-server) is critical",
      },
    ]);
  });

  it.each<[string, Health | undefined]>([
    ["passing", "passing"],
    ["warning", "warning"],
    ["of unknown health (declared in a file)", undefined],
  ])("remote: one %s gateway of the destination carries the traffic", (_label, health) => {
    expect(gatewayHealthProblems(input(webProxy("remote"), [["secondary", "critical"], ["secondary", health]]))).toEqual([]);
  });

  it("remote: a destination without gateways", () => {
    const problems = gatewayHealthProblems(input(webProxy("remote"), [["primary", "passing"]]));
    expect(problems).toEqual([
      expect.objectContaining({ origin: PROXY_ORIGIN, field: "proxy.upstreams[0]", message: expect.stringContaining("no mesh gateway is registered in secondary") }),
    ]);
  });

  it("local: the source datacenter's gateways are needed first, then the destination's", () => {
    const localOnly = gatewayHealthProblems(input(webProxy("local"), [["primary", "critical"], ["secondary", "passing"]]));
    expect(localOnly.map((p) => p.message)).toEqual([
      expect.stringMatching(/^upstream api \(secondary\) of web-sidecar-proxy goes through its own datacenter's mesh gateway in primary \(mode local, decided by instance\), but every one is critical.*gw-0, node primary-server\) is critical$/),
    ]);
    const both = gatewayHealthProblems(input(webProxy("local"), [["primary", "critical"]]));
    expect(both.map((p) => p.message)).toEqual([expect.stringContaining("gateway in primary"), expect.stringContaining("no mesh gateway is registered in secondary")]);
  });

  it.each<[string, MeshService]>([
    ["mode none", webProxy("none")],
    ["an upstream in the same datacenter", webProxy("remote", "primary")],
  ])("%s never uses a gateway", (_label, service) => {
    expect(gatewayHealthProblems(input(service, [["primary", "critical"], ["secondary", "critical"]]))).toEqual([]);
  });

  it("a sidecar's upstream is named by its field in the service", () => {
    const web: MeshService = {
      name: "web",
      port: 8080,
      datacenter: "primary",
      connect: { sidecarService: { proxy: { meshGateway: { mode: "remote" }, upstreams: [{ destinationName: "api", datacenter: "secondary", localBindPort: 10000 }] } } },
    };
    expect(gatewayHealthProblems(input(web, [["secondary", "critical"]]))).toEqual([
      expect.objectContaining({ origin: PROXY_ORIGIN, field: "connect.sidecarService.proxy.upstreams[0]" }),
    ]);
  });

  it("judges the routes of the plan given", () => {
    const given = input(webProxy("remote"), [["secondary", "critical"]]);
    expect(gatewayHealthProblems(given)).toHaveLength(1);
    expect(gatewayHealthProblems(given, { trustDomain: "x.consul", routes: [] })).toEqual([]);
  });
});
