import { ConsulMesh } from "../../components/consul-mesh";
import { DEFAULT_MAX_ROUTES, defaultMesh, planRoutes, routeDiagramDot, type Mesh } from "../../mesh";
import { renderDiagramSvg } from "../../mesh/diagram/diagram-svg";
import { recordOutputs, setupMocks, valueOf, type MockHarness } from "../support/pulumi-mocks";

describe("ConsulMesh route diagram (Pulumi mocks)", () => {
  let mocks: MockHarness;
  beforeEach(async () => {
    mocks = await setupMocks();
  });

  test("routeDiagramSvg is the SVG of the route plan's diagram, registered as an output", async () => {
    const outputs = recordOutputs();
    const mesh = new ConsulMesh("mesh", defaultMesh());
    await mocks.settle();
    const expected = await renderDiagramSvg(routeDiagramDot(defaultMesh(), planRoutes(defaultMesh())));
    expect(await valueOf(mesh.routeDiagramSvg)).toBe(expected);
    expect(expected).toContain("> mesh&#45;gateway&#45;dc1:8443</text>");
    expect(outputs.get(mocks.get("mesh", "consul-mesh:index:ConsulMesh").urn)?.routeDiagramSvg).toBe(expected);
  });

  test("a mesh with more routes than the diagram draws gets a picture of the reason, not a failure", async () => {
    const many: Mesh = defaultMesh();
    const count = DEFAULT_MAX_ROUTES + 1;
    const upstream = (i: number) => ({ destinationName: "api", datacenter: "dc2", localBindPort: 20000 + i });
    many.services![0].connect!.sidecarService.proxy!.upstreams = Array.from({ length: count }, (_, i) => upstream(i));
    const mesh = new ConsulMesh("mesh", many);
    await mocks.settle();
    const svg = await valueOf(mesh.routeDiagramSvg);
    expect(svg).toMatch(/^<\?xml/);
    expect(svg).toContain(`would draw ${count} routes`);
    expect(svg).toContain("&#45;&#45;service web");
  });
});
