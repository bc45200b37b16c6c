/**
 * Two datacenters, each on a Docker daemon of its own (two machines): `dc1` (primary) on
 * `dockerHosts.dc1`, `dc2` on `dockerHosts.dc2`, a mesh gateway in each, and `web` in dc1
 * calling `api` in dc2 through both gateways (`local`, the default) or dc2's only (`remote`).
 * No Docker network is shared: each datacenter's server publishes its WAN ports (8300, 8302
 * TCP and UDP) on its host's address and advertises it, each gateway publishes 8443 there and
 * registers it as its WAN address, and the servers join each other's hosts (`retry_join_wan`).
 * The Pulumi program talks to each daemon through a `docker.Provider` of its own, passed to the
 * components as `opts.providers` (their children inherit it), and to each datacenter's Consul
 * HTTP API as published on its host's address (port 8500, 8501).
 *
 * Configuration (`pulumi config set <key> <value>`), read and checked by `readStackConfig`:
 * - `dockerHosts` (required): a JSON object from datacenter name to a `DOCKER_HOST` value,
 *   e.g. `{"dc1":"ssh://me@10.0.0.5","dc2":"tcp://10.0.0.6:2376"}`;
 * - `hostAddresses`: a JSON object from datacenter name to the IP address the other hosts (and
 *   this program) reach that host at; the ports are published on it. Default: the host of
 *   `dockerHosts`' entry (`tcp://` and `ssh://`; a `unix://` socket names none: then required);
 * - `trustDomain`: the Connect trust domain to pin, `<uuid>.consul`. Default: one drawn once per stack;
 * - `consulImage`, `gatewayImage`, `gatewayImageContext`, `gatewayBaseImage`, `sidecarImage`,
 *   `envoyImage`, `appImage`, `acl`, `tls`, `gossipEncryption` as the default stack takes them. The gateway and sidecar
 *   images are built on each daemon unless published images are named; every image must be on
 *   each daemon or pullable there (a registry, for real machines);
 * - `meshGatewayMode`: `local` (default) or `remote`. `none` is refused: it dials the service
 *   in the other datacenter directly, at an address no other host reaches.
 *
 * The hosts must reach each other's addresses on 8300, 8302 (TCP and UDP) and 8443; this program
 * must reach them on 8500, 8501 and, for `demoUrl`, 8080. The Consul HTTP API is published on
 * the host's address, not its loopback: keep ACLs on (the default), or the hosts' network private.
 */
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import {
  ConnectService,
  ConsulCertificateAuthority,
  Datacenter,
  demoUpstreams,
  DockerHost,
  dockerHostAddress,
  GatewayImage,
  GeneratedTrustDomain,
  GossipKey,
  MeshGateway,
  planRoutes,
  ProxyDefaults,
  readStackConfig,
  routeSummary as summaryOf,
  ServiceIntentions,
  SidecarImage,
  StackConfigError,
  Workload,
  type Mesh,
  type StackConfigProblem,
} from "consul-mesh-gateway";

const config = readStackConfig();
const names = ["dc1", "dc2"];

// The hosts and their addresses, every problem named by its key before any resource exists.
const problems: StackConfigProblem[] = [];
if (config.meshGatewayMode === "none")
  problems.push({
    key: "meshGatewayMode",
    message:
      '"none" dials the service in the other datacenter directly, which no other host reaches: use local or remote',
  });
const hosts: Record<string, { dockerHost: string; address: string }> = {};
for (const dc of names) {
  const dockerHost = config.dockerHosts?.[dc];
  const address = config.hostAddresses?.[dc] ?? (dockerHost && dockerHostAddress(dockerHost));
  if (dockerHost === undefined)
    problems.push({ key: `dockerHosts.${dc}`, message: "required: the DOCKER_HOST of the datacenter's Docker daemon" });
  else if (!address)
    problems.push({
      key: `hostAddresses.${dc}`,
      message: `required: ${JSON.stringify(dockerHost)} names no address the other hosts reach it at`,
    });
  else hosts[dc] = { dockerHost, address };
}
if (problems.length > 0) throw new StackConfigError(problems);

/**
 * The mesh's Connect trust domain, which both datacenters' servers are pinned to
 * (`connect.ca_config.cluster_id`): `trustDomain` when configured, else one drawn once for this
 * stack and kept in its state.
 */
export const trustDomain = pulumi.output(config.trustDomain ?? new GeneratedTrustDomain("trust-domain").trustDomain);

/** The topology. */
export const model: Mesh = {
  primaryDatacenter: "dc1",
  datacenters: names.map((name) => ({
    name,
    primaryDatacenter: "dc1",
    acl: { enabled: config.acl },
    tls: { enabled: config.tls },
    gossipEncryption: { enabled: config.gossipEncryption },
  })),
  proxyDefaults: { kind: "proxy-defaults", name: "global", meshGateway: { mode: config.meshGatewayMode } },
  gateways: names.map((datacenter) => ({ datacenter, name: "mesh-gateway", port: 8443 })),
  services: [
    {
      name: "web",
      datacenter: "dc1",
      port: 8080,
      connect: {
        sidecarService: {
          port: 21000,
          proxy: { upstreams: [{ destinationName: "api", datacenter: "dc2", localBindPort: 10000 }] },
        },
      },
    },
    { name: "api", datacenter: "dc2", port: 8080, connect: { sidecarService: { port: 21000 } } },
  ],
};
const routes = planRoutes(model);

/** Each datacenter's Docker daemon, and the images built (or pulled) on it. */
const providers: Record<string, docker.Provider> = {};
const images: Record<string, { gateway: pulumi.Output<string>; sidecar: pulumi.Output<string> }> = {};
for (const dc of names) {
  // Checked at every preview: a daemon that does not answer is named with its datacenter.
  providers[dc] = new DockerHost(`docker-${dc}`, { datacenter: dc, host: hosts[dc].dockerHost }).provider;
  const on = { providers: [providers[dc]] };
  images[dc] = {
    gateway: new GatewayImage(
      `gateway-image-${dc}`,
      config.gatewayImage !== undefined
        ? { image: config.gatewayImage, pull: true }
        : { context: config.gatewayImageContext, baseImage: config.gatewayBaseImage },
      on,
    ).imageRef,
    sidecar: new SidecarImage(
      `sidecar-image-${dc}`,
      config.sidecarImage !== undefined
        ? { image: config.sidecarImage }
        : { consulImage: config.consulImage, envoyImage: config.envoyImage },
      on,
    ).imageRef,
  };
}

/** The CA of both datacenters' servers and the gossip key they share (kept as secrets in the state). */
const ca = config.tls ? new ConsulCertificateAuthority("ca", {}) : undefined;
const gossipKey = config.gossipEncryption ? new GossipKey("gossip-key", {}).value : undefined;

/** The datacenters: one server each, its WAN ports published on its host. */
const datacenters: Record<string, Datacenter> = {};
model.datacenters.forEach((spec, i) => {
  const dc = spec.name;
  datacenters[dc] = new Datacenter(
    dc,
    {
      datacenter: spec,
      primaryDatacenter: "dc1",
      image: config.consulImage,
      lanSubnet: `10.250.${i + 1}.0/24`,
      httpHostAddress: hosts[dc].address,
      httpHostPort: 8500 + i,
      trustDomain,
      wanHost: {
        address: hosts[dc].address,
        retryJoinWan: names.filter((other) => other !== dc).map((other) => hosts[other].address),
      },
      // ACL objects live in the primary: the secondary's server tokens are made there, with its management token.
      primary: i === 0 ? undefined : datacenters.dc1,
      ca,
      gossipKey,
    },
    // A secondary resolves tokens through the primary: it starts once the primary has a leader, so that it
    // joins the WAN at once and nothing is registered there before it can.
    { providers: [providers[dc]], dependsOn: i === 0 ? [] : [datacenters.dc1] },
  );
});
const primary = datacenters.dc1;
const consulState = primary.dataVolumes[0];
const inPrimary = { provider: primary.provider, deletedWith: consulState };

const proxyDefaults = new ProxyDefaults("proxy-defaults", { meshGateway: model.proxyDefaults?.meshGateway }, inPrimary);
const intentions = config.acl
  ? [
      new ServiceIntentions(
        "intentions-api",
        { destination: "api", sources: [{ name: "web", action: "allow" }] },
        inPrimary,
      ),
    ]
  : [];

/** A gateway per datacenter, its port published on its host, which it registers as its WAN address. */
const gateways = names.map(
  (dc) =>
    new MeshGateway(
      `${dc}-mesh-gateway`,
      {
        datacenter: datacenters[dc],
        aclProvider: primary.provider,
        image: images[dc].gateway,
        publishAddress: hosts[dc].address,
        consulState,
      },
      { providers: [providers[dc]] },
    ),
);

/** Each service registered in its datacenter, with its demo app and Envoy sidecar on that datacenter's host. */
(model.services ?? []).forEach((service, index) => {
  const dc = service.datacenter;
  const lanAddress = `10.250.${names.indexOf(dc) + 1}.30`;
  const registered = new ConnectService(
    `${dc}-${service.name}`,
    { service: { ...service, address: lanAddress }, datacenter: datacenters[dc] },
    { deletedWith: datacenters[dc].dataVolumes[0] },
  );
  const upstreams = demoUpstreams(routes, index);
  new Workload(
    `${dc}-${service.name}-workload`,
    {
      serviceId: service.name,
      serviceName: service.name,
      port: service.port as number,
      datacenter: datacenters[dc],
      lanAddress,
      upstreams,
      ...(upstreams.length > 0 ? { hostPort: 8080, hostAddress: hosts[dc].address } : {}),
      appImage: config.appImage ?? images[dc].gateway,
      sidecarImage: images[dc].sidecar,
      registration: registered.registration,
    },
    // The sidecars need the gateways (their upstreams' paths), the mode and the intentions.
    { providers: [providers[dc]], dependsOn: [...gateways, proxyDefaults, ...intentions] },
  );
});

/** The address of each datacenter's Docker host. */
export const hostAddresses = Object.fromEntries(names.map((dc) => [dc, hosts[dc].address]));
/** Consul's HTTP API of each datacenter, on its host. */
export const consulAddresses = Object.fromEntries(names.map((dc) => [dc, datacenters[dc].httpAddress]));
/** One line per upstream: `web (dc1) -> api (dc2): local ... via ...`. */
export const routeSummary = summaryOf(routes);
/** `web`'s demo service, on dc1's host: what `api` answered, with the mode and path taken. */
export const demoUrl = `http://${hosts.dc1.address}:8080/`;
