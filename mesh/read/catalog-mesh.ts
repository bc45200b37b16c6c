/**
 * What a live Consul answers, as a {@link MeshFragment}: every datacenter, the connect proxies with
 * their upstreams and modes, the application services they front, the mesh gateways with their
 * LAN and WAN addresses and health, and the `proxy-defaults` and `service-defaults` entries. Pure:
 * `consul/live-consul.ts` fetches the answers.
 *
 * Consul's agent writes the modes the config entries resolve to into each proxy's registration
 * before the catalog sees it (hashicorp/consul `agent/configentry/merge_service_config.go`): with
 * only `proxy-defaults` saying `local`, the catalog shows the proxy with `MeshGateway.Mode = "local"`
 * and every upstream with that mode too. So that the plan names the level that decided, a mode
 * equal to the one the level below gives is read as inherited from it. A registration that repeats
 * the mode of the level below is therefore attributed to that level; the mode in force is the same.
 */
import { isObject, listOf } from "../model/guards";
import { emptyMesh, emptyOrigins, type MeshFragment, type SourceProblem } from "../model/mesh-fragment";
import {
  fromServiceRegistration,
  type ProxyJson,
  type RegistrableService,
  type UpstreamJson,
} from "../render/registration";
import { bestAddress, catalogAddresses } from "../model/gateway-address";
import type {
  Mesh,
  MeshGatewaySpec,
  MeshService,
  Mode,
  ProxyDefaultsEntry,
  ServiceDefaultsEntry,
} from "../model/types";

/** One check of a health entry (`Checks[]`). */
export interface HealthCheckJson {
  /** Check ID, e.g. `serfHealth` (the node's) or `service:mesh-gateway`. */
  CheckID: string;
  /** Check name. Default: none. */
  Name?: string;
  /** `passing`, `warning` or `critical`; any other value counts as `critical`. */
  Status: string;
  /** The instance it checks; `""` for a node check. Default: `""`. */
  ServiceID?: string;
}

/** `Node` of a health entry. */
export interface CatalogNodeJson {
  /** Node name. */
  Node: string;
  /** Node address. */
  Address: string;
  /** The node's `lan` and `wan` addresses (plain strings here). Default: none. */
  TaggedAddresses?: Record<string, string> | null;
}

/** An address and port of `Service.TaggedAddresses`. */
export interface TaggedAddressJson {
  /** IP address or host name. */
  Address: string;
  /** Port; `0` means the service's port. */
  Port: number;
}

/** One element of `Service.Proxy.Upstreams` as the catalog returns it. */
export interface CatalogUpstreamJson {
  /** `service` or `prepared_query` (which cannot be planned). Default: `service`. */
  DestinationType?: string;
  /** The service, or the prepared query's name. */
  DestinationName: string;
  /** Enterprise namespace; `""` means the proxy's. Default: the proxy's. */
  DestinationNamespace?: string;
  /** Enterprise admin partition; `""` means the proxy's. Default: the proxy's. */
  DestinationPartition?: string;
  /** Cluster peer of the destination (not planned). Default: none. */
  DestinationPeer?: string;
  /** Datacenter; Consul 1.16 returns `""` when the registration names none (the proxy's own). */
  Datacenter?: string;
  /** The sidecar's listener address for this upstream. Default: Consul's `127.0.0.1`. */
  LocalBindAddress?: string;
  /** The sidecar's listener port for this upstream. */
  LocalBindPort?: number;
  /** The mode in force for this upstream, as the agent merged it (see the module note). Default: none. */
  MeshGateway?: { Mode?: string };
}

/** `Service.Proxy` as the catalog returns it (also present, empty, on typical services). */
export interface CatalogProxyJson {
  /** The service a connect proxy fronts. */
  DestinationServiceName?: string;
  /** The instance it fronts. Default: none. */
  DestinationServiceID?: string;
  /** Port of the local application. Default: none. */
  LocalServicePort?: number;
  /** The instance's mode, as the agent merged it (see the module note). Default: none. */
  MeshGateway?: { Mode?: string };
  /** The upstreams. Default: none. */
  Upstreams?: CatalogUpstreamJson[] | null;
}

/** `Service` of a health entry: one registered instance. */
export interface CatalogServiceJson {
  /** `connect-proxy`, `mesh-gateway`, another gateway kind, or `""`/missing for a typical service. */
  Kind?: string;
  /** Instance ID, unique on its node. */
  ID: string;
  /** Service name. */
  Service: string;
  /** Tags. Default: none. */
  Tags?: string[] | null;
  /** The instance's address; `""` means its node's. Default: `""`. */
  Address?: string;
  /** `lan`, `wan` and other tagged addresses (a gateway's `wan` is what other datacenters dial). Default: none. */
  TaggedAddresses?: Record<string, TaggedAddressJson> | null;
  /** Metadata. Default: none. */
  Meta?: Record<string, string> | null;
  /** Port. */
  Port: number;
  /** The proxy block. Default: none. */
  Proxy?: CatalogProxyJson | null;
  /** `Connect.Native` marks a Connect-native application. Default: none. */
  Connect?: { Native?: boolean } | null;
  /** Enterprise namespace. Default: `"default"`. */
  Namespace?: string;
  /** Enterprise admin partition. Default: `"default"`. */
  Partition?: string;
}

/** One element of `GET /v1/health/service/:name?dc=X`: an instance, its node and their checks. */
export interface HealthEntryJson {
  /** The node the instance is registered on. */
  Node: CatalogNodeJson;
  /** The instance. */
  Service: CatalogServiceJson;
  /** The node's and the instance's checks. Default: none (counts as passing). */
  Checks?: HealthCheckJson[] | null;
}

/** `GET /v1/config/proxy-defaults/global`. */
export interface ProxyDefaultsReadJson {
  /** `proxy-defaults`. */
  Kind: string;
  /** `global`. */
  Name: string;
  /** The mode for every proxy. Default: none. */
  MeshGateway?: { Mode?: string };
  /** Opaque proxy configuration; Consul returns `null` when unset. Default: none. */
  Config?: Record<string, unknown> | null;
}

/** One element of `GET /v1/config/service-defaults`. */
export interface ServiceDefaultsReadJson {
  /** `service-defaults`. */
  Kind: string;
  /** The service the defaults apply to. */
  Name: string;
  /** Protocol. Default: none. */
  Protocol?: string;
  /** The mode for the proxies of this service. Default: none. */
  MeshGateway?: { Mode?: string };
}

/** What one datacenter's catalog answered. */
export interface CatalogDatacenterAnswers {
  /** The datacenter asked (`?dc=`). */
  datacenter: string;
  /** `GET /v1/health/service/:name?dc=<datacenter>` of every service of its catalog, one list per service. */
  healthEntries: HealthEntryJson[][];
}

/** The Consul answers {@link catalogMeshFragment} reads. */
export interface ConsulCatalogAnswers {
  /** `GET /v1/catalog/datacenters`: every datacenter of the WAN federation. */
  datacenters: string[];
  /** `Config.PrimaryDatacenter` of `GET /v1/agent/self`. Default: unknown. */
  primaryDatacenter?: string;
  /**
   * Whether the agent federates through the mesh gateways (`/v1/agent/self`'s
   * `DebugConfig.ConnectMeshGatewayWANFederationEnabled`). Default: not known (gossip).
   */
  throughGateways?: boolean;
  /** `TrustDomain` of `GET /v1/connect/ca/roots`. Default: unknown. */
  trustDomain?: string;
  /** What each datacenter's catalog answered. */
  perDatacenter: CatalogDatacenterAnswers[];
  /** `GET /v1/config/proxy-defaults/global`. Default: none (Consul answered 404). */
  proxyDefaults?: ProxyDefaultsReadJson;
  /** `GET /v1/config/service-defaults`. Default: none. */
  serviceDefaults?: ServiceDefaultsReadJson[];
}

type GatewayHealth = NonNullable<MeshFragment["gatewayHealth"]>[number];

const HEALTH_ORDER: GatewayHealth[] = ["passing", "warning", "critical"];

/** The worst status of `checks` (critical > warning > passing); no checks is passing, as in Consul. */
function worstStatus(checks: HealthCheckJson[]): GatewayHealth {
  const rank = (status: string) => {
    const known = HEALTH_ORDER.indexOf(status as GatewayHealth);
    return known === -1 ? HEALTH_ORDER.length - 1 : known;
  };
  return HEALTH_ORDER[Math.max(0, ...checks.map((check) => rank(check.Status)))];
}

/** `value` unless it is `""`, `null`, an empty list or an empty object. */
function present<T>(value: T | null | undefined): T | undefined {
  if (value === null || value === "" || (Array.isArray(value) && value.length === 0)) return undefined;
  if (isObject(value) && Object.keys(value).length === 0) return undefined;
  return value;
}

/** `mode` unless it is what the level below gives: then it is read as inherited (see the module note). */
function ownMode(mode: string | undefined, below: string): { Mode: string } | undefined {
  return mode && mode !== below ? { Mode: mode } : undefined;
}

function instanceOrigin(datacenter: string, entry: HealthEntryJson): string {
  return `Consul ${datacenter}: service ${entry.Service.Service} (id ${entry.Service.ID}, node ${entry.Node.Node})`;
}

/** The mode the config entries give the proxies of `service`: its `service-defaults`', else `proxy-defaults`'. */
function centralMode(answers: ConsulCatalogAnswers, service: string | undefined): string {
  const sd = listOf<ServiceDefaultsReadJson>(answers.serviceDefaults).find((entry) => entry.Name === service);
  return sd?.MeshGateway?.Mode || answers.proxyDefaults?.MeshGateway?.Mode || "";
}

/** The upstream in the model's registration form, or a problem when it cannot be planned. */
function upstreamJson(up: CatalogUpstreamJson, inherited: string): UpstreamJson | string {
  if (up.DestinationType && up.DestinationType !== "service") {
    const what = `upstream ${up.DestinationType} "${up.DestinationName}"`;
    return `${what} is not planned: only service upstreams have a path known in advance`;
  }
  if (up.DestinationPeer) {
    const what = `upstream "${up.DestinationName}" of cluster peer "${up.DestinationPeer}"`;
    return `${what} is not planned: peering is outside the mesh model`;
  }
  return {
    DestinationName: up.DestinationName,
    DestinationNamespace: present(up.DestinationNamespace),
    DestinationPartition: present(up.DestinationPartition),
    Datacenter: present(up.Datacenter),
    LocalBindAddress: present(up.LocalBindAddress),
    LocalBindPort: up.LocalBindPort as number,
    MeshGateway: ownMode(up.MeshGateway?.Mode, inherited),
  };
}

/** A connect proxy instance as a `MeshService`, with the problems of its upstreams. */
function proxyService(
  answers: ConsulCatalogAnswers,
  datacenter: string,
  entry: HealthEntryJson,
  problems: SourceProblem[],
): MeshService {
  const s = entry.Service;
  const proxy = s.Proxy ?? {};
  const central = centralMode(answers, proxy.DestinationServiceName);
  const merged = proxy.MeshGateway?.Mode || central;
  const upstreams: UpstreamJson[] = [];
  listOf<CatalogUpstreamJson>(proxy.Upstreams).forEach((up, k) => {
    const planned = upstreamJson(up, merged);
    if (typeof planned !== "string") upstreams.push(planned);
    else problems.push({ origin: instanceOrigin(datacenter, entry), field: `Proxy.Upstreams[${k}]`, message: planned });
  });
  const proxyJson: ProxyJson = {
    DestinationServiceName: proxy.DestinationServiceName,
    DestinationServiceID: present(proxy.DestinationServiceID),
    LocalServicePort: present(proxy.LocalServicePort),
    MeshGateway: ownMode(proxy.MeshGateway?.Mode, central),
    Upstreams: present(upstreams),
  };
  return { ...registered(s, proxyJson), datacenter, node: entry.Node.Node };
}

/** An instance in the model, without empty fields. */
function registered(s: CatalogServiceJson, proxy?: ProxyJson): RegistrableService {
  return fromServiceRegistration({
    Name: s.Service,
    ID: s.ID === s.Service ? undefined : s.ID,
    Kind: s.Kind === "connect-proxy" ? "connect-proxy" : undefined,
    Namespace: present(s.Namespace),
    Partition: present(s.Partition),
    Port: s.Port,
    Address: present(s.Address),
    Tags: present(s.Tags),
    Meta: present(s.Meta),
    Proxy: proxy,
  });
}

/**
 * A mesh gateway instance as the model writes it: its LAN and WAN endpoints as Consul dials
 * them (`bestAddress`), so that the model's rule (`gatewayAddress`) gives them back.
 */
function gatewaySpec(datacenter: string, entry: HealthEntryJson): MeshGatewaySpec {
  const s = entry.Service;
  const addresses = catalogAddresses(entry);
  const lan = bestAddress(addresses, "lan") ?? { address: "", port: s.Port };
  const wan = bestAddress(addresses, "wan") ?? lan;
  return {
    datacenter,
    name: s.Service,
    ...(s.ID && s.ID !== s.Service ? { id: s.ID } : {}),
    node: entry.Node.Node,
    port: s.Port,
    address: lan.address,
    taggedAddresses: { lan, wan },
  };
}

/**
 * The mesh a live Consul runs, from its API answers: every datacenter (only its name: Connect,
 * gRPC and the like are not in these answers); every `connect-proxy` instance with its upstreams
 * and modes (sidecars included: the catalog lists them as connect proxies), and the typical
 * services a proxy of the same datacenter fronts or that are Connect-native; every `mesh-gateway`
 * instance with its LAN and WAN addresses and, index for index in `gatewayHealth`, the worst status
 * of its node's and its own checks; `proxy-defaults` and `service-defaults`; the primary
 * datacenter and trust domain. Other services (Consul's own, other gateway kinds) are left out.
 * Upstreams to prepared queries or cluster peers are left out with a problem each: their path is
 * not known in advance. Modes are read as the module note says. Pure; never throws.
 * @param answers - The Consul answers.
 */
export function catalogMeshFragment(answers: ConsulCatalogAnswers): MeshFragment {
  const mesh: Mesh = emptyMesh();
  const origins = emptyOrigins();
  const problems: SourceProblem[] = [];
  const gatewayHealth: GatewayHealth[] = [];
  if (answers.primaryDatacenter) mesh.primaryDatacenter = answers.primaryDatacenter;
  if (answers.trustDomain) mesh.trustDomain = answers.trustDomain;
  if (answers.throughGateways) mesh.wanFederation = { mode: "mesh-gateways" };
  if (answers.primaryDatacenter || answers.trustDomain || answers.throughGateways) {
    origins.mesh = "Consul: agent configuration and Connect CA roots";
  }
  for (const name of listOf<string>(answers.datacenters)) {
    mesh.datacenters.push({ name });
    origins.datacenters.push(`Consul ${name}: datacenter`);
  }
  for (const { datacenter, healthEntries } of listOf<CatalogDatacenterAnswers>(answers.perDatacenter)) {
    const entries = listOf<HealthEntryJson[]>(healthEntries).flatMap((list) => listOf<HealthEntryJson>(list));
    const proxies = entries.filter((e) => e.Service.Kind === "connect-proxy");
    const fronted = new Set(proxies.map((e) => e.Service.Proxy?.DestinationServiceName));
    for (const entry of entries) {
      const kind = entry.Service.Kind || "";
      if (kind === "mesh-gateway") {
        mesh.gateways!.push(gatewaySpec(datacenter, entry));
        origins.gateways.push(instanceOrigin(datacenter, entry));
        gatewayHealth.push(worstStatus(listOf<HealthCheckJson>(entry.Checks)));
      } else if (kind === "connect-proxy") {
        mesh.services!.push(proxyService(answers, datacenter, entry, problems));
        origins.services.push(instanceOrigin(datacenter, entry));
      } else if (kind === "" && (fronted.has(entry.Service.Service) || entry.Service.Connect?.Native)) {
        mesh.services!.push({ ...registered(entry.Service), datacenter, node: entry.Node.Node });
        origins.services.push(instanceOrigin(datacenter, entry));
      }
    }
  }
  const pd = answers.proxyDefaults;
  if (pd) {
    const entry: ProxyDefaultsEntry = { kind: "proxy-defaults", name: pd.Name };
    if (pd.MeshGateway?.Mode) entry.meshGateway = { mode: pd.MeshGateway.Mode as Mode };
    if (present(pd.Config)) entry.config = pd.Config!;
    mesh.proxyDefaults = entry;
    origins.proxyDefaults = `Consul: proxy-defaults ${pd.Name}`;
  }
  for (const sd of listOf<ServiceDefaultsReadJson>(answers.serviceDefaults)) {
    const entry: ServiceDefaultsEntry = { kind: "service-defaults", name: sd.Name };
    if (sd.Protocol) entry.protocol = sd.Protocol;
    if (sd.MeshGateway?.Mode) entry.meshGateway = { mode: sd.MeshGateway.Mode as Mode };
    mesh.serviceDefaults!.push(entry);
    origins.serviceDefaults.push(`Consul: service-defaults ${sd.Name}`);
  }
  return { mesh, origins, problems, gatewayHealth };
}
