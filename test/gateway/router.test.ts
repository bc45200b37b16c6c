import fc from "fast-check";
import { route } from "../../gateway/routing/router";
import { routeTableFromRoutesFile, routeTableSize, routeTableToRoutesFile } from "../../gateway/routing/route-table";
import { gatewaySni, serviceSni } from "../../mesh/model/sni";

const TD = "5fcd4b81-a2ca-405a-ac62-0fac602c1949.consul";
const e = (port: number) => ({ address: "10.0.0.1", port });
const table = routeTableFromRoutesFile({
  datacenter: "dc1",
  trustDomain: TD,
  services: [
    { name: "web", endpoints: [e(1), e(2)] },
    { name: "web", subset: "v2", endpoints: [e(3)] },
    { name: "billing", namespace: "finance", partition: "retail", endpoints: [e(4)] },
    { name: "empty", endpoints: [] },
  ],
  gateways: [
    { datacenter: "dc2", endpoints: [e(8443)] },
    { datacenter: "dc3", partition: "retail", endpoints: [e(8444)] },
    { datacenter: "dc4", endpoints: [] },
  ],
});
const r = (sni: string | undefined) => route(sni, table, "dc1", TD);

describe("router", () => {
  test("a local service name → its endpoints", () => {
    expect(r(serviceSni({ service: "web", datacenter: "dc1", trustDomain: TD }))).toEqual({
      kind: "local",
      key: "default/default/web/",
      datacenter: "dc1",
      service: "web",
      endpoints: [e(1), e(2)],
    });
  });

  test("a local subset and a partitioned service", () => {
    expect(r(serviceSni({ service: "web", subset: "v2", datacenter: "dc1", trustDomain: TD }))).toMatchObject({
      kind: "local",
      service: "web:v2",
      endpoints: [e(3)],
    });
    expect(
      r(
        serviceSni({
          service: "billing",
          namespace: "finance",
          partition: "retail",
          datacenter: "dc1",
          trustDomain: TD,
        }),
      ),
    ).toMatchObject({
      kind: "local",
      endpoints: [e(4)],
    });
    // The same service in the default partition is another service.
    expect(
      r(serviceSni({ service: "billing", namespace: "finance", datacenter: "dc1", trustDomain: TD })),
    ).toMatchObject({ kind: "reject", reason: "unknown-service" });
  });

  test("another datacenter's service, or its name → its gateways", () => {
    expect(r(serviceSni({ service: "api", datacenter: "dc2", trustDomain: TD }))).toEqual({
      kind: "remote",
      key: "gw/dc2/default",
      datacenter: "dc2",
      service: "api",
      endpoints: [e(8443)],
    });
    expect(r(gatewaySni({ datacenter: "dc2", trustDomain: TD }))).toMatchObject({
      kind: "remote",
      datacenter: "dc2",
      service: "",
    });
    expect(r(gatewaySni({ datacenter: "dc3", partition: "retail", trustDomain: TD }))).toMatchObject({
      kind: "remote",
      endpoints: [e(8444)],
    });
    expect(r(serviceSni({ service: "x", partition: "retail", datacenter: "dc3", trustDomain: TD }))).toMatchObject({
      kind: "remote",
      endpoints: [e(8444)],
    });
    // dc3 has gateways only for the retail partition.
    expect(r(serviceSni({ service: "x", datacenter: "dc3", trustDomain: TD }))).toMatchObject({
      kind: "reject",
      reason: "unknown-datacenter",
    });
  });

  test.each([
    [undefined, "no-sni"],
    ["", "no-sni"],
    [`web.default.dc1.internal.0000.consul`, "foreign-trust-domain"],
    ["example.com", "foreign-trust-domain"],
    [`web.default.dc1.query.${TD}`, "unsupported-name"],
    [`server.dc1.${TD}`, "unsupported-name"],
    [`web.default.default.peer1.external.${TD}`, "unknown-peer-name"],
    [`nope.default.dc1.internal.${TD}`, "unknown-service"],
    [`empty.default.dc1.internal.${TD}`, "no-endpoints"],
    [`api.default.dc9.internal.${TD}`, "unknown-datacenter"],
    [`api.default.dc4.internal.${TD}`, "no-endpoints"],
    [`dc1.internal.${TD}`, "local-datacenter"],
  ])("%s → refused: %s", (sni, reason) => {
    expect(r(sni)).toMatchObject({ kind: "reject", reason });
  });

  test.each([
    [`retail.dc1.internal-v1.${TD}`, "local-datacenter"],
    [`DC1.INTERNAL.${TD.toUpperCase()}`, "local-datacenter"],
    [`web.default.dc1.internal.${TD}.`, "foreign-trust-domain"],
    [`.web.default.dc1.internal.${TD}`, "unsupported-name"],
    [`web..default.dc1.internal.${TD}`, "unsupported-name"],
    [`${"a".repeat(64)}.default.dc1.internal.${TD}`, "unsupported-name"],
    [`xn--wb-fka.default.dc1.internal.${TD}`, "unknown-service"],
    [`web.default.dc1.internal.${TD}.evil.example`, "foreign-trust-domain"],
    [`web.default.dc1.internal.x${TD}`, "foreign-trust-domain"],
    [`web.default.dc2.internal.dc1.internal.${TD}`, "unsupported-name"],
    [`api.default.dc1.internal.${TD}`, "unknown-service"],
  ])("adversarial name %s → refused: %s", (sni, reason) => {
    expect(r(sni)).toMatchObject({ kind: "reject", reason });
  });

  test("a table entry for the gateway's own datacenter never makes its names remote", () => {
    const looped = routeTableFromRoutesFile({
      datacenter: "dc1",
      trustDomain: TD,
      services: [],
      gateways: [
        { datacenter: "DC1", endpoints: [e(9999)] },
        { datacenter: "dc1", partition: "retail", endpoints: [e(9998)] },
      ],
    });
    expect(looped.gateways.size).toBe(0);
    for (const name of [
      `dc1.internal.${TD}`,
      `retail.dc1.internal-v1.${TD}`,
      `x.default.dc1.internal.${TD}`,
      `x.default.retail.dc1.internal-v1.${TD}`,
    ]) {
      expect(route(name, looped, "dc1", TD).kind).toBe("reject");
    }
  });

  test("no open relay: whatever the name, a destination comes from the table", () => {
    const known = new Set([...table.services.values(), ...table.gateways.values()].flatMap((x) => x.endpoints));
    fc.assert(
      fc.property(
        fc.oneof(fc.string(), fc.domain(), fc.constantFrom(`a.b.dc1.internal.${TD}`, `x.dc2.internal.${TD}`)),
        (name) => {
          const d = r(name);
          if (d.kind !== "reject") for (const endpoint of d.endpoints) expect(known.has(endpoint)).toBe(true);
        },
      ),
      { numRuns: 2000 },
    );
  });
});

describe("router: server names (WAN federation through the gateways)", () => {
  const withServers = routeTableFromRoutesFile({
    datacenter: "dc1",
    trustDomain: TD,
    services: [],
    gateways: [
      { datacenter: "dc2", endpoints: [e(8443)] },
      { datacenter: "dc4", endpoints: [] },
    ],
    wanFederation: {
      servers: [
        { node: "Server-A", endpoints: [e(8300)] },
        { node: "server-b", endpoints: [e(8301)] },
      ],
    },
  });
  const s = (sni: string) => route(sni, withServers, "dc1", TD);

  test("a local server by node, any local server, another datacenter's servers through its gateways", () => {
    expect(s("server-a.server.dc1.consul")).toEqual({
      kind: "server",
      key: "srv/server-a",
      datacenter: "dc1",
      node: "server-a",
      service: "",
      via: "local-servers",
      endpoints: [e(8300)],
    });
    expect(s("server.dc1.consul")).toMatchObject({ kind: "server", node: "", endpoints: [e(8300), e(8301)] });
    expect(s("dc2-server.server.dc2.consul")).toEqual({
      kind: "server",
      key: "gw/dc2/default",
      datacenter: "dc2",
      node: "dc2-server",
      service: "",
      via: "remote-gateways",
      endpoints: [e(8443)],
    });
    expect(s("SERVER.DC2.CONSUL")).toMatchObject({ kind: "server", via: "remote-gateways" });
  });

  test("an unknown node, an unknown datacenter, a datacenter without gateways: refused by name", () => {
    expect(s("server-z.server.dc1.consul")).toEqual({ kind: "reject", reason: "unknown-server", datacenter: "dc1" });
    expect(s("server.dc9.consul")).toEqual({ kind: "reject", reason: "unknown-datacenter", datacenter: "dc9" });
    expect(s("server.dc4.consul")).toEqual({ kind: "reject", reason: "no-endpoints", datacenter: "dc4" });
    expect(s("server.dc1.other")).toMatchObject({ kind: "reject", reason: "foreign-trust-domain" });
  });

  test("a gateway that does not carry server traffic refuses every server name", () => {
    for (const name of ["server.dc1.consul", "server-a.server.dc1.consul", "server.dc2.consul"])
      expect(r(name)).toMatchObject({ kind: "reject", reason: "foreign-trust-domain" });
  });

  test("the table keeps the servers apart from the services, and round-trips them", () => {
    expect(routeTableToRoutesFile(withServers).wanFederation).toEqual({
      domain: "consul",
      servers: [
        { node: "server-a", endpoints: [e(8300)] },
        { node: "server-b", endpoints: [e(8301)] },
      ],
    });
    expect(routeTableSize(withServers)).toEqual({ services: 0, gateways: 2, servers: 2, peering: 0 });
    expect(routeTableToRoutesFile(table).wanFederation).toBeUndefined();
  });
});

describe("router: cluster peering through the gateways", () => {
  const PEER_TD = "99999999-2222-3333-4444-555555555555.consul";
  const exported = `api.default.default.cluster-b.external.${TD}`;
  const withPeering = routeTableFromRoutesFile({
    datacenter: "dc1",
    trustDomain: TD,
    services: [{ name: "api", endpoints: [e(21000)] }],
    gateways: [],
    peering: [
      { sni: `server.dc1.peering.${TD}`, kind: "local-servers", endpoints: [e(8503)] },
      { sni: `server.dc9.peering.${PEER_TD}`, kind: "peer-servers", endpoints: [e(9443)] },
      { sni: exported, kind: "exported", peer: "cluster-b", service: "api", endpoints: [e(21000)] },
      {
        sni: `docs.default.default.cluster-b.external.${TD}`,
        kind: "exported",
        service: "docs",
        terminates: true,
        endpoints: [],
      },
      {
        sni: `db.default.default.cluster-a.external.${PEER_TD}`,
        kind: "imported",
        service: "db",
        endpoints: [e(9443)],
      },
      { sni: `idle.default.default.cluster-a.external.${PEER_TD}`, kind: "imported", service: "idle", endpoints: [] },
    ],
  });
  const p = (sni: string) => route(sni, withPeering, "dc1", TD);

  test("each name the table lists, exactly (case-insensitive), to its endpoints", () => {
    expect(p(exported.toUpperCase())).toEqual({
      kind: "peering",
      key: `peer/${exported}`,
      via: "exported",
      datacenter: "dc1",
      peer: "cluster-b",
      service: "api",
      endpoints: [e(21000)],
    });
    expect(p(`server.dc1.peering.${TD}`)).toMatchObject({
      kind: "peering",
      via: "local-servers",
      service: "",
      endpoints: [e(8503)],
    });
    expect(p(`server.dc9.peering.${PEER_TD}`)).toMatchObject({
      kind: "peering",
      via: "peer-servers",
      endpoints: [e(9443)],
    });
    expect(p(`db.default.default.cluster-a.external.${PEER_TD}`)).toMatchObject({
      kind: "peering",
      via: "imported",
      service: "db",
    });
    // Service names still route as before.
    expect(p(serviceSni({ service: "api", datacenter: "dc1", trustDomain: TD }))).toMatchObject({ kind: "local" });
  });

  test("a peering name not listed, one Consul's gateway would terminate, one without endpoints: refused by name", () => {
    for (const name of [
      `api.default.default.cluster-z.external.${TD}`, // exported, but not to that peer
      `web.default.default.cluster-b.external.${TD}`, // not exported
      `server.dc2.peering.${TD}`,
      `db.default.default.cluster-a.external.${TD}`,
    ])
      expect(p(name)).toEqual({ kind: "reject", reason: "unknown-peer-name" });
    expect(p(`docs.default.default.cluster-b.external.${TD}`)).toEqual({
      kind: "reject",
      reason: "peer-needs-termination",
      datacenter: "dc1",
      service: "docs",
    });
    expect(p(`idle.default.default.cluster-a.external.${PEER_TD}`)).toMatchObject({
      kind: "reject",
      reason: "no-endpoints",
    });
    // A gateway without peering routes refuses every peering name too.
    expect(r(exported)).toEqual({ kind: "reject", reason: "unknown-peer-name" });
  });

  test("the table round-trips its peering routes and counts them", () => {
    const file = routeTableToRoutesFile(withPeering);
    expect(file.peering?.map((route) => route.sni)).toEqual([...(file.peering ?? [])].map((route) => route.sni).sort());
    expect(routeTableToRoutesFile(routeTableFromRoutesFile(file))).toEqual(file);
    expect(routeTableSize(withPeering)).toEqual({ services: 1, gateways: 0, servers: 0, peering: 6 });
    expect(routeTableToRoutesFile(table).peering).toBeUndefined();
  });
});
