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

/** The routes file: the contract between `mesh/`, the components and the gateway's `--routes`. */
export interface RoutesFile {
  /** The gateway's own datacenter. */
  datacenter: string;
  /** Trust domain, `<cluster-id>.consul`. */
  trustDomain: string;
  services: RoutesFileService[];
  gateways: RoutesFileGateway[];
}
