import { DEFAULT_TRUST_DOMAIN, defaultMesh, renderGatewayRoutes } from "consul-mesh-gateway";
import { outputValue, runExample, type ExampleRun } from "./run-example";

describe("example: the default stack with a published gateway image and routes files", () => {
  let run: ExampleRun;
  beforeAll(async () => {
    run = await runExample("two-datacenters", {
      gatewayImage: "registry.example.com/sni-gateway:0.1.0",
      sidecarImage: "registry.example.com/consul-envoy:1.16.3",
      routeSource: "file",
      // As a stack deployed before trust domains were drawn keeps its own.
      trustDomain: DEFAULT_TRUST_DOMAIN,
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

  test("each gateway reads the routes file rendered from the default mesh, in the trust domain pinned", async () => {
    for (const dc of ["dc1", "dc2"]) {
      const c = run.mocks.get(`mesh-gateway-${dc}-mesh-gateway-gateway-0`);
      expect(JSON.parse(c.inputs.uploads[0].content)).toEqual(renderGatewayRoutes(defaultMesh(), dc));
    }
    expect(run.mocks.byType("pulumi-nodejs:dynamic:GeneratedTrustDomain")).toEqual([]);
    expect(await outputValue<string>(run.outputs.trustDomain)).toBe(DEFAULT_TRUST_DOMAIN);
  });

  test("the route plan text shows every path", async () => {
    const text = await outputValue<string>(run.outputs.routePlanText);
    expect(text).toContain("web (dc1) -> mesh-gateway dc2 WAN (mesh-gateway-dc2:8443) -> api (dc2)");
    expect(text).toContain("web (dc1) -> logging (dc2) direct");
  });
});
