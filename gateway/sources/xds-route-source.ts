/**
 * Routes from the local Consul agent's xDS server, as Consul's Envoy mesh gateway gets them:
 * one gRPC stream (`DeltaAggregatedResources`, incremental xDS v3, the only kind Consul 1.16
 * serves) for the gateway's registered service ID, subscribed to every cluster (CDS) and every
 * endpoint set (EDS). The agent does the catalog watching (its cache, Consul's streaming
 * backend) and pushes only what changed, so the gateway holds two connections to Consul
 * whatever the catalog's size: this stream and the CA roots watch (the trust domain).
 *
 * A mesh gateway's cluster names are the SNI names it routes (`<svc>.<ns>.<dc>.internal.<td>`,
 * `[<subset>.]…`, `<dc>.internal.<td>` for another datacenter's gateways), so the table is the
 * clusters read back with `parseSni`, each with its usable endpoints (health `UNKNOWN` or
 * `HEALTHY`, as Envoy uses them). Clusters of other shapes (WAN federation servers, peers) are
 * left out, so the router refuses their names.
 *
 * While the stream is down the last good table stays and `status().stale` says so; the stream
 * reconnects with back-off and a new table replaces the old one only once complete.
 */
import * as grpc from "@grpc/grpc-js";
import { DEFAULT_NAMESPACE, DEFAULT_PARTITION } from "../../mesh/model/defaults";
import { isPort } from "../../mesh/model/port";
import type { RouteEndpoint, RoutesFile, RoutesFileGateway, RoutesFileService } from "../../mesh/model/routes-file";
import { parseSni } from "../../mesh/model/sni";
import { BlockingWatch, BlockingWatchTiming } from "./blocking-watch";
import type { ConsulClient } from "../../consul/client";
import { ConsulError } from "../../consul/errors";
import { aclFilteredError } from "../errors";
import { RouteSource, RouteSourceListener, RouteSourceStatus, routeTableFromRoutesFile } from "../routing/route-table";
import {
  CLUSTER_TYPE,
  ClusterResource,
  decodeCluster,
  decodeDeltaResponse,
  decodeLoadAssignment,
  DeltaRequest,
  DeltaResponse,
  DISCOVERY_TYPE_EDS,
  encodeDeltaRequest,
  ENDPOINT_TYPE,
  LoadAssignment,
  USABLE_HEALTH,
} from "./xds-messages";

const METHOD = "/envoy.service.discovery.v3.AggregatedDiscoveryService/DeltaAggregatedResources";

/**
 * Reconnect back-off of the stream when `retryMinMs`/`retryMaxMs` are not given: the agent is
 * local and one stream is cheap to it, so back off less than a catalog watch (1 s to 30 s) and
 * be fresh again within seconds of an agent restart. Also bounds grpc-js's own channel back-off
 * (up to 120 s by default).
 */
const STREAM_RETRY = { minMs: 500, maxMs: 5000 };

/** Where the agent's gRPC (xDS) server is. */
export interface XdsServerOptions {
  /** `host:port`, or a URL (`http://…` plaintext, `https://…` TLS), as `CONSUL_GRPC_ADDR` takes it. */
  address: string;
  /** Use TLS: `https://` or this. Default: `false` (Consul's plaintext `ports.grpc`). */
  tls?: boolean;
  /** PEM CA certificate(s) to verify a TLS server with. Default: the system roots. */
  ca?: string;
}

/**
 * Options of an {@link XdsRouteSource}. `retryMinMs`/`retryMaxMs` also set the stream's
 * reconnect back-off (default 500 ms doubling to 5 s); the other timings are the CA roots watch's.
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
  /** Trust domain to use until (or unless) Consul's CA roots give one. Default: none (wait for Consul). */
  trustDomain?: string;
  /** Coalesce changes arriving within this time into one new table, in ms. Default: `20`. */
  debounceMs?: number;
  /** Most time {@link XdsRouteSource.start} waits for the first complete table, in ms. Default: `10000`. */
  initialLoadTimeoutMs?: number;
}

/** The healthy endpoints of a load assignment, in the order given (priority 0 first). */
export function usableEndpoints(assignment: LoadAssignment | undefined): RouteEndpoint[] {
  const endpoints: RouteEndpoint[] = [];
  const localities = [...(assignment?.endpoints ?? [])].sort((a, b) => (a.priority ?? 0) - (b.priority ?? 0));
  for (const locality of localities) {
    for (const lb of locality.lb_endpoints ?? []) {
      if (!USABLE_HEALTH.has(lb.health_status ?? 0)) continue;
      const socket = lb.endpoint?.address?.socket_address;
      if (!socket?.address || !isPort(socket.port_value)) continue;
      endpoints.push({ address: socket.address, port: socket.port_value });
    }
  }
  return endpoints;
}

/**
 * Assembles a routes file from a mesh gateway's clusters and endpoints (pure).
 * @param datacenter the local datacenter.
 * @param trustDomain the trust domain.
 * @param clusters cluster name → the cluster.
 * @param assignments cluster name → its EDS load assignment.
 */
export function routesFromClusters(
  datacenter: string,
  trustDomain: string,
  clusters: ReadonlyMap<string, ClusterResource>,
  assignments: ReadonlyMap<string, LoadAssignment>,
): RoutesFile {
  const local = datacenter.toLowerCase();
  const services: RoutesFileService[] = [];
  const gateways: RoutesFileGateway[] = [];
  for (const name of [...clusters.keys()].sort()) {
    const cluster = clusters.get(name) as ClusterResource;
    const parsed = parseSni(name, trustDomain);
    if (!parsed) continue;
    const eds = cluster.type === DISCOVERY_TYPE_EDS;
    const endpoints = usableEndpoints(eds ? assignments.get(name) : cluster.load_assignment);
    if (parsed.kind === "gateway") {
      if (parsed.datacenter !== local) {
        gateways.push({ datacenter: parsed.datacenter, partition: parsed.partition, endpoints });
      }
    } else if (parsed.datacenter === local) {
      services.push({
        name: parsed.service,
        namespace: parsed.namespace || DEFAULT_NAMESPACE,
        partition: parsed.partition || DEFAULT_PARTITION,
        ...(parsed.subset ? { subset: parsed.subset } : {}),
        endpoints,
      });
    }
  }
  return { datacenter: local, trustDomain, services, gateways };
}

/** What one stream has received: a table can be built once both types have answered. */
class StreamState {
  readonly clusters = new Map<string, ClusterResource>();
  readonly assignments = new Map<string, LoadAssignment>();
  clustersReceived = false;
  endpointsReceived = false;

  get complete(): boolean {
    if (!this.clustersReceived) return false;
    const needsEds = [...this.clusters.values()].some((c) => c.type === DISCOVERY_TYPE_EDS);
    return this.endpointsReceived || !needsEds;
  }
}

/** A route source backed by the agent's xDS server. */
export class XdsRouteSource implements RouteSource {
  /** Always `"xds"`. */
  readonly kind = "xds";
  private listener: RouteSourceListener | undefined;
  private roots: BlockingWatch<{ TrustDomain?: string }> | undefined;
  private grpcClient: grpc.Client | undefined;
  private call: grpc.ClientDuplexStream<DeltaRequest, DeltaResponse> | undefined;
  private state = new StreamState();
  private connected = false;
  private failures = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private debounce: NodeJS.Timeout | undefined;
  private lastJson: string | undefined;
  private lastError: string | undefined;
  private lastLoadedAt: number | undefined;
  private closed = false;
  private firstLoad: (() => void) | undefined;
  private aclsChecked = false;
  private readonly datacenter: string;

  /** @param options agent, proxy ID, datacenter and timing; see {@link XdsRouteSourceOptions}. */
  constructor(private readonly options: XdsRouteSourceOptions) {
    this.datacenter = options.datacenter.toLowerCase();
  }

  /** Opens the stream and the roots watch; resolves once the first complete table is out, or after `initialLoadTimeoutMs`. */
  async start(listener: RouteSourceListener): Promise<void> {
    this.listener = listener;
    const loaded = new Promise<void>((resolve) => (this.firstLoad = resolve));
    this.roots = new BlockingWatch<{ TrustDomain?: string }>(
      this.options.client,
      "/v1/agent/connect/ca/roots",
      {},
      {
        onValue: () => this.schedule(),
        onError: (error) => {
          this.lastError = error.message;
          this.listener?.onError(error);
        },
      },
      this.options,
    );
    this.roots.start();
    this.grpcClient = new grpc.Client(grpcTarget(this.options.server), credentials(this.options.server), {
      "grpc.keepalive_time_ms": 30_000,
      "grpc.max_receive_message_length": -1,
      "grpc.initial_reconnect_backoff_ms": this.options.retryMinMs ?? STREAM_RETRY.minMs,
      "grpc.max_reconnect_backoff_ms": this.options.retryMaxMs ?? STREAM_RETRY.maxMs,
    });
    this.connect();
    void this.checkRegistered();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      loaded,
      new Promise<void>((resolve) => (timer = setTimeout(resolve, this.options.initialLoadTimeoutMs ?? 10_000))),
    ]);
    clearTimeout(timer);
  }

  /** The source's health: stale while the stream is down or the roots cannot be read. */
  status(): RouteSourceStatus {
    const rootsFailing = this.roots !== undefined && this.roots.settled && !this.roots.healthy;
    const loaded = this.lastJson !== undefined;
    const stale = loaded && (!this.connected || rootsFailing);
    return {
      loaded,
      stale,
      ...((stale || !loaded) && this.lastError ? { lastError: this.lastError } : {}),
      ...(this.lastLoadedAt ? { lastLoadedAt: this.lastLoadedAt } : {}),
    };
  }

  /** Closes the stream and the watch. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.debounce) clearTimeout(this.debounce);
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.roots?.stop();
    this.call?.cancel();
    this.grpcClient?.close();
    this.firstLoad?.();
  }

  private connect(): void {
    if (this.closed || !this.grpcClient) return;
    const metadata = new grpc.Metadata();
    if (this.options.token) metadata.set("x-consul-token", this.options.token);
    const call = this.grpcClient.makeBidiStreamRequest<DeltaRequest, DeltaResponse>(
      METHOD,
      encodeDeltaRequest,
      decodeDeltaResponse,
      metadata,
    );
    this.call = call;
    const state = new StreamState();
    const node = {
      id: this.options.proxyId,
      cluster: this.options.serviceName ?? "mesh-gateway",
      user_agent_name: "consul-mesh-sni-gateway",
    };
    call.on("data", (response: DeltaResponse) => {
      if (call !== this.call) return;
      if (!this.connected) {
        this.connected = true;
        this.failures = 0;
      }
      try {
        this.apply(state, response);
      } catch (error) {
        const detail = error instanceof Error ? error.message : String(error);
        this.retry(
          new ConsulError(
            "E_CONSUL_XDS",
            `xDS stream from ${this.options.server.address}: a ${response.type_url} answer could not be read: ${detail}`,
          ),
        );
        return;
      }
      call.write({ type_url: response.type_url, response_nonce: response.nonce });
      if (state.complete) {
        this.state = state;
        this.schedule();
      }
    });
    call.on("error", (error: grpc.ServiceError) => {
      if (call !== this.call || this.closed) return;
      this.retry(streamError(error, this.options));
    });
    call.on("end", () => {
      if (call !== this.call || this.closed) return;
      this.retry(new ConsulError("E_CONSUL_UNREACHABLE", `xDS stream from ${this.options.server.address} ended`));
    });
    // Wildcard subscriptions (no names): every cluster, and every cluster's endpoints.
    call.write({ node, type_url: CLUSTER_TYPE });
    call.write({ type_url: ENDPOINT_TYPE });
  }

  private apply(state: StreamState, response: DeltaResponse): void {
    if (response.type_url === CLUSTER_TYPE) {
      for (const name of response.removed_resources) state.clusters.delete(name);
      for (const r of response.resources) {
        if (r.resource) state.clusters.set(r.name, decodeCluster(r.resource.value));
      }
      state.clustersReceived = true;
    } else if (response.type_url === ENDPOINT_TYPE) {
      for (const name of response.removed_resources) state.assignments.delete(name);
      for (const r of response.resources) {
        if (r.resource) state.assignments.set(r.name, decodeLoadAssignment(r.resource.value));
      }
      state.endpointsReceived = true;
    }
  }

  private retry(error: ConsulError): void {
    this.call?.cancel();
    this.call = undefined;
    this.connected = false;
    this.failures++;
    this.lastError = error.message;
    this.listener?.onError(error);
    const delay = Math.min(
      this.options.retryMaxMs ?? STREAM_RETRY.maxMs,
      (this.options.retryMinMs ?? STREAM_RETRY.minMs) * 2 ** Math.min(this.failures - 1, 16),
    );
    this.retryTimer = setTimeout(() => this.connect(), delay);
  }

  private schedule(): void {
    if (this.closed || this.debounce) return;
    this.debounce = setTimeout(() => {
      this.debounce = undefined;
      this.rebuild();
    }, this.options.debounceMs ?? 20);
  }

  private rebuild(): void {
    if (this.closed || !this.state.complete) return;
    const trustDomain = (this.roots?.value?.TrustDomain || this.options.trustDomain || "").toLowerCase();
    if (!trustDomain) return;
    const routes = routesFromClusters(this.datacenter, trustDomain, this.state.clusters, this.state.assignments);
    const json = JSON.stringify(routes);
    if (json !== this.lastJson) {
      this.lastJson = json;
      this.lastLoadedAt = Date.now();
      this.listener?.onTable(routeTableFromRoutesFile(routes));
    }
    if (this.firstLoad) {
      this.firstLoad();
      this.firstLoad = undefined;
    }
    if (!this.aclsChecked) {
      this.aclsChecked = true;
      void this.checkAcls();
    }
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
      if (this.closed || !(error instanceof ConsulError) || error.status !== 404) return;
      this.lastError =
        `no service with ID "${this.options.proxyId}" is registered with the agent, whose xDS server ` +
        "serves only the gateways registered with it: register the gateway, or give the ID of one (--service-id)";
      this.listener?.onError(new ConsulError("E_CONSUL_XDS", this.lastError));
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
        if (answer.filteredByAcls && !this.closed) this.listener?.onError(aclFilteredError(`GET ${path}`));
      } catch {
        // A failed read says nothing about the token; the stream reports an unreachable agent.
      }
    }
  }
}

/** The gRPC target of a `CONSUL_GRPC_ADDR`-style address (scheme dropped). */
function grpcTarget(server: XdsServerOptions): string {
  return server.address.replace(/^(https?|grpcs?):\/\//i, "").replace(/\/+$/, "");
}

function credentials(server: XdsServerOptions): grpc.ChannelCredentials {
  const tls = server.tls || /^(https|grpcs):\/\//i.test(server.address);
  return tls
    ? grpc.credentials.createSsl(server.ca ? Buffer.from(server.ca) : null)
    : grpc.credentials.createInsecure();
}

/** A stream failure as a {@link ConsulError}, with what to check for the statuses Consul gives. */
function streamError(error: grpc.ServiceError, options: XdsRouteSourceOptions): ConsulError {
  const where = `xDS stream from ${options.server.address} for ${options.proxyId}`;
  const detail = error.details || error.message;
  if (error.code === grpc.status.PERMISSION_DENIED || error.code === grpc.status.UNAUTHENTICATED) {
    return new ConsulError(
      "E_CONSUL_XDS",
      `${where}: ${detail} (the token needs service:write on the gateway's service name)`,
    );
  }
  if (error.code === grpc.status.UNAVAILABLE) return new ConsulError("E_CONSUL_UNREACHABLE", `${where}: ${detail}`);
  return new ConsulError("E_CONSUL_XDS", `${where}: ${grpc.status[error.code] ?? error.code}: ${detail}`);
}
