import { defaultMesh, renderGatewayRoutes } from "consul-mesh-gateway";
import { outputValue, runExample, type ExampleRun } from "./run-example";

describe("example: the default stack with a published gateway image and routes files", () => {
  let run: ExampleRun;
  beforeAll(async () => {
    run = await runExample("two-datacenters", {
      gatewayImage: "registry.example.com/sni-gateway:0.1.0",
      sidecarImage: "registry.example.com/consul-envoy:1.16.3",
      routeSource: "file",
    });
  });

  test("builds nothing and runs the published images", () => {
    expect(run.mocks.byType("docker:index/image:Image")).toHaveLength(0);
    // Pulled (or found locally) and run by its image ID, which Docker reports back unchanged.
    expect(run.mocks.get("gateway-image-remote").inputs).toMatchObject({
      name: "registry.example.com/sni-gateway:0.1.0",
      keepLocally: true,
    });
    expect(run.mocks.get("mesh-gateway-dc2-mesh-gateway-gateway-0").inputs.image).toBe(
      "sha256:mock-image-of-registry.example.com/sni-gateway:0.1.0",
    );
    expect(run.mocks.get("mesh-workload-dc2-api-sidecar").inputs.image).toBe(
      "registry.example.com/consul-envoy:1.16.3",
    );
    // The demo services run on the gateway image, which has Node.js.
    expect(run.mocks.get("mesh-workload-dc2-api-app").inputs.image).toBe(
      "sha256:mock-image-of-registry.example.com/sni-gateway:0.1.0",
    );
  });

  test("each gateway reads the routes file rendered from the default mesh", () => {
    for (const dc of ["dc1", "dc2"]) {
      const c = run.mocks.get(`mesh-gateway-${dc}-mesh-gateway-gateway-0`);
      expect(JSON.parse(c.inputs.uploads[0].content)).toEqual(renderGatewayRoutes(defaultMesh(), dc));
    }
  });

  test("the route plan text shows every path", async () => {
    const text = await outputValue<string>(run.outputs.routePlanText);
    expect(text).toContain("web (dc1) -> mesh-gateway dc2 WAN (mesh-gateway-dc2:8443) -> api (dc2)");
    expect(text).toContain("web (dc1) -> logging (dc2) direct");
  });
});
