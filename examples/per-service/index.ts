/**
 * Enabling gateways per service: a `service-defaults` entry for `web` with mesh gateway mode
 * `local`, so every instance of `web` dials its own datacenter's gateway for an upstream in
 * another datacenter (Consul's "Enabling Gateways Per-Service"). Other services keep the
 * default (`none`: they dial the destination directly).
 *
 *   Kind = "service-defaults"
 *   Name = "web"
 *   MeshGateway {
 *      Mode = "local"
 *   }
 */
import { ConsulMesh, readStackConfig, stackImages, type Mesh } from "consul-mesh-gateway";

/** `consulImage`, `gatewayImage`, `gatewayBaseImage`, … as the default stack takes them (`readStackConfig`). */
const config = readStackConfig();

/** The topology: `web` (with service-defaults) and `admin` (without) both call `api` in dc2. */
export const model: Mesh = {
  primaryDatacenter: "dc1",
  datacenters: [{ name: "dc1" }, { name: "dc2" }],
  serviceDefaults: [{ kind: "service-defaults", name: "web", meshGateway: { mode: "local" } }],
  gateways: [{ datacenter: "dc1" }, { datacenter: "dc2" }],
  services: [
    {
      name: "web",
      datacenter: "dc1",
      port: 8080,
      address: "web-dc1",
      connect: {
        sidecarService: {
          port: 21000,
          proxy: { upstreams: [{ destinationName: "api", datacenter: "dc2", localBindPort: 10000 }] },
        },
      },
    },
    {
      name: "admin",
      datacenter: "dc1",
      port: 8081,
      address: "admin-dc1",
      connect: {
        sidecarService: {
          port: 21001,
          proxy: { upstreams: [{ destinationName: "api", datacenter: "dc2", localBindPort: 10000 }] },
        },
      },
    },
    { name: "api", datacenter: "dc2", port: 8080, address: "api-dc2", connect: { sidecarService: { port: 21000 } } },
  ],
};

const images = stackImages(config);
const mesh = new ConsulMesh("mesh", {
  ...model,
  trustDomain: config.trustDomain,
  consulImage: config.consulImage,
  gatewayImage: images.gateway,
});

/** The mesh's Connect trust domain: `trustDomain` when configured, else drawn once for this stack. */
export const trustDomain = mesh.trustDomain;

/** Which path each upstream takes, and which configuration level decided it. */
export const routePlan = mesh.routePlan;
/** The same, as a table. */
export const routePlanText = mesh.routePlanText;
