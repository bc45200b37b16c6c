/**
 * Catalog entries as the gateway reads them (`/v1/health/*`), and the one rule for the endpoint
 * each is dialled at, as Consul dials it (`bestAddress`): a local connect proxy at its LAN address,
 * another datacenter's (or a peer's) gateway at its WAN address.
 */
import { bestAddress, catalogAddresses } from "../../mesh/model/gateway-address";
import { isPort } from "../../mesh/model/port";
import type { RouteEndpoint } from "../../mesh/model/routes-file";

/** The parts of a `/v1/health/*` entry the gateway reads (Consul's JSON field names). */
export interface HealthEntry {
  Node?: { Node?: string; Address?: string; Datacenter?: string };
  Service?: {
    ID?: string;
    Service?: string;
    Kind?: string;
    Address?: string;
    Port?: number;
    Namespace?: string;
    Partition?: string;
    TaggedAddresses?: Record<string, { Address?: string; Port?: number } | undefined>;
    Proxy?: { DestinationServiceName?: string };
    Meta?: Record<string, string> | null;
    /** An imported service's: the SNI names its exporter's gateways answer to for it. */
    Connect?: { PeerMeta?: { SNI?: string[] } };
  };
}

/**
 * The WAN endpoint of a mesh gateway of another datacenter, as Consul dials it (`bestAddress`).
 * @param entry a `/v1/health/service/<gw>` entry.
 */
export function gatewayWanEndpoint(entry: HealthEntry): RouteEndpoint | undefined {
  return dialled(bestAddress(catalogAddresses(entry), "wan"));
}

/**
 * The endpoint of a connect proxy in the local datacenter, as Consul dials it (`bestAddress`).
 * @param entry a `/v1/health/connect/<svc>` entry.
 */
export function connectEndpoint(entry: HealthEntry): RouteEndpoint | undefined {
  return dialled(bestAddress(catalogAddresses(entry), "lan"));
}

/** An endpoint that can be dialled: with an address and a valid port. */
function dialled(endpoint: RouteEndpoint | undefined): RouteEndpoint | undefined {
  return endpoint && isPort(endpoint.port) ? endpoint : undefined;
}
