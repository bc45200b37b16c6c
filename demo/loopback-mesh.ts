/**
 * Places a mesh model on the loopback range so that every datacenter, gateway and service
 * gets an address of its own on this machine: the main job runs the whole mesh locally.
 */
import type { Mesh } from "../mesh";

/** The loopback layout of one mesh. */
export interface LoopbackLayout {
  /** The mesh with every service and gateway address rewritten to 127.51.0.0/16 and 127.52.0.0/16. */
  mesh: Mesh;
  /** Admin address of each datacenter's gateway, by datacenter name. */
  adminAddress: Map<string, string>;
}

/**
 * Datacenter `n` (1-based, in declaration order) gets `127.51.n.0/24` for its LAN and
 * `127.52.n.0/24` for its WAN side: the gateway is `.1` on both, services from `.10` on.
 * Ports stay the model's (8443 for gateways, 21000 for sidecars): the addresses keep them apart.
 */
export function toLoopbackMesh(source: Mesh): LoopbackLayout {
  const mesh: Mesh = structuredClone(source);
  const dcIndex = new Map(mesh.datacenters.map((dc, i) => [dc.name, i + 1]));
  const adminAddress = new Map<string, string>();
  const next = new Map<string, number>();

  for (const gateway of mesh.gateways ?? []) {
    const n = dcIndex.get(gateway.datacenter);
    if (n === undefined) continue;
    const port = gateway.port ?? 8443;
    gateway.address = `127.51.${n}.1`;
    gateway.taggedAddresses = { lan: { address: `127.51.${n}.1`, port }, wan: { address: `127.52.${n}.1`, port } };
    adminAddress.set(gateway.datacenter, `127.51.${n}.1:19000`);
  }
  for (const service of mesh.services ?? []) {
    const n = dcIndex.get(service.datacenter);
    if (n === undefined) continue;
    const host = next.get(service.datacenter) ?? 10;
    next.set(service.datacenter, host + 1);
    service.address = `127.51.${n}.${host}`;
  }
  return { mesh, adminAddress };
}
