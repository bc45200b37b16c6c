/**
 * The registration body of a mesh gateway: exactly what `consul connect envoy
 * -gateway=mesh -register` sends to `PUT /v1/agent/service/register`. Our gateway calls
 * this to register itself.
 */
import { formatAddress } from "../model/gateway-address";
import { DEFAULT_GATEWAY_NAME, DEFAULT_GATEWAY_PORT } from "../model/defaults";

/** An address, and a port that defaults to the gateway's port. */
export interface GatewayAddress {
  /** IP address or host name. */
  address: string;
  /** Port. Default: the gateway's `port`. */
  port?: number;
}

/** Input of {@link toGatewayRegistration}. */
export interface GatewayRegistrationInput {
  /** Service name. Default: `"mesh-gateway"`. */
  name?: string;
  /** Service ID. Default: the name. */
  id?: string;
  /** The gateway's address (`Address`). */
  address: string;
  /** The gateway's port (`Port`). Default: `8443`. */
  port?: number;
  /** LAN tagged address. Default: `address` and `port`. */
  lanAddress?: GatewayAddress;
  /** WAN tagged address, what other datacenters dial. Default: none (Consul then uses `Address`). */
  wanAddress?: GatewayAddress;
  /** Opaque `Proxy.Config`. Default: `{}`. */
  proxyConfig?: Record<string, unknown>;
  /**
   * Carries the Consul servers' own traffic (WAN federation through the gateways): `Meta`
   * `consul-wan-federation: "1"`, as `consul connect envoy -expose-servers` registers. Default: `false`.
   */
  exposeServers?: boolean;
}

/** The meta key that marks a gateway carrying the servers' traffic (Consul's `MetaWANFederationKey`). */
export const WAN_FEDERATION_META_KEY = "consul-wan-federation";

/** The body of `PUT /v1/agent/service/register` for a mesh gateway. */
export interface GatewayRegistrationJson {
  /** Always `mesh-gateway`. */
  Kind: "mesh-gateway";
  /** Service ID (default: the name). */
  ID: string;
  /** Service name (default `mesh-gateway`). */
  Name: string;
  /** The gateway's address. */
  Address: string;
  /** The gateway's port. */
  Port: number;
  /** `lan` always; `wan` when given (other datacenters then dial it). */
  TaggedAddresses: { lan: { Address: string; Port: number }; wan?: { Address: string; Port: number } };
  /** `consul-wan-federation: "1"` with `exposeServers`. */
  Meta?: Record<string, string>;
  /** Opaque proxy configuration. */
  Proxy: { Config: Record<string, unknown> };
  /** TCP check: name `mesh-gateway listening`, the LAN `host:port`, every `10s`, deregistered after `6h` critical. */
  Check: { Name: string; TCP: string; Interval: string; DeregisterCriticalServiceAfter: string };
}

/**
 * The gateway's registration body: `Kind: "mesh-gateway"`, `ID`, `Name`, `Address`, `Port`,
 * `TaggedAddresses` (`lan` always, `wan` when given), `Proxy.Config`, and a TCP check on the
 * LAN address (`0.0.0.0`/`::` checked on loopback) every `10s`, deregistered after `6h`
 * critical. Deterministic key order; never throws on input of the declared type.
 * @param input - The gateway's name, addresses and configuration.
 */
export function toGatewayRegistration(input: GatewayRegistrationInput): GatewayRegistrationJson {
  const name = input.name || DEFAULT_GATEWAY_NAME;
  const port = input.port ?? DEFAULT_GATEWAY_PORT;
  const lan = { Address: input.lanAddress?.address || input.address, Port: input.lanAddress?.port ?? port };
  const tagged: GatewayRegistrationJson["TaggedAddresses"] = { lan };
  if (input.wanAddress) tagged.wan = { Address: input.wanAddress.address, Port: input.wanAddress.port ?? port };
  const checkHost = lan.Address === "0.0.0.0" ? "127.0.0.1" : lan.Address === "::" ? "::1" : lan.Address;
  return {
    Kind: "mesh-gateway",
    ID: gatewayServiceId(input),
    Name: name,
    Address: input.address,
    Port: port,
    TaggedAddresses: tagged,
    ...(input.exposeServers ? { Meta: { [WAN_FEDERATION_META_KEY]: "1" } } : {}),
    Proxy: { Config: { ...(input.proxyConfig ?? {}) } },
    Check: {
      Name: "mesh-gateway listening",
      TCP: formatAddress({ address: checkHost, port: lan.Port }),
      Interval: "10s",
      DeregisterCriticalServiceAfter: "6h",
    },
  };
}

/**
 * The service ID a gateway registers under (its xDS node ID): `id`, else the name.
 * @param input - The gateway's name and ID.
 */
export function gatewayServiceId(input: Pick<GatewayRegistrationInput, "id" | "name">): string {
  return input.id || input.name || DEFAULT_GATEWAY_NAME;
}
