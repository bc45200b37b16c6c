/**
 * What `Datacenter` creates (pure: no Pulumi): its LAN network, and per Consul server a data
 * volume and a container with its addresses, command and health check; the servers' agent
 * configuration; the address its provider talks to. And the problems of its arguments, each
 * naming its field.
 */
import {
  clusterIdOf,
  CONSUL_PORTS,
  isPort,
  renderAgentConfig,
  type DatacenterSpec,
  type Mesh,
  type MeshProblem,
} from "../../mesh";
import { NAME_PATTERN } from "../../mesh/model/names";

/** A server's own HTTP API, as its health check calls it. */
const AGENT = `http://127.0.0.1:${CONSUL_PORTS.http}`;
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
  /** WAN address of each of this datacenter's servers, by server index. */
  serverAddresses: string[];
  /** WAN addresses of the other datacenters' servers (`retry_join_wan`). */
  retryJoinWan: string[];
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
  /** Resource name of the `docker.RemoteImage` that pulls the image, unless `pullImage` is `false`. */
  remoteImage?: string;
  /**
   * The servers' agent configuration (JSON), with the management token when there is one, pinned
   * to the trust domain when there is one.
   * @param token - The ACL initial management token. Default: none.
   * @param trustDomain - The trust domain to pin, `<uuid>.consul` (a problem at `trustDomain` if
   * not). Default: the arguments' `trustDomain` when it is a string, else none.
   */
  agentConfig(token?: string, trustDomain?: string): string;
  /** LAN address of each server. */
  serverLanAddresses: string[];
  /** HTTP API of server 0 on the LAN: `http://<ip>:8500`. */
  lanHttpAddress: string;
  /** HTTP API as published on the host: `http://127.0.0.1:<port>`. */
  httpAddress: string;
  /** The servers, by index. */
  servers: PlannedServer[];
  /** The `consul.Provider` (its token is the management token). */
  provider: { resourceName: string; address: string; scheme: string; datacenter: string };
}

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
  if (args.wan && args.wan.serverAddresses.length < servers) {
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
  if (spec.acl?.enabled === true && spec.name !== primary && args.initialManagementToken === undefined) {
    problems.push({
      path: "initialManagementToken",
      message:
        `datacenter ${JSON.stringify(spec.name)} is a secondary of ${JSON.stringify(primary)} with ACLs: give ` +
        `the primary datacenter's initial management token (tokens are created in the primary and replicated)`,
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
  const given = typeof args.trustDomain === "string" ? args.trustDomain : undefined;
  const retryJoinWan = args.wan?.retryJoinWan ?? args.wanHost?.retryJoinWan ?? [];
  const options = { retryJoinWan, bindAddr: "0.0.0.0" };
  const render = (token?: string, trustDomain = given) => {
    throwIfProblems(trustDomainProblems(trustDomain), `Datacenter ${JSON.stringify(name)} arguments`);
    const clusterId = trustDomain === undefined ? undefined : clusterIdOf(trustDomain);
    const config = renderAgentConfig(mesh, args.datacenter.name, {
      ...options,
      clusterId,
      initialManagementToken: token,
    });
    return JSON.stringify(config, null, 2) + "\n";
  };
  render();
  return render;
}

/**
 * The health check of a server: healthy (and so created, with `wait`) once a leader is elected;
 * in a WAN-joined secondary, also once the primary is known over the WAN, since writes there
 * (ACLs, global tokens) are forwarded to the primary.
 */
function serverHealthTest(args: DatacenterPlanArgs<unknown>): string {
  const primary = primaryOf(args);
  let test = `wget -q -O - ${AGENT}/v1/status/leader | grep -q :`;
  if ((args.wan || args.wanHost) && args.datacenter.name !== primary)
    test += ` && wget -q -O - ${AGENT}/v1/catalog/datacenters | grep -q '"${primary}"'`;
  // With ACLs, a leader answers before its ACL system holds the initial tokens (or, in a
  // secondary, has them replicated); an anonymous read succeeds only once it does.
  if (args.datacenter.acl?.enabled === true) test += ` && wget -q -O /dev/null ${AGENT}/v1/catalog/services`;
  return test;
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
  const ports: PlannedServer["container"]["ports"] =
    i === 0 ? [{ internal: CONSUL_PORTS.http, external: port, ip: hostAddress, protocol: "tcp" }] : [];
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
  const aclEnabled = args.datacenter.acl?.enabled === true;
  const hostAddress = args.httpHostAddress ?? "127.0.0.1";
  const port = args.httpHostPort ?? CONSUL_PORTS.http;
  const lanAddresses = Array.from({ length: args.datacenter.servers ?? 1 }, (_, i) => lanServerAddress(lanSubnet, i));
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
    ...(aclEnabled && args.initialManagementToken === undefined ? { generatedToken: `${name}-management-token` } : {}),
    ...(args.pullImage === false ? {} : { remoteImage: `${name}-image` }),
    agentConfig: agentConfigOf(name, args),
    serverLanAddresses: lanAddresses,
    lanHttpAddress: `http://${lanAddresses[0]}:${CONSUL_PORTS.http}`,
    httpAddress: `http://${hostAddress}:${port}`,
    servers: lanAddresses.map((_, i) => planServer(name, args, lanAddresses, i)),
    provider: { resourceName: `${name}-provider`, address: `${hostAddress}:${port}`, scheme: "http", datacenter: dc },
  };
}
