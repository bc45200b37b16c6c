/**
 * What `ConsulMesh` creates (pure: no Pulumi): the WAN federation, the datacenters, the config
 * entries, the gateways with their address slots and routes files, the intentions, the connect
 * services and the workloads behind them, each with its resource name and plain arguments, in
 * the order they are created; and the route plan as data, a table and summary lines.
 */
import {
  clusterIdOf,
  DEFAULT_GATEWAY_NAME,
  DEFAULT_GATEWAY_PORT,
  DEFAULT_NAMESPACE,
  DEFAULT_PARTITION,
  DEFAULT_TRUST_DOMAIN,
  gatewayRegistrationAddresses,
  planRoutes,
  primaryDatacenterOf,
  renderGatewayRoutes,
  type Mesh,
  type MeshGatewayConfig,
  type MeshService,
  type RoutePlan,
  type RoutesFile,
  securityOf,
  type IntentionEntry,
} from "../../mesh";
import {
  DEFAULT_WAN_SUBNET,
  defaultLanSubnet,
  isIpAddress,
  lanGatewayAddress,
  wanGatewayAddress,
} from "./address-plan";
import {
  DEFAULT_DEMO_HOST_PORT,
  httpHostPortOf,
  intentionEntriesOf,
  meshOf,
  type ConsulMeshPlanArgs,
} from "./consul-mesh-args";
import type { DatacenterPlanArgs } from "./datacenter-plan";
import { DEFAULT_RESOURCE_PREFIX } from "./docker-plan";
import { gatewayAlias, type MeshGatewayPlanArgs } from "./mesh-gateway-plan";
import { routePlanText, routeSummary } from "./route-plan-outputs";
import type { WanFederationArgs } from "./wan-federation-plan";
import { planWorkloads, type WorkloadPlanArgs } from "./workload-plan";

/** A child component to create: its resource name and plain arguments. */
export interface Planned<A> {
  /** The resource name. */
  resourceName: string;
  /** The arguments (the placer adds providers, images, tokens and other resources). */
  args: A;
}

/**
 * A datacenter of the mesh; the placer adds the image, the WAN attachment, the token and, when
 * the plan pins the servers ({@link ConsulMeshPlan.pinsServers}), the trust domain.
 */
export interface PlannedDatacenter extends Planned<
  Omit<DatacenterPlanArgs, "wan" | "initialManagementToken" | "trustDomain" | "ca" | "gossipKey" | "primaryGateways">
> {
  /** Whether it enables ACLs (then it gets the mesh's management token). */
  aclEnabled: boolean;
  /** Whether it enables TLS (then it gets the mesh's CA). */
  tls: boolean;
  /** Whether it enables gossip encryption (then it gets the mesh's key). */
  gossipEncryption: boolean;
}

/**
 * A gateway of the mesh; the placer adds its datacenter, the WAN, the image, the Consul state
 * and the trust domain.
 */
export interface PlannedMeshGateway extends Planned<
  Omit<MeshGatewayPlanArgs<string>, "datacenter" | "wan" | "routes" | "trustDomain">
> {
  /** Its datacenter's name. */
  datacenter: string;
  /** Its route source; in file mode, its routes file's key in {@link RoutesOfTrustDomain.routesFiles}. */
  routes: { source: "consul" } | { source: "file"; file: string };
}

/** What names the trust domain: the route plan (its SNI names), its table, and the routes files. */
export interface RoutesOfTrustDomain {
  /** The route plan of every upstream. */
  routePlan: RoutePlan;
  /** The route plan as a table, in ASCII. */
  routePlanText: string;
  /** The routes file of each gateway in file mode, by `<datacenter>/<gateway name>`. */
  routesFiles: Record<string, RoutesFile>;
}

/** A connect service of the mesh, and the workload behind it. */
export interface PlannedConnectService {
  /** Resource name of the `ConnectService`. */
  resourceName: string;
  /** Its datacenter's name. */
  datacenter: string;
  /** The service to register (at its workload's address, with a workload). */
  service: MeshService;
  /** The workload behind it (with `workloads`); the placer adds datacenter, images, networks and registration. */
  workload?: Planned<Omit<WorkloadPlanArgs, "datacenter">> & {
    /** Its key in `ConsulMesh.workloads`: `<datacenter>/<service ID>`. */
    key: string;
    /** The other datacenters, whose LANs it joins (as well as the WAN, with a federation). */
    otherDatacenters: string[];
  };
}

/** What a mesh creates, in the order it creates it. */
export interface ConsulMeshPlan {
  /** The mesh model part of the arguments. */
  mesh: Mesh;
  /** The datacenters' names, in declaration order. */
  datacenterNames: string[];
  /** The primary datacenter, where the config entries, intentions and ACLs are written. */
  primary: string;
  /** The trust domain given (`trustDomain`). Default: none, and one is drawn ({@link generatedTrustDomain}). */
  trustDomain?: string;
  /**
   * Resource name of the trust domain to draw once and keep in the stack (a `<uuid>.consul`):
   * none given.
   */
  generatedTrustDomain?: string;
  /**
   * Whether the servers are pinned to the trust domain (`connect.ca_config.cluster_id`): always
   * when it is drawn; when given, if it has Consul's form `<uuid>.consul`.
   */
  pinsServers: boolean;
  /**
   * What names the trust domain, for the mesh's (the given one, or the drawn one once known).
   * Rendered once when the plan is made, so that a missing address fails before any resource exists.
   * @param trustDomain - The mesh's trust domain.
   */
  routesOf(trustDomain: string): RoutesOfTrustDomain;
  /** One ASCII line per upstream (no trust domain in them: known at the first preview). */
  routeSummary: string[];
  /** The WAN federation (more than one datacenter). */
  wan?: Planned<WanFederationArgs>;
  /**
   * With WAN federation through the gateways: the primary's gateways as the secondaries' servers
   * reach them, `<alias>:<port>` on their own LAN (the primary's gateways join it), their
   * `primary_gateways`. Default: none.
   */
  primaryGateways?: string[];
  /** Resource name of the management token to generate: ACLs somewhere and none given. */
  generatedToken?: string;
  /** Resource name of the mesh's CA, which signs every datacenter's servers: TLS somewhere. */
  certificateAuthority?: string;
  /** Resource name of the mesh's gossip key, shared by every datacenter: gossip encryption somewhere. */
  gossipKey?: string;
  /** The datacenters. */
  datacenters: PlannedDatacenter[];
  /** `proxy-defaults`, when declared. */
  proxyDefaults?: Planned<{ name: string; meshGateway?: MeshGatewayConfig; config?: Record<string, unknown> }>;
  /** `service-defaults`, in declaration order. */
  serviceDefaults: Planned<{ service: string; protocol?: string; meshGateway?: MeshGatewayConfig }>[];
  /** The gateways, in declaration order. */
  gateways: PlannedMeshGateway[];
  /** The `service-intentions` entries: those given, and the declared upstreams' (ACLs on and `allowDeclaredUpstreams`). */
  intentions: Planned<IntentionEntry>[];
  /** The connect services, in declaration order. */
  services: PlannedConnectService[];
  /** The demo service of the first service with upstreams (with `workloads`). */
  demoUrl?: string;
}

/** Where things sit: the datacenters' names and subnets, and each gateway's address slot. */
interface Layout {
  names: string[];
  federated: boolean;
  wanSubnet: string;
  lanSubnetOf: (datacenter: string) => string;
  /** The slot of each gateway among its datacenter's, by index in `mesh.gateways`. */
  slotOf: number[];
}

function layoutOf(args: ConsulMeshPlanArgs, mesh: Mesh): Layout {
  const names = mesh.datacenters.map((dc) => dc.name);
  const gateways = mesh.gateways ?? [];
  return {
    names,
    federated: names.length > 1,
    wanSubnet: args.wanSubnet ?? DEFAULT_WAN_SUBNET,
    lanSubnetOf: (dc) => args.lanSubnets?.[dc] ?? defaultLanSubnet(names.indexOf(dc)),
    slotOf: gateways.map((gw, i) => gateways.slice(0, i).filter((g) => g.datacenter === gw.datacenter).length),
  };
}

/** The key of a gateway's routes file: `<datacenter>/<gateway name>`. */
function routesFileKey(gw: { datacenter: string; name?: string }): string {
  return `${gw.datacenter}/${gw.name ?? DEFAULT_GATEWAY_NAME}`;
}

/**
 * The routes file of each gateway in file mode, by `<datacenter>/<gateway name>`: one per
 * datacenter, naming the other gateways by the addresses of their slots.
 */
function routesFilesOf(mesh: Mesh, layout: Layout): Record<string, RoutesFile> {
  const gateways = mesh.gateways ?? [];
  const routesFiles: Record<string, RoutesFile> = {};
  for (const dc of new Set(gateways.map((gw) => gw.datacenter))) {
    const file = renderGatewayRoutes(mesh, dc, {
      resolveAddress: (target) => {
        if (target.kind !== "gateway" || target.endpoint.address) return undefined;
        const slot = layout.slotOf[gateways.indexOf(target.gateway)];
        const address = layout.federated
          ? wanGatewayAddress(layout.wanSubnet, layout.names.indexOf(target.gateway.datacenter), slot)
          : lanGatewayAddress(layout.lanSubnetOf(target.gateway.datacenter), slot);
        return { address, port: target.endpoint.port };
      },
    });
    for (const gw of gateways.filter((g) => g.datacenter === dc)) routesFiles[routesFileKey(gw)] = file;
  }
  return routesFiles;
}

/** The `i`-th gateway of the mesh. */
function planGateway(
  name: string,
  args: ConsulMeshPlanArgs,
  mesh: Mesh,
  layout: Layout,
  i: number,
): PlannedMeshGateway {
  const gw = (mesh.gateways ?? [])[i];
  const serviceName = gw.name ?? DEFAULT_GATEWAY_NAME;
  // Registered as the one rule says (`gatewayRegistrationAddresses`). A WAN address the model
  // leaves out is the container's WAN IP when federated (the plan, knowing none, shows the LAN
  // one), else the LAN address.
  const declared = gatewayRegistrationAddresses(gw);
  const lanAddress = declared.address;
  const wanAddress = declared.wan?.address ?? (layout.federated ? undefined : declared.address);
  // A host name in the model is an alias of the containers; Consul is given their IP
  // addresses, since Envoy sidecars take no host name from EDS.
  const hostNames = [lanAddress, wanAddress].filter((a): a is string => !!a && !isIpAddress(a));
  const registered = (a: string | undefined) => (a && isIpAddress(a) ? a : undefined);
  return {
    resourceName: `${name}-gateway-${gw.datacenter}-${serviceName}`,
    datacenter: gw.datacenter,
    args: {
      serviceName,
      port: gw.port,
      slot: layout.slotOf[i],
      lanAddress: registered(lanAddress),
      wanAddress: registered(wanAddress),
      aliases: [...new Set([gatewayAlias(serviceName, gw.datacenter), ...hostNames])].sort(),
      proxyConfig: gw.proxyConfig,
      resourcePrefix: args.resourcePrefix ?? DEFAULT_RESOURCE_PREFIX,
    },
    routes: args.routeSource === "file" ? { source: "file", file: routesFileKey(gw) } : { source: "consul" },
  };
}

/** The connect services, each with the workload behind it (with `workloads`), and the demo's URL. */
function planServices(name: string, args: ConsulMeshPlanArgs, mesh: Mesh, routePlan: RoutePlan, layout: Layout) {
  const workloads = args.workloads
    ? planWorkloads(mesh, routePlan, layout.lanSubnetOf, args.workloads.demoHostPort ?? DEFAULT_DEMO_HOST_PORT)
    : [];
  const workloadOf = new Map(workloads.map((w) => [w.index, w]));
  const published = workloads.find((w) => w.hostPort !== undefined);
  const services = (mesh.services ?? []).map((service, index): PlannedConnectService => {
    const scope = [
      service.partition !== DEFAULT_PARTITION && service.partition,
      service.namespace !== DEFAULT_NAMESPACE && service.namespace,
    ]
      .filter(Boolean)
      .join("-");
    const id = service.id ?? service.name;
    const suffix = `${service.datacenter}-${scope ? `${scope}-` : ""}${id}`;
    const planned = { resourceName: `${name}-service-${suffix}`, datacenter: service.datacenter, service };
    const workload = workloadOf.get(index);
    if (!workload) return planned;
    const { index: _index, datacenter: _datacenter, ...workloadArgs } = workload;
    return {
      ...planned,
      service: { ...service, address: workload.lanAddress },
      workload: {
        key: `${service.datacenter}/${id}`,
        resourceName: `${name}-workload-${suffix}`,
        otherDatacenters: layout.names.filter((dc) => dc !== service.datacenter),
        args: { ...workloadArgs, resourcePrefix: args.resourcePrefix ?? DEFAULT_RESOURCE_PREFIX },
      },
    };
  });
  return { services, demoUrl: published && `http://127.0.0.1:${published.hostPort}/` };
}

/** The primary's gateways, `<alias>:<port>`, as the secondaries' servers reach them on their LAN. */
function primaryGatewaysOf(mesh: Mesh, primary: string): string[] {
  return (mesh.gateways ?? [])
    .filter((gw) => gw.datacenter === primary)
    .map((gw) => `${gatewayAlias(gw.name ?? DEFAULT_GATEWAY_NAME, primary)}:${gw.port ?? DEFAULT_GATEWAY_PORT}`);
}

/** The WAN federation of a mesh of more than one datacenter. */
function planWan(name: string, args: ConsulMeshPlanArgs, mesh: Mesh, layout: Layout): ConsulMeshPlan["wan"] {
  if (!layout.federated) return undefined;
  return {
    resourceName: `${name}-wan`,
    args: {
      datacenters: mesh.datacenters.map((dc) => ({
        name: dc.name,
        primaryDatacenter: dc.primaryDatacenter,
        servers: dc.servers,
      })),
      primaryDatacenter: primaryDatacenterOf(mesh) as string,
      subnet: layout.wanSubnet,
      resourcePrefix: args.resourcePrefix ?? DEFAULT_RESOURCE_PREFIX,
      ...(mesh.wanFederation?.mode ? { mode: mesh.wanFederation.mode } : {}),
    },
  };
}

/** The datacenters. */
function planDatacenters(name: string, args: ConsulMeshPlanArgs, mesh: Mesh, layout: Layout): PlannedDatacenter[] {
  return mesh.datacenters.map((spec, i) => ({
    resourceName: `${name}-${spec.name}`,
    aclEnabled: securityOf(spec).acl,
    tls: securityOf(spec).tls,
    gossipEncryption: securityOf(spec).gossipEncryption,
    args: {
      datacenter: spec,
      primaryDatacenter: primaryDatacenterOf(mesh) as string,
      pullImage: args.pullConsulImage,
      resourcePrefix: args.resourcePrefix ?? DEFAULT_RESOURCE_PREFIX,
      lanSubnet: layout.lanSubnetOf(spec.name),
      httpHostPort: httpHostPortOf(args, spec.name, i),
    },
  }));
}

/** The config entries: `proxy-defaults` and `service-defaults` as declared, and the intentions. */
function planConfigEntries(name: string, args: ConsulMeshPlanArgs, mesh: Mesh) {
  const pd = mesh.proxyDefaults;
  return {
    proxyDefaults: pd && {
      resourceName: `${name}-proxy-defaults`,
      args: { name: pd.name, meshGateway: pd.meshGateway, config: pd.config },
    },
    serviceDefaults: (mesh.serviceDefaults ?? []).map((sd) => ({
      resourceName: `${name}-service-defaults-${sd.name}`,
      args: { service: sd.name, protocol: sd.protocol, meshGateway: sd.meshGateway },
    })),
    intentions: intentionEntriesOf(args, mesh).map((entry) => ({
      resourceName: `${name}-intentions-${entry.destination}`,
      args: entry,
    })),
  };
}

/**
 * What a mesh creates, for arguments without problems (`consulMeshProblems`). Routes files
 * are rendered here, so that a missing address fails before any resource exists.
 * @param name - The component's name, which its children's names start with.
 * @param args - The arguments.
 */
export function planConsulMesh(name: string, args: ConsulMeshPlanArgs): ConsulMeshPlan {
  const mesh = meshOf(args);
  const layout = layoutOf(args, mesh);
  const render = (trustDomain: string): RoutesOfTrustDomain => {
    const routePlan = planRoutes({ ...mesh, trustDomain });
    const routesFiles = args.routeSource === "file" ? routesFilesOf({ ...mesh, trustDomain }, layout) : {};
    return { routePlan, routePlanText: routePlanText(routePlan), routesFiles };
  };
  // The routes but for the trust domain in their SNI names (a drawn one is not known yet),
  // rendered now so that a missing address fails here.
  const known = mesh.trustDomain ?? DEFAULT_TRUST_DOMAIN;
  const first = render(known);
  const routesOf = (trustDomain: string) => (trustDomain === known ? first : render(trustDomain));
  const routePlan = first.routePlan;
  const acl = mesh.datacenters.some((dc) => securityOf(dc).acl);
  const anywhere = (key: "tls" | "gossipEncryption") => mesh.datacenters.some((dc) => securityOf(dc)[key]);
  return {
    mesh,
    datacenterNames: layout.names,
    primary: primaryDatacenterOf(mesh) as string,
    trustDomain: mesh.trustDomain,
    generatedTrustDomain: mesh.trustDomain === undefined ? `${name}-trust-domain` : undefined,
    // Pinned, the route plan's SNI names and the routes files are the ones Consul's proxies use.
    pinsServers: mesh.trustDomain === undefined || clusterIdOf(mesh.trustDomain) !== undefined,
    routesOf,
    routeSummary: routeSummary(routePlan),
    wan: planWan(name, args, mesh, layout),
    ...(layout.federated && mesh.wanFederation?.mode === "mesh-gateways"
      ? { primaryGateways: primaryGatewaysOf(mesh, primaryDatacenterOf(mesh) as string) }
      : {}),
    generatedToken: acl && args.initialManagementToken === undefined ? `${name}-management-token` : undefined,
    certificateAuthority: anywhere("tls") ? `${name}-ca` : undefined,
    gossipKey: anywhere("gossipEncryption") ? `${name}-gossip-key` : undefined,
    datacenters: planDatacenters(name, args, mesh, layout),
    ...planConfigEntries(name, args, mesh),
    gateways: (mesh.gateways ?? []).map((_, i) => planGateway(name, args, mesh, layout, i)),
    ...planServices(name, args, mesh, routePlan, layout),
  };
}
