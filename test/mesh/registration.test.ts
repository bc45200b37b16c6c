import fc from "fast-check";
import {
  fromServiceRegistration,
  toServiceRegistration,
  type MeshService,
  type RegistrableService,
  type Upstream,
} from "../../mesh";

const full: RegistrableService = {
  name: "web-sidecar-proxy",
  id: "web-sidecar-proxy-1",
  kind: "connect-proxy",
  namespace: "team-a",
  partition: "part-1",
  port: 21000,
  address: "10.0.0.7",
  tags: ["v1", "canary"],
  meta: { version: "1" },
  proxy: {
    destinationServiceName: "web",
    destinationServiceId: "web-1",
    localServicePort: 8080,
    meshGateway: { mode: "local" },
    upstreams: [
      {
        destinationName: "api",
        destinationNamespace: "ns2",
        destinationPartition: "p2",
        datacenter: "dc2",
        localBindAddress: "127.0.0.2",
        localBindPort: 10000,
        meshGateway: { mode: "remote" },
      },
    ],
    config: { protocol: "http", nested: { b: 1, a: [true] } },
  },
};

describe("toServiceRegistration", () => {
  it("renders every field, PascalCase, in a stable key order", () => {
    expect(JSON.stringify(toServiceRegistration(full))).toBe(
      JSON.stringify({
        Name: "web-sidecar-proxy",
        ID: "web-sidecar-proxy-1",
        Kind: "connect-proxy",
        Namespace: "team-a",
        Partition: "part-1",
        Address: "10.0.0.7",
        Port: 21000,
        Tags: ["v1", "canary"],
        Meta: { version: "1" },
        Proxy: {
          DestinationServiceName: "web",
          DestinationServiceID: "web-1",
          LocalServicePort: 8080,
          MeshGateway: { Mode: "local" },
          Upstreams: [
            {
              DestinationName: "api",
              DestinationNamespace: "ns2",
              DestinationPartition: "p2",
              Datacenter: "dc2",
              LocalBindAddress: "127.0.0.2",
              LocalBindPort: 10000,
              MeshGateway: { Mode: "remote" },
            },
          ],
          Config: { protocol: "http", nested: { b: 1, a: [true] } },
        },
      }),
    );
  });

  it('omits unset fields and a mode of "" (not set)', () => {
    expect(
      toServiceRegistration({
        name: "web",
        port: 8080,
        connect: {
          sidecarService: {
            proxy: {
              meshGateway: { mode: "" },
              upstreams: [{ destinationName: "api", localBindPort: 9000, meshGateway: {} }],
            },
          },
        },
      }),
    ).toEqual({
      Name: "web",
      Port: 8080,
      Connect: { SidecarService: { Proxy: { Upstreams: [{ DestinationName: "api", LocalBindPort: 9000 }] } } },
    });
    expect(toServiceRegistration({ name: "web", port: 8080, connect: { sidecarService: {} } })).toEqual({
      Name: "web",
      Port: 8080,
      Connect: { SidecarService: {} },
    });
  });

  it("leaves out a MeshService's datacenter and default namespace/partition", () => {
    const svc: MeshService = { name: "api", port: 8080, datacenter: "dc2", namespace: "default", partition: "default" };
    expect(toServiceRegistration(svc)).toEqual({ Name: "api", Port: 8080 });
  });

  it("renders the sidecar port and proxy", () => {
    expect(
      toServiceRegistration({
        name: "web",
        port: 8080,
        connect: { sidecarService: { port: 21000, proxy: { localServicePort: 8080 } } },
      }),
    ).toEqual({
      Name: "web",
      Port: 8080,
      Connect: { SidecarService: { Port: 21000, Proxy: { LocalServicePort: 8080 } } },
    });
  });

  it("does not share arrays or objects with the model", () => {
    const def = { name: "web", port: 1, tags: ["a"], meta: { k: "v" } };
    const json = toServiceRegistration(def);
    json.Tags?.push("b");
    (json.Meta as Record<string, string>).k = "changed";
    expect(def).toEqual({ name: "web", port: 1, tags: ["a"], meta: { k: "v" } });
  });
});

describe("fromServiceRegistration", () => {
  it("inverts toServiceRegistration on a full definition", () => {
    expect(fromServiceRegistration(toServiceRegistration(full))).toEqual(full);
  });

  it("round-trips any definition the model can hold (property)", () => {
    const name = fc.stringMatching(/^[a-z][a-z0-9-]{0,10}$/);
    const mode = fc.constantFrom("local" as const, "remote" as const, "none" as const);
    const opt = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });
    const upstream: fc.Arbitrary<Upstream> = fc.record(
      {
        destinationName: name,
        destinationNamespace: name,
        destinationPartition: name,
        datacenter: name,
        localBindPort: fc.integer({ min: 1, max: 65535 }),
        localBindAddress: fc.ipV4(),
        meshGateway: mode.map((m) => ({ mode: m })),
      },
      { requiredKeys: ["destinationName", "localBindPort"] },
    );
    const proxy = fc.record(
      {
        destinationServiceName: name,
        destinationServiceId: name,
        localServicePort: fc.integer({ min: 1, max: 65535 }),
        meshGateway: mode.map((m) => ({ mode: m })),
        upstreams: fc.array(upstream, { maxLength: 4 }),
        config: fc.dictionary(name, fc.jsonValue()),
      },
      { requiredKeys: [] },
    );
    const def = fc.record(
      {
        name,
        id: name,
        kind: fc.constantFrom("connect-proxy" as const, "mesh-gateway" as const),
        port: fc.integer({ min: 1, max: 65535 }),
        address: fc.ipV4(),
        tags: fc.array(name, { maxLength: 3 }),
        meta: fc.dictionary(name, name),
        proxy,
        connect: fc.record({
          sidecarService: fc.record({ port: fc.integer({ min: 1, max: 65535 }), proxy }, { requiredKeys: [] }),
        }),
        namespace: name.filter((n) => n !== "default"),
        partition: opt(name.filter((n) => n !== "default")),
      },
      { requiredKeys: ["name", "port"] },
    );
    fc.assert(
      fc.property(def, (d) => {
        const clean = JSON.parse(JSON.stringify(d)) as RegistrableService; // drop undefined members
        expect(fromServiceRegistration(toServiceRegistration(clean))).toEqual(clean);
      }),
      { numRuns: 300 },
    );
  });

  it("ignores fields the model does not know", () => {
    const json = { Name: "web", Port: 80, EnableTagOverride: true } as unknown as Parameters<
      typeof fromServiceRegistration
    >[0];
    expect(fromServiceRegistration(json)).toEqual({ name: "web", port: 80 });
  });
});
