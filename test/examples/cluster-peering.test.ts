import { RealConsul } from "../support/real-consul";
import { countByType, outputValue, runExample, type ExampleRun } from "./run-example";

jest.setTimeout(120_000);

describe("example: two clusters that run already, peered through their gateways (real Consul, TLS)", () => {
  let a: RealConsul;
  let b: RealConsul;
  let run: ExampleRun;
  beforeAll(async () => {
    [a, b] = await Promise.all([
      RealConsul.start({ datacenters: ["dc1"], secure: true }),
      RealConsul.start({ datacenters: ["dc2"], secure: true }),
    ]);
    const datacenters = [a, b].map((consul, i) => {
      const dc = consul.datacenters[0];
      return {
        name: dc.name,
        address: dc.httpAddress,
        caPem: consul.secrets?.ca.caPem,
        grpcAddress: `https://${dc.grpcAddress}`,
        gateway: { port: 8443 + i, adminPort: 19000 + i },
      };
    });
    run = await runExample("cluster-peering", {
      datacenters: JSON.stringify(datacenters),
      gatewayImage: "consul-mesh/sni-gateway:latest",
    });
  });
  afterAll(async () => {
    await a?.stop();
    await b?.stop();
  });

  test("a gateway and the mesh entry per cluster, the peering, the exports and the intention in the first", () => {
    expect(countByType(run.mocks)).toMatchObject({
      "consul-mesh:index:ExistingDatacenter": 2,
      "consul-mesh:index:MeshGateway": 2,
      "consul-mesh:index:PeeringThroughGateways": 2,
      "consul-mesh:index:Peering": 1,
      "consul:index/peeringToken:PeeringToken": 1,
      "consul:index/peering:Peering": 1,
      "consul-mesh:index:ExportedServices": 1,
      "consul-mesh:index:ServiceIntentions": 1,
      "consul-mesh:index:ConnectService": 2,
    });
    expect(run.mocks.get("peering-token").options.provider).toMatch(/::dc1-provider::/);
    expect(run.mocks.get("peering-peering").options.provider).toMatch(/::dc2-provider::/);
    expect(run.mocks.get("exported-services-entry").inputs.configJson).toBe(
      '{"Services":[{"Name":"api","Consumers":[{"Peer":"dc2"}]}]}',
    );
    expect(run.mocks.get("api-intentions-entry").inputs.sources).toEqual([
      { name: "web", action: "allow", peer: "dc2", type: "consul", precedence: 9 },
    ]);
  });

  test("web's upstream names api's peer, in mode local; the names each side gives the other are exported", async () => {
    const registration = run.mocks.get("web-registration").inputs.registration as {
      Connect: { SidecarService: { Proxy: { Upstreams: unknown[] } } };
    };
    expect(registration.Connect.SidecarService.Proxy.Upstreams).toEqual([
      { DestinationName: "api", DestinationPeer: "dc1", LocalBindPort: 9191, MeshGateway: { Mode: "local" } },
    ]);
    expect(await outputValue(run.outputs.peerNames)).toEqual({ acceptor: "dc2", dialer: "dc1" });
    expect(await outputValue(run.outputs.routeSummary)).toEqual([
      "web (dc2) -> api (peer dc1): local (upstream) via mesh-gateway dc2, mesh-gateway peer dc1",
    ]);
  });
});
