/**
 * The Consul server agent configuration of one datacenter, as the JSON a Consul config file
 * (`-config-file`, `/consul/config/*.json`) takes: snake_case keys, deterministic order.
 */
import { MeshValidationError } from "../errors";
import { primaryDatacenterOf } from "../model/mesh-proxies";
import type { Mesh } from "../model/types";
import { CONSUL_PORTS } from "../model/defaults";
import { securityOf } from "../model/security";

/** Options of {@link renderAgentConfig}: what the model does not know about the deployment. */
export interface AgentConfigOptions {
  /**
   * Addresses of other datacenters' servers to WAN join (`retry_join_wan`), in this order; with
   * WAN federation through mesh gateways there are none (the gateways carry the joins). Default: `[]`.
   */
  retryJoinWan?: string[];
  /**
   * With WAN federation through mesh gateways, in a secondary datacenter: the primary's gateways
   * (`primary_gateways`, `host:port` of their WAN addresses), where its servers first reach the
   * primary. Required there; not written elsewhere. Default: none.
   */
  primaryGateways?: string[];
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
   * The servers' own token (`acl.tokens.agent`), which needs `node:write` on their nodes (a node
   * identity). Without it, a server with `default_policy = deny` logs "Node info update
   * blocked by ACLs". Default: none.
   */
  agentToken?: string;
  /**
   * Token replication in a secondary datacenter (`acl.enable_token_replication` and
   * `acl.tokens.replication`), so that tokens created in the primary, such as a gateway's,
   * resolve here without the primary. Default: none (tokens are resolved in the primary).
   */
  replicationToken?: string;
  /**
   * Where the agent reads its TLS files (with `tls` on). Default: {@link AGENT_TLS_FILES}.
   */
  tlsFiles?: AgentTlsFiles;
  /**
   * The gossip encryption key (`encrypt`, 32 bytes in base64), required with
   * `gossipEncryption` on. Default: none.
   */
  gossipKey?: string;
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

/** The TLS files of an agent: the CA that signs every agent's certificate, its certificate and key. */
export interface AgentTlsFiles {
  /** `tls.defaults.ca_file`. */
  caFile: string;
  /** `tls.defaults.cert_file`. */
  certFile: string;
  /** `tls.defaults.key_file`. */
  keyFile: string;
}

/** Where the official image's agents read their TLS files: beside the configuration. */
export const AGENT_TLS_FILES: AgentTlsFiles = {
  caFile: "/consul/config/tls/ca.pem",
  certFile: "/consul/config/tls/server.pem",
  keyFile: "/consul/config/tls/server-key.pem",
};

/** The `tls` stanza of an agent with TLS on. */
export interface AgentTlsJson {
  /** The files and `verify_incoming`/`verify_outgoing` on every interface unless overridden. */
  defaults: { ca_file: string; cert_file: string; key_file: string; verify_incoming: true; verify_outgoing: true };
  /** Server RPC checks the other side is a server of the datacenter it claims (`server.<dc>.<domain>`). */
  internal_rpc: { verify_server_hostname: true };
  /** HTTPS asks for a client certificate only with `httpsVerifyIncoming`. */
  https: { verify_incoming: boolean };
  /** Envoy's bootstrap carries a CA and no client certificate, so gRPC never asks for one. */
  grpc: { verify_incoming: false };
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
  connect: { enabled: boolean; ca_config?: { cluster_id: string }; enable_mesh_gateway_wan_federation?: true };
  /** Only when the datacenter turns cluster peering off (Consul's default is on). */
  peering?: { enabled: false };
  /**
   * With TLS: `http` -1 (off), `https` 8501, `grpc` -1 unless the datacenter sets it, `grpc_tls`
   * 8503. Without: plaintext `grpc` (default 8502), HTTP on Consul's default 8500.
   */
  ports: { http?: number; https?: number; grpc: number; grpc_tls?: number };
  /** With TLS: the files and checks on every interface. */
  tls?: AgentTlsJson;
  /** With gossip encryption: the key. */
  encrypt?: string;
  /** With gossip encryption: always `true`. */
  encrypt_verify_incoming?: true;
  /** With gossip encryption: always `true`. */
  encrypt_verify_outgoing?: true;
  /**
   * With gossip encryption: always `true`, so that the configured key is the one in use (Consul
   * otherwise keeps the first key in its data directory and ignores a new one).
   */
  disable_keyring_file?: true;
  /** Central service config (default on). */
  enable_central_service_config: boolean;
  /** Other datacenters' servers to WAN join (none with WAN federation through mesh gateways). */
  retry_join_wan: string[];
  /** With WAN federation through mesh gateways, in a secondary: the primary's gateways. */
  primary_gateways?: string[];
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
 * `ui_config`, `connect.enabled` (default true; `ca_config.cluster_id` when pinned;
 * `enable_mesh_gateway_wan_federation` with WAN federation through mesh gateways), `peering` (only
 * `{ enabled: false }`, when the datacenter turns it off), `ports`
 * (HTTPS 8501 and gRPC TLS 8503 with `tls`, else plaintext gRPC, default 8502), `tls` (with TLS),
 * `encrypt` and its checks (with gossip encryption), `enable_central_service_config` (default
 * true), `retry_join_wan`, `primary_gateways` (secondaries, WAN federation through mesh gateways), and `acl` (`{ enabled: false }` when ACLs are off; else
 * `default_policy` (default `"deny"`), `enable_token_persistence: true`, and the tokens given:
 * `initial_management` in the primary, `agent` everywhere, `replication` with
 * `enable_token_replication` in the others). TLS, gossip encryption and ACLs are on unless the
 * datacenter opts out (`securityOf`). Keys always in this order. Throws a
 * {@link MeshValidationError} when `datacenter` is not declared, gossip encryption is on
 * and `options.gossipKey` is not given, or, with WAN federation through mesh gateways, a secondary
 * has no `primaryGateways` or any datacenter is given `retryJoinWan`.
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
  const throughGateways = mesh.wanFederation?.mode === "mesh-gateways";
  if (throughGateways) config.connect.enable_mesh_gateway_wan_federation = true;
  if (dc.peering?.enabled === false) config.peering = { enabled: false };
  const security = securityOf(dc);
  if (security.tls) {
    const files = options.tlsFiles ?? AGENT_TLS_FILES;
    config.ports = { http: -1, https: CONSUL_PORTS.https, grpc: dc.ports?.grpc ?? -1, grpc_tls: CONSUL_PORTS.grpcTls };
    config.tls = {
      defaults: {
        ca_file: files.caFile,
        cert_file: files.certFile,
        key_file: files.keyFile,
        verify_incoming: true,
        verify_outgoing: true,
      },
      internal_rpc: { verify_server_hostname: true },
      https: { verify_incoming: security.httpsVerifyIncoming },
      grpc: { verify_incoming: false },
    };
  } else {
    config.ports = { grpc: dc.ports?.grpc ?? CONSUL_PORTS.grpc };
  }
  if (security.gossipEncryption) {
    if (!options.gossipKey) {
      throw new MeshValidationError(
        [{ path: "gossipKey", message: `gossip encryption is on in ${JSON.stringify(dc.name)}: give the key` }],
        "agent configuration",
      );
    }
    config.encrypt = options.gossipKey;
    config.encrypt_verify_incoming = true;
    config.encrypt_verify_outgoing = true;
    // The key in this file rules: a replaced key is used on the next start, not one kept on disk.
    config.disable_keyring_file = true;
  }
  config.enable_central_service_config = dc.enableCentralServiceConfig ?? true;
  config.retry_join_wan = [...(options.retryJoinWan ?? [])];
  if (throughGateways) {
    const problems = [];
    if (config.retry_join_wan.length > 0)
      problems.push({
        path: "retryJoinWan",
        message: "with WAN federation through mesh gateways, the gateways carry the WAN joins: give none",
      });
    const gateways = options.primaryGateways ?? [];
    if (dc.name !== primary && gateways.length === 0)
      problems.push({
        path: "primaryGateways",
        message: `${JSON.stringify(dc.name)} is a secondary federated through mesh gateways: give the primary's gateways`,
      });
    if (problems.length > 0) throw new MeshValidationError(problems, "agent configuration");
    if (dc.name !== primary) config.primary_gateways = [...gateways];
  }
  if (security.acl) {
    config.acl = { enabled: true, default_policy: security.defaultPolicy, enable_token_persistence: true };
    const management = options.initialManagementToken;
    const agent = options.agentToken;
    const replication = options.replicationToken;
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
