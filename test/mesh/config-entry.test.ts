import { sortKeys, toConfigEntry, toConfigEntryHcl, toStoredConfigEntry } from "../../mesh";

describe("toConfigEntry", () => {
  it("renders proxy-defaults exactly", () => {
    expect(
      JSON.stringify(toConfigEntry({ kind: "proxy-defaults", name: "global", meshGateway: { mode: "local" } })),
    ).toBe('{"Kind":"proxy-defaults","Name":"global","MeshGateway":{"Mode":"local"}}');
  });

  it('always writes MeshGateway, with Mode "" when unset, so previews never see a spurious diff', () => {
    const expected = '{"Kind":"proxy-defaults","Name":"global","MeshGateway":{"Mode":""}}';
    expect(JSON.stringify(toConfigEntry({ kind: "proxy-defaults", name: "global" }))).toBe(expected);
    expect(JSON.stringify(toConfigEntry({ kind: "proxy-defaults", name: "global", meshGateway: {} }))).toBe(expected);
    expect(JSON.stringify(toConfigEntry({ kind: "proxy-defaults", name: "global", meshGateway: { mode: "" } }))).toBe(
      expected,
    );
  });

  it("renders service-defaults with Protocol before MeshGateway when set", () => {
    expect(
      JSON.stringify(
        toConfigEntry({ kind: "service-defaults", name: "web", protocol: "http", meshGateway: { mode: "remote" } }),
      ),
    ).toBe('{"Kind":"service-defaults","Name":"web","Protocol":"http","MeshGateway":{"Mode":"remote"}}');
    expect(JSON.stringify(toConfigEntry({ kind: "service-defaults", name: "web" }))).toBe(
      '{"Kind":"service-defaults","Name":"web","MeshGateway":{"Mode":""}}',
    );
  });

  it("sorts proxy-defaults Config keys at every depth, whatever the input order", () => {
    const a = toConfigEntry({
      kind: "proxy-defaults",
      name: "global",
      config: { z: 1, a: { y: [{ d: 1, c: 2 }], b: true } },
    });
    const b = toConfigEntry({
      kind: "proxy-defaults",
      name: "global",
      config: { a: { b: true, y: [{ c: 2, d: 1 }] }, z: 1 },
    });
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
    expect(JSON.stringify(a)).toBe(
      '{"Kind":"proxy-defaults","Name":"global","MeshGateway":{"Mode":""},"Config":{"a":{"b":true,"y":[{"c":2,"d":1}]},"z":1}}',
    );
  });
});

describe("sortKeys", () => {
  it("keeps arrays in order and scalars as they are", () => {
    expect(sortKeys([3, 1, 2])).toEqual([3, 1, 2]);
    expect(sortKeys(null)).toBeNull();
    expect(sortKeys("x")).toBe("x");
  });
});

describe("toConfigEntryHcl", () => {
  it("renders the documentation's form", () => {
    expect(
      toConfigEntryHcl({ kind: "service-defaults", name: "web", protocol: "http", meshGateway: { mode: "local" } }),
    ).toBe('Kind = "service-defaults"\nName = "web"\nProtocol = "http"\nMeshGateway {\n  Mode = "local"\n}\n');
  });

  it("omits MeshGateway when no mode is set, and renders Config", () => {
    expect(toConfigEntryHcl({ kind: "proxy-defaults", name: "global", config: { protocol: "http" } })).toBe(
      'Kind = "proxy-defaults"\nName = "global"\nConfig = {\n  protocol = "http"\n}\n',
    );
  });
});

describe("toStoredConfigEntry (the form Consul 1.16 reads back; proven in test/real/consul-plumbing.test.ts)", () => {
  it("adds the blocks Consul fills in empty, in Consul's key order", () => {
    expect(
      JSON.stringify(toStoredConfigEntry({ kind: "proxy-defaults", name: "global", meshGateway: { mode: "local" } })),
    ).toBe(
      '{"Kind":"proxy-defaults","Name":"global","TransparentProxy":{},"MeshGateway":{"Mode":"local"},"Expose":{},"AccessLogs":{}}',
    );
    expect(JSON.stringify(toStoredConfigEntry({ kind: "service-defaults", name: "web", protocol: "http" }))).toBe(
      '{"Kind":"service-defaults","Name":"web","Protocol":"http","TransparentProxy":{},"MeshGateway":{},"Expose":{}}',
    );
  });

  it("keeps proxy-defaults Config with sorted keys, before the blocks", () => {
    expect(
      JSON.stringify(toStoredConfigEntry({ kind: "proxy-defaults", name: "global", config: { z: 1, a: 2 } })),
    ).toBe(
      '{"Kind":"proxy-defaults","Name":"global","Config":{"a":2,"z":1},"TransparentProxy":{},"MeshGateway":{},"Expose":{},"AccessLogs":{}}',
    );
  });
});
