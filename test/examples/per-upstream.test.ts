import type { RoutePlan } from "consul-mesh-gateway";
import { expectDrawnTrustDomain, outputValue, runExample, type ExampleRun } from "./run-example";

describe("example: gateways per upstream (api remote, db local, logging none)", () => {
  let run: ExampleRun;
  beforeAll(async () => {
    // A published gateway image, as a user without this repository's build context would run it.
    run = await runExample("per-upstream", { gatewayImage: "consul-mesh/sni-gateway:latest" });
  });

  test("registers the proxy with one mode per upstream, and the three services in dc2", () => {
    const reg = run.mocks.get("mesh-service-dc1-web-sidecar-proxy-registration");
    expect(reg.inputs.registration.Proxy.Upstreams).toEqual([
      { DestinationName: "api", Datacenter: "dc2", LocalBindPort: 10000, MeshGateway: { Mode: "remote" } },
      { DestinationName: "db", Datacenter: "dc2", LocalBindPort: 10001, MeshGateway: { Mode: "local" } },
      { DestinationName: "logging", Datacenter: "dc2", LocalBindPort: 10002, MeshGateway: { Mode: "none" } },
    ]);
    const dc2 = run.mocks
      .byType("pulumi-nodejs:dynamic:AgentServiceRegistration")
      .filter((r) => r.inputs.address === "https://127.0.0.1:8501");
    expect(dc2.map((r) => r.inputs.serviceId).sort()).toEqual(["api", "db", "logging"]);
  });

  test("route plan: one path per mode, each decided by the upstream", async () => {
    const plan = await outputValue<RoutePlan>(run.outputs.routePlan);
    expect(plan.routes.map((r) => [r.destination.name, r.mode, r.decidedBy, r.text])).toEqual([
      ["api", "remote", "upstream", "web (dc1) → mesh-gateway dc2 WAN → api (dc2)"],
      ["db", "local", "upstream", "web (dc1) → mesh-gateway dc1 LAN → mesh-gateway dc2 WAN → db (dc2)"],
      ["logging", "none", "upstream", "web (dc1) → logging (dc2) direct"],
    ]);
  });

  test("deploys a trust domain of its own, exported as trustDomain, which the route plan's SNI names carry", async () => {
    const trustDomain = await expectDrawnTrustDomain(run);
    const plan = await outputValue<RoutePlan>(run.outputs.routePlan);
    expect(plan.trustDomain).toBe(trustDomain);
    for (const route of plan.routes) expect(route.sni.endsWith(`.internal.${trustDomain}`)).toBe(true);
  });
});
