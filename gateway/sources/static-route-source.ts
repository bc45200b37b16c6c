/**
 * A fixed route table, given in code: for programs that compute routes themselves (the main
 * job, tests) and start gateways in-process.
 */
import type { RoutesFile } from "../../mesh/model/routes-file";
import { GatewayConfigError } from "../errors";
import { RouteSource, RouteSourceListener, RouteSourceStatus, routeTableFromRoutesFile } from "../routing/route-table";
import { parseRoutesFile } from "../routing/routes-schema";

/** A route source that serves one table, which {@link StaticRouteSource.update} may replace. */
export class StaticRouteSource implements RouteSource {
  /** Always `"static"`. */
  readonly kind = "static";
  private listener: RouteSourceListener | undefined;
  private current: RouteSourceStatus = { loaded: false, stale: false };

  /**
   * @param routes the routes, in routes file form; validated like a file.
   * @throws GatewayConfigError (field `routes`) whose reason names the offending field when `routes` is invalid.
   */
  constructor(private routes: RoutesFile) {
    StaticRouteSource.check(routes);
  }

  private static check(routes: RoutesFile): RoutesFile {
    const parsed = parseRoutesFile(routes);
    if (!parsed.ok) throw new GatewayConfigError("routes", parsed.error);
    return parsed.routes;
  }

  /** Emits the table. */
  async start(listener: RouteSourceListener): Promise<void> {
    this.listener = listener;
    this.emit();
  }

  /**
   * Replaces the table (connections in flight are not affected).
   * @param routes the new routes; validated.
   */
  update(routes: RoutesFile): void {
    this.routes = StaticRouteSource.check(routes);
    this.emit();
  }

  /** Always loaded and fresh once started. */
  status(): RouteSourceStatus {
    return { ...this.current };
  }

  /** Nothing to stop. */
  async close(): Promise<void> {
    this.listener = undefined;
  }

  private emit(): void {
    if (!this.listener) return;
    this.current = { loaded: true, stale: false, lastLoadedAt: Date.now() };
    this.listener.onTable(routeTableFromRoutesFile(StaticRouteSource.check(this.routes)));
  }
}
