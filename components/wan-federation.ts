/**
 * `WanFederation`: the WAN network every datacenter's servers and gateways share, and the
 * WAN joins between the datacenters (each server's `retry_join_wan` lists the other
 * datacenters' servers). Refuses datacenters that name different primary datacenters or
 * share a name, as the mesh gateway prerequisites demand.
 */
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { federationProblems, type MeshProblem } from "../mesh";
import { InvalidArgumentError } from "./errors";
import {
  checkSubnet,
  DEFAULT_WAN_SUBNET,
  MAX_WAN_DATACENTERS,
  wanGatewayAddress,
  wanServerAddress,
} from "./plans/address-plan";
import { throwIfProblems } from "./plans/arg-problems";
import type { WanAttachment } from "./datacenter";

/** A datacenter of the federation (plain: it decides addresses and joins). */
export interface FederatedDatacenter {
  /** Datacenter name, unique in the federation. */
  name: string;
  /** The primary datacenter it names. Default: the federation's `primaryDatacenter`. */
  primaryDatacenter?: string;
  /** Number of Consul servers. Default: `1`. */
  servers?: number;
}

/** Arguments of {@link WanFederation}. */
export interface WanFederationArgs {
  /** The datacenters, in a stable order (it decides their WAN addresses). */
  datacenters: FederatedDatacenter[];
  /** The primary datacenter every datacenter must name. Default: the first datacenter. */
  primaryDatacenter?: string;
  /** IPv4 subnet of the WAN network. Default: `"10.250.0.0/24"`. */
  subnet?: string;
  /** Prefix of the network name. Default: `"consul-mesh"`. */
  resourcePrefix?: string;
  /** Make the WAN network internal (no route off the Docker host). Default: `false`. */
  internal?: boolean;
}

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
  /** WAN server addresses per datacenter. */
  readonly serverAddresses: Record<string, string[]>;

  constructor(name: string, args: WanFederationArgs, opts?: pulumi.ComponentResourceOptions) {
    const dcs = args.datacenters ?? [];
    const subnet = args.subnet ?? DEFAULT_WAN_SUBNET;
    const primary = args.primaryDatacenter ?? dcs[0]?.name;
    const problems: MeshProblem[] = [];
    if (dcs.length === 0) problems.push({ path: "datacenters", message: "declare at least one datacenter" });
    if (dcs.length > MAX_WAN_DATACENTERS)
      problems.push({
        path: "datacenters",
        message: `at most ${MAX_WAN_DATACENTERS} datacenters share one WAN subnet`,
      });
    const federation = federationProblems(dcs, primary, "the federation's");
    dcs.forEach((dc, i) => {
      problems.push(...federation.filter((p) => p.path.startsWith(`datacenters[${i}].`)));
      const servers = dc.servers ?? 1;
      if (!Number.isInteger(servers) || servers < 1 || servers > 10) {
        problems.push({
          path: `datacenters[${i}].servers`,
          message: `server count ${JSON.stringify(dc.servers)} must be an integer from 1 to 10`,
        });
      }
    });
    if (primary !== undefined && !dcs.some((dc) => dc.name === primary)) {
      problems.push({
        path: "primaryDatacenter",
        message: `primary datacenter ${JSON.stringify(primary)} is not one of the federated datacenters`,
      });
    }
    try {
      checkSubnet(subnet, "subnet");
    } catch (e) {
      if (!(e instanceof InvalidArgumentError)) throw e;
      problems.push({ path: "subnet", message: e.reason });
    }
    throwIfProblems(problems, `WanFederation ${JSON.stringify(name)} arguments`);

    super("consul-mesh:index:WanFederation", name, {}, opts);

    const prefix = args.resourcePrefix ?? "consul-mesh";
    this.subnet = subnet;
    this.primaryDatacenter = primary as string;
    this.datacenterNames = dcs.map((dc) => dc.name);
    this.serverAddresses = {};
    dcs.forEach((dc, d) => {
      this.serverAddresses[dc.name] = Array.from({ length: dc.servers ?? 1 }, (_, i) => wanServerAddress(subnet, d, i));
    });

    this.network = new docker.Network(
      `${name}-wan`,
      {
        name: `${prefix}-wan`,
        driver: "bridge",
        internal: args.internal ?? false,
        ipamConfigs: [{ subnet }],
        labels: [{ label: "consul-mesh.role", value: "wan" }],
      },
      // A fixed name: the old network must go before its replacement can exist.
      { parent: this, deleteBeforeReplace: true },
    );
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
    return {
      networkName: this.networkName,
      serverAddresses: this.serverAddresses[datacenter],
      retryJoinWan: this.datacenterNames.filter((n) => n !== datacenter).flatMap((n) => this.serverAddresses[n]),
    };
  }

  /** WAN address of gateway container `j` of `datacenter`. */
  gatewayAddress(datacenter: string, j: number): string {
    return wanGatewayAddress(this.subnet, this.indexOf(datacenter), j);
  }
}
