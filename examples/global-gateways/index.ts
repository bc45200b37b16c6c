/**
 * Enabling gateways globally: a `proxy-defaults` entry named `global` with mesh gateway
 * mode `local`, so every connect proxy dials its own datacenter's gateway for an upstream in
 * another datacenter (Consul's "Enabling Gateways Globally").
 *
 *   Kind = "proxy-defaults"
 *   Name = "global"
 *   MeshGateway {
 *      Mode = "local"
 *   }
 *
 * Built from the finer components, one by one, to show how they compose; `ConsulMesh` does
 * the same in one call (see the other examples). Secure by default: the datacenters share one CA
 * and one gossip key, the secondary's ACL tokens are made in the primary, and an intention lets
 * `web` reach `api` (ACLs deny any other pair).
 */
import * as pulumi from "@pulumi/pulumi";
import {
  assertValidMesh,
  ConnectService,
  ConsulCertificateAuthority,
  Datacenter,
  defaultLanSubnet,
  formatRoutePlan,
  GeneratedTrustDomain,
  GossipKey,
  MeshGateway,
  planRoutes,
  ProxyDefaults,
  readStackConfig,
  ServiceIntentions,
  stackImages,
  WanFederation,
  type Mesh,
} from "consul-mesh-gateway";

/** `consulImage`, `gatewayImage`, `gatewayBaseImage`, … as the default stack takes them (`readStackConfig`). */
const config = readStackConfig();
const gatewayImage = stackImages(config).gateway;

/** The topology, in the model's camelCase mirror of Consul's configuration. */
export const model: Mesh = {
  primaryDatacenter: "dc1",
  datacenters: [{ name: "dc1" }, { name: "dc2" }],
  proxyDefaults: { kind: "proxy-defaults", name: "global", meshGateway: { mode: "local" } },
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
    { name: "api", datacenter: "dc2", port: 8080, address: "api-dc2", connect: { sidecarService: { port: 21000 } } },
  ],
};

// Every prerequisite and topology rule, checked before any resource is declared.
assertValidMesh(model);

/**
 * The mesh's Connect trust domain: `trustDomain` when configured, else one drawn once for this
 * stack and kept in its state. The servers are pinned to it and the gateways given it.
 */
export const trustDomain = pulumi.output(config.trustDomain ?? new GeneratedTrustDomain("trust-domain").trustDomain);

const wan = new WanFederation("wan", { datacenters: model.datacenters, primaryDatacenter: "dc1" });
// One CA and one gossip key for the federation, kept as secrets in the state.
const ca = new ConsulCertificateAuthority("ca");
const gossipKey = new GossipKey("gossip-key").value;
const datacenters: Record<string, Datacenter> = {};
model.datacenters.forEach((spec, i) => {
  datacenters[spec.name] = new Datacenter(spec.name, {
    datacenter: spec,
    primaryDatacenter: "dc1",
    lanSubnet: defaultLanSubnet(i),
    httpHostPort: 8500 + i,
    wan: wan.attachment(spec.name),
    image: config.consulImage,
    trustDomain,
    ca,
    gossipKey,
    // ACL objects live in the primary: the secondary's server tokens are made there, with its management token.
    primary: i === 0 ? undefined : datacenters.dc1,
  });
});

// Written in the primary, whose servers' data volume holds it: destroyed with it, never deleted from a Consul that is gone.
const inPrimary = { deletedWith: datacenters.dc1.dataVolumes[0] };
new ProxyDefaults("global", { meshGateway: { mode: "local" } }, { ...inPrimary, provider: datacenters.dc1.provider });
new ServiceIntentions(
  "intentions-api",
  { destination: "api", sources: [{ name: "web", action: "allow" }] },
  { ...inPrimary, provider: datacenters.dc1.provider },
);

for (const gateway of model.gateways ?? []) {
  new MeshGateway(`gateway-${gateway.datacenter}`, {
    datacenter: datacenters[gateway.datacenter],
    // The gateway's policy and token are global: written and read back in the primary.
    aclProvider: datacenters.dc1.provider,
    wan,
    image: gatewayImage,
    trustDomain,
    consulState: inPrimary.deletedWith,
  });
}
for (const service of model.services ?? []) {
  new ConnectService(
    `service-${service.name}`,
    { service, datacenter: datacenters[service.datacenter] },
    { deletedWith: datacenters[service.datacenter].dataVolumes[0] },
  );
}

/** Which path each upstream takes, and which configuration level decided it (SNI names in the trust domain). */
export const routePlan = trustDomain.apply((td) => planRoutes({ ...model, trustDomain: td }));
/** The same, as a table. */
export const routePlanText = routePlan.apply(formatRoutePlan);
