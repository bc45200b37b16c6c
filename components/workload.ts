/**
 * `Workload`: what runs behind one connect service with a sidecar: the demo service's container
 * (`demo-app.ts`) and an Envoy sidecar container configured by Consul (`consul connect envoy
 * -sidecar-for <id>`) sharing its network namespace, so that the sidecar's upstream listeners
 * are on the service's own 127.0.0.1 and its public listener on the service's LAN address.
 */
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { DEMO_APP_SOURCE, demoHealthCheck, type DemoUpstream } from "./plans/demo-app";
import type { Datacenter } from "./datacenter";

/** Arguments of {@link Workload}. */
export interface WorkloadArgs {
  /** The service ID the sidecar proxies for (`-sidecar-for`). */
  serviceId: string;
  /** The service name the demo answers with. */
  serviceName: string;
  /** The port the demo service listens on (the registration's `Port`). */
  port: number;
  /** The datacenter: its LAN network, its servers' HTTP and gRPC addresses, its ACL token. */
  datacenter: Datacenter;
  /** The container's fixed address on the datacenter's LAN (the registration's `Address`). */
  lanAddress: string;
  /** Network aliases on the LAN (e.g. the model's host name of the service). Default: none. */
  aliases?: string[];
  /**
   * Further networks the container joins with an address Docker picks: the WAN and the other
   * datacenters' LANs, as a flat network between datacenters (what `remote` and `none` upstreams dial). Default: none.
   */
  otherNetworks?: pulumi.Input<string>[];
  /** Image with Node.js for the demo service. */
  appImage: pulumi.Input<string>;
  /** Image whose entry point is `consul connect envoy` (see `SidecarImage`). */
  sidecarImage: pulumi.Input<string>;
  /** The upstreams the demo service calls. Default: none. */
  upstreams?: DemoUpstream[];
  /** Host port on 127.0.0.1 that publishes the demo service. Default: not published. */
  hostPort?: number;
  /** The service's registration: the sidecar starts once it exists. Default: none. */
  registration?: pulumi.Resource;
  /** ACL token of the sidecar. Default: the datacenter's management token, else none. */
  token?: pulumi.Input<string>;
  /** Prefix of container names. Default: `"consul-mesh"`. */
  resourcePrefix?: string;
}

/** The demo service and its Envoy sidecar, as containers. */
export class Workload extends pulumi.ComponentResource {
  /** The demo service's container (its network namespace is the sidecar's). */
  readonly app: docker.Container;
  /** The Envoy sidecar's container. */
  readonly sidecar: docker.Container;

  constructor(name: string, args: WorkloadArgs, opts?: pulumi.ComponentResourceOptions) {
    super("consul-mesh:index:Workload", name, {}, opts);
    const dc = args.datacenter;
    const prefix = args.resourcePrefix ?? "consul-mesh";
    const labels = (role: string) => [
      { label: "consul-mesh.datacenter", value: dc.name },
      { label: "consul-mesh.role", value: role },
      { label: "consul-mesh.service", value: args.serviceId },
    ];
    const networks: docker.types.input.ContainerNetworksAdvanced[] = [
      { name: dc.lanNetworkName, ipv4Address: args.lanAddress, aliases: [...(args.aliases ?? [])].sort() },
      ...(args.otherNetworks ?? []).map((network) => ({ name: network })),
    ];

    this.app = new docker.Container(
      `${name}-app`,
      {
        name: `${prefix}-${dc.name}-${args.serviceId}`,
        hostname: `${args.serviceId}-${dc.name}`,
        image: args.appImage,
        entrypoints: ["node", "-e", DEMO_APP_SOURCE],
        envs: [
          `DEMO_DATACENTER=${dc.name}`,
          `DEMO_PORT=${args.port}`,
          `DEMO_SERVICE=${args.serviceName}`,
          `DEMO_UPSTREAMS=${JSON.stringify(args.upstreams ?? [])}`,
        ],
        networksAdvanced: networks,
        ports: args.hostPort === undefined ? [] : [{ internal: args.port, external: args.hostPort, ip: "127.0.0.1" }],
        // The image's own health check is the gateway's, when it is the gateway image.
        healthcheck: {
          tests: demoHealthCheck(args.port),
          interval: "5s",
          timeout: "3s",
          startPeriod: "2s",
          retries: 3,
        },
        init: true,
        restart: "unless-stopped",
        destroyGraceSeconds: 10,
        labels: labels("app"),
      },
      // A fixed name and address: the old container must go first.
      { parent: this, deleteBeforeReplace: true },
    );

    const token = args.token ?? dc.managementToken;
    const [server] = dc.serverLanAddresses;
    this.sidecar = new docker.Container(
      `${name}-sidecar`,
      {
        name: `${prefix}-${dc.name}-${args.serviceId}-sidecar`,
        image: args.sidecarImage,
        networkMode: pulumi.interpolate`container:${this.app.id}`,
        command: [
          "-sidecar-for",
          args.serviceId,
          "-http-addr",
          `http://${server}:8500`,
          "-grpc-addr",
          `${server}:8502`,
          "-admin-bind",
          "127.0.0.1:19000",
          // Consul 1.16 names Envoy 1.23–1.26; newer ones work as sidecars here (test/real).
          "-ignore-envoy-compatibility",
        ],
        envs: token ? pulumi.secret([pulumi.interpolate`CONSUL_HTTP_TOKEN=${token}`]) : [],
        restart: "unless-stopped",
        destroyGraceSeconds: 10,
        labels: labels("sidecar"),
      },
      { parent: this, deleteBeforeReplace: true, dependsOn: args.registration ? [args.registration] : [] },
    );
    this.registerOutputs({});
  }
}
