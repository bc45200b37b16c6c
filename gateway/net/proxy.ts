/**
 * The data path's front: listeners, the connection limit, and the drain on close. Where the
 * addon is built, its front accepts the connections, reads each ClientHello, dials and relays
 * them (`native-connections.ts`); otherwise each accepted Node.js socket becomes a
 * {@link Connection} (`connection.ts`), which does the same with the TypeScript pump. Either way
 * the proxy is the host (`connection-host.ts`): settings, buffers, routing with round-robin
 * start, metric labels and rate-limited logs. TLS is never terminated.
 */
import net from "node:net";
import type { Logger } from "pino";
import { Connection } from "./connection";
import type { ConnectionHost, Destination, OpenConnection } from "./connection-host";
import { DestinationLabeler, type DestinationLabels, NO_LABELS } from "../admin/destination-labels";
import { GatewayConfigError } from "../errors";
import { RateLimiter } from "../admin/logger";
import type { ConnectionResult, GatewayMetrics } from "../admin/metrics";
import { BufferPool } from "./pump";
import type { RouteTable } from "../routing/route-table";
import { route } from "../routing/router";
import { NativeConnections } from "./native-connections";
import { spliceRelayAvailability } from "./splice-relay";

/**
 * What carries the connections: `splice`, the native addon (Linux, see docs/splice-relay.md):
 * its front accepts them, reads the ClientHello and dials, JavaScript only routes, and the bytes
 * move with `splice(2)`, zero copy; `pump`, Node.js sockets and the TypeScript pump (`pump.ts`);
 * `auto` splices when the addon is built and pumps otherwise.
 */
export const RELAY_MODES = ["auto", "splice", "pump"] as const;

/** One of {@link RELAY_MODES}. */
export type RelayMode = (typeof RELAY_MODES)[number];

/** Tuning of the data path. */
export interface ProxyOptions {
  /** How long a client may take to send its whole ClientHello, in ms. Default: {@link DEFAULT_HELLO_TIMEOUT_MS}. */
  helloTimeoutMs?: number;
  /**
   * Close a connection when neither side has sent anything for this long, in ms; `0` disables.
   * Default: {@link DEFAULT_IDLE_TIMEOUT_MS} (1 h, as Envoy's TCP proxy).
   */
  idleTimeoutMs?: number;
  /**
   * How long one upstream connect attempt may take before failing over, in ms.
   * Default: {@link DEFAULT_CONNECT_TIMEOUT_MS}.
   */
  connectTimeoutMs?: number;
  /** Most client connections open at once; more are closed and counted. Default: {@link DEFAULT_MAX_CONNECTIONS}. */
  maxConnections?: number;
  /** Largest ClientHello accepted, in bytes (handshake header included). Default: 16 KiB + 4 (the reader's). */
  maxHelloLength?: number;
  /** Most per-connection log lines (rejections, failures) per second. Default: {@link DEFAULT_LOG_LINES_PER_SECOND}. */
  logLinesPerSecond?: number;
  /**
   * Size of the read buffers used for bulk transfer, in bytes, at least {@link MIN_READ_BUFFER_BYTES}:
   * the gateway reads into them and writes from them, with no allocation per chunk. Idle and
   * interactive connections use 4 KiB buffers and move to this size when a read fills one.
   * Default: {@link DEFAULT_READ_BUFFER_BYTES} (32 KiB).
   */
  readBufferBytes?: number;
  /**
   * Most distinct service names of other datacenters used as the `service` label of the
   * connection metrics (see `destination-labels.ts`); past the limit, remote connections are
   * counted under the service label `_other`. Default: {@link DEFAULT_MAX_LABELLED_REMOTE_SERVICES}.
   */
  maxLabelledRemoteServices?: number;
  /** What carries the connections; see {@link RELAY_MODES}. Default: {@link DEFAULT_RELAY_MODE}. */
  relay?: RelayMode;
}

/** What the proxy reads and reports through. */
export interface ProxyContext {
  /**
   * The live route table, `undefined` until routes are loaded; read once per connection, so swaps
   * never affect connections in flight.
   */
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
/** Default of {@link ProxyOptions.logLinesPerSecond}. */
export const DEFAULT_LOG_LINES_PER_SECOND = 20;
/** Default of {@link ProxyOptions.readBufferBytes}. */
export const DEFAULT_READ_BUFFER_BYTES = 32 * 1024;
/** The least {@link ProxyOptions.readBufferBytes}: smaller buffers would cost a system call per few bytes. */
export const MIN_READ_BUFFER_BYTES = 1024;
/** Default of {@link ProxyOptions.maxLabelledRemoteServices}. */
export const DEFAULT_MAX_LABELLED_REMOTE_SERVICES = 1000;
/** Default of {@link ProxyOptions.relay}. */
export const DEFAULT_RELAY_MODE: RelayMode = "auto";

/** Pending connections the kernel queues per listener before the proxy accepts them. */
const LISTEN_BACKLOG = 4096;
/** Most counter children (result × destination labels) kept resolved; the labels are bounded, so is the cache. */
const MAX_CACHED_COUNTERS = 10_000;
/** The round-robin position of a destination wraps here, far above any endpoint count, so it never overflows. */
const ROUND_ROBIN_WRAP = 1_000_000;

/** {@link ProxyOptions} with every default applied, computed once. */
export type ProxySettings = Readonly<
  Required<Omit<ProxyOptions, "maxHelloLength">> & Pick<ProxyOptions, "maxHelloLength">
>;

/**
 * Applies the defaults of {@link ProxyOptions}.
 * @param options - The options given.
 * @returns the settings, frozen.
 */
export function proxySettings(options: ProxyOptions): ProxySettings {
  return Object.freeze({
    helloTimeoutMs: options.helloTimeoutMs ?? DEFAULT_HELLO_TIMEOUT_MS,
    idleTimeoutMs: options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS,
    connectTimeoutMs: options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
    maxConnections: options.maxConnections ?? DEFAULT_MAX_CONNECTIONS,
    maxHelloLength: options.maxHelloLength,
    logLinesPerSecond: options.logLinesPerSecond ?? DEFAULT_LOG_LINES_PER_SECOND,
    readBufferBytes: Math.max(MIN_READ_BUFFER_BYTES, options.readBufferBytes ?? DEFAULT_READ_BUFFER_BYTES),
    maxLabelledRemoteServices: options.maxLabelledRemoteServices ?? DEFAULT_MAX_LABELLED_REMOTE_SERVICES,
    relay: options.relay ?? DEFAULT_RELAY_MODE,
  });
}

/** The SNI proxy: one or more listeners sharing one connection handler. */
export class SniProxy implements ConnectionHost {
  /** The options with their defaults. */
  readonly settings: ProxySettings;
  /** Read buffers, reused across chunks and connections. */
  readonly pool: BufferPool;
  /** The gateway's metrics. */
  readonly metrics: GatewayMetrics;
  /** The addon's front and relay, carrying every connection; `undefined` when the pump does. */
  readonly native: NativeConnections | undefined;
  /** Why `auto` fell back to the pump (the addon's load problem); `undefined` when it did not. */
  readonly relayFallback: string | undefined;
  private readonly servers: net.Server[] = [];
  private readonly nativeAddresses: net.AddressInfo[] = [];
  private readonly open = new Set<OpenConnection>();
  private readonly roundRobin = new Map<string, number>();
  private readonly logLimiter: RateLimiter;
  private readonly labeler: DestinationLabeler;
  private readonly counters = new Map<string, { inc(): void }>();
  private readonly connectLatency: Record<"success" | "failure", { observe(seconds: number): void }>;
  private closing = false;
  private drained: (() => void) | undefined;

  /**
   * @param context - Route table, metrics, logger.
   * @param options - Timeouts and limits; see {@link ProxyOptions}. Default: every default.
   * @throws GatewayConfigError when `relay` is `splice` and the addon cannot be loaded.
   */
  constructor(
    private readonly context: ProxyContext,
    options: ProxyOptions = {},
  ) {
    this.settings = proxySettings(options);
    this.metrics = context.metrics;
    this.pool = new BufferPool(this.settings.readBufferBytes);
    this.logLimiter = new RateLimiter(this.settings.logLinesPerSecond);
    this.labeler = new DestinationLabeler(this.settings.maxLabelledRemoteServices);
    const latency = context.metrics.connectLatency;
    this.connectLatency = { success: latency.labels("success"), failure: latency.labels("failure") };
    const mode = this.settings.relay;
    const availability = mode === "pump" ? undefined : spliceRelayAvailability();
    this.metrics.activeConnections = () => this.activeConnections;
    if (availability?.available) {
      const native = new NativeConnections(this, this.settings.idleTimeoutMs);
      this.metrics.relayedBytes = () => native.totals();
      this.native = native;
    } else if (availability) {
      if (mode === "splice") throw new GatewayConfigError("relay", `splice is not available: ${availability.reason}`);
      this.relayFallback = availability.reason;
    }
  }

  /** What carries the connections: `splice` (the native front and relay) or `pump` (TypeScript). */
  get relayMode(): "splice" | "pump" {
    return this.native ? "splice" : "pump";
  }

  /** Connections open now (admitted, not yet closed). */
  get activeConnections(): number {
    return this.open.size + (this.native?.active ?? 0);
  }

  /**
   * Starts a listener.
   * @param host - Address to bind, e.g. `0.0.0.0` or `127.0.0.1`.
   * @param port - Port to bind; `0` picks a free one.
   * @returns the bound address.
   */
  async listen(host: string, port: number): Promise<net.AddressInfo> {
    if (this.native) {
      const address = await this.native.listen(host, port, LISTEN_BACKLOG);
      this.nativeAddresses.push(address);
      return address;
    }
    const server = net.createServer({ allowHalfOpen: true, noDelay: true }, (socket) => this.accept(socket));
    this.servers.push(server);
    return new Promise((resolve, reject) => {
      const onError = (error: Error) => reject(error);
      server.once("error", onError);
      server.listen({ host, port, backlog: LISTEN_BACKLOG }, () => {
        server.removeListener("error", onError);
        server.on("error", (error) => this.context.logger.error({ err: error }, "listener error"));
        resolve(server.address() as net.AddressInfo);
      });
    });
  }

  /** The bound addresses of every listener. */
  addresses(): net.AddressInfo[] {
    const bound = this.servers
      .map((s) => s.address())
      .filter((a): a is net.AddressInfo => a !== null && typeof a === "object");
    return [...bound, ...this.nativeAddresses];
  }

  /**
   * Stops accepting, waits for open connections to finish for up to `graceMs`, then closes
   * whatever is left. Resolves when every connection is released: both sockets of each closed,
   * and each of the native front's reported ended.
   * @param graceMs - How long to let connections drain, in ms. Default: `0`.
   */
  async close(graceMs = 0): Promise<void> {
    this.closing = true;
    this.native?.unlisten();
    const listenersClosed = Promise.all(
      this.servers.map((s) => new Promise<void>((resolve) => (s.listening ? s.close(() => resolve()) : resolve()))),
    );
    if (!this.isDrained()) {
      const released = new Promise<void>((resolve) => (this.drained = resolve));
      // destroy() only starts closing: sockets report 'close', the native front its pairs, later.
      const timer = setTimeout(() => {
        for (const c of [...this.open]) c.destroy();
        this.native?.closeAll();
      }, graceMs);
      await released;
      clearTimeout(timer);
    }
    this.drained = undefined;
    await listenersClosed;
    this.native?.dispose();
  }

  /** {@inheritDoc ConnectionHost.destinationOf} */
  destinationOf(sni: string): Destination {
    const table = this.context.table();
    if (!table) return { decision: { kind: "reject", reason: "no-routes" }, labels: NO_LABELS, start: 0 };
    const decision = route(sni, table, table.datacenter, table.trustDomain);
    const labels = this.labeler.labelsOf(decision, table.datacenter);
    if (decision.kind === "reject") return { decision, labels, start: 0 };
    return { decision, labels, start: this.nextStart(decision.key, decision.endpoints.length) };
  }

  /** {@inheritDoc ConnectionHost.count} */
  count(result: ConnectionResult, labels: DestinationLabels): void {
    const key = `${result}\u0000${labels.datacenter}\u0000${labels.service}`;
    let counter = this.counters.get(key);
    if (counter === undefined) {
      counter = this.metrics.connections.labels(result, labels.datacenter, labels.service);
      if (this.counters.size < MAX_CACHED_COUNTERS) this.counters.set(key, counter);
    }
    counter.inc();
  }

  /** {@inheritDoc ConnectionHost.observeConnect} */
  observeConnect(result: "success" | "failure", seconds: number): void {
    this.connectLatency[result].observe(seconds);
  }

  /** {@inheritDoc ConnectionHost.log} */
  log(level: "warn" | "info" | "debug", event: string, fields: Record<string, unknown>): void {
    const logger = this.context.logger;
    if (!logger.isLevelEnabled(level)) return;
    const suppressed = this.logLimiter.take();
    if (suppressed === false) return;
    logger[level]({ event, ...fields, ...(suppressed > 0 ? { suppressed } : {}) }, event);
  }

  /** {@inheritDoc ConnectionHost.released} */
  released(connection: OpenConnection): void {
    this.open.delete(connection);
    if (this.drained && this.isDrained()) this.drained();
  }

  /** {@inheritDoc NativeConnectionsHost.ended} */
  ended(): void {
    if (this.drained && this.isDrained()) this.drained();
  }

  /** No connection is left to report on, in either path. */
  private isDrained(): boolean {
    return this.open.size === 0 && (this.native?.unreported ?? 0) === 0;
  }

  private accept(socket: net.Socket): void {
    if (this.closing || this.open.size >= this.settings.maxConnections) {
      socket.on("error", noop);
      socket.destroy();
      this.count("over-limit", NO_LABELS);
      this.log("warn", "connection-over-limit", { remote: socket.remoteAddress, limit: this.settings.maxConnections });
      return;
    }
    this.open.add(new Connection(this, socket));
  }

  /** The endpoint index to start from for a destination (round-robin). */
  private nextStart(key: string, count: number): number {
    const n = this.roundRobin.get(key) ?? 0;
    this.roundRobin.set(key, (n + 1) % ROUND_ROBIN_WRAP);
    return n % count;
  }
}

function noop(): void {}
