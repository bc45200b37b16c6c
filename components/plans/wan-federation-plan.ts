/**
 * What `WanFederation` creates (pure: no Pulumi): the WAN network every datacenter's servers and
 * gateways share, each server's WAN address, and the WAN joins between the datacenters (each
 * server's `retry_join_wan` lists the other datacenters' servers). And the problems of its
 * arguments: datacenters that name different primary datacenters or share a name, as the mesh
 * gateway prerequisites demand, too many of them or of their servers, a bad subnet.
 */
import { federationProblems, WAN_FEDERATION_MODES, type MeshProblem, type WanFederationMode } from "../../mesh";
import { DEFAULT_WAN_SUBNET, MAX_SERVERS, MAX_WAN_DATACENTERS, subnetProblems, wanServerAddress } from "./address-plan";
import type { WanJoin } from "./datacenter-plan";
import { DEFAULT_RESOURCE_PREFIX, dockerLabels, type PlannedNetwork } from "./docker-plan";

/** A datacenter of the federation (plain: it decides addresses and joins). */
export interface FederatedDatacenter {
  /** Datacenter name, unique in the federation. */
  name: string;
  /** The primary datacenter it names. Default: the federation's `primaryDatacenter`. */
  primaryDatacenter?: string;
  /** Number of Consul servers. Default: `1`. */
  servers?: number;
}

/** Arguments of `WanFederation`. */
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
  /**
   * How the servers reach each other. `"gossip"`: they join the WAN network and each other
   * (`retry_join_wan`). `"mesh-gateways"`: only the mesh gateways join the WAN network; the
   * servers stay on their datacenter's LAN and federate through the gateways (TLS required; a
   * secondary's `Datacenter` then needs `primaryGateways`). Default: `"gossip"`.
   */
  mode?: WanFederationMode;
}

/** What a WAN federation creates, and the addresses it gives. */
export interface WanFederationPlan {
  /** IPv4 subnet of the WAN network. */
  subnet: string;
  /** The primary datacenter. */
  primaryDatacenter: string;
  /** Datacenter names, in order. */
  datacenterNames: string[];
  /** WAN server addresses per datacenter. */
  serverAddresses: Record<string, string[]>;
  /** The WAN network. */
  network: PlannedNetwork;
  /** How the servers reach each other. */
  mode: WanFederationMode;
}

/**
 * Problems of a federation's arguments, each at its field.
 * @param args - The arguments.
 */
export function wanFederationProblems(args: WanFederationArgs): MeshProblem[] {
  const dcs = args.datacenters ?? [];
  const primary = args.primaryDatacenter ?? dcs[0]?.name;
  const problems: MeshProblem[] = [];
  if (dcs.length === 0) problems.push({ path: "datacenters", message: "declare at least one datacenter" });
  if (dcs.length > MAX_WAN_DATACENTERS)
    problems.push({ path: "datacenters", message: `at most ${MAX_WAN_DATACENTERS} datacenters share one WAN subnet` });
  const federation = federationProblems(dcs, primary, "the federation's");
  dcs.forEach((dc, i) => {
    problems.push(...federation.filter((p) => p.path.startsWith(`datacenters[${i}].`)));
    const servers = dc.servers ?? 1;
    if (!Number.isInteger(servers) || servers < 1 || servers > MAX_SERVERS) {
      problems.push({
        path: `datacenters[${i}].servers`,
        message: `server count ${JSON.stringify(dc.servers)} must be an integer from 1 to ${MAX_SERVERS}`,
      });
    }
  });
  if (primary !== undefined && !dcs.some((dc) => dc.name === primary)) {
    problems.push({
      path: "primaryDatacenter",
      message: `primary datacenter ${JSON.stringify(primary)} is not one of the federated datacenters`,
    });
  }
  problems.push(...subnetProblems(args.subnet ?? DEFAULT_WAN_SUBNET, "subnet"));
  if (args.mode !== undefined && !(WAN_FEDERATION_MODES as readonly string[]).includes(args.mode))
    problems.push({
      path: "mode",
      message: `unknown mode ${JSON.stringify(args.mode)}: use ${WAN_FEDERATION_MODES.join(" or ")}`,
    });
  return problems;
}

/**
 * What a federation creates, for arguments without problems ({@link wanFederationProblems}).
 * @param name - The component's name, which its network's resource name starts with.
 * @param args - The arguments.
 */
export function planWanFederation(name: string, args: WanFederationArgs): WanFederationPlan {
  const subnet = args.subnet ?? DEFAULT_WAN_SUBNET;
  const mode = args.mode ?? "gossip";
  const serverAddresses: Record<string, string[]> = {};
  args.datacenters.forEach((dc, d) => {
    const servers = mode === "gossip" ? (dc.servers ?? 1) : 0;
    serverAddresses[dc.name] = Array.from({ length: servers }, (_, i) => wanServerAddress(subnet, d, i));
  });
  return {
    mode,
    subnet,
    primaryDatacenter: args.primaryDatacenter ?? args.datacenters[0].name,
    datacenterNames: args.datacenters.map((dc) => dc.name),
    serverAddresses,
    network: {
      resourceName: `${name}-wan`,
      name: `${args.resourcePrefix ?? DEFAULT_RESOURCE_PREFIX}-wan`,
      driver: "bridge",
      internal: args.internal ?? false,
      ipamConfigs: [{ subnet }],
      labels: dockerLabels({ role: "wan" }),
    },
  };
}

/**
 * How a federated datacenter's servers join the WAN: their addresses, and the other
 * datacenters' servers.
 * @param federation - The federation's datacenters, in order, and their servers' WAN addresses.
 * @param datacenter - One of them.
 */
export function wanJoin(
  federation: Pick<WanFederationPlan, "datacenterNames" | "serverAddresses" | "mode">,
  datacenter: string,
): WanJoin {
  return {
    serverAddresses: federation.serverAddresses[datacenter],
    retryJoinWan: federation.datacenterNames
      .filter((n) => n !== datacenter)
      .flatMap((n) => federation.serverAddresses[n]),
    ...(federation.mode === "mesh-gateways" ? { mode: federation.mode } : {}),
  };
}
