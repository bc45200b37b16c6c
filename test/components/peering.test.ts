import * as consul from "@pulumi/consul";
import type { ConsulDatacenter } from "../../components/consul-datacenter";
import { ExportedServices, Peering, PeeringThroughGateways } from "../../components/peering";
import { problemPaths } from "../support/problem-paths";
import { setupMocks, type MockHarness } from "../support/pulumi-mocks";

/** A running datacenter of a cluster, as the components see it. */
function cluster(name: string): ConsulDatacenter {
  return {
    name,
    httpAddress: `https://${name}.example:8501`,
    aclEnabled: false,
    provider: new consul.Provider(`${name}-provider`, { address: `${name}.example:8501`, datacenter: name }),
    servers: [],
    lanHttpAddress: `https://${name}.example:8501`,
  };
}

describe("Peering, PeeringThroughGateways, ExportedServices (Pulumi mocks)", () => {
  let mocks: MockHarness;
  beforeEach(async () => {
    mocks = await setupMocks();
  });

  test("the token in the accepting cluster, the peering in the dialing one, the token a secret in both", async () => {
    const a = cluster("dc1");
    const b = cluster("dc2");
    const through = new PeeringThroughGateways("a-mesh", { datacenter: a });
    const peering = new Peering("a-b", { acceptor: a, dialer: b, dependsOn: [through] });
    await mocks.settle();
    const token = mocks.get("a-b-token", "consul:index/peeringToken:PeeringToken");
    const established = mocks.get("a-b-peering", "consul:index/peering:Peering");
    expect(token.inputs).toEqual({ peerName: "dc2" });
    expect(token.options.provider.startsWith(mocks.get("dc1-provider").urn)).toBe(true);
    expect(token.options.additionalSecretOutputs).toEqual(["peeringToken"]);
    expect(token.options.dependencies).toContain(mocks.get("a-mesh-entry").urn);
    expect(established.inputs.peerName).toBe("dc1");
    expect(established.secretInputs).toEqual(["peeringToken"]);
    expect(established.options.provider.startsWith(mocks.get("dc2-provider").urn)).toBe(true);
    expect(established.options.dependencies).toContain(token.urn);
    expect([peering.acceptorPeerName, peering.dialerPeerName]).toEqual(["dc2", "dc1"]);
  });

  test("names of one's own, the mesh entry and the exported services as Consul reads them back", async () => {
    const a = cluster("dc1");
    new Peering("p", {
      acceptor: a,
      dialer: cluster("dc1-other"),
      acceptorPeerName: "cluster-b",
      dialerPeerName: "cluster-a",
    });
    new PeeringThroughGateways("m", { datacenter: a });
    new ExportedServices("x", { datacenter: a, services: [{ name: "api", peers: ["cluster-b", "cluster-c"] }] });
    await mocks.settle();
    expect(mocks.get("p-token").inputs.peerName).toBe("cluster-b");
    expect(mocks.get("p-peering").inputs.peerName).toBe("cluster-a");
    expect(mocks.get("m-entry").inputs).toEqual({
      kind: "mesh",
      name: "mesh",
      configJson: '{"TransparentProxy":{"MeshDestinationsOnly":false},"Peering":{"PeerThroughMeshGateways":true}}',
    });
    expect(mocks.get("x-entry").inputs).toEqual({
      kind: "exported-services",
      name: "default",
      configJson: '{"Services":[{"Name":"api","Consumers":[{"Peer":"cluster-b"},{"Peer":"cluster-c"}]}]}',
    });
  });

  test("bad arguments are refused, each at its field", () => {
    const a = cluster("dc1");
    expect(problemPaths(() => new Peering("p", { acceptor: a, dialer: a, acceptorPeerName: "Not A Label" }))).toEqual([
      "args.acceptorPeerName",
      "args.dialer",
    ]);
    expect(
      problemPaths(
        () =>
          new ExportedServices("x", {
            datacenter: a,
            services: [
              { name: "api", peers: [] },
              { name: "api", peers: ["b"] },
              { name: "db", peers: ["B C"] },
            ],
          }),
      ),
    ).toEqual(["args.services[0].peers", "args.services[1].name", "args.services[2].peers[0]"]);
  });
});
