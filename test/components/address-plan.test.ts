import {
  checkSubnet,
  defaultLanSubnet,
  hostAddress,
  lanGatewayAddress,
  lanServerAddress,
  MAX_WAN_DATACENTERS,
  subnetProblems,
  wanGatewayAddress,
  wanServerAddress,
} from "../../components/plans/address-plan";

describe("address plan", () => {
  test("places servers and gateways at fixed hosts of the LAN subnet", () => {
    expect(lanServerAddress("10.250.1.0/24", 0)).toBe("10.250.1.10");
    expect(lanServerAddress("10.250.1.0/24", 2)).toBe("10.250.1.12");
    expect(lanGatewayAddress("10.250.1.0/24", 0)).toBe("10.250.1.20");
    expect(lanGatewayAddress("172.30.0.0/16", 3)).toBe("172.30.0.23");
  });

  test("gives each datacenter its own block of the shared WAN subnet", () => {
    expect(wanServerAddress("10.250.0.0/24", 0, 0)).toBe("10.250.0.10");
    expect(wanGatewayAddress("10.250.0.0/24", 0, 0)).toBe("10.250.0.20");
    expect(wanServerAddress("10.250.0.0/24", 1, 0)).toBe("10.250.0.30");
    expect(wanGatewayAddress("10.250.0.0/24", 1, 1)).toBe("10.250.0.41");
    const last = MAX_WAN_DATACENTERS - 1;
    expect(wanGatewayAddress("10.250.0.0/24", last, 9)).toBe("10.250.0.249");
  });

  test("no two slots collide across 12 datacenters, 10 servers and 10 gateways each", () => {
    const seen = new Set<string>();
    for (let d = 0; d < MAX_WAN_DATACENTERS; d++) {
      for (let i = 0; i < 10; i++) {
        for (const a of [wanServerAddress("10.250.0.0/24", d, i), wanGatewayAddress("10.250.0.0/24", d, i)]) {
          expect(seen.has(a)).toBe(false);
          seen.add(a);
        }
      }
    }
    expect(seen.size).toBe(240);
  });

  test("refuses slots outside the plan and malformed subnets, naming the field", () => {
    expect(() => lanServerAddress("10.250.1.0/24", 10)).toThrow(/servers: at most 10/);
    expect(() => wanGatewayAddress("10.250.0.0/24", 12, 0)).toThrow(/datacenters: at most 12/);
    expect(() => checkSubnet("10.250.1.7/24", "lanSubnet")).toThrow(/lanSubnet: .*host bits/);
    expect(() => checkSubnet("10.250.1.0/28", "lanSubnet")).toThrow(/lanSubnet: .*\/8 to \/24/);
    expect(() => checkSubnet("300.1.1.0/24", "wanSubnet")).toThrow(/wanSubnet/);
    expect(() => checkSubnet("fd00::/64", "wanSubnet")).toThrow(/wanSubnet/);
    expect(() => hostAddress("nonsense", 1)).toThrow(/subnet/);
  });

  test("default LAN subnets differ per datacenter", () => {
    expect(defaultLanSubnet(0)).toBe("10.250.1.0/24");
    expect(defaultLanSubnet(1)).toBe("10.250.2.0/24");
  });

  test("a subnet argument's problem, as data at the field given", () => {
    expect(subnetProblems("10.250.1.0/24", "lanSubnet")).toEqual([]);
    expect(subnetProblems("10.250.1.7/24", "lanSubnets.dc2")).toEqual([
      { path: "lanSubnets.dc2", message: '"10.250.1.7/24" has host bits set; use the network address' },
    ]);
    expect(subnetProblems("fd00::/64", "wanSubnet")).toEqual([
      { path: "wanSubnet", message: expect.stringContaining("is not an IPv4 subnet from /8 to /24") },
    ]);
  });
});
