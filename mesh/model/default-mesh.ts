/**
 * The default two-datacenter mesh: what the root Pulumi stack, the main job and the
 * examples deploy. It reproduces the seed documents' per-upstream example across datacenters.
 */
import { DEFAULT_TRUST_DOMAIN, type Mesh } from "./types";

/**
 * A fresh copy of the default mesh: `dc1` (primary) and `dc2`, one mesh gateway per
 * datacenter on port 8443; `web` in `dc1` with a sidecar (port 21000) whose upstreams are
 * `api` (dc2, `remote`, port 10000), `db` (dc2, `local`, 10001) and `logging` (dc2, `none`,
 * 10002); `api`, `db` and `logging` in `dc2`, each with a sidecar on port 21000. Addresses
 * are host names (`<service>-<dc>`, `mesh-gateway-<dc>`) that deployments override.
 * It passes `validateMesh`.
 */
export function defaultMesh(): Mesh {
  const sidecar = (name: string, port: number, datacenter: string) => ({
    name,
    datacenter,
    port,
    address: `${name}-${datacenter}`,
    connect: { sidecarService: { port: 21000 } },
  });
  return {
    trustDomain: DEFAULT_TRUST_DOMAIN,
    primaryDatacenter: "dc1",
    datacenters: [
      { name: "dc1", primaryDatacenter: "dc1" },
      { name: "dc2", primaryDatacenter: "dc1" },
    ],
    gateways: ["dc1", "dc2"].map((datacenter) => ({
      datacenter,
      name: "mesh-gateway",
      port: 8443,
      address: `mesh-gateway-${datacenter}`,
      taggedAddresses: {
        lan: { address: `mesh-gateway-${datacenter}`, port: 8443 },
        wan: { address: `mesh-gateway-${datacenter}`, port: 8443 },
      },
    })),
    services: [
      {
        name: "web",
        datacenter: "dc1",
        port: 8080,
        address: "web-dc1",
        connect: {
          sidecarService: {
            port: 21000,
            proxy: {
              upstreams: [
                { destinationName: "api", datacenter: "dc2", localBindPort: 10000, meshGateway: { mode: "remote" } },
                { destinationName: "db", datacenter: "dc2", localBindPort: 10001, meshGateway: { mode: "local" } },
                { destinationName: "logging", datacenter: "dc2", localBindPort: 10002, meshGateway: { mode: "none" } },
              ],
            },
          },
        },
      },
      sidecar("api", 8080, "dc2"),
      sidecar("db", 5432, "dc2"),
      sidecar("logging", 5140, "dc2"),
    ],
  };
}
