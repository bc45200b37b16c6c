/**
 * The one rule for a mesh gateway's addresses: where sidecars and other gateways dial it, from
 * the model and from a live catalog. Every layer asks here: the route plan, the routes file,
 * the catalog readers of the plan tool and of the gateway, and the components that register
 * gateways.
 *
 * Consul dials an instance by `BestAddress` (hashicorp/consul `agent/structs`,
 * `CheckServiceNode.BestAddress`): from another datacenter (WAN) the service's tagged `wan`
 * address (with its port, else the service port), else the service address, else the node's
 * tagged `wan` address, else the node address; from its own datacenter (LAN) the service
 * address, else the node address, on the service port.
 *
 * A gateway of the model is registered with the service address `taggedAddresses.lan`, else
 * `address`, on `port` (8443), and a tagged `wan` address when `taggedAddresses.wan` is set
 * (its port defaulting to `port`): so its LAN endpoint is the LAN one it declares, and its WAN
 * endpoint the WAN one, else the LAN one.
 */
import { DEFAULT_GATEWAY_PORT } from "./defaults";
import type { AddressPort, MeshGatewaySpec } from "./types";

/** What Consul holds of one instance's addresses: all `BestAddress` reads. */
export interface InstanceAddresses {
  /** The service's `Address` (empty: none). Default: none. */
  address?: string;
  /** The service's `Port`. */
  port: number;
  /** The service's tagged `wan` address and port (`0`: the service port). Default: none. */
  wan?: { address?: string; port?: number };
  /** The node's `Address`. Default: none. */
  nodeAddress?: string;
  /** The node's tagged `wan` address. Default: none. */
  nodeWan?: string;
}

/** Which side dials: `lan` from the instance's own datacenter, `wan` from another one. */
export type DialSide = "lan" | "wan";

/**
 * Where Consul dials an instance from `side`, as `BestAddress` decides; `undefined` when no
 * address is known (a gateway of the model without one is registered on its agent's address).
 * @param instance - The instance's addresses.
 * @param side - The side that dials.
 */
export function bestAddress(instance: InstanceAddresses, side: DialSide): AddressPort | undefined {
  const wan = side === "wan" ? instance.wan : undefined;
  const port = wan?.port || instance.port;
  const address =
    (wan ? wan.address : instance.address) || (side === "wan" && instance.nodeWan) || instance.nodeAddress || undefined;
  return address ? { address, port } : undefined;
}

/** A `TaggedAddresses` entry of the catalog's JSON. */
interface TaggedJson {
  Address?: string;
  Port?: number;
}

/** The part of a catalog or health entry (`/v1/health/service/<name>`) that holds addresses. */
export interface CatalogEntryAddresses {
  /** The node. */
  Node?: { Address?: string; TaggedAddresses?: Record<string, string | undefined> | null } | null;
  /** The service instance. */
  Service?: { Address?: string; Port?: number; TaggedAddresses?: Record<string, TaggedJson | undefined> | null } | null;
}

/** A `TaggedAddresses` entry, its key matched case-insensitively (Consul's JSON is not consistent). */
function taggedEntry<T>(tagged: Record<string, T | undefined> | null | undefined, key: string): T | undefined {
  for (const [name, value] of Object.entries(tagged ?? {})) if (name.toLowerCase() === key && value) return value;
  return undefined;
}

/**
 * The addresses of a catalog entry, for {@link bestAddress}.
 * @param entry - A `/v1/health/service/<name>` (or `/v1/health/connect/<name>`) entry.
 */
export function catalogAddresses(entry: CatalogEntryAddresses): InstanceAddresses {
  const service = entry.Service ?? {};
  const wan = taggedEntry(service.TaggedAddresses, "wan");
  return {
    address: service.Address || undefined,
    port: service.Port ?? 0,
    wan: wan ? { address: wan.Address, port: wan.Port } : undefined,
    nodeAddress: entry.Node?.Address || undefined,
    nodeWan: taggedEntry(entry.Node?.TaggedAddresses, "wan"),
  };
}

/** The addresses a gateway of the model is registered with (see the module's comment). */
export interface GatewayRegistrationAddresses {
  /** The service address (`Address`, and `TaggedAddresses.lan`); none: the agent's. */
  address?: string;
  /** The service port. */
  port: number;
  /** The tagged `wan` address, when declared. */
  wan?: AddressPort;
}

/**
 * How a gateway of the model is registered: the service address `taggedAddresses.lan`, else
 * `address`; the port `port`, else 8443; the tagged `wan` address `taggedAddresses.wan` (its port
 * defaulting to the gateway's).
 * @param gw - The gateway (any input: fields of the wrong type count as unset).
 */
export function gatewayRegistrationAddresses(gw: MeshGatewaySpec): GatewayRegistrationAddresses {
  const port = typeof gw.port === "number" ? gw.port : DEFAULT_GATEWAY_PORT;
  const lan = gw.taggedAddresses?.lan;
  const wan = gw.taggedAddresses?.wan;
  const address = (typeof lan?.address === "string" && lan.address) || (typeof gw.address === "string" && gw.address);
  const wanAddress = typeof wan?.address === "string" && wan.address;
  return {
    address: address || undefined,
    port,
    wan: wanAddress ? { address: wanAddress, port: typeof wan?.port === "number" ? wan.port : port } : undefined,
  };
}

/**
 * Where a gateway of the model is dialled from `side`, once registered (see the module's comment).
 * @param gw - The gateway.
 * @param side - `lan` from its own datacenter, `wan` from another.
 * @returns The endpoint, or `undefined` when the model gives no address (Consul then dials the agent's).
 */
export function gatewayAddress(gw: MeshGatewaySpec, side: DialSide): AddressPort | undefined {
  const registered = gatewayRegistrationAddresses(gw);
  return bestAddress({ address: registered.address, port: registered.port, wan: registered.wan }, side);
}

/**
 * `address:port`, with an IPv6 address in brackets (`[::1]:8443`).
 * @param endpoint - The address and port.
 */
export function formatAddress(endpoint: AddressPort): string {
  return endpoint.address.includes(":")
    ? `[${endpoint.address}]:${endpoint.port}`
    : `${endpoint.address}:${endpoint.port}`;
}
