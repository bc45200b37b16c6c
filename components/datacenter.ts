/**
 * `Datacenter`: one Consul datacenter on Docker — its LAN network and its Consul server
 * container(s), configured by the agent configuration `mesh/` renders — and a
 * `consul.Provider` that talks to it.
 */
import * as consul from "@pulumi/consul";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { clusterIdOf, isPort, renderAgentConfig, type DatacenterSpec, type Mesh } from "../mesh";
import { InvalidArgumentError } from "./errors";
import { checkSubnet, dynamicRange, lanServerAddress, MAX_SERVERS } from "./plans/address-plan";
import { datacenterProblems, throwIfProblems } from "./plans/arg-problems";
import { GeneratedToken } from "./dynamic/generated-token";

/**
 * The Consul image the servers run unless told otherwise: the version the tests prove
 * (1.16.3, the last MPL-2.0 series; see the README).
 */
export const CONSUL_IMAGE = "hashicorp/consul:1.16.3";
/** How long a server has to stop on SIGTERM when its container is replaced or destroyed. */
export const SERVER_STOP_GRACE_SECONDS = 15;
/** Where the rendered agent configuration is uploaded (the image reads `/consul/config`). */
export const AGENT_CONFIG_PATH = "/consul/config/agent.json";
/** Consul's data directory in the image (`-data-dir` of its entrypoint), kept on a named volume per server. */
export const DATA_PATH = "/consul/data";
/** The prefix of Docker object names unless told otherwise. */
export const DEFAULT_RESOURCE_PREFIX = "consul-mesh";

/** How a datacenter's servers join the shared WAN network (see `WanFederation.attachment`). */
export interface WanAttachment {
  /** Name of the shared WAN Docker network. */
  networkName: pulumi.Input<string>;
  /** WAN address of each of this datacenter's servers, by server index. */
  serverAddresses: string[];
  /** WAN addresses of the other datacenters' servers (`retry_join_wan`). */
  retryJoinWan: string[];
}

/** Arguments of {@link Datacenter}. */
export interface DatacenterArgs {
  /**
   * The datacenter: name, primary datacenter, Connect, gRPC, servers, ACLs (plain: it decides how many
   * containers exist).
   */
  datacenter: DatacenterSpec;
  /** The mesh's primary datacenter. Default: `datacenter.primaryDatacenter`, else the datacenter itself. */
  primaryDatacenter?: string;
  /** Consul image of the servers. Default: {@link CONSUL_IMAGE}. */
  image?: pulumi.Input<string>;
  /**
   * Pull the image with a `docker.RemoteImage` (kept locally on delete). Default: `true`; `false` uses a
   * local image as is.
   */
  pullImage?: boolean;
  /** Prefix of Docker network and container names, unique per Docker host. Default: `"consul-mesh"`. */
  resourcePrefix?: string;
  /** IPv4 subnet of the LAN network (servers at host 10+i). Default: `"10.250.1.0/24"`. */
  lanSubnet?: string;
  /** The WAN network and the joins, from `WanFederation.attachment(name)`. Default: none (a lone datacenter). */
  wan?: WanAttachment;
  /** Host port on which server 0's HTTP API is published. Default: `8500`. */
  httpHostPort?: number;
  /** Host address on which the HTTP API is published. Default: `"127.0.0.1"`. */
  httpHostAddress?: string;
  /**
   * ACL initial management token, when the datacenter enables ACLs; configures the servers
   * and the provider. Required in a secondary datacenter with ACLs: it must be the primary
   * datacenter's (tokens are created there and replicated). Default: a UUID generated once
   * and kept as a secret in the stack (primary datacenter only).
   */
  initialManagementToken?: pulumi.Input<string>;
  /**
   * Connect trust domain to pin, `<uuid>.consul` in lower case: its UUID becomes the servers'
   * `connect.ca_config.cluster_id` (read when the CA first starts), so the trust domain is
   * known before the cluster exists, as routes files need. Default: none (Consul draws one).
   */
  trustDomain?: string;
}

/** A Consul datacenter on Docker: LAN network, server containers, and a provider for it. */
export class Datacenter extends pulumi.ComponentResource {
  /** Datacenter name. */
  readonly name: string;
  /** The datacenter as declared. */
  readonly spec: DatacenterSpec;
  /** Whether ACLs are enabled. */
  readonly aclEnabled: boolean;
  /** The LAN Docker network. */
  readonly lanNetwork: docker.Network;
  /** Name of the LAN Docker network. */
  readonly lanNetworkName: pulumi.Output<string>;
  /** IPv4 subnet of the LAN network. */
  readonly lanSubnet: string;
  /** The server containers. */
  readonly servers: docker.Container[];
  /** The servers' data volumes (`<prefix>-<node>-data`, mounted at {@link DATA_PATH}), by server index. */
  readonly dataVolumes: docker.Volume[] = [];
  /** LAN address of each server. */
  readonly serverLanAddresses: string[];
  /** HTTP API of server 0 on the LAN, for containers there (gateways): `http://<ip>:8500`. */
  readonly lanHttpAddress: string;
  /** HTTP API as published on the host, for the Pulumi program: `http://127.0.0.1:<port>`. */
  readonly httpAddress: string;
  /** Rendered agent configuration (JSON) of the servers; secret when it holds a token. */
  readonly agentConfig: pulumi.Output<string>;
  /** ACL management token (a secret), when ACLs are enabled. */
  readonly managementToken?: pulumi.Output<string>;
  /** A `consul.Provider` for this datacenter (waits for the servers). */
  readonly provider: consul.Provider;

  constructor(name: string, args: DatacenterArgs, opts?: pulumi.ComponentResourceOptions) {
    const spec = args.datacenter;
    const lanSubnet = args.lanSubnet ?? "10.250.1.0/24";
    const servers = spec.servers ?? 1;
    const problems = datacenterProblems(spec, args.primaryDatacenter);
    try {
      checkSubnet(lanSubnet, "lanSubnet");
    } catch (e) {
      if (!(e instanceof InvalidArgumentError)) throw e;
      problems.push({ path: "lanSubnet", message: e.reason });
    }
    if (Number.isInteger(servers) && servers > MAX_SERVERS) {
      problems.push({ path: "datacenter.servers", message: `at most ${MAX_SERVERS} servers per datacenter` });
    }
    if (args.wan && args.wan.serverAddresses.length < servers) {
      problems.push({
        path: "wan.serverAddresses",
        message: `${servers} servers need ${servers} WAN addresses, got ${args.wan.serverAddresses.length}`,
      });
    }
    const port = args.httpHostPort ?? 8500;
    if (!isPort(port)) {
      problems.push({
        path: "httpHostPort",
        message: `${JSON.stringify(port)} is out of range: use an integer from 1 to 65535`,
      });
    }
    const primary = args.primaryDatacenter ?? spec.primaryDatacenter ?? spec.name;
    if (spec.acl?.enabled === true && spec.name !== primary && args.initialManagementToken === undefined) {
      problems.push({
        path: "initialManagementToken",
        message:
          `datacenter ${JSON.stringify(spec.name)} is a secondary of ${JSON.stringify(primary)} with ACLs: give ` +
          `the primary datacenter's initial management token (tokens are created in the primary and replicated)`,
      });
    }
    if (primary !== spec.name && !/^[A-Za-z0-9_-]+$/.test(primary)) {
      problems.push({
        path: "primaryDatacenter",
        message: `${JSON.stringify(primary)} is not a datacenter name (letters, digits, "-" and "_")`,
      });
    }
    const clusterId = args.trustDomain === undefined ? undefined : clusterIdOf(args.trustDomain);
    if (args.trustDomain !== undefined && clusterId === undefined) {
      problems.push({
        path: "trustDomain",
        message:
          `${JSON.stringify(args.trustDomain)} is not "<uuid>.consul" ` +
          `in lower case, so Consul cannot be made to use it`,
      });
    }
    throwIfProblems(problems, `Datacenter ${JSON.stringify(name)} arguments`);

    super("consul-mesh:index:Datacenter", name, {}, opts);

    const dc = spec.name;
    const prefix = args.resourcePrefix ?? "consul-mesh";
    const hostAddress = args.httpHostAddress ?? "127.0.0.1";
    this.name = dc;
    this.spec = spec;
    this.aclEnabled = spec.acl?.enabled === true;
    this.lanSubnet = lanSubnet;

    this.lanNetwork = new docker.Network(
      `${name}-lan`,
      {
        name: `${prefix}-${dc}-lan`,
        driver: "bridge",
        ipamConfigs: [{ subnet: lanSubnet, ipRange: dynamicRange(lanSubnet) }],
        labels: [{ label: "consul-mesh.datacenter", value: dc }],
      },
      // A fixed name: the old network must go before its replacement can exist.
      { parent: this, deleteBeforeReplace: true },
    );
    this.lanNetworkName = this.lanNetwork.name;

    let token: pulumi.Output<string> | undefined;
    if (this.aclEnabled) {
      const given = args.initialManagementToken;
      token = pulumi.secret(
        given !== undefined
          ? pulumi.output(given)
          : new GeneratedToken(`${name}-management-token`, { parent: this }).value,
      );
      this.managementToken = token;
    }

    // Render once eagerly, so that a mistake fails at construction, not inside an apply.
    const mesh: Mesh = { primaryDatacenter: primary, datacenters: [spec] };
    const configOptions = { retryJoinWan: args.wan?.retryJoinWan ?? [], bindAddr: "0.0.0.0", clusterId };
    const render = (t?: string) =>
      JSON.stringify(renderAgentConfig(mesh, dc, { ...configOptions, initialManagementToken: t }), null, 2) + "\n";
    render();
    this.agentConfig = token ? token.apply((t) => render(t)) : pulumi.output(render());

    const imageName = args.image ?? CONSUL_IMAGE;
    const image =
      args.pullImage === false
        ? pulumi.output(imageName)
        : new docker.RemoteImage(`${name}-image`, { name: imageName, keepLocally: true }, { parent: this }).imageId;

    this.serverLanAddresses = Array.from({ length: servers }, (_, i) => lanServerAddress(lanSubnet, i));
    this.lanHttpAddress = `http://${this.serverLanAddresses[0]}:8500`;
    this.httpAddress = `http://${hostAddress}:${port}`;

    // Healthy (and so created, with `wait`) once a leader is elected; in a WAN-joined secondary,
    // also once the primary is known over the WAN, since writes there (ACLs, global tokens)
    // are forwarded to the primary.
    let healthTest = "wget -q -O - http://127.0.0.1:8500/v1/status/leader | grep -q :";
    if (args.wan && dc !== primary)
      healthTest += ` && wget -q -O - http://127.0.0.1:8500/v1/catalog/datacenters | grep -q '"${primary}"'`;
    // With ACLs, a leader answers before its ACL system holds the initial tokens (or, in a
    // secondary, has them replicated); an anonymous read succeeds only once it does.
    if (this.aclEnabled) healthTest += " && wget -q -O /dev/null http://127.0.0.1:8500/v1/catalog/services";

    this.servers = this.serverLanAddresses.map((lanIp, i) => {
      const node = `${dc}-server-${i}`;
      const wanIp = args.wan?.serverAddresses[i];
      const command = ["agent", `-node=${node}`, `-advertise=${lanIp}`];
      if (wanIp) command.push(`-advertise-wan=${wanIp}`);
      for (const other of this.serverLanAddresses) if (other !== lanIp) command.push(`-retry-join=${other}`);
      // WAN joins are retried every 30 s by default; the other datacenters start at the same time.
      if (args.wan && args.wan.retryJoinWan.length > 0) command.push("-retry-interval-wan=5s");
      const networks: docker.types.input.ContainerNetworksAdvanced[] = [
        { name: this.lanNetwork.name, ipv4Address: lanIp, aliases: [`${node}`, `consul-${dc}`] },
      ];
      if (args.wan && wanIp)
        networks.push({ name: args.wan.networkName, ipv4Address: wanIp, aliases: [`${node}.wan`] });
      // Consul's state (raft, ACLs, config entries, agent registrations) outlives a replaced container.
      const data = new docker.Volume(
        `${name}-server-${i}-data`,
        { name: `${prefix}-${node}-data`, labels: [{ label: "consul-mesh.datacenter", value: dc }] },
        { parent: this },
      );
      this.dataVolumes.push(data);
      return new docker.Container(
        `${name}-server-${i}`,
        {
          name: `${prefix}-${node}`,
          hostname: node,
          image,
          command,
          networksAdvanced: networks,
          uploads: [{ file: AGENT_CONFIG_PATH, content: this.agentConfig }],
          volumes: [{ volumeName: data.name, containerPath: DATA_PATH }],
          ports: i === 0 ? [{ internal: 8500, external: port, ip: hostAddress, protocol: "tcp" }] : [],
          healthcheck: {
            tests: ["CMD-SHELL", healthTest],
            interval: "2s",
            timeout: "2s",
            startPeriod: "2s",
            retries: 90,
          },
          wait: true,
          waitTimeout: 180,
          restart: "unless-stopped",
          destroyGraceSeconds: SERVER_STOP_GRACE_SECONDS,
          labels: [
            { label: "consul-mesh.datacenter", value: dc },
            { label: "consul-mesh.role", value: "server" },
          ],
        },
        // A fixed name, IP address and host port: the old container must go first.
        { parent: this, deleteBeforeReplace: true },
      );
    });

    this.provider = new consul.Provider(
      `${name}-provider`,
      {
        address: `${hostAddress}:${port}`,
        scheme: "http",
        datacenter: dc,
        token,
      },
      { parent: this, dependsOn: this.servers },
    );

    this.registerOutputs({
      name: dc,
      lanNetworkName: this.lanNetworkName,
      serverLanAddresses: this.serverLanAddresses,
      lanHttpAddress: this.lanHttpAddress,
      httpAddress: this.httpAddress,
      managementToken: this.managementToken,
    });
  }
}
