/**
 * Enabling gateways per upstream: one proxy, three upstreams, three modes — `api` through
 * the destination's gateway (`remote`), `db` through the local gateway (`local`), `logging`
 * directly (`none`) (Consul's "Enabling Gateways for a Proxy Upstream").
 *
 *   service {
 *      name = "web-sidecar-proxy"
 *      kind = "connect-proxy"
 *      port = 8181
 *      proxy {
 *         destination_service_name = "web"
 *         upstreams = [
 *            { destination_name = "api",     local_bind_port = 10000, mesh_gateway { mode = "remote" } },
 *            { destination_name = "db",      local_bind_port = 10001, mesh_gateway { mode = "local" } },
 *            { destination_name = "logging", local_bind_port = 10002, mesh_gateway { mode = "none" } },
 *         ]
 *      }
 *   }
 *
 * The documentation's upstreams name no datacenter, and an upstream in the proxy's own
 * datacenter never uses a gateway whatever its mode; here they live in `dc2`
 * (`datacenter = "dc2"`), so that each mode shows its path.
 */
import { ConsulMesh, readStackConfig, stackImages, type Mesh, type MeshService } from "consul-mesh-gateway";

/** `consulImage`, `gatewayImage`, `gatewayBaseImage`, … as the default stack takes them (`readStackConfig`). */
const config = readStackConfig();

const inDc2 = (name: string, port: number): MeshService => ({
  name,
  datacenter: "dc2",
  port,
  address: `${name}-dc2`,
  connect: { sidecarService: { port: 21000 } },
});

/** The topology. */
export const model: Mesh = {
  primaryDatacenter: "dc1",
  datacenters: [{ name: "dc1" }, { name: "dc2" }],
  gateways: [{ datacenter: "dc1" }, { datacenter: "dc2" }],
  services: [
    {
      name: "web-sidecar-proxy",
      datacenter: "dc1",
      kind: "connect-proxy",
      port: 8181,
      address: "web-dc1",
      proxy: {
        destinationServiceName: "web",
        upstreams: [
          { destinationName: "api", datacenter: "dc2", localBindPort: 10000, meshGateway: { mode: "remote" } },
          { destinationName: "db", datacenter: "dc2", localBindPort: 10001, meshGateway: { mode: "local" } },
          { destinationName: "logging", datacenter: "dc2", localBindPort: 10002, meshGateway: { mode: "none" } },
        ],
      },
    },
    inDc2("api", 8080),
    inDc2("db", 5432),
    inDc2("logging", 5140),
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
