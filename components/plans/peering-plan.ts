/**
 * Cluster peering, planned (pure): the names each side gives the other, the `mesh` config entry
 * that sends the peering control plane through the mesh gateways (`Peering.PeerThroughMeshGateways`),
 * and the `exported-services` entry that makes services visible to peers, each as the `configJson`
 * of a `consul.ConfigEntry` in the form Consul 1.16 reads back (so a second preview shows no
 * change), with a problem per bad field.
 */
import { isSniLabel, type MeshProblem } from "../../mesh";

/** A service exported to peers. */
export interface ExportedService {
  /** The service's name. */
  name: string;
  /** Its namespace (Consul Enterprise). Default: `"default"`. */
  namespace?: string;
  /** The peers it is exported to, by this cluster's names for them (each a DNS label). */
  peers: string[];
}

const label = (problems: MeshProblem[], path: string, value: unknown, what: string): boolean => {
  if (isSniLabel(value)) return true;
  problems.push({
    path,
    message: `${JSON.stringify(value) ?? String(value)} is not a valid ${what}: 1-63 lower case letters, digits, '-' and '_'`,
  });
  return false;
};

/**
 * Problems of the names of a peering: each side's name for the other must be a DNS label (Consul
 * refuses others), and a cluster cannot peer with itself.
 * @param acceptorName - The accepting cluster's name for the dialing one.
 * @param dialerName - The dialing cluster's name for the accepting one.
 * @param sameCluster - Whether both sides are the same datacenter.
 */
export function peeringProblems(acceptorName: unknown, dialerName: unknown, sameCluster: boolean): MeshProblem[] {
  const problems: MeshProblem[] = [];
  label(problems, "args.acceptorPeerName", acceptorName, "peer name");
  label(problems, "args.dialerPeerName", dialerName, "peer name");
  if (sameCluster)
    problems.push({
      path: "args.dialer",
      message: "a cluster cannot peer with itself: give another cluster's datacenter",
    });
  return problems;
}

/**
 * The `configJson` of the `mesh` config entry (name `mesh`) with the peering control plane
 * through the mesh gateways, as Consul stores it.
 * @param peerThroughMeshGateways - `Peering.PeerThroughMeshGateways`.
 */
export function meshEntryConfigJson(peerThroughMeshGateways: boolean): string {
  return JSON.stringify({
    TransparentProxy: { MeshDestinationsOnly: false },
    Peering: { PeerThroughMeshGateways: peerThroughMeshGateways },
  });
}

/**
 * Problems of an `exported-services` argument: names, peers, each service once, at least one peer each.
 * @param services - The services.
 * @param field - Field name of the argument. Default: `"args.services"`.
 */
export function exportedServicesProblems(services: unknown, field = "args.services"): MeshProblem[] {
  const problems: MeshProblem[] = [];
  if (!Array.isArray(services)) return [{ path: field, message: "services must be a list of { name, peers }" }];
  const seen = new Map<string, number>();
  services.forEach((s: Partial<ExportedService>, i) => {
    const at = `${field}[${i}]`;
    if (s === null || typeof s !== "object") {
      problems.push({ path: at, message: `${JSON.stringify(s)} must be an object such as { name, peers }` });
      return;
    }
    if (label(problems, `${at}.name`, s.name, "service name")) {
      const key = `${s.namespace ?? "default"}/${s.name}`;
      const first = seen.get(key);
      if (first !== undefined)
        problems.push({
          path: `${at}.name`,
          message: `service ${JSON.stringify(s.name)} is already exported by ${field}[${first}]`,
        });
      else seen.set(key, i);
    }
    if (s.namespace !== undefined) label(problems, `${at}.namespace`, s.namespace, "namespace");
    if (!Array.isArray(s.peers) || s.peers.length === 0) {
      problems.push({ path: `${at}.peers`, message: "peers must list at least one peer name" });
      return;
    }
    s.peers.forEach((peer, k) => label(problems, `${at}.peers[${k}]`, peer, "peer name"));
  });
  return problems;
}

/**
 * The `configJson` of the `exported-services` entry (name `default`, the partition), as Consul
 * stores it: services in the order given, each with its consumers by peer.
 * @param services - The services, already validated.
 */
export function exportedServicesConfigJson(services: ExportedService[]): string {
  return JSON.stringify({
    Services: services.map((s) => ({
      Name: s.name,
      ...(s.namespace ? { Namespace: s.namespace } : {}),
      Consumers: s.peers.map((Peer) => ({ Peer })),
    })),
  });
}
