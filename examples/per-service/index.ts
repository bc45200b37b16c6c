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
import * as pulumi from "@pulumi/pulumi";
import { ConsulMesh, DEFAULT_GATEWAY_IMAGE_NAME, GatewayImage, type Mesh } from "consul-mesh-gateway";

const config = new pulumi.Config();

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

// The gateway image by its ID (a local image is found, not pulled): a container given a name
// would differ from the ID Docker reports back, and be replaced on every `pulumi up`.
const gatewayImage = new GatewayImage("gateway-image", {
  image: config.get("gatewayImage") ?? DEFAULT_GATEWAY_IMAGE_NAME,
  pull: true,
});
const mesh = new ConsulMesh("mesh", { ...model, gatewayImage: gatewayImage.imageRef });

/** Which path each upstream takes, and which configuration level decided it. */
export const routePlan = mesh.routePlan;
/** The same, as a table. */
export const routePlanText = mesh.routePlanText;
