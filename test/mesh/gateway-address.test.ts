/**
 * The one rule for a gateway's addresses (`mesh/model/gateway-address.ts`): Consul's
 * `BestAddress`, and, for generated meshes, agreement between every reader of it: the route
 * plan's hops, the routes file a gateway is given, what a gateway in Consul mode reads from the
 * catalog once the model's gateways are registered, and the plan tool's live-catalog reader.
 */
import fc from "fast-check";
import { connectEndpoint, gatewayWanEndpoint, type HealthEntry } from "../../gateway/sources/catalog-entries";
import {
  bestAddress,
  catalogAddresses,
  formatAddress,
  gatewayAddress,
  gatewayRegistrationAddresses,
  type CatalogEntryAddresses,
  type DialSide,
} from "../../mesh/model/gateway-address";
import type { Mesh, MeshGatewaySpec, MeshService, Mode } from "../../mesh/model/types";
import { planRoutes } from "../../mesh/plan/plan";
import { catalogMeshFragment, type HealthEntryJson } from "../../mesh/read/catalog-mesh";
import { toGatewayRegistration } from "../../mesh/render/gateway-registration";
import { renderGatewayRoutes } from "../../mesh/render/gateway-routes";

describe("bestAddress: Consul's CheckServiceNode.BestAddress", () => {
  const instance = {
    address: "10.0.0.5",
    port: 8443,
    wan: { address: "198.51.100.7", port: 443 },
    nodeAddress: "10.0.0.1",
    nodeWan: "198.51.100.1",
  };

  it.each<[string, Parameters<typeof bestAddress>[0], DialSide, string | undefined]>([
    ["WAN: the service's tagged wan, with its port", instance, "wan", "198.51.100.7:443"],
    ["WAN: a tagged port 0 is the service port", { ...instance, wan: { address: "w", port: 0 } }, "wan", "w:8443"],
    ["WAN: else the service address", { ...instance, wan: undefined }, "wan", "10.0.0.5:8443"],
    [
      "WAN: else the node's tagged wan",
      { ...instance, wan: undefined, address: undefined },
      "wan",
      "198.51.100.1:8443",
    ],
    ["WAN: else the node address", { port: 8443, nodeAddress: "10.0.0.1" }, "wan", "10.0.0.1:8443"],
    [
      "WAN: a tagged wan without address falls to the node",
      { ...instance, wan: { port: 443 } },
      "wan",
      "198.51.100.1:443",
    ],
    ["LAN: the service address, never a wan one", instance, "lan", "10.0.0.5:8443"],
    ["LAN: else the node address", { ...instance, address: undefined }, "lan", "10.0.0.1:8443"],
    ["nothing known", { port: 8443 }, "wan", undefined],
  ])("%s", (_label, input, side, expected) => {
    const found = bestAddress(input, side);
    expect(found && formatAddress(found)).toBe(expected);
  });

  it("reads a catalog entry's tagged addresses whatever the case of their keys", () => {
    const entry: CatalogEntryAddresses = {
      Node: { Address: "10.0.0.1", TaggedAddresses: { WAN: "198.51.100.1" } },
      Service: { Address: "", Port: 8443, TaggedAddresses: { Wan: { Address: "198.51.100.7", Port: 0 } } },
    };
    expect(catalogAddresses(entry)).toEqual({
      address: undefined,
      port: 8443,
      wan: { address: "198.51.100.7", port: 0 },
      nodeAddress: "10.0.0.1",
      nodeWan: "198.51.100.1",
    });
  });
});

const DATACENTERS = ["dc1", "dc2", "dc3"];
const SERVICES = ["web", "api", "db"];

/** An address of any kind a gateway may have: IPv4, IPv6, a host name. */
const address = fc.oneof(
  fc.tuple(fc.integer({ min: 1, max: 254 }), fc.integer({ min: 1, max: 254 })).map(([a, b]) => `10.${a}.0.${b}`),
  fc.integer({ min: 1, max: 0xfff }).map((n) => `fd00::${n.toString(16)}`),
  fc.constantFrom("gw-a.example", "gw-b.example"),
);
const port = fc.integer({ min: 1, max: 65535 });
const addressPort = fc.record({ address, port });
const mode = fc.constantFrom<Mode | undefined>("local", "remote", "none", undefined);

/** A gateway with every combination of address, port and tagged LAN and WAN addresses; at least one address. */
const gateway = (datacenter: string): fc.Arbitrary<MeshGatewaySpec> =>
  fc
    .record(
      {
        address,
        port,
        taggedAddresses: fc.record({ lan: addressPort, wan: addressPort }, { requiredKeys: [] }),
      },
      { requiredKeys: [] },
    )
    .filter((gw) => !!(gw.address || gw.taggedAddresses?.lan || gw.taggedAddresses?.wan))
    .map((gw) => ({ datacenter, ...gw }));

/** A service with a sidecar whose upstreams go to the same name in every other datacenter, modes at every level. */
const service = (datacenter: string, name: string): fc.Arbitrary<MeshService> =>
  fc
    .record({
      instance: mode,
      upstreams: fc.array(mode, { minLength: DATACENTERS.length, maxLength: DATACENTERS.length }),
    })
    .map(({ instance, upstreams }) => ({
      name,
      datacenter,
      port: 8080,
      address: "10.9.0.1",
      connect: {
        sidecarService: {
          port: 21000,
          proxy: {
            ...(instance ? { meshGateway: { mode: instance } } : {}),
            upstreams: DATACENTERS.filter((dc) => dc !== datacenter).map((dc, i) => ({
              destinationName: name,
              datacenter: dc,
              localBindPort: 9000 + i,
              ...(upstreams[i] ? { meshGateway: { mode: upstreams[i] } } : {}),
            })),
          },
        },
      },
    }));

const mesh: fc.Arbitrary<Mesh> = fc
  .record({
    gateways: fc.tuple(...DATACENTERS.map((dc) => fc.array(gateway(dc), { minLength: 1, maxLength: 2 }))),
    services: fc.tuple(...DATACENTERS.flatMap((dc) => SERVICES.map((name) => service(dc, name)))),
    proxyDefaults: mode,
    serviceDefaults: fc.tuple(...SERVICES.map(() => mode)),
  })
  .map(({ gateways, services, proxyDefaults, serviceDefaults }) => ({
    trustDomain: "11111111-2222-3333-4444-555555555555.consul",
    datacenters: DATACENTERS.map((name) => ({ name })),
    gateways: gateways.flat(),
    services,
    ...(proxyDefaults
      ? { proxyDefaults: { kind: "proxy-defaults", name: "global", meshGateway: { mode: proxyDefaults } } }
      : {}),
    serviceDefaults: SERVICES.flatMap((name, i) =>
      serviceDefaults[i]
        ? [{ kind: "service-defaults" as const, name, meshGateway: { mode: serviceDefaults[i] } }]
        : [],
    ),
  }));

/** The health entry Consul holds for a model gateway registered (as `MeshGateway` does) on a node at `node`. */
function registered(gw: MeshGatewaySpec, node: string): HealthEntryJson & HealthEntry {
  const at = gatewayRegistrationAddresses(gw);
  const body = toGatewayRegistration({
    address: at.address ?? "",
    port: at.port,
    lanAddress: at.address ? { address: at.address, port: at.port } : undefined,
    wanAddress: at.wan,
  });
  return {
    Node: { Node: `node-${gw.datacenter}`, Address: node },
    Service: { ...body, ID: body.ID, Service: body.Name, Address: body.Address, Port: body.Port },
    Checks: [],
  } as unknown as HealthEntryJson & HealthEntry;
}

const sortedSet = (endpoints: string[]) => [...new Set(endpoints)].sort();

describe("every reader of a gateway's addresses agrees, for generated meshes", () => {
  it("the plan's gateway hops are the endpoints of the routes files and of the catalog", () => {
    fc.assert(
      fc.property(mesh, (m) => {
        const routes = planRoutes(m).routes;
        for (const route of routes) {
          for (const hop of route.hops) {
            if (hop.kind !== "mesh-gateway") continue;
            const gateways = (m.gateways ?? []).filter((gw) => gw.datacenter === hop.datacenter);
            const side = hop.address === "LAN" ? "lan" : "wan";
            // What Consul dials once the model's gateways are registered.
            const dialled = gateways.flatMap((gw) => {
              const at = bestAddress(catalogAddresses(registered(gw, "192.0.2.1")), side);
              return gatewayAddress(gw, side) && at ? [formatAddress(at)] : [];
            });
            expect(sortedSet(hop.endpoints)).toEqual(sortedSet(dialled));
            if (side === "wan") {
              // What the gateway of the dialling datacenter is given to forward to (routes file) …
              const file = renderGatewayRoutes(m, route.source.datacenter);
              const remote = file.gateways.find((g) => g.datacenter === hop.datacenter);
              expect(sortedSet((remote?.endpoints ?? []).map(formatAddress))).toEqual(sortedSet(hop.endpoints));
              // … and what it reads from the catalog in Consul mode.
              const read = gateways.map((gw) => gatewayWanEndpoint(registered(gw, "192.0.2.1")));
              expect(sortedSet(read.flatMap((e) => (e ? [formatAddress(e)] : [])))).toEqual(sortedSet(hop.endpoints));
            }
          }
        }
      }),
      { numRuns: 150 },
    );
  });

  it("the plan tool's live-catalog reader models a registered gateway so that the rule gives back what Consul dials", () => {
    fc.assert(
      fc.property(gateway("dc1"), address, (gw, node) => {
        const entry = registered(gw, node);
        const fragment = catalogMeshFragment({
          datacenters: ["dc1"],
          perDatacenter: [{ datacenter: "dc1", healthEntries: [[entry]] }],
        });
        const [read] = fragment.mesh.gateways ?? [];
        for (const side of ["lan", "wan"] as const) {
          expect(gatewayAddress(read, side)).toEqual(bestAddress(catalogAddresses(entry), side));
        }
        expect(connectEndpoint(entry)).toEqual(bestAddress(catalogAddresses(entry), "lan"));
      }),
      { numRuns: 200 },
    );
  });
});
