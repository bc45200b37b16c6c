/**
 * The routes file a gateway reads with `--routes FILE`: everything one gateway needs to
 * route, rendered from the same mesh model the Pulumi components declare.
 */

/** One endpoint: an address (IP or host name) and a port. */
export interface RouteEndpoint {
  address: string;
  port: number;
}

/** A service of the gateway's own datacenter and its connect endpoints (its sidecars). */
export interface RoutesFileService {
  name: string;
  /** Default: `"default"`. */
  namespace?: string;
  /** Default: `"default"`. */
  partition?: string;
  /** Service subset. Default: none. */
  subset?: string;
  endpoints: RouteEndpoint[];
}

/** The mesh gateways of another datacenter, at their WAN addresses. */
export interface RoutesFileGateway {
  datacenter: string;
  /** Default: `"default"`. */
  partition?: string;
  endpoints: RouteEndpoint[];
}

/** A Consul server of the gateway's own datacenter, at its server RPC address (`ports.server`, 8300). */
export interface RoutesFileServer {
  /** Its node name. */
  node: string;
  endpoints: RouteEndpoint[];
}

/**
 * The servers' own traffic, when datacenters are federated through the mesh gateways: the gateway
 * routes `<node>.server.<dc>.<domain>` and `server.<dc>.<domain>` (Consul's server SNI names) to
 * the local servers or to the named datacenter's gateways.
 */
export interface RoutesFileWanFederation {
  /** Consul's `domain`, which server SNI names end with. Default: `"consul"`. */
  domain?: string;
  /** The local datacenter's servers. */
  servers: RoutesFileServer[];
}

/** What a cluster peering name leads to; see {@link RoutesFilePeeringRoute}. */
export type PeeringRouteKind = "local-servers" | "peer-servers" | "exported" | "imported";

/**
 * A name of cluster peering through the mesh gateways, routed by exact match, as Consul's gateway
 * has a cluster or filter chain per name:
 * - `local-servers`: `server.<dc>.peering.<td>`, a peer's servers dialing this cluster's servers
 *   (the handshake and replication stream), to the local servers' gRPC TLS port;
 * - `peer-servers`: a peer's server name, which this cluster's servers dial through their local
 *   gateway, to the peer's server addresses (its gateways);
 * - `exported`: `<svc>.<ns>.<ap>.<peer>.external.<td>`, a local service exported to that peer, to
 *   its healthy connect endpoints;
 * - `imported`: a peer's exported service, from a local proxy in mesh gateway mode `local`, to
 *   the peer's gateways.
 */
export interface RoutesFilePeeringRoute {
  /** The SNI name, exactly (case-insensitive). */
  sni: string;
  kind: PeeringRouteKind;
  /** The peer's name in this cluster, when known. Default: none. */
  peer?: string;
  /** The service, for `exported` and `imported`. Default: none. */
  service?: string;
  /**
   * Consul's gateway terminates mTLS for this name (an exported service whose protocol is http,
   * http2 or grpc): a gateway that never decrypts refuses it. Default: `false`.
   */
  terminates?: boolean;
  endpoints: RouteEndpoint[];
}

/** The routes file: the contract between `mesh/`, the components and the gateway's `--routes`. */
export interface RoutesFile {
  /** The gateway's own datacenter. */
  datacenter: string;
  /** Trust domain, `<cluster-id>.consul`. */
  trustDomain: string;
  services: RoutesFileService[];
  gateways: RoutesFileGateway[];
  /** Server traffic (WAN federation through mesh gateways). Default: none (server names are refused). */
  wanFederation?: RoutesFileWanFederation;
  /** Cluster peering through the gateways. Default: none (peering names are refused). */
  peering?: RoutesFilePeeringRoute[];
}
