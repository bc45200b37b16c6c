/**
 * The routing decision, pure: an SNI name and a table in, a destination or a refusal out,
 * exactly as Consul's Envoy mesh gateway routes (hashicorp/consul `agent/xds`: a name under another
 * datacenter to its gateways, a local service to its healthy connect endpoints; with WAN federation
 * through the gateways, a server name of another datacenter to its gateways, `<node>.server.<dc>` to
 * that local server, `server.<dc>` to any local server; with cluster peering, the names the table
 * lists exactly, as Consul's gateway has a cluster or filter chain per peering name). Nothing else
 * is ever forwarded: no open relay.
 */
import type { RouteEndpoint } from "../../mesh/model/routes-file";
import { parsePeeringSni, parseServerSni, parseSni } from "../../mesh/model/sni";
import type { PeeringRouteKind } from "../../mesh/model/routes-file";
import { DEFAULT_PARTITION } from "../../mesh/model/defaults";
import { gatewayKey, PeeringRoute, RouteTable, serviceKey } from "./route-table";

const HOST_NAME = /^[A-Za-z0-9._-]+$/;

/** Why a name is refused; stable values, used as metric labels. */
export const ROUTE_REJECT_REASONS = [
  /** The ClientHello carried no server name. */
  "no-sni",
  /** The name is not under the mesh's trust domain. */
  "foreign-trust-domain",
  /**
   * Not a service or datacenter name under the trust domain (queries, peers…), nor a server name
   * of a gateway that carries server traffic.
   */
  "unsupported-name",
  /** A local name of a service (or subset) the table does not know. */
  "unknown-service",
  /** A remote name whose datacenter (partition) has no known gateways. */
  "unknown-datacenter",
  /** The gateway's own datacenter name: nothing to forward it to. */
  "local-datacenter",
  /** A server name of the local datacenter whose node is not one of its servers. */
  "unknown-server",
  /** A cluster peering name the table does not list: a service not exported to that peer, no such peering. */
  "unknown-peer-name",
  /**
   * An exported service whose protocol (http, http2, grpc) makes Consul's gateway terminate mTLS for
   * its peers: a gateway that never decrypts refuses it by name.
   */
  "peer-needs-termination",
  /** The destination is known but has no healthy endpoints. */
  "no-endpoints",
  /** The gateway has no route table yet (set by the proxy, never by {@link route}). */
  "no-routes",
] as const;

/** One of {@link ROUTE_REJECT_REASONS}. */
export type RouteRejectReason = (typeof ROUTE_REJECT_REASONS)[number];

/** Where a connection goes. */
export type RouteDecision =
  | {
      /** To a local service's connect endpoints. */
      kind: "local";
      /** A stable key of the destination (for load-balancing state). */
      key: string;
      /** The local datacenter. */
      datacenter: string;
      /** The service (with `:subset` when a subset was named). */
      service: string;
      /** Candidate endpoints, never empty. */
      endpoints: readonly RouteEndpoint[];
    }
  | {
      /** To another datacenter's mesh gateways. */
      kind: "remote";
      key: string;
      /** The destination datacenter. */
      datacenter: string;
      /** The service named, or `""` for a datacenter name. */
      service: string;
      endpoints: readonly RouteEndpoint[];
    }
  | {
      /** Consul servers' own traffic (WAN federation through the gateways). */
      kind: "server";
      key: string;
      /** The datacenter named. */
      datacenter: string;
      /** The node named; `""` for any server of the datacenter. */
      node: string;
      /** Always `""`: no service. */
      service: "";
      /** To the local servers, or to the named datacenter's gateways. */
      via: "local-servers" | "remote-gateways";
      endpoints: readonly RouteEndpoint[];
    }
  | {
      /** Cluster peering through the gateways: a name the table lists. */
      kind: "peering";
      key: string;
      /** What the name leads to. */
      via: PeeringRouteKind;
      /** The local datacenter. */
      datacenter: string;
      /** The peer's name in this cluster; `""` when not known. */
      peer: string;
      /** The service; `""` for the servers' names. */
      service: string;
      endpoints: readonly RouteEndpoint[];
    }
  | {
      /** Refused: close the connection. */
      kind: "reject";
      reason: RouteRejectReason;
      /** The datacenter named, when the name parsed. */
      datacenter?: string;
      /** The service named, when there was one. */
      service?: string;
    };

/**
 * Decides where a connection with this SNI goes.
 * @param sni the server name from the ClientHello, or `undefined` when it had none.
 * @param table the live route table.
 * @param localDatacenter the gateway's datacenter. Case-insensitive.
 * @param trustDomain the mesh trust domain. Case-insensitive.
 */
export function route(
  sni: string | undefined,
  table: RouteTable,
  localDatacenter: string,
  trustDomain: string,
): RouteDecision {
  if (!sni) return { kind: "reject", reason: "no-sni" };
  if (table.peering?.size && HOST_NAME.test(sni)) {
    const name = sni.toLowerCase();
    const peered = table.peering.get(name);
    if (peered) return peeringRoute(name, peered, localDatacenter.toLowerCase());
  }
  // Host-name characters only, as a ClientHello carries them: parseSni lower-cases before it checks,
  // and Unicode case mapping turns some letters into ASCII (U+212A KELVIN SIGN becomes "k").
  const parsed = HOST_NAME.test(sni) ? parseSni(sni, trustDomain) : undefined;
  if (parsed === undefined && table.servers && HOST_NAME.test(sni)) {
    const server = parseServerSni(sni, table.servers.domain);
    if (server) return serverRoute(table, localDatacenter.toLowerCase(), server.datacenter, server.node);
  }
  if (parsed === undefined) {
    if (HOST_NAME.test(sni) && parsePeeringSni(sni)) return { kind: "reject", reason: "unknown-peer-name" };
    const underTrustDomain = sni.toLowerCase().endsWith(`.${trustDomain.toLowerCase()}`);
    return { kind: "reject", reason: underTrustDomain ? "unsupported-name" : "foreign-trust-domain" };
  }
  const local = localDatacenter.toLowerCase();
  if (parsed.kind === "gateway") {
    if (parsed.datacenter === local) {
      return { kind: "reject", reason: "local-datacenter", datacenter: parsed.datacenter };
    }
    return remote(table, parsed.datacenter, parsed.partition, "");
  }
  const service = parsed.subset ? `${parsed.service}:${parsed.subset}` : parsed.service;
  if (parsed.datacenter !== local) return remote(table, parsed.datacenter, parsed.partition, service);
  const key = serviceKey(parsed.partition, parsed.namespace, parsed.service, parsed.subset);
  const entry = table.services.get(key);
  if (entry === undefined) return { kind: "reject", reason: "unknown-service", datacenter: local, service };
  if (entry.endpoints.length === 0) return { kind: "reject", reason: "no-endpoints", datacenter: local, service };
  return { kind: "local", key, datacenter: local, service, endpoints: entry.endpoints };
}

function remote(table: RouteTable, datacenter: string, partition: string, service: string): RouteDecision {
  const key = gatewayKey(datacenter, partition);
  const entry = table.gateways.get(key);
  if (entry === undefined) return { kind: "reject", reason: "unknown-datacenter", datacenter, service };
  if (entry.endpoints.length === 0) return { kind: "reject", reason: "no-endpoints", datacenter, service };
  return { kind: "remote", key: `gw/${key}`, datacenter, service, endpoints: entry.endpoints };
}

function peeringRoute(name: string, entry: PeeringRoute, datacenter: string): RouteDecision {
  const named = { datacenter, service: entry.service };
  if (entry.terminates) return { kind: "reject", reason: "peer-needs-termination", ...named };
  if (entry.endpoints.length === 0) return { kind: "reject", reason: "no-endpoints", ...named };
  return {
    kind: "peering",
    key: `peer/${name}`,
    via: entry.kind,
    peer: entry.peer,
    ...named,
    endpoints: entry.endpoints,
  };
}

function serverRoute(table: RouteTable, local: string, datacenter: string, node: string | undefined): RouteDecision {
  const named = { datacenter, node: node ?? "", service: "" as const };
  if (datacenter !== local) {
    const key = gatewayKey(datacenter, DEFAULT_PARTITION);
    const entry = table.gateways.get(key);
    if (entry === undefined) return { kind: "reject", reason: "unknown-datacenter", datacenter };
    if (entry.endpoints.length === 0) return { kind: "reject", reason: "no-endpoints", datacenter };
    return { kind: "server", key: `gw/${key}`, ...named, via: "remote-gateways", endpoints: entry.endpoints };
  }
  const servers = table.servers?.servers ?? new Map<string, readonly RouteEndpoint[]>();
  const endpoints = node === undefined ? [...servers.values()].flat() : servers.get(node);
  if (endpoints === undefined) return { kind: "reject", reason: "unknown-server", datacenter };
  if (endpoints.length === 0) return { kind: "reject", reason: "no-endpoints", datacenter };
  return { kind: "server", key: `srv/${node ?? ""}`, ...named, via: "local-servers", endpoints };
}
