/**
 * Cluster peering: `Peering` connects two clusters (a peering token made by the accepting cluster,
 * the peering established from the dialing one, both with the real `@pulumi/consul` resources);
 * `PeeringThroughGateways` writes a cluster's `mesh` config entry that sends the peering control
 * plane through its mesh gateways; `ExportedServices` writes the `exported-services` entry that
 * makes services visible to peers. The plans are in `plans/peering-plan.ts`.
 */
import * as consul from "@pulumi/consul";
import * as pulumi from "@pulumi/pulumi";
import { DEFAULT_GATEWAY_NAME } from "../mesh";
import type { ConsulDatacenter } from "./consul-datacenter";
import { ServiceReady } from "./dynamic/service-ready";
import { throwIfProblems } from "./plans/arg-problems";
import {
  exportedServicesConfigJson,
  exportedServicesProblems,
  meshEntryConfigJson,
  peeringProblems,
  type ExportedService,
} from "./plans/peering-plan";

export type { ExportedService } from "./plans/peering-plan";

/** Arguments of {@link Peering}. */
export interface PeeringArgs {
  /** The accepting cluster (one of its datacenters): it makes the peering token. */
  acceptor: ConsulDatacenter;
  /** The dialing cluster (one of its datacenters): it establishes the peering with the token. */
  dialer: ConsulDatacenter;
  /**
   * The accepting cluster's name for the dialing one: what its `exported-services` and
   * `service-intentions` entries name as `Peer`. Default: the dialer's datacenter name.
   */
  acceptorPeerName?: string;
  /**
   * The dialing cluster's name for the accepting one: what its upstreams name as `destinationPeer`.
   * Default: the acceptor's datacenter name.
   */
  dialerPeerName?: string;
  /**
   * What must exist before the token is made: with the peering through the mesh gateways, each
   * side's `PeeringThroughGateways` and mesh gateways, so that the token names the acceptor's
   * gateways and the dialer reaches them through its own. Default: none.
   */
  dependsOn?: pulumi.Input<pulumi.Resource>[];
  /**
   * Wait, before the token is made, until each cluster has a passing mesh gateway: a gateway
   * registers itself once it runs, and with the peering through the gateways the token names the
   * accepting cluster's gateways (Consul refuses to make one without) and the dialing cluster's
   * servers dial through theirs. Default: `true`.
   */
  awaitGateways?: boolean;
  /** The mesh gateways' service name, for {@link PeeringArgs.awaitGateways}. Default: `"mesh-gateway"`. */
  gatewayService?: string;
}

/** A peering between two clusters. */
export class Peering extends pulumi.ComponentResource {
  /** The accepting cluster's name for the dialing one. */
  readonly acceptorPeerName: string;
  /** The dialing cluster's name for the accepting one. */
  readonly dialerPeerName: string;
  /** The `consul.PeeringToken`, in the accepting cluster; its token is a secret (as `@pulumi/consul` marks it). */
  readonly token: consul.PeeringToken;
  /** The `consul.Peering`, in the dialing cluster. */
  readonly peering: consul.Peering;
  /** The peering's state as the dialing cluster reads it (`ACTIVE` once established). */
  readonly state: pulumi.Output<string>;

  constructor(name: string, args: PeeringArgs, opts?: pulumi.ComponentResourceOptions) {
    const acceptorPeerName = args.acceptorPeerName ?? args.dialer?.name;
    const dialerPeerName = args.dialerPeerName ?? args.acceptor?.name;
    const problems = peeringProblems(
      acceptorPeerName,
      dialerPeerName,
      !!args.acceptor && args.acceptor === args.dialer,
    );
    if (!args.acceptor) problems.push({ path: "args.acceptor", message: "give the accepting cluster's datacenter" });
    if (!args.dialer) problems.push({ path: "args.dialer", message: "give the dialing cluster's datacenter" });
    throwIfProblems(problems, `Peering ${JSON.stringify(name)} arguments`);

    super("consul-mesh:index:Peering", name, {}, opts);
    this.acceptorPeerName = acceptorPeerName;
    this.dialerPeerName = dialerPeerName;
    const after: pulumi.Input<pulumi.Resource>[] = [...(args.dependsOn ?? [])];
    if (args.awaitGateways ?? true) {
      const sides = { acceptor: args.acceptor, dialer: args.dialer };
      for (const [side, dc] of Object.entries(sides)) {
        const ready = new ServiceReady(
          `${name}-${side}-gateway`,
          {
            address: dc.httpAddress,
            token: dc.token,
            caPem: dc.caPem,
            service: args.gatewayService ?? DEFAULT_GATEWAY_NAME,
          },
          { parent: this, dependsOn: [...dc.servers, ...(args.dependsOn ?? [])], deletedWith: opts?.deletedWith },
        );
        after.push(ready);
      }
    }
    this.token = new consul.PeeringToken(
      `${name}-token`,
      { peerName: acceptorPeerName },
      {
        parent: this,
        provider: args.acceptor.provider,
        dependsOn: [...args.acceptor.servers, ...after],
        deletedWith: opts?.deletedWith,
      },
    );
    this.peering = new consul.Peering(
      `${name}-peering`,
      { peerName: dialerPeerName, peeringToken: pulumi.secret(this.token.peeringToken) },
      {
        parent: this,
        provider: args.dialer.provider,
        dependsOn: [...args.dialer.servers, ...after],
        deletedWith: opts?.deletedWith,
      },
    );
    this.state = this.peering.state;
    // With each cluster's own token, a missing right is known at preview.
    const who = `Peering ${JSON.stringify(name)}`;
    const rightsChecked = [args.acceptor, args.dialer].map((dc) =>
      dc.checkRights?.(who, [{ resource: "peering", access: "write" }]),
    );
    this.registerOutputs({ acceptorPeerName, dialerPeerName, state: this.state, rightsChecked });
  }
}

/** Arguments of {@link PeeringThroughGateways}. */
export interface PeeringThroughGatewaysArgs {
  /** The cluster (one of its datacenters) whose `mesh` config entry this writes. */
  datacenter: ConsulDatacenter;
  /** `Peering.PeerThroughMeshGateways`. Default: `true`. */
  peerThroughMeshGateways?: boolean;
}

/**
 * A cluster's `mesh` config entry with `Peering.PeerThroughMeshGateways`: its servers reach peers'
 * servers through its mesh gateways, and a token it makes names its gateways, not its servers.
 * One per cluster (the entry is the cluster's only `mesh` entry).
 */
export class PeeringThroughGateways extends pulumi.ComponentResource {
  /** The `configJson` written. */
  readonly configJson: string;
  /** The `consul.ConfigEntry` (kind `mesh`, name `mesh`). */
  readonly configEntry: consul.ConfigEntry;

  constructor(name: string, args: PeeringThroughGatewaysArgs, opts?: pulumi.ComponentResourceOptions) {
    if (!args?.datacenter)
      throwIfProblems(
        [{ path: "args.datacenter", message: "give the cluster's datacenter" }],
        `PeeringThroughGateways ${JSON.stringify(name)} arguments`,
      );
    super("consul-mesh:index:PeeringThroughGateways", name, {}, opts);
    this.configJson = meshEntryConfigJson(args.peerThroughMeshGateways ?? true);
    this.configEntry = new consul.ConfigEntry(
      `${name}-entry`,
      { kind: "mesh", name: "mesh", configJson: this.configJson },
      {
        parent: this,
        provider: args.datacenter.provider,
        dependsOn: args.datacenter.servers,
        deletedWith: opts?.deletedWith,
      },
    );
    this.registerOutputs({ configJson: this.configJson });
  }
}

/** Arguments of {@link ExportedServices}. */
export interface ExportedServicesArgs {
  /** The cluster (one of its datacenters) whose services these are. */
  datacenter: ConsulDatacenter;
  /** The services, each with the peers it is exported to (this cluster's names for them). */
  services: ExportedService[];
}

/**
 * A cluster's `exported-services` entry (name `default`): which of its services which peers may
 * import. One per cluster and partition. A service whose protocol is `http`, `http2` or `grpc` is
 * reached through Consul's Envoy gateway, which terminates mTLS for it; our gateway never
 * decrypts and refuses its peered name (`peer-needs-termination`), so export TCP services
 * through ours.
 */
export class ExportedServices extends pulumi.ComponentResource {
  /** The `configJson` written. */
  readonly configJson: string;
  /** The `consul.ConfigEntry` (kind `exported-services`, name `default`). */
  readonly configEntry: consul.ConfigEntry;

  constructor(name: string, args: ExportedServicesArgs, opts?: pulumi.ComponentResourceOptions) {
    const problems = exportedServicesProblems(args?.services);
    if (!args?.datacenter) problems.push({ path: "args.datacenter", message: "give the cluster's datacenter" });
    throwIfProblems(problems, `ExportedServices ${JSON.stringify(name)} arguments`);

    super("consul-mesh:index:ExportedServices", name, {}, opts);
    this.configJson = exportedServicesConfigJson(args.services);
    this.configEntry = new consul.ConfigEntry(
      `${name}-entry`,
      { kind: "exported-services", name: "default", configJson: this.configJson },
      {
        parent: this,
        provider: args.datacenter.provider,
        dependsOn: args.datacenter.servers,
        deletedWith: opts?.deletedWith,
      },
    );
    this.registerOutputs({ configJson: this.configJson });
  }
}
