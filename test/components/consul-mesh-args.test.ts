import { consulMeshProblems, httpHostPortOf, meshOf } from "../../components/plans/consul-mesh-args";
import { DEFAULT_TRUST_DOMAIN, defaultMesh, validateMesh } from "../../mesh";

describe("ConsulMesh arguments", () => {
  test("the mesh model part leaves the deployment options out", () => {
    const mesh = meshOf({ ...defaultMesh(), routeSource: "file", wanSubnet: "10.9.0.0/24", workloads: {} });
    expect(mesh).toEqual(defaultMesh());
    expect(Object.keys(meshOf({ datacenters: [{ name: "dc1" }] }))).toEqual(["datacenters"]);
  });

  test("WAN federation through mesh gateways: kept in the model; routes from a file are refused by name", () => {
    const through = { ...defaultMesh(), wanFederation: { mode: "mesh-gateways" as const } };
    expect(consulMeshProblems(through)).toEqual([]);
    expect(meshOf(through).wanFederation).toEqual({ mode: "mesh-gateways" });
    expect(consulMeshProblems({ ...through, routeSource: "file" })).toEqual([
      {
        path: "routeSource",
        message: expect.stringContaining("carry the servers' traffic only with routes from Consul"),
      },
    ]);
    const insecure = { ...through, datacenters: through.datacenters.map((dc) => ({ ...dc, tls: { enabled: false } })) };
    expect(consulMeshProblems(insecure).map((p) => p.path)).toEqual([
      "datacenters[0].tls.enabled",
      "datacenters[1].tls.enabled",
    ]);
  });

  test("host ports: 8500 + i unless given", () => {
    expect(httpHostPortOf({ datacenters: [] }, "dc2", 1)).toBe(8501);
    expect(httpHostPortOf({ datacenters: [], httpHostPorts: { dc2: 9000 } }, "dc2", 1)).toBe(9000);
  });

  test("the default mesh with the default options has no problem", () => {
    expect(consulMeshProblems(defaultMesh())).toEqual([]);
    expect(consulMeshProblems({ ...defaultMesh(), routeSource: "file", workloads: { demoHostPort: 9090 } })).toEqual(
      [],
    );
  });

  test("the model's problems first, then every option's, each at its field", () => {
    const mesh = defaultMesh();
    mesh.gateways = [{ datacenter: "dc1", id: "gw-1", node: "n1" }, { datacenter: "dc3" }];
    const problems = consulMeshProblems({
      ...mesh,
      wanSubnet: "10.250.0.1/24",
      lanSubnets: { dc1: "10.250.1.0/28", dcX: "10.9.0.0/24" },
      httpHostPorts: { dc2: 8500, dcY: 9000 },
      routeSource: "carrier-pigeon" as never,
      workloads: { demoHostPort: 8501 },
    });
    const modelPaths = validateMesh(mesh).map((p) => p.path);
    expect(modelPaths).toContain("gateways[1].datacenter");
    expect(problems.map((p) => p.path)).toEqual([
      ...modelPaths,
      "wanSubnet",
      "gateways[0].id",
      "gateways[0].node",
      "lanSubnets.dc1",
      "lanSubnets.dcX",
      "httpHostPorts.dc2",
      "httpHostPorts.dcY",
      "routeSource",
    ]);
    expect(problems.find((p) => p.path === "httpHostPorts.dc2")?.message).toBe("host port 8500 is already used by dc1");
  });

  test("a tagged WAN port other than the gateway's: planned, never deployed, so refused at its field", () => {
    const mesh = defaultMesh();
    const [dc1, dc2] = mesh.gateways ?? [];
    mesh.gateways = [
      { ...dc1, taggedAddresses: { wan: { address: "203.0.113.5", port: 443 } } },
      { ...dc2, port: 443, taggedAddresses: { wan: { address: "203.0.113.6", port: 443 } } },
    ];
    expect(consulMeshProblems(mesh)).toEqual([
      {
        path: "gateways[0].taggedAddresses.wan.port",
        message:
          "443 is not the port the gateway listens on (8443): ConsulMesh maps no other port to it; " +
          "set 8443, or set the gateway's port",
      },
    ]);
  });

  test("a demo host port the HTTP APIs use, or out of range", () => {
    const paths = (demoHostPort: number) =>
      consulMeshProblems({ ...defaultMesh(), workloads: { demoHostPort } }).map((p) => p.path);
    expect(paths(8501)).toEqual(["workloads.demoHostPort"]);
    expect(paths(0)).toEqual(["workloads.demoHostPort"]);
    expect(paths(8080)).toEqual([]);
  });

  test("file mode needs a trust domain of Consul's form; services may keep their IDs, not their nodes", () => {
    const mesh = defaultMesh();
    mesh.services![0].id = "web-1";
    mesh.services![1].node = "node-1";
    expect(
      consulMeshProblems({ ...mesh, trustDomain: "example.consul", routeSource: "file" }).map((p) => p.path),
    ).toEqual(["services[1].node", "trustDomain"]);
    expect(consulMeshProblems({ ...defaultMesh(), trustDomain: DEFAULT_TRUST_DOMAIN, routeSource: "file" })).toEqual(
      [],
    );
  });
});
