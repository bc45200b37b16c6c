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
}
