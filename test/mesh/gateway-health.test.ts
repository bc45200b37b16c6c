import {
  gatewayHealthProblems,
  type GatewayHealthInput,
  type Mesh,
  type MeshGatewaySpec,
  type MeshService,
  type Mode,
  validateMesh,
} from "../../mesh";

type Health = "passing" | "warning" | "critical";

const PROXY_ORIGIN = "Consul primary: service web-sidecar-proxy (id web-sidecar-proxy, node primary-server)";
const API_UPSTREAMS = (datacenter: string) => [{ destinationName: "api", datacenter, localBindPort: 10000 }];

function webProxy(mode: Mode, datacenter = "secondary"): MeshService {
  return {
    name: "web-sidecar-proxy",
    kind: "connect-proxy",
    port: 21000,
    datacenter: "primary",
    proxy: { destinationServiceName: "web", meshGateway: { mode }, upstreams: API_UPSTREAMS(datacenter) },
  };
}

/** A live-looking input: `gateways` lists each gateway's datacenter and health. */
function input(service: MeshService, gateways: [string, Health | undefined][]): GatewayHealthInput {
  const specs: MeshGatewaySpec[] = gateways.map(([datacenter], i) => ({ datacenter, port: 9000 + i }));
  const datacenters = [{ name: "primary" }, { name: "secondary" }];
  const mesh: Mesh = { datacenters, services: [service], gateways: specs };
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
    const gateways: [string, Health][] = [
      ["primary", "passing"],
      ["secondary", "critical"],
      ["secondary", "critical"],
    ];
    expect(gatewayHealthProblems(input(webProxy("remote"), gateways))).toEqual([
      {
        origin: PROXY_ORIGIN,
        field: "proxy.upstreams[0]",
        message:
          "upstream api (secondary) of web-sidecar-proxy goes through a mesh gateway of secondary " +
          "(mode remote, decided by instance), but every one is critical, so this traffic fails until one passes: " +
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
    const gateways: [string, Health | undefined][] = [
      ["secondary", "critical"],
      ["secondary", health],
    ];
    expect(gatewayHealthProblems(input(webProxy("remote"), gateways))).toEqual([]);
  });

  it("remote: a destination without gateways is validateMesh's to report, once", () => {
    const { mesh } = input(webProxy("remote"), [["primary", "passing"]]);
    expect(gatewayHealthProblems(input(webProxy("remote"), [["primary", "passing"]]))).toEqual([]);
    expect(validateMesh(mesh).map((p) => p.message)).toContainEqual(expect.stringContaining("which has none"));
  });

  it("local: the source datacenter's gateways are needed first, then the destination's", () => {
    const gateways: [string, Health][] = [
      ["primary", "critical"],
      ["secondary", "passing"],
    ];
    const localOnly = gatewayHealthProblems(input(webProxy("local"), gateways));
    expect(localOnly.map((p) => p.message)).toEqual([
      "upstream api (secondary) of web-sidecar-proxy goes through its own datacenter's mesh gateway in primary " +
        "(mode local, decided by instance), but every one is critical, so this traffic fails until one passes: " +
        "Consul primary: service mesh-gateway (id gw-0, node primary-server) is critical",
    ]);
    const both = gatewayHealthProblems(
      input(webProxy("local"), [
        ["primary", "critical"],
        ["secondary", "critical"],
      ]),
    );
    expect(both.map((p) => p.message)).toEqual([
      expect.stringContaining("mesh gateway in primary (mode local"),
      expect.stringContaining("a mesh gateway of secondary (mode local"),
    ]);
  });

  it.each<[string, MeshService]>([
    ["mode none", webProxy("none")],
    ["an upstream in the same datacenter", webProxy("remote", "primary")],
  ])("%s never uses a gateway", (_label, service) => {
    expect(
      gatewayHealthProblems(
        input(service, [
          ["primary", "critical"],
          ["secondary", "critical"],
        ]),
      ),
    ).toEqual([]);
  });

  it("a sidecar's upstream is named by its field in the service", () => {
    const web: MeshService = {
      name: "web",
      port: 8080,
      datacenter: "primary",
      connect: {
        sidecarService: { proxy: { meshGateway: { mode: "remote" }, upstreams: API_UPSTREAMS("secondary") } },
      },
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
