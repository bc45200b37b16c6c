/** The error thrown when a route diagram would be too large to read. */

/** Thrown by `routeDiagramDot` when more routes remain after the filters than it draws readably. */
export class DiagramTooLargeError extends Error {
  /** Stable error code. */
  readonly code = "E_DIAGRAM_TOO_LARGE";
  /** Routes left after the filters. */
  readonly routes: number;
  /** Distinct services on those routes (sources and destinations). */
  readonly services: number;
  /** Distinct datacenters on those routes. */
  readonly datacenters: number;
  /** The most routes the diagram draws (`maxRoutes`). */
  readonly maxRoutes: number;

  /**
   * @param counts - What the diagram would draw, and the limit.
   * @param example - A service and a datacenter of the mesh to name in the suggested filters. Default: placeholders.
   */
  constructor(
    counts: { routes: number; services: number; datacenters: number; maxRoutes: number },
    example: { service?: string; datacenter?: string } = {},
  ) {
    const { service = "NAME", datacenter = "NAME" } = example;
    super(
      `the route diagram would draw ${counts.routes} routes between ${counts.services} services in ` +
        `${counts.datacenters} datacenters, more than the ${counts.maxRoutes} it can draw readably: ` +
        `draw part of the mesh with --service ${service} or --datacenter ${datacenter}`,
    );
    this.name = "DiagramTooLargeError";
    this.routes = counts.routes;
    this.services = counts.services;
    this.datacenters = counts.datacenters;
    this.maxRoutes = counts.maxRoutes;
  }
}
