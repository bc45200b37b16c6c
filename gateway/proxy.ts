/**
 * The data path: accept, read the ClientHello (with a timeout), route by SNI, dial an endpoint
 * (connect timeout, failover to the next, round-robin start), write the buffered hello bytes,
 * then copy both ways byte for byte with backpressure and half-close, until both sides are done
 * or the idle timeout fires. TLS is never terminated.
 *
 * Kept lean: no `pipe()`, no per-chunk allocation of ours, no Error objects on the hot path,
 * and `end()`/`destroy()` called only on sockets that still need it.
 */
import net from "node:net";
import type { Logger } from "pino";
import type { RouteEndpoint } from "../mesh/routes-file";
import { ClientHelloReader, HelloFailureReason } from "./client-hello";
import { RateLimiter } from "./logger";
import { ConnectionResult, GatewayMetrics } from "./metrics";
import { BufferPool, Pump } from "./pump";
import type { RouteTable } from "./route-table";
import { route, RouteDecision } from "./router";

/** Tuning of the data path. */
export interface ProxyOptions {
  /** How long a client may take to send its whole ClientHello, in ms. Default: `5000`. */
  helloTimeoutMs?: number;
  /** Close a connection when neither side has sent anything for this long, in ms; `0` disables. Default: `3600000` (1 h, as Envoy's TCP proxy). */
  idleTimeoutMs?: number;
  /** How long one upstream connect attempt may take before failing over, in ms. Default: `5000`. */
  connectTimeoutMs?: number;
  /** Most client connections open at once; further ones are closed at once and counted. Default: `10000`. */
  maxConnections?: number;
  /** Largest ClientHello accepted, in bytes (handshake header included). Default: 16 KiB + 4. */
  maxHelloLength?: number;
  /** Most per-connection log lines (rejections, failures) per second. Default: `20`. */
  logLinesPerSecond?: number;
  /**
   * Size of the read buffers used for bulk transfer, in bytes: the gateway reads into them and
   * writes from them, with no allocation per chunk. Idle and interactive connections use 4 KiB
   * buffers and move to this size when a read fills one. Default: `32768`.
   */
  readBufferBytes?: number;
  /**
   * Most distinct service names of other datacenters used as the `service` label of the
   * connection metrics. The gateway cannot check those names (the remote gateway does), so a
   * client could otherwise create a series per name it makes up; past the limit, remote
   * connections are counted under the service label {@link OTHER_SERVICE_LABEL}. Default: `1000`.
   */
  maxLabelledRemoteServices?: number;
}

/** The `service` label of remote connections past {@link ProxyOptions.maxLabelledRemoteServices}. */
export const OTHER_SERVICE_LABEL = "_other";

/** What the proxy reads and reports through. */
export interface ProxyContext {
  /** The live route table (read once per connection, so swaps never affect connections in flight); `undefined` until routes are loaded. */
  table(): RouteTable | undefined;
  /** Metrics to update. */
  metrics: GatewayMetrics;
  /** Logger for rejected and failed connections. */
  logger: Logger;
}

/** Default of {@link ProxyOptions.helloTimeoutMs}. */
export const DEFAULT_HELLO_TIMEOUT_MS = 5000;
/** Default of {@link ProxyOptions.idleTimeoutMs}. */
export const DEFAULT_IDLE_TIMEOUT_MS = 3_600_000;
/** Default of {@link ProxyOptions.connectTimeoutMs}. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 5000;
/** Default of {@link ProxyOptions.maxConnections}. */
export const DEFAULT_MAX_CONNECTIONS = 10_000;
/** Default of {@link ProxyOptions.readBufferBytes}. */
export const DEFAULT_READ_BUFFER_BYTES = 32 * 1024;
/** Default of {@link ProxyOptions.maxLabelledRemoteServices}. */
export const DEFAULT_MAX_LABELLED_REMOTE_SERVICES = 1000;

/** The destination labels of a connection's metrics. */
interface DestinationLabels {
  datacenter: string;
  service: string;
}

const NO_LABELS: DestinationLabels = Object.freeze({ datacenter: "", service: "" });

/**
 * Node's `onread` option (read into a caller's buffer, no allocation per read) exists for
 * sockets we create, not for sockets a server accepts. These are the net.Socket fields behind
 * it; when they are all present the accepted socket is switched to the same mode once its
 * ClientHello is in, else it keeps ordinary 'data' events.
 */
interface UserBufferFields {
  buffer: symbol;
  callback: symbol;
  generator: symbol;
}

function findUserBufferFields(): UserBufferFields | undefined {
  const probe = new net.Socket();
  const symbols = Object.getOwnPropertySymbols(probe);
  const find = (name: string) => symbols.find((s) => s.description === name);
  const buffer = find("kBuffer");
  const callback = find("kBufferCb");
  const generator = find("kBufferGen");
  probe.destroy();
  if (!buffer || !callback || !generator) return undefined;
  return { buffer, callback, generator };
}

const USER_BUFFER_FIELDS = findUserBufferFields();

/**
 * Switches an accepted socket to reading into the pump's buffers (as the public `onread` option
 * does for sockets we create). Returns `false` when this Node.js does not allow it.
 */
function useReadBuffer(socket: net.Socket, pump: Pump): boolean {
  const fields = USER_BUFFER_FIELDS;
  const handle = (socket as unknown as { _handle?: { useUserBuffer?: (b: Buffer) => void } })._handle;
  if (!fields || !handle || typeof handle.useUserBuffer !== "function") return false;
  const record = socket as unknown as Record<symbol, unknown>;
  if (record[fields.buffer] !== null || record[fields.callback] !== null) return false;
  record[fields.buffer] = pump.firstBuffer;
  record[fields.callback] = pump.onRead;
  record[fields.generator] = pump.nextBuffer;
  handle.useUserBuffer(pump.firstBuffer);
  return true;
}

type Phase = "hello" | "dial" | "pipe" | "done";

/** The SNI proxy: one or more listeners sharing one connection handler. */
export class SniProxy {
  private readonly helloTimeoutMs: number;
  private readonly idleTimeoutMs: number;
  private readonly connectTimeoutMs: number;
  private readonly maxConnections: number;
  private readonly maxHelloLength: number | undefined;
  private readonly readBufferBytes: number;
  private readonly servers: net.Server[] = [];
  private readonly open = new Set<Connection>();
  private readonly roundRobin = new Map<string, number>();
  private readonly logLimiter: RateLimiter;
  private readonly labelCache = new Map<string, { inc(): void }>();
  private readonly maxLabelledRemoteServices: number;
  private readonly remoteServiceLabels = new Set<string>();
  private closing = false;
  private drained: (() => void) | undefined;
  /** @internal read buffers, reused across chunks and connections. */
  readonly pool: BufferPool;

  /**
   * @param context route table, metrics, logger.
   * @param options timeouts and limits; see {@link ProxyOptions}.
   */
  constructor(
    private readonly context: ProxyContext,
    options: ProxyOptions = {},
  ) {
    this.helloTimeoutMs = options.helloTimeoutMs ?? DEFAULT_HELLO_TIMEOUT_MS;
    this.idleTimeoutMs = options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
    this.connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    this.maxConnections = options.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
    this.maxHelloLength = options.maxHelloLength;
    this.readBufferBytes = Math.max(1024, options.readBufferBytes ?? DEFAULT_READ_BUFFER_BYTES);
    this.pool = new BufferPool(this.readBufferBytes);
    this.logLimiter = new RateLimiter(options.logLinesPerSecond ?? 20);
    this.maxLabelledRemoteServices = options.maxLabelledRemoteServices ?? DEFAULT_MAX_LABELLED_REMOTE_SERVICES;
    this.connectSucceeded = context.metrics.connectLatency.labels("success");
    this.connectFailed = context.metrics.connectLatency.labels("failure");
  }

  /** Connections open now (admitted, not yet closed). */
  get activeConnections(): number {
    return this.open.size;
  }

  /**
   * Starts a listener.
   * @param host address to bind, e.g. `0.0.0.0` or `127.0.0.1`.
   * @param port port to bind; `0` picks a free one.
   * @returns the bound address.
   */
  listen(host: string, port: number): Promise<net.AddressInfo> {
    const server = net.createServer({ allowHalfOpen: true, noDelay: true }, (socket) => this.accept(socket));
    this.servers.push(server);
    return new Promise((resolve, reject) => {
      const onError = (error: Error) => reject(error);
      server.once("error", onError);
      server.listen({ host, port, backlog: 4096 }, () => {
        server.removeListener("error", onError);
        server.on("error", (error) => this.context.logger.error({ err: error }, "listener error"));
        resolve(server.address() as net.AddressInfo);
      });
    });
  }

  /** The bound addresses of every listener. */
  addresses(): net.AddressInfo[] {
    return this.servers.map((s) => s.address()).filter((a): a is net.AddressInfo => a !== null && typeof a === "object");
  }

  /**
   * Stops accepting, waits for open connections to finish for up to `graceMs`, then closes
   * whatever is left. Resolves when every connection is closed.
   * @param graceMs how long to let connections drain, in ms. Default: `0`.
   */
  async close(graceMs = 0): Promise<void> {
    this.closing = true;
    const listenersClosed = Promise.all(
      this.servers.map((s) => new Promise<void>((resolve) => (s.listening ? s.close(() => resolve()) : resolve()))),
    );
    if (this.open.size > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          for (const c of [...this.open]) c.destroy();
          resolve();
        }, graceMs);
        this.drained = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    this.drained = undefined;
    await listenersClosed;
  }

  private accept(socket: net.Socket): void {
    if (this.closing || this.open.size >= this.maxConnections) {
      socket.on("error", noop);
      socket.destroy();
      this.count("over-limit", "", "");
      this.log("warn", "connection-over-limit", { remote: socket.remoteAddress, limit: this.maxConnections });
      return;
    }
    const connection = new Connection(this, socket);
    this.open.add(connection);
    this.context.metrics.hot.active = this.open.size;
  }

  /** @internal called by a connection once both of its sockets are closed. */
  released(connection: Connection): void {
    this.open.delete(connection);
    this.context.metrics.hot.active = this.open.size;
    if (this.open.size === 0 && this.drained) this.drained();
  }

  /** @internal the connect latency histogram for successful attempts (labels resolved once). */
  readonly connectSucceeded: { observe(seconds: number): void };
  /** @internal the connect latency histogram for failed attempts. */
  readonly connectFailed: { observe(seconds: number): void };

  /** @internal */
  get settings() {
    return {
      helloTimeoutMs: this.helloTimeoutMs,
      idleTimeoutMs: this.idleTimeoutMs,
      connectTimeoutMs: this.connectTimeoutMs,
      maxHelloLength: this.maxHelloLength,
      readBufferBytes: this.readBufferBytes,
    };
  }

  /** @internal */
  get ctx(): ProxyContext {
    return this.context;
  }

  /** @internal the endpoint index to start from for a destination (round-robin). */
  nextStart(key: string, count: number): number {
    const n = this.roundRobin.get(key) ?? 0;
    this.roundRobin.set(key, (n + 1) % 1_000_000);
    return n % count;
  }

  /**
   * @internal The metric labels of a routing decision: only values the route table vouches for
   * (its datacenters, its local services), and a bounded number of remote service names.
   * @param decision the decision.
   * @param localDatacenter the table's datacenter.
   */
  labelsOf(decision: RouteDecision, localDatacenter: string): DestinationLabels {
    if (decision.kind === "local") return { datacenter: decision.datacenter, service: decision.service };
    if (decision.kind === "remote") return { datacenter: decision.datacenter, service: this.remoteServiceLabel(decision.datacenter, decision.service) };
    switch (decision.reason) {
      case "no-endpoints": {
        const datacenter = decision.datacenter ?? "";
        const service = decision.service ?? "";
        return { datacenter, service: datacenter === localDatacenter ? service : this.remoteServiceLabel(datacenter, service) };
      }
      case "local-datacenter":
      case "unknown-service":
        return { datacenter: localDatacenter, service: "" };
      default:
        return NO_LABELS;
    }
  }

  private remoteServiceLabel(datacenter: string, service: string): string {
    if (service === "") return service;
    const key = `${datacenter}\u0000${service}`;
    if (this.remoteServiceLabels.has(key)) return service;
    if (this.remoteServiceLabels.size >= this.maxLabelledRemoteServices) return OTHER_SERVICE_LABEL;
    this.remoteServiceLabels.add(key);
    return service;
  }

  /** @internal */
  count(result: ConnectionResult, datacenter: string, service: string): void {
    const key = `${result}\u0000${datacenter}\u0000${service}`;
    let child = this.labelCache.get(key);
    if (child === undefined) {
      child = this.context.metrics.connections.labels(result, datacenter, service);
      if (this.labelCache.size < 10_000) this.labelCache.set(key, child);
    }
    child.inc();
  }

  /** @internal one rate-limited log line about a connection. */
  log(level: "warn" | "info" | "debug", event: string, fields: Record<string, unknown>): void {
    const logger = this.context.logger;
    if (!logger.isLevelEnabled(level)) return;
    const suppressed = this.logLimiter.take();
    if (suppressed === false) return;
    logger[level]({ event, ...fields, ...(suppressed > 0 ? { suppressed } : {}) }, event);
  }
}

function noop(): void {}

/** One client connection and, once routed, its upstream. */
class Connection {
  private phase: Phase = "hello";
  private reader: ClientHelloReader | undefined;
  private upstream: net.Socket | undefined;
  private decision: RouteDecision | undefined;
  /** The metric labels of the decision (see {@link SniProxy.labelsOf}). */
  private labels: DestinationLabels = NO_LABELS;
  private clientClosed = false;
  private upstreamClosed = true;
  private clientReadEnded = false;
  private upstreamReadEnded = false;
  private released = false;
  /** The hello deadline: absolute from accept, not reset by activity (a trickling client hits it too). */
  private helloTimer: NodeJS.Timeout | undefined;
  /** Upstream → client (created when routed, shared by every connect attempt). */
  private toClient: Pump | undefined;
  /** Client → upstream (created when forwarding starts, if the client socket allows it). */
  private toUpstream: Pump | undefined;

  constructor(
    private readonly proxy: SniProxy,
    private readonly client: net.Socket,
  ) {
    const settings = proxy.settings;
    this.reader = new ClientHelloReader({ maxHelloLength: settings.maxHelloLength });
    this.helloTimer = setTimeout(this.onHelloTimeout, settings.helloTimeoutMs);
    client.on("data", this.onHelloData);
    client.on("end", this.onClientEnd);
    client.on("error", this.onClientError);
    client.on("timeout", this.onClientTimeout);
    client.on("close", this.onClientClose);
  }

  /** Closes both sides now. */
  destroy(): void {
    if (!this.client.destroyed) this.client.destroy();
    if (this.upstream && !this.upstream.destroyed) this.upstream.destroy();
  }

  private readonly onHelloData = (chunk: Buffer): void => {
    const reader = this.reader as ClientHelloReader;
    const result = reader.push(chunk);
    if (result.status === "need-more") return;
    if (result.status === "error") {
      this.refuseHello(result.reason);
      return;
    }
    clearTimeout(this.helloTimer);
    this.client.pause();
    this.client.removeListener("data", this.onHelloData);
    const table = this.proxy.ctx.table();
    const decision: RouteDecision = table
      ? route(result.sni, table, table.datacenter, table.trustDomain)
      : { kind: "reject", reason: "no-routes" };
    this.decision = decision;
    if (table) this.labels = this.proxy.labelsOf(decision, table.datacenter);
    if (decision.kind === "reject") {
      this.phase = "done";
      this.proxy.ctx.metrics.routeRejections.inc({ reason: decision.reason });
      this.proxy.count("rejected", this.labels.datacenter, this.labels.service);
      this.proxy.log("warn", "connection-rejected", {
        reason: decision.reason,
        sni: result.sni,
        remote: this.client.remoteAddress,
      });
      this.client.destroy();
      return;
    }
    this.phase = "dial";
    this.client.setTimeout(this.proxy.settings.idleTimeoutMs);
    const start = this.proxy.nextStart(decision.key, decision.endpoints.length);
    this.dial(decision.endpoints, start, 0);
  };

  private readonly onHelloTimeout = (): void => {
    if (this.phase === "hello") this.refuseHello("timeout");
  };

  private refuseHello(reason: HelloFailureReason): void {
    clearTimeout(this.helloTimer);
    this.phase = "done";
    const received = this.reader ? this.reader.bytes.length : 0;
    this.reader = undefined;
    this.proxy.ctx.metrics.helloFailures.inc({ reason });
    this.proxy.count("rejected", "", "");
    // A connect-and-close with no bytes is what TCP health checks do: keep it out of the warnings.
    this.proxy.log(reason === "eof" && received === 0 ? "debug" : "warn", "hello-refused", {
      reason,
      bytes: received,
      remote: this.client.remoteAddress,
    });
    if (!this.client.destroyed) this.client.destroy();
  }

  private dial(endpoints: readonly RouteEndpoint[], start: number, attempt: number): void {
    const endpoint = endpoints[(start + attempt) % endpoints.length];
    const settings = this.proxy.settings;
    const began = performance.now();
    const hot = this.proxy.ctx.metrics.hot;
    const pump = (this.toClient ??= new Pump(this.client, this.proxy.pool, (bytes) => (hot.bytesToClient += bytes)));
    const upstream = net.connect({
      host: endpoint.address,
      port: endpoint.port,
      noDelay: true,
      allowHalfOpen: true,
      onread: { buffer: pump.nextBuffer, callback: pump.onRead },
    });
    this.upstream = upstream;
    this.upstreamClosed = false;
    let settled = false;
    const fail = (why: string) => {
      if (settled) return;
      settled = true;
      upstream.removeAllListeners("connect");
      if (!upstream.destroyed) upstream.destroy();
      this.upstreamClosed = true;
      if (this.clientClosed) {
        // The client left (reset) while dialling and the attempt was abandoned for it: not an upstream failure.
        this.maybeRelease();
        return;
      }
      const metrics = this.proxy.ctx.metrics;
      const decision = this.decision as Exclude<RouteDecision, { kind: "reject" }>;
      this.proxy.connectFailed.observe((performance.now() - began) / 1000);
      metrics.connectFailures.inc({ datacenter: this.labels.datacenter, service: this.labels.service });
      this.proxy.log("warn", "upstream-connect-failed", {
        reason: why,
        upstream: `${endpoint.address}:${endpoint.port}`,
        attempt: attempt + 1,
        of: endpoints.length,
        datacenter: decision.datacenter,
        service: decision.service,
      });
      if (attempt + 1 < endpoints.length) {
        this.dial(endpoints, start, attempt + 1);
        return;
      }
      this.phase = "done";
      this.proxy.count("upstream-failed", this.labels.datacenter, this.labels.service);
      this.client.destroy();
    };
    upstream.setTimeout(settings.connectTimeoutMs);
    upstream.once("timeout", () => fail("timeout"));
    upstream.once("error", (error: NodeJS.ErrnoException) => fail(error.code ?? "error"));
    upstream.once("close", () => {
      if (!settled) fail("closed");
      else if (this.upstream === upstream && !this.upstreamClosed) this.onUpstreamClose();
    });
    upstream.once("connect", () => {
      if (settled) return;
      settled = true;
      upstream.removeAllListeners("timeout");
      upstream.removeAllListeners("error");
      upstream.on("error", this.onUpstreamError);
      this.proxy.connectSucceeded.observe((performance.now() - began) / 1000);
      if (this.clientClosed) {
        upstream.destroy();
        return;
      }
      upstream.setTimeout(0);
      pump.source = upstream;
      this.proxy.count("forwarded", this.labels.datacenter, this.labels.service);
      this.startPipe(upstream);
    });
  }

  private startPipe(upstream: net.Socket): void {
    this.phase = "pipe";
    const client = this.client;
    const hot = this.proxy.ctx.metrics.hot;
    const hello = (this.reader as ClientHelloReader).bytes;
    this.reader = undefined;
    hot.bytesToUpstream += hello.length;
    upstream.write(hello);

    upstream.on("end", () => {
      this.upstreamReadEnded = true;
      if (!client.destroyed) client.end();
    });
    // Client → upstream: whatever arrived while dialling first, then straight from the socket
    // into a buffer of this connection (no allocation per read), else ordinary 'data' events.
    for (let chunk = client.read() as Buffer | null; chunk !== null; chunk = client.read() as Buffer | null) {
      hot.bytesToUpstream += chunk.length;
      upstream.write(chunk);
    }
    const eofSeen = (client as unknown as { _readableState?: { ended?: boolean } })._readableState?.ended !== false;
    let buffered = false;
    if (!eofSeen) {
      const pump = new Pump(upstream, this.proxy.pool, (bytes) => (hot.bytesToUpstream += bytes));
      pump.source = client;
      buffered = useReadBuffer(client, pump);
      if (buffered) this.toUpstream = pump;
      else pump.dispose();
    }
    if (!buffered) {
      client.on("data", (chunk: Buffer) => {
        hot.bytesToUpstream += chunk.length;
        if (!upstream.write(chunk)) client.pause();
      });
      upstream.on("drain", () => client.resume());
    }
    if (this.clientReadEnded) upstream.end();
    client.resume();
  }

  private readonly onClientEnd = (): void => {
    this.clientReadEnded = true;
    if (this.phase === "hello") {
      this.refuseHello("eof");
      return;
    }
    if (this.phase === "pipe" && this.upstream && !this.upstream.destroyed) this.upstream.end();
  };

  private readonly onClientError = (): void => {
    // Reset or broken pipe: 'close' follows and tears the other side down.
    if (this.phase === "hello") this.refuseHello("eof");
  };

  private readonly onUpstreamError = (error: NodeJS.ErrnoException): void => {
    this.proxy.log("info", "upstream-error", {
      code: error.code,
      remote: this.client.remoteAddress,
    });
  };

  private readonly onClientTimeout = (): void => {
    this.proxy.log("info", "idle-timeout", { remote: this.client.remoteAddress });
    this.destroy();
  };

  private readonly onClientClose = (): void => {
    this.clientClosed = true;
    if (this.phase === "hello") {
      // Closed without 'end' (reset): counts as eof; refuseHello does not run twice.
      this.refuseHello("eof");
    }
    const upstream = this.upstream;
    if (upstream && !upstream.destroyed) {
      // A clean close (our end() done and theirs received) lets the upstream flush what it holds,
      // within the idle timeout (the client's timer is gone with the client: an upstream that
      // never reads again must not hold the connection for ever).
      const clean = this.clientReadEnded && this.upstreamReadEnded;
      if (!clean) upstream.destroy();
      else {
        upstream.setTimeout(this.proxy.settings.idleTimeoutMs);
        upstream.once("timeout", () => upstream.destroy());
      }
    }
    this.maybeRelease();
  };

  private onUpstreamClose(): void {
    this.upstreamClosed = true;
    if (!this.client.destroyed) {
      const clean = this.clientReadEnded && this.upstreamReadEnded;
      if (!clean) this.client.destroy();
    }
    this.maybeRelease();
  }

  private maybeRelease(): void {
    if (this.released || !this.clientClosed || !this.upstreamClosed) return;
    this.released = true;
    this.phase = "done";
    // Both sockets are closed: nothing reads into or writes from the buffers any more.
    this.toClient?.dispose();
    this.toUpstream?.dispose();
    this.proxy.released(this);
  }
}

/**
 * Whether this Node.js lets the proxy read accepted sockets into its own buffers (no allocation
 * per read); when not, it falls back to ordinary 'data' events, which work everywhere.
 */
export function readBufferModeAvailable(): boolean {
  return USER_BUFFER_FIELDS !== undefined;
}
