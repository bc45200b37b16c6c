import { planWanFederation, wanFederationProblems, wanJoin } from "../../components/plans/wan-federation-plan";

describe("WAN federation plan", () => {
  test("two datacenters: the network, each server's WAN address in its datacenter's block", () => {
    const plan = planWanFederation("wan", { datacenters: [{ name: "dc1", servers: 3 }, { name: "dc2" }] });
    expect(plan).toEqual({
      mode: "gossip",
      subnet: "10.250.0.0/24",
      primaryDatacenter: "dc1",
      datacenterNames: ["dc1", "dc2"],
      serverAddresses: { dc1: ["10.250.0.10", "10.250.0.11", "10.250.0.12"], dc2: ["10.250.0.30"] },
      network: {
        resourceName: "wan-wan",
        name: "consul-mesh-wan",
        driver: "bridge",
        internal: false,
        ipamConfigs: [{ subnet: "10.250.0.0/24" }],
        labels: [{ label: "consul-mesh.role", value: "wan" }],
      },
    });
  });

  test("a primary, a subnet, a prefix and an internal network, as given", () => {
    const plan = planWanFederation("f", {
      datacenters: [{ name: "a" }, { name: "b" }],
      primaryDatacenter: "b",
      subnet: "10.9.0.0/16",
      resourcePrefix: "p",
      internal: true,
    });
    expect(plan.primaryDatacenter).toBe("b");
    expect(plan.serverAddresses.b).toEqual(["10.9.0.30"]);
    expect(plan.network).toMatchObject({ name: "p-wan", internal: true, ipamConfigs: [{ subnet: "10.9.0.0/16" }] });
  });

  test("through the gateways: no server on the WAN, nothing joined, the mode handed on; a bad mode named", () => {
    const plan = planWanFederation("wan", {
      datacenters: [{ name: "dc1", servers: 2 }, { name: "dc2" }],
      mode: "mesh-gateways",
    });
    expect(plan.serverAddresses).toEqual({ dc1: [], dc2: [] });
    expect(wanJoin(plan, "dc2")).toEqual({ serverAddresses: [], retryJoinWan: [], mode: "mesh-gateways" });
    expect(wanFederationProblems({ datacenters: [{ name: "dc1" }], mode: "vpn" as never })).toEqual([
      { path: "mode", message: expect.stringContaining('"vpn"') },
    ]);
  });

  test("each datacenter joins every other datacenter's servers", () => {
    const plan = planWanFederation("wan", {
      datacenters: [{ name: "dc1", servers: 2 }, { name: "dc2" }, { name: "dc3" }],
    });
    expect(wanJoin(plan, "dc2")).toEqual({
      serverAddresses: ["10.250.0.30"],
      retryJoinWan: ["10.250.0.10", "10.250.0.11", "10.250.0.50"],
    });
    expect(wanJoin(planWanFederation("wan", { datacenters: [{ name: "solo" }] }), "solo").retryJoinWan).toEqual([]);
  });

  test("problems, each at its field", () => {
    expect(
      wanFederationProblems({ datacenters: [{ name: "dc1" }, { name: "dc2", primaryDatacenter: "dc1" }] }),
    ).toEqual([]);
    expect(wanFederationProblems({ datacenters: [] }).map((p) => p.path)).toEqual(["datacenters"]);
    expect(
      wanFederationProblems({ datacenters: Array.from({ length: 13 }, (_, i) => ({ name: `dc${i}` })) }).map(
        (p) => p.message,
      ),
    ).toEqual(["at most 12 datacenters share one WAN subnet"]);
    const problems = wanFederationProblems({
      datacenters: [
        { name: "dc1", servers: 11 },
        { name: "dc2", primaryDatacenter: "dc2" },
      ],
      primaryDatacenter: "dc9",
      subnet: "10.250.0.0/28",
    });
    expect(problems.map((p) => p.path)).toEqual(
      expect.arrayContaining(["datacenters[0].servers", "primaryDatacenter", "subnet"]),
    );
  });
});
