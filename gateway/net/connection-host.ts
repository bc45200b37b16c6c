/**
 * What a {@link Connection} (`connection.ts`) needs from the proxy that accepted it: its
 * settings, the shared buffers, routing with the live table, metrics and logs, and being told
 * when the connection is released. `proxy.ts` implements it.
 */
import type { DestinationLabels } from "../admin/destination-labels";
import type { ConnectionResult, GatewayMetrics } from "../admin/metrics";
import type { BufferPool } from "./pump";
import type { RouteDecision } from "../routing/router";

/** A connection the proxy holds open and can close (for the drain). */
export interface OpenConnection {
  /** Closes both sides now. */
  destroy(): void;
}

/** The settings a connection runs with, fixed for the proxy's lifetime. */
export interface ConnectionSettings {
  /** Time a client has for its whole ClientHello, from accept, in ms. */
  readonly helloTimeoutMs: number;
  /** Close when neither side has sent anything for this long, in ms; `0` disables. */
  readonly idleTimeoutMs: number;
  /** Time one upstream connect attempt may take before failing over, in ms. */
  readonly connectTimeoutMs: number;
  /** Largest ClientHello accepted, in bytes. Default: the reader's. */
  readonly maxHelloLength?: number;
}

/** Where a server name goes, as the host decided it. */
export interface Destination {
  /** The routing decision. */
  decision: RouteDecision;
  /** The labels of the connection's metrics. */
  labels: DestinationLabels;
  /** Index of the endpoint to dial first (round-robin); `0` for a refusal. */
  start: number;
}

/** What a connection needs from the proxy that accepted it. */
export interface ConnectionHost {
  /** Timeouts and the hello cap. */
  readonly settings: ConnectionSettings;
  /** Read buffers, shared by every connection. */
  readonly pool: BufferPool;
  /** The gateway's metrics (hot counters, rejections, hello and connect failures). */
  readonly metrics: GatewayMetrics;
  /**
   * Routes a server name with the live table (a refusal `no-routes` before the first table).
   * @param sni - The name from the ClientHello.
   */
  destinationOf(sni: string): Destination;
  /**
   * Counts a connection by its result and destination.
   * @param result - How it ended up.
   * @param labels - Its destination labels.
   */
  count(result: ConnectionResult, labels: DestinationLabels): void;
  /**
   * Records how long one upstream connect attempt took.
   * @param result - Whether it connected.
   * @param seconds - Its duration.
   */
  observeConnect(result: "success" | "failure", seconds: number): void;
  /**
   * Writes one rate-limited log line about a connection.
   * @param level - Its level.
   * @param event - The `event` field, also the message.
   * @param fields - More fields.
   */
  log(level: "warn" | "info" | "debug", event: string, fields: Record<string, unknown>): void;
  /**
   * Told once both of the connection's sockets are closed.
   * @param connection - The connection.
   */
  released(connection: OpenConnection): void;
}
