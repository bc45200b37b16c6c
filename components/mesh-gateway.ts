/**
 * `MeshGateway`: our SNI gateway container(s) in one datacenter, on its LAN and on the WAN,
 * run as the `sni-gateway` CLI contract says. Routes come from the datacenter's Consul agent
 * (`--consul`, with `CONSUL_HTTP_ADDR`/`CONSUL_HTTP_TOKEN`; the gateway registers itself) or
 * from a routes file rendered by `mesh/` and uploaded into the container (`--routes`; the
 * component then registers the gateway with the agent, as `consul connect envoy -gateway=mesh
 * -register` would). With ACLs, a policy and token of its own; the secret stays a secret.
 */
import * as consul from "@pulumi/consul";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { isPort, sortKeys, toGatewayRegistration, type MeshProblem, type RoutesFile } from "../mesh";
import { lanGatewayAddress, MAX_GATEWAYS } from "./plans/address-plan";
import { AgentServiceRegistration } from "./dynamic/agent-service-registration";
import { gatewayProblems, throwIfProblems } from "./plans/arg-problems";
import type { Datacenter } from "./datacenter";
import { gatewayAclRules } from "../mesh/render/gateway-acl-rules";
import type { WanFederation } from "./wan-federation";

/** Where the routes file is uploaded in file mode. */
export const ROUTES_FILE_PATH = "/etc/sni-gateway/routes.json";
/**
 * How long a gateway container has to stop when it is replaced or destroyed (Docker's stop
 * timeout): its drain ({@link GATEWAY_DRAIN_GRACE_SECONDS}) and deregistration fit inside.
 */
export const GATEWAY_STOP_GRACE_SECONDS = 30;
/** How long a stopping gateway lets connections in flight finish (`--drain-grace`). */
export const GATEWAY_DRAIN_GRACE_SECONDS = 25;

/** Where a gateway gets its routes. */
export type GatewayRouteSource =
  | {
      /** From the datacenter's Consul agent (catalog and health, blocking queries); the gateway registers itself. */
      source: "consul";
    }
  | {
      /** From a routes file uploaded into the container. */
      source: "file";
      /** The routes file (e.g. `renderGatewayRoutes(mesh, dc)`). */
      routes: pulumi.Input<RoutesFile>;
      /** Register the gateway with the datacenter's agent so sidecars find it. Default: `true`. */
      register?: boolean;
    };

/** Arguments of {@link MeshGateway}. */
export interface MeshGatewayArgs {
  /** The datacenter the gateway serves (its LAN network, agent, provider and ACL token). */
  datacenter: Datacenter;
  /**
   * Provider that writes the gateway's ACL policy and token. Both are global, kept in the
   * primary datacenter: give the primary's provider, so that the token is read back where it
   * was written (a secondary sees it only once replication has caught up).
   * Default: `datacenter.provider`.
   */
  aclProvider?: consul.Provider;
  /** The WAN federation whose network the gateway joins. Default: none (LAN only; the WAN address is the LAN one). */
  wan?: WanFederation;
  /** The gateway image (e.g. `GatewayImage.imageName`, or a published name). */
  image: pulumi.Input<string>;
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
  /** The LAN address other services dial (`TaggedAddresses.lan`). Default: the container's LAN IP. */
  lanAddress?: string;
  /**
   * The WAN address other datacenters dial (`TaggedAddresses.wan`). Default: the container's WAN IP, else the
   * LAN address.
   */
  wanAddress?: string;
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
  trustDomain?: pulumi.Input<string>;
  /** Route source. Default: `{ source: "consul" }`. */
  routes?: GatewayRouteSource;
  /** Prefix of container names. Default: `"consul-mesh"`. */
  resourcePrefix?: string;
  /**
   * What holds the Consul state this gateway writes (its ACL policy and token, its registration in
   * file mode), e.g. the primary `Datacenter`'s `dataVolumes[0]`: when it is deleted in the same
   * run, so are they, and destroy does not ask a Consul that is gone. (Not the component's own
   * `deletedWith`: that would skip stopping the containers too.) Default: none.
   */
  consulState?: pulumi.Resource;
}

/** Mesh gateway container(s) of one datacenter. */
export class MeshGateway extends pulumi.ComponentResource {
  /** Service name. */
  readonly serviceName: string;
  /** The gateway containers. */
  readonly containers: docker.Container[];
  /** LAN address (`host:port`) each container registers. */
  readonly lanAddresses: string[];
  /** WAN address (`host:port`) each container registers. */
  readonly wanAddresses: string[];
  /** The gateway's ACL token secret (a Pulumi secret), when ACLs are enabled. */
  readonly token?: pulumi.Output<string>;
  /** The ACL policy, when ACLs are enabled. */
  readonly aclPolicy?: consul.AclPolicy;
  /** The ACL token, when ACLs are enabled. */
  readonly aclToken?: consul.AclToken;
  /** The agent registrations (file mode with `register`). */
  readonly registrations: AgentServiceRegistration[];

  constructor(name: string, args: MeshGatewayArgs, opts?: pulumi.ComponentResourceOptions) {
    const dc = args.datacenter.name;
    const serviceName = args.serviceName ?? "mesh-gateway";
    const port = args.port ?? 8443;
    const adminPort = args.adminPort ?? 19000;
    const instances = args.instances ?? 1;
    const slot = args.slot ?? 0;
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
    if (args.wan && !args.wan.datacenterNames.includes(dc)) {
      problems.push({
        path: "args.wan",
        message: `datacenter ${JSON.stringify(dc)} is not part of the WAN federation`,
      });
    }
    const routes = args.routes ?? { source: "consul" };
    if (routes.source !== "consul" && routes.source !== "file") {
      problems.push({
        path: "args.routes.source",
        message:
          `${JSON.stringify((routes as { source: unknown }).source)} ` +
          `is not a route source: use "consul" or "file"`,
      });
    }
    for (const [field, value] of [
      ["args.lanAddress", args.lanAddress],
      ["args.wanAddress", args.wanAddress],
    ] as const) {
      if (value !== undefined && (typeof value !== "string" || value === "" || /[\s/]/.test(value))) {
        problems.push({ path: field, message: `${JSON.stringify(value)} must be a host name or IP address` });
      }
    }
    throwIfProblems(problems, `MeshGateway ${JSON.stringify(name)} arguments`);

    super("consul-mesh:index:MeshGateway", name, {}, opts);
    this.serviceName = serviceName;
    const prefix = args.resourcePrefix ?? "consul-mesh";
    const aliases = args.aliases ?? [`${serviceName}-${dc}`];
    const datacenter = args.datacenter;

    if (datacenter.aclEnabled) {
      const aclProvider = args.aclProvider ?? datacenter.provider;
      this.aclPolicy = new consul.AclPolicy(
        `${name}-policy`,
        {
          name: `${dc}-${serviceName}`,
          description:
            `mesh gateway ${serviceName} in ${dc}: service:write ` + `on itself, service:read and node:read on all`,
          rules: gatewayAclRules(serviceName),
        },
        { parent: this, provider: aclProvider, deletedWith: args.consulState },
      );
      this.aclToken = new consul.AclToken(
        `${name}-token`,
        {
          description: `mesh gateway ${serviceName} in ${dc}`,
          policies: [this.aclPolicy.name],
          // A global token: a secondary datacenter can create local tokens only with token
          // replication on, while global ones are forwarded to the primary and resolve anywhere.
          local: false,
        },
        { parent: this, provider: aclProvider, deletedWith: args.consulState },
      );
      const secretId = consul.getAclTokenSecretIdOutput(
        { accessorId: this.aclToken.accessorId },
        { parent: this, provider: aclProvider },
      ).secretId;
      this.token = pulumi.secret(secretId);
    }

    const routesContent =
      routes.source === "file"
        ? pulumi.output(routes.routes).apply((r) => JSON.stringify(r, null, 2) + "\n")
        : undefined;

    this.lanAddresses = [];
    this.wanAddresses = [];
    this.registrations = [];
    this.containers = Array.from({ length: instances }, (_, k) => {
      const j = slot + k;
      const lanIp = lanGatewayAddress(datacenter.lanSubnet, j);
      const wanIp = args.wan?.gatewayAddress(dc, j);
      const lan = `${args.lanAddress ?? lanIp}:${port}`;
      const wan = `${args.wanAddress ?? wanIp ?? args.lanAddress ?? lanIp}:${port}`;
      this.lanAddresses.push(lan);
      this.wanAddresses.push(wan);

      const id = instances === 1 ? serviceName : `${serviceName}-${k}`;
      const command: pulumi.Input<string>[] = ["--datacenter", dc];
      if (args.trustDomain !== undefined) command.push("--trust-domain", args.trustDomain);
      command.push("--listen", `0.0.0.0:${port}`, "--admin", `0.0.0.0:${adminPort}`);
      command.push("--drain-grace", `${GATEWAY_DRAIN_GRACE_SECONDS}s`);
      // The registration flags apply to self-registration (Consul mode) only; in file mode
      // the component registers the gateway with the agent itself.
      if (routes.source === "file") command.push("--routes", ROUTES_FILE_PATH);
      else {
        command.push(
          "--consul",
          datacenter.lanHttpAddress,
          "--service-name",
          serviceName,
          "--service-id",
          id,
          "--lan-address",
          lan,
          "--wan-address",
          wan,
        );
        if (args.proxyConfig !== undefined) command.push("--proxy-config", JSON.stringify(sortKeys(args.proxyConfig)));
      }

      // Sorted by name; the whole list is secret when it holds the token.
      const envs: pulumi.Input<string>[] = [];
      if (routes.source === "consul") {
        envs.push(`CONSUL_HTTP_ADDR=${datacenter.lanHttpAddress}`);
        if (this.token) envs.push(pulumi.interpolate`CONSUL_HTTP_TOKEN=${this.token}`);
      }

      const networks: docker.types.input.ContainerNetworksAdvanced[] = [
        { name: datacenter.lanNetworkName, ipv4Address: lanIp, aliases },
      ];
      if (args.wan && wanIp) networks.push({ name: args.wan.networkName, ipv4Address: wanIp, aliases });

      const container = new docker.Container(
        `${name}-gateway-${k}`,
        {
          name: `${prefix}-${dc}-${serviceName}-${k}`,
          hostname: `${serviceName}-${dc}-${k}`,
          image: args.image,
          command,
          envs: this.token ? pulumi.secret(envs) : envs,
          networksAdvanced: networks,
          uploads: routesContent ? [{ file: ROUTES_FILE_PATH, content: routesContent }] : [],
          init: true,
          restart: "unless-stopped",
          stopTimeout: GATEWAY_STOP_GRACE_SECONDS,
          destroyGraceSeconds: GATEWAY_STOP_GRACE_SECONDS,
          labels: [
            { label: "consul-mesh.datacenter", value: dc },
            { label: "consul-mesh.role", value: "mesh-gateway" },
            { label: "consul-mesh.service", value: serviceName },
          ],
        },
        // A fixed name and IP addresses: the old container must go first.
        { parent: this, dependsOn: datacenter.servers, deleteBeforeReplace: true },
      );

      if (routes.source === "file" && routes.register !== false) {
        const [lanHost, wanHost] = [args.lanAddress ?? lanIp, args.wanAddress ?? wanIp ?? args.lanAddress ?? lanIp];
        this.registrations.push(
          new AgentServiceRegistration(
            `${name}-registration-${k}`,
            {
              address: datacenter.httpAddress,
              token: this.token ?? datacenter.managementToken,
              serviceId: id,
              registration: toGatewayRegistration({
                name: serviceName,
                id,
                address: lanHost,
                port,
                lanAddress: { address: lanHost, port },
                wanAddress: { address: wanHost, port },
                proxyConfig: args.proxyConfig,
              }) as unknown as Record<string, unknown>,
            },
            { parent: this, dependsOn: [...datacenter.servers, container], deletedWith: args.consulState },
          ),
        );
      }
      return container;
    });

    this.registerOutputs({
      serviceName,
      lanAddresses: this.lanAddresses,
      wanAddresses: this.wanAddresses,
      token: this.token,
    });
  }
}
