/**
 * The gateway's Prometheus metrics (prom-client), in a registry of its own so several gateways
 * can run in one process. Hot-path counts (bytes, active connections) are plain numbers that
 * the metrics read when scraped, so forwarding a chunk costs one addition.
 */
import { Counter, Gauge, Histogram, Registry } from "prom-client";

/** How a connection ended up; the `result` label of `sni_gateway_connections_total`. */
export type ConnectionResult =
  /** Routed and its upstream connected. */
  | "forwarded"
  /** Refused by the hello reader or the router (see the reason counters). */
  | "rejected"
  /** Routed, but no endpoint accepted the connection. */
  | "upstream-failed"
  /** Closed at once: the gateway was at its connection limit. */
  | "over-limit"
  /** Closed by the client before it sent a byte: a TCP health check (Consul's, Docker's), not a refusal. */
  | "probe";

/** Plain counters the proxy bumps on the hot path. */
export interface HotCounters {
  /** Bytes forwarded client → upstream. */
  bytesToUpstream: number;
  /** Bytes forwarded upstream → client. */
  bytesToClient: number;
}

const NO_RELAYED_BYTES = Object.freeze({ toUpstream: 0, toClient: 0 });

/** The metrics of one gateway. */
export class GatewayMetrics {
  /** The registry to scrape (`/metrics`). */
  readonly registry: Registry;
  /** Hot-path counters. */
  readonly hot: HotCounters = { bytesToUpstream: 0, bytesToClient: 0 };
  /** `sni_gateway_connections_total{result,datacenter,service}`. */
  readonly connections: Counter<"result" | "datacenter" | "service">;
  /** `sni_gateway_hello_failures_total{reason}`. */
  readonly helloFailures: Counter<"reason">;
  /** `sni_gateway_route_rejections_total{reason}`. */
  readonly routeRejections: Counter<"reason">;
  /** `sni_gateway_upstream_connect_seconds{result}`. */
  readonly connectLatency: Histogram<"result">;
  /** `sni_gateway_upstream_connect_failures_total{datacenter,service}`: one per failed attempt. */
  readonly connectFailures: Counter<"datacenter" | "service">;
  /** `sni_gateway_route_table_entries{kind}`. */
  readonly tableEntries: Gauge<"kind">;
  /** `sni_gateway_route_table_last_reload_timestamp_seconds`. */
  readonly lastReload: Gauge;
  /** `sni_gateway_route_reload_failures_total{source}`. */
  readonly reloadFailures: Counter<"source">;
  /** Bytes the native relay moved, read when `sni_gateway_bytes_total` is scraped; the proxy sets it. Default: none. */
  relayedBytes: () => { toUpstream: number; toClient: number } = () => NO_RELAYED_BYTES;
  /** Connections open now, read when `sni_gateway_active_connections` is scraped; the proxy sets it. Default: none. */
  activeConnections: () => number = () => 0;
  /** Read when `sni_gateway_route_source_stale` is scraped; the gateway sets it. Default: never stale. */
  sourceStale: () => boolean = () => false;

  /**
   * @param prefix metric name prefix. Default: `"sni_gateway_"`.
   */
  constructor(prefix = "sni_gateway_") {
    const registers = [(this.registry = new Registry())];
    const counter = <L extends string>(name: string, help: string, labelNames: L[], collect?: () => void) =>
      new Counter<L>({ name: prefix + name, help, labelNames, registers, collect });
    const gauge = (name: string, help: string, collect?: (this: Gauge) => void) =>
      new Gauge({ name: prefix + name, help, registers, collect });
    this.connections = counter(
      "connections_total",
      "Connections accepted, by result and destination datacenter and service.",
      ["result", "datacenter", "service"],
    );
    this.helloFailures = counter("hello_failures_total", "ClientHellos refused, by reason.", ["reason"]);
    this.routeRejections = counter("route_rejections_total", "Server names refused by the router, by reason.", [
      "reason",
    ]);
    this.connectLatency = new Histogram({
      name: `${prefix}upstream_connect_seconds`,
      help: "Time to connect to an upstream endpoint, by result.",
      labelNames: ["result"],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    });
    this.connectFailures = counter(
      "upstream_connect_failures_total",
      "Failed upstream connect attempts (each is followed by failover to the next endpoint).",
      ["datacenter", "service"],
    );
    const bytes: Counter<"direction"> = counter(
      "bytes_total",
      "Bytes forwarded, by direction.",
      ["direction"],
      (): void => this.countBytes(bytes),
    );
    const active = () => this.activeConnections();
    gauge("active_connections", "Client connections open now.", function () {
      this.set(active());
    });
    this.tableEntries = new Gauge({
      name: `${prefix}route_table_entries`,
      help: "Routes in the live table, by kind (service, gateway, server, peering).",
      labelNames: ["kind"],
      registers,
    });
    this.lastReload = gauge(
      "route_table_last_reload_timestamp_seconds",
      "When the live route table was last replaced (Unix time).",
    );
    const isStale = () => this.sourceStale();
    gauge(
      "route_source_stale",
      "1 while the route source cannot refresh (e.g. Consul unreachable) and the last good table stays in force, else 0.",
      function () {
        this.set(isStale() ? 1 : 0);
      },
    );
    this.reloadFailures = counter(
      "route_reload_failures_total",
      "Failed attempts to load or refresh routes, by source; the last good table stays.",
      ["source"],
    );
  }

  /** Bytes counted by the last scrape of `sni_gateway_bytes_total`. */
  private scrapedBytes = { up: 0, down: 0 };

  /** What a scrape of `sni_gateway_bytes_total` does: adds the bytes moved since the last one. */
  private countBytes(bytes: Counter<"direction">): void {
    const native = this.relayedBytes();
    const up = this.hot.bytesToUpstream + native.toUpstream;
    const down = this.hot.bytesToClient + native.toClient;
    bytes.inc({ direction: "client_to_upstream" }, up - this.scrapedBytes.up);
    bytes.inc({ direction: "upstream_to_client" }, down - this.scrapedBytes.down);
    this.scrapedBytes = { up, down };
  }
}
