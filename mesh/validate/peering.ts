/**
 * Cluster peering's rules: each peer well formed, what peering through the mesh gateways needs
 * (a gateway in the datacenter that holds the peering, TLS for the servers' gRPC TLS port, which
 * carries the peering control plane), and every upstream to a peer's service naming a declared
 * peer and, when the peer's exports are known, a service it exports; what this mesh exports to a
 * peer declared in it.
 */
import type { Collector } from "./problem-collector";
import { listOf, isObject } from "../model/guards";
import { meshProxies, primaryDatacenterOf } from "../model/mesh-proxies";
import { TRUST_DOMAIN_PATTERN } from "../model/names";
import { securityOf } from "../model/security";
import type { Mesh, PeerSpec, Upstream } from "../model/types";

/** Checks `mesh.peers` and the upstreams that name a peer. */
export function checkPeers(mesh: Mesh, c: Collector): void {
  if (mesh.peers !== undefined && !Array.isArray(mesh.peers)) {
    c.add("peers", "peers must be a list of { name, … }");
    return;
  }
  const peers = new Map<string, PeerSpec>();
  listOf<PeerSpec>(mesh.peers).forEach((peer, i) => {
    const at = `peers[${i}]`;
    if (!c.object(at, peer, "{ name, trustDomain?, exportedServices?, throughGateways? }")) return;
    if (c.label(`${at}.name`, peer.name, "peer name")) {
      if (peers.has(peer.name)) c.add(`${at}.name`, `peer ${JSON.stringify(peer.name)} is declared twice`);
      peers.set(peer.name, peer);
    }
    if (peer.remoteName !== undefined) c.label(`${at}.remoteName`, peer.remoteName, "peer name");
    if (
      peer.trustDomain !== undefined &&
      !(typeof peer.trustDomain === "string" && TRUST_DOMAIN_PATTERN.test(peer.trustDomain))
    )
      c.add(
        `${at}.trustDomain`,
        `${JSON.stringify(peer.trustDomain)} is not a trust domain such as <cluster-id>.consul`,
      );
    if (peer.exports !== undefined) {
      if (!Array.isArray(peer.exports)) c.add(`${at}.exports`, "must be a list of service names");
      else
        peer.exports.forEach((s, k) => {
          if (!c.label(`${at}.exports[${k}]`, s, "service name")) return;
          if (!listOf<{ name?: string }>(mesh.services).some((service) => isObject(service) && service.name === s))
            c.add(`${at}.exports[${k}]`, `service ${JSON.stringify(s)} is not declared in services: nothing to export`);
        });
    }
    if (peer.exportedServices !== undefined) {
      if (!Array.isArray(peer.exportedServices)) c.add(`${at}.exportedServices`, "must be a list of service names");
      else peer.exportedServices.forEach((s, k) => c.label(`${at}.exportedServices[${k}]`, s, "service name"));
    }
    const datacenter = peer.datacenter ?? primaryDatacenterOf(mesh);
    const index = listOf<{ name?: string }>(mesh.datacenters).findIndex((dc) => isObject(dc) && dc.name === datacenter);
    if (index < 0) {
      c.add(`${at}.datacenter`, `unknown datacenter ${JSON.stringify(datacenter)}`);
      return;
    }
    if (mesh.datacenters[index].peering?.enabled === false)
      c.add(
        `datacenters[${index}].peering.enabled`,
        `${JSON.stringify(datacenter)} holds the peering with ${JSON.stringify(peer.name)} but turns cluster peering off`,
      );
    if (peer.throughGateways !== true) return;
    if (!listOf<{ datacenter?: string }>(mesh.gateways).some((gw) => isObject(gw) && gw.datacenter === datacenter))
      c.add(
        `${at}.throughGateways`,
        `peering through the mesh gateways needs a mesh gateway in ${JSON.stringify(datacenter)}: add one to gateways`,
      );
    if (!securityOf(mesh.datacenters[index]).tls)
      c.add(
        `datacenters[${index}].tls.enabled`,
        `peering needs TLS: the servers' gRPC TLS port carries the peering control plane, and ${JSON.stringify(datacenter)} turns TLS off`,
      );
  });
  for (const p of meshProxies(mesh)) {
    listOf<Upstream>(p.proxy.upstreams).forEach((up, k) => {
      if (!isObject(up) || typeof up.destinationPeer !== "string") return;
      const at = `${p.path}.upstreams[${k}]`;
      const peer = peers.get(up.destinationPeer);
      if (!peer) {
        c.add(`${at}.destinationPeer`, `no peer ${JSON.stringify(up.destinationPeer)}: declare it in peers`);
        return;
      }
      if (Array.isArray(peer.exportedServices) && !peer.exportedServices.includes(up.destinationName))
        c.add(
          `${at}.destinationName`,
          `peer ${JSON.stringify(peer.name)} does not export ${JSON.stringify(up.destinationName)} ` +
            `(its exportedServices: ${peer.exportedServices.join(", ") || "none"}): the upstream would carry nothing`,
        );
    });
  }
}
