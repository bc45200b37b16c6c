/**
 * What `MeshGateway` creates (pure: no Pulumi): per gateway container its name, addresses,
 * networks, the `sni-gateway` command line its CLI contract asks for, its environment and, in
 * file mode, its registration with the agent; with ACLs, the gateway's policy and token. And
 * the problems of its arguments, each naming its field.
 */
import {
  DEFAULT_GATEWAY_ADMIN_PORT,
  DEFAULT_GATEWAY_NAME,
  DEFAULT_GATEWAY_PORT,
  isPort,
  sortKeys,
  toGatewayRegistration,
  type MeshProblem,
  type WanFederationMode,
} from "../../mesh";
import { lanGatewayAddress, MAX_GATEWAYS, wanGatewayAddress } from "./address-plan";
import { gatewayProblems } from "./arg-problems";
import { DEFAULT_RESOURCE_PREFIX, dockerLabels, type DockerLabel, type NetworkPlacement } from "./docker-plan";
import { gatewayAclRules } from "../../mesh/render/gateway-acl-rules";

/** Where the routes file is uploaded in file mode. */
export const ROUTES_FILE_PATH = "/etc/sni-gateway/routes.json";
/** Where the CA certificate of the datacenter's `https` API is uploaded. */
export const CONSUL_CA_FILE_PATH = "/etc/sni-gateway/consul-ca.pem";
/**
 * How long a gateway container has to stop when it is replaced or destroyed (Docker's stop
 * timeout): its drain ({@link GATEWAY_DRAIN_GRACE_SECONDS}) and deregistration fit inside.
 */
export const GATEWAY_STOP_GRACE_SECONDS = 30;
/** How long a stopping gateway lets connections in flight finish (`--drain-grace`). */
export const GATEWAY_DRAIN_GRACE_SECONDS = 25;

/**
 * What a gateway plan needs of its datacenter (a `ConsulDatacenter` has it).
 * @typeParam T - The type of what Pulumi resolves later (an address given as an Input).
 */
export interface GatewayDatacenter<T = string> {
  /** The datacenter's name. */
  name: string;
  /**
   * The LAN subnet where this library places the containers at fixed addresses. Default: none (then the
   * gateway's `lanAddress` must be given).
   */
  lanSubnet?: string;
  /** Whether the containers join a Docker network of the datacenter. Default: `true` with a `lanSubnet`, else `false` (the host's network). */
  lanNetwork?: boolean;
  /** Its agent's HTTP API as the containers reach it (`--consul`). */
  lanHttpAddress: string | T;
  /** Its agent's gRPC (xDS) server as the containers reach it (`--consul-grpc`). Default: the gateway's own. */
  lanGrpcAddress?: string | T;
  /** Whether it enables ACLs (then the gateway gets a policy and token of its own). */
  aclEnabled: boolean;
  /** Whether a CA verifies its `https` API (uploaded to {@link CONSUL_CA_FILE_PATH}, `--consul-cacert`). Default: `false`. */
  caPem?: boolean;
}

/** What a gateway plan needs of the WAN federation (a `WanFederation` has it). */
export interface GatewayWan {
  /** The WAN subnet. */
  subnet: string;
  /** The federated datacenters, in order (it decides their blocks of the subnet). */
  datacenterNames: string[];
  /**
   * `"mesh-gateways"`: the gateway carries the servers' own traffic too (`--expose-servers`). Default:
   * `"gossip"`.
   */
  mode?: WanFederationMode;
}

/** Where a gateway gets its routes, as far as the plan cares. */
export type GatewayRouteMode =
  | {
      /** From the datacenter's Consul agent (catalog and health, blocking queries); the gateway registers itself. */
      source: "consul";
    }
  | {
      /** From a routes file uploaded into the container. */
      source: "file";
      /** Register the gateway with the datacenter's agent so sidecars find it. Default: `true`. */
      register?: boolean;
    };

/**
 * The arguments of a gateway that decide its plan.
 * @typeParam T - The type of what Pulumi resolves later: the trust domain, the agent's address (plain
 * strings, or what the component takes).
 */
export interface MeshGatewayPlanArgs<T = unknown> {
  /** The datacenter the gateway serves. */
  datacenter: GatewayDatacenter<T>;
  /** The WAN federation whose network the gateway joins. Default: none (LAN only; the WAN address is the LAN one). */
  wan?: GatewayWan;
  /** Service name and ID. Default: `"mesh-gateway"`. */
  serviceName?: string;
  /** Port the gateway listens on. Default: `8443`. */
  port?: number;
  /** Port of the admin HTTP server (`/healthz`, `/readyz`, `/metrics`, `/routes`). Default: `19000`. */
  adminPort?: number;
  /** Number of gateway containers. Default: `1`. */
  instances?: number;
  /** First address slot of these containers in the datacenter (LAN host 20+slot, …). Default: `0`. */
  slot?: number;
  /**
   * The LAN address other services dial (`TaggedAddresses.lan`). Default: the container's LAN IP; required in a
   * datacenter without a `lanSubnet` (an existing one: the address of the Docker host, or of the container
   * on the datacenter's network).
   */
  lanAddress?: string;
  /**
   * The WAN address other datacenters dial (`TaggedAddresses.wan`). Default: the container's WAN IP, else the
   * LAN address.
   */
  wanAddress?: string;
  /**
   * Host address on which the gateway's port is published (as the same port number), for a WAN between Docker
   * hosts: other datacenters dial the gateway at its host. `wanAddress` then defaults to it (unless it is
   * `0.0.0.0`). One container only. Default: not published.
   */
  publishAddress?: string;
  /** Network aliases of the containers on the LAN and WAN. Default: `["<serviceName>-<datacenter>"]`. */
  aliases?: string[];
  /**
   * Opaque `Proxy.Config` of the registration (`--proxy-config` in Consul mode; the component registers it in
   * file mode). Default: `{}`.
   */
  proxyConfig?: Record<string, unknown>;
  /**
   * Trust domain of the mesh (`--trust-domain`). Default: not passed — in Consul mode the
   * gateway reads it from the agent's CA roots, in file mode from the routes file (a
   * different value here would make the gateway refuse the file).
   */
  trustDomain?: T;
  /** Route source. Default: `{ source: "consul" }`. */
  routes?: GatewayRouteMode;
  /** Prefix of container names. Default: `"consul-mesh"`. */
  resourcePrefix?: string;
}

/** One gateway container, but for what Pulumi resolves (the networks' names, the token). */
export interface PlannedGatewayInstance<T = string> {
  /** Resource name of the container. */
  resourceName: string;
  /** The service ID it registers under: the service name, or `<name>-<k>` among several. */
  serviceId: string;
  /** The LAN address (`host:port`) it registers. */
  lanAddress: string;
  /** The WAN address (`host:port`) it registers. */
  wanAddress: string;
  /** The container's arguments but its image, environment, networks and uploads. */
  container: {
    name: string;
    hostname: string;
    command: (string | T)[];
    /** The published gateway port (with `publishAddress`). */
    ports?: { internal: number; external: number; ip: string; protocol: string }[];
    init: boolean;
    restart: string;
    stopTimeout: number;
    destroyGraceSeconds: number;
    labels: DockerLabel[];
  };
  /** The variable that carries the gateway's ACL token (Consul mode with ACLs). */
  tokenEnv?: string;
  /** Where it sits on the datacenter's Docker network; none on the host's network. */
  lan?: Partial<NetworkPlacement>;
  /** Runs on the Docker host's network (a datacenter without a Docker network of its own). */
  hostNetwork: boolean;
  /** Where it sits on the WAN, with a federation. */
  wan?: NetworkPlacement;
  /** Its registration with the agent (file mode, unless `register` is `false`). */
  registration?: { resourceName: string; body: Record<string, unknown> };
}

/** What a mesh gateway creates. */
export interface MeshGatewayPlan<T = string> {
  /** The service name. */
  serviceName: string;
  /** With ACLs: the policy and the (global) token; the token's `policies` is the policy's name. */
  acl?: {
    policy: { resourceName: string; name: string; description: string; rules: string };
    token: { resourceName: string; description: string; local: boolean };
  };
  /** Where the routes file goes, in file mode. */
  routesFilePath?: string;
  /** LAN address (`host:port`) each container registers. */
  lanAddresses: string[];
  /** WAN address (`host:port`) each container registers. */
  wanAddresses: string[];
  /** The containers. */
  instances: PlannedGatewayInstance<T>[];
}

/** The arguments' numbers and names, defaults applied. */
function settled(args: MeshGatewayPlanArgs<unknown>) {
  return {
    dc: args.datacenter.name,
    serviceName: args.serviceName ?? DEFAULT_GATEWAY_NAME,
    port: args.port ?? DEFAULT_GATEWAY_PORT,
    adminPort: args.adminPort ?? DEFAULT_GATEWAY_ADMIN_PORT,
    instances: args.instances ?? 1,
    slot: args.slot ?? 0,
  };
}

/**
 * Problems of a gateway's arguments, each at its field (`args.…`).
 * @param args - The arguments.
 */
export function meshGatewayProblems(args: MeshGatewayPlanArgs): MeshProblem[] {
  const { dc, serviceName, port, adminPort, instances, slot } = settled(args);
  const problems: MeshProblem[] = gatewayProblems({ datacenter: dc, name: serviceName, port }, "args").map((p) => ({
    path: p.path === "args.name" ? "args.serviceName" : p.path,
    message: p.message,
  }));
  if (!isPort(adminPort) || adminPort === port) {
    problems.push({
      path: "args.adminPort",
      message: `${JSON.stringify(adminPort)} must be a port from 1 to 65535 other than the gateway port`,
    });
  }
  if (!Number.isInteger(instances) || instances < 1 || slot + instances > MAX_GATEWAYS) {
    problems.push({
      path: "args.instances",
      message: `${JSON.stringify(instances)} must be an integer from 1 to ${MAX_GATEWAYS - slot} (slot ${slot})`,
    });
  }
  if (!Number.isInteger(slot) || slot < 0 || slot >= MAX_GATEWAYS) {
    problems.push({
      path: "args.slot",
      message: `${JSON.stringify(slot)} must be an integer from 0 to ${MAX_GATEWAYS - 1}`,
    });
  }
  if (args.datacenter.lanSubnet === undefined && args.lanAddress === undefined) {
    problems.push({
      path: "args.lanAddress",
      message:
        `required: datacenter ${JSON.stringify(dc)} has no LAN subnet where this library places the gateway, ` +
        "so give the address other services dial (the Docker host's, or the container's on the datacenter's network)",
    });
  }
  if (args.wan && args.datacenter.lanSubnet === undefined) {
    problems.push({
      path: "args.wan",
      message: `a WAN federation network joins datacenters this library runs; ${JSON.stringify(dc)} is not one (give wanAddress instead)`,
    });
  }
  if (args.wan?.mode === "mesh-gateways" && args.routes?.source === "file")
    problems.push({
      path: "args.routes",
      message:
        "the datacenters are federated through the gateways: a gateway carries the servers' traffic only " +
        "with routes from Consul (a routes file names no servers)",
    });
  if (args.wan && !args.wan.datacenterNames.includes(dc)) {
    problems.push({ path: "args.wan", message: `datacenter ${JSON.stringify(dc)} is not part of the WAN federation` });
  }
  const source: unknown = (args.routes ?? { source: "consul" }).source;
  if (source !== "consul" && source !== "file") {
    problems.push({
      path: "args.routes.source",
      message: `${JSON.stringify(source)} is not a route source: use "consul" or "file"`,
    });
  }
  if (args.publishAddress !== undefined && instances !== 1) {
    problems.push({
      path: "args.instances",
      message: `${JSON.stringify(instances)} containers cannot publish one port on ${JSON.stringify(args.publishAddress)}: use 1`,
    });
  }
  if (args.publishAddress !== undefined && onHostNetwork(args.datacenter)) {
    problems.push({
      path: "args.publishAddress",
      message: `the gateways of ${JSON.stringify(dc)} run on the host's network, where ports are not published`,
    });
  }
  for (const [field, value] of [
    ["args.lanAddress", args.lanAddress],
    ["args.wanAddress", args.wanAddress],
    ["args.publishAddress", args.publishAddress],
  ] as const) {
    if (value !== undefined && (typeof value !== "string" || value === "" || /[\s/]/.test(value))) {
      problems.push({ path: field, message: `${JSON.stringify(value)} must be a host name or IP address` });
    }
  }
  return problems;
}

/** Whether the gateways of a datacenter run on the Docker host's network. */
function onHostNetwork(dc: GatewayDatacenter<unknown>): boolean {
  return !(dc.lanNetwork ?? dc.lanSubnet !== undefined);
}

/** The `sni-gateway` command line of container `serviceId`, registering `lan` and `wan`. */
function gatewayCommand<T>(args: MeshGatewayPlanArgs<T>, serviceId: string, lan: string, wan: string): (string | T)[] {
  const { dc, serviceName, port, adminPort } = settled(args);
  const command: (string | T)[] = ["--datacenter", dc];
  if (args.trustDomain !== undefined) command.push("--trust-domain", args.trustDomain);
  // On the host's network, the admin server (routes, metrics) stays on the host's loopback.
  const adminHost = onHostNetwork(args.datacenter) ? "127.0.0.1" : "0.0.0.0";
  command.push("--listen", `0.0.0.0:${port}`, "--admin", `${adminHost}:${adminPort}`);
  command.push("--drain-grace", `${GATEWAY_DRAIN_GRACE_SECONDS}s`);
  // The registration flags apply to self-registration (Consul mode) only; in file mode
  // the component registers the gateway with the agent itself.
  if (args.routes?.source === "file") return [...command, "--routes", ROUTES_FILE_PATH];
  command.push("--consul", args.datacenter.lanHttpAddress);
  if (args.datacenter.lanGrpcAddress !== undefined) command.push("--consul-grpc", args.datacenter.lanGrpcAddress);
  if (args.datacenter.caPem) command.push("--consul-cacert", CONSUL_CA_FILE_PATH);
  command.push("--service-name", serviceName, "--service-id", serviceId);
  command.push("--lan-address", lan, "--wan-address", wan);
  if (args.wan?.mode === "mesh-gateways") command.push("--expose-servers");
  if (args.proxyConfig !== undefined) command.push("--proxy-config", JSON.stringify(sortKeys(args.proxyConfig)));
  return command;
}

/**
 * The host name every container of a gateway answers to on its networks: `<service name>-<datacenter>`.
 * @param serviceName - The gateway's service name.
 * @param datacenter - Its datacenter.
 */
export function gatewayAlias(serviceName: string, datacenter: string): string {
  return `${serviceName}-${datacenter}`;
}

/** Gateway container `k` of the component `name`. */
function planInstance<T>(name: string, args: MeshGatewayPlanArgs<T>, k: number): PlannedGatewayInstance<T> {
  const { dc, serviceName, port, instances, slot } = settled(args);
  const subnet = args.datacenter.lanSubnet;
  const lanIp = subnet === undefined ? undefined : lanGatewayAddress(subnet, slot + k);
  const wanIp = args.wan && wanGatewayAddress(args.wan.subnet, args.wan.datacenterNames.indexOf(dc), slot + k);
  const lanHost = (args.lanAddress ?? lanIp) as string;
  const lanNetwork = !onHostNetwork(args.datacenter);
  const published = args.publishAddress !== "0.0.0.0" ? args.publishAddress : undefined;
  const wanHost = args.wanAddress ?? published ?? wanIp ?? lanHost;
  const [lan, wan] = [`${lanHost}:${port}`, `${wanHost}:${port}`];
  const serviceId = instances === 1 ? serviceName : `${serviceName}-${k}`;
  const aliases = args.aliases ?? [gatewayAlias(serviceName, dc)];
  const consulMode = args.routes?.source !== "file";
  const register = args.routes?.source === "file" && args.routes.register !== false;
  const registration = toGatewayRegistration({
    name: serviceName,
    id: serviceId,
    address: lanHost,
    port,
    lanAddress: { address: lanHost, port },
    wanAddress: { address: wanHost, port },
    proxyConfig: args.proxyConfig,
  });
  return {
    resourceName: `${name}-gateway-${k}`,
    serviceId,
    lanAddress: lan,
    wanAddress: wan,
    container: {
      name: `${args.resourcePrefix ?? DEFAULT_RESOURCE_PREFIX}-${dc}-${serviceName}-${k}`,
      hostname: `${serviceName}-${dc}-${k}`,
      command: gatewayCommand(args, serviceId, lan, wan),
      ...(args.publishAddress === undefined
        ? {}
        : { ports: [{ internal: port, external: port, ip: args.publishAddress, protocol: "tcp" }] }),
      init: true,
      restart: "unless-stopped",
      stopTimeout: GATEWAY_STOP_GRACE_SECONDS,
      destroyGraceSeconds: GATEWAY_STOP_GRACE_SECONDS,
      labels: dockerLabels({ datacenter: dc, role: "mesh-gateway", service: serviceName }),
    },
    ...(consulMode && args.datacenter.aclEnabled ? { tokenEnv: "CONSUL_HTTP_TOKEN" } : {}),
    ...(lanNetwork ? { lan: { ...(lanIp ? { ipv4Address: lanIp } : {}), aliases } } : {}),
    hostNetwork: !lanNetwork,
    ...(wanIp ? { wan: { ipv4Address: wanIp, aliases } } : {}),
    ...(register
      ? {
          registration: {
            resourceName: `${name}-registration-${k}`,
            body: registration as unknown as Record<string, unknown>,
          },
        }
      : {}),
  };
}

/**
 * What a mesh gateway creates, for arguments without problems ({@link meshGatewayProblems}).
 * @param name - The component's name, which its resources' names start with.
 * @param args - The arguments.
 * @typeParam T - The type of the trust domain, passed through into the command line.
 */
export function planMeshGateway<T>(name: string, args: MeshGatewayPlanArgs<T>): MeshGatewayPlan<T> {
  const { dc, serviceName, instances } = settled(args);
  const planned = Array.from({ length: instances }, (_, k) => planInstance(name, args, k));
  const acl = {
    policy: {
      resourceName: `${name}-policy`,
      name: `${dc}-${serviceName}`,
      description: `mesh gateway ${serviceName} in ${dc}: service:write on itself, service:read and node:read on all`,
      rules: gatewayAclRules(serviceName),
    },
    // A global token: a secondary datacenter can create local tokens only with token
    // replication on, while global ones are forwarded to the primary and resolve anywhere.
    token: { resourceName: `${name}-token`, description: `mesh gateway ${serviceName} in ${dc}`, local: false },
  };
  return {
    serviceName,
    ...(args.datacenter.aclEnabled ? { acl } : {}),
    ...(args.routes?.source === "file" ? { routesFilePath: ROUTES_FILE_PATH } : {}),
    lanAddresses: planned.map((i) => i.lanAddress),
    wanAddresses: planned.map((i) => i.wanAddress),
    instances: planned,
  };
}
