/**
 * `Datacenter`: one Consul datacenter on Docker — its LAN network and its Consul server
 * container(s), configured by the agent configuration `mesh/` renders — and a
 * `consul.Provider` that talks to it.
 */
import * as consul from "@pulumi/consul";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import type { DatacenterSpec } from "../mesh";
import { placeNetwork } from "./docker-objects";
import { throwIfProblems } from "./plans/arg-problems";
import {
  AGENT_CONFIG_PATH,
  DATA_PATH,
  datacenterArgProblems,
  planDatacenter,
  type DatacenterPlanArgs,
  type PlannedServer,
  type WanJoin,
} from "./plans/datacenter-plan";
import { GeneratedToken } from "./dynamic/generated-token";
import type { ConsulDatacenter } from "./consul-datacenter";

export { AGENT_CONFIG_PATH, DATA_PATH, SERVER_STOP_GRACE_SECONDS } from "./plans/datacenter-plan";
export type { WanHost } from "./plans/datacenter-plan";
export { DEFAULT_RESOURCE_PREFIX } from "./plans/docker-plan";

/**
 * The Consul image the servers run unless told otherwise: the version the tests prove
 * (1.16.3, the last MPL-2.0 series; see the README).
 */
export const CONSUL_IMAGE = "hashicorp/consul:1.16.3";

/** How a datacenter's servers join the shared WAN network (see `WanFederation.attachment`). */
export interface WanAttachment extends WanJoin {
  /** Name of the shared WAN Docker network. */
  networkName: pulumi.Input<string>;
}

/** Arguments of {@link Datacenter}. */
export interface DatacenterArgs extends DatacenterPlanArgs<pulumi.Input<string>> {
  /** Consul image of the servers. Default: {@link CONSUL_IMAGE}. */
  image?: pulumi.Input<string>;
  /** The WAN network and the joins, from `WanFederation.attachment(name)`. Default: none (a lone datacenter). */
  wan?: WanAttachment;
  /**
   * ACL initial management token, when the datacenter enables ACLs; configures the servers
   * and the provider. Required in a secondary datacenter with ACLs: it must be the primary
   * datacenter's (tokens are created there and replicated). Default: a UUID generated once
   * and kept as a secret in the stack (primary datacenter only).
   */
  initialManagementToken?: pulumi.Input<string>;
  /**
   * Connect trust domain to pin, `<uuid>.consul` in lower case (e.g. `GeneratedTrustDomain`'s
   * `trustDomain`, or the one a `ConsulMesh` drew): its UUID becomes the servers'
   * `connect.ca_config.cluster_id`, read when the CA first starts. A plain string is checked
   * with the other arguments, an output once known. Default: none (Consul draws one, which
   * the stack does not know).
   */
  trustDomain?: pulumi.Input<string>;
}

/** A Consul datacenter on Docker: LAN network, server containers, and a provider for it. */
export class Datacenter extends pulumi.ComponentResource implements ConsulDatacenter {
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
  /** The token the components write with: the management token, when ACLs are enabled. */
  readonly token?: pulumi.Output<string>;
  /** A `consul.Provider` for this datacenter (waits for the servers). */
  readonly provider: consul.Provider;

  constructor(name: string, args: DatacenterArgs, opts?: pulumi.ComponentResourceOptions) {
    throwIfProblems(datacenterArgProblems(args), `Datacenter ${JSON.stringify(name)} arguments`);
    super("consul-mesh:index:Datacenter", name, {}, opts);
    const plan = planDatacenter(name, args);
    this.name = plan.name;
    this.spec = args.datacenter;
    this.aclEnabled = plan.aclEnabled;
    this.lanSubnet = plan.lanSubnet;
    this.lanNetwork = placeNetwork(plan.lanNetwork, this);
    this.lanNetworkName = this.lanNetwork.name;

    let token: pulumi.Output<string> | undefined;
    if (plan.aclEnabled) {
      const given = args.initialManagementToken;
      token = pulumi.secret(
        given !== undefined
          ? pulumi.output(given)
          : new GeneratedToken(plan.generatedToken as string, { parent: this }).value,
      );
      this.managementToken = this.token = token;
    }
    this.agentConfig = pulumi
      .all([token, args.trustDomain])
      .apply(([t, trustDomain]) => plan.agentConfig(t, trustDomain));

    const imageName = args.image ?? CONSUL_IMAGE;
    const image = plan.remoteImage
      ? new docker.RemoteImage(plan.remoteImage, { name: imageName, keepLocally: true }, { parent: this }).imageId
      : pulumi.output(imageName);
    this.serverLanAddresses = plan.serverLanAddresses;
    this.lanHttpAddress = plan.lanHttpAddress;
    this.httpAddress = plan.httpAddress;
    this.servers = plan.servers.map((server) => this.placeServer(server, image, args.wan));

    const { resourceName: providerName, ...provider } = plan.provider;
    this.provider = new consul.Provider(
      providerName,
      { ...provider, token },
      { parent: this, dependsOn: this.servers },
    );
    this.registerOutputs({
      name: plan.name,
      lanNetworkName: this.lanNetworkName,
      serverLanAddresses: this.serverLanAddresses,
      lanHttpAddress: this.lanHttpAddress,
      httpAddress: this.httpAddress,
      managementToken: this.managementToken,
    });
  }

  /** A server's data volume and container, as planned. */
  private placeServer(server: PlannedServer, image: pulumi.Input<string>, wan?: WanAttachment): docker.Container {
    const { resourceName, ...volume } = server.volume;
    const data = new docker.Volume(resourceName, volume, { parent: this });
    this.dataVolumes.push(data);
    const networks: docker.types.input.ContainerNetworksAdvanced[] = [{ name: this.lanNetwork.name, ...server.lan }];
    if (wan && server.wan) networks.push({ name: wan.networkName, ...server.wan });
    return new docker.Container(
      server.resourceName,
      {
        ...server.container,
        image,
        networksAdvanced: networks,
        uploads: [{ file: AGENT_CONFIG_PATH, content: this.agentConfig }],
        volumes: [{ volumeName: data.name, containerPath: DATA_PATH }],
      },
      // A fixed name, IP address and host port: the old container must go first.
      { parent: this, deleteBeforeReplace: true },
    );
  }
}
