import type { RoutePlan } from "consul-mesh-gateway";
import { RealConsul } from "../support/real-consul";
import { countByType, outputValue, runExample, type ExampleRun } from "./run-example";

jest.setTimeout(120_000);

describe("example: a mesh added to datacenters that run already (real Consul, ACLs on)", () => {
  let consul: RealConsul;
  let run: ExampleRun;
  beforeAll(async () => {
    consul = await RealConsul.start({ acl: true });
    const datacenters = consul.datacenters.map((dc, i) => ({
      name: dc.name,
      address: dc.httpAddress,
      token: consul.managementToken,
      grpcAddress: dc.grpcAddress,
      gateway: { port: 8443 + i, adminPort: 19000 + i },
    }));
    run = await runExample("existing-consul", {
      datacenters: JSON.stringify(datacenters),
      gatewayImage: "consul-mesh/sni-gateway:latest",
    });
  });
  afterAll(async () => {
    await consul?.stop();
  });

  test("no Consul server: a provider per datacenter, gateways, the entry, the intention and both services", () => {
    expect(countByType(run.mocks)).toMatchObject({
      "consul-mesh:index:ExistingDatacenter": 2,
      "pulumi:providers:consul": 2,
      "consul-mesh:index:MeshGateway": 2,
      "consul-mesh:index:ProxyDefaults": 1,
      "consul-mesh:index:ServiceIntentions": 1,
      "consul-mesh:index:ConnectService": 2,
    });
    expect(run.mocks.byType("consul-mesh:index:Datacenter")).toHaveLength(0);
    expect(run.mocks.byType("docker:index/volume:Volume")).toHaveLength(0);
  });

  test("each gateway on the Docker host's network beside its agent, reading it with a token of its own", () => {
    for (const [i, dc] of consul.datacenters.entries()) {
      const gateway = run.mocks.get(`gateway-${dc.name}-gateway-0`);
      expect(gateway.inputs.networkMode).toBe("host");
      expect(gateway.inputs.command).toEqual(
        expect.arrayContaining(["--consul", dc.httpAddress, "--consul-grpc", dc.grpcAddress]),
      );
      expect(gateway.inputs.command).toEqual(expect.arrayContaining(["--lan-address", `${dc.host}:${8443 + i}`]));
      expect(gateway.secretInputs).toEqual(["envs"]);
      expect(run.mocks.get(`gateway-${dc.name}-policy`).options.provider).toMatch(/::dc1-provider::/);
    }
  });

  test("exports the route plan of what it adds, and the trust domain the running Consul reports", async () => {
    const plan = await outputValue<RoutePlan>(run.outputs.routePlan);
    expect(plan.routes.map((r) => [r.source.service, r.destination.name, r.mode, r.decidedBy])).toEqual([
      ["web", "api", "local", "proxy-defaults"],
    ]);
    const roots = (await consul.datacenters[0].api("GET", "/v1/connect/ca/roots")).json as { TrustDomain: string };
    expect(await outputValue<string>(run.outputs.trustDomain)).toBe(roots.TrustDomain);
  });
});
