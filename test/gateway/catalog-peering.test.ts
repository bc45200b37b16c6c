import { peeringRoutesFromCatalog, type CatalogPeeringAnswers } from "../../gateway/sources/catalog-peering";
import type { HealthEntry } from "../../gateway/sources/catalog-entries";

const TD = "11111111-2222-3333-4444-555555555555.consul";
const PEER_TD = "99999999-2222-3333-4444-555555555555.consul";

const server = (node: string, address: string, meta: Record<string, string>): HealthEntry => ({
  Node: { Node: node, Address: address },
  Service: { ID: "consul", Service: "consul", Port: 8300, Meta: meta },
});
const sidecar = (address: string, port: number): HealthEntry => ({
  Node: { Node: "n", Address: address },
  Service: { Kind: "connect-proxy", Address: address, Port: port },
});
const imported = (sni: string, wan: string, port: number): HealthEntry => ({
  Node: { Node: "peer-node", Address: "10.9.9.9" },
  Service: {
    Address: "10.9.9.9",
    Port: 21000,
    TaggedAddresses: { wan: { Address: wan, Port: port } },
    Connect: { PeerMeta: { SNI: [sni] } },
  },
});

function answers(over: Partial<CatalogPeeringAnswers> = {}): CatalogPeeringAnswers {
  return {
    mesh: [{ Peering: { PeerThroughMeshGateways: true } }],
    peerings: [
      { Name: "cluster-b", State: "ACTIVE" },
      {
        Name: "cluster-a",
        State: "ACTIVE",
        PeerServerName: `server.dc9.peering.${PEER_TD}`,
        PeerServerAddresses: ["203.0.113.5:8443", "[2001:db8::1]:8443", "nonsense"],
        StreamStatus: { ImportedServices: ["db"] },
      },
      { Name: "gone", State: "DELETING" },
    ],
    exported: [
      {
        Services: [
          { Name: "api", Consumers: [{ Peer: "cluster-b" }, { Peer: "gone" }, { Peer: "unknown" }] },
          { Name: "docs", Consumers: [{ Peer: "cluster-b" }] },
        ],
      },
    ],
    serviceDefaults: [{ Name: "docs", Protocol: "http" }],
    proxyDefaults: [],
    servers: [
      server("s1", "10.0.0.10", { grpc_tls_port: "8503", read_replica: "false" }),
      server("s2", "10.0.0.11", { grpc_tls_port: "8503", read_replica: "true" }),
      server("s3", "10.0.0.12", {}),
    ],
    local: new Map([
      ["api", [sidecar("10.0.0.3", 21001)]],
      ["docs", [sidecar("10.0.0.4", 21002)]],
    ]),
    imported: new Map([
      [
        "cluster-a",
        new Map([["db", [imported(`db.default.default.cluster-z.external.${PEER_TD}`, "203.0.113.5", 8443)]]]),
      ],
    ]),
    ...over,
  };
}

describe("peeringRoutesFromCatalog", () => {
  test("the control plane through the gateways, exported services per consumer, imported ones", () => {
    expect(peeringRoutesFromCatalog("dc1", TD, answers())).toEqual([
      { sni: `server.dc1.peering.${TD}`, kind: "local-servers", endpoints: [{ address: "10.0.0.10", port: 8503 }] },
      {
        sni: `server.dc9.peering.${PEER_TD}`,
        kind: "peer-servers",
        peer: "cluster-a",
        endpoints: [
          { address: "203.0.113.5", port: 8443 },
          { address: "2001:db8::1", port: 8443 },
        ],
      },
      {
        sni: `api.default.default.cluster-b.external.${TD}`,
        kind: "exported",
        peer: "cluster-b",
        service: "api",
        endpoints: [{ address: "10.0.0.3", port: 21001 }],
      },
      {
        sni: `docs.default.default.cluster-b.external.${TD}`,
        kind: "exported",
        peer: "cluster-b",
        service: "docs",
        terminates: true,
        endpoints: [],
      },
      {
        sni: `db.default.default.cluster-z.external.${PEER_TD}`,
        kind: "imported",
        peer: "cluster-a",
        service: "db",
        endpoints: [{ address: "203.0.113.5", port: 8443 }],
      },
    ]);
  });

  test("without PeerThroughMeshGateways no server names; a wildcard exports every service; proxy-defaults' protocol", () => {
    const routes = peeringRoutesFromCatalog(
      "dc1",
      TD,
      answers({
        mesh: [],
        exported: [{ Services: [{ Name: "*", Consumers: [{ Peer: "cluster-b" }] }] }],
        serviceDefaults: [],
        proxyDefaults: [{ Name: "global", Config: { protocol: "grpc" } }],
      }),
    );
    expect(routes.filter((r) => r.kind.endsWith("servers"))).toEqual([]);
    expect(routes.filter((r) => r.kind === "exported").map((r) => [r.service, r.terminates])).toEqual([
      ["api", true],
      ["docs", true],
    ]);
  });

  test("no peering, or answers of the wrong shape: no routes, never a throw", () => {
    const none = { mesh: [], peerings: [], exported: [], serviceDefaults: [], proxyDefaults: [], servers: [] };
    expect(peeringRoutesFromCatalog("dc1", TD, { ...none, local: new Map(), imported: new Map() })).toEqual([]);
    const junk = { mesh: null, peerings: {}, exported: "x", serviceDefaults: 1, proxyDefaults: null, servers: {} };
    expect(
      peeringRoutesFromCatalog("dc1", TD, {
        ...(junk as unknown as CatalogPeeringAnswers),
        local: new Map(),
        imported: new Map(),
      }),
    ).toEqual([]);
  });
});
