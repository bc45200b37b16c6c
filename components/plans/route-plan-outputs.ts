/**
 * The route plan as `ConsulMesh` exports it beside the data (pure: no Pulumi): a table and one
 * line per upstream in ASCII (a preview shows the first 150 bytes of each line, and a cut through
 * a multi-byte arrow shows as escapes), and a diagram as an SVG document.
 */
import {
  DiagramTooLargeError,
  formatRoutePlan,
  routeDiagramDot,
  type Mesh,
  type PlannedRoute,
  type RoutePlan,
} from "../../mesh";
import { renderDiagramSvg } from "../../mesh/diagram/diagram-svg";

/** Text in ASCII: the plan's arrows as `->`. */
function ascii(text: string): string {
  return text.replace(/→/g, "->");
}

/** One upstream in a line: source and destination, mode and deciding level, and the gateways crossed. */
function routeSummaryLine(route: PlannedRoute): string {
  const where = (hop: { datacenter: string; peer?: true }) => (hop.peer ? `peer ${hop.datacenter}` : hop.datacenter);
  const gateways = route.hops.filter((hop) => hop.kind !== "service").map((hop) => `${hop.name} ${where(hop)}`);
  const destination = route.destination.peer ? `peer ${route.destination.peer}` : route.destination.datacenter;
  return (
    `${route.source.service} (${route.source.datacenter}) -> ${route.destination.name} (${destination}): ` +
    `${route.mode} (${route.decidedBy}) ${gateways.length > 0 ? `via ${gateways.join(", ")}` : "direct"}`
  );
}

/**
 * The SVG of the mesh's route diagram (`routeDiagramDot`). A mesh with more routes than the diagram
 * draws gets a picture saying so, rather than a failed deployment.
 * @param mesh - A valid mesh.
 * @param plan - Its route plan.
 */
export async function routeDiagramSvg(mesh: Mesh, plan: RoutePlan): Promise<string> {
  try {
    return await renderDiagramSvg(routeDiagramDot(mesh, plan));
  } catch (error) {
    if (!(error instanceof DiagramTooLargeError)) throw error;
    return renderDiagramSvg(
      `digraph { "too large" [shape=plaintext, fontname="Helvetica", label=${JSON.stringify(error.message)}]; }`,
    );
  }
}

/**
 * The route plan as a readable table, in ASCII.
 * @param plan - The route plan.
 */
export function routePlanText(plan: RoutePlan): string {
  return ascii(formatRoutePlan(plan));
}

/**
 * One short ASCII line per upstream: `web (dc1) -> api (dc2): remote (upstream) via ...`; then one per
 * service exported to a peer that our gateways refuse (`http`, `http2`, `grpc`).
 * @param plan - The route plan.
 */
export function routeSummary(plan: RoutePlan): string[] {
  // An exported service our gateways refuse is said at preview too, beside the upstreams.
  const refused = (plan.exports ?? [])
    .filter((e) => e.terminatedAtGateway)
    .map(
      (e) =>
        `${e.service} exported to peer ${e.peer}: ${e.protocol}, refused by our gateway ` +
        "(a gateway must terminate mTLS for it; Consul's Envoy gateway does)",
    );
  return [...plan.routes.map(routeSummaryLine), ...refused];
}
