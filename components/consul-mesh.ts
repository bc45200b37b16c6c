/**
 * `ConsulMesh`: the whole topology in one component. It validates the mesh with `mesh/`
 * (every problem in one error, before any resource exists), then creates the WAN
 * federation, the datacenters, the config entries (in the primary datacenter, from which
 * Consul replicates them), the mesh gateways and the connect services, and exports the
 * route plan: which path each upstream's traffic takes and why, as data, a table and a diagram.
 */
import * as pulumi from "@pulumi/pulumi";
import {
  clusterIdOf,
  declaredIntentions,
  isPort,
  DEFAULT_TRUST_DOMAIN,
  DiagramTooLargeError,
  formatRoutePlan,
  DEFAULT_NAMESPACE,
  DEFAULT_PARTITION,
  MeshValidationError,
  planRoutes,
  primaryDatacenterOf,
  renderGatewayRoutes,
  routeDiagramDot,
  validateMesh,
  type Mesh,
  type MeshProblem,
  type PlannedRoute,
  type RoutePlan,
  type RoutesFile,
} from "../mesh";
import { renderDiagramSvg } from "../mesh/diagram/diagram-svg";
import { InvalidArgumentError } from "./errors";
import {
  checkSubnet,
  DEFAULT_WAN_SUBNET,
  isIpAddress,
  defaultLanSubnet,
  lanGatewayAddress,
  wanGatewayAddress,
} from "./plans/address-plan";
import { ConnectService } from "./connect-service";
import { Datacenter } from "./datacenter";
import { GeneratedToken } from "./dynamic/generated-token";
import { DEFAULT_GATEWAY_IMAGE_NAME } from "./images/gateway-image";
import { MeshGateway } from "./mesh-gateway";
import { ProxyDefaults } from "./proxy-defaults";
import { ServiceDefaults } from "./service-defaults";
import { WanFederation } from "./wan-federation";
import { ServiceIntentions } from "./service-intentions";
import { Workload } from "./workload";
import { planWorkloads } from "./plans/workload-plan";

/** The host port of `demoUrl` unless told otherwise. */
export const DEFAULT_DEMO_HOST_PORT = 8080;

/** Arguments of {@link ConsulMesh}: the mesh model (plain), and how to deploy it on Docker. */
export interface ConsulMeshArgs extends Mesh {
  /**
   * Image of the gateways (e.g. `GatewayImage.imageName`). Default: `"consul-mesh/sni-gateway:latest"`
   * (`DEFAULT_GATEWAY_IMAGE_NAME`, what `GatewayImage` builds).
   */
  gatewayImage?: pulumi.Input<string>;
  /** Consul image of the servers. Default: `CONSUL_IMAGE` (`hashicorp/consul`, pinned). */
  consulImage?: pulumi.Input<string>;
  /** Pull the Consul image. Default: `true`. */
  pullConsulImage?: boolean;
  /**
   * Where gateways get their routes: the datacenter's Consul agent, or a file rendered from this mesh.
   * Default: `"consul"`.
   */
  routeSource?: "consul" | "file";
  /** Prefix of Docker object names, unique per Docker host. Default: `"consul-mesh"`. */
  resourcePrefix?: string;
  /** IPv4 subnet of the WAN network. Default: `"10.250.0.0/24"`. */
  wanSubnet?: string;
  /** LAN subnet per datacenter name. Default: `10.250.<i+1>.0/24` for the i-th datacenter. */
  lanSubnets?: Record<string, string>;
  /** Host port of each datacenter's HTTP API, by datacenter name. Default: `8500 + i` for the i-th datacenter. */
  httpHostPorts?: Record<string, number>;
  /**
   * ACL initial management token shared by the datacenters that enable ACLs. Default: a UUID generated once,
   * kept secret.
   */
  initialManagementToken?: pulumi.Input<string>;
  /**
   * Run a workload behind every connect service with a sidecar: a demo HTTP service and an Envoy
   * sidecar configured by Consul, so that the mesh carries traffic once `pulumi up` returns.
   * Default: none (services are registered only).
   */
  workloads?: WorkloadsArgs;
  /**
   * With ACLs, write a `service-intentions` entry per destination allowing exactly the services
   * that declare it as an upstream (`declaredIntentions`). Default: `true`.
   */
  allowDeclaredUpstreams?: boolean;
}

/** The workloads of {@link ConsulMeshArgs}. */
export interface WorkloadsArgs {
  /** An image with Node.js for the demo services (e.g. the gateway image). */
  appImage: pulumi.Input<string>;
  /** The sidecar image (`SidecarImage.imageRef`, or a published image running `consul connect envoy`). */
  sidecarImage: pulumi.Input<string>;
  /** Host port on 127.0.0.1 of the first service with upstreams (`demoUrl`). Default: `8080`. */
  demoHostPort?: number;
}

/** The mesh model part of the arguments. */
function meshOf(args: ConsulMeshArgs): Mesh {
  const mesh: Mesh = { datacenters: args.datacenters };
  if (args.trustDomain !== undefined) mesh.trustDomain = args.trustDomain;
  if (args.primaryDatacenter !== undefined) mesh.primaryDatacenter = args.primaryDatacenter;
  if (args.proxyDefaults !== undefined) mesh.proxyDefaults = args.proxyDefaults;
  if (args.serviceDefaults !== undefined) mesh.serviceDefaults = args.serviceDefaults;
  if (args.gateways !== undefined) mesh.gateways = args.gateways;
  if (args.services !== undefined) mesh.services = args.services;
  return mesh;
}

/** Problems of the deployment options (subnets, ports, names) against the mesh. */
function optionProblems(args: ConsulMeshArgs, names: string[]): MeshProblem[] {
  const problems: MeshProblem[] = [];
  const subnet = (path: string, value: string) => {
    try {
      checkSubnet(value, path);
    } catch (e) {
      if (!(e instanceof InvalidArgumentError)) throw e;
      problems.push({ path, message: e.reason });
    }
  };
  subnet("wanSubnet", args.wanSubnet ?? DEFAULT_WAN_SUBNET);
  // `id` and `node` describe the instances of a running Consul (consul-mesh plan reads them);
  // ConsulMesh runs one instance of each service and gateway, through its datacenter's agent.
  const instanceFields = (list: { id?: string; node?: string }[] | undefined, at: string, fields: ("id" | "node")[]) =>
    (list ?? []).forEach((item, i) => {
      for (const field of fields) {
        if (item?.[field] !== undefined)
          problems.push({
            path: `${at}[${i}].${field}`,
            message:
              `ConsulMesh runs one instance, registered under its ` +
              `name through the datacenter's agent: remove ${field}`,
          });
      }
    });
  instanceFields(args.gateways, "gateways", ["id", "node"]);
  instanceFields(args.services, "services", ["node"]);
  for (const [dc, value] of Object.entries(args.lanSubnets ?? {})) {
    if (!names.includes(dc))
      problems.push({ path: `lanSubnets.${dc}`, message: `no datacenter named ${JSON.stringify(dc)}` });
    else subnet(`lanSubnets.${dc}`, value);
  }
  const ports = new Map<number, string>();
  [...new Set(names)].forEach((dc, i) => {
    const port = args.httpHostPorts?.[dc] ?? 8500 + i;
    const first = ports.get(port);
    if (first !== undefined)
      problems.push({ path: `httpHostPorts.${dc}`, message: `host port ${port} is already used by ${first}` });
    ports.set(port, dc);
  });
  const demoPort = args.workloads?.demoHostPort;
  if (demoPort !== undefined && (!isPort(demoPort) || ports.has(demoPort))) {
    problems.push({
      path: "workloads.demoHostPort",
      message: `${JSON.stringify(demoPort)} must be a port from 1 to 65535 that no datacenter's HTTP API uses`,
    });
  }
  for (const dc of Object.keys(args.httpHostPorts ?? {})) {
    if (!names.includes(dc))
      problems.push({ path: `httpHostPorts.${dc}`, message: `no datacenter named ${JSON.stringify(dc)}` });
  }
  if (args.routeSource !== undefined && args.routeSource !== "consul" && args.routeSource !== "file") {
    problems.push({
      path: "routeSource",
      message: `${JSON.stringify(args.routeSource)} is not a route source: use "consul" or "file"`,
    });
  }
  if (
    args.routeSource === "file" &&
    typeof args.trustDomain === "string" &&
    clusterIdOf(args.trustDomain) === undefined
  ) {
    problems.push({
      path: "trustDomain",
      message:
        `${JSON.stringify(args.trustDomain)} is not "<uuid>.consul": routes files name the ` +
        `trust domain, so the servers must be pinned to it (connect.ca_config.cluster_id)`,
    });
  }
  return problems;
}

/**
 * The SVG of the mesh's route diagram (`routeDiagramDot`). A mesh with more routes than the diagram
 * draws gets a picture saying so, rather than a failed deployment.
 */
async function routeDiagramSvg(mesh: Mesh, plan: RoutePlan): Promise<string> {
  try {
    return await renderDiagramSvg(routeDiagramDot(mesh, plan));
  } catch (error) {
    if (!(error instanceof DiagramTooLargeError)) throw error;
    return renderDiagramSvg(
      `digraph { "too large" [shape=plaintext, fontname="Helvetica", label=${JSON.stringify(error.message)}]; }`,
    );
  }
}

/** Text in ASCII: the plan's arrows as `->`. */
function ascii(text: string): string {
  return text.replace(/→/g, "->");
}

/** One upstream in a line: source and destination, mode and deciding level, and the gateways crossed. */
function routeSummaryLine(route: PlannedRoute): string {
  const gateways = route.hops.filter((hop) => hop.kind !== "service").map((hop) => `${hop.name} ${hop.datacenter}`);
  return (
    `${route.source.service} (${route.source.datacenter}) -> ${route.destination.name} (${route.destination.datacenter}): ` +
    `${route.mode} (${route.decidedBy}) ${gateways.length > 0 ? `via ${gateways.join(", ")}` : "direct"}`
  );
}

/** A whole Consul mesh with gateways across datacenters, on Docker. */
export class ConsulMesh extends pulumi.ComponentResource {
  /** The validated mesh model. */
  readonly mesh: Mesh;
  /** The route plan of every upstream (mode, deciding level, SNI name, hops). */
  readonly routePlan: pulumi.Output<RoutePlan>;
  /**
   * The route plan as a readable table (`pulumi stack output routePlanText`), in ASCII: a preview
   * shows the first 150 bytes of each line, and a cut through a multi-byte arrow shows as escapes.
   */
  readonly routePlanText: pulumi.Output<string>;
  /** One short ASCII line per upstream, as a preview shows it whole: `web (dc1) -> api (dc2): remote (upstream) via ...`. */
  readonly routeSummary: pulumi.Output<string[]>;
  /**
   * The route plan as a diagram, an SVG document: datacenters, gateways with their LAN and WAN
   * addresses, and each upstream's path coloured by its mode (`routeDiagramDot`). For a mesh of more
   * than `DEFAULT_MAX_ROUTES` routes, a picture of the `DiagramTooLargeError` message instead.
   */
  readonly routeDiagramSvg: pulumi.Output<string>;
  /** The WAN federation (more than one datacenter). */
  readonly wan?: WanFederation;
  /** The datacenters, by name. */
  readonly datacenters: Record<string, Datacenter>;
  /** `proxy-defaults`, when declared. */
  readonly proxyDefaults?: ProxyDefaults;
  /** `service-defaults`, by service name. */
  readonly serviceDefaults: Record<string, ServiceDefaults>;
  /** The mesh gateways, in declaration order. */
  readonly gateways: MeshGateway[];
  /** The connect services, in declaration order. */
  readonly services: ConnectService[];
  /** The routes file of each gateway in file mode, by `<datacenter>/<gateway name>`. */
  readonly routesFiles: Record<string, RoutesFile>;
  /** The `service-intentions` entries, by destination (ACLs on and `allowDeclaredUpstreams`). */
  readonly intentions: Record<string, ServiceIntentions>;
  /** The workloads, by `<datacenter>/<service ID>` (with `workloads`). */
  readonly workloads: Record<string, Workload>;
  /**
   * The demo service of the first service with upstreams, on this host: it answers with what each
   * upstream returned and the mode and path the plan gives it (with `workloads`).
   */
  readonly demoUrl?: string;

  constructor(name: string, args: ConsulMeshArgs, opts?: pulumi.ComponentResourceOptions) {
    // Validate everything before anything exists: every problem in one error.
    const mesh = meshOf(args);
    const problems = validateMesh(mesh);
    const names = Array.isArray(mesh.datacenters) ? mesh.datacenters.map((dc) => dc.name) : [];
    problems.push(...optionProblems(args, names));
    if (problems.length > 0) throw new MeshValidationError(problems, `mesh of ConsulMesh ${JSON.stringify(name)}`);

    // Placement: where each gateway sits, and the routes files (rendered now, so that a
    // missing address fails here rather than inside an apply).
    const routeSource = args.routeSource ?? "consul";
    const wanSubnet = args.wanSubnet ?? DEFAULT_WAN_SUBNET;
    const federated = names.length > 1;
    const lanSubnetOf = (dc: string) => args.lanSubnets?.[dc] ?? defaultLanSubnet(names.indexOf(dc));
    const gateways = mesh.gateways ?? [];
    const slotOf = gateways.map((gw, i) => gateways.slice(0, i).filter((g) => g.datacenter === gw.datacenter).length);
    const routesFiles: Record<string, RoutesFile> = {};
    if (routeSource === "file") {
      for (const dc of new Set(gateways.map((gw) => gw.datacenter))) {
        const file = renderGatewayRoutes(mesh, dc, {
          resolveAddress: (target) => {
            if (target.kind !== "gateway" || target.endpoint.address) return undefined;
            const i = gateways.indexOf(target.gateway);
            const address = federated
              ? wanGatewayAddress(wanSubnet, names.indexOf(target.gateway.datacenter), slotOf[i])
              : lanGatewayAddress(lanSubnetOf(target.gateway.datacenter), slotOf[i]);
            return { address, port: target.endpoint.port };
          },
        });
        for (const gw of gateways.filter((g) => g.datacenter === dc))
          routesFiles[`${dc}/${gw.name ?? "mesh-gateway"}`] = file;
      }
    }

    super("consul-mesh:index:ConsulMesh", name, {}, opts);
    this.mesh = mesh;
    this.routesFiles = routesFiles;
    const plan = planRoutes(mesh);
    this.routePlan = pulumi.output(plan);
    this.routePlanText = pulumi.output(ascii(formatRoutePlan(plan)));
    this.routeSummary = pulumi.output(plan.routes.map(routeSummaryLine));
    this.routeDiagramSvg = pulumi.output(routeDiagramSvg(mesh, plan));
    const prefix = args.resourcePrefix ?? "consul-mesh";
    const primary = primaryDatacenterOf(mesh) as string;

    if (federated) {
      this.wan = new WanFederation(
        `${name}-wan`,
        {
          datacenters: mesh.datacenters.map((dc) => ({
            name: dc.name,
            primaryDatacenter: dc.primaryDatacenter,
            servers: dc.servers,
          })),
          primaryDatacenter: primary,
          subnet: wanSubnet,
          resourcePrefix: prefix,
        },
        { parent: this },
      );
    }

    // The servers are pinned to the model's trust domain (when it has Consul's form), so that
    // the route plan's SNI names and the routes files are the ones Consul's proxies use.
    const trustDomain = mesh.trustDomain ?? DEFAULT_TRUST_DOMAIN;
    const pinnedTrustDomain = clusterIdOf(trustDomain) ? trustDomain : undefined;

    let token = args.initialManagementToken;
    if (token === undefined && mesh.datacenters.some((dc) => dc.acl?.enabled)) {
      token = new GeneratedToken(`${name}-management-token`, { parent: this }).value;
    }

    this.datacenters = {};
    mesh.datacenters.forEach((spec, i) => {
      this.datacenters[spec.name] = new Datacenter(
        `${name}-${spec.name}`,
        {
          datacenter: spec,
          primaryDatacenter: primary,
          image: args.consulImage,
          pullImage: args.pullConsulImage,
          resourcePrefix: prefix,
          lanSubnet: lanSubnetOf(spec.name),
          wan: this.wan?.attachment(spec.name),
          httpHostPort: args.httpHostPorts?.[spec.name] ?? 8500 + i,
          initialManagementToken: spec.acl?.enabled ? token : undefined,
          trustDomain: pinnedTrustDomain,
        },
        { parent: this },
      );
    });
    const primaryProvider = this.datacenters[primary].provider;
    // What Consul holds lives in the servers' data volumes: once a datacenter's volume goes, so has
    // everything written there, and destroy need not (and, with the servers gone, could not) delete it.
    const stateOf = (dc: string) => this.datacenters[dc].dataVolumes[0];
    const inPrimary = { parent: this, deletedWith: stateOf(primary) };

    if (mesh.proxyDefaults) {
      const pd = mesh.proxyDefaults;
      this.proxyDefaults = new ProxyDefaults(
        `${name}-proxy-defaults`,
        { name: pd.name, meshGateway: pd.meshGateway, config: pd.config, provider: primaryProvider },
        inPrimary,
      );
    }

    this.serviceDefaults = {};
    for (const sd of mesh.serviceDefaults ?? []) {
      this.serviceDefaults[sd.name] = new ServiceDefaults(
        `${name}-service-defaults-${sd.name}`,
        { service: sd.name, protocol: sd.protocol, meshGateway: sd.meshGateway, provider: primaryProvider },
        inPrimary,
      );
    }

    const gatewayImage = args.gatewayImage ?? DEFAULT_GATEWAY_IMAGE_NAME;
    this.gateways = gateways.map((gw, i) => {
      const serviceName = gw.name ?? "mesh-gateway";
      const lanAddress = gw.taggedAddresses?.lan?.address ?? gw.address;
      const wanAddress = gw.taggedAddresses?.wan?.address ?? (federated ? undefined : gw.address);
      // A host name in the model is an alias of the containers; Consul is given their IP
      // addresses, since Envoy sidecars take no host name from EDS.
      const hostNames = [lanAddress, wanAddress].filter((a): a is string => !!a && !isIpAddress(a));
      const registered = (a: string | undefined) => (a && isIpAddress(a) ? a : undefined);
      const aliases = [...new Set([`${serviceName}-${gw.datacenter}`, ...hostNames])].sort();
      const dcName = gw.datacenter;
      return new MeshGateway(
        `${name}-gateway-${dcName}-${serviceName}`,
        {
          datacenter: this.datacenters[dcName],
          aclProvider: primaryProvider,
          wan: this.wan,
          image: gatewayImage,
          serviceName,
          port: gw.port,
          slot: slotOf[i],
          lanAddress: registered(lanAddress),
          wanAddress: registered(wanAddress),
          aliases,
          proxyConfig: gw.proxyConfig,
          trustDomain: mesh.trustDomain,
          routes:
            routeSource === "file"
              ? { source: "file", routes: routesFiles[`${dcName}/${serviceName}`] }
              : { source: "consul" },
          resourcePrefix: prefix,
          consulState: stateOf(primary),
        },
        { parent: this },
      );
    });

    this.intentions = {};
    if (mesh.datacenters.some((dc) => dc.acl?.enabled) && args.allowDeclaredUpstreams !== false) {
      for (const { destination, sources } of declaredIntentions(mesh)) {
        this.intentions[destination] = new ServiceIntentions(
          `${name}-intentions-${destination}`,
          {
            destination,
            sources: sources.map((source) => ({ name: source, action: "allow" })),
            provider: primaryProvider,
          },
          inPrimary,
        );
      }
    }

    const workloads = args.workloads
      ? planWorkloads(mesh, plan, lanSubnetOf, args.workloads.demoHostPort ?? DEFAULT_DEMO_HOST_PORT)
      : [];
    const workloadOf = new Map(workloads.map((w) => [w.index, w]));
    this.workloads = {};
    this.services = (mesh.services ?? []).map((service, index) => {
      const scope = [
        service.partition !== DEFAULT_PARTITION && service.partition,
        service.namespace !== DEFAULT_NAMESPACE && service.namespace,
      ]
        .filter(Boolean)
        .join("-");
      const id = service.id ?? service.name;
      const workload = workloadOf.get(index);
      const registered = new ConnectService(
        `${name}-service-${service.datacenter}-${scope ? `${scope}-` : ""}${id}`,
        {
          service: workload ? { ...service, address: workload.lanAddress } : service,
          datacenter: this.datacenters[service.datacenter],
        },
        { parent: this, deletedWith: stateOf(service.datacenter) },
      );
      if (workload && args.workloads) {
        const networks = [
          ...(this.wan ? [this.wan.networkName] : []),
          ...names.filter((dc) => dc !== service.datacenter).map((dc) => this.datacenters[dc].lanNetworkName),
        ];
        this.workloads[`${service.datacenter}/${id}`] = new Workload(
          `${name}-workload-${service.datacenter}-${scope ? `${scope}-` : ""}${id}`,
          {
            serviceId: workload.serviceId,
            serviceName: workload.serviceName,
            port: workload.port,
            datacenter: this.datacenters[service.datacenter],
            lanAddress: workload.lanAddress,
            aliases: workload.aliases,
            otherNetworks: networks,
            appImage: args.workloads.appImage,
            sidecarImage: args.workloads.sidecarImage,
            upstreams: workload.upstreams,
            hostPort: workload.hostPort,
            registration: registered.registration,
            resourcePrefix: prefix,
          },
          // The sidecars need the gateways (their upstreams' paths) and the intentions.
          { parent: this, dependsOn: [...this.gateways, ...Object.values(this.intentions)] },
        );
      }
      return registered;
    });
    const published = workloads.find((w) => w.hostPort !== undefined);
    if (published) this.demoUrl = `http://127.0.0.1:${published.hostPort}/`;

    this.registerOutputs({
      routePlan: this.routePlan,
      routePlanText: this.routePlanText,
      routeSummary: this.routeSummary,
      routeDiagramSvg: this.routeDiagramSvg,
      datacenters: names,
      demoUrl: this.demoUrl,
    });
  }
}
