/**
 * One SNI mesh gateway, assembled: a route source, the proxy listeners, the admin server,
 * metrics, logging and (Consul mode) self-registration. {@link startGateway} is the
 * programmatic API; the CLI (`main.ts`) is a thin layer over it.
 */
import type { AddressInfo } from "node:net";
import type { Logger } from "pino";
import { consulGrpcAddress } from "../consul/settings";
import type { RoutesFile } from "../mesh/model/routes-file";
import { AdminServer } from "./admin/admin";
import { gatewayServiceId, GatewayRegistrationInput } from "../mesh/render/gateway-registration";
import { ConsulClient, ConsulClientOptions } from "../consul/client";
import { ConsulRouteSource, ConsulRouteSourceOptions } from "./sources/consul-route-source";
import { GatewayConfigError, RouteLimitError } from "./errors";
import { ConsulError } from "../consul/errors";
import { GATEWAY_TOKEN_RIGHTS } from "../mesh/render/gateway-acl-rules";
import { FileRouteSource, FileRouteSourceOptions } from "./sources/file-route-source";
import { HostPort } from "./net/host-port";
import { createLogger, LogLevel } from "./admin/logger";
import { GatewayMetrics } from "./admin/metrics";
import { ProxyOptions, SniProxy } from "./net/proxy";
import {
  RouteSource,
  RouteSourceListener,
  RouteTable,
  routeTableSize,
  routeTableToRoutesFile,
} from "./routing/route-table";
import { SelfRegistration } from "./sources/self-registration";
import { StaticRouteSource } from "./sources/static-route-source";
import { XdsRouteSource, XdsRouteSourceOptions } from "./sources/xds-route-source";
import type { XdsServerOptions } from "./sources/xds-stream";

/** Default of {@link GatewayOptions.drainGraceMs}, in ms. */
export const DEFAULT_DRAIN_GRACE_MS = 10_000;

/**
 * Default of {@link GatewayOptions.maxRoutes}: ten times the biggest catalog measured
 * (`bench:scale`: 10,000 services in 142 MiB), under 1 GiB at the cost per route measured there.
 */
export const DEFAULT_MAX_ROUTES = 100_000;

/** The ways a gateway in Consul mode learns its routes; see {@link ConsulRoutesOption.via}. */
export const CONSUL_ROUTE_VIAS = ["xds", "catalog"] as const;

/** How a gateway in Consul mode learns its routes. */
export interface ConsulRoutesOption {
  /** The agent's HTTP API (registration, CA roots, and the catalog with `via: "catalog"`). */
  consul: ConsulClientOptions;
  /**
   * `"xds"`: from the agent's xDS server, as Consul's Envoy gateway does (one stream, any catalog
   * size). `"catalog"`: blocking queries on the catalog, one per local service, so bounded by
   * the agent's `http_max_conns_per_client` (default 200); for agents without gRPC. Default: `"xds"`.
   */
  via?: (typeof CONSUL_ROUTE_VIAS)[number];
  /** The agent's gRPC server for `via: "xds"`. Default: the HTTP agent's host on 8502 (8503 for https). */
  grpc?: XdsServerOptions;
  /** The registered service ID the xDS stream is for. Default: the registration's ID (required without `register`). */
  proxyId?: string;
  /**
   * Carry the Consul servers' own traffic (WAN federation through the gateways). With `via: "xds"`
   * the agent decides, from the registration's `consul-wan-federation` meta (`register.exposeServers`);
   * with `"catalog"` this turns the server routes on. Default: `false`.
   */
  exposeServers?: boolean;
  /** Consul's `domain`, which server SNI names end with. Default: `"consul"`. */
  consulDomain?: string;
  /** Timing of the source. Default: the source's defaults. */
  watch?: Omit<
    ConsulRouteSourceOptions & XdsRouteSourceOptions,
    "client" | "datacenter" | "trustDomain" | "server" | "proxyId"
  >;
}

/** Where routes come from: a file, Consul (xDS or the catalog), or a table given in code. */
export type GatewayRoutesOption =
  | { file: string; watch?: Omit<FileRouteSourceOptions, "path" | "datacenter" | "trustDomain"> }
  | ConsulRoutesOption
  | { static: RoutesFile };

/** Options of {@link startGateway}. */
export interface GatewayOptions {
  /** The gateway's datacenter. */
  datacenter: string;
  /** The mesh trust domain (`<cluster-id>.consul`). Default: the routes file's, or Consul's CA roots'. */
  trustDomain?: string;
  /** Addresses to accept mesh traffic on, at least one (`port: 0` picks a free port). */
  listen: HostPort[];
  /** Address of the admin HTTP server. Default: none (no admin server). */
  admin?: HostPort;
  /** The route source. */
  routes: GatewayRoutesOption;
  /**
   * Consul mode only: register this gateway with the agent on start and deregister on close.
   * `port` defaults to the first listener's bound port. Default: no registration.
   */
  register?: Omit<GatewayRegistrationInput, "port"> & { port?: number };
  /** Data path timeouts and limits. */
  proxy?: ProxyOptions;
  /**
   * Most routes (services, subsets and other datacenters) a table may hold: a bigger one from the
   * source is refused, the last good table stays, and `/readyz` says so until a table fits.
   * Default: {@link DEFAULT_MAX_ROUTES}.
   */
  maxRoutes?: number;
  /** Time open connections get on {@link GatewayHandle.close}, in ms. Default: {@link DEFAULT_DRAIN_GRACE_MS}. */
  drainGraceMs?: number;
  /** Logger. Default: pino JSON on stdout at `logLevel`. */
  logger?: Logger;
  /** Level of the default logger. Default: {@link DEFAULT_LOG_LEVEL} (`"info"`). */
  logLevel?: LogLevel;
}

/** A running gateway. */
export interface GatewayHandle {
  /** The bound mesh listener addresses, in the order given. */
  readonly listenAddresses: AddressInfo[];
  /** The bound admin address, when there is an admin server. */
  readonly adminAddress: AddressInfo | undefined;
  /** Metrics (the registry `/metrics` serves). */
  readonly metrics: GatewayMetrics;
  /** The logger. */
  readonly logger: Logger;
  /** The route source. */
  readonly source: RouteSource;
  /** The self-registration, in Consul mode with `register`. */
  readonly registration: SelfRegistration | undefined;
  /** The live table, `undefined` until loaded. */
  table(): RouteTable | undefined;
  /** Routes loaded, source fresh, not draining: what `/readyz` answers. */
  ready(): boolean;
  /** Connections open now. */
  activeConnections(): number;
  /** The relay of established connections: `splice` (native, zero copy) or `pump` (TypeScript). */
  readonly relayMode: "splice" | "pump";
  /**
   * Deregisters (Consul mode), stops accepting, lets open connections finish for up to
   * `graceMs`, closes the rest, stops the route source and the admin server. Idempotent.
   * @param graceMs drain time, in ms. Default: the gateway's `drainGraceMs`.
   */
  close(graceMs?: number): Promise<void>;
}

/**
 * Starts a gateway: loads routes (waiting for the first attempt), starts the admin server and
 * the listeners, then registers with Consul when asked.
 * @param options see {@link GatewayOptions}.
 * @throws GatewayConfigError naming the option when options are inconsistent; ConsulAddressError for an
 *   unusable agent address; the system error when a listener or the admin server cannot bind. A start
 *   that fails part-way first releases what it started, as {@link GatewayHandle.close} does.
 */
export async function startGateway(options: GatewayOptions): Promise<GatewayHandle> {
  if (options.listen.length === 0) throw new GatewayConfigError("listen", "at least one HOST:PORT is required");
  const logger = options.logger ?? createLogger(options.logLevel);
  const metrics = new GatewayMetrics();
  let table: RouteTable | undefined;
  let draining = false;
  let client: ConsulClient | undefined;

  let source: RouteSource;
  const routes = options.routes;
  if ("file" in routes) {
    source = new FileRouteSource({
      ...routes.watch,
      path: routes.file,
      datacenter: options.datacenter,
      trustDomain: options.trustDomain,
    });
  } else if ("consul" in routes) {
    client = new ConsulClient({ deniedHint: GATEWAY_TOKEN_RIGHTS, ...routes.consul });
    if ((routes.via ?? "xds") === "xds") {
      const proxyId = routes.proxyId ?? (options.register && gatewayServiceId(options.register));
      if (!proxyId) {
        throw new GatewayConfigError(
          "routes.proxyId",
          "xDS needs the gateway's registered service ID: register, or name it",
        );
      }
      source = new XdsRouteSource({
        ...routes.watch,
        client,
        server: routes.grpc ?? { ...consulGrpcAddress(new URL(client.address)), ca: routes.consul.ca },
        token: routes.consul.token,
        proxyId,
        serviceName: options.register?.name,
        datacenter: options.datacenter,
        trustDomain: options.trustDomain,
        consulDomain: routes.consulDomain,
      });
    } else {
      source = new ConsulRouteSource({
        ...routes.watch,
        client,
        datacenter: options.datacenter,
        trustDomain: options.trustDomain,
        exposeServers: routes.exposeServers,
        consulDomain: routes.consulDomain,
      });
    }
  } else {
    if (routes.static.datacenter.toLowerCase() !== options.datacenter.toLowerCase()) {
      const reason = `"${routes.static.datacenter}" is not the gateway's datacenter "${options.datacenter}"`;
      throw new GatewayConfigError("routes.static.datacenter", reason);
    }
    source = new StaticRouteSource(routes.static);
  }
  if (options.register && !client) {
    throw new GatewayConfigError("register", "self-registration needs the Consul route source (--consul)");
  }
  // Before the source starts: a relay that cannot start (`--relay splice` without the addon) leaves nothing running.
  const proxy = new SniProxy({ table: () => table, metrics, logger }, options.proxy);
  if (proxy.relayFallback) {
    logger.warn({ event: "relay-fallback", reason: proxy.relayFallback }, "splice relay not available: using the pump");
  }

  const maxRoutes = options.maxRoutes ?? DEFAULT_MAX_ROUTES;
  // Set while the source's last table is refused for its size: the table in force (if any) is stale.
  let refused: RouteLimitError | undefined;
  const status = () => {
    const current = source.status();
    if (!refused) return current;
    return { ...current, loaded: table !== undefined, stale: table !== undefined, lastError: refused.message };
  };
  metrics.sourceStale = () => status().stale;
  let admin: AdminServer | undefined;
  let adminAddress: AddressInfo | undefined;
  let registration: SelfRegistration | undefined;
  /**
   * The one teardown, for close() and for a start that fails part-way (each step is a no-op for
   * what has not started). Deregister first, so Consul stops sending traffic before the
   * listeners close; the admin server after the drain, so `/readyz` says "draining" meanwhile.
   */
  const teardown = async (graceMs: number) => {
    await registration?.stop();
    await proxy.close(graceMs);
    await source.close();
    await admin?.close();
    client?.close();
  };
  const listener: RouteSourceListener = {
    onTable(next) {
      const size = routeTableSize(next);
      const routes = size.services + size.gateways + size.servers + size.peering;
      if (routes > maxRoutes) {
        refused = new RouteLimitError(routes, maxRoutes);
        listener.onError(refused);
        return;
      }
      refused = undefined;
      table = next;
      metrics.tableEntries.set({ kind: "service" }, size.services);
      metrics.tableEntries.set({ kind: "gateway" }, size.gateways);
      metrics.tableEntries.set({ kind: "server" }, size.servers);
      metrics.tableEntries.set({ kind: "peering" }, size.peering);
      metrics.lastReload.set(Date.now() / 1000);
      logger.info({ event: "routes-loaded", source: source.kind, ...size }, "routes loaded");
    },
    onError(error) {
      if (error instanceof ConsulError && error.code === "E_CONSUL_ACL_FILTERED") {
        logger.error(
          { event: "acl-filtered", source: source.kind, error: error.message },
          "the Consul token cannot read the whole catalog",
        );
        return;
      }
      metrics.reloadFailures.inc({ source: source.kind });
      logger.error(
        { event: "routes-error", source: source.kind, error: error.message },
        "routes not updated; keeping the last good table",
      );
    },
  };
  let listenAddresses: AddressInfo[];
  try {
    if (options.admin) {
      admin = new AdminServer({
        metrics,
        source: () => ({ kind: source.kind, ...status() }),
        routes: () => (table ? routeTableToRoutesFile(table) : undefined),
        draining: () => draining,
      });
      adminAddress = await admin.listen(options.admin.host, options.admin.port);
    }
    for (const l of options.listen) await proxy.listen(l.host, l.port);
    listenAddresses = proxy.addresses();
    if (options.register && client) {
      registration = new SelfRegistration(
        client,
        { ...options.register, port: options.register.port ?? listenAddresses[0].port },
        logger,
      );
      await registration.start();
    }
    // After the listeners and the registration: the agent serves a gateway's xDS only once it is
    // registered, and a gateway without routes yet refuses connections (reason "no-routes").
    await source.start(listener);
  } catch (error) {
    await teardown(0);
    throw error;
  }
  logger.info(
    {
      event: "started",
      datacenter: options.datacenter,
      listen: listenAddresses.map((a) => `${a.address}:${a.port}`),
      admin: adminAddress ? `${adminAddress.address}:${adminAddress.port}` : undefined,
      source: source.kind,
      relay: proxy.relayMode,
    },
    "sni-gateway started",
  );

  let closing: Promise<void> | undefined;
  return {
    listenAddresses,
    adminAddress,
    metrics,
    logger,
    source,
    registration,
    table: () => table,
    ready: () => {
      const now = status();
      return now.loaded && !now.stale && !draining;
    },
    activeConnections: () => proxy.activeConnections,
    relayMode: proxy.relayMode,
    close(graceMs?: number): Promise<void> {
      if (closing) return closing;
      draining = true;
      closing = (async () => {
        const grace = graceMs ?? options.drainGraceMs ?? DEFAULT_DRAIN_GRACE_MS;
        logger.info({ event: "draining", open: proxy.activeConnections, graceMs: grace }, "draining");
        await teardown(grace);
        logger.info({ event: "stopped" }, "sni-gateway stopped");
      })();
      return closing;
    },
  };
}
