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
  type DatacenterPlan,
  type PlannedServer,
  type WanJoin,
} from "./plans/datacenter-plan";
import { GeneratedToken } from "./dynamic/generated-token";
import { ConsulCertificateAuthority, ConsulServerCertificate, GossipKey } from "./dynamic/consul-secrets";
import { PresetAclToken } from "./dynamic/preset-acl-token";
import { addressStandIn } from "./plans/address-plan";
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

/** {@link WanHost}, its addresses as Inputs (e.g. another resource's IP address). */
export interface WanHostArgs {
  /** The address other datacenters (servers and gateways) reach this Docker host at; the server's WAN address. */
  address: pulumi.Input<string>;
  /** The host address the ports are published on. Default: `address`. */
  publishAddress?: pulumi.Input<string>;
  /** The other datacenters' WAN addresses (their hosts' `address`), joined as `retry_join_wan`. Default: none. */
  retryJoinWan?: pulumi.Input<string>[];
}

/** Arguments of {@link Datacenter}. */
export interface DatacenterArgs extends Omit<
  DatacenterPlanArgs<pulumi.Input<string>>,
  "wanHost" | "httpHostAddress" | "ca" | "gossipKey" | "primary" | "primaryGateways"
> {
  /**
   * The WAN through ports published on this datacenter's Docker host, for datacenters on different Docker
   * hosts (instead of `wan`). Default: none.
   */
  wanHost?: WanHostArgs;
  /** Host address on which the HTTP API is published. Default: `"127.0.0.1"`. */
  httpHostAddress?: pulumi.Input<string>;
  /** Consul image of the servers. Default: {@link CONSUL_IMAGE}. */
  image?: pulumi.Input<string>;
  /** The WAN network and the joins, from `WanFederation.attachment(name)`. Default: none (a lone datacenter). */
  wan?: WanAttachment;
  /**
   * ACL initial management token, when the datacenter enables ACLs; configures the servers
   * and the provider. Default: in a secondary, the primary's; else a UUID generated once and
   * kept as a secret in the stack.
   */
  initialManagementToken?: pulumi.Input<string>;
  /**
   * The primary datacenter; required in a secondary with ACLs (the default). ACL objects live in
   * the primary: this datacenter's servers' tokens (its agent token, its replication token and
   * policy) are made there before its servers start, and it takes the primary's management token.
   * Default: none.
   */
  primary?: Datacenter;
  /**
   * With WAN federation through mesh gateways (`wan.mode` `"mesh-gateways"`), in a secondary: the
   * primary's gateways, required there: their addresses (`host:port`, as this datacenter's servers
   * reach them) become `primary_gateways`, and its servers start after `gateways` (the primary's
   * `MeshGateway`s): they first reach the primary through them. Default: none.
   */
  primaryGateways?: { addresses: pulumi.Input<string[]>; gateways: pulumi.Resource[] | Promise<pulumi.Resource[]> };
  /**
   * Connect trust domain to pin, `<uuid>.consul` in lower case (e.g. `GeneratedTrustDomain`'s
   * `trustDomain`, or the one a `ConsulMesh` drew): its UUID becomes the servers'
   * `connect.ca_config.cluster_id`, read when the CA first starts. A plain string is checked
   * with the other arguments, an output once known. Default: none (Consul draws one, which
   * the stack does not know).
   */
  trustDomain?: pulumi.Input<string>;
  /**
   * The CA that signs the servers' certificate, with TLS on (the default). Federated
   * datacenters must share one: give each the same. Default: a CA of this datacenter's own
   * (a lone datacenter only; its key is a secret in the stack's state).
   */
  ca?: ConsulCertificateAuthority;
  /**
   * The gossip encryption key, with gossip encryption on (the default). Federated datacenters
   * must share one (e.g. one `GossipKey`'s `value`). Default: a key of this datacenter's own
   * (a lone datacenter only).
   */
  gossipKey?: pulumi.Input<string>;
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
  /** HTTP API of server 0 on the LAN, for containers there (gateways): `https://<ip>:8501` (`http://<ip>:8500` without TLS). */
  readonly lanHttpAddress: string;
  /** gRPC (xDS) of server 0 on the LAN, as `CONSUL_GRPC_ADDR` takes it: `https://<ip>:8503` (`<ip>:8502` without TLS). */
  readonly lanGrpcAddress: string;
  /** HTTP API as published on the host, for the Pulumi program: `https://127.0.0.1:<port>` (`http://` without TLS). */
  readonly httpAddress: pulumi.Output<string>;
  /** The CA certificate that verifies the servers (with TLS). */
  readonly caPem?: pulumi.Output<string>;
  /** The CA (with TLS): given, or this datacenter's own. */
  readonly ca?: ConsulCertificateAuthority;
  /** The servers' certificate (with TLS). */
  readonly serverCertificate?: ConsulServerCertificate;
  /** The servers' own ACL tokens in Consul (with ACLs): `agent`, and `replication` in a secondary. */
  readonly serverTokens: PresetAclToken[] = [];
  /** Rendered agent configuration (JSON) of the servers; a secret when it holds a token or key. */
  readonly agentConfig: pulumi.Output<string>;
  /** ACL management token (a secret), when ACLs are enabled. */
  readonly managementToken?: pulumi.Output<string>;
  /** The token the components write with: the management token, when ACLs are enabled. */
  readonly token?: pulumi.Output<string>;
  /** A `consul.Provider` for this datacenter (waits for the servers). */
  readonly provider: consul.Provider;
  /**
   * The provider that writes global ACL objects (policies, tokens) and reads them back where they
   * live: the primary's provider in a secondary, else {@link Datacenter.provider}.
   */
  readonly aclProvider: consul.Provider;
  /** What holds the global ACL objects written through {@link Datacenter.aclProvider}: the primary's first data volume. */
  readonly aclState: pulumi.Resource;
  /** What the servers start after: the primary's gateways, through the gateways. */
  private readonly startsAfter: pulumi.Resource[] | Promise<pulumi.Resource[]>;

  constructor(name: string, args: DatacenterArgs, opts?: pulumi.ComponentResourceOptions) {
    const subject = `Datacenter ${JSON.stringify(name)} arguments`;
    // The shape now, with a stand-in for each address still to resolve; the values once they are known.
    const standIn = addressStandIn;
    const host = args.wanHost;
    const shapeArgs: DatacenterPlanArgs<pulumi.Input<string>> = {
      ...args,
      httpHostAddress: standIn(args.httpHostAddress),
      wanHost: host && {
        address: standIn(host.address) as string,
        publishAddress: standIn(host.publishAddress),
        retryJoinWan: host.retryJoinWan?.map((a) => standIn(a) as string),
      },
    };
    throwIfProblems(datacenterArgProblems(shapeArgs), subject);
    super("consul-mesh:index:Datacenter", name, {}, opts);
    const plan = planDatacenter(name, shapeArgs);
    const resolved = pulumi
      .all([args.httpHostAddress, host?.address, host?.publishAddress, pulumi.all(host?.retryJoinWan ?? [])])
      .apply(([httpHostAddress, address, publishAddress, retryJoinWan]) => {
        const values = {
          ...shapeArgs,
          httpHostAddress,
          wanHost: host && { address: address as string, publishAddress, retryJoinWan },
        };
        throwIfProblems(datacenterArgProblems(values), subject);
        return planDatacenter(name, values);
      });
    this.name = plan.name;
    this.spec = args.datacenter;
    this.aclEnabled = plan.aclEnabled;
    this.lanSubnet = plan.lanSubnet;
    this.lanNetwork = placeNetwork(plan.lanNetwork, this);
    this.lanNetworkName = this.lanNetwork.name;

    let token: pulumi.Output<string> | undefined;
    if (plan.aclEnabled) {
      const given = args.initialManagementToken ?? args.primary?.managementToken;
      token = pulumi.secret(
        given !== undefined
          ? pulumi.output(given)
          : new GeneratedToken(plan.generatedToken as string, { parent: this }).value,
      );
      this.managementToken = this.token = token;
    }
    const acl = plan.aclTokens;
    const agentSecret = acl && new GeneratedToken(acl.agent.secret, { parent: this }).value;
    const replicationSecret = acl?.replication && new GeneratedToken(acl.replication.secret, { parent: this }).value;
    let gossipKey: pulumi.Input<string> | undefined = args.gossipKey;
    if (plan.ownGossipKey) gossipKey = new GossipKey(plan.ownGossipKey, {}, { parent: this }).value;
    const secrets = pulumi
      .all([token, agentSecret, replicationSecret, gossipKey])
      .apply(([managementToken, agentToken, replicationToken, key]) => ({
        managementToken,
        agentToken,
        replicationToken,
        gossipKey: key,
      }));
    this.agentConfig = pulumi.secret(
      pulumi
        .all([resolved, secrets, args.trustDomain, args.primaryGateways?.addresses])
        .apply(([values, s, trustDomain, primaryGateways]) => values.agentConfig(s, trustDomain, primaryGateways)),
    );
    const uploads: docker.types.input.ContainerUpload[] = [{ file: AGENT_CONFIG_PATH, content: this.agentConfig }];
    if (plan.tls) {
      this.ca = args.ca ?? new ConsulCertificateAuthority(plan.tls.ownCa as string, {}, { parent: this });
      this.caPem = this.ca.caPem;
      const published = pulumi
        .all([args.httpHostAddress, host?.address, host?.publishAddress])
        .apply((hosts) => hosts.filter((h): h is string => !!h && h !== "0.0.0.0"));
      this.serverCertificate = new ConsulServerCertificate(
        plan.tls.certificate,
        {
          ca: this.ca,
          datacenter: plan.name,
          nodes: plan.tls.nodes,
          hosts: published.apply((extra) => [...new Set([...plan.tls!.hosts, ...extra])]),
        },
        { parent: this },
      );
      uploads.push(
        { file: plan.tls.files.ca, content: this.caPem },
        { file: plan.tls.files.cert, content: this.serverCertificate.certPem },
        { file: plan.tls.files.key, content: this.serverCertificate.keyPem },
      );
    }

    const imageName = args.image ?? CONSUL_IMAGE;
    const image = plan.remoteImage
      ? new docker.RemoteImage(plan.remoteImage, { name: imageName, keepLocally: true }, { parent: this }).imageId
      : pulumi.output(imageName);
    this.serverLanAddresses = plan.serverLanAddresses;
    this.lanHttpAddress = plan.lanHttpAddress;
    this.lanGrpcAddress = plan.lanGrpcAddress;
    this.httpAddress = resolved.apply((p) => p.httpAddress);
    this.startsAfter = args.primaryGateways?.gateways ?? [];
    // A secondary's server tokens are made in the primary before its servers start.
    const primary = args.primary;
    if (acl && token && primary) this.placeServerTokens(acl, token, agentSecret!, replicationSecret, primary);
    this.servers = plan.servers.map((server, i) =>
      this.placeServer(
        server,
        resolved.apply((p) => p.servers[i]),
        image,
        uploads,
        args.wan,
      ),
    );

    const { resourceName: providerName, ...provider } = plan.provider;
    this.provider = new consul.Provider(
      providerName,
      { ...provider, address: resolved.apply((p) => p.provider.address), token, caPem: this.caPem },
      { parent: this, dependsOn: this.servers },
    );
    this.aclProvider = primary?.provider ?? this.provider;
    this.aclState = (primary ?? this).dataVolumes[0];
    if (acl && token && !primary) this.placeServerTokens(acl, token, agentSecret!, replicationSecret);
    this.registerOutputs({
      name: plan.name,
      lanNetworkName: this.lanNetworkName,
      serverLanAddresses: this.serverLanAddresses,
      lanHttpAddress: this.lanHttpAddress,
      httpAddress: this.httpAddress,
      caPem: this.caPem,
      managementToken: this.managementToken,
    });
  }

  /**
   * The servers' own tokens, created in Consul with the secrets their configuration already
   * holds: a primary's through its own API once its servers run (until then a server logs that
   * ACLs block its node updates); a secondary's through the primary's before its servers start.
   */
  private placeServerTokens(
    acl: NonNullable<DatacenterPlan["aclTokens"]>,
    token: pulumi.Output<string>,
    agentSecret: pulumi.Output<string>,
    replicationSecret?: pulumi.Output<string>,
    primary?: Datacenter,
  ): void {
    const where = primary ?? this;
    const opts = { parent: this, dependsOn: where.servers, deletedWith: where.dataVolumes[0] };
    const api = { address: where.httpAddress, token, caPem: where.caPem, datacenter: acl.datacenter };
    const { secret: _a, token: agentName, ...agent } = acl.agent;
    this.serverTokens.push(new PresetAclToken(agentName, { ...api, ...agent, secretId: agentSecret }, opts));
    if (acl.replication && replicationSecret) {
      const { policy, token: name, description } = acl.replication;
      const rules = new consul.AclPolicy(
        policy.resourceName,
        { name: policy.name, description, rules: policy.rules },
        { ...opts, provider: where.provider },
      );
      this.serverTokens.push(
        new PresetAclToken(name, { ...api, description, secretId: replicationSecret, policies: [rules.name] }, opts),
      );
    }
  }

  /** A server's data volume and container, as planned. */
  private placeServer(
    server: PlannedServer,
    values: pulumi.Output<PlannedServer>,
    image: pulumi.Input<string>,
    uploads: docker.types.input.ContainerUpload[],
    wan?: WanAttachment,
  ): docker.Container {
    const { resourceName, ...volume } = server.volume;
    // The tokens made so far (a secondary's, in the primary; a primary's come after its servers), and
    // the primary's gateways once placed: a promise, as pulumi.output would unwrap every output of them.
    const tokens = [...this.serverTokens];
    const after: Promise<pulumi.Resource[]> = Promise.resolve(this.startsAfter).then((gateways) => [
      ...tokens,
      ...gateways,
    ]);
    const data = new docker.Volume(resourceName, volume, { parent: this });
    this.dataVolumes.push(data);
    const networks: docker.types.input.ContainerNetworksAdvanced[] = [{ name: this.lanNetwork.name, ...server.lan }];
    if (wan && server.wan) networks.push({ name: wan.networkName, ...server.wan });
    return new docker.Container(
      server.resourceName,
      {
        ...server.container,
        // What the host addresses decide, once they are known.
        command: values.apply((v) => v.container.command),
        ports: values.apply((v) => v.container.ports),
        image,
        networksAdvanced: networks,
        uploads,
        volumes: [{ volumeName: data.name, containerPath: DATA_PATH }],
      },
      // A fixed name, IP address and host port: the old container must go first.
      { parent: this, deleteBeforeReplace: true, dependsOn: after },
    );
  }
}
