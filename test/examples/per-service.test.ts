import type { RoutePlan } from "consul-mesh-gateway";
import { countByType, expectDrawnTrustDomain, outputValue, runExample, type ExampleRun } from "./run-example";

describe("example: gateways enabled per service (service-defaults web local)", () => {
  let run: ExampleRun;
  beforeAll(async () => {
    // A published gateway image, as a user without this repository's build context would run it.
    run = await runExample("per-service", { gatewayImage: "consul-mesh/sni-gateway:latest" });
  });

  test("declares one ConsulMesh with the service-defaults entry and three services", () => {
    expect(countByType(run.mocks)).toMatchObject({
      "consul-mesh:index:ConsulMesh": 1,
      "consul-mesh:index:ServiceDefaults": 1,
      "consul-mesh:index:ConnectService": 3,
      "consul-mesh:index:MeshGateway": 2,
      "consul:index/configEntry:ConfigEntry": 1,
    });
    expect(run.mocks.byType("consul-mesh:index:ProxyDefaults")).toHaveLength(0);
  });

  test("gateways run the gateway image by its ID (a name would differ from what Docker reports back)", () => {
    expect(run.mocks.get("gateway-image-remote").inputs).toMatchObject({
      name: "consul-mesh/sni-gateway:latest",
      keepLocally: true,
    });
    for (const dc of ["dc1", "dc2"]) {
      expect(run.mocks.get(`mesh-gateway-${dc}-mesh-gateway-gateway-0`).inputs.image).toBe(
        "sha256:mock-image-of-consul-mesh/sni-gateway:latest",
      );
    }
  });

  test("writes the seed's service-defaults entry for web", () => {
    const entry = run.mocks.get("mesh-service-defaults-web-entry");
    expect(entry.inputs).toEqual({
      kind: "service-defaults",
      name: "web",
      configJson: '{"TransparentProxy":{},"MeshGateway":{"Mode":"local"},"Expose":{}}',
    });
    expect(entry.options.provider.startsWith(run.mocks.get("mesh-dc1-provider").urn)).toBe(true);
  });

  test("route plan: web uses the local gateway by service-defaults; admin, without defaults, dials directly", async () => {
    const plan = await outputValue<RoutePlan>(run.outputs.routePlan);
    const bySource = Object.fromEntries(plan.routes.map((r) => [r.source.service, r]));
    expect(bySource.web).toMatchObject({ mode: "local", decidedBy: "service-defaults", usesGateway: true });
    expect(bySource.web.text).toBe("web (dc1) → mesh-gateway dc1 LAN → mesh-gateway dc2 WAN → api (dc2)");
    expect(bySource.admin).toMatchObject({ mode: "none", decidedBy: "default", usesGateway: false });
    expect(bySource.admin.text).toBe("admin (dc1) → api (dc2) direct");
  });

  test("deploys a trust domain of its own, exported as trustDomain, which the route plan's SNI names carry", async () => {
    const trustDomain = await expectDrawnTrustDomain(run);
    const plan = await outputValue<RoutePlan>(run.outputs.routePlan);
    expect(plan.trustDomain).toBe(trustDomain);
    for (const route of plan.routes) expect(route.sni.endsWith(`.internal.${trustDomain}`)).toBe(true);
  });
});
