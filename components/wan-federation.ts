/**
 * `WanFederation`: the WAN network every datacenter's servers and gateways share, and the
 * WAN joins between the datacenters (each server's `retry_join_wan` lists the other
 * datacenters' servers); or, with `mode: "mesh-gateways"`, the WAN network of the gateways alone,
 * which carry the servers' traffic. Refuses datacenters that name different primary datacenters or
 * share a name, as the mesh gateway prerequisites demand.
 */
import type * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { InvalidArgumentError } from "./errors";
import { wanGatewayAddress } from "./plans/address-plan";
import { placeNetwork } from "./docker-objects";
import { throwIfProblems } from "./plans/arg-problems";
import { planWanFederation, wanFederationProblems, wanJoin, type WanFederationArgs } from "./plans/wan-federation-plan";
import type { WanAttachment } from "./datacenter";
import type { WanFederationMode } from "../mesh";

export type { FederatedDatacenter, WanFederationArgs } from "./plans/wan-federation-plan";

/** The shared WAN network and the joins between the datacenters. */
export class WanFederation extends pulumi.ComponentResource {
  /** The WAN Docker network. */
  readonly network: docker.Network;
  /** Name of the WAN Docker network. */
  readonly networkName: pulumi.Output<string>;
  /** IPv4 subnet of the WAN network. */
  readonly subnet: string;
  /** The primary datacenter. */
  readonly primaryDatacenter: string;
  /** Datacenter names, in order. */
  readonly datacenterNames: string[];
  /** WAN server addresses per datacenter (none through the gateways). */
  readonly serverAddresses: Record<string, string[]>;
  /** How the servers reach each other: by WAN gossip, or through the mesh gateways. */
  readonly mode: WanFederationMode;

  constructor(name: string, args: WanFederationArgs, opts?: pulumi.ComponentResourceOptions) {
    throwIfProblems(wanFederationProblems(args), `WanFederation ${JSON.stringify(name)} arguments`);
    super("consul-mesh:index:WanFederation", name, {}, opts);
    const plan = planWanFederation(name, args);
    this.subnet = plan.subnet;
    this.primaryDatacenter = plan.primaryDatacenter;
    this.datacenterNames = plan.datacenterNames;
    this.serverAddresses = plan.serverAddresses;
    this.mode = plan.mode;
    this.network = placeNetwork(plan.network, this);
    this.networkName = this.network.name;
    this.registerOutputs({
      networkName: this.networkName,
      primaryDatacenter: this.primaryDatacenter,
      serverAddresses: this.serverAddresses,
    });
  }

  /** The index of a datacenter, failing with its name when it is not federated. */
  private indexOf(datacenter: string): number {
    const d = this.datacenterNames.indexOf(datacenter);
    if (d < 0) {
      throw new InvalidArgumentError(
        "datacenter",
        `${JSON.stringify(datacenter)} is not part of the WAN federation (${this.datacenterNames.join(", ")})`,
      );
    }
    return d;
  }

  /**
   * How `datacenter`'s servers attach to the WAN: the network, their WAN addresses, and the
   * other datacenters' servers to join. Pass it as `DatacenterArgs.wan`.
   */
  attachment(datacenter: string): WanAttachment {
    this.indexOf(datacenter);
    return { networkName: this.networkName, ...wanJoin(this, datacenter) };
  }

  /** WAN address of gateway container `j` of `datacenter`. */
  gatewayAddress(datacenter: string, j: number): string {
    return wanGatewayAddress(this.subnet, this.indexOf(datacenter), j);
  }
}
