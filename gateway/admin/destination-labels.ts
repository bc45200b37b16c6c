/**
 * The destination labels of the connection metrics (`datacenter`, `service`). They only take
 * values the route table vouches for (its datacenters, its local services), never a name as a
 * client sent it, and a bounded number of remote service names: only the remote gateway can
 * check those, so a client could otherwise create a series per name it makes up.
 */
import type { RouteDecision } from "../routing/router";

/** The `datacenter` and `service` labels of a connection's metrics. */
export interface DestinationLabels {
  /** A datacenter of the route table, or `""`. */
  datacenter: string;
  /** A local service of the table, a remote service name within the limit, {@link OTHER_SERVICE_LABEL}, or `""`. */
  service: string;
}

/** The labels of a connection that names no destination the table knows. */
export const NO_LABELS: DestinationLabels = Object.freeze({ datacenter: "", service: "" });

/** The `service` label of Consul servers' own traffic (no service name can start with `_`). */
export const SERVER_SERVICE_LABEL = "_server";

/** The `service` label of the peering control plane (a peer's servers and ours). */
export const PEERING_SERVER_SERVICE_LABEL = "_peering_server";

/** The `service` label of remote connections past the limit of distinct remote service names. */
export const OTHER_SERVICE_LABEL = "_other";

/** Labels routing decisions, remembering the remote service names it has let through. */
export class DestinationLabeler {
  private readonly remoteServices = new Set<string>();

  /** @param maxRemoteServices - Most distinct remote service names used as labels. */
  constructor(private readonly maxRemoteServices: number) {}

  /**
   * The labels of a routing decision.
   * @param decision - The decision.
   * @param localDatacenter - The table's datacenter.
   */
  labelsOf(decision: RouteDecision, localDatacenter: string): DestinationLabels {
    if (decision.kind === "local") return { datacenter: decision.datacenter, service: decision.service };
    if (decision.kind === "server") return { datacenter: decision.datacenter, service: SERVER_SERVICE_LABEL };
    if (decision.kind === "peering") {
      const servers = decision.via === "local-servers" || decision.via === "peer-servers";
      return { datacenter: decision.datacenter, service: servers ? PEERING_SERVER_SERVICE_LABEL : decision.service };
    }
    if (decision.kind === "remote") {
      return { datacenter: decision.datacenter, service: this.remoteService(decision.datacenter, decision.service) };
    }
    switch (decision.reason) {
      case "no-endpoints": {
        const datacenter = decision.datacenter ?? "";
        const service = decision.service ?? "";
        return {
          datacenter,
          service: datacenter === localDatacenter ? service : this.remoteService(datacenter, service),
        };
      }
      case "peer-needs-termination":
        return { datacenter: localDatacenter, service: decision.service ?? "" };
      case "local-datacenter":
      case "unknown-service":
      case "unknown-server":
        return { datacenter: localDatacenter, service: "" };
      default:
        return NO_LABELS;
    }
  }

  private remoteService(datacenter: string, service: string): string {
    if (service === "") return service;
    const key = `${datacenter}\u0000${service}`;
    if (this.remoteServices.has(key)) return service;
    if (this.remoteServices.size >= this.maxRemoteServices) return OTHER_SERVICE_LABEL;
    this.remoteServices.add(key);
    return service;
  }
}
