/**
 * What `Datacenter` creates (pure: no Pulumi): its LAN network, and per Consul server a data
 * volume and a container with its addresses, command and health check; the servers' agent
 * configuration; the address its provider talks to. And the problems of its arguments, each
 * naming its field.
 */
import {
  agentPortsOf,
  AGENT_TLS_FILES,
  clusterIdOf,
  CONSUL_PORTS,
  isPort,
  renderAgentConfig,
  securityOf,
  type DatacenterSpec,
  type Mesh,
  type MeshProblem,
  type WanFederationMode,
} from "../../mesh";
import { NAME_PATTERN } from "../../mesh/model/names";
import { defaultLanSubnet, dynamicRange, lanServerAddress, MAX_SERVERS, subnetProblems } from "./address-plan";
import { datacenterProblems, throwIfProblems } from "./arg-problems";
import {
  DEFAULT_RESOURCE_PREFIX,
  dockerLabels,
  type DockerLabel,
  type NetworkPlacement,
  type PlannedNetwork,
} from "./docker-plan";

/** How long a server has to stop on SIGTERM when its container is replaced or destroyed. */
export const SERVER_STOP_GRACE_SECONDS = 15;
/** Where the rendered agent configuration is uploaded (the image reads `/consul/config`). */
export const AGENT_CONFIG_PATH = "/consul/config/agent.json";
/** Consul's data directory in the image (`-data-dir` of its entrypoint), kept on a named volume per server. */
export const DATA_PATH = "/consul/data";

/** How a datacenter's servers join the WAN: their addresses there, and whom they join. */
export interface WanJoin {
  /** WAN address of each of this datacenter's servers, by server index (none through the gateways). */
  serverAddresses: string[];
  /** WAN addresses of the other datacenters' servers (`retry_join_wan`; none through the gateways). */
  retryJoinWan: string[];
  /**
   * `"mesh-gateways"`: the servers stay off the WAN and reach the other datacenters only through the
   * mesh gateways (`connect.enable_mesh_gateway_wan_federation`); a secondary is told the primary's
   * gateways (`primaryGateways`). Default: `"gossip"`.
   */
  mode?: WanFederationMode;
}

/** Consul's server RPC port (`ports.server`): other datacenters' servers dial it across the WAN. */
export const SERVER_RPC_PORT = 8300;
/** Consul's serf WAN port (`ports.serf_wan`, TCP and UDP): the WAN gossip between servers. */
export const SERF_WAN_PORT = 8302;

/**
 * A WAN between Docker hosts: no Docker network is shared, so the datacenter's server publishes its
 * WAN-facing ports ({@link SERVER_RPC_PORT}, {@link SERF_WAN_PORT} TCP and UDP) on its host and
 * advertises the host's address (`advertise_addr_wan`). One server per datacenter: the ports are
 * published as they are.
 */
export interface WanHost {
  /** The address other datacenters (servers and gateways) reach this Docker host at; the server's WAN address. */
  address: string;
  /** The host address the ports are published on. Default: `address`. */
  publishAddress?: string;
  /** The other datacenters' WAN addresses (their hosts' `address`), joined as `retry_join_wan`. Default: none. */
  retryJoinWan?: string[];
}

/**
 * The plain arguments of a datacenter: what decides its plan.
 * @typeParam T - The type of the trust domain (a plain string, or what the component takes).
 */
export interface DatacenterPlanArgs<T = string> {
  /**
   * The datacenter: name, primary datacenter, Connect, gRPC, servers, ACLs (plain: it decides how many
   * containers exist).
   */
  datacenter: DatacenterSpec;
  /** The mesh's primary datacenter. Default: `datacenter.primaryDatacenter`, else the datacenter itself. */
  primaryDatacenter?: string;
  /**
   * Pull the image with a `docker.RemoteImage` (kept locally on delete). Default: `true`; `false` uses a
   * local image as is.
   */
  pullImage?: boolean;
  /** Prefix of Docker network and container names, unique per Docker host. Default: `"consul-mesh"`. */
  resourcePrefix?: string;
  /** IPv4 subnet of the LAN network (servers at host 10+i). Default: `"10.250.1.0/24"`. */
  lanSubnet?: string;
  /** The WAN addresses and joins. Default: none (a lone datacenter). */
  wan?: WanJoin;
  /**
   * With `wan.mode` `"mesh-gateways"`, in a secondary: the primary's gateways (`host:port` of their WAN
   * addresses, `primary_gateways`), where its servers first reach the primary; the plan reads only
   * whether they are given. Required there. Default: none.
   */
  primaryGateways?: unknown;
  /**
   * The WAN through ports published on this datacenter's Docker host, for datacenters on different Docker
   * hosts (instead of `wan`). Default: none.
   */
  wanHost?: WanHost;
  /** Host port on which server 0's HTTP API is published. Default: `8500`. */
  httpHostPort?: number;
  /** Host address on which the HTTP API is published. Default: `"127.0.0.1"`. */
  httpHostAddress?: string;
  /** The ACL initial management token; the plan reads only whether it is given. Default: none. */
  initialManagementToken?: unknown;
  /**
   * The primary datacenter (a `Datacenter`), required in a secondary with ACLs; the plan reads only
   * whether it is given. Default: none.
   */
  primary?: unknown;
  /**
   * The CA that signs the servers' certificate (with TLS); the plan reads only whether it is
   * given. Federated datacenters must share one. Default: a CA of this datacenter's own.
   */
  ca?: unknown;
  /**
   * The gossip encryption key (with gossip encryption); the plan reads only whether it is given.
   * Federated datacenters must share one. Default: a key of this datacenter's own.
   */
  gossipKey?: unknown;
  /**
   * Connect trust domain to pin, `<uuid>.consul` in lower case: its UUID becomes the servers'
   * `connect.ca_config.cluster_id` (read when the CA first starts), so the trust domain is
   * known before the cluster exists, as routes files need. A plain string is checked with the
   * other arguments; any other value when the agent configuration is rendered with it. Default:
   * none (Consul draws one when the CA first starts, and the stack does not know it).
   */
  trustDomain?: T;
}

/** One Consul server: its data volume and its container, but for what Pulumi resolves. */
export interface PlannedServer {
  /** Resource name of the container. */
  resourceName: string;
  /** Its data volume (mounted at {@link DATA_PATH}). */
  volume: { resourceName: string; name: string; labels: DockerLabel[] };
  /** The container's arguments but its image, networks, upload and volume. */
  container: {
    name: string;
    hostname: string;
    command: string[];
    ports: { internal: number; external: number; ip: string; protocol: string }[];
    /** `CONSUL_HTTP_ADDR` and, with TLS, `CONSUL_CACERT`: what the health check and `docker exec … consul` use. */
    envs: string[];
    healthcheck: { tests: string[]; interval: string; timeout: string; startPeriod: string; retries: number };
    wait: boolean;
    waitTimeout: number;
    restart: string;
    destroyGraceSeconds: number;
    labels: DockerLabel[];
  };
  /** Where it sits on the LAN. */
  lan: NetworkPlacement;
  /** Where it sits on the WAN, when the datacenter joins one. */
  wan?: NetworkPlacement;
}

/** What a datacenter creates. */
export interface DatacenterPlan {
  /** The datacenter's name. */
  name: string;
  /** Whether ACLs are enabled. */
  aclEnabled: boolean;
  /** IPv4 subnet of the LAN network. */
  lanSubnet: string;
  /** The LAN network. */
  lanNetwork: PlannedNetwork;
  /** Resource name of the management token to generate: ACLs on and none given. */
  generatedToken?: string;
  /** With TLS: the servers' certificate, and the CA to draw when none is given. */
  tls?: {
    /** Resource name of the `ConsulServerCertificate`. */
    certificate: string;
    /** Resource name of the `ConsulCertificateAuthority` to draw: no `ca` given. */
    ownCa?: string;
    /** The servers' node names (`<node>.server.<dc>.consul`). */
    nodes: string[];
    /** The host names and addresses the servers are dialled at, but the published ones Pulumi resolves. */
    hosts: string[];
    /** Where the servers read the CA, their certificate and key. */
    files: { ca: string; cert: string; key: string };
  };
  /** Resource name of the `GossipKey` to draw: gossip encryption on and no key given. */
  ownGossipKey?: string;
  /**
   * With ACLs: the servers' own token (a node identity per server, `node:write` on itself and
   * `service:read`) and, in a secondary, the replication token and its policy. Each secret is
   * drawn first (it must be in the configuration the servers start with), then created in Consul:
   * in a secondary, in the primary before its servers start (a secondary whose replication token
   * does not exist yet cannot have its Connect CA signed, and Consul does not soon try again).
   */
  aclTokens?: {
    /** The primary datacenter, where the tokens live. */
    datacenter: string;
    agent: {
      secret: string;
      token: string;
      description: string;
      nodeIdentities: { nodeName: string; datacenter: string }[];
    };
    replication?: {
      secret: string;
      token: string;
      description: string;
      policy: { resourceName: string; name: string; rules: string };
    };
  };
  /** Resource name of the `docker.RemoteImage` that pulls the image, unless `pullImage` is `false`. */
  remoteImage?: string;
  /**
   * The servers' agent configuration (JSON), with the secrets given, pinned to the trust domain
   * when there is one.
   * @param secrets - The tokens and the gossip key. Default: none.
   * @param trustDomain - The trust domain to pin, `<uuid>.consul` (a problem at `trustDomain` if
   * not). Default: the arguments' `trustDomain` when it is a string, else none.
   * @param primaryGateways - Through the gateways, in a secondary: the primary's gateways (`host:port`).
   * Default: none.
   */
  agentConfig(secrets?: AgentSecrets, trustDomain?: string, primaryGateways?: string[]): string;
  /** LAN address of each server. */
  serverLanAddresses: string[];
  /** HTTP API of server 0 on the LAN: `https://<ip>:8501` with TLS, else `http://<ip>:8500`. */
  lanHttpAddress: string;
  /** gRPC (xDS) of server 0 on the LAN, as `CONSUL_GRPC_ADDR` takes it: `https://<ip>:8503` with TLS, else `<ip>:8502`. */
  lanGrpcAddress: string;
  /** HTTP API as published on the host: `https://127.0.0.1:<port>` with TLS, else `http://…`. */
  httpAddress: string;
  /** The servers, by index. */
  servers: PlannedServer[];
  /** The `consul.Provider` (its token is the management token). */
  provider: { resourceName: string; address: string; scheme: string; datacenter: string };
}

/** The secrets an agent configuration carries, once Pulumi has them. */
export interface AgentSecrets {
  /** The ACL initial management token (ACLs on). */
  managementToken?: string;
  /** The servers' own token (ACLs on). */
  agentToken?: string;
  /** The replication token (ACLs on, a secondary). */
  replicationToken?: string;
  /** The gossip encryption key (gossip encryption on). */
  gossipKey?: string;
}

/** Stands for the gossip key while the plan is checked before the key exists (the rendering is not used). */
const GOSSIP_KEY_STAND_IN = Buffer.alloc(32).toString("base64");

/** Stands for the primary's gateways likewise. */
const PRIMARY_GATEWAY_STAND_IN = "primary-gateway:8443";

/**
 * The rules of a secondary datacenter's replication token, as Consul's documentation gives
 * them: ACL replication, the Connect CA of the secondary, and the intentions it enforces.
 */
export const REPLICATION_RULES = [
  'acl = "write"',
  'operator = "write"',
  'service_prefix "" {',
  '  policy = "read"',
  '  intentions = "read"',
  "}",
  "",
].join("\n");

/** The primary datacenter of the arguments. */
function primaryOf(args: DatacenterPlanArgs<unknown>): string {
  return args.primaryDatacenter ?? args.datacenter.primaryDatacenter ?? args.datacenter.name;
}

/**
 * Problems of a datacenter's arguments, each at its field.
 * @param args - The arguments.
 */
export function datacenterArgProblems(args: DatacenterPlanArgs<unknown>): MeshProblem[] {
  const spec = args.datacenter;
  const servers = spec.servers ?? 1;
  const problems = datacenterProblems(spec, args.primaryDatacenter);
  problems.push(...subnetProblems(args.lanSubnet ?? defaultLanSubnet(0), "lanSubnet"));
  if (Number.isInteger(servers) && servers > MAX_SERVERS) {
    problems.push({ path: "datacenter.servers", message: `at most ${MAX_SERVERS} servers per datacenter` });
  }
  const throughGateways = args.wan?.mode === "mesh-gateways";
  if (throughGateways && spec.name !== primaryOf(args) && args.primaryGateways === undefined)
    problems.push({
      path: "primaryGateways",
      message:
        `datacenter ${JSON.stringify(spec.name)} is federated through mesh gateways: give the primary's ` +
        `gateways (their WAN addresses), where its servers first reach the primary`,
    });
  if (throughGateways && !securityOf(spec).tls)
    problems.push({
      path: "datacenter.tls.enabled",
      message: `WAN federation through mesh gateways needs TLS on server RPC: ${JSON.stringify(spec.name)} turns TLS off`,
    });
  if (args.wan && !throughGateways && args.wan.serverAddresses.length < servers) {
    problems.push({
      path: "wan.serverAddresses",
      message: `${servers} servers need ${servers} WAN addresses, got ${args.wan.serverAddresses.length}`,
    });
  }
  problems.push(...wanHostProblems(args, servers));
  const port = args.httpHostPort ?? CONSUL_PORTS.http;
  if (!isPort(port)) {
    problems.push({
      path: "httpHostPort",
      message: `${JSON.stringify(port)} is out of range: use an integer from 1 to 65535`,
    });
  }
  const primary = primaryOf(args);
  if (securityOf(spec).acl && spec.name !== primary && args.primary === undefined) {
    problems.push({
      path: "primary",
      message:
        `datacenter ${JSON.stringify(spec.name)} is a secondary of ${JSON.stringify(primary)} with ACLs: give ` +
        `the primary Datacenter (its servers' tokens are made there before they start, with its management token)`,
    });
  }
  if (primary !== spec.name && !NAME_PATTERN.test(primary)) {
    problems.push({
      path: "primaryDatacenter",
      message: `${JSON.stringify(primary)} is not a datacenter name (letters, digits, "-" and "_")`,
    });
  }
  // Any other value (an output) is checked when the configuration is rendered with it.
  if (typeof args.trustDomain === "string") problems.push(...trustDomainProblems(args.trustDomain));
  const security = securityOf(spec);
  if (security.httpsVerifyIncoming)
    problems.push({
      path: "datacenter.tls.httpsVerifyIncoming",
      message:
        `the Consul provider, gateways and sidecars this library runs present no client certificate: ` +
        `with it, none of them could call datacenter ${JSON.stringify(spec.name)}'s API; leave it off (tokens authorize the API)`,
    });
  // Federated servers speak RPC and gossip to each other: one CA and one key for all.
  const federated = args.wan !== undefined || args.wanHost !== undefined;
  if (federated && security.tls && args.ca === undefined)
    problems.push({
      path: "ca",
      message:
        `datacenter ${JSON.stringify(spec.name)} is federated with TLS on: give the CA its federation ` +
        `shares (a ConsulCertificateAuthority), or set datacenter.tls.enabled to false`,
    });
  if (federated && security.gossipEncryption && args.gossipKey === undefined)
    problems.push({
      path: "gossipKey",
      message:
        `datacenter ${JSON.stringify(spec.name)} is federated with gossip encryption on: give the key its ` +
        `federation shares (a GossipKey's value), or set datacenter.gossipEncryption.enabled to false`,
    });
  return problems;
}

/** Problems of `wanHost`: one server, no `wan` beside it, addresses without spaces or slashes. */
function wanHostProblems(args: DatacenterPlanArgs<unknown>, servers: number): MeshProblem[] {
  const host = args.wanHost;
  if (host === undefined) return [];
  const problems: MeshProblem[] = [];
  if (args.wan !== undefined)
    problems.push({ path: "wanHost", message: "give either wan (a shared WAN network) or wanHost, not both" });
  if (servers !== 1)
    problems.push({
      path: "datacenter.servers",
      message: `${JSON.stringify(servers)} servers: with wanHost a datacenter runs one server (its WAN ports are published as they are)`,
    });
  const address = (value: unknown) => typeof value === "string" && value !== "" && !/[\s/]/.test(value);
  if (!address(host.address))
    problems.push({
      path: "wanHost.address",
      message: `${JSON.stringify(host.address)} is not a host name or IP address`,
    });
  if (host.publishAddress !== undefined && !address(host.publishAddress))
    problems.push({
      path: "wanHost.publishAddress",
      message: `${JSON.stringify(host.publishAddress)} is not an IP address of the Docker host`,
    });
  (host.retryJoinWan ?? []).forEach((other, i) => {
    if (!address(other))
      problems.push({
        path: `wanHost.retryJoinWan[${i}]`,
        message: `${JSON.stringify(other)} is not a host name or IP address`,
      });
  });
  return problems;
}

/** The problem of a trust domain the servers cannot be pinned to, if it is one. */
function trustDomainProblems(trustDomain: unknown): MeshProblem[] {
  if (trustDomain === undefined || (typeof trustDomain === "string" && clusterIdOf(trustDomain) !== undefined))
    return [];
  return [
    {
      path: "trustDomain",
      message: `${JSON.stringify(trustDomain)} is not "<uuid>.consul" in lower case, so Consul cannot be made to use it`,
    },
  ];
}

/**
 * The agent configuration of the servers, rendered once eagerly so that a mistake fails when
 * the plan is made, not inside an apply.
 */
function agentConfigOf(name: string, args: DatacenterPlanArgs<unknown>): DatacenterPlan["agentConfig"] {
  const mesh: Mesh = { primaryDatacenter: primaryOf(args), datacenters: [args.datacenter] };
  if (args.wan?.mode === "mesh-gateways") mesh.wanFederation = { mode: "mesh-gateways" };
  const given = typeof args.trustDomain === "string" ? args.trustDomain : undefined;
  const retryJoinWan = args.wan?.retryJoinWan ?? args.wanHost?.retryJoinWan ?? [];
  const secondary = args.datacenter.name !== primaryOf(args);
  const options = { retryJoinWan, bindAddr: "0.0.0.0" };
  const render = (secrets: AgentSecrets = {}, trustDomain = given, primaryGateways?: string[]) => {
    throwIfProblems(trustDomainProblems(trustDomain), `Datacenter ${JSON.stringify(name)} arguments`);
    const clusterId = trustDomain === undefined ? undefined : clusterIdOf(trustDomain);
    const config = renderAgentConfig(mesh, args.datacenter.name, {
      ...options,
      clusterId,
      initialManagementToken: secrets.managementToken,
      agentToken: secrets.agentToken,
      replicationToken: secrets.replicationToken,
      gossipKey: secrets.gossipKey,
      ...(mesh.wanFederation && secondary ? { primaryGateways } : {}),
    });
    return JSON.stringify(config, null, 2) + "\n";
  };
  render({ gossipKey: GOSSIP_KEY_STAND_IN }, given, [PRIMARY_GATEWAY_STAND_IN]);
  return render;
}

/**
 * The health check of a server, with Consul's own CLI (which speaks TLS as the container's
 * `CONSUL_*` variables say): healthy (and so created, with `wait`) once a catalog read succeeds,
 * which needs a leader and, with ACLs, the ACL system holding its initial tokens (an anonymous
 * read fails until then); in a WAN-joined secondary, also once the primary is known over the WAN,
 * since writes there (ACLs, global tokens) are forwarded to the primary.
 */
function serverHealthTest(args: DatacenterPlanArgs<unknown>): string {
  const primary = primaryOf(args);
  let test = "consul catalog services > /dev/null";
  if ((args.wan || args.wanHost) && args.datacenter.name !== primary)
    test += ` && consul catalog datacenters | grep -qx '${primary}'`;
  return test;
}

/** The `CONSUL_*` variables of a server container: its own API, over TLS when on. */
function serverEnvs(spec: DatacenterSpec): string[] {
  const ports = agentPortsOf(spec);
  const envs = [`CONSUL_HTTP_ADDR=${ports.scheme}://127.0.0.1:${ports.http}`];
  if (securityOf(spec).tls) envs.push(`CONSUL_CACERT=${AGENT_TLS_FILES.caFile}`);
  return envs;
}

/** Server `i` of the datacenter, among the servers at `lanAddresses`. */
function planServer(name: string, args: DatacenterPlanArgs<unknown>, lanAddresses: string[], i: number): PlannedServer {
  const dc = args.datacenter.name;
  const prefix = args.resourcePrefix ?? DEFAULT_RESOURCE_PREFIX;
  const node = `${dc}-server-${i}`;
  const lanIp = lanAddresses[i];
  const wanIp = args.wan?.serverAddresses[i] ?? args.wanHost?.address;
  const command = ["agent", `-node=${node}`, `-advertise=${lanIp}`];
  if (wanIp) command.push(`-advertise-wan=${wanIp}`);
  for (const other of lanAddresses) if (other !== lanIp) command.push(`-retry-join=${other}`);
  // WAN joins are retried every 30 s by default; the other datacenters start at the same time.
  const retryJoinWan = args.wan?.retryJoinWan ?? args.wanHost?.retryJoinWan ?? [];
  if (retryJoinWan.length > 0) command.push("-retry-interval-wan=5s");
  const hostAddress = args.httpHostAddress ?? "127.0.0.1";
  const port = args.httpHostPort ?? CONSUL_PORTS.http;
  const api = agentPortsOf(args.datacenter).http;
  const ports: PlannedServer["container"]["ports"] =
    i === 0 ? [{ internal: api, external: port, ip: hostAddress, protocol: "tcp" }] : [];
  if (args.wanHost) {
    const ip = args.wanHost.publishAddress ?? args.wanHost.address;
    for (const [internal, protocol] of [
      [SERVER_RPC_PORT, "tcp"],
      [SERF_WAN_PORT, "tcp"],
      [SERF_WAN_PORT, "udp"],
    ] as const)
      ports.push({ internal, external: internal, ip, protocol });
  }
  return {
    resourceName: `${name}-server-${i}`,
    // Consul's state (raft, ACLs, config entries, agent registrations) outlives a replaced container.
    volume: {
      resourceName: `${name}-server-${i}-data`,
      name: `${prefix}-${node}-data`,
      labels: dockerLabels({ datacenter: dc }),
    },
    container: {
      name: `${prefix}-${node}`,
      hostname: node,
      command,
      ports,
      envs: serverEnvs(args.datacenter),
      healthcheck: {
        tests: ["CMD-SHELL", serverHealthTest(args)],
        interval: "2s",
        timeout: "2s",
        startPeriod: "2s",
        retries: 90,
      },
      wait: true,
      waitTimeout: 180,
      restart: "unless-stopped",
      destroyGraceSeconds: SERVER_STOP_GRACE_SECONDS,
      labels: dockerLabels({ datacenter: dc, role: "server" }),
    },
    lan: { ipv4Address: lanIp, aliases: [node, `consul-${dc}`] },
    ...(args.wan && wanIp ? { wan: { ipv4Address: wanIp, aliases: [`${node}.wan`] } } : {}),
  };
}

/**
 * What a datacenter creates, for arguments without problems ({@link datacenterArgProblems}).
 * @param name - The component's name, which its resources' names start with.
 * @param args - The arguments.
 */
export function planDatacenter(name: string, args: DatacenterPlanArgs<unknown>): DatacenterPlan {
  const dc = args.datacenter.name;
  const prefix = args.resourcePrefix ?? DEFAULT_RESOURCE_PREFIX;
  const lanSubnet = args.lanSubnet ?? defaultLanSubnet(0);
  const aclEnabled = securityOf(args.datacenter).acl;
  const hostAddress = args.httpHostAddress ?? "127.0.0.1";
  const port = args.httpHostPort ?? CONSUL_PORTS.http;
  const lanAddresses = Array.from({ length: args.datacenter.servers ?? 1 }, (_, i) => lanServerAddress(lanSubnet, i));
  const api = agentPortsOf(args.datacenter);
  const security = securityOf(args.datacenter);
  const servers = lanAddresses.map((_, i) => planServer(name, args, lanAddresses, i));
  return {
    name: dc,
    aclEnabled,
    lanSubnet,
    lanNetwork: {
      resourceName: `${name}-lan`,
      name: `${prefix}-${dc}-lan`,
      driver: "bridge",
      ipamConfigs: [{ subnet: lanSubnet, ipRange: dynamicRange(lanSubnet) }],
      labels: dockerLabels({ datacenter: dc }),
    },
    ...(aclEnabled && args.initialManagementToken === undefined && args.primary === undefined
      ? { generatedToken: `${name}-management-token` }
      : {}),
    ...(security.tls ? { tls: planTls(name, args, servers) } : {}),
    ...(security.gossipEncryption && args.gossipKey === undefined ? { ownGossipKey: `${name}-gossip-key` } : {}),
    ...(aclEnabled ? { aclTokens: planAclTokens(name, args, servers) } : {}),
    ...(args.pullImage === false ? {} : { remoteImage: `${name}-image` }),
    agentConfig: agentConfigOf(name, args),
    serverLanAddresses: lanAddresses,
    lanHttpAddress: `${api.scheme}://${lanAddresses[0]}:${api.http}`,
    lanGrpcAddress: security.tls ? `https://${lanAddresses[0]}:${api.grpc}` : `${lanAddresses[0]}:${api.grpc}`,
    httpAddress: `${api.scheme}://${hostAddress}:${port}`,
    servers,
    provider: {
      resourceName: `${name}-provider`,
      address: `${hostAddress}:${port}`,
      scheme: api.scheme,
      datacenter: dc,
    },
  };
}

/** The servers' certificate: the names and addresses each server is dialled at, and where it is read. */
function planTls(name: string, args: DatacenterPlanArgs<unknown>, servers: PlannedServer[]): DatacenterPlan["tls"] {
  const hosts = new Set<string>();
  for (const server of servers) {
    hosts.add(server.container.hostname);
    for (const value of [server.lan.ipv4Address, ...(server.lan.aliases ?? []), server.wan?.ipv4Address])
      if (value) hosts.add(value);
  }
  return {
    certificate: `${name}-server-certificate`,
    ...(args.ca === undefined ? { ownCa: `${name}-ca` } : {}),
    nodes: servers.map((server) => server.container.hostname),
    hosts: [...hosts],
    files: { ca: AGENT_TLS_FILES.caFile, cert: AGENT_TLS_FILES.certFile, key: AGENT_TLS_FILES.keyFile },
  };
}

/** The servers' own ACL tokens. */
function planAclTokens(
  name: string,
  args: DatacenterPlanArgs<unknown>,
  servers: PlannedServer[],
): DatacenterPlan["aclTokens"] {
  const dc = args.datacenter.name;
  return {
    datacenter: primaryOf(args),
    agent: {
      secret: `${name}-agent-token-secret`,
      token: `${name}-agent-token`,
      description: `Consul servers of ${dc}`,
      nodeIdentities: servers.map((server) => ({ nodeName: server.container.hostname, datacenter: dc })),
    },
    ...(dc === primaryOf(args)
      ? {}
      : {
          replication: {
            secret: `${name}-replication-token-secret`,
            token: `${name}-replication-token`,
            description: `ACL replication of ${dc}`,
            policy: { resourceName: `${name}-replication-policy`, name: `${dc}-replication`, rules: REPLICATION_RULES },
          },
        }),
  };
}
