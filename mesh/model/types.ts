/**
 * The mesh model: a typed mirror of Consul's own configuration, in camelCase, so that a
 * user can translate the Consul documentation line by line (`destination_name` becomes
 * `destinationName`, `mesh_gateway { mode }` becomes `meshGateway: { mode }`).
 *
 * Nothing here imports Pulumi or sockets: the components and the gateway both build on it.
 */

/** A mesh gateway mode as written at one configuration level; `""` means "not set here". */
export type Mode = "local" | "remote" | "none" | "";

/** The mode in force once every level has been consulted; nothing set anywhere is `"none"`. */
export type EffectiveMode = "local" | "remote" | "none";

/** Every mode that can be in force, in Consul's documentation order. */
export const EFFECTIVE_MODES: readonly EffectiveMode[] = ["local", "remote", "none"];

/** Consul's `MeshGateway { Mode }` block. */
export interface MeshGatewayConfig {
  /** The mode at this level. Default: `""` (not set here). */
  mode?: Mode;
}

/** One upstream of a connect proxy (`proxy.upstreams[]`). */
export interface Upstream {
  /** The service to reach (`destination_name`). */
  destinationName: string;
  /** Consul Enterprise namespace of the destination. Default: `"default"`. */
  destinationNamespace?: string;
  /** Consul Enterprise admin partition of the destination. Default: `"default"`. */
  destinationPartition?: string;
  /** Datacenter of the destination (`datacenter`). Default: the proxy's own datacenter. */
  datacenter?: string;
  /**
   * The cluster peer the destination is imported from (`destination_peer`): this cluster's name for
   * the peering. Not with `datacenter`. Default: none (a service of this cluster).
   */
  destinationPeer?: string;
  /** Port the sidecar listens on for this upstream (`local_bind_port`), 1–65535. */
  localBindPort: number;
  /** Address the sidecar binds for this upstream (`local_bind_address`). Default: Consul's `127.0.0.1`. */
  localBindAddress?: string;
  /** Gateway mode for this upstream alone: the highest precedence level. */
  meshGateway?: MeshGatewayConfig;
}

/** The `proxy { … }` block of a connect proxy, standalone or inside `sidecar_service`. */
export interface ProxyConfig {
  /** The service this proxy fronts (`destination_service_name`). Required for `kind: "connect-proxy"`. */
  destinationServiceName?: string;
  /** The instance ID of the service this proxy fronts (`destination_service_id`). */
  destinationServiceId?: string;
  /** Port of the local application the proxy forwards inbound traffic to (`local_service_port`). */
  localServicePort?: number;
  /** Gateway mode for every upstream of this instance (`mesh_gateway { mode }`). */
  meshGateway?: MeshGatewayConfig;
  /** The proxy's upstreams. Default: none. */
  upstreams?: Upstream[];
  /** Opaque proxy configuration (`config`), passed through unchanged. */
  config?: Record<string, unknown>;
}

/** The `connect { sidecar_service { … } }` block of a service definition. */
export interface ConnectConfig {
  /** The sidecar to register with the service. */
  sidecarService: {
    /** Port of the sidecar. Default: assigned by Consul from 21000–21255. */
    port?: number;
    /** The sidecar's proxy block. */
    proxy?: ProxyConfig;
  };
}

/** A service definition as Consul's agent accepts it (`service { … }`). */
export interface ServiceDefinition {
  /** Service name (`name`). */
  name: string;
  /** Instance ID (`id`). Default: the name. */
  id?: string;
  /**
   * Service kind: `"connect-proxy"` for a standalone proxy, `"mesh-gateway"` for a gateway. Default: a
   * typical service.
   */
  kind?: "connect-proxy" | "mesh-gateway";
  /** Port the service (or the proxy) listens on, 1–65535. */
  port: number;
  /** Address of the instance (`address`). Default: the agent's address. */
  address?: string;
  /** Tags (`tags`). */
  tags?: string[];
  /** Metadata (`meta`). */
  meta?: Record<string, string>;
  /** The proxy block, for `kind: "connect-proxy"` (and `"mesh-gateway"`'s `Proxy.Config`). */
  proxy?: ProxyConfig;
  /** The inline sidecar form. */
  connect?: ConnectConfig;
}

/** A service of the mesh: a Consul service definition placed in a datacenter. */
export interface MeshService extends ServiceDefinition {
  /** Datacenter whose agent this service registers with. */
  datacenter: string;
  /** Consul Enterprise namespace. Default: `"default"`. */
  namespace?: string;
  /** Consul Enterprise admin partition. Default: `"default"`. */
  partition?: string;
  /**
   * The Consul node (agent) this instance is registered on, as a live Consul or an agent's
   * `node_name` says: instance IDs are unique per node, so the same ID on two nodes is two
   * instances, not a clash. Default: the datacenter's one agent (as `ConsulMesh` registers).
   */
  node?: string;
}

/** `Kind = "proxy-defaults"`: global defaults for every connect proxy. */
export interface ProxyDefaultsEntry {
  kind: "proxy-defaults";
  /** Must be `"global"`: Consul accepts no other name. */
  name: "global" | string;
  /** Gateway mode for every proxy: the lowest precedence level. */
  meshGateway?: MeshGatewayConfig;
  /** Opaque proxy configuration (`Config`). */
  config?: Record<string, unknown>;
}

/** `Kind = "service-defaults"`: defaults for every instance of one service. */
export interface ServiceDefaultsEntry {
  kind: "service-defaults";
  /** The service these defaults apply to. */
  name: string;
  /** Protocol (`Protocol`): `tcp`, `http`, `http2`, `grpc`. Default: unset (Consul's `tcp`). */
  protocol?: string;
  /**
   * Gateway mode for the proxies of this service (the downstream: its sidecars and the
   * connect-proxies fronting it): below the instance, above proxy-defaults. It does not set
   * the mode of other services' upstreams to this service in this model (see `mode.ts`).
   */
  meshGateway?: MeshGatewayConfig;
}

/** A configuration entry this project writes with `PUT /v1/config`. */
export type ConfigEntry = ProxyDefaultsEntry | ServiceDefaultsEntry;

/** An address and port, as in Consul's `TaggedAddresses`. */
export interface AddressPort {
  address: string;
  port: number;
}

/** A Consul datacenter and the agent settings the mesh gateway prerequisites depend on. */
export interface DatacenterSpec {
  /** Datacenter name (`datacenter`): unique in the mesh, lower case letters, digits, `-` and `_`. */
  name: string;
  /**
   * The authority for Connect certificates (`primary_datacenter`); every datacenter must name the same one.
   * Default: the mesh's `primaryDatacenter`.
   */
  primaryDatacenter?: string;
  /** Connect (`connect { enabled }`). Default: `true`. */
  connect?: { enabled?: boolean };
  /**
   * Agent ports. `grpc` is Consul's plaintext gRPC (xDS) port, which mesh gateways and sidecars
   * need when `tls` is off; with TLS they use `grpc_tls` (8503) and plaintext gRPC stays off.
   * Default: `{ grpc: 8502 }` with `tls` off, else `{ grpc: -1 }`; `-1` or `0` disables, as in Consul.
   */
  ports?: { grpc?: number };
  /** `enable_central_service_config`, required when proxy-defaults or service-defaults set a mode. Default: `true`. */
  enableCentralServiceConfig?: boolean;
  /** Whether this datacenter is WAN joined with the others. Default: `true`. */
  wanJoin?: boolean;
  /** Number of Consul servers. Default: `1`. */
  servers?: number;
  /**
   * ACLs (`acl { enabled, default_policy }`): every agent, gateway and sidecar with a token of its
   * own, anything else refused. Default: `{ enabled: true, defaultPolicy: "deny" }`;
   * `{ enabled: false }` opts out.
   */
  acl?: { enabled?: boolean; defaultPolicy?: "allow" | "deny" };
  /**
   * TLS on every Consul link: the HTTP API only as HTTPS (`ports.https` 8501, `ports.http` off),
   * gRPC only as `grpc_tls` (8503), server RPC with `verify_incoming`, `verify_outgoing` and
   * `verify_server_hostname`. `httpsVerifyIncoming` also asks HTTPS clients for a certificate
   * signed by the CA (the CLI, the provider and the gateways then need one). Default:
   * `{ enabled: true, httpsVerifyIncoming: false }`; `{ enabled: false }` opts out (plain HTTP 8500,
   * plaintext gRPC 8502, server RPC in the clear).
   */
  tls?: { enabled?: boolean; httpsVerifyIncoming?: boolean };
  /**
   * Gossip encryption (`encrypt`, one key for the LAN and WAN pools of every datacenter, with
   * `encrypt_verify_incoming`/`_outgoing`). Default: `{ enabled: true }`; `{ enabled: false }` opts out.
   */
  gossipEncryption?: { enabled?: boolean };
  /**
   * Cluster peering (`peering { enabled }`): a datacenter that holds a peering needs it. Default:
   * `{ enabled: true }`, as Consul; `{ enabled: false }` turns it off.
   */
  peering?: { enabled?: boolean };
}

/** A mesh gateway service in one datacenter. */
export interface MeshGatewaySpec {
  /** Datacenter the gateway serves. */
  datacenter: string;
  /** Service name (and ID, unless `id` is set). Default: `"mesh-gateway"`. */
  name?: string;
  /**
   * Instance ID, as a live Consul reports it: the instances of one gateway service differ by it.
   * Default: the name (`ConsulMesh` runs one instance per gateway, registered under its name).
   */
  id?: string;
  /** Port the gateway listens on. Default: `8443`. */
  port?: number;
  /** Default address of the gateway (`Address`). */
  address?: string;
  /**
   * LAN and WAN addresses (`TaggedAddresses`); the WAN address is what other datacenters dial. Default:
   * `address` and `port`.
   */
  taggedAddresses?: { lan?: AddressPort; wan?: AddressPort };
  /** Opaque gateway configuration (`Proxy.Config`), passed through. Default: `{}`. */
  proxyConfig?: Record<string, unknown>;
  /**
   * The Consul node (agent) this instance is registered on, as a live Consul or an agent's
   * `node_name` says: instance IDs are unique per node, so the same ID on two nodes is two
   * instances, not a clash. Default: the datacenter's one agent (as `ConsulMesh` registers).
   */
  node?: string;
}

/** How the datacenters' servers reach each other; see {@link WanFederationSpec.mode}. */
export const WAN_FEDERATION_MODES = ["gossip", "mesh-gateways"] as const;

/** One of {@link WAN_FEDERATION_MODES}. */
export type WanFederationMode = (typeof WAN_FEDERATION_MODES)[number];

/** How the datacenters are federated. */
export interface WanFederationSpec {
  /**
   * `"gossip"`: every server joins the others over the WAN (`retry_join_wan`), so every server must
   * reach every other one. `"mesh-gateways"`: the servers' RPC and gossip go through the mesh
   * gateways (`connect.enable_mesh_gateway_wan_federation`; secondaries find the primary through
   * `primary_gateways`), so only the gateways need a WAN address; it needs TLS on server RPC and a
   * gateway in every datacenter. Default: `"gossip"`.
   */
  mode?: WanFederationMode;
}

/**
 * Another Consul cluster this one is peered with (cluster peering): what upstreams to its services
 * need to be planned and checked. The peering itself is made by the `Peering` component (or
 * `consul peering`); this is what this cluster knows of it.
 */
export interface PeerSpec {
  /** This cluster's name for the peer: what upstreams give as `destinationPeer`. */
  name: string;
  /**
   * The peer's name for this cluster: the `<peer>` label of the SNI names its gateways answer for
   * the services it exports here (`<svc>.<ns>.<ap>.<peer>.external.<trust-domain>`). Default: not
   * known (the plan shows a placeholder).
   */
  remoteName?: string;
  /** The peer's trust domain, `<cluster-id>.consul`. Default: not known (the plan shows a placeholder). */
  trustDomain?: string;
  /**
   * The services the peer exports to this cluster (its `exported-services` entry). Default: not
   * known (upstreams to the peer are not checked against it).
   */
  exportedServices?: string[];
  /**
   * The services of this mesh exported to the peer (this cluster's `exported-services` entry names
   * them with `Peer` this peer's `name`). Each must be declared in `services`. Default: none.
   */
  exports?: string[];
  /**
   * Whether the peering control plane goes through the mesh gateways (`PeerThroughMeshGateways` in
   * each cluster's `mesh` entry): this cluster then needs a mesh gateway in the datacenters that
   * peer, and TLS (the servers' gRPC TLS port carries the peering). Default: `false`.
   */
  throughGateways?: boolean;
  /** The datacenter of this cluster that holds the peering. Default: the primary datacenter. */
  datacenter?: string;
}

/** The whole topology a platform engineer declares. */
export interface Mesh {
  /** The Connect trust domain, `<cluster-id>.consul`. Default: {@link DEFAULT_TRUST_DOMAIN}. */
  trustDomain?: string;
  /**
   * The primary datacenter shared by every datacenter. Default: the first datacenter's `primaryDatacenter`,
   * else its name.
   */
  primaryDatacenter?: string;
  /** The datacenters, at least one. */
  datacenters: DatacenterSpec[];
  /** How the datacenters are federated. Default: `{ mode: "gossip" }`. */
  wanFederation?: WanFederationSpec;
  /** `proxy-defaults` (name `global`). */
  proxyDefaults?: ProxyDefaultsEntry;
  /** `service-defaults`, one per service name. */
  serviceDefaults?: ServiceDefaultsEntry[];
  /** Mesh gateways. */
  gateways?: MeshGatewaySpec[];
  /** Services (application services, their sidecars, standalone connect proxies). */
  services?: MeshService[];
  /** Cluster peers, which upstreams reach by `destinationPeer`. Default: none. */
  peers?: PeerSpec[];
}

/**
 * A placeholder trust domain used when a mesh declares none. Consul generates the real
 * cluster ID at bootstrap; gateways in Consul mode read it from `/v1/agent/connect/ca/roots`.
 */
export const DEFAULT_TRUST_DOMAIN = "11111111-2222-3333-4444-555555555555.consul";
