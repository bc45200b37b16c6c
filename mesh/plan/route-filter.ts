/** The routes of a plan that concern some services or datacenters (`--service`, `--datacenter`). */
import type { PlannedRoute, RoutePlan } from "./plan";

/** Which routes to keep; an empty or missing list keeps every route. */
export interface RouteFilter {
  /** Keep routes from or to one of these services. Default: every service. */
  services?: readonly string[];
  /** Keep routes from or to one of these datacenters. Default: every datacenter. */
  datacenters?: readonly string[];
}

function keeps(route: PlannedRoute, filter: RouteFilter): boolean {
  const { services = [], datacenters = [] } = filter;
  const service =
    !services.length || services.includes(route.source.service) || services.includes(route.destination.name);
  const datacenter =
    !datacenters.length ||
    datacenters.includes(route.source.datacenter) ||
    datacenters.includes(route.destination.datacenter);
  return service && datacenter;
}

/**
 * `plan` with only the routes `filter` keeps (both conditions, when both are given).
 * @param plan - A route plan.
 * @param filter - The services and datacenters of interest.
 */
export function filterRoutes(plan: RoutePlan, filter: RouteFilter): RoutePlan {
  return { ...plan, routes: plan.routes.filter((route) => keeps(route, filter)) };
}
