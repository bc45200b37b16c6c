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
  type RoutePlan,
  type RoutesFile,
} from "../mesh";
import { renderDiagramSvg } from "../plan/diagram-svg";
import { InvalidArgumentError } from "./errors";
import {
  checkSubnet,
  DEFAULT_WAN_SUBNET,
  defaultLanSubnet,
  lanGatewayAddress,
  wanGatewayAddress,
} from "./address-plan";
import { ConnectService } from "./connect-service";
import { Datacenter } from "./datacenter";
import { GeneratedToken } from "./generated-token";
import { DEFAULT_GATEWAY_IMAGE_NAME } from "./gateway-image";
import { MeshGateway } from "./mesh-gateway";
import { ProxyDefaults } from "./proxy-defaults";
import { ServiceDefaults } from "./service-defaults";
import { WanFederation } from "./wan-federation";

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

/** A whole Consul mesh with gateways across datacenters, on Docker. */
export class ConsulMesh extends pulumi.ComponentResource {
  /** The validated mesh model. */
  readonly mesh: Mesh;
  /** The route plan of every upstream (mode, deciding level, SNI name, hops). */
  readonly routePlan: pulumi.Output<RoutePlan>;
  /** The route plan as a readable table. */
  readonly routePlanText: pulumi.Output<string>;
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
    this.routePlanText = pulumi.output(formatRoutePlan(plan));
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

    if (mesh.proxyDefaults) {
      const pd = mesh.proxyDefaults;
      this.proxyDefaults = new ProxyDefaults(
        `${name}-proxy-defaults`,
        { name: pd.name, meshGateway: pd.meshGateway, config: pd.config, provider: primaryProvider },
        { parent: this },
      );
    }

    this.serviceDefaults = {};
    for (const sd of mesh.serviceDefaults ?? []) {
      this.serviceDefaults[sd.name] = new ServiceDefaults(
        `${name}-service-defaults-${sd.name}`,
        { service: sd.name, protocol: sd.protocol, meshGateway: sd.meshGateway, provider: primaryProvider },
        { parent: this },
      );
    }

    const gatewayImage = args.gatewayImage ?? DEFAULT_GATEWAY_IMAGE_NAME;
    this.gateways = gateways.map((gw, i) => {
      const serviceName = gw.name ?? "mesh-gateway";
      const lanAddress = gw.taggedAddresses?.lan?.address ?? gw.address;
      const wanAddress = gw.taggedAddresses?.wan?.address ?? (federated ? undefined : gw.address);
      const hostNames = [lanAddress, wanAddress].filter(
        (a): a is string => !!a && !/^[\d.]+$/.test(a) && !a.includes(":"),
      );
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
          lanAddress,
          wanAddress,
          aliases,
          proxyConfig: gw.proxyConfig,
          trustDomain: mesh.trustDomain,
          routes:
            routeSource === "file"
              ? { source: "file", routes: routesFiles[`${dcName}/${serviceName}`] }
              : { source: "consul" },
          resourcePrefix: prefix,
        },
        { parent: this },
      );
    });

    this.services = (mesh.services ?? []).map((service) => {
      const scope = [
        service.partition !== DEFAULT_PARTITION && service.partition,
        service.namespace !== DEFAULT_NAMESPACE && service.namespace,
      ]
        .filter(Boolean)
        .join("-");
      const id = service.id ?? service.name;
      return new ConnectService(
        `${name}-service-${service.datacenter}-${scope ? `${scope}-` : ""}${id}`,
        { service, datacenter: this.datacenters[service.datacenter] },
        { parent: this },
      );
    });

    this.registerOutputs({
      routePlan: this.routePlan,
      routePlanText: this.routePlanText,
      routeDiagramSvg: this.routeDiagramSvg,
      datacenters: names,
    });
  }
}
