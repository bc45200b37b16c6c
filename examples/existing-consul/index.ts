/**
 * Mesh gateways, config entries and connect services added to Consul datacenters that run
 * already: nothing here creates a Consul server. Each datacenter is an `ExistingDatacenter`
 * (its address, token and CA, checked at every preview); in each runs our gateway, on the
 * Docker host's network beside the datacenter's agent; the primary gets the `proxy-defaults`
 * entry and, with ACLs, the intention that lets `web` call `api`; `api` (in the last
 * datacenter) and `web` (in the primary, with `api` as its upstream) are registered with their
 * agents, with sidecars for you to run (`consul connect envoy -sidecar-for web`).
 *
 * Configuration (`pulumi config set <key> <value>`); a wrong value fails `pulumi preview` naming
 * the key and field:
 * - `datacenters` (required; set it with `--secret` when it holds tokens): a JSON list of
 *   `{ name, address, token?, caPem?, grpcAddress?, gateway?: { address?, wanAddress?, port?, adminPort? } }`,
 *   the primary first: `address` as `CONSUL_HTTP_ADDR` takes it; a token with `acl:write`,
 *   `operator:write` and `service:write` (ACLs are taken as on when a token is given); the
 *   gateway's LAN address defaults to the agent's host, its port to 8443;
 * - `meshGatewayMode`: the `proxy-defaults` mode, `local`, `remote` or `none`. Default: `local`;
 * - `gatewayImage`, `gatewayImageContext`, `gatewayBaseImage`, `consulImage`: as the default stack takes them.
 */
import * as pulumi from "@pulumi/pulumi";
import {
  ConnectService,
  ExistingDatacenter,
  MeshGateway,
  planRoutes,
  ProxyDefaults,
  readStackConfig,
  routePlanText as tableOf,
  routeSummary as summaryOf,
  ServiceIntentions,
  StackConfigError,
  stackImages,
  type Mesh,
} from "consul-mesh-gateway";

const config = readStackConfig();
const datacenters = config.datacenters;
if (!datacenters) {
  throw new StackConfigError([
    { key: "datacenters", message: "required: a JSON list of { name, address, token?, caPem? }, the primary first" },
  ]);
}
const primary = datacenters[0];
const last = datacenters[datacenters.length - 1];
const agentHost = (address: string) => new URL(/:\/\//.test(address) ? address : `http://${address}`).hostname;

/** What this stack adds, as the mesh model: the route plan is computed from it at preview. */
export const model: Mesh = {
  primaryDatacenter: primary.name,
  datacenters: datacenters.map((dc) => ({ name: dc.name, primaryDatacenter: primary.name })),
  proxyDefaults: { kind: "proxy-defaults", name: "global", meshGateway: { mode: config.meshGatewayMode } },
  gateways: datacenters.map((dc) => {
    const [address, port] = [dc.gateway?.address ?? agentHost(dc.address), dc.gateway?.port ?? 8443];
    const wan = { address: dc.gateway?.wanAddress ?? address, port };
    return { datacenter: dc.name, address, port, taggedAddresses: { lan: { address, port }, wan } };
  }),
  services: [
    { name: "api", datacenter: last.name, port: 9090, connect: { sidecarService: { port: 21000 } } },
    {
      name: "web",
      datacenter: primary.name,
      port: 9091,
      connect: {
        sidecarService: {
          port: 21001,
          proxy: { upstreams: [{ destinationName: "api", datacenter: last.name, localBindPort: 9191 }] },
        },
      },
    },
  ],
};

const existing = Object.fromEntries(
  datacenters.map((dc) => [
    dc.name,
    new ExistingDatacenter(dc.name, {
      datacenter: dc.name,
      address: dc.address,
      token: dc.token,
      caPem: dc.caPem,
      grpcAddress: dc.grpcAddress,
    }),
  ]),
);
const inPrimary = { provider: existing[primary.name].provider };
const images = stackImages(config);

const proxyDefaults = new ProxyDefaults("proxy-defaults", { meshGateway: model.proxyDefaults?.meshGateway }, inPrimary);
const intentions = existing[primary.name].aclEnabled
  ? [
      new ServiceIntentions(
        "api-intentions",
        { destination: "api", sources: [{ name: "web", action: "allow" }] },
        inPrimary,
      ),
    ]
  : [];
const gateways = (model.gateways ?? []).map((gw, i) => {
  const dc = datacenters[i];
  return new MeshGateway(`gateway-${gw.datacenter}`, {
    datacenter: existing[gw.datacenter],
    // ACL tokens are written in the primary (a secondary's gateway gets the primary's provider for them).
    aclProvider: i === 0 ? undefined : existing[primary.name].provider,
    image: images.gateway,
    lanAddress: gw.address,
    wanAddress: gw.taggedAddresses?.wan?.address,
    port: gw.port,
    adminPort: dc.gateway?.adminPort,
    // Container names of their own, so that this stack and the default one can share a Docker host.
    resourcePrefix: "existing-consul",
  });
});
for (const service of model.services ?? []) {
  new ConnectService(
    `${service.name}-${service.datacenter}`,
    { service, datacenter: existing[service.datacenter] },
    { dependsOn: [proxyDefaults, ...intentions, ...gateways] },
  );
}

const plan = planRoutes(model);
/** Which path each upstream takes, and which configuration level decided it. */
export const routePlan = plan;
/** The same, as a table. */
export const routePlanText = tableOf(plan);
/** One line per upstream, as `pulumi preview` shows it. */
export const routeSummary = summaryOf(plan);
/** The trust domain of the mesh, as the primary datacenter's CA says. */
export const trustDomain = existing[primary.name].trustDomain;
/** Where each gateway registered itself (LAN and WAN). */
export const gatewayAddresses = pulumi.output(
  Object.fromEntries(gateways.map((gw, i) => [datacenters[i].name, { lan: gw.lanAddresses, wan: gw.wanAddresses }])),
);
