/**
 * The default stack (the root `Pulumi.yaml`): the two-datacenter mesh of `defaultMesh()` on
 * the local Docker daemon — `dc1` (primary) and `dc2`, WAN federated, a mesh gateway in
 * each, `web` in dc1 calling `api` (remote), `db` (local) and `logging` (none) in dc2 — with a
 * demo service and an Envoy sidecar behind every service, so that the mesh carries traffic
 * once `pulumi up` returns: `curl $(pulumi stack output demoUrl)`.
 *
 * Configuration (`pulumi config set <key> <value>`), all optional; a wrong value fails
 * `pulumi preview` naming the key (`readStackConfig`):
 * - `consulImage`: the Consul servers' image. Default: `hashicorp/consul:1.16.3`;
 * - `gatewayImage`: run this published gateway image instead of building one;
 * - `gatewayImageContext`: build context of the gateway image. Default: `dist/gateway-image`
 *   (made by `npm run build:stack`);
 * - `gatewayBaseImage`: base image of the gateway build. Default: `node:20-bookworm-slim`;
 * - `sidecarImage`: a published image running `consul connect envoy`, instead of building one
 *   from `consulImage` and `envoyImage` (default `envoyproxy/envoy:v1.26.8`);
 * - `appImage`: an image with Node.js for the demo services. Default: the gateway image;
 * - `meshGatewayMode`: mode of the `proxy-defaults` entry, `local`, `remote` or `none`. Default: `local`;
 * - `acl`: `true` (ACLs on, deny by default, intentions for the declared upstreams) or `false`. Default: `true`;
 * - `tls`: `true` (TLS on Consul's HTTPS, gRPC and server RPC, with a CA the stack draws) or `false`. Default: `true`;
 * - `gossipEncryption`: `true` (gossip encrypted with a key the stack draws) or `false`. Default: `true`;
 * - `wanFederation`: `gossip` (the servers join each other over the WAN network) or `mesh-gateways`
 *   (only the gateways are on the WAN; the servers federate through them). Default: `gossip`;
 * - `routeSource`: `consul` (gateways watch their Consul agent) or `file`. Default: `consul`;
 * - `demoPort`: host port of `demoUrl`. Default: `8080`;
 * - `trustDomain`: the Connect trust domain to pin, `<uuid>.consul`. Default: one drawn once for
 *   this stack and kept in its state (a stack deployed before trust domains were drawn has
 *   `11111111-2222-3333-4444-555555555555.consul`: pin that one to keep it).
 */
import { ConsulMesh, defaultMesh, readStackConfig, stackImages } from "consul-mesh-gateway";

const config = readStackConfig();
const images = stackImages(config, { sidecar: true });

const model = defaultMesh();
// The stack's own trust domain, not the model's fixed one: the one configured, else one drawn once.
model.trustDomain = config.trustDomain;
model.proxyDefaults = { kind: "proxy-defaults", name: "global", meshGateway: { mode: config.meshGatewayMode } };
model.wanFederation = { mode: config.wanFederation };
for (const dc of model.datacenters) {
  dc.acl = { enabled: config.acl };
  dc.tls = { enabled: config.tls };
  dc.gossipEncryption = { enabled: config.gossipEncryption };
}

const mesh = new ConsulMesh("mesh", {
  ...model,
  consulImage: config.consulImage,
  gatewayImage: images.gateway,
  routeSource: config.routeSource,
  workloads: { appImage: images.app, sidecarImage: images.sidecar!, demoHostPort: config.demoPort },
});

/** The mesh's Connect trust domain (`<uuid>.consul`), stable across `pulumi up`. */
export const trustDomain = mesh.trustDomain;
/** Which path each upstream takes, and which configuration level decided it. */
export const routePlan = mesh.routePlan;
/** The same, as a table (`pulumi stack output routePlanText`). */
export const routePlanText = mesh.routePlanText;
/** One line per upstream, as `pulumi preview` shows it. */
export const routeSummary = mesh.routeSummary;
/** Consul's HTTP API of each datacenter, on this host. */
export const consulAddresses = Object.fromEntries(
  Object.entries(mesh.datacenters).map(([name, dc]) => [name, dc.httpAddress]),
);
/** The CA that verifies every datacenter's Consul API (`curl --cacert`); not a secret. */
export const consulCaPem = mesh.certificateAuthority?.caPem;
/** `web`'s demo service: what each of its upstreams answered, with the mode and path taken. */
export const demoUrl = mesh.demoUrl;
