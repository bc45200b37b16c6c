/**
 * The Consul server agent configuration of one datacenter, as the JSON a Consul config file
 * (`-config-file`, `/consul/config/*.json`) takes: snake_case keys, deterministic order.
 */
import { MeshValidationError } from "../errors";
import { primaryDatacenterOf } from "../model/mesh-proxies";
import type { Mesh } from "../model/types";
import { CONSUL_PORTS } from "../model/defaults";

/** Options of {@link renderAgentConfig}: what the model does not know about the deployment. */
export interface AgentConfigOptions {
  /** Addresses of other datacenters' servers to WAN join (`retry_join_wan`), in this order. Default: `[]`. */
  retryJoinWan?: string[];
  /** Address the HTTP, DNS and gRPC listeners bind (`client_addr`). Default: `"0.0.0.0"`. */
  clientAddr?: string;
  /** The web UI (`ui_config.enabled`). Default: `true`. */
  ui?: boolean;
  /**
   * ACL initial management token (`acl.tokens.initial_management`), written in the primary
   * datacenter only (Consul bootstraps ACLs there and replicates tokens to the others); only
   * used when the datacenter enables ACLs. Default: none.
   */
  initialManagementToken?: string;
  /**
   * The servers' own token (`acl.tokens.agent`), which needs `node:write`. Without it, a server
   * with `default_policy = deny` logs "Node info update blocked by ACLs". Default: the initial
   * management token (a lab setting; production meshes give each a token of its own).
   */
  agentToken?: string;
  /**
   * Token replication in a secondary datacenter (`acl.enable_token_replication` and
   * `acl.tokens.replication`), so that tokens created in the primary, such as a gateway's,
   * work here too. Default: the initial management token.
   */
  replicationToken?: string;
  /**
   * Pins Consul's cluster ID, and so the trust domain `<cluster-id>.consul`, through
   * `connect.ca_config.cluster_id` (read when the CA first starts; see {@link clusterIdOf}).
   * Written only when Connect is on. Default: not written (Consul draws a random one).
   */
  clusterId?: string;
  /** `bind_addr`. Default: not written (Consul picks the private address). */
  bindAddr?: string;
  /** `data_dir`. Default: not written (the official image sets `/consul/data`). */
  dataDir?: string;
}

/** The rendered agent configuration. */
export interface AgentConfigJson {
  /** `datacenter`. */
  datacenter: string;
  /** `primary_datacenter`, the same in every datacenter. */
  primary_datacenter: string;
  /** Always a server. */
  server: true;
  /** Number of servers to wait for (default 1). */
  bootstrap_expect: number;
  /** Only when `options.dataDir` is given. */
  data_dir?: string;
  /** Only when `options.bindAddr` is given. */
  bind_addr?: string;
  /** Listener address for HTTP, DNS and gRPC (default `0.0.0.0`). */
  client_addr: string;
  /** Always `true`: a mesh's servers never call HashiCorp's update-check service. */
  disable_update_check: true;
  /** The web UI (default on). */
  ui_config: { enabled: boolean };
  /** Connect (default on). */
  connect: { enabled: boolean; ca_config?: { cluster_id: string } };
  /**
   * Plaintext gRPC (xDS) port (default 8502). Since Consul 1.14 it is off unless set, and
   * TLS gRPC is the separate `grpc_tls` port, which needs agent TLS; this configuration has none.
   */
  ports: { grpc: number };
  /** Central service config (default on). */
  enable_central_service_config: boolean;
  /** Other datacenters' servers to WAN join. */
  retry_join_wan: string[];
  /** ACLs: `{ enabled: false }` when off. */
  acl: {
    /** Whether ACLs are on. */
    enabled: boolean;
    /** Default policy when on (default `deny`). */
    default_policy?: "allow" | "deny";
    /** Always `true` when on. */
    enable_token_persistence?: boolean;
    /** In a secondary datacenter with a replication token: `true`. */
    enable_token_replication?: boolean;
    /** The tokens given: initial management (primary only), agent, replication (secondaries only). */
    tokens?: { initial_management?: string; agent?: string; replication?: string };
  };
}

/**
 * The server agent configuration of `datacenter`: `datacenter`, `primary_datacenter`,
 * `server: true`, `bootstrap_expect` (the datacenter's `servers`, default 1), `client_addr`, `disable_update_check`,
 * `ui_config`, `connect.enabled` (default true; `ca_config.cluster_id` when pinned), `ports.grpc` (default 8502),
 * `enable_central_service_config` (default true), `retry_join_wan`, and `acl`
 * (`{ enabled: false }` when ACLs are off; else `default_policy` (default `"deny"`),
 * `enable_token_persistence: true`, and the tokens given: `initial_management` in the
 * primary, `agent` everywhere, `replication` with `enable_token_replication` in the others). Keys
 * always in this order. Throws a {@link MeshValidationError} when `datacenter` is not declared.
 * @param mesh - The mesh.
 * @param datacenter - The datacenter whose servers this configures.
 * @param options - Deployment details. Default: `{}`.
 */
export function renderAgentConfig(mesh: Mesh, datacenter: string, options: AgentConfigOptions = {}): AgentConfigJson {
  const dc = (mesh.datacenters ?? []).find((d) => d.name === datacenter);
  if (!dc) {
    throw new MeshValidationError(
      [{ path: "datacenter", message: `datacenter ${JSON.stringify(datacenter)} is not declared in the mesh` }],
      "agent configuration",
    );
  }
  const primary = dc.primaryDatacenter ?? primaryDatacenterOf(mesh) ?? dc.name;
  const config: AgentConfigJson = {
    datacenter: dc.name,
    primary_datacenter: primary,
    server: true,
    bootstrap_expect: dc.servers ?? 1,
  } as AgentConfigJson;
  if (options.dataDir !== undefined) config.data_dir = options.dataDir;
  if (options.bindAddr !== undefined) config.bind_addr = options.bindAddr;
  config.client_addr = options.clientAddr ?? "0.0.0.0";
  config.disable_update_check = true;
  config.ui_config = { enabled: options.ui ?? true };
  config.connect = { enabled: dc.connect?.enabled ?? true };
  if (options.clusterId && config.connect.enabled) config.connect.ca_config = { cluster_id: options.clusterId };
  config.ports = { grpc: dc.ports?.grpc ?? CONSUL_PORTS.grpc };
  config.enable_central_service_config = dc.enableCentralServiceConfig ?? true;
  config.retry_join_wan = [...(options.retryJoinWan ?? [])];
  if (dc.acl?.enabled) {
    config.acl = { enabled: true, default_policy: dc.acl.defaultPolicy ?? "deny", enable_token_persistence: true };
    const management = options.initialManagementToken;
    const agent = options.agentToken ?? management;
    const replication = options.replicationToken ?? management;
    const tokens: NonNullable<AgentConfigJson["acl"]["tokens"]> = {};
    if (dc.name === primary) {
      if (management) tokens.initial_management = management;
    } else if (replication) {
      config.acl.enable_token_replication = true;
      tokens.replication = replication;
    }
    if (agent) tokens.agent = agent;
    if (Object.keys(tokens).length > 0) config.acl.tokens = tokens;
  } else {
    config.acl = { enabled: false };
  }
  return config;
}
