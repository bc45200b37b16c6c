import type { RoutePlan } from "consul-mesh-gateway";
import { countByType, expectDrawnTrustDomain, outputValue, runExample, type ExampleRun } from "./run-example";

describe("example: gateways per service instance, sidecar_service form (remote)", () => {
  let run: ExampleRun;
  beforeAll(async () => {
    // A published gateway image, as a user without this repository's build context would run it.
    run = await runExample("per-service-instance-sidecar", { gatewayImage: "consul-mesh/sni-gateway:latest" });
  });

  test("declares the same resources as the connect-proxy form", () => {
    expect(countByType(run.mocks)).toMatchObject({
      "consul-mesh:index:Datacenter": 2,
      "consul-mesh:index:MeshGateway": 2,
      "consul-mesh:index:ConnectService": 2,
    });
  });

  test("registers web with its inline sidecar, exactly as the seed writes it", () => {
    const reg = run.mocks.get("mesh-service-primary-web-registration");
    expect(reg.inputs.registration).toEqual({
      Name: "web",
      Port: 8181,
      Address: "web-primary",
      Connect: {
        SidecarService: {
          Port: 21000,
          Proxy: {
            MeshGateway: { Mode: "remote" },
            Upstreams: [{ DestinationName: "api", Datacenter: "secondary", LocalBindPort: 10000 }],
          },
        },
      },
    });
  });

  test("route plan: the same path as the connect-proxy form, decided by the instance", async () => {
    const plan = await outputValue<RoutePlan>(run.outputs.routePlan);
    expect(plan.routes).toHaveLength(1);
    expect(plan.routes[0]).toMatchObject({ mode: "remote", decidedBy: "instance", usesGateway: true });
    expect(plan.routes[0].text).toBe("web (primary) → mesh-gateway secondary WAN → api (secondary)");
  });

  test("deploys a trust domain of its own, exported as trustDomain, which the route plan's SNI names carry", async () => {
    const trustDomain = await expectDrawnTrustDomain(run);
    const plan = await outputValue<RoutePlan>(run.outputs.routePlan);
    expect(plan.trustDomain).toBe(trustDomain);
    for (const route of plan.routes) expect(route.sni.endsWith(`.internal.${trustDomain}`)).toBe(true);
  });
});
