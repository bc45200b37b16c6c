/**
 * Routes that the gateways' health breaks: an upstream whose traffic goes through the mesh
 * gateways of a datacenter (its destination's in mode `remote`; its own's and then the
 * destination's in mode `local`) where every one is critical. Consul's proxies still send to
 * warning gateways, so a warning one carries traffic. A datacenter with no gateway at all is
 * `validateMesh`'s to report, for every source.
 */
import type { MeshFragment, MeshOrigins, SourceProblem } from "../model/mesh-fragment";
import { planRoutes, type PlannedRoute, type RouteHop, type RoutePlan } from "./plan";
import type { Mesh } from "../model/types";

/** A gateway's health as Consul reports it. */
type GatewayHealth = NonNullable<MeshFragment["gatewayHealth"]>[number];

/** What {@link gatewayHealthProblems} reads: a live source's `MeshFragment`, or the merge of several sources. */
export interface GatewayHealthInput {
  /** The mesh. */
  mesh: Mesh;
  /** Where its services and gateways came from: problems name them. */
  origins: MeshOrigins;
  /**
   * Health of `mesh.gateways[i]`, index for index; `undefined` where unknown (a gateway declared
   * in a file), which counts as able to carry traffic. Default: none known.
   */
  gatewayHealth?: readonly (GatewayHealth | undefined)[];
}

/** Where a route's problem belongs: the service's origin and the field of the upstream within it. */
function locate(input: GatewayHealthInput, route: PlannedRoute): { origin: string; field?: string } {
  const match = /^services\[(\d+)\]\.(.+)$/.exec(route.path);
  const origin = match ? input.origins.services[Number(match[1])] : undefined;
  return origin && match ? { origin, field: match[2] } : { origin: route.path };
}

/** The problem of `route` at gateway `hop`, when no gateway of its datacenter can carry the traffic. */
function routeProblem(
  input: GatewayHealthInput,
  route: PlannedRoute,
  hop: RouteHop & { kind: "mesh-gateway" },
): SourceProblem | undefined {
  const dc = hop.datacenter;
  const gateways = (input.mesh.gateways ?? []).flatMap((gw, i) => (gw.datacenter === dc ? [i] : []));
  if (gateways.length === 0 || gateways.some((i) => input.gatewayHealth?.[i] !== "critical")) return undefined;
  const through = hop.address === "LAN" ? `its own datacenter's mesh gateway in ${dc}` : `a mesh gateway of ${dc}`;
  const { destination, source } = route;
  const upstream =
    `upstream ${destination.name} (${destination.datacenter}) of ${source.proxy} goes through ${through} ` +
    `(mode ${route.mode}, decided by ${route.decidedBy})`;
  const why =
    `every one is critical, so this traffic fails until one passes: ` +
    gateways.map((i) => `${input.origins.gateways[i] ?? `gateways[${i}]`} is critical`).join("; ");
  return { ...locate(input, route), message: `${upstream}, but ${why}` };
}

/**
 * One problem per upstream and datacenter whose mesh gateways its traffic needs but where none
 * is registered or every one is critical, naming the proxy (the problem's origin), the upstream
 * (its field) and each gateway with its status. Routes within a datacenter and in mode `none`
 * never use a gateway. Pure; never throws on input of the declared type.
 * @param input - The mesh, its origins and the gateways' health.
 * @param plan - The mesh's route plan. Default: `planRoutes(input.mesh)`.
 */
export function gatewayHealthProblems(
  input: GatewayHealthInput,
  plan: RoutePlan = planRoutes(input.mesh),
): SourceProblem[] {
  return plan.routes.flatMap((route) =>
    route.hops.flatMap((hop) => (hop.kind === "mesh-gateway" ? (routeProblem(input, route, hop) ?? []) : [])),
  );
}
