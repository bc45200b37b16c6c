import type { RoutePlan } from "consul-mesh-gateway";
import { countByType, expectDrawnTrustDomain, outputValue, runExample, type ExampleRun } from "./run-example";

describe("example: gateways enabled globally (proxy-defaults local)", () => {
  let run: ExampleRun;
  beforeAll(async () => {
    // A published gateway image, as a user without this repository's build context would run it.
    run = await runExample("global-gateways", { gatewayImage: "consul-mesh/sni-gateway:latest" });
  });

  test("declares the federation, both datacenters, the entry, the gateways and the services", () => {
    expect(countByType(run.mocks)).toMatchObject({
      "consul-mesh:index:WanFederation": 1,
      "consul-mesh:index:Datacenter": 2,
      "consul-mesh:index:ProxyDefaults": 1,
      "consul-mesh:index:MeshGateway": 2,
      "consul-mesh:index:ConnectService": 2,
      "consul:index/configEntry:ConfigEntry": 1,
      "docker:index/container:Container": 4,
    });
    expect(run.mocks.get("gateway-dc2-gateway-0").inputs.image).toBe(
      "sha256:mock-image-of-consul-mesh/sni-gateway:latest",
    );
  });

  test("writes the seed's proxy-defaults entry to the primary datacenter", () => {
    const entry = run.mocks.get("global-entry");
    expect(entry.inputs).toEqual({
      kind: "proxy-defaults",
      name: "global",
      configJson: '{"TransparentProxy":{},"MeshGateway":{"Mode":"local"},"Expose":{},"AccessLogs":{}}',
    });
    expect(entry.options.provider.startsWith(run.mocks.get("dc1-provider").urn)).toBe(true);
  });

  test("web's sidecar carries no mode of its own: the entry decides", () => {
    const reg = run.mocks.get("service-web-registration").inputs.registration;
    expect(reg.Connect.SidecarService.Proxy).toEqual({
      Upstreams: [{ DestinationName: "api", Datacenter: "dc2", LocalBindPort: 10000 }],
    });
  });

  test("route plan: web → api goes through the local gateway, decided by proxy-defaults", async () => {
    const plan = await outputValue<RoutePlan>(run.outputs.routePlan);
    expect(plan.routes).toHaveLength(1);
    expect(plan.routes[0]).toMatchObject({ mode: "local", decidedBy: "proxy-defaults", usesGateway: true });
    expect(plan.routes[0].text).toBe("web (dc1) → mesh-gateway dc1 LAN → mesh-gateway dc2 WAN → api (dc2)");
    expect(await outputValue<string>(run.outputs.routePlanText)).toContain("proxy-defaults");
  });

  test("deploys a trust domain of its own, exported as trustDomain, which the route plan's SNI names carry", async () => {
    const trustDomain = await expectDrawnTrustDomain(run);
    const plan = await outputValue<RoutePlan>(run.outputs.routePlan);
    expect(plan.trustDomain).toBe(trustDomain);
    for (const route of plan.routes) expect(route.sni.endsWith(`.internal.${trustDomain}`)).toBe(true);
  });
});
