/**
 * The gateway's xDS stream from the local Consul agent, as Consul's Envoy mesh gateway has it:
 * one gRPC stream (`DeltaAggregatedResources`, incremental xDS v3, the only kind Consul 1.16
 * serves) for the gateway's registered service ID, subscribed to every cluster (CDS), every
 * endpoint set (EDS) and every listener (LDS: the filter chains of the names Consul's gateway
 * matches explicitly, a peer's exported services), each answer acknowledged. It keeps what the
 * stream has sent and hands it on once complete (clusters, listeners, and the endpoints of EDS clusters); a broken stream reconnects with
 * back-off and starts afresh, so a set is only ever handed on whole. `xds-routes.ts` turns a
 * set into routes.
 */
import * as grpc from "@grpc/grpc-js";
import { ConsulError } from "../../consul/errors";
import { DEFAULT_GATEWAY_NAME } from "../../mesh/model/defaults";
import {
  CLUSTER_TYPE,
  ClusterResource,
  decodeCluster,
  decodeDeltaResponse,
  decodeLoadAssignment,
  DeltaRequest,
  DeltaResponse,
  DISCOVERY_TYPE_EDS,
  decodeListener,
  encodeDeltaRequest,
  ENDPOINT_TYPE,
  ListenerResource,
  LISTENER_TYPE,
  LoadAssignment,
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

/** Options of an {@link XdsStream}. */
export interface XdsStreamOptions {
  /** The agent's gRPC server. */
  server: XdsServerOptions;
  /** ACL token, sent as `x-consul-token` (service:write on the gateway's name). Default: none. */
  token?: string;
  /** The gateway's registered service ID: the xDS node ID. */
  proxyId: string;
  /** The gateway's service name: the xDS node's cluster. Default: `"mesh-gateway"`. */
  serviceName?: string;
  /** First reconnect delay, in ms; doubles up to `retryMaxMs`. Default: `500`. */
  retryMinMs?: number;
  /** Longest reconnect delay, in ms. Default: `5000`. */
  retryMaxMs?: number;
}

/** What one stream has received: complete once both types have answered. */
export class XdsResources {
  /** Cluster name → the cluster. */
  readonly clusters = new Map<string, ClusterResource>();
  /** Cluster name → its EDS load assignment. */
  readonly assignments = new Map<string, LoadAssignment>();
  /** Listener name → its filter chains. */
  readonly listeners = new Map<string, ListenerResource>();
  private clustersReceived = false;
  private endpointsReceived = false;
  private listenersReceived = false;

  /** The clusters and listeners have come, and the endpoints too when any cluster takes them from EDS. */
  get complete(): boolean {
    if (!this.clustersReceived || !this.listenersReceived) return false;
    const needsEds = [...this.clusters.values()].some((c) => c.type === DISCOVERY_TYPE_EDS);
    return this.endpointsReceived || !needsEds;
  }

  /**
   * Applies one delta answer.
   * @param response - The answer.
   * @throws Error when a resource cannot be decoded.
   */
  apply(response: DeltaResponse): void {
    if (response.type_url === CLUSTER_TYPE) {
      for (const name of response.removed_resources) this.clusters.delete(name);
      for (const r of response.resources) {
        if (r.resource) this.clusters.set(r.name, decodeCluster(r.resource.value));
      }
      this.clustersReceived = true;
    } else if (response.type_url === ENDPOINT_TYPE) {
      for (const name of response.removed_resources) this.assignments.delete(name);
      for (const r of response.resources) {
        if (r.resource) this.assignments.set(r.name, decodeLoadAssignment(r.resource.value));
      }
      this.endpointsReceived = true;
    } else if (response.type_url === LISTENER_TYPE) {
      for (const name of response.removed_resources) this.listeners.delete(name);
      for (const r of response.resources) {
        if (r.resource) this.listeners.set(r.name, decodeListener(r.resource.value));
      }
      this.listenersReceived = true;
    }
  }
}

/** What an {@link XdsStream} reports. */
export interface XdsStreamHandlers {
  /** A complete set, or a change to it ({@link XdsStream.resources}). */
  onResources(): void;
  /** The stream failed or ended, or sent what cannot be read; it reconnects with back-off. */
  onError(error: ConsulError): void;
}

/** The xDS stream of one gateway, reconnected until closed. */
export class XdsStream {
  /** The last complete set received; `undefined` until one is. */
  resources: XdsResources | undefined;
  private readonly client: grpc.Client;
  private call: grpc.ClientDuplexStream<DeltaRequest, DeltaResponse> | undefined;
  private up = false;
  private failures = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private closed = false;

  /**
   * @param options - The server, the node and the back-off; see {@link XdsStreamOptions}.
   * @param handlers - Told of complete sets and failures.
   */
  constructor(
    private readonly options: XdsStreamOptions,
    private readonly handlers: XdsStreamHandlers,
  ) {
    this.client = new grpc.Client(grpcTarget(options.server), credentials(options.server), {
      "grpc.keepalive_time_ms": 30_000,
      "grpc.max_receive_message_length": -1,
      "grpc.initial_reconnect_backoff_ms": options.retryMinMs ?? STREAM_RETRY.minMs,
      "grpc.max_reconnect_backoff_ms": options.retryMaxMs ?? STREAM_RETRY.maxMs,
    });
  }

  /** Whether the stream is up: the agent has answered on it since it last (re)connected. */
  get connected(): boolean {
    return this.up;
  }

  /** Opens the stream. */
  start(): void {
    this.connect();
  }

  /** Closes the stream for good. */
  close(): void {
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.call?.cancel();
    this.client.close();
  }

  private connect(): void {
    if (this.closed) return;
    const { server, token, proxyId, serviceName } = this.options;
    const metadata = new grpc.Metadata();
    if (token) metadata.set("x-consul-token", token);
    const call = this.client.makeBidiStreamRequest<DeltaRequest, DeltaResponse>(
      METHOD,
      encodeDeltaRequest,
      decodeDeltaResponse,
      metadata,
    );
    this.call = call;
    const resources = new XdsResources();
    const node = {
      id: proxyId,
      cluster: serviceName ?? DEFAULT_GATEWAY_NAME,
      user_agent_name: "consul-mesh-sni-gateway",
    };
    call.on("data", (response: DeltaResponse) => {
      if (call !== this.call) return;
      if (!this.up) {
        this.up = true;
        this.failures = 0;
      }
      try {
        resources.apply(response);
      } catch (error) {
        const detail = error instanceof Error ? error.message : String(error);
        this.retry(
          new ConsulError(
            "E_CONSUL_XDS",
            `xDS stream from ${server.address}: a ${response.type_url} answer could not be read: ${detail}`,
          ),
        );
        return;
      }
      call.write({ type_url: response.type_url, response_nonce: response.nonce });
      if (resources.complete) {
        this.resources = resources;
        this.handlers.onResources();
      }
    });
    call.on("error", (error: grpc.ServiceError) => {
      if (call !== this.call || this.closed) return;
      this.retry(streamError(error, this.options));
    });
    call.on("end", () => {
      if (call !== this.call || this.closed) return;
      this.retry(new ConsulError("E_CONSUL_UNREACHABLE", `xDS stream from ${server.address} ended`));
    });
    // Wildcard subscriptions (no names): every cluster, every cluster's endpoints, every listener.
    call.write({ node, type_url: CLUSTER_TYPE });
    call.write({ type_url: ENDPOINT_TYPE });
    call.write({ type_url: LISTENER_TYPE });
  }

  private retry(error: ConsulError): void {
    this.call?.cancel();
    this.call = undefined;
    this.up = false;
    this.failures++;
    this.handlers.onError(error);
    const delay = Math.min(
      this.options.retryMaxMs ?? STREAM_RETRY.maxMs,
      (this.options.retryMinMs ?? STREAM_RETRY.minMs) * 2 ** Math.min(this.failures - 1, 16),
    );
    this.retryTimer = setTimeout(() => this.connect(), delay);
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
function streamError(error: grpc.ServiceError, options: XdsStreamOptions): ConsulError {
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
