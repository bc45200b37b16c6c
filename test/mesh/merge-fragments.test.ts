import {
  emptyOrigins,
  locateProblem,
  mergeFragments,
  topologyFragment,
  validateMesh,
  type MeshFragment,
} from "../../mesh";

function fragment(mesh: MeshFragment["mesh"], origin: string, extra: Partial<MeshFragment> = {}): MeshFragment {
  const origins = emptyOrigins();
  mesh.datacenters.forEach(() => origins.datacenters.push(`${origin}: datacenter`));
  (mesh.services ?? []).forEach((s) => origins.services.push(`${origin}: service ${s.name}`));
  (mesh.gateways ?? []).forEach(() => origins.gateways.push(`${origin}: mesh-gateway`));
  (mesh.serviceDefaults ?? []).forEach((e) => origins.serviceDefaults.push(`${origin}: service-defaults ${e.name}`));
  if (mesh.proxyDefaults) origins.proxyDefaults = `${origin}: proxy-defaults`;
  origins.mesh = origin;
  return { mesh, origins, ...extra };
}

describe("mergeFragments", () => {
  it("merges datacenters by name, concatenates the rest and keeps every origin index for index", () => {
    const topology = fragment(
      { datacenters: [{ name: "dc1" }, { name: "dc2" }], gateways: [{ datacenter: "dc2" }] },
      "mesh.yaml",
    );
    const files = fragment(
      {
        datacenters: [{ name: "dc1", ports: { grpc: 8502 } }],
        services: [{ name: "web", port: 1, datacenter: "dc1" }],
        gateways: [{ datacenter: "dc1" }],
      },
      "consul.d",
      { gatewayHealth: ["critical"] },
    );
    const merged = mergeFragments([topology, files]);
    expect(merged.problems).toEqual([]);
    expect(merged.mesh.datacenters).toEqual([{ name: "dc1", ports: { grpc: 8502 } }, { name: "dc2" }]);
    expect(merged.mesh.gateways).toEqual([{ datacenter: "dc2" }, { datacenter: "dc1" }]);
    expect(merged.origins.gateways).toEqual(["mesh.yaml: mesh-gateway", "consul.d: mesh-gateway"]);
    expect(merged.gatewayHealth).toEqual([undefined, "critical"]);
    expect(merged.origins.services).toEqual(["consul.d: service web"]);
  });

  it("reports disagreements naming both sources instead of choosing silently", () => {
    const a = fragment({ datacenters: [{ name: "dc1", ports: { grpc: 8502 } }], trustDomain: "a.consul" }, "a.yaml");
    const b = fragment(
      {
        datacenters: [{ name: "dc1", ports: { grpc: -1 } }],
        trustDomain: "b.consul",
        proxyDefaults: { kind: "proxy-defaults", name: "global", meshGateway: { mode: "local" } },
      },
      "b.yaml",
    );
    const c = fragment(
      { datacenters: [], proxyDefaults: { kind: "proxy-defaults", name: "global", meshGateway: { mode: "remote" } } },
      "c.yaml",
    );
    const { problems, mesh } = mergeFragments([a, b, c]);
    expect(problems).toEqual([
      {
        origin: "b.yaml",
        field: "trustDomain",
        message: expect.stringContaining('"b.consul" differs from "a.consul" (a.yaml)'),
      },
      { origin: "b.yaml: datacenter", field: "ports", message: expect.stringContaining("(a.yaml: datacenter)") },
      { origin: "c.yaml: proxy-defaults", message: expect.stringContaining("the first is b.yaml: proxy-defaults") },
    ]);
    expect(mesh.trustDomain).toBe("a.consul");
    expect(mesh.proxyDefaults?.meshGateway?.mode).toBe("local");
  });
});

describe("locateProblem", () => {
  it("names the source object of a problem of the merged mesh, with the field inside it", () => {
    const topology = topologyFragment({ datacenters: [{ name: "dc1" }] }, "mesh.yaml");
    const files = fragment(
      {
        datacenters: [],
        services: [
          {
            name: "web",
            port: 1,
            datacenter: "dc1",
            proxy: { upstreams: [{ destinationName: "api", localBindPort: 0 }] },
          },
        ],
      },
      "web.hcl",
    );
    const merged = mergeFragments([topology, files]);
    const located = validateMesh(merged.mesh).map((p) => locateProblem(p, merged.origins));
    expect(located).toContainEqual({
      origin: "web.hcl: service web",
      field: "proxy.upstreams[0].localBindPort",
      message: expect.any(String),
    });
  });

  it("keeps mesh-level paths with the mesh's origin", () => {
    expect(
      locateProblem({ path: "primaryDatacenter", message: "m" }, { ...emptyOrigins(), mesh: "mesh.yaml" }),
    ).toEqual({
      origin: "mesh.yaml",
      field: "primaryDatacenter",
      message: "m",
    });
    expect(
      locateProblem(
        { path: "proxyDefaults.meshGateway.mode", message: "m" },
        { ...emptyOrigins(), proxyDefaults: "pd.hcl" },
      ),
    ).toEqual({
      origin: "pd.hcl",
      field: "meshGateway.mode",
      message: "m",
    });
  });
});
