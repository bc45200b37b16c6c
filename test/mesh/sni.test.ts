import fc from "fast-check";
import {
  gatewaySni,
  isSniLabel,
  parsePeeringSni,
  parseServerSni,
  parseSni,
  peeredServiceSni,
  peeringServerSni,
  serverSni,
  serviceSni,
} from "../../mesh";

const TD = "5fcd4b81-a2ca-405a-ac62-0fac602c1949.consul";

/** Labels as Consul names are usable in SNI: lower case, digits, -, _, no edge - or _. */
const label = fc
  .stringMatching(/^[a-z0-9]([a-z0-9_-]{0,20}[a-z0-9])?$/)
  .filter((s) => s !== "internal" && s !== "internal-v1");
const trustDomain = fc.uuid().map((u) => `${u}.consul`);

describe("serviceSni", () => {
  it("builds the default-partition name", () => {
    expect(serviceSni({ service: "api", datacenter: "dc2", trustDomain: TD })).toBe(`api.default.dc2.internal.${TD}`);
  });
  it("puts the subset in front", () => {
    expect(serviceSni({ service: "api", subset: "v2", datacenter: "dc2", trustDomain: TD })).toBe(
      `v2.api.default.dc2.internal.${TD}`,
    );
  });
  it("uses internal-v1 off the default partition", () => {
    expect(serviceSni({ service: "api", namespace: "ns1", partition: "p1", datacenter: "dc2", trustDomain: TD })).toBe(
      `api.ns1.p1.dc2.internal-v1.${TD}`,
    );
    expect(serviceSni({ service: "api", partition: "p1", subset: "v1", datacenter: "dc2", trustDomain: TD })).toBe(
      `v1.api.default.p1.dc2.internal-v1.${TD}`,
    );
  });
  it("treats an explicit default partition like none, and lowers the trust domain", () => {
    expect(serviceSni({ service: "api", partition: "default", datacenter: "dc2", trustDomain: TD.toUpperCase() })).toBe(
      `api.default.dc2.internal.${TD}`,
    );
  });
});

describe("gatewaySni", () => {
  it("names a datacenter", () => {
    expect(gatewaySni({ datacenter: "dc2", trustDomain: TD })).toBe(`dc2.internal.${TD}`);
    expect(gatewaySni({ datacenter: "dc2", partition: "p1", trustDomain: TD })).toBe(`p1.dc2.internal-v1.${TD}`);
  });
});

describe("parseSni", () => {
  it("refuses names that only Unicode case mapping turns into ASCII (KELVIN SIGN is not k)", () => {
    expect(parseSni(`api.default.dc2.internal.${TD}`, TD)).toBeDefined();
    expect(parseSni(`\u212Aapi.default.dc2.internal.${TD}`, TD)).toBeUndefined();
    expect(parseSni(`api.default.dc2.internal.${TD.toUpperCase()}`, TD)).toBeDefined();
    expect(parseSni(`api.default.dc\u0130.internal.${TD}`, TD)).toBeUndefined();
  });

  it("reads every service form", () => {
    expect(parseSni(`api.default.dc2.internal.${TD}`, TD)).toEqual({
      kind: "service",
      service: "api",
      namespace: "default",
      partition: "default",
      datacenter: "dc2",
    });
    expect(parseSni(`v2.api.default.dc2.internal.${TD}`, TD)).toEqual({
      kind: "service",
      service: "api",
      namespace: "default",
      partition: "default",
      datacenter: "dc2",
      subset: "v2",
    });
    expect(parseSni(`api.ns.p1.dc2.internal-v1.${TD}`, TD)).toEqual({
      kind: "service",
      service: "api",
      namespace: "ns",
      partition: "p1",
      datacenter: "dc2",
    });
    expect(parseSni(`v2.api.ns.p1.dc2.internal-v1.${TD}`, TD)).toEqual({
      kind: "service",
      service: "api",
      namespace: "ns",
      partition: "p1",
      datacenter: "dc2",
      subset: "v2",
    });
  });

  it("reads gateway (datacenter) names", () => {
    expect(parseSni(`dc2.internal.${TD}`, TD)).toEqual({ kind: "gateway", datacenter: "dc2", partition: "default" });
    expect(parseSni(`p1.dc2.internal-v1.${TD}`, TD)).toEqual({ kind: "gateway", datacenter: "dc2", partition: "p1" });
  });

  it("is case-insensitive", () => {
    expect(parseSni(`API.Default.DC2.Internal.${TD.toUpperCase()}`, TD)).toEqual({
      kind: "service",
      service: "api",
      namespace: "default",
      partition: "default",
      datacenter: "dc2",
    });
  });

  it.each([
    ["another trust domain", `api.default.dc2.internal.aaaaaaaa-a2ca-405a-ac62-0fac602c1949.consul`],
    ["a prepared query", `q.default.dc2.query.${TD}`],
    ["a peered service", `api.default.default.peer1.external.${TD}`],
    ["a server name", "server.dc2.consul"],
    ["too few labels", `default.dc2.internal.${TD}`],
    ["too many labels", `a.b.c.d.e.internal.${TD}`],
    ["too many internal-v1 labels", `a.b.c.d.e.f.internal-v1.${TD}`],
    ["an empty label", `api..dc2.internal.${TD}`],
    ["a trailing dot", `api.default.dc2.internal.${TD}.`],
    ["a label with a bad character", `ap*i.default.dc2.internal.${TD}`],
    ["a label ending in -", `api-.default.dc2.internal.${TD}`],
    ["a 64-character label", `${"a".repeat(64)}.default.dc2.internal.${TD}`],
    ["an over-long name", `${"a.".repeat(130)}default.dc2.internal.${TD}`],
    ["the trust domain alone", TD],
    ["the trust domain with a dot", `.${TD}`],
    ["an empty name", ""],
  ])("rejects %s", (_what, name) => {
    expect(parseSni(name, TD)).toBeUndefined();
  });

  it("rejects everything under an empty trust domain", () => {
    expect(parseSni("api.default.dc2.internal.", "")).toBeUndefined();
  });

  it("accepts a name of exactly 253 characters and rejects 254", () => {
    const fixed = `.dc2.internal-v1.${TD}`;
    const partition = "p".repeat(253 - fixed.length - 3 * 63 - 3);
    const [subset, service, namespace] = ["s", "a", "n"].map((c) => c.repeat(63));
    const name253 = `${subset}.${service}.${namespace}.${partition}${fixed}`;
    expect(name253.length).toBe(253);
    expect(parseSni(name253, TD)).toEqual({
      kind: "service",
      subset,
      service,
      namespace,
      partition,
      datacenter: "dc2",
    });
    expect(parseSni(`b${name253}`, TD)).toBeUndefined();
  });

  it("never throws on any string (property)", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 300 }), fc.string({ maxLength: 60 }), (name, td) => {
        expect(() => parseSni(name, td)).not.toThrow();
        expect(() => parseSni(name, TD)).not.toThrow();
        expect(() => parseSni(`${name}.${TD}`, TD)).not.toThrow();
      }),
      { numRuns: 2000 },
    );
  });

  it("never throws on non-strings from untyped callers", () => {
    for (const bad of [undefined, null, 42, {}, []]) {
      expect(parseSni(bad as unknown as string, TD)).toBeUndefined();
      expect(parseSni("a", bad as unknown as string)).toBeUndefined();
    }
  });

  it("round-trips serviceSni for any valid labels (property)", () => {
    fc.assert(
      fc.property(
        label,
        label,
        fc.option(label, { nil: undefined }),
        label,
        trustDomain,
        fc.option(label, { nil: undefined }),
        (service, namespace, partition, datacenter, td, subset) => {
          const name = serviceSni({ service, namespace, partition, datacenter, trustDomain: td, subset });
          const parsed = parseSni(name, td);
          expect(parsed).toEqual({
            kind: "service",
            service,
            namespace,
            partition: partition ?? "default",
            datacenter,
            ...(subset ? { subset } : {}),
          });
          // and back again
          if (parsed?.kind === "service") expect(serviceSni({ ...parsed, trustDomain: td })).toBe(name);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it("round-trips gatewaySni for any valid labels (property)", () => {
    fc.assert(
      fc.property(label, fc.option(label, { nil: undefined }), trustDomain, (datacenter, partition, td) => {
        const parsed = parseSni(gatewaySni({ datacenter, partition, trustDomain: td }), td);
        expect(parsed).toEqual({ kind: "gateway", datacenter, partition: partition ?? "default" });
      }),
      { numRuns: 500 },
    );
  });

  it("a service name never parses as a gateway and vice versa (property)", () => {
    fc.assert(
      fc.property(label, label, label, (service, namespace, datacenter) => {
        expect(parseSni(serviceSni({ service, namespace, datacenter, trustDomain: TD }), TD)?.kind).toBe("service");
        expect(parseSni(gatewaySni({ datacenter, trustDomain: TD }), TD)?.kind).toBe("gateway");
      }),
    );
  });
});

describe("isSniLabel", () => {
  it("accepts DNS-like labels with underscores and rejects the rest", () => {
    for (const ok of ["dc1", "a", "my_dc", "web-1", "a".repeat(63)]) expect(isSniLabel(ok)).toBe(true);
    for (const bad of ["", "-a", "a-", "_a", "A", "a.b", "a".repeat(64), "é", undefined, 3])
      expect(isSniLabel(bad)).toBe(false);
  });
});

describe("serverSni and parseServerSni", () => {
  it("names a server, or any server of a datacenter, as Consul's connect.ServerSNI does", () => {
    expect(serverSni({ datacenter: "dc2", node: "Node-1" })).toBe("node-1.server.dc2.consul");
    expect(serverSni({ datacenter: "dc2" })).toBe("server.dc2.consul");
    expect(serverSni({ datacenter: "dc2", domain: "mesh.example." })).toBe("server.dc2.mesh.example");
  });
  it("reads them back, case-insensitively, under the given domain only", () => {
    expect(parseServerSni("NODE-1.server.DC2.consul")).toEqual({ datacenter: "dc2", node: "node-1" });
    expect(parseServerSni("server.dc2.consul")).toEqual({ datacenter: "dc2" });
    expect(parseServerSni("server.dc2.mesh.example", "mesh.example")).toEqual({ datacenter: "dc2" });
    for (const name of [
      "server.dc2.other",
      "a.b.server.dc2.consul",
      "server.consul",
      "node.client.dc2.consul",
      "-x.server.dc2.consul",
      `api.default.dc2.internal.${TD}`,
      "",
    ])
      expect(parseServerSni(name)).toBeUndefined();
    expect(parseServerSni("server.dc2.consul", "")).toBeUndefined();
  });
  it("round-trips every valid node and datacenter", () => {
    fc.assert(
      fc.property(label, label, fc.boolean(), (dc, node, any) => {
        const parts = any ? { datacenter: dc } : { datacenter: dc, node };
        expect(parseServerSni(serverSni(parts))).toEqual(parts);
      }),
    );
  });
});

describe("peeredServiceSni, peeringServerSni and parsePeeringSni", () => {
  const TD = "99999999-2222-3333-4444-555555555555.consul";

  test("as Consul builds them (connect.PeeredServiceSNI, connect.PeeringServerSAN)", () => {
    expect(peeredServiceSni({ service: "api", peer: "cluster-b", trustDomain: TD })).toBe(
      `api.default.default.cluster-b.external.${TD}`,
    );
    expect(peeredServiceSni({ service: "API", namespace: "ns", partition: "ap", peer: "B", trustDomain: TD })).toBe(
      `api.ns.ap.b.external.${TD}`,
    );
    expect(peeringServerSni("DC1", TD)).toBe(`server.dc1.peering.${TD}`);
  });

  test("read back under any trust domain; other shapes are not peering names", () => {
    expect(parsePeeringSni(`api.default.default.cluster-b.external.${TD}`)).toEqual({
      kind: "peered-service",
      service: "api",
      namespace: "default",
      partition: "default",
      peer: "cluster-b",
      trustDomain: TD,
    });
    expect(parsePeeringSni(`SERVER.dc1.PEERING.${TD}`)).toEqual({
      kind: "peering-server",
      datacenter: "dc1",
      trustDomain: TD,
    });
    for (const name of [
      `api.default.dc1.internal.${TD}`,
      "server.dc1.consul",
      `api.default.cluster-b.external.${TD}`,
      `server.dc1.peering`,
      `api.default.default.b.external.${TD}\u212a`,
      "",
    ])
      expect(parsePeeringSni(name)).toBeUndefined();
  });

  test("every peered service name reads back to its parts", () => {
    const label = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?$/);
    fc.assert(
      fc.property(label, label, label, label, (service, namespace, partition, peer) => {
        const parsed = parsePeeringSni(peeredServiceSni({ service, namespace, partition, peer, trustDomain: TD }));
        expect(parsed).toEqual({ kind: "peered-service", service, namespace, partition, peer, trustDomain: TD });
      }),
    );
  });
});
