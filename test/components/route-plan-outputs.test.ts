import { routeDiagramSvg, routePlanText, routeSummary } from "../../components/plans/route-plan-outputs";
import { DEFAULT_MAX_ROUTES, defaultMesh, formatRoutePlan, planRoutes, type Mesh } from "../../mesh";

describe("route plan outputs", () => {
  test("the table is the route plan's, its arrows in ASCII", () => {
    const plan = planRoutes(defaultMesh());
    const text = routePlanText(plan);
    expect(text).toBe(formatRoutePlan(plan).replace(/→/g, "->"));
    expect(text).toMatch(/^[\x20-\x7e\n]*$/);
  });

  test("one line per upstream: mode, deciding level and the gateways crossed, or direct", () => {
    expect(routeSummary(planRoutes(defaultMesh()))).toEqual([
      "web (dc1) -> api (dc2): remote (upstream) via mesh-gateway dc2",
      "web (dc1) -> db (dc2): local (upstream) via mesh-gateway dc1, mesh-gateway dc2",
      "web (dc1) -> logging (dc2): none (upstream) direct",
    ]);
    expect(routeSummary({ ...planRoutes(defaultMesh()), routes: [] })).toEqual([]);
  });

  test("a mesh with more routes than the diagram draws gets a picture of the reason", async () => {
    const many: Mesh = defaultMesh();
    const count = DEFAULT_MAX_ROUTES + 1;
    const upstream = (i: number) => ({ destinationName: "api", datacenter: "dc2", localBindPort: 20000 + i });
    many.services![0].connect!.sidecarService.proxy!.upstreams = Array.from({ length: count }, (_, i) => upstream(i));
    const svg = await routeDiagramSvg(many, planRoutes(many));
    expect(svg).toMatch(/^<\?xml/);
    expect(svg).toContain(`would draw ${count} routes`);
  });
});

describe("routeSummary with cluster peers", () => {
  test("an exported service our gateways refuse is a line of its own, at preview", () => {
    const mesh: Mesh = {
      datacenters: [{ name: "dc1" }],
      services: [{ name: "docs", datacenter: "dc1", port: 1, connect: { sidecarService: {} } }],
      serviceDefaults: [{ kind: "service-defaults", name: "docs", protocol: "grpc" }],
      peers: [{ name: "cluster-b", exports: ["docs"] }],
    };
    expect(routeSummary(planRoutes(mesh))).toEqual([
      "docs exported to peer cluster-b: grpc, refused by our gateway (a gateway must terminate mTLS for it; Consul's Envoy gateway does)",
    ]);
  });
});
