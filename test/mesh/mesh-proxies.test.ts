import { meshProxies, primaryDatacenterOf, serviceDefaultsByName, serviceDefaultsFor, type Mesh } from "../../mesh";

describe("meshProxies", () => {
  it("finds connect-proxy and sidecar proxies with their paths and downstream service", () => {
    const m: Mesh = {
      datacenters: [{ name: "dc1" }],
      services: [
        {
          name: "web-proxy",
          kind: "connect-proxy",
          datacenter: "dc1",
          port: 1,
          proxy: { destinationServiceName: "web" },
        },
        { name: "plain", datacenter: "dc1", port: 1 },
        { name: "api", datacenter: "dc1", port: 1, connect: { sidecarService: { proxy: {} } } },
        { name: "bare-sidecar", datacenter: "dc1", port: 1, connect: { sidecarService: {} } },
        { name: "gw", kind: "mesh-gateway", datacenter: "dc1", port: 1, proxy: { config: {} } },
        { name: "orphan", kind: "connect-proxy", datacenter: "dc1", port: 1, proxy: {} },
      ],
    };
    expect(meshProxies(m).map((p) => [p.path, p.form, p.sourceService, p.serviceIndex])).toEqual([
      ["services[0].proxy", "connect-proxy", "web", 0],
      ["services[2].connect.sidecarService.proxy", "sidecar-service", "api", 2],
      ["services[5].proxy", "connect-proxy", "orphan", 5],
    ]);
  });
});

describe("primaryDatacenterOf / serviceDefaultsFor / serviceDefaultsByName", () => {
  it("defaults the primary to the first datacenter", () => {
    expect(primaryDatacenterOf({ datacenters: [{ name: "a" }, { name: "b" }] })).toBe("a");
    expect(primaryDatacenterOf({ primaryDatacenter: "b", datacenters: [{ name: "a" }, { name: "b" }] })).toBe("b");
    expect(primaryDatacenterOf({ datacenters: [] })).toBeUndefined();
    expect(primaryDatacenterOf({ datacenters: [{ name: "a", primaryDatacenter: "b" }, { name: "b" }] })).toBe("b");
  });
  it("finds the first service-defaults of a name", () => {
    const m: Mesh = {
      datacenters: [],
      serviceDefaults: [
        { kind: "service-defaults", name: "web", protocol: "http" },
        { kind: "service-defaults", name: "web", protocol: "tcp" },
      ],
    };
    expect(serviceDefaultsFor(m, "web")?.protocol).toBe("http");
    expect(serviceDefaultsFor(m, "api")).toBeUndefined();
  });
  it("maps every name to the entry serviceDefaultsFor finds, skipping entries that are not objects", () => {
    const m: Mesh = {
      datacenters: [],
      serviceDefaults: [
        { kind: "service-defaults", name: "web", protocol: "http" },
        null as never,
        { kind: "service-defaults", name: "api" },
        { kind: "service-defaults", name: "web", protocol: "tcp" },
      ],
    };
    const byName = serviceDefaultsByName(m);
    expect([...byName.keys()]).toEqual(["web", "api"]);
    for (const name of ["web", "api"]) expect(byName.get(name)).toBe(serviceDefaultsFor(m, name));
    expect(serviceDefaultsByName({ datacenters: [], serviceDefaults: "x" as never }).size).toBe(0);
  });
});
