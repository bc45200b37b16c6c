/**
 * Routes from the local Consul agent's xDS server, as Consul's Envoy mesh gateway gets them:
 * the gateway's xDS stream (`xds-stream.ts`) read into a table (`xds-routes.ts`), with the trust
 * domain the cluster names carry (the agent's CA roots, read once, give it while there are no
 * clusters). The agent does the catalog watching (its cache, Consul's streaming backend) and
 * pushes only what changed, so at rest the gateway holds one connection to Consul whatever the
 * catalog's size, as Envoy does: the stream.
 *
 * While the stream is down the last good table stays and `status().stale` says so; the stream
 * reconnects with back-off and a new table replaces the old one only once complete. A restarted
 * agent may first answer before its caches are warm (a datacenter's gateways not known yet): for
 * {@link RECONNECT_SETTLE_MS} after a new stream's first complete set, a table with fewer routes
 * that have endpoints than the one in force waits, and the last good table keeps serving.
 */
import { BlockingWatch, BlockingWatchTiming } from "./blocking-watch";
import type { ConsulClient } from "../../consul/client";
import { ConsulError } from "../../consul/errors";
import { aclFilteredError } from "../errors";
import type { RoutesFile } from "../../mesh/model/routes-file";
import { RouteSource, RouteSourceListener, RouteSourceStatus } from "../routing/route-table";
import { CA_ROOTS_PATH, CaRoots, RoutesPublisher, trustDomainOf } from "./routes-publisher";
import { routesFromClusters, trustDomainOfClusters } from "./xds-routes";
import { XdsResources, XdsServerOptions, XdsStream } from "./xds-stream";

/** How long after a new stream's first complete set a table that lost endpoints waits, in ms. */
export const RECONNECT_SETTLE_MS = 2000;

/** Routes of a table with at least one endpoint. */
function routesWithEndpoints(routes: RoutesFile): number {
  return [
    ...routes.services,
    ...routes.gateways,
    ...(routes.wanFederation?.servers ?? []),
    ...(routes.peering ?? []),
  ].filter((route) => route.endpoints.length > 0).length;
}

/**
 * Options of an {@link XdsRouteSource}. `retryMinMs`/`retryMaxMs` also set the stream's
 * reconnect back-off (default 500 ms doubling to 5 s); the other timings are those of the CA
 * roots read (retried until it has answered once).
 */
export interface XdsRouteSourceOptions extends BlockingWatchTiming {
  /** The agent's HTTP API client: the CA roots (trust domain) and the ACL token. */
  client: ConsulClient;
  /** The agent's gRPC server. */
  server: XdsServerOptions;
  /** ACL token, sent as `x-consul-token` (service:write on the gateway's name). Default: none. */
  token?: string;
  /** The gateway's datacenter. */
  datacenter: string;
  /** The gateway's registered service ID: the xDS node ID. */
  proxyId: string;
  /** The gateway's service name. Default: `"mesh-gateway"`. */
  serviceName?: string;
  /** Trust domain to use until (or unless) Consul's clusters or CA roots give one. Default: none (wait for Consul). */
  trustDomain?: string;
  /** Consul's `domain`, which server cluster names end with. Default: `"consul"`. */
  consulDomain?: string;
  /** Coalesce changes arriving within this time into one new table, in ms. Default: `20`. */
  debounceMs?: number;
  /** Most time {@link XdsRouteSource.start} waits for the first complete table, in ms. Default: `10000`. */
  initialLoadTimeoutMs?: number;
}

/** A route source backed by the agent's xDS server. */
export class XdsRouteSource implements RouteSource {
  /** Always `"xds"`. */
  readonly kind = "xds";
  /** The CA roots, read until they have answered once. */
  private roots: BlockingWatch<CaRoots> | undefined;
  private rootsValue: CaRoots | undefined;
  private stream: XdsStream | undefined;
  private readonly publisher: RoutesPublisher;
  private aclsChecked = false;
  private readonly datacenter: string;
  /** The last table built, the stream's set it came from, and when that stream's first set came. */
  private built: RoutesFile | undefined;
  private builtFrom: XdsResources | undefined;
  private streamSince = 0;
  private settleTimer: NodeJS.Timeout | undefined;

  /** @param options agent, proxy ID, datacenter and timing; see {@link XdsRouteSourceOptions}. */
  constructor(private readonly options: XdsRouteSourceOptions) {
    this.datacenter = options.datacenter.toLowerCase();
    this.publisher = new RoutesPublisher(() => this.build(), {
      debounceMs: options.debounceMs ?? 20,
      initialLoadTimeoutMs: options.initialLoadTimeoutMs,
    });
  }

  /** Opens the stream and reads the roots; resolves once the first complete table is out, or after `initialLoadTimeoutMs`. */
  async start(listener: RouteSourceListener): Promise<void> {
    const loaded = this.publisher.start(listener);
    const fail = (error: Error) => {
      this.publisher.lastError = error.message;
      this.publisher.report(error);
    };
    this.roots = new BlockingWatch<CaRoots>(
      this.options.client,
      CA_ROOTS_PATH,
      {},
      {
        onValue: (roots) => {
          // Once is enough: the trust domain is the cluster ID's, and the cluster names carry it too.
          this.rootsValue = roots;
          this.roots?.stop();
          this.publisher.schedule();
        },
        onError: fail,
      },
      this.options,
    );
    this.roots.start();
    this.stream = new XdsStream(this.options, { onResources: () => this.publisher.schedule(), onError: fail });
    this.stream.start();
    void this.checkRegistered();
    await loaded;
  }

  /** The source's health: stale while the stream is down, or the roots cannot be read before they ever were. */
  status(): RouteSourceStatus {
    const rootsFailing = this.roots !== undefined && this.roots.settled && !this.roots.healthy;
    const loaded = this.publisher.loaded;
    const stale = loaded && (!this.stream?.connected || rootsFailing);
    return this.publisher.status(stale, stale || !loaded);
  }

  /** Closes the stream and the watch. */
  async close(): Promise<void> {
    this.publisher.close();
    if (this.settleTimer) clearTimeout(this.settleTimer);
    this.roots?.stop();
    this.stream?.close();
  }

  private build(): RoutesFile | undefined {
    const resources = this.stream?.resources;
    if (!resources?.complete) return undefined;
    const trustDomain =
      trustDomainOfClusters(resources.clusters.keys()) ?? trustDomainOf(this.rootsValue, this.options.trustDomain);
    if (!trustDomain) return undefined;
    if (!this.aclsChecked) {
      this.aclsChecked = true;
      void this.checkAcls();
    }
    const routes = routesFromClusters(
      this.datacenter,
      trustDomain,
      resources.clusters,
      resources.assignments,
      this.options.consulDomain,
      resources.listeners,
    );
    if (resources !== this.builtFrom) {
      this.builtFrom = resources;
      this.streamSince = Date.now();
    }
    const settling = RECONNECT_SETTLE_MS - (Date.now() - this.streamSince);
    if (this.built && settling > 0 && routesWithEndpoints(routes) < routesWithEndpoints(this.built)) {
      if (!this.settleTimer)
        this.settleTimer = setTimeout(() => {
          this.settleTimer = undefined;
          this.publisher.schedule();
        }, settling);
      return undefined;
    }
    this.built = routes;
    return routes;
  }

  /**
   * The agent serves xDS only to a proxy registered with it, and waits in silence for any other
   * ID: say so at once when the ID is unknown (a gateway started with `--no-register` and the ID
   * of no registered gateway), rather than never becoming ready without a word.
   */
  private async checkRegistered(): Promise<void> {
    const path = `/v1/agent/service/${encodeURIComponent(this.options.proxyId)}`;
    try {
      await this.options.client.get(path);
    } catch (error) {
      if (this.publisher.closed || !(error instanceof ConsulError) || error.status !== 404) return;
      this.publisher.lastError =
        `no service with ID "${this.options.proxyId}" is registered with the agent, whose xDS server ` +
        "serves only the gateways registered with it: register the gateway, or give the ID of one (--service-id)";
      this.publisher.report(new ConsulError("E_CONSUL_XDS", this.publisher.lastError));
    }
  }

  /**
   * The agent builds the gateway's clusters with the gateway's token, and silently leaves out
   * what it may not read; two plain reads, once, tell whether the token reads every node and
   * every service (the catalog source learns it from each answer).
   */
  private async checkAcls(): Promise<void> {
    for (const path of ["/v1/catalog/nodes", "/v1/catalog/services"]) {
      try {
        const answer = await this.options.client.get(path);
        if (answer.filteredByAcls && !this.publisher.closed) this.publisher.report(aclFilteredError(`GET ${path}`));
      } catch {
        // A failed read says nothing about the token; the stream reports an unreachable agent.
      }
    }
  }
}
