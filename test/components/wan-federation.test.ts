import { WanFederation } from "../../components/wan-federation";
import { MeshValidationError } from "../../mesh";
import { setupMocks, valueOf, type MockHarness } from "../support/pulumi-mocks";

function problems(fn: () => unknown): { path: string; message: string }[] {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(MeshValidationError);
    return (e as MeshValidationError).problems;
  }
  throw new Error("expected a MeshValidationError");
}

describe("WanFederation (Pulumi mocks)", () => {
  let mocks: MockHarness;
  beforeEach(async () => {
    mocks = await setupMocks();
  });

  test("creates the shared WAN network and computes every datacenter's joins", async () => {
    const wan = new WanFederation("wan", {
      datacenters: [
        { name: "dc1" },
        { name: "dc2", primaryDatacenter: "dc1", servers: 3 },
        { name: "dc3", primaryDatacenter: "dc1" },
      ],
    });
    await mocks.settle();
    const network = mocks.get("wan-wan");
    expect(network.type).toBe("docker:index/network:Network");
    expect(network.parent).toBe(mocks.get("wan", "consul-mesh:index:WanFederation").urn);
    expect(network.inputs).toMatchObject({
      name: "consul-mesh-wan",
      driver: "bridge",
      internal: false,
      ipamConfigs: [{ subnet: "10.250.0.0/24" }],
    });
    expect(network.options.deleteBeforeReplace).toBe(true);
    expect(wan.primaryDatacenter).toBe("dc1");

    const dc1 = wan.attachment("dc1");
    expect(dc1.serverAddresses).toEqual(["10.250.0.10"]);
    expect(dc1.retryJoinWan).toEqual(["10.250.0.30", "10.250.0.31", "10.250.0.32", "10.250.0.50"]);
    const dc2 = wan.attachment("dc2");
    expect(dc2.serverAddresses).toEqual(["10.250.0.30", "10.250.0.31", "10.250.0.32"]);
    expect(dc2.retryJoinWan).toEqual(["10.250.0.10", "10.250.0.50"]);
    expect(await valueOf(dc2.networkName as never)).toBe("consul-mesh-wan");
    expect(wan.gatewayAddress("dc3", 0)).toBe("10.250.0.60");
    expect(() => wan.attachment("dc9")).toThrow(/"dc9" is not part of the WAN federation/);
  });

  test("an internal WAN network, another subnet and prefix", async () => {
    new WanFederation("wan", {
      datacenters: [{ name: "a" }, { name: "b" }],
      subnet: "192.168.77.0/24",
      resourcePrefix: "lab",
      internal: true,
    });
    await mocks.settle();
    expect(mocks.get("wan-wan").inputs).toMatchObject({
      name: "lab-wan",
      internal: true,
      ipamConfigs: [{ subnet: "192.168.77.0/24" }],
    });
  });

  test("refuses mismatched primary datacenters, naming each offender", async () => {
    const found = problems(
      () => new WanFederation("wan", { datacenters: [{ name: "dc1" }, { name: "dc2", primaryDatacenter: "dc2" }] }),
    );
    expect(found).toEqual([
      {
        path: "datacenters[1].primaryDatacenter",
        message: expect.stringMatching(/"dc2" differs from the federation's "dc1"/),
      },
    ]);
    await mocks.settle();
    expect(mocks.resources).toHaveLength(0);
  });

  test("refuses duplicate datacenter names", () => {
    const found = problems(
      () => new WanFederation("wan", { datacenters: [{ name: "dc1" }, { name: "dc2" }, { name: "dc1" }] }),
    );
    expect(found.map((p) => p.path)).toEqual(["datacenters[2].name"]);
    expect(found[0].message).toMatch(/already used by datacenters\[0\]/);
  });

  test("refuses an unknown primary, a bad subnet, bad server counts and no datacenters, all at once", () => {
    expect(
      problems(
        () =>
          new WanFederation("wan", {
            datacenters: [{ name: "dc1", servers: 0 }],
            primaryDatacenter: "dc0",
            subnet: "10.250.0.0/30",
          }),
      ).map((p) => p.path),
    ).toEqual(["datacenters[0].servers", "primaryDatacenter", "subnet"]);
    expect(problems(() => new WanFederation("wan", { datacenters: [] })).map((p) => p.path)).toEqual(["datacenters"]);
  });
});
