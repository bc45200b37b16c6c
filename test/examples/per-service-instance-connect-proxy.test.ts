import type { RoutePlan } from "consul-mesh-gateway";
import { countByType, expectDrawnTrustDomain, outputValue, runExample, type ExampleRun } from "./run-example";

describe("example: gateways per service instance, connect-proxy form (remote)", () => {
  let run: ExampleRun;
  beforeAll(async () => {
    // A published gateway image, as a user without this repository's build context would run it.
    run = await runExample("per-service-instance-connect-proxy", { gatewayImage: "consul-mesh/sni-gateway:latest" });
  });

  test("declares datacenters primary and secondary with a gateway each, and no config entry", () => {
    expect(countByType(run.mocks)).toMatchObject({
      "consul-mesh:index:Datacenter": 2,
      "consul-mesh:index:MeshGateway": 2,
      "consul-mesh:index:ConnectService": 2,
    });
    expect(run.mocks.byType("consul:index/configEntry:ConfigEntry")).toHaveLength(0);
    expect(run.mocks.get("mesh-primary-server-0").inputs.name).toBe("consul-mesh-primary-server-0");
  });

  test("registers the seed's proxy with the primary datacenter's agent, exactly", () => {
    const reg = run.mocks.get("mesh-service-primary-web-sidecar-proxy-registration");
    expect(reg.inputs.address).toBe("https://127.0.0.1:8500");
    expect(reg.inputs.registration).toEqual({
      Name: "web-sidecar-proxy",
      Kind: "connect-proxy",
      Port: 8181,
      Address: "web-primary",
      Proxy: {
        DestinationServiceName: "web",
        MeshGateway: { Mode: "remote" },
        Upstreams: [{ DestinationName: "api", Datacenter: "secondary", LocalBindPort: 10000 }],
      },
    });
  });

  test("route plan: web → api through secondary's gateway, decided by the instance", async () => {
    const plan = await outputValue<RoutePlan>(run.outputs.routePlan);
    expect(plan.routes).toHaveLength(1);
    expect(plan.routes[0]).toMatchObject({
      mode: "remote",
      decidedBy: "instance",
      usesGateway: true,
      source: { service: "web", proxy: "web-sidecar-proxy" },
    });
    expect(plan.routes[0].text).toBe("web (primary) → mesh-gateway secondary WAN → api (secondary)");
    expect(plan.routes[0].sni).toBe(`api.default.secondary.internal.${plan.trustDomain}`);
  });

  test("deploys a trust domain of its own, exported as trustDomain, which the route plan's SNI names carry", async () => {
    const trustDomain = await expectDrawnTrustDomain(run);
    const plan = await outputValue<RoutePlan>(run.outputs.routePlan);
    expect(plan.trustDomain).toBe(trustDomain);
    for (const route of plan.routes) expect(route.sni.endsWith(`.internal.${trustDomain}`)).toBe(true);
  });
});
