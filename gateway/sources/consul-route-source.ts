/**
 * Routes from the Consul catalog over the HTTP API, kept current with blocking queries
 * (the calls Consul's own gateway config makes, hashicorp/consul `agent/proxycfg`):
 *
 * - `GET /v1/catalog/datacenters` (polled: it does not block) lists the remote datacenters;
 * - per remote datacenter, `GET /v1/catalog/services?dc=X&filter=ServiceKind == "mesh-gateway"`
 *   names its gateways and `GET /v1/health/service/<gw>?dc=X&passing` gives their WAN addresses;
 * - `GET /v1/catalog/services?dc=D&filter=ServiceKind == ""` lists the local services and
 *   `GET /v1/health/connect/<svc>?dc=D&passing` gives each one's healthy connect endpoints;
 * - `GET /v1/agent/connect/ca/roots` gives the trust domain (`TrustDomain`);
 * - with `exposeServers` (WAN federation through the gateways), `GET /v1/health/service/consul?dc=D`
 *   gives the local servers and `GET /v1/internal/federation-states/mesh-gateways` every
 *   datacenter's gateways as the federation states carry them, which is how a datacenter that is not
 *   federated yet (no catalog answers from it) is reached, as Consul's own gateway does.
 *
 * - cluster peering (`catalog-peering.ts`): the `mesh`, `exported-services`, `service-defaults` and
 *   `proxy-defaults` entries (`GET /v1/config/<kind>`), the peerings (`GET /v1/peerings`), the local
 *   servers, and per imported service `GET /v1/health/connect/<svc>?peer=<name>&passing` (the
 *   peerings are polled, every 5 s: the services each imports change without their index); their
 *   failures (a Consul without peering, a token without `peering:read`) leave the peering routes
 *   out without making the source stale.
 *
 * When Consul is unreachable every watch keeps its last good value, so the table in force stays;
 * `status().stale` reports it. A failing remote datacenter (a WAN peer down) keeps its last good
 * gateways too, and is logged and counted, but does not make the source stale: readiness follows
 * the local catalog, so one datacenter's outage does not take every other gateway out of service.
 * Each local service and each remote gateway service holds one blocking query (one HTTP
 * connection) open: mind Consul's `http_max_conns_per_client` (default 200) for very large catalogs.
 */
import { DEFAULT_NAMESPACE, DEFAULT_PARTITION } from "../../mesh/model/defaults";
import type {
  RouteEndpoint,
  RoutesFile,
  RoutesFileGateway,
  RoutesFileServer,
  RoutesFileService,
} from "../../mesh/model/routes-file";
import { DEFAULT_CONSUL_DOMAIN } from "../../mesh/model/sni";
import { BlockingWatch, BlockingWatchTiming } from "./blocking-watch";
import { connectEndpoint, gatewayWanEndpoint, type HealthEntry } from "./catalog-entries";
import {
  peeringRoutesFromCatalog,
  type MeshEntryJson,
  type ExportedServicesJson,
  type PeeringJson,
  type ProtocolEntryJson,
} from "./catalog-peering";
import type { ConsulClient } from "../../consul/client";
import { aclFilteredError } from "../errors";
import { RouteSource, RouteSourceListener, RouteSourceStatus } from "../routing/route-table";
import { CA_ROOTS_PATH, CaRoots, RoutesPublisher, trustDomainOf } from "./routes-publisher";

/** Options of a {@link ConsulRouteSource}. */
export interface ConsulRouteSourceOptions extends BlockingWatchTiming {
  /** The Consul client (address, token, TLS). */
  client: ConsulClient;
  /** The gateway's datacenter. */
  datacenter: string;
  /** Trust domain to use until (or unless) Consul's CA roots give one. Default: none (wait for Consul). */
  trustDomain?: string;
  /** How often to re-list datacenters, in ms. Default: `30000`. */
  datacentersIntervalMs?: number;
  /** How often to re-read the peerings (the services each imports), in ms. Default: `5000`. */
  peeringsIntervalMs?: number;
  /** Coalesce changes arriving within this time into one new table, in ms. Default: `100`. */
  debounceMs?: number;
  /** Most time {@link ConsulRouteSource.start} waits for the first complete table, in ms. Default: `10000`. */
  initialLoadTimeoutMs?: number;
  /**
   * Carry the servers' own traffic (WAN federation through the gateways), as `consul connect envoy
   * -expose-servers` does. Default: `false` (server names are refused).
   */
  exposeServers?: boolean;
  /** Consul's `domain`, which server SNI names end with. Default: `"consul"`. */
  consulDomain?: string;
}

/** The servers' traffic, from the catalog: see {@link routesFromCatalog}. */
export interface CatalogServerAnswers {
  /** Consul's `domain`. */
  domain: string;
  /** `/v1/health/service/consul` of the local datacenter. */
  servers: readonly HealthEntry[];
  /** `/v1/internal/federation-states/mesh-gateways`: datacenter → its gateways. */
  federationGateways: Readonly<Record<string, readonly HealthEntry[] | undefined>>;
}

/**
 * Assembles a routes file from the catalog answers (pure).
 * @param datacenter the local datacenter.
 * @param trustDomain the trust domain.
 * @param local local service name → its `/v1/health/connect` entries.
 * @param remote remote datacenter → gateway service name → its `/v1/health/service` entries.
 * @param servers with server routes: the local servers, and the gateways the federation states
 *   name, which stand for a datacenter the catalog has no gateways of. Default: none.
 */
export function routesFromCatalog(
  datacenter: string,
  trustDomain: string,
  local: ReadonlyMap<string, readonly HealthEntry[]>,
  remote: ReadonlyMap<string, ReadonlyMap<string, readonly HealthEntry[]>>,
  servers?: CatalogServerAnswers,
): RoutesFile {
  const services = new Map<string, RoutesFileService>();
  for (const [name, entries] of [...local.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    for (const entry of entries) {
      const endpoint = connectEndpoint(entry);
      if (!endpoint) continue;
      const namespace = entry.Service?.Namespace || DEFAULT_NAMESPACE;
      const partition = entry.Service?.Partition || DEFAULT_PARTITION;
      const key = `${partition}/${namespace}/${name}`;
      const service = services.get(key) ?? { name, namespace, partition, endpoints: [] };
      service.endpoints.push(endpoint);
      services.set(key, service);
    }
  }
  const gateways = new Map<string, RoutesFileGateway>();
  for (const [dc, byName] of [...remote.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (dc === datacenter) continue;
    for (const [, entries] of [...byName.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      for (const entry of entries) {
        if (entry.Service?.Kind !== undefined && entry.Service.Kind !== "mesh-gateway") continue;
        const endpoint = gatewayWanEndpoint(entry);
        if (!endpoint) continue;
        const partition = entry.Service?.Partition || DEFAULT_PARTITION;
        const key = `${dc}/${partition}`;
        const gateway = gateways.get(key) ?? { datacenter: dc, partition, endpoints: [] };
        gateway.endpoints.push(endpoint);
        gateways.set(key, gateway);
      }
    }
  }
  const routes: RoutesFile = { datacenter, trustDomain, services: [...services.values()], gateways: [] };
  if (servers) {
    const federation =
      servers.federationGateways && typeof servers.federationGateways === "object" ? servers.federationGateways : {};
    for (const dc of Object.keys(federation).sort()) {
      const name = dc.toLowerCase();
      if (name === datacenter || gateways.has(`${name}/${DEFAULT_PARTITION}`)) continue;
      const endpoints = (Array.isArray(federation[dc]) ? (federation[dc] as HealthEntry[]) : [])
        .map(gatewayWanEndpoint)
        .filter((e): e is RouteEndpoint => e !== undefined);
      gateways.set(`${name}/${DEFAULT_PARTITION}`, { datacenter: name, partition: DEFAULT_PARTITION, endpoints });
    }
    const byNode = new Map<string, RoutesFileServer>();
    for (const entry of Array.isArray(servers.servers) ? servers.servers : []) {
      const node = entry.Node?.Node?.toLowerCase();
      const endpoint = connectEndpoint(entry);
      if (!node || !endpoint) continue;
      const server: RoutesFileServer = byNode.get(node) ?? { node, endpoints: [] };
      server.endpoints.push(endpoint);
      byNode.set(node, server);
    }
    routes.wanFederation = {
      domain: servers.domain,
      servers: [...byNode.values()].sort((a, b) => (a.node < b.node ? -1 : 1)),
    };
  }
  routes.gateways = [...gateways.values()];
  return routes;
}

/** A route source backed by the Consul catalog. */
export class ConsulRouteSource implements RouteSource {
  /** Always `"consul"`. */
  readonly kind = "consul";
  private readonly watches = new Set<BlockingWatch<unknown>>();
  /** The watches on other datacenters' catalogs: their failures do not make the source stale. */
  private readonly remoteWatches = new WeakSet<BlockingWatch<unknown>>();
  private roots: BlockingWatch<CaRoots> | undefined;
  private datacenters: BlockingWatch<string[]> | undefined;
  private localServices: BlockingWatch<Record<string, string[]>> | undefined;
  private servers: BlockingWatch<HealthEntry[]> | undefined;
  private federationGateways: BlockingWatch<Record<string, HealthEntry[]>> | undefined;
  private readonly peering = {
    mesh: undefined as BlockingWatch<MeshEntryJson[]> | undefined,
    peerings: undefined as BlockingWatch<PeeringJson[]> | undefined,
    exported: undefined as BlockingWatch<ExportedServicesJson[]> | undefined,
    serviceDefaults: undefined as BlockingWatch<ProtocolEntryJson[]> | undefined,
    proxyDefaults: undefined as BlockingWatch<ProtocolEntryJson[]> | undefined,
    /** Peer → imported service → its health watch. */
    imported: new Map<string, Map<string, BlockingWatch<HealthEntry[]>>>(),
  };
  private readonly localHealth = new Map<string, BlockingWatch<HealthEntry[]>>();
  private readonly remoteServices = new Map<string, BlockingWatch<Record<string, string[]>>>();
  private readonly remoteHealth = new Map<string, Map<string, BlockingWatch<HealthEntry[]>>>();
  private readonly publisher: RoutesPublisher;
  private readonly datacenter: string;

  /** @param options client, datacenter and timing; see {@link ConsulRouteSourceOptions}. */
  constructor(private readonly options: ConsulRouteSourceOptions) {
    this.datacenter = options.datacenter.toLowerCase();
    this.publisher = new RoutesPublisher(() => this.build(), {
      debounceMs: options.debounceMs ?? 100,
      initialLoadTimeoutMs: options.initialLoadTimeoutMs,
    });
  }

  /** Starts the watches; resolves once the first complete table is out, or after `initialLoadTimeoutMs`. */
  async start(listener: RouteSourceListener): Promise<void> {
    const loaded = this.publisher.start(listener);
    this.roots = this.watch<CaRoots>(CA_ROOTS_PATH, {});
    this.datacenters = this.watch<string[]>(
      "/v1/catalog/datacenters",
      {},
      { pollIntervalMs: this.options.datacentersIntervalMs ?? 30_000 },
      (dcs) => this.syncDatacenters(dcs),
    );
    // Typical services only: sidecars, gateways and other proxies are not connect destinations.
    this.localServices = this.watch<Record<string, string[]>>(
      "/v1/catalog/services",
      { dc: this.datacenter, filter: 'ServiceKind == ""' },
      {},
      (services) => this.syncLocalServices(services),
    );
    // The local servers: critical for WAN federation through the gateways, else only for peering.
    const expose = this.options.exposeServers === true;
    this.servers = this.watch<HealthEntry[]>(
      `/v1/health/service/consul`,
      { dc: this.datacenter },
      {},
      undefined,
      !expose,
    );
    if (expose) {
      this.federationGateways = this.watch<Record<string, HealthEntry[]>>(
        "/v1/internal/federation-states/mesh-gateways",
        {},
      );
    }
    const entries = <T>(kind: string) => this.watch<T>(`/v1/config/${kind}`, {}, {}, undefined, true);
    this.peering.mesh = entries("mesh");
    this.peering.exported = entries("exported-services");
    this.peering.serviceDefaults = entries("service-defaults");
    this.peering.proxyDefaults = entries("proxy-defaults");
    // Polled: the services a peering imports (`StreamStatus`) change without the index moving.
    this.peering.peerings = this.watch<PeeringJson[]>(
      "/v1/peerings",
      {},
      { pollOnly: true, pollIntervalMs: this.options.peeringsIntervalMs ?? 5000 },
      (p) => this.syncImported(p),
      true,
    );
    await loaded;
  }

  /** The source's health: stale when any watch's last request failed. */
  status(): RouteSourceStatus {
    const stale = [...this.watches].some((w) => w.settled && !w.healthy && !this.remoteWatches.has(w));
    return this.publisher.status(stale);
  }

  /** Stops every watch. */
  async close(): Promise<void> {
    this.publisher.close();
    for (const w of this.watches) w.stop();
    this.watches.clear();
  }

  private watch<T>(
    path: string,
    query: Record<string, string | undefined>,
    timing: BlockingWatchTiming = {},
    onValue?: (value: T) => void,
    remote = false,
  ): BlockingWatch<T> {
    const watch: BlockingWatch<T> = new BlockingWatch<T>(
      this.options.client,
      path,
      query,
      {
        onValue: (value) => {
          onValue?.(value);
          this.publisher.schedule();
        },
        onError: (error) => {
          if (!remote) this.publisher.lastError = error.message;
          this.publisher.report(error);
          this.publisher.schedule();
        },
        onFilteredByAcls: () => {
          const where = query.dc ? `${path}?dc=${query.dc}` : path;
          this.publisher.report(aclFilteredError(`GET ${where}`));
        },
      },
      {
        waitMs: this.options.waitMs,
        minIntervalMs: this.options.minIntervalMs,
        retryMinMs: this.options.retryMinMs,
        retryMaxMs: this.options.retryMaxMs,
        pollIntervalMs: this.options.pollIntervalMs,
        ...timing,
      },
    );
    this.watches.add(watch as BlockingWatch<unknown>);
    if (remote) this.remoteWatches.add(watch as BlockingWatch<unknown>);
    if (!this.publisher.closed) watch.start();
    return watch;
  }

  private unwatch(watch: BlockingWatch<unknown>): void {
    watch.stop();
    this.watches.delete(watch);
  }

  private syncDatacenters(list: string[]): void {
    const wanted = new Set(
      (Array.isArray(list) ? list : []).map((dc) => String(dc).toLowerCase()).filter((dc) => dc !== this.datacenter),
    );
    for (const [dc, watch] of this.remoteServices) {
      if (wanted.has(dc)) continue;
      this.unwatch(watch as BlockingWatch<unknown>);
      this.remoteServices.delete(dc);
      for (const w of this.remoteHealth.get(dc)?.values() ?? []) this.unwatch(w as BlockingWatch<unknown>);
      this.remoteHealth.delete(dc);
    }
    for (const dc of wanted) {
      if (this.remoteServices.has(dc)) continue;
      this.remoteHealth.set(dc, new Map());
      const watch = this.watch<Record<string, string[]>>(
        "/v1/catalog/services",
        { dc, filter: 'ServiceKind == "mesh-gateway"' },
        {},
        (services) => this.syncRemoteGateways(dc, services),
        true,
      );
      this.remoteServices.set(dc, watch);
    }
  }

  private syncRemoteGateways(dc: string, services: Record<string, string[]>): void {
    const byName = this.remoteHealth.get(dc);
    if (!byName) return;
    const names = new Set(Object.keys(services && typeof services === "object" ? services : {}));
    for (const [name, watch] of byName) {
      if (names.has(name)) continue;
      this.unwatch(watch as BlockingWatch<unknown>);
      byName.delete(name);
    }
    for (const name of names) {
      if (byName.has(name)) continue;
      byName.set(
        name,
        this.watch<HealthEntry[]>(
          `/v1/health/service/${encodeURIComponent(name)}`,
          { dc, passing: "" },
          {},
          undefined,
          true,
        ),
      );
    }
  }

  /** One watch per service each peering imports (what proxies in mode `local` dial through this gateway). */
  private syncImported(peerings: PeeringJson[]): void {
    const wanted = new Map<string, Set<string>>();
    for (const p of Array.isArray(peerings) ? peerings : []) {
      if (typeof p?.Name !== "string") continue;
      const services = Array.isArray(p.StreamStatus?.ImportedServices) ? p.StreamStatus.ImportedServices : [];
      wanted.set(p.Name, new Set(services.filter((s): s is string => typeof s === "string")));
    }
    for (const [peer, byService] of this.peering.imported) {
      for (const [service, watch] of byService) {
        if (wanted.get(peer)?.has(service)) continue;
        this.unwatch(watch as BlockingWatch<unknown>);
        byService.delete(service);
      }
      if (byService.size === 0 && !wanted.has(peer)) this.peering.imported.delete(peer);
    }
    for (const [peer, services] of wanted) {
      const byService = this.peering.imported.get(peer) ?? new Map<string, BlockingWatch<HealthEntry[]>>();
      this.peering.imported.set(peer, byService);
      for (const service of services) {
        if (byService.has(service)) continue;
        const path = `/v1/health/connect/${encodeURIComponent(service)}`;
        byService.set(service, this.watch<HealthEntry[]>(path, { peer, passing: "" }, {}, undefined, true));
      }
    }
  }

  private syncLocalServices(services: Record<string, string[]>): void {
    const names = new Set(Object.keys(services && typeof services === "object" ? services : {}));
    names.delete("consul");
    for (const [name, watch] of this.localHealth) {
      if (names.has(name)) continue;
      this.unwatch(watch as BlockingWatch<unknown>);
      this.localHealth.delete(name);
    }
    for (const name of names) {
      if (this.localHealth.has(name)) continue;
      this.localHealth.set(
        name,
        this.watch<HealthEntry[]>(`/v1/health/connect/${encodeURIComponent(name)}`, {
          dc: this.datacenter,
          passing: "",
        }),
      );
    }
  }

  /** The routes from the watches' last values, once every watch has answered (the first table is complete). */
  private build(): RoutesFile | undefined {
    for (const w of this.watches) if (!w.settled) return undefined;
    if (!this.datacenters?.value || !this.localServices?.value) return undefined;
    const trustDomain = trustDomainOf(this.roots?.value, this.options.trustDomain);
    if (!trustDomain) return undefined;
    const local = new Map<string, HealthEntry[]>();
    for (const [name, watch] of this.localHealth) if (Array.isArray(watch.value)) local.set(name, watch.value);
    const remote = new Map<string, Map<string, HealthEntry[]>>();
    for (const [dc, byName] of this.remoteHealth) {
      const entries = new Map<string, HealthEntry[]>();
      for (const [name, watch] of byName) if (Array.isArray(watch.value)) entries.set(name, watch.value);
      remote.set(dc, entries);
    }
    const servers = this.options.exposeServers
      ? {
          domain: (this.options.consulDomain ?? DEFAULT_CONSUL_DOMAIN).replace(/\.$/, "").toLowerCase(),
          servers: this.servers?.value ?? [],
          federationGateways: this.federationGateways?.value ?? {},
        }
      : undefined;
    const routes = routesFromCatalog(this.datacenter, trustDomain, local, remote, servers);
    const imported = new Map<string, Map<string, HealthEntry[]>>();
    for (const [peer, byService] of this.peering.imported) {
      const entries = new Map<string, HealthEntry[]>();
      for (const [service, watch] of byService) if (Array.isArray(watch.value)) entries.set(service, watch.value);
      imported.set(peer, entries);
    }
    const valueOf = <T>(watch: BlockingWatch<T[]> | undefined): T[] => (Array.isArray(watch?.value) ? watch.value : []);
    const peering = peeringRoutesFromCatalog(this.datacenter, trustDomain.toLowerCase(), {
      mesh: valueOf(this.peering.mesh),
      peerings: valueOf(this.peering.peerings),
      exported: valueOf(this.peering.exported),
      serviceDefaults: valueOf(this.peering.serviceDefaults),
      proxyDefaults: valueOf(this.peering.proxyDefaults),
      servers: valueOf(this.servers),
      local,
      imported,
    });
    if (peering.length > 0) routes.peering = peering;
    return routes;
  }
}
