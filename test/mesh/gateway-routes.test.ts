import { defaultMesh, MeshValidationError, renderGatewayRoutes, type Mesh } from "../../mesh";

describe("renderGatewayRoutes", () => {
  it("renders dc2's gateway: its sidecars and dc1's gateway at the WAN address", () => {
    expect(renderGatewayRoutes(defaultMesh(), "dc2")).toEqual({
      datacenter: "dc2",
      trustDomain: defaultMesh().trustDomain,
      services: [
        { name: "api", namespace: "default", partition: "default", endpoints: [{ address: "api-dc2", port: 21000 }] },
        { name: "db", namespace: "default", partition: "default", endpoints: [{ address: "db-dc2", port: 21000 }] },
        {
          name: "logging",
          namespace: "default",
          partition: "default",
          endpoints: [{ address: "logging-dc2", port: 21000 }],
        },
      ],
      gateways: [{ datacenter: "dc1", partition: "default", endpoints: [{ address: "mesh-gateway-dc1", port: 8443 }] }],
    });
  });

  it("keys connect-proxy services by destinationServiceName, merges and sorts endpoints", () => {
    const m: Mesh = {
      datacenters: [{ name: "dc1" }, { name: "dc2" }, { name: "dc0" }],
      gateways: [
        { datacenter: "dc1", address: "10.0.0.1" },
        { datacenter: "dc2", address: "10.0.2.9", port: 9443 },
        {
          datacenter: "dc2",
          name: "gw-b",
          address: "10.0.2.1",
          taggedAddresses: { wan: { address: "203.0.113.5", port: 443 } },
        },
        { datacenter: "dc0", address: "10.0.0.0" },
      ],
      services: [
        {
          name: "web-proxy-b",
          kind: "connect-proxy",
          datacenter: "dc1",
          port: 21001,
          address: "10.0.1.2",
          proxy: { destinationServiceName: "web" },
        },
        {
          name: "web",
          datacenter: "dc1",
          port: 8080,
          address: "10.0.1.1",
          connect: { sidecarService: { port: 21000 } },
        },
        { name: "plain", datacenter: "dc1", port: 80, address: "10.0.1.3" },
        {
          name: "zeta",
          namespace: "ns",
          datacenter: "dc1",
          port: 80,
          address: "10.0.1.4",
          connect: { sidecarService: { port: 21000 } },
        },
        {
          name: "elsewhere",
          datacenter: "dc2",
          port: 80,
          address: "10.0.2.2",
          connect: { sidecarService: { port: 21000 } },
        },
      ],
    };
    const routes = renderGatewayRoutes(m, "dc1", { trustDomain: "td.consul" });
    expect(routes.trustDomain).toBe("td.consul");
    expect(routes.services).toEqual([
      {
        name: "web",
        namespace: "default",
        partition: "default",
        endpoints: [
          { address: "10.0.1.1", port: 21000 },
          { address: "10.0.1.2", port: 21001 },
        ],
      },
      { name: "zeta", namespace: "ns", partition: "default", endpoints: [{ address: "10.0.1.4", port: 21000 }] },
    ]);
    expect(routes.gateways).toEqual([
      { datacenter: "dc0", partition: "default", endpoints: [{ address: "10.0.0.0", port: 8443 }] },
      {
        datacenter: "dc2",
        partition: "default",
        endpoints: [
          { address: "10.0.2.9", port: 9443 },
          { address: "203.0.113.5", port: 443 },
        ],
      },
    ]);
  });

  it("is deterministic whatever the declaration order", () => {
    const a = defaultMesh();
    const b = defaultMesh();
    b.services!.reverse();
    b.gateways!.reverse();
    expect(JSON.stringify(renderGatewayRoutes(a, "dc2"))).toBe(JSON.stringify(renderGatewayRoutes(b, "dc2")));
  });

  it("lets the caller map endpoints to reachable addresses (e.g. container names)", () => {
    const seen: string[] = [];
    const routes = renderGatewayRoutes(defaultMesh(), "dc1", {
      resolveAddress: (target) => {
        seen.push(
          target.kind === "service" ? `service:${target.service.name}` : `gateway:${target.gateway.datacenter}`,
        );
        if (target.kind === "gateway") return { address: `consul-mesh-gw-${target.gateway.datacenter}`, port: 9443 };
        return undefined; // keep the model's endpoint
      },
    });
    expect(seen).toEqual(["service:web", "gateway:dc2"]);
    expect(routes.services).toEqual([
      { name: "web", namespace: "default", partition: "default", endpoints: [{ address: "web-dc1", port: 21000 }] },
    ]);
    expect(routes.gateways).toEqual([
      { datacenter: "dc2", partition: "default", endpoints: [{ address: "consul-mesh-gw-dc2", port: 9443 }] },
    ]);
  });

  it("names every endpoint without an address or port, all at once", () => {
    const m = defaultMesh();
    delete m.services![1].address;
    delete m.services![2].connect!.sidecarService.port;
    delete m.gateways![0].taggedAddresses;
    delete m.gateways![0].address;
    let error: unknown;
    try {
      renderGatewayRoutes(m, "dc2");
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(MeshValidationError);
    expect((error as MeshValidationError).problems.map((p) => p.path)).toEqual([
      "services[1].address",
      "services[2].connect.sidecarService.port",
      "gateways[0].address",
    ]);
  });

  it("refuses an unknown datacenter", () => {
    expect(() => renderGatewayRoutes(defaultMesh(), "dc9")).toThrow(/datacenter: datacenter "dc9" is not declared/);
  });
});
