/**
 * Enabling gateways for a service instance, `connect-proxy` form: the proxy registration of
 * one instance sets mesh gateway mode `remote`, so its upstream `api` in datacenter
 * `secondary` is dialled through `secondary`'s gateway (Consul's "Enabling Gateways for a
 * Service Instance").
 *
 *   service {
 *      name = "web-sidecar-proxy"
 *      kind = "connect-proxy"
 *      port = 8181
 *      proxy {
 *         destination_service_name = "web"
 *         mesh_gateway {
 *            mode = "remote"
 *         }
 *         upstreams = [
 *            {
 *               destination_name = "api"
 *               datacenter = "secondary"
 *               local_bind_port = 10000
 *            }
 *         ]
 *      }
 *   }
 */
import { ConsulMesh, readStackConfig, stackImages, type Mesh } from "consul-mesh-gateway";

/** `consulImage`, `gatewayImage`, `gatewayBaseImage`, … as the default stack takes them (`readStackConfig`). */
const config = readStackConfig();

/** The topology: datacenters `primary` and `secondary`, as the documentation names them. */
export const model: Mesh = {
  primaryDatacenter: "primary",
  datacenters: [{ name: "primary" }, { name: "secondary" }],
  gateways: [{ datacenter: "primary" }, { datacenter: "secondary" }],
  services: [
    {
      name: "web-sidecar-proxy",
      datacenter: "primary",
      kind: "connect-proxy",
      port: 8181,
      address: "web-primary",
      proxy: {
        destinationServiceName: "web",
        meshGateway: { mode: "remote" },
        upstreams: [{ destinationName: "api", datacenter: "secondary", localBindPort: 10000 }],
      },
    },
    {
      name: "api",
      datacenter: "secondary",
      port: 8080,
      address: "api-secondary",
      connect: { sidecarService: { port: 21000 } },
    },
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
