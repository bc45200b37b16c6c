/**
 * The default stack (the root `Pulumi.yaml`): the two-datacenter mesh of `defaultMesh()` on
 * the local Docker daemon — `dc1` (primary) and `dc2`, WAN federated, a mesh gateway in
 * each, `web` in dc1 calling `api` (remote), `db` (local) and `logging` (none) in dc2 — with
 * the gateway image built from this package.
 *
 * Configuration (`pulumi config set <key> <value>`), all optional:
 * - `gatewayImage`: run this published gateway image instead of building one;
 * - `gatewayImageContext`: build context of the image. Default: `dist/gateway-image`, made by
 *   `npm run build && bash scripts/gateway-image-context.sh dist/gateway-image`;
 * - `gatewayBaseImage`: base image of the build (e.g. from `scripts/node-base-image.sh`);
 * - `routeSource`: `consul` (default; gateways watch their Consul agent) or `file`
 *   (gateways read a routes file rendered from the model).
 */
import * as pulumi from "@pulumi/pulumi";
import { ConsulMesh, defaultMesh, GatewayImage } from "consul-mesh-gateway";

const config = new pulumi.Config();
const published = config.get("gatewayImage");
const routeSource = config.get("routeSource") ?? "consul";
if (routeSource !== "consul" && routeSource !== "file") {
  throw new Error(`config routeSource: ${JSON.stringify(routeSource)} is not a route source; use "consul" or "file"`);
}

const image = new GatewayImage(
  "gateway-image",
  // A published image by its ID (pulled, or found locally), so that containers are not replaced on every `pulumi up`.
  published !== undefined
    ? { image: published, pull: true }
    : { context: config.get("gatewayImageContext"), baseImage: config.get("gatewayBaseImage") },
);

const mesh = new ConsulMesh("mesh", { ...defaultMesh(), gatewayImage: image.imageRef, routeSource });

/** Which path each upstream takes, and which configuration level decided it. */
export const routePlan = mesh.routePlan;
/** The same, as a table. */
export const routePlanText = mesh.routePlanText;
/** Consul's HTTP API of each datacenter, on this host. */
export const consulAddresses = Object.fromEntries(
  Object.entries(mesh.datacenters).map(([name, dc]) => [name, dc.httpAddress]),
);
