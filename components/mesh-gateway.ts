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
import type { RoutesFile } from "../mesh";
import { AgentServiceRegistration } from "./dynamic/agent-service-registration";
import { addressStandIn } from "./plans/address-plan";
import { throwIfProblems } from "./plans/arg-problems";
import type { ConsulDatacenter } from "./consul-datacenter";
import {
  CONSUL_CA_FILE_PATH,
  meshGatewayProblems,
  planMeshGateway,
  type GatewayDatacenter,
  type MeshGatewayPlan,
  type MeshGatewayPlanArgs,
  type PlannedGatewayInstance,
} from "./plans/mesh-gateway-plan";
import type { WanFederation } from "./wan-federation";

export {
  CONSUL_CA_FILE_PATH,
  GATEWAY_DRAIN_GRACE_SECONDS,
  GATEWAY_STOP_GRACE_SECONDS,
  ROUTES_FILE_PATH,
} from "./plans/mesh-gateway-plan";

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
export interface MeshGatewayArgs extends Omit<MeshGatewayPlanArgs<pulumi.Input<string>>, "datacenter" | AddressField> {
  /**
   * The datacenter the gateway serves (its Docker network, agent, ACL token and CA): a `Datacenter`, or an
   * `ExistingDatacenter`. The containers run on the Docker provider of the component's options
   * (`opts.providers`), else the default one.
   */
  datacenter: ConsulDatacenter;
  /**
   * Provider that writes the gateway's ACL policy and token. Both are global, kept in the
   * primary datacenter: give the primary's provider, so that the token is read back where it
   * was written (a secondary sees it only once replication has caught up).
   * Default: the Consul provider of the component's options (`opts.provider(s)`), else `datacenter.aclProvider`,
   * else `datacenter.provider`.
   */
  aclProvider?: consul.Provider;
  /**
   * The LAN address other services dial (`TaggedAddresses.lan`), e.g. another resource's IP address.
   * Default: the container's LAN IP; required in a datacenter without a `lanSubnet` (an existing one).
   */
  lanAddress?: pulumi.Input<string>;
  /** The WAN address other datacenters dial (`TaggedAddresses.wan`). Default: `publishAddress`, else the container's WAN IP, else the LAN address. */
  wanAddress?: pulumi.Input<string>;
  /**
   * Host address on which the gateway's port is published (as the same port number), for a WAN between Docker
   * hosts. One container only. Default: not published.
   */
  publishAddress?: pulumi.Input<string>;
  /** The WAN federation whose network the gateway joins. Default: none (LAN only; the WAN address is the LAN one). */
  wan?: WanFederation;
  /**
   * Other datacenters' LAN networks the containers join too, under the gateway's alias
   * (`<service name>-<datacenter>`): with WAN federation through the gateways, the primary's gateways join
   * the secondaries' LANs, where the secondaries' servers (on no other network) first reach the
   * primary (`primary_gateways`). Default: none.
   */
  serverNetworks?: pulumi.Input<string>[];
  /** The gateway image (e.g. `GatewayImage.imageName`, or a published name). */
  image: pulumi.Input<string>;
  /** Route source. Default: `{ source: "consul" }`. */
  routes?: GatewayRouteSource;
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
  readonly lanAddresses: pulumi.Output<string[]>;
  /** WAN address (`host:port`) each container registers. */
  readonly wanAddresses: pulumi.Output<string[]>;
  /** The gateway's ACL token secret (a Pulumi secret), when ACLs are enabled. */
  readonly token?: pulumi.Output<string>;
  /** The ACL policy, when ACLs are enabled. */
  readonly aclPolicy?: consul.AclPolicy;
  /** The ACL token, when ACLs are enabled. */
  readonly aclToken?: consul.AclToken;
  /** The agent registrations (file mode with `register`). */
  readonly registrations: AgentServiceRegistration[];

  constructor(name: string, args: MeshGatewayArgs, opts?: pulumi.ComponentResourceOptions) {
    const subject = `MeshGateway ${JSON.stringify(name)} arguments`;
    // The shape now, with a stand-in for each address still to resolve (`addressStandIn`); the values once known.
    const planArgs = { ...args, datacenter: gatewayDatacenter(args.datacenter) };
    const standIn = addressStandIn;
    const shapeArgs = {
      ...planArgs,
      lanAddress: standIn(args.lanAddress),
      wanAddress: standIn(args.wanAddress),
      publishAddress: standIn(args.publishAddress),
    };
    throwIfProblems(meshGatewayProblems(shapeArgs), subject);
    super("consul-mesh:index:MeshGateway", name, {}, opts);
    const plan = planMeshGateway(name, shapeArgs);
    const resolved = pulumi
      .all([args.lanAddress, args.wanAddress, args.publishAddress])
      .apply(([lanAddress, wanAddress, publishAddress]) => {
        const values = { ...planArgs, lanAddress, wanAddress, publishAddress };
        throwIfProblems(meshGatewayProblems(values), subject);
        return planMeshGateway(name, values);
      });
    this.serviceName = plan.serviceName;
    if (plan.acl) {
      const acl = this.placeAcl(plan.acl, args);
      [this.aclPolicy, this.aclToken, this.token] = [acl.policy, acl.token, acl.secret];
    }
    const routes = args.routes;
    const routesContent =
      routes?.source === "file"
        ? pulumi.output(routes.routes).apply((r) => JSON.stringify(r, null, 2) + "\n")
        : undefined;
    this.lanAddresses = resolved.apply((p) => p.lanAddresses);
    this.wanAddresses = resolved.apply((p) => p.wanAddresses);
    this.registrations = [];
    this.containers = plan.instances.map((instance, k) =>
      this.placeInstance(
        instance,
        resolved.apply((p) => p.instances[k]),
        args,
        plan,
        routesContent,
      ),
    );
    this.registerOutputs({
      serviceName: plan.serviceName,
      lanAddresses: this.lanAddresses,
      wanAddresses: this.wanAddresses,
      token: this.token,
      // Known at preview: a token that cannot write the gateway's policy fails the run here, naming the right.
      rightsChecked:
        this.writesAclWith(args) === args.datacenter.provider
          ? args.datacenter.checkRights?.(`MeshGateway ${JSON.stringify(name)}`, [{ resource: "acl", access: "write" }])
          : undefined,
    });
  }

  /**
   * The provider that writes the gateway's policy and token: `aclProvider`, else none when the component was
   * given a Consul provider (its children inherit it: Pulumi's convention), else the datacenter's for ACLs.
   */
  private writesAclWith(args: MeshGatewayArgs): consul.Provider | undefined {
    if (args.aclProvider) return args.aclProvider;
    return this.getProvider("consul::") ? undefined : (args.datacenter.aclProvider ?? args.datacenter.provider);
  }

  /** The gateway's ACL policy and token, and the token's secret. */
  private placeAcl(acl: NonNullable<MeshGatewayPlan["acl"]>, args: MeshGatewayArgs) {
    const provider = this.writesAclWith(args);
    const { resourceName: policyName, ...policyArgs } = acl.policy;
    const policy = new consul.AclPolicy(policyName, policyArgs, {
      parent: this,
      provider,
      deletedWith: args.consulState,
    });
    const { resourceName: tokenName, ...tokenArgs } = acl.token;
    const token = new consul.AclToken(
      tokenName,
      { ...tokenArgs, policies: [policy.name] },
      { parent: this, provider, deletedWith: args.consulState },
    );
    const secretId = consul.getAclTokenSecretIdOutput(
      { accessorId: token.accessorId },
      { parent: this, provider },
    ).secretId;
    return { policy, token, secret: pulumi.secret(secretId) };
  }

  /** One gateway container, and its registration with the agent when planned. */
  private placeInstance(
    instance: PlannedGatewayInstance<pulumi.Input<string>>,
    values: pulumi.Output<PlannedGatewayInstance<pulumi.Input<string>>>,
    args: MeshGatewayArgs,
    plan: MeshGatewayPlan<pulumi.Input<string>>,
    routesContent?: pulumi.Output<string>,
  ): docker.Container {
    const datacenter = args.datacenter;
    const envs = instance.tokenEnv ? pulumi.secret([pulumi.interpolate`${instance.tokenEnv}=${this.token}`]) : [];
    const networks: docker.types.input.ContainerNetworksAdvanced[] = [];
    if (instance.lan && datacenter.lanNetworkName) networks.push({ name: datacenter.lanNetworkName, ...instance.lan });
    if (args.wan && instance.wan) networks.push({ name: args.wan.networkName, ...instance.wan });
    for (const name of args.serverNetworks ?? []) networks.push({ name, aliases: instance.lan?.aliases ?? [] });
    const uploads: docker.types.input.ContainerUpload[] = [];
    if (plan.routesFilePath && routesContent) uploads.push({ file: plan.routesFilePath, content: routesContent });
    if (datacenter.caPem !== undefined) uploads.push({ file: CONSUL_CA_FILE_PATH, content: datacenter.caPem });
    const container = new docker.Container(
      instance.resourceName,
      {
        ...instance.container,
        // What the addresses decide, once they are known.
        command: values.apply((v) => pulumi.all(v.container.command)),
        ...(instance.container.ports ? { ports: values.apply((v) => v.container.ports ?? []) } : {}),
        image: args.image,
        envs,
        ...(instance.hostNetwork ? { networkMode: "host" } : { networksAdvanced: networks }),
        uploads,
      },
      // A fixed name and IP addresses: the old container must go first.
      { parent: this, dependsOn: datacenter.servers, deleteBeforeReplace: true },
    );
    if (instance.registration) {
      this.registrations.push(
        new AgentServiceRegistration(
          instance.registration.resourceName,
          {
            address: datacenter.httpAddress,
            token: this.token ?? datacenter.token,
            caPem: datacenter.caPem,
            serviceId: instance.serviceId,
            registration: values.apply((v) => v.registration?.body ?? {}),
          },
          { parent: this, dependsOn: [...datacenter.servers, container], deletedWith: args.consulState },
        ),
      );
    }
    return container;
  }
}

/** The arguments that are addresses, which may be Outputs. */
type AddressField = "lanAddress" | "wanAddress" | "publishAddress";

/** What the gateway's plan needs of its datacenter. */
function gatewayDatacenter(dc: ConsulDatacenter): GatewayDatacenter<pulumi.Input<string>> {
  return {
    name: dc.name,
    lanSubnet: dc.lanSubnet,
    lanNetwork: dc.lanNetworkName !== undefined,
    lanHttpAddress: dc.lanHttpAddress,
    lanGrpcAddress: dc.lanGrpcAddress,
    aclEnabled: dc.aclEnabled,
    caPem: dc.caPem !== undefined,
  };
}
