/**
 * The admin HTTP server, on its own address: `/healthz` (alive), `/readyz` (routes loaded and
 * fresh), `/metrics` (Prometheus text), `/routes` (the live table as JSON, routes file form).
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import type { RoutesFile } from "../../mesh/model/routes-file";
import type { GatewayMetrics } from "./metrics";
import type { RouteSourceStatus } from "../routing/route-table";

/** What the admin server reports on. */
export interface AdminContext {
  /** Metrics to serve. */
  metrics: GatewayMetrics;
  /** The route source's kind and health. */
  source(): RouteSourceStatus & { kind: string };
  /** The live table, or `undefined` before the first load. */
  routes(): RoutesFile | undefined;
  /** Whether the gateway is shutting down (then `/readyz` answers 503). */
  draining(): boolean;
}

/** The admin HTTP server. */
export class AdminServer {
  private readonly server: http.Server;

  /** @param context what to report on. */
  constructor(private readonly context: AdminContext) {
    this.server = http.createServer((req, res) => void this.handle(req, res));
    this.server.keepAliveTimeout = 5000;
  }

  /**
   * Starts listening.
   * @param host address to bind.
   * @param port port; `0` picks a free one.
   */
  listen(host: string, port: number): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen({ host, port }, () => {
        this.server.removeListener("error", reject);
        resolve(this.server.address() as AddressInfo);
      });
    });
  }

  /** Stops listening and closes idle keep-alive connections. */
  close(): Promise<void> {
    return new Promise((resolve) => {
      if (!this.server.listening) return resolve();
      this.server.close(() => resolve());
      this.server.closeIdleConnections();
    });
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://admin");
    if (req.method !== "GET" && req.method !== "HEAD") {
      return send(res, 405, "text/plain", "method not allowed\n", { allow: "GET, HEAD" });
    }
    switch (url.pathname) {
      case "/healthz":
        return send(res, 200, "text/plain", "ok\n");
      case "/readyz": {
        const source = this.context.source();
        const draining = this.context.draining();
        const ready = source.loaded && !source.stale && !draining;
        const body = {
          ready,
          source: source.kind,
          routesLoaded: source.loaded,
          stale: source.stale,
          draining,
          ...(source.lastError ? { lastError: source.lastError } : {}),
          ...(source.lastLoadedAt ? { lastLoadedAt: new Date(source.lastLoadedAt).toISOString() } : {}),
        };
        return send(res, ready ? 200 : 503, "application/json", `${JSON.stringify(body)}\n`);
      }
      case "/metrics": {
        try {
          const text = await this.context.metrics.registry.metrics();
          return send(res, 200, this.context.metrics.registry.contentType, text);
        } catch (error) {
          return send(res, 500, "text/plain", `metrics: ${(error as Error).message}\n`);
        }
      }
      case "/routes": {
        const routes = this.context.routes();
        if (!routes) return send(res, 503, "application/json", `${JSON.stringify({ error: "no routes loaded" })}\n`);
        return send(res, 200, "application/json", `${JSON.stringify(routes, null, 2)}\n`);
      }
      default:
        return send(res, 404, "text/plain", "not found\n");
    }
  }
}

function send(
  res: http.ServerResponse,
  status: number,
  type: string,
  body: string,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { "content-type": type, "content-length": Buffer.byteLength(body), ...headers });
  res.end(res.req.method === "HEAD" ? undefined : body);
}
