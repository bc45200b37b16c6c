import { defaultMesh, planRoutes, validateMesh } from "../../mesh";

describe("defaultMesh", () => {
  it("passes validateMesh", () => {
    expect(validateMesh(defaultMesh())).toEqual([]);
  });

  it("has dc1 (primary) and dc2, one gateway each on 8443", () => {
    const m = defaultMesh();
    expect(m.primaryDatacenter).toBe("dc1");
    expect(m.datacenters.map((d) => d.name)).toEqual(["dc1", "dc2"]);
    expect(m.gateways!.map((g) => [g.datacenter, g.port])).toEqual([
      ["dc1", 8443],
      ["dc2", 8443],
    ]);
  });

  it("reproduces the seed's per-upstream example across datacenters", () => {
    const plan = planRoutes(defaultMesh());
    expect(
      plan.routes.map((r) => [r.source.service, r.destination.name, r.destination.datacenter, r.localBindPort, r.mode]),
    ).toEqual([
      ["web", "api", "dc2", 10000, "remote"],
      ["web", "db", "dc2", 10001, "local"],
      ["web", "logging", "dc2", 10002, "none"],
    ]);
    const dc2 = defaultMesh().services!.filter((s) => s.datacenter === "dc2");
    expect(dc2.map((s) => s.name)).toEqual(["api", "db", "logging"]);
    for (const s of dc2) expect(s.connect?.sidecarService).toBeDefined();
  });

  it("returns a fresh copy each time", () => {
    const a = defaultMesh();
    a.datacenters[0].name = "changed";
    expect(defaultMesh().datacenters[0].name).toBe("dc1");
  });
});
