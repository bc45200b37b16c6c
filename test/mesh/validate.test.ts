import fc from "fast-check";
import {
  assertValidMesh,
  defaultMesh,
  MeshValidationError,
  validateMesh,
  type Mesh,
  type MeshService,
} from "../../mesh";

/** The default mesh with `change` applied. */
function mesh(change: (m: Mesh) => void): Mesh {
  const m = defaultMesh();
  change(m);
  return m;
}

const web = (m: Mesh) => m.services![0];
const webUpstreams = (m: Mesh) => web(m).connect!.sidecarService.proxy!.upstreams!;
const UP = "services[0].connect.sidecarService.proxy.upstreams";

/** A connect-proxy service for `web` in dc1, appended as services[4]. */
const webProxy = (extra: Partial<MeshService["proxy"]> = {}): MeshService => ({
  name: "web-sidecar-proxy",
  kind: "connect-proxy",
  datacenter: "dc1",
  port: 8181,
  address: "web-dc1",
  proxy: {
    destinationServiceName: "web",
    upstreams: [{ destinationName: "api", datacenter: "dc2", localBindPort: 10000 }],
    ...extra,
  },
});

const cases: [string, (m: Mesh) => void, string, RegExp][] = [
  // prerequisites
  [
    "empty datacenter list",
    (m) => {
      m.datacenters = [];
      m.services = [];
      m.gateways = [];
      delete m.primaryDatacenter;
    },
    "datacenters",
    /at least one/,
  ],
  [
    "duplicate datacenter names",
    (m) => {
      m.datacenters[1].name = "dc1";
    },
    "datacenters[1].name",
    /already used by datacenters\[0\]/,
  ],
  [
    "invalid datacenter name",
    (m) => {
      m.datacenters.push({ name: "DC 3" });
    },
    "datacenters[2].name",
    /invalid datacenter name "DC 3"/,
  ],
  [
    "primary datacenter that does not exist",
    (m) => {
      m.primaryDatacenter = "dc9";
      m.datacenters.forEach((d) => delete d.primaryDatacenter);
    },
    "primaryDatacenter",
    /"dc9" is not one of the declared/,
  ],
  [
    "a datacenter with another primary",
    (m) => {
      m.datacenters[1].primaryDatacenter = "dc2";
    },
    "datacenters[1].primaryDatacenter",
    /differs from the mesh's "dc1"/,
  ],
  [
    "Connect disabled",
    (m) => {
      m.datacenters[1].connect = { enabled: false };
    },
    "datacenters[1].connect.enabled",
    /Connect must be enabled/,
  ],
  [
    "gRPC disabled with -1",
    (m) => {
      m.datacenters[0].ports = { grpc: -1 };
      m.datacenters[0].tls = { enabled: false };
    },
    "datacenters[0].ports.grpc",
    /gRPC must be enabled for mesh gateways: with tls off/,
  ],
  [
    "gRPC disabled with 0",
    (m) => {
      m.datacenters[0].ports = { grpc: 0 };
      m.datacenters[0].tls = { enabled: false };
    },
    "datacenters[0].ports.grpc",
    /gRPC must be enabled for mesh gateways: with tls off/,
  ],
  [
    "TLS off in one federated datacenter",
    (m) => {
      m.datacenters[1].tls = { enabled: false };
    },
    "datacenters[1].tls.enabled",
    /tls is off here and on in the primary datacenter "dc1"/,
  ],
  [
    "gossip encryption off in one federated datacenter",
    (m) => {
      m.datacenters[1].gossipEncryption = { enabled: false };
    },
    "datacenters[1].gossipEncryption.enabled",
    /gossipEncryption is off here and on in the primary/,
  ],
  [
    "ACLs off in one federated datacenter",
    (m) => {
      m.datacenters[1].acl = { enabled: false };
    },
    "datacenters[1].acl.enabled",
    /acl is off here and on in the primary/,
  ],
  [
    "client certificates without TLS",
    (m) => {
      m.datacenters.forEach((dc) => (dc.tls = { enabled: false, httpsVerifyIncoming: true }));
    },
    "datacenters[0].tls.httpsVerifyIncoming",
    /client certificates need TLS/,
  ],
  [
    "a security switch that is not a boolean",
    (m) => {
      m.datacenters[0].gossipEncryption = { enabled: "yes" as unknown as boolean };
    },
    "datacenters[0].gossipEncryption.enabled",
    /"yes" is not true or false/,
  ],
  [
    "gRPC port out of range",
    (m) => {
      m.datacenters[0].ports = { grpc: 70000 };
    },
    "datacenters[0].ports.grpc",
    /out of range/,
  ],
  [
    "central config off while proxy-defaults sets a mode",
    (m) => {
      m.proxyDefaults = { kind: "proxy-defaults", name: "global", meshGateway: { mode: "local" } };
      m.datacenters[1].enableCentralServiceConfig = false;
    },
    "datacenters[1].enableCentralServiceConfig",
    /enable_central_service_config/,
  ],
  [
    "central config off while service-defaults sets a mode",
    (m) => {
      m.serviceDefaults = [{ kind: "service-defaults", name: "web", meshGateway: { mode: "local" } }];
      m.datacenters[0].enableCentralServiceConfig = false;
    },
    "datacenters[0].enableCentralServiceConfig",
    /enable_central_service_config/,
  ],
  [
    "datacenters not WAN joined",
    (m) => {
      m.datacenters[1].wanJoin = false;
    },
    "datacenters[1].wanJoin",
    /WAN joined/,
  ],
  [
    "zero servers",
    (m) => {
      m.datacenters[0].servers = 0;
    },
    "datacenters[0].servers",
    /at least 1/,
  ],
  [
    "bad ACL policy",
    (m) => {
      m.datacenters[0].acl = { enabled: true, defaultPolicy: "maybe" as "deny" };
    },
    "datacenters[0].acl.defaultPolicy",
    /"allow" or "deny"/,
  ],
  [
    "bad trust domain",
    (m) => {
      m.trustDomain = "Not A Domain";
    },
    "trustDomain",
    /invalid trust domain/,
  ],
  // config entries
  [
    "proxy-defaults not named global",
    (m) => {
      m.proxyDefaults = { kind: "proxy-defaults", name: "default" };
    },
    "proxyDefaults.name",
    /must be named "global"/,
  ],
  [
    "proxy-defaults with an invalid mode",
    (m) => {
      m.proxyDefaults = { kind: "proxy-defaults", name: "global", meshGateway: { mode: "Local" as "local" } };
    },
    "proxyDefaults.meshGateway.mode",
    /invalid mesh gateway mode "Local"/,
  ],
  [
    "proxy-defaults of the wrong kind",
    (m) => {
      m.proxyDefaults = { kind: "service-defaults" as "proxy-defaults", name: "global" };
    },
    "proxyDefaults.kind",
    /"proxy-defaults"/,
  ],
  [
    "duplicate service-defaults",
    (m) => {
      m.serviceDefaults = [
        { kind: "service-defaults", name: "web" },
        { kind: "service-defaults", name: "web" },
      ];
    },
    "serviceDefaults[1].name",
    /already declared at serviceDefaults\[0\]/,
  ],
  [
    "service-defaults with an invalid mode",
    (m) => {
      m.serviceDefaults = [{ kind: "service-defaults", name: "web", meshGateway: { mode: "gateway" as "local" } }];
    },
    "serviceDefaults[0].meshGateway.mode",
    /invalid mesh gateway mode/,
  ],
  [
    "service-defaults with an invalid name",
    (m) => {
      m.serviceDefaults = [{ kind: "service-defaults", name: "Web!" }];
    },
    "serviceDefaults[0].name",
    /invalid service name/,
  ],
  // gateways
  [
    "gateway in an unknown datacenter",
    (m) => {
      m.gateways![1].datacenter = "dc3";
    },
    "gateways[1].datacenter",
    /unknown datacenter "dc3"/,
  ],
  [
    "gateway port out of range",
    (m) => {
      m.gateways![0].port = 0;
    },
    "gateways[0].port",
    /out of range/,
  ],
  [
    "gateway WAN port out of range",
    (m) => {
      m.gateways![0].taggedAddresses!.wan!.port = 65536;
    },
    "gateways[0].taggedAddresses.wan.port",
    /out of range/,
  ],
  [
    "gateway WAN address empty",
    (m) => {
      m.gateways![0].taggedAddresses!.wan!.address = "";
    },
    "gateways[0].taggedAddresses.wan.address",
    /non-empty/,
  ],
  [
    "duplicate gateway",
    (m) => {
      m.gateways!.push({ datacenter: "dc1" });
    },
    "gateways[2].name",
    /already declared at gateways\[0\]/,
  ],
  [
    "invalid gateway name",
    (m) => {
      m.gateways![0].name = "Mesh GW";
    },
    "gateways[0].name",
    /invalid gateway name/,
  ],
  // services
  [
    "service in an unknown datacenter",
    (m) => {
      m.services![3].datacenter = "dc7";
    },
    "services[3].datacenter",
    /unknown datacenter "dc7"/,
  ],
  [
    "service port out of range",
    (m) => {
      m.services![1].port = 0;
    },
    "services[1].port",
    /out of range/,
  ],
  [
    "sidecar port out of range",
    (m) => {
      m.services![1].connect!.sidecarService.port = 99999;
    },
    "services[1].connect.sidecarService.port",
    /out of range/,
  ],
  [
    "invalid service name",
    (m) => {
      m.services![1].name = "API";
    },
    "services[1].name",
    /invalid service name "API"/,
  ],
  [
    "invalid namespace",
    (m) => {
      m.services![1].namespace = "a.b";
    },
    "services[1].namespace",
    /invalid namespace/,
  ],
  [
    "connect-proxy without destinationServiceName",
    (m) => {
      m.services!.push({ ...webProxy(), proxy: { upstreams: [] } });
    },
    "services[4].proxy.destinationServiceName",
    /needs proxy.destinationServiceName/,
  ],
  [
    "connect-proxy with a sidecar",
    (m) => {
      m.services!.push({ ...webProxy(), connect: { sidecarService: {} } });
    },
    "services[4].connect.sidecarService",
    /cannot have a sidecar/,
  ],
  [
    "proxy block on a typical service",
    (m) => {
      m.services![1].proxy = { destinationServiceName: "api" };
    },
    "services[1].proxy",
    /needs kind "connect-proxy"/,
  ],
  [
    "sidecar fronting another service",
    (m) => {
      web(m).connect!.sidecarService.proxy!.destinationServiceName = "api";
    },
    "services[0].connect.sidecarService.proxy.destinationServiceName",
    /fronts its own service/,
  ],
  [
    "connect without sidecarService",
    (m) => {
      m.services![1].connect = {} as MeshService["connect"];
    },
    "services[1].connect.sidecarService",
    /needs a sidecarService/,
  ],
  [
    "mesh gateway declared as a service",
    (m) => {
      m.services!.push({ name: "mesh-gateway", kind: "mesh-gateway", datacenter: "dc1", port: 8443 });
    },
    "services[4].kind",
    /gateways\[\]/,
  ],
  [
    "duplicate service ID in one datacenter",
    (m) => {
      m.services!.push({ name: "api", datacenter: "dc2", port: 9000 });
    },
    "services[4].name",
    /already registered in "dc2" by services\[1\]/,
  ],
  [
    "invalid local service port",
    (m) => {
      web(m).connect!.sidecarService.proxy!.localServicePort = -5;
    },
    "services[0].connect.sidecarService.proxy.localServicePort",
    /out of range/,
  ],
  [
    "invalid instance mode",
    (m) => {
      web(m).connect!.sidecarService.proxy!.meshGateway = { mode: "all" as "local" };
    },
    "services[0].connect.sidecarService.proxy.meshGateway.mode",
    /invalid mesh gateway mode "all"/,
  ],
  // upstreams
  [
    "invalid upstream mode",
    (m) => {
      webUpstreams(m)[0].meshGateway = { mode: "REMOTE" as "remote" };
    },
    `${UP}[0].meshGateway.mode`,
    /invalid mesh gateway mode "REMOTE"/,
  ],
  [
    "upstream to an unknown datacenter",
    (m) => {
      webUpstreams(m)[1].datacenter = "dc3";
    },
    `${UP}[1].datacenter`,
    /unknown datacenter "dc3"/,
  ],
  [
    "upstream to a service not declared there",
    (m) => {
      webUpstreams(m)[2].destinationName = "metrics";
    },
    `${UP}[2].destinationName`,
    /"metrics" is not declared in datacenter "dc2"/,
  ],
  [
    "upstream to a service in the wrong datacenter",
    (m) => {
      webUpstreams(m)[2].datacenter = "dc1";
    },
    `${UP}[2].destinationName`,
    /"logging" is not declared in datacenter "dc1"/,
  ],
  [
    "upstream to a service without connect endpoints",
    (m) => {
      delete m.services![1].connect;
    },
    `${UP}[0].destinationName`,
    /no connect endpoint/,
  ],
  [
    "upstream to another namespace",
    (m) => {
      webUpstreams(m)[0].destinationNamespace = "other";
    },
    `${UP}[0].destinationName`,
    /not declared/,
  ],
  [
    "duplicate local bind port",
    (m) => {
      webUpstreams(m)[2].localBindPort = 10000;
    },
    `${UP}[2].localBindPort`,
    /already used by .*upstreams\[0\]/,
  ],
  [
    "local bind port out of range",
    (m) => {
      webUpstreams(m)[1].localBindPort = 0;
    },
    `${UP}[1].localBindPort`,
    /out of range/,
  ],
  [
    "invalid destination name",
    (m) => {
      webUpstreams(m)[1].destinationName = "";
    },
    `${UP}[1].destinationName`,
    /invalid destination service name ""/,
  ],
  [
    "remote mode to a datacenter without gateway",
    (m) => {
      m.gateways = m.gateways!.filter((g) => g.datacenter !== "dc2");
    },
    `${UP}[0].meshGateway.mode`,
    /mode remote \(set by upstream\) needs a mesh gateway in the destination datacenter "dc2"/,
  ],
  [
    "local mode from a datacenter without gateway",
    (m) => {
      m.gateways = m.gateways!.filter((g) => g.datacenter !== "dc1");
    },
    `${UP}[1].meshGateway.mode`,
    /mode local \(set by upstream\) dials a mesh gateway in "dc1", which has none/,
  ],
  [
    "local mode decided by proxy-defaults without gateways",
    (m) => {
      m.gateways = [];
      delete webUpstreams(m)[2].meshGateway;
      m.proxyDefaults = { kind: "proxy-defaults", name: "global", meshGateway: { mode: "local" } };
    },
    `${UP}[2].meshGateway.mode`,
    /mode local \(set by proxy-defaults\)/,
  ],
  [
    "remote mode decided by service-defaults of the source",
    (m) => {
      m.gateways = [];
      delete webUpstreams(m)[2].meshGateway;
      m.serviceDefaults = [{ kind: "service-defaults", name: "web", meshGateway: { mode: "remote" } }];
    },
    `${UP}[2].meshGateway.mode`,
    /mode remote \(set by service-defaults\)/,
  ],
  [
    "remote mode decided by the instance of a connect-proxy",
    (m) => {
      m.gateways = [];
      m.services!.push(webProxy({ meshGateway: { mode: "remote" } }));
    },
    "services[4].proxy.upstreams[0].meshGateway.mode",
    /mode remote \(set by instance\)/,
  ],
];

describe("validateMesh", () => {
  it("accepts the default mesh", () => {
    expect(validateMesh(defaultMesh())).toEqual([]);
  });

  it.each(cases)("reports %s", (_what, change, path, message) => {
    const problems = validateMesh(mesh(change));
    const hit = problems.find((p) => p.path === path);
    expect(hit).toBeDefined();
    expect(hit!.message).toMatch(message);
  });

  it("reports all problems at once", () => {
    const everything = mesh((m) => {
      for (const [, change] of cases.filter(
        ([what]) =>
          !/empty datacenter list|duplicate datacenter names|primary datacenter that does not exist|unknown datacenter "dc7"|proxy-defaults of the wrong kind|service-defaults with an invalid mode|proxy-defaults with an invalid mode|gateway/.test(
            what,
          ),
      )) {
        change(m);
      }
    });
    const problems = validateMesh(everything);
    expect(problems.length).toBeGreaterThanOrEqual(20);
    for (const path of [
      "datacenters[1].wanJoin",
      "datacenters[0].ports.grpc",
      "services[1].port",
      `${UP}[1].datacenter`,
    ]) {
      expect(problems.map((p) => p.path)).toContain(path);
    }
  });

  it("reports each independent problem of a combined mesh (one per case)", () => {
    const independent = cases.filter(([what]) =>
      [
        "Connect disabled",
        "zero servers",
        "service port out of range",
        "duplicate local bind port",
        "invalid upstream mode",
        "proxy-defaults not named global",
      ].includes(what),
    );
    const m = mesh((x) => independent.forEach(([, change]) => change(x)));
    const paths = validateMesh(m).map((p) => p.path);
    for (const [, , path] of independent) expect(paths).toContain(path);
  });

  it("accepts a mode on a same-datacenter upstream without any gateway", () => {
    const m = mesh((x) => {
      x.gateways = [];
      x.services!.push({ name: "cache", datacenter: "dc1", port: 6379, connect: { sidecarService: { port: 21001 } } });
      web(x).connect!.sidecarService.proxy!.upstreams = [
        { destinationName: "cache", localBindPort: 10005, meshGateway: { mode: "remote" } },
      ];
      x.proxyDefaults = { kind: "proxy-defaults", name: "global", meshGateway: { mode: "local" } };
    });
    expect(validateMesh(m)).toEqual([]);
  });

  it("accepts mode none across datacenters without gateways", () => {
    const m = mesh((x) => {
      x.gateways = [];
      webUpstreams(x).forEach((u) => (u.meshGateway = { mode: "none" }));
    });
    expect(validateMesh(m)).toEqual([]);
  });

  it("accepts the seed's connect-proxy form when its destinations exist", () => {
    const m = mesh((x) => {
      x.services!.splice(0, 1, webProxy({ meshGateway: { mode: "remote" } }));
    });
    expect(validateMesh(m)).toEqual([]);
  });

  it("resolves service-defaults by the downstream, not by the proxy's own name", () => {
    const m = mesh((x) => {
      x.gateways = x.gateways!.filter((g) => g.datacenter === "dc2");
      x.services!.splice(0, 1, webProxy());
      x.serviceDefaults = [{ kind: "service-defaults", name: "web", meshGateway: { mode: "local" } }];
    });
    expect(validateMesh(m)).toEqual([
      {
        path: "services[0].proxy.upstreams[0].meshGateway.mode",
        message: expect.stringMatching(/mode local \(set by service-defaults\)/),
      },
    ]);
  });

  it("allows the same bind port on different bind addresses", () => {
    const m = mesh((x) => {
      webUpstreams(x)[1].localBindPort = 10000;
      webUpstreams(x)[1].localBindAddress = "127.0.0.2";
    });
    expect(validateMesh(m)).toEqual([]);
  });

  it("accepts datacenters that all name a primary other than the first (no mesh-level primaryDatacenter)", () => {
    const m = mesh((x) => {
      delete x.primaryDatacenter;
      x.datacenters.forEach((d) => (d.primaryDatacenter = "dc2"));
    });
    expect(validateMesh(m)).toEqual([]);
  });

  it("reports a shared primary datacenter that is not declared, at the first datacenter's field", () => {
    const m = mesh((x) => {
      delete x.primaryDatacenter;
      x.datacenters.forEach((d) => (d.primaryDatacenter = "dc9"));
    });
    expect(validateMesh(m)).toEqual([
      {
        path: "datacenters[0].primaryDatacenter",
        message: expect.stringMatching(/"dc9" is not one of the declared datacenters/),
      },
    ]);
  });

  it("still reports datacenters that name different primaries", () => {
    const m = mesh((x) => {
      delete x.primaryDatacenter;
      x.datacenters[0].primaryDatacenter = "dc2";
      x.datacenters[1].primaryDatacenter = "dc1";
    });
    expect(validateMesh(m)).toEqual([
      {
        path: "datacenters[1].primaryDatacenter",
        message: expect.stringMatching(/"dc1" differs from the mesh's "dc2"/),
      },
    ]);
  });

  it("names the field of an upstream, a connect block or a meshGateway that is not an object", () => {
    const loose = (x: unknown) => x as never;
    const m = mesh((x) => {
      webUpstreams(x).push(loose(null));
      web(x).connect!.sidecarService.proxy!.meshGateway = loose("remote");
      webUpstreams(x)[0].meshGateway = loose("local");
      x.services![1].connect = loose(null);
      x.proxyDefaults = { kind: "proxy-defaults", name: "global", meshGateway: loose("local") };
      x.serviceDefaults = [{ kind: "service-defaults", name: "web", meshGateway: loose(["local"]) }];
    });
    const problems = validateMesh(m);
    const at = (path: string) => problems.find((p) => p.path === path)?.message;
    expect(at(`${UP}[3]`)).toMatch(/must be an object/);
    expect(at("services[0].connect.sidecarService.proxy.meshGateway")).toMatch(
      /must be an object such as \{ mode: "local" \}/,
    );
    expect(at(`${UP}[0].meshGateway`)).toMatch(/must be an object such as/);
    expect(at("services[1].connect")).toMatch(/must be an object/);
    expect(at("proxyDefaults.meshGateway")).toMatch(/must be an object such as/);
    expect(at("serviceDefaults[0].meshGateway")).toMatch(/must be an object such as/);
    expect(problems.some((p) => p.path === "")).toBe(false);
  });

  it("reports a connect-proxy whose ID is the one Consul gives another service's sidecar (<id>-sidecar-proxy)", () => {
    const after = mesh((x) => x.services!.push(webProxy()));
    expect(validateMesh(after)).toContainEqual({
      path: "services[4].name",
      message: expect.stringMatching(
        /"web-sidecar-proxy" already registered in "dc1" by services\[0\]\.connect\.sidecarService/,
      ),
    });
    const before = mesh((x) => x.services!.unshift(webProxy()));
    expect(validateMesh(before)).toContainEqual({
      path: "services[1].connect.sidecarService",
      message: expect.stringMatching(/sidecar ID "web-sidecar-proxy" already registered in "dc1" by services\[0\]/),
    });
  });

  it("never throws, even on garbage", () => {
    for (const garbage of [
      null,
      undefined,
      1,
      "x",
      {},
      { datacenters: "nope" },
      { datacenters: [{}], services: [{}], gateways: [{}] },
    ]) {
      expect(() => validateMesh(garbage as unknown as Mesh)).not.toThrow();
      expect(validateMesh(garbage as unknown as Mesh).length).toBeGreaterThan(0);
    }
  });
});

describe("validateMesh: WAN federation through mesh gateways", () => {
  test("needs TLS and a gateway in every datacenter, and a known mode, each at its field", () => {
    const m: Mesh = { ...defaultMesh(), wanFederation: { mode: "mesh-gateways" } };
    expect(validateMesh(m)).toEqual([]);
    m.datacenters[1].tls = { enabled: false };
    m.gateways = (m.gateways ?? []).filter((g) => g.datacenter !== "dc2");
    expect(validateMesh(m).filter((p) => p.message.includes("through mesh gateways"))).toEqual([
      { path: "datacenters[1].tls.enabled", message: expect.stringContaining('"dc2" turns TLS off') },
      { path: "gateways", message: expect.stringContaining('"dc2" has none') },
    ]);
    const bad = { ...defaultMesh(), wanFederation: { mode: "vpn" } } as unknown as Mesh;
    expect(validateMesh(bad)).toEqual([{ path: "wanFederation.mode", message: expect.stringContaining('"vpn"') }]);
  });
});

describe("validateMesh: instances of a running Consul", () => {
  it("takes gateways and services that differ by instance id or node as instances, not clashes", () => {
    const m = mesh((x) => {
      x.gateways!.push({ ...x.gateways![0], id: "mesh-gateway-2" }, { ...x.gateways![0], node: "node-2" });
      x.services!.push({ ...x.services![0], node: "node-2" });
    });
    expect(validateMesh(m)).toEqual([]);
    const clash = mesh((x) => {
      x.gateways!.push(
        { ...x.gateways![0], id: "mesh-gateway-2", node: "node-2" },
        { ...x.gateways![0], id: "mesh-gateway-2", node: "node-2" },
      );
    });
    expect(validateMesh(clash).map((p) => p.path)).toEqual(["gateways[3].name"]);
  });
});

describe("validateMesh on arbitrary input (property)", () => {
  it("never throws and every problem names a path", () => {
    const loose = fc.oneof(fc.anything(), fc.array(fc.anything(), { maxLength: 3 }));
    const shaped = fc.record({
      datacenters: fc.oneof(
        loose,
        fc.array(fc.record({ name: fc.oneof(fc.string(), fc.anything()), ports: loose, connect: loose }), {
          maxLength: 3,
        }),
      ),
      services: fc.oneof(
        loose,
        fc.array(
          fc.record({
            name: fc.string(),
            datacenter: fc.string(),
            port: fc.anything(),
            proxy: loose,
            connect: loose,
            kind: loose,
          }),
          { maxLength: 3 },
        ),
      ),
      gateways: loose,
      serviceDefaults: loose,
      proxyDefaults: loose,
    });
    fc.assert(
      fc.property(fc.oneof(fc.anything(), shaped), (input) => {
        const problems = validateMesh(input as Mesh);
        expect(Array.isArray(problems)).toBe(true);
        for (const p of problems) {
          expect(typeof p.path).toBe("string");
          expect(typeof p.message).toBe("string");
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe("assertValidMesh", () => {
  it("passes a valid mesh", () => {
    expect(() => assertValidMesh(defaultMesh())).not.toThrow();
  });

  it("throws MeshValidationError with code E_MESH_INVALID listing every problem", () => {
    const m = mesh((x) => {
      x.datacenters[1].wanJoin = false;
      webUpstreams(x)[0].localBindPort = 70000;
    });
    let error: unknown;
    try {
      assertValidMesh(m);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(MeshValidationError);
    const err = error as MeshValidationError;
    expect(err.code).toBe("E_MESH_INVALID");
    expect(err.problems.map((p) => p.path)).toEqual(["datacenters[1].wanJoin", `${UP}[0].localBindPort`]);
    expect(err.message).toContain("2 problems");
    expect(err.message).toContain(`${UP}[0].localBindPort`);
  });
});
