/**
 * A mesh gateway's xDS clusters and endpoints read back into a routes file (pure). A mesh
 * gateway's cluster names are the SNI names it routes (`<svc>.<ns>.<dc>.internal.<td>`,
 * `[<subset>.]…`, `<dc>.internal.<td>` for another datacenter's gateways), so the table is the
 * clusters read back with `parseSni`, each with its usable endpoints (health `UNKNOWN` or
 * `HEALTHY`, as Envoy uses them). With WAN federation through the gateways (the gateway registered
 * with `consul-wan-federation` meta), the agent adds server clusters, read back with
 * `parseServerSni`: `<node>.server.<local-dc>.<domain>` per local server and `server.<dc>.<domain>`
 * per datacenter (another datacenter's gateways; all local servers for the local one). Cluster
 * peering through the gateways adds `server.<dc>.peering.<td>` clusters (the local servers' gRPC TLS
 * port under the local trust domain, a peer's server addresses under its own) and, for proxies in
 * mode `local`, a cluster per imported service named by its peered SNI; a service exported to a
 * peer is a listener's filter chain matching its peered names, relaying to an `exported~…` cluster,
 * or terminating TLS (http, http2, grpc), which is recorded so that the router refuses it by name.
 * Clusters of other shapes are left out, so the router refuses their names.
 */
import { DEFAULT_NAMESPACE, DEFAULT_PARTITION } from "../../mesh/model/defaults";
import { isPort } from "../../mesh/model/port";
import type {
  RouteEndpoint,
  RoutesFile,
  RoutesFileGateway,
  RoutesFilePeeringRoute,
  RoutesFileServer,
  RoutesFileService,
} from "../../mesh/model/routes-file";
import { DEFAULT_CONSUL_DOMAIN, parsePeeringSni, parseServerSni, parseSni } from "../../mesh/model/sni";
import { ClusterResource, DISCOVERY_TYPE_EDS, ListenerResource, LoadAssignment, USABLE_HEALTH } from "./xds-messages";

/** The healthy endpoints of a load assignment, in the order given (priority 0 first). */
export function usableEndpoints(assignment: LoadAssignment | undefined): RouteEndpoint[] {
  const endpoints: RouteEndpoint[] = [];
  const localities = [...(assignment?.endpoints ?? [])].sort((a, b) => (a.priority ?? 0) - (b.priority ?? 0));
  for (const locality of localities) {
    for (const lb of locality.lb_endpoints ?? []) {
      if (!USABLE_HEALTH.has(lb.health_status ?? 0)) continue;
      const socket = lb.endpoint?.address?.socket_address;
      if (!socket?.address || !isPort(socket.port_value)) continue;
      endpoints.push({ address: socket.address, port: socket.port_value });
    }
  }
  return endpoints;
}

/**
 * The trust domain the agent names its clusters with: what follows the last `.internal.` (or
 * `.internal-v1.`) of the first cluster name that reads back as an SNI name with it.
 * @param names - Cluster names.
 * @returns the trust domain, or `undefined` when no name has one (no clusters yet).
 */
export function trustDomainOfClusters(names: Iterable<string>): string | undefined {
  for (const name of names) {
    const lower = name.toLowerCase();
    for (const marker of [".internal.", ".internal-v1."]) {
      const at = lower.lastIndexOf(marker);
      if (at < 0) continue;
      const trustDomain = lower.slice(at + marker.length);
      if (trustDomain && parseSni(lower, trustDomain)) return trustDomain;
    }
  }
  return undefined;
}

/**
 * Assembles a routes file from a mesh gateway's clusters and endpoints (pure).
 * @param datacenter the local datacenter.
 * @param trustDomain the trust domain.
 * @param clusters cluster name → the cluster.
 * @param assignments cluster name → its EDS load assignment.
 * @param domain Consul's `domain`, which server cluster names end with. Default: `"consul"`.
 * @param listeners listener name → its filter chains. Default: none.
 */
export function routesFromClusters(
  datacenter: string,
  trustDomain: string,
  clusters: ReadonlyMap<string, ClusterResource>,
  assignments: ReadonlyMap<string, LoadAssignment>,
  domain: string = DEFAULT_CONSUL_DOMAIN,
  listeners: ReadonlyMap<string, ListenerResource> = new Map(),
): RoutesFile {
  const local = datacenter.toLowerCase();
  const services: RoutesFileService[] = [];
  const gateways: RoutesFileGateway[] = [];
  const servers: RoutesFileServer[] = [];
  const serverGateways: RoutesFileGateway[] = [];
  const peering: RoutesFilePeeringRoute[] = [];
  let carriesServers = false;
  const endpointsOfCluster = (name: string) => {
    const cluster = clusters.get(name);
    if (!cluster) return [];
    return usableEndpoints(cluster.type === DISCOVERY_TYPE_EDS ? assignments.get(name) : cluster.load_assignment);
  };
  for (const name of [...clusters.keys()].sort()) {
    const endpointsOf = () => endpointsOfCluster(name);
    const parsed = parseSni(name, trustDomain);
    if (!parsed) {
      const server = parseServerSni(name, domain);
      const peered = server ? undefined : parsePeeringSni(name);
      if (peered?.kind === "peering-server") {
        const local = peered.datacenter === datacenter.toLowerCase() && peered.trustDomain === trustDomain;
        peering.push({
          sni: name.toLowerCase(),
          kind: local ? "local-servers" : "peer-servers",
          endpoints: endpointsOf(),
        });
      } else if (peered?.kind === "peered-service" && peered.trustDomain !== trustDomain) {
        peering.push({ sni: name.toLowerCase(), kind: "imported", service: peered.service, endpoints: endpointsOf() });
      }
      if (!server) continue;
      carriesServers = true;
      if (server.datacenter === local && server.node) servers.push({ node: server.node, endpoints: endpointsOf() });
      if (server.datacenter !== local && !server.node)
        serverGateways.push({ datacenter: server.datacenter, partition: DEFAULT_PARTITION, endpoints: endpointsOf() });
      continue;
    }
    const endpoints = endpointsOf();
    if (parsed.kind === "gateway") {
      if (parsed.datacenter !== local) {
        gateways.push({ datacenter: parsed.datacenter, partition: parsed.partition, endpoints });
      }
    } else if (parsed.datacenter === local) {
      services.push({
        name: parsed.service,
        namespace: parsed.namespace || DEFAULT_NAMESPACE,
        partition: parsed.partition || DEFAULT_PARTITION,
        ...(parsed.subset ? { subset: parsed.subset } : {}),
        endpoints,
      });
    }
  }
  for (const listener of [...listeners.values()].sort((a, b) => (a.name < b.name ? -1 : 1))) {
    for (const chain of listener.chains) {
      for (const sni of chain.serverNames.map((n) => n.toLowerCase())) {
        const peered = parsePeeringSni(sni);
        if (peered?.kind !== "peered-service" || peered.trustDomain !== trustDomain) continue;
        const terminates = chain.terminates || chain.cluster === undefined;
        peering.push({
          sni,
          kind: "exported",
          peer: peered.peer,
          service: peered.service,
          ...(terminates ? { terminates } : {}),
          endpoints: terminates || !chain.cluster ? [] : endpointsOfCluster(chain.cluster),
        });
      }
    }
  }
  const routes: RoutesFile = { datacenter: local, trustDomain, services, gateways };
  if (peering.length) routes.peering = peering;
  if (carriesServers) {
    // A datacenter known only through its server cluster (federation states) is still reachable.
    const known = new Set(gateways.map((g) => `${g.datacenter}/${g.partition}`));
    gateways.push(...serverGateways.filter((g) => !known.has(`${g.datacenter}/${g.partition}`)));
    routes.wanFederation = { domain, servers };
  }
  return routes;
}
