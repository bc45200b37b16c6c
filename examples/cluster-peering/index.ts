/**
 * Two Consul clusters that run already, peered through their mesh gateways: nothing here creates
 * a Consul server. The first cluster (its datacenter in `datacenters[0]`) accepts the peering and
 * exports `api`; the second dials it and registers `web`, whose upstream is `api` of the first
 * (`destinationPeer`), through its local gateway (mode `local`). Each cluster gets our gateway (on
 * the Docker host's network beside its agent) and the `mesh` entry that sends the peering control
 * plane through the gateways (`PeerThroughMeshGateways`); the first also gets the
 * `exported-services` entry and the intention that lets `web` of the second call `api`. The
 * services' sidecars are yours to run (`consul connect envoy -sidecar-for web`).
 *
 * Configuration (`pulumi config set <key> <value>`); a wrong value fails `pulumi preview` naming
 * the key and field:
 * - `datacenters` (required; set it with `--secret` when it holds tokens): a JSON list of two
 *   `{ name, address, token?, caPem?, grpcAddress?, gateway?: { address?, wanAddress?, port?, adminPort? } }`,
 *   a datacenter of each cluster, the accepting one first, as `examples/existing-consul` takes
 *   them; each cluster's token needs `peering:write`, `mesh:write`, `acl:write` and `service:write`;
 * - `gatewayImage`, `gatewayImageContext`, `gatewayBaseImage`: as the default stack takes them.
 */
import * as pulumi from "@pulumi/pulumi";
import {
  ConnectService,
  ExistingDatacenter,
  ExportedServices,
  MeshGateway,
  Peering,
  PeeringThroughGateways,
  planRoutes,
  readStackConfig,
  routePlanText as tableOf,
  routeSummary as summaryOf,
  ServiceIntentions,
  StackConfigError,
  stackImages,
  type Mesh,
  type MeshService,
} from "consul-mesh-gateway";

const config = readStackConfig();
const datacenters = config.datacenters;
if (datacenters?.length !== 2) {
  throw new StackConfigError([
    {
      key: "datacenters",
      message:
        "required: a JSON list of two { name, address, token?, caPem? }, one per cluster, the accepting one first",
    },
  ]);
}
const agentHost = (address: string) => new URL(/:\/\//.test(address) ? address : `http://${address}`).hostname;
const images = stackImages(config);

/** Each cluster's datacenter, its gateway, and the mesh entry that sends peering through it. */
const clusters = datacenters.map((dc) => {
  const existing = new ExistingDatacenter(dc.name, {
    datacenter: dc.name,
    address: dc.address,
    token: dc.token,
    caPem: dc.caPem,
    grpcAddress: dc.grpcAddress,
  });
  const lanAddress = dc.gateway?.address ?? agentHost(dc.address);
  const gateway = new MeshGateway(`gateway-${dc.name}`, {
    datacenter: existing,
    image: images.gateway,
    lanAddress,
    wanAddress: dc.gateway?.wanAddress ?? lanAddress,
    port: dc.gateway?.port ?? 8443,
    adminPort: dc.gateway?.adminPort,
    resourcePrefix: "cluster-peering",
  });
  const throughGateways = new PeeringThroughGateways(`${dc.name}-peering-through-gateways`, { datacenter: existing });
  return { existing, gateway, throughGateways };
});
const [a, b] = clusters;

/** The peering: a token from the first cluster, established from the second, once both gateways run. */
const peering = new Peering("peering", {
  acceptor: a.existing,
  dialer: b.existing,
  dependsOn: clusters.flatMap((c) => [c.gateway, c.throughGateways]),
});
const inA = { provider: a.existing.provider };
const exported = new ExportedServices(
  "exported-services",
  { datacenter: a.existing, services: [{ name: "api", peers: [peering.acceptorPeerName] }] },
  inA,
);
const intentions = new ServiceIntentions(
  "api-intentions",
  { destination: "api", sources: [{ name: "web", peer: peering.acceptorPeerName, action: "allow" }] },
  inA,
);

const api: MeshService = {
  name: "api",
  datacenter: a.existing.name,
  port: 9090,
  connect: { sidecarService: { port: 21000 } },
};
const web: MeshService = {
  name: "web",
  datacenter: b.existing.name,
  port: 9091,
  connect: {
    sidecarService: {
      port: 21001,
      proxy: {
        upstreams: [
          {
            destinationName: "api",
            destinationPeer: peering.dialerPeerName,
            localBindPort: 9191,
            meshGateway: { mode: "local" },
          },
        ],
      },
    },
  },
};
new ConnectService("api", { service: api, datacenter: a.existing }, { dependsOn: [exported, intentions] });
new ConnectService("web", { service: web, datacenter: b.existing }, { dependsOn: [peering, b.gateway] });

/** The second cluster as the mesh model sees it, with its peer: what the route plan is computed from at preview. */
export const model: Mesh = {
  datacenters: [{ name: b.existing.name }],
  gateways: [{ datacenter: b.existing.name, port: datacenters[1].gateway?.port ?? 8443 }],
  services: [web],
  peers: [
    {
      name: peering.dialerPeerName,
      remoteName: peering.acceptorPeerName,
      exportedServices: ["api"],
      throughGateways: true,
    },
  ],
};
const plan = planRoutes(model);
/** Which path web's upstream takes (the peer's trust domain shows as a placeholder: it is the peer's). */
export const routePlan = plan;
/** The same, as a table. */
export const routePlanText = tableOf(plan);
/** One line per upstream. */
export const routeSummary = summaryOf(plan);

/** The peering's state as the dialing cluster reads it: `ACTIVE` once established. */
export const peeringState = peering.state;
/** Each cluster's name for the other: `{ acceptor, dialer }`. */
export const peerNames = { acceptor: peering.acceptorPeerName, dialer: peering.dialerPeerName };
/** Each cluster's trust domain, as its CA says. */
export const trustDomains = pulumi.output(
  Object.fromEntries(clusters.map((c) => [c.existing.name, c.existing.trustDomain])),
);
