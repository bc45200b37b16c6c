/**
 * The live routing table of a gateway and the interface every route source (routes file,
 * Consul catalog) implements. A table is immutable: sources build a new one and the gateway
 * swaps it in, so connections in flight keep the endpoints they were routed with.
 */
import { DEFAULT_NAMESPACE, DEFAULT_PARTITION } from "../../mesh/model/defaults";
import type { PeeringRouteKind, RouteEndpoint, RoutesFile } from "../../mesh/model/routes-file";
import { DEFAULT_CONSUL_DOMAIN } from "../../mesh/model/sni";

/** A local service (or subset) and its healthy connect endpoints. */
export interface LocalServiceRoute {
  /** Service name, lower case. */
  service: string;
  /** Namespace, lower case. */
  namespace: string;
  /** Admin partition, lower case. */
  partition: string;
  /** Subset, lower case; `undefined` for the service itself. */
  subset?: string;
  /** Endpoints, in the order the source gave them. */
  endpoints: readonly RouteEndpoint[];
}

/** The mesh gateways of a remote datacenter (partition). */
export interface RemoteGatewayRoute {
  /** Datacenter name, lower case. */
  datacenter: string;
  /** Admin partition, lower case. */
  partition: string;
  /** The gateways' WAN endpoints. */
  endpoints: readonly RouteEndpoint[];
}

/** The servers' own traffic (WAN federation through mesh gateways). */
export interface ServerRoutes {
  /** Consul's domain, lower case, without a trailing dot. */
  domain: string;
  /** The local servers' RPC endpoints by node name, lower case. */
  servers: ReadonlyMap<string, readonly RouteEndpoint[]>;
}

/** A cluster peering name and where it goes (see `RoutesFilePeeringRoute`). */
export interface PeeringRoute {
  kind: PeeringRouteKind;
  /** The peer's name in this cluster, lower case; `""` when not known. */
  peer: string;
  /** The service, lower case; `""` for server names. */
  service: string;
  /** Consul's gateway would terminate mTLS for it: refused. */
  terminates: boolean;
  endpoints: readonly RouteEndpoint[];
}

/** Everything the router needs; built by a route source, never mutated. */
export interface RouteTable {
  /** The gateway's own datacenter. */
  datacenter: string;
  /** Trust domain, lower case. */
  trustDomain: string;
  /** Local services by {@link serviceKey}. */
  services: ReadonlyMap<string, LocalServiceRoute>;
  /** Remote gateways by {@link gatewayKey}. */
  gateways: ReadonlyMap<string, RemoteGatewayRoute>;
  /** Server routes; `undefined` when the gateway does not carry server traffic (server names are refused). */
  servers?: ServerRoutes;
  /** Cluster peering routes by SNI name, lower case; `undefined` or empty: peering names are refused. */
  peering?: ReadonlyMap<string, PeeringRoute>;
}

/**
 * The map key of a local service route.
 * @param partition admin partition.
 * @param namespace namespace.
 * @param service service name.
 * @param subset subset, or `undefined`.
 */
export function serviceKey(partition: string, namespace: string, service: string, subset?: string): string {
  return `${partition}/${namespace}/${service}/${subset ?? ""}`;
}

/**
 * The map key of a remote gateway route.
 * @param datacenter the remote datacenter.
 * @param partition admin partition.
 */
export function gatewayKey(datacenter: string, partition: string): string {
  return `${datacenter}/${partition}`;
}

/**
 * Builds a table from a routes file (already validated). Names are lower-cased, defaults
 * (`default` namespace and partition) filled in, and repeated entries merged. A gateway entry
 * for the gateway's own datacenter is ignored: its own name never routes to itself.
 * @param routes the routes file content.
 */
export function routeTableFromRoutesFile(routes: RoutesFile): RouteTable {
  const datacenter = routes.datacenter.toLowerCase();
  const services = new Map<string, LocalServiceRoute>();
  for (const s of routes.services) {
    const route: LocalServiceRoute = {
      service: s.name.toLowerCase(),
      namespace: (s.namespace || DEFAULT_NAMESPACE).toLowerCase(),
      partition: (s.partition || DEFAULT_PARTITION).toLowerCase(),
      subset: s.subset ? s.subset.toLowerCase() : undefined,
      endpoints: s.endpoints.map((e) => ({ address: e.address, port: e.port })),
    };
    const key = serviceKey(route.partition, route.namespace, route.service, route.subset);
    const previous = services.get(key);
    services.set(key, previous ? { ...route, endpoints: [...previous.endpoints, ...route.endpoints] } : route);
  }
  const gateways = new Map<string, RemoteGatewayRoute>();
  for (const g of routes.gateways) {
    const route: RemoteGatewayRoute = {
      datacenter: g.datacenter.toLowerCase(),
      partition: (g.partition || DEFAULT_PARTITION).toLowerCase(),
      endpoints: g.endpoints.map((e) => ({ address: e.address, port: e.port })),
    };
    if (route.datacenter === datacenter) continue;
    const key = gatewayKey(route.datacenter, route.partition);
    const previous = gateways.get(key);
    gateways.set(key, previous ? { ...route, endpoints: [...previous.endpoints, ...route.endpoints] } : route);
  }
  const table: RouteTable = { datacenter, trustDomain: routes.trustDomain.toLowerCase(), services, gateways };
  if (routes.wanFederation) {
    const servers = new Map<string, RouteEndpoint[]>();
    for (const s of routes.wanFederation.servers) {
      const node = s.node.toLowerCase();
      servers.set(node, [
        ...(servers.get(node) ?? []),
        ...s.endpoints.map((e) => ({ address: e.address, port: e.port })),
      ]);
    }
    const domain = (routes.wanFederation.domain ?? DEFAULT_CONSUL_DOMAIN).replace(/\.$/, "").toLowerCase();
    table.servers = { domain, servers };
  }
  if (routes.peering?.length) {
    const peering = new Map<string, PeeringRoute>();
    for (const p of routes.peering) {
      const sni = p.sni.toLowerCase();
      const previous = peering.get(sni);
      peering.set(sni, {
        kind: p.kind,
        peer: (p.peer ?? previous?.peer ?? "").toLowerCase(),
        service: (p.service ?? previous?.service ?? "").toLowerCase(),
        terminates: p.terminates === true || previous?.terminates === true,
        endpoints: [...(previous?.endpoints ?? []), ...p.endpoints.map((e) => ({ address: e.address, port: e.port }))],
      });
    }
    table.peering = peering;
  }
  return table;
}

/**
 * The table in routes file form (what `/routes` serves), sorted for stable output.
 * @param table the table.
 */
export function routeTableToRoutesFile(table: RouteTable): RoutesFile {
  const services = [...table.services.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([, s]) => ({
      name: s.service,
      namespace: s.namespace,
      partition: s.partition,
      ...(s.subset ? { subset: s.subset } : {}),
      endpoints: s.endpoints.map((e) => ({ address: e.address, port: e.port })),
    }));
  const gateways = [...table.gateways.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([, g]) => ({
      datacenter: g.datacenter,
      partition: g.partition,
      endpoints: g.endpoints.map((e) => ({ address: e.address, port: e.port })),
    }));
  const routes: RoutesFile = { datacenter: table.datacenter, trustDomain: table.trustDomain, services, gateways };
  if (table.servers) {
    routes.wanFederation = {
      domain: table.servers.domain,
      servers: [...table.servers.servers.entries()]
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([node, endpoints]) => ({
          node,
          endpoints: endpoints.map((e) => ({ address: e.address, port: e.port })),
        })),
    };
  }
  if (table.peering?.size) {
    routes.peering = [...table.peering.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([sni, p]) => ({
        sni,
        kind: p.kind,
        ...(p.peer ? { peer: p.peer } : {}),
        ...(p.service ? { service: p.service } : {}),
        ...(p.terminates ? { terminates: true } : {}),
        endpoints: p.endpoints.map((e) => ({ address: e.address, port: e.port })),
      }));
  }
  return routes;
}

/**
 * The number of routes in a table, by kind (`servers`: the local servers, 0 without server routes;
 * `peering`: cluster peering names).
 */
export function routeTableSize(table: RouteTable): {
  services: number;
  gateways: number;
  servers: number;
  peering: number;
} {
  return {
    services: table.services.size,
    gateways: table.gateways.size,
    servers: table.servers?.servers.size ?? 0,
    peering: table.peering?.size ?? 0,
  };
}

/** What a route source tells the gateway. */
export interface RouteSourceListener {
  /** A new table, valid and complete; replaces the previous one. */
  onTable(table: RouteTable): void;
  /** A failure to load or refresh; the last good table stays in force. */
  onError(error: Error): void;
}

/** The health of a route source, for `/readyz`. */
export interface RouteSourceStatus {
  /** A table has been loaded at least once. */
  loaded: boolean;
  /** The last attempt to refresh failed (the table in force may be out of date). */
  stale: boolean;
  /** The last error, if the last attempt failed. */
  lastError?: string;
  /** When the last good table was loaded (ms since the epoch). */
  lastLoadedAt?: number;
}

/** A source of route tables: a routes file, the Consul catalog, or a fixed table. */
export interface RouteSource {
  /** A short name for logs and metrics: `file`, `consul`, `static`. */
  readonly kind: string;
  /**
   * Starts loading and watching; resolves after the first attempt, successful or not (the
   * listener has then seen a table or an error).
   * @param listener receives tables and errors.
   */
  start(listener: RouteSourceListener): Promise<void>;
  /** Health for `/readyz`. */
  status(): RouteSourceStatus;
  /** Stops watching. Idempotent. */
  close(): Promise<void>;
}
